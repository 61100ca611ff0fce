"""The deployment files agree with the code and with each other: no container engine runs in CI,
so these checks (with `make lint`'s hadolint and compose-spec schema, test_topology.py running
nginx.conf for real and test_kubernetes.py) keep them from rotting."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.staff.cli import build_parser
from tests.support import ROOT

DEPLOY = ROOT / "deploy"
# Read by libraries rather than by our code, and documented in docs/deployment.md.
LIBRARY_VARIABLES = {
    "SANIC_WORKERS", "SANIC_HOST", "TF_INTRA_OP_PARALLELISM_THREADS",
    "TF_INTER_OP_PARALLELISM_THREADS", "SQL_POOL_SIZE", "SQL_MAX_OVERFLOW",
    "TICKET_LOCK_LIFETIME",
}  # fmt: skip
# The team's shared contracts: read by code landing alongside these files.
CONTRACT_VARIABLES = {
    "MASSAGEBOT_ENVIRONMENT", "SESSION_SECRET", "REST_CHANNEL_TOKEN", "ACTION_TIMEOUT_SECONDS",
    "ACTION_CIRCUIT_FAILURES", "ACTION_CIRCUIT_RESET_SECONDS", "MAX_MESSAGES_IN_FLIGHT",
    "DATABASE_TIMEOUT_SECONDS",
}  # fmt: skip
# Read by our code through mappings the pattern below doesn't see (settings classes that take
# `env`), listed in their modules' docstrings.
INDIRECT_VARIABLES = {
    "TRACKER_STORE_URL", "REDIS_URL", "ACTION_SERVER_URL", "RASA_API_ENABLED", "RASA_TOKEN",
    "RASA_JWT_SECRET", "RASA_JWT_METHOD", "CORS_ORIGINS", "SOCKETIO_JWT_KEY",
    "SOCKETIO_JWT_METHOD", "RATE_LIMIT_SENDER", "RATE_LIMIT_IP", "RATE_LIMIT_IP_PATHS",
    "MAX_MESSAGE_CHARS", "MAX_REQUEST_BYTES", "TRUSTED_PROXIES", "BOOKING_ADAPTER",
    "BOOKING_WEBHOOK_URL", "BOOKING_WEBHOOK_SECRET", "HANDOFF_WEBHOOK_URL",
    "HANDOFF_WEBHOOK_SECRET", "WEBHOOK_TIMEOUT_SECONDS", "RASA_URL",
}  # fmt: skip


def credentials_variables() -> set[str]:
    """The `${VAR}`s of credentials.yml: every messaging channel's settings."""
    channels = yaml.safe_load((ROOT / "credentials.yml").read_text())
    values = [v for c in channels.values() if c for v in c.values() if isinstance(v, str)]
    return {name for value in values for name in re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", value)}


def variables_read_by_the_bot() -> set[str]:
    found: set[str] = set()
    pattern = re.compile(r"""(?:environ|env)(?:\.get\(|\[|,)\s*["']([A-Z][A-Z0-9_]+)["']""")
    for path in (ROOT / "bot").rglob("*.py"):
        found |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return found


KNOWN_VARIABLES = (
    variables_read_by_the_bot()
    | LIBRARY_VARIABLES
    | CONTRACT_VARIABLES
    | INDIRECT_VARIABLES
    | credentials_variables()
)
# What each component must be given in production, compose and Kubernetes alike.
COMMON_NEEDS = {
    "MASSAGEBOT_ENVIRONMENT", "DATABASE_URL", "DATABASE_TIMEOUT_SECONDS", "CLINIC_FILE",
}  # fmt: skip
RASA_NEEDS = COMMON_NEEDS | credentials_variables() | {
    "TRACKER_STORE_URL", "REDIS_URL", "LOCK_STORE_KEY_PREFIX", "ACTION_SERVER_URL",
    "ACTION_TIMEOUT_SECONDS", "ACTION_CIRCUIT_FAILURES", "ACTION_CIRCUIT_RESET_SECONDS",
    "MAX_MESSAGES_IN_FLIGHT", "SESSION_SECRET", "REST_CHANNEL_TOKEN", "TRUSTED_PROXIES",
    "CORS_ORIGINS", "RATE_LIMIT_SENDER", "RATE_LIMIT_IP", "RASA_API_ENABLED", "RASA_TOKEN",
    "SANIC_WORKERS",
}  # fmt: skip
DELIVERY_NEEDS = COMMON_NEEDS | {
    "BOOKING_ADAPTER", "BOOKING_WEBHOOK_URL", "BOOKING_WEBHOOK_SECRET", "HANDOFF_WEBHOOK_URL",
    "HANDOFF_WEBHOOK_SECRET", "RASA_URL", "RASA_TOKEN",
}  # fmt: skip
NEEDS = {"rasa": RASA_NEEDS, "actions": DELIVERY_NEEDS, "outbox": DELIVERY_NEEDS}
CHANNELS = {
    "bot.rasa_adapter.channels.rest.RestChannel",
    "bot.rasa_adapter.channels.socketio.SocketIOChannel",
    "bot.rasa_adapter.channels.webchat.WebchatInput",
    "bot.rasa_adapter.channels.telegram.TelegramChannel",
    "bot.rasa_adapter.channels.slack.SlackChannel",
    "bot.rasa_adapter.channels.twilio.TwilioChannel",
    "bot.rasa_adapter.channels.facebook.FacebookChannel",
}


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def test_compose_file_describes_a_whole_site() -> None:
    services = compose()["services"]
    assert {"migrate", "rasa", "actions", "outbox", "nginx", "postgres", "redis"} <= set(services)
    assert services["rasa"]["deploy"]["replicas"] >= 2
    assert "bot.rasa_adapter.action_server" in services["actions"]["command"]
    assert services["actions"]["environment"]["SANIC_HOST"] == "0.0.0.0"
    for name in ("rasa", "actions", "outbox", "migrate"):  # nginx is the only way in
        assert "ports" not in services[name], name
    for name in ("rasa", "actions", "outbox"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name


def test_compose_gives_each_component_what_it_reads() -> None:
    services = compose()["services"]
    for name, needs in NEEDS.items():
        env = services[name]["environment"]
        missing = needs - set(env)
        assert not missing, f"{name} lacks {sorted(missing)}"
        unknown = set(env) - KNOWN_VARIABLES
        assert not unknown, f"{name} sets variables nothing reads: {sorted(unknown)}"
        assert env["MASSAGEBOT_ENVIRONMENT"] == "production"
    assert services["actions"]["environment"]["RASA_URL"] == "http://rasa:5005"


def test_compose_commands_exist() -> None:
    services = compose()["services"]
    parser = build_parser()
    for name in ("migrate", "outbox"):
        command = services[name]["command"]
        assert command[0] == "massagebot", name
        parser.parse_args(command[1:])  # exits (fails the test) on an unknown command


def test_compose_builds_database_urls_from_url_safe_passwords() -> None:
    text = (DEPLOY / "docker-compose.yml").read_text()
    example = (DEPLOY / "example.env").read_text()
    assert "openssl rand -hex" in text and "openssl rand -hex" in example
    for name in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "SESSION_SECRET"):
        assert re.search(rf"^{name}=$", example, re.M), name


def locations(conf: str) -> dict[str, str]:
    """Each `location` block's body, by path (the blocks hold no nested braces)."""
    return dict(re.findall(r"location\s+(\S+)\s*\{([^}]*)\}", conf))


def test_every_proxied_location_sets_the_forwarded_headers() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    proxied = {path: body for path, body in locations(conf).items() if "proxy_pass" in body}
    assert set(proxied) == {"/socket.io/", "/webhooks/", "/webchat/"}
    for path, body in proxied.items():
        assert "include nginx-forwarded.conf;" in body, path
    forwarded = (DEPLOY / "nginx-forwarded.conf").read_text()
    assert "proxy_set_header Host $http_host;" in forwarded
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in forwarded  # not the client's
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in forwarded
    assert "$proxy_add_x_forwarded_for" not in conf + forwarded
    assert "real_ip_header X-Forwarded-For;" in conf
    volumes = compose()["services"]["nginx"]["volumes"]
    assert "./nginx-forwarded.conf:/etc/nginx/nginx-forwarded.conf:ro" in volumes


def test_nginx_resolves_the_instances_while_serving() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    assert re.search(r"^\s*resolver 127\.0\.0\.11 valid=\d+s", conf, re.M)  # Docker's DNS
    # An upstream block resolves its servers once, at start.
    assert not re.search(r"^\s*upstream\s+\S+\s*\{", conf, re.M)
    for path, body in locations(conf).items():
        if "proxy_pass" in body:
            assert "proxy_pass http://$rasa;" in body, path
    assert "set $rasa rasa:5005;" in conf
    socketio = locations(conf)["/socket.io/"]
    assert "proxy_set_header Upgrade $http_upgrade" in socketio
    assert "proxy_set_header Connection $connection_upgrade" in socketio
    assert "client_max_body_size 64k" in conf
    assert re.search(r"location / \{\s*return 404;", conf)  # the API stays inside


def test_credentials_carry_every_channel() -> None:
    channels = yaml.safe_load((ROOT / "credentials.yml").read_text())
    assert set(channels) >= CHANNELS


def test_docs_list_every_variable_once() -> None:
    docs = (ROOT / "docs" / "deployment.md").read_text()
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", docs, re.M)
    repeated = {name for name in rows if rows.count(name) > 1}
    assert not repeated, f"documented more than once: {repeated}"
    set_anywhere = set(compose()["services"]["rasa"]["environment"])
    for service in ("actions", "outbox"):
        set_anywhere |= set(compose()["services"][service]["environment"])
    wanted = variables_read_by_the_bot() | CONTRACT_VARIABLES | INDIRECT_VARIABLES | set_anywhere
    missing = wanted - set(rows) - {"RASA_TELEMETRY_ENABLED", "TF_CPP_MIN_LOG_LEVEL"}
    assert not missing, f"not in docs/deployment.md's tables: {sorted(missing)}"


def test_dockerfile_defaults_to_the_launcher() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert '"bot.rasa_adapter.server"' in dockerfile and "rasa train" in dockerfile


def test_no_secret_or_machine_path_in_deployment_files() -> None:
    for path in [*DEPLOY.rglob("*"), ROOT / "docs" / "deployment.md"]:
        if path.is_file():
            text = path.read_text()
            assert str(ROOT) not in text and str(Path.home()) not in text, path
            assert not re.search(r"(PASSWORD|SECRET|TOKEN|KEY)=[^\s$]", text), path
