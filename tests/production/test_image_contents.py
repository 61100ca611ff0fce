"""What deploy/Dockerfile's `COPY . .` puts into the image: the build context as Docker computes
it from .dockerignore. No secret, database, local model, virtualenv or .git may be in it, and
everything the build needs must be."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.support import ROOT
from tests.support.browser import ARTIFACTS
from tests.support.dockerignore import context_files, ignored, read_patterns

# What a clinic's checkout holds besides the repository: written by `make setup`, `make train`,
# the tests, or by hand. Listed whether or not they exist here, so the check doesn't depend on
# what this checkout happens to hold.
HAZARDS = [
    "deploy/.env",
    ".env",
    "data/.env",
    "deploy/production.env",
    "var/massagebot.db",
    "var/tracker.db",
    "var/spacy/en_massagebot/meta.json",
    "data/clinic.db",
    "bot/clinic/leftover.sqlite",
    "models/20240101-000000-model.tar.gz",
    ".venv/bin/python",
    ".venv/lib/python3.10/site-packages/rasa/__init__.py",
    ".git/config",
    ".git/objects/pack/pack-1.pack",
    "test-artifacts/widget.png",
    "results/crossval/table.md",
    ".rasa/cache/cache.db",
    "tests/production/secrets.env",
    "deploy/k8s/overlays/production/secrets.env",
    "bot/__pycache__/settings.cpython-310.pyc",
    "server.key",
    "deploy/tls/site.pem",
]
FORBIDDEN = re.compile(
    r"""(^|/)\.git(/|$) | (^|/)\.venv/ | ^var/ | ^models/ | ^test-artifacts/ | ^results/
      | ^\.rasa/ | (^|/)\.env$ | \.env$ | (^|/)\.env\. | \.(db|sqlite|sqlite3|pem|key)$
      | __pycache__ | \.pyc$""",
    re.X,
)
# deploy/Dockerfile's build stage: its COPY sources, `uv sync` (the project and its readme),
# the spaCy pipeline and `rasa train`.
NEEDED = [
    "pyproject.toml",
    "uv.lock",
    ".python-version",
    "README.md",
    "config.yml",
    "domain.yml",
    "credentials.yml",
    "endpoints.yml",
]


def tracked_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [path for path in listing.split("\0") if path]


def test_docker_rules_as_documented() -> None:
    """The examples of Docker's .dockerignore documentation, through our port of its matcher."""
    patterns = read_patterns(["# comment", "*/temp*", "*/*/temp*", "temp?"])
    assert ignored("somedir/temporary.txt", patterns)
    assert ignored("somedir/temp", patterns)
    assert ignored("somedir/subdir/temporary.txt", patterns)
    assert ignored("tempa", patterns) and ignored("tempb", patterns)
    assert not ignored("temporary.txt", patterns)
    assert not ignored("a/b/c/temp.txt", patterns)
    patterns = read_patterns(["*.md", "!README*.md", "README-secret.md"])
    assert ignored("notes.md", patterns) and ignored("README-secret.md", patterns)
    assert not ignored("README.md", patterns) and not ignored("docs/notes.md", patterns)
    patterns = read_patterns(["**/*.go", "/build/", "var"])
    assert ignored("main.go", patterns) and ignored("a/b/main.go", patterns)
    assert ignored("build/out/x", patterns) and ignored("var/db/x.db", patterns)
    assert not ignored("src/var", patterns)


def test_the_build_context_holds_no_secret_database_or_git() -> None:
    files = context_files(ROOT, extra=HAZARDS)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "image-contents.txt").write_text("\n".join(files) + "\n")
    leaked = [path for path in files if FORBIDDEN.search(path)]
    assert not leaked, f"docker build would copy these into the image: {leaked}"


@pytest.mark.parametrize("folder", ["bot", "actions", "data"])
def test_the_build_context_holds_what_the_image_needs(folder: str) -> None:
    files = set(context_files(ROOT))
    assert set(NEEDED) <= files, set(NEEDED) - files
    wanted = {
        path
        for path in tracked_files()
        if path.startswith(f"{folder}/") and not FORBIDDEN.search(path)
    }
    assert wanted and wanted <= files, sorted(wanted - files)


def test_the_dockerfile_copies_only_from_the_context() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    files = set(context_files(ROOT))
    for line in dockerfile.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources = line.split()[1:-1]
            for source in sources:
                assert source == "." or source in files, f"{source} is not in the build context"
