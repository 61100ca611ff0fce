"""The deployment files parse and agree with the code: no container engine runs in CI, so
these checks are what keeps them from rotting."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.support import ROOT

DEPLOY = ROOT / "deploy"
# Read by libraries rather than by our code, and documented in docs/deployment.md.
LIBRARY_VARIABLES = {
    "SANIC_WORKERS", "SANIC_HOST", "TF_INTRA_OP_PARALLELISM_THREADS",
    "TF_INTER_OP_PARALLELISM_THREADS", "SQL_POOL_SIZE", "SQL_MAX_OVERFLOW",
    "TICKET_LOCK_LIFETIME",
    # Messaging channels read these through credentials.yml.
    "TELEGRAM_ACCESS_TOKEN", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_SECRET_TOKEN",
}  # fmt: skip


def variables_read_by_the_bot() -> set[str]:
    found: set[str] = set()
    pattern = re.compile(r"""(?:environ|env)(?:\.get\(|\[|,)\s*["']([A-Z][A-Z0-9_]+)["']""")
    for path in (ROOT / "bot").rglob("*.py"):
        found |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return found


def test_compose_file_describes_a_whole_site() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"rasa", "actions", "outbox", "nginx", "postgres", "redis"} <= set(services)
    assert services["rasa"]["deploy"]["replicas"] >= 2
    rasa_env = services["rasa"]["environment"]
    for name in ("DATABASE_URL", "TRACKER_STORE_URL", "REDIS_URL", "ACTION_SERVER_URL"):
        assert name in rasa_env, name
    assert "bot.rasa_adapter.action_server" in services["actions"]["command"]
    assert services["actions"]["environment"]["SANIC_HOST"] == "0.0.0.0"
    assert "ports" not in services["rasa"] and "ports" not in services["actions"]  # nginx only
    known = variables_read_by_the_bot() | LIBRARY_VARIABLES
    for name in ("rasa", "actions", "outbox"):
        unknown = set(services[name]["environment"]) - known - {"CLINIC_FILE"}
        assert not unknown, f"{name}: {unknown}"


def test_helm_values_run_our_launcher_with_the_api_closed() -> None:
    values = yaml.safe_load((DEPLOY / "helm" / "values.yml").read_text())
    assert values["command"] == ["python", "-m", "bot.rasa_adapter.server"]
    assert values["applicationSettings"]["enableAPI"] is False
    assert values["applicationSettings"]["endpoints"]["trackerStore"]["enabled"] is False
    env = {item["name"] for item in values["extraEnv"]}
    assert {"TRACKER_STORE_URL", "REDIS_URL", "DATABASE_URL"} <= env
    assert env <= variables_read_by_the_bot() | LIBRARY_VARIABLES
    actions = values["rasa-action-server"]
    assert actions["command"] == ["python", "-m", "bot.rasa_adapter.action_server"]
    channels = values["applicationSettings"]["credentials"]["additionalChannelCredentials"]
    assert set(channels) >= {"rest", "bot.rasa_adapter.channels.socketio.SocketIOChannel"}


def test_nginx_upgrades_socketio_and_caps_bodies() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    assert conf.count("{") == conf.count("}")
    socketio = conf[conf.index("location /socket.io/") :].split("}", 1)[0]
    assert "proxy_set_header Upgrade $http_upgrade" in socketio
    assert "proxy_set_header Connection $connection_upgrade" in socketio
    assert "ip_hash" in conf  # sticky polling
    assert "client_max_body_size 64k" in conf
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in conf


def test_docs_list_every_variable_the_bot_reads() -> None:
    docs = (ROOT / "docs" / "deployment.md").read_text()
    missing = {n for n in variables_read_by_the_bot() if f"`{n}`" not in docs}
    assert not missing, missing


def test_dockerfile_defaults_to_the_launcher() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert '"bot.rasa_adapter.server"' in dockerfile and "rasa train" in dockerfile


def test_no_secret_or_machine_path_in_deployment_files() -> None:
    for path in [*DEPLOY.rglob("*"), ROOT / "docs" / "deployment.md"]:
        if path.is_file():
            text = path.read_text()
            assert str(ROOT) not in text and str(Path.home()) not in text, path
            assert not re.search(r"PASSWORD=\S", text), path
