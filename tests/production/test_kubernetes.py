"""deploy/k8s: the production overlay rendered offline (tests/support/kustomize.py, the same
objects `kubectl kustomize` builds) and every object validated against the Kubernetes 1.28 API
schemas that kubernetes-validate ships (strict: unknown fields fail), then checked against the
code and the compose file: what each component is given, probes, scaling, secrets, ingress."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from bot.staff.cli import build_parser
from tests.production.test_deploy_files import KNOWN_VARIABLES, NEEDS
from tests.support import ROOT
from tests.support.kustomize import render

K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(p.parent for p in (K8S / "overlays").glob("*/kustomization.yaml"))
KUBERNETES_VERSION = "1.28.0"
# The bench's memory figure (README, Performance): Rasa's two workers and the action server
# together hold ~656 MB PSS, the action server alone ~52 MB.
RASA_MEMORY_MIB = 600


def objects(folder: Path = K8S / "overlays" / "production") -> dict[tuple[str, str], Any]:
    return {(o["kind"], o["metadata"]["name"]): o for o in render(folder)}


def mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)(Mi|Gi)", quantity).groups()  # type: ignore[union-attr]
    return float(number) * (1024 if unit == "Gi" else 1)


def container(found: dict[tuple[str, str], Any], kind: str, name: str) -> dict[str, Any]:
    return found[(kind, name)]["spec"]["template"]["spec"]["containers"][0]


def given(found: dict[tuple[str, str], Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The environment a container gets: its ConfigMaps' keys and its own `env` entries."""
    env: dict[str, Any] = {}
    for source in spec.get("envFrom", []):
        env.update(found[("ConfigMap", source["configMapRef"]["name"])]["data"])
    env.update({item["name"]: item.get("value", item.get("valueFrom")) for item in spec["env"]})
    return env


@pytest.mark.parametrize("folder", [K8S / "base", *OVERLAYS], ids=lambda p: p.name)
def test_every_object_is_valid_kubernetes(folder: Path) -> None:
    rendered = render(folder)
    assert rendered
    for item in rendered:
        kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)


def test_the_validator_refuses_a_broken_object() -> None:
    """The schemas are really applied: an unknown field and a wrong type fail."""
    found = objects()
    deployment = found[("Deployment", "massagebot-rasa")]
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_site_has_every_part() -> None:
    found = objects()
    assert {
        ("Deployment", "massagebot-rasa"),
        ("Deployment", "massagebot-actions"),
        ("Deployment", "massagebot-outbox"),
        ("Job", "massagebot-migrate"),
        ("Service", "massagebot-rasa"),
        ("Service", "massagebot-actions"),
        ("Ingress", "massagebot"),
        ("PodDisruptionBudget", "massagebot-rasa"),
        ("HorizontalPodAutoscaler", "massagebot-rasa"),
        ("ConfigMap", "massagebot-settings"),
    } <= set(found)
    assert found[("Deployment", "massagebot-rasa")]["spec"]["replicas"] >= 2
    parser = build_parser()
    migrate = container(found, "Job", "massagebot-migrate")
    assert migrate["command"] == ["massagebot", "setup"]  # migrations and the FAQ
    outbox = container(found, "Deployment", "massagebot-outbox")
    assert outbox["args"][0] == "massagebot"
    parser.parse_args(outbox["args"][1:])
    images = {container(found, k, n)["image"] for k, n in found if k in ("Deployment", "Job")}
    assert len(images) == 1 and ":" in images.pop()  # one image, tagged by the overlay
    namespaces = {o["metadata"].get("namespace") for o in found.values()}
    assert len(namespaces) == 1 and None not in namespaces


def test_each_component_is_given_what_it_reads() -> None:
    found = objects()
    for name, needs in NEEDS.items():
        env = given(found, container(found, "Deployment", f"massagebot-{name}"))
        missing = needs - set(env)
        assert not missing, f"{name} lacks {sorted(missing)}"
        assert env["MASSAGEBOT_ENVIRONMENT"] == "production"
    everything = set(found[("ConfigMap", "massagebot-settings")]["data"])
    for kind, name in found:
        if kind in ("Deployment", "Job"):
            everything |= {item["name"] for item in container(found, kind, name)["env"]}
    assert not everything - KNOWN_VARIABLES, sorted(everything - KNOWN_VARIABLES)
    rasa = container(found, "Deployment", "massagebot-rasa")
    assert "--credentials" in rasa["args"]
    assert rasa["args"][rasa["args"].index("--credentials") + 1] == "credentials.yml"
    assert "volumeMounts" not in rasa  # the image's credentials.yml (every channel), not a copy


def test_secrets_are_referenced_never_written() -> None:
    found = objects()
    assert not [key for key in found if key[0] == "Secret"]
    example = (K8S / "secrets.example.env").read_text()
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, re.M))
    secret_like = re.compile(r"_URL$|SECRET|TOKEN|_KEY$|_SID$")
    settings = found[("ConfigMap", "massagebot-settings")]["data"]
    for name, value in settings.items():
        if secret_like.search(name):
            assert not value or (name.endswith("_URL") and "@" not in value), name
    for kind, name in found:
        if kind not in ("Deployment", "Job"):
            continue
        for item in container(found, kind, name)["env"]:
            reference = (item.get("valueFrom") or {}).get("secretKeyRef")
            if reference:
                assert reference["name"] == "massagebot"
                assert reference["key"] in documented, reference["key"]
            elif secret_like.search(item["name"]) and not item["name"].endswith("_URL"):
                pytest.fail(f"{name}: {item['name']} is written in the manifest")


def test_probes_follow_the_health_contract() -> None:
    found = objects()
    rasa = container(found, "Deployment", "massagebot-rasa")
    assert rasa["startupProbe"]["httpGet"]["path"] == "/health"
    assert rasa["livenessProbe"]["httpGet"]["path"] == "/health"
    assert rasa["readinessProbe"]["httpGet"]["path"] == "/ready"
    actions = container(found, "Deployment", "massagebot-actions")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert actions[probe]["httpGet"]["path"] == "/health"  # rasa_sdk's own


def test_resources_come_from_the_bench() -> None:
    found = objects()
    for kind, name in found:
        if kind in ("Deployment", "Job"):
            resources = container(found, kind, name)["resources"]
            assert resources["requests"]["memory"] and resources["requests"]["cpu"], name
            assert mebibytes(resources["limits"]["memory"]) >= mebibytes(
                resources["requests"]["memory"]
            )
    rasa = container(found, "Deployment", "massagebot-rasa")["resources"]
    assert mebibytes(rasa["requests"]["memory"]) >= RASA_MEMORY_MIB
    settings = found[("ConfigMap", "massagebot-settings")]["data"]
    assert settings["SANIC_WORKERS"] == "2"  # the figure is for two workers


def test_scaling_and_disruption_target_the_right_pods() -> None:
    found = objects()
    for kind, name in found:
        if kind == "Deployment":
            labels = found[(kind, name)]["spec"]["template"]["metadata"]["labels"]
            assert found[(kind, name)]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    rasa_labels = found[("Deployment", "massagebot-rasa")]["spec"]["template"]["metadata"]["labels"]
    pdb = found[("PodDisruptionBudget", "massagebot-rasa")]["spec"]
    assert pdb["selector"]["matchLabels"].items() <= rasa_labels.items()
    assert pdb["minAvailable"] >= 1
    hpa = found[("HorizontalPodAutoscaler", "massagebot-rasa")]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "massagebot-rasa",
    }
    assert 2 <= hpa["minReplicas"] < hpa["maxReplicas"]
    for service in ("massagebot-rasa", "massagebot-actions"):
        selector = found[("Service", service)]["spec"]["selector"]
        pods = found[("Deployment", service)]["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= pods.items(), service
        port = found[("Service", service)]["spec"]["ports"][0]["targetPort"]
        names = {p["name"] for p in container(found, "Deployment", service)["ports"]}
        assert port in names, service
    settings = found[("ConfigMap", "massagebot-settings")]["data"]
    assert settings["ACTION_SERVER_URL"] == "http://massagebot-actions:5055/webhook"
    assert settings["RASA_URL"] == "http://massagebot-rasa:5005"


def test_the_ingress_routes_clients_only_with_sticky_websockets() -> None:
    ingress = objects()[("Ingress", "massagebot")]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) > 25
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) > 25
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "64k"
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"]
    paths = {
        path["path"]: path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    # Rasa's HTTP API, /health and /ready are not routed: they stay inside the cluster.
    assert paths == {
        "/socket.io/": "massagebot-rasa",
        "/webhooks/": "massagebot-rasa",
        "/webchat/": "massagebot-rasa",
    }
