"""Renders deploy/k8s's kustomizations offline, the way `kustomize build` does, for the features
they use: resources (files and folders), namespace, images, replicas and strategic-merge patches.

Written by hand because no kustomize is installable from the registries here (none in Debian
12; PyPI's `pykustomize` needs Python ≥ 3.14; npm has none). Anything else in a kustomization
raises, so a feature this renderer doesn't know can't be skipped silently. Its output matched
`kubectl kustomize` (kustomize v5.5) object for object when this was written.

    python -m tests.support.kustomize deploy/k8s/overlays/production
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

KNOWN = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}
# Lists that a strategic-merge patch merges item by item (by `name`) instead of replacing.
MERGED_BY_NAME = {"containers", "initContainers", "env", "volumes", "volumeMounts"}
SCALABLE = {"Deployment", "ReplicaSet", "ReplicationController", "StatefulSet"}
POD_SPEC_PATHS = (("spec", "template", "spec"), ("spec", "jobTemplate", "spec", "template", "spec"))


class KustomizeError(ValueError):
    pass


def load_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def merge(base: Any, patch: Any, field: str = "") -> Any:
    """A strategic-merge patch for what our patches contain: maps merge key by key, lists of
    containers, env vars and volumes merge by name, other lists and scalars are replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        if "$patch" in patch:
            raise KustomizeError(f"$patch directives are not supported ({field})")
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = merge(base[key], value, key) if key in base else copy.deepcopy(value)
        return merged
    if field in MERGED_BY_NAME and isinstance(base, list) and isinstance(patch, list):
        merged_list = [copy.deepcopy(item) for item in base]
        names = [item.get("name") for item in merged_list]
        for item in patch:
            if item.get("name") in names:
                index = names.index(item["name"])
                merged_list[index] = merge(merged_list[index], item, field)
            else:
                merged_list.append(copy.deepcopy(item))
        return merged_list
    return copy.deepcopy(patch)


def _pod_specs(resource: dict[str, Any]) -> list[dict[str, Any]]:
    specs = []
    for path in POD_SPEC_PATHS:
        node: Any = resource
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            specs.append(node)
    return specs


def render(folder: Path) -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = set(kustomization) - KNOWN
    if unknown:
        raise KustomizeError(f"{folder}: this renderer doesn't implement {sorted(unknown)}")
    resources: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = (folder / entry).resolve()
        resources += render(path) if path.is_dir() else load_documents(path)

    for patch_entry in kustomization.get("patches", []):
        if set(patch_entry) != {"path"}:
            raise KustomizeError(f"only `path:` patches are implemented: {patch_entry}")
        for patch in load_documents(folder / patch_entry["path"]):
            targets = [
                i
                for i, r in enumerate(resources)
                if r["kind"] == patch["kind"] and r["metadata"]["name"] == patch["metadata"]["name"]
            ]
            if len(targets) != 1:
                raise KustomizeError(f"patch {patch_entry['path']} matches {len(targets)} objects")
            resources[targets[0]] = merge(resources[targets[0]], patch)

    for image in kustomization.get("images", []):
        for resource in resources:
            for spec in _pod_specs(resource):
                for container in spec.get("containers", []) + spec.get("initContainers", []):
                    name = container["image"].split("@")[0]
                    if ":" in name.rsplit("/", 1)[-1]:
                        name = name.rsplit(":", 1)[0]  # the tag
                    if name == image["name"]:
                        new_name = image.get("newName", name)
                        tag = image.get("newTag")
                        container["image"] = f"{new_name}:{tag}" if tag else new_name

    for replicas in kustomization.get("replicas", []):
        matched = [
            r
            for r in resources
            if r["kind"] in SCALABLE and r["metadata"]["name"] == replicas["name"]
        ]
        if not matched:
            raise KustomizeError(f"replicas: no object named {replicas['name']}")
        for resource in matched:
            resource["spec"]["replicas"] = replicas["count"]

    namespace = kustomization.get("namespace")
    if namespace:
        for resource in resources:
            resource["metadata"]["namespace"] = namespace
    return resources


def main(argv: list[str]) -> int:
    yaml.safe_dump_all(render(Path(argv[0])), sys.stdout, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
