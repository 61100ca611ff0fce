"""Runtime configuration, read from the environment so one checkout serves many clinics."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# RFC 3986 userinfo: unreserved characters, %XX escapes, sub-delimiters and ':'.
_USERINFO = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*")
_NO_USERINFO = re.compile(r"[A-Za-z0-9.\-_]+(?::\d+)?(?:/[^@]*)?")
SERVICE_URLS = ("DATABASE_URL", "TRACKER_STORE_URL", "REDIS_URL")


class ConfigError(ValueError):
    """A setting is malformed; the message names the variable and how to fix it."""


def url_credentials_problem(name: str, url: str) -> str | None:
    """Why a service URL's user or password can't be read as written, or None.

    Deployments paste passwords into URLs (`postgresql://bot:${POSTGRES_PASSWORD}@db/…`). An
    unescaped @ / ? # or space there silently changes the URL: `p@ss` makes the host `ss@db`,
    `a/b` ends the host early, and `%41` is read as `A`. SQLAlchemy and redis-py then fail with
    a misleading host or authentication error, or connect with the wrong password."""
    _, sep, rest = url.strip().partition("://")
    if not sep or "@" not in rest:
        return None
    userinfo, _, after = rest.partition("@")
    host = re.split(r"[/?#]", after, maxsplit=1)[0]
    if _USERINFO.fullmatch(userinfo) and "@" not in host:
        return None
    if _NO_USERINFO.fullmatch(rest.split("?", 1)[0]):
        return None  # the @ is in the query string, e.g. ?application_name=a@b
    return (
        f"{name}: the user name or password has characters that change the URL's meaning "
        '(such as @ / ? # % or spaces). Percent-encode them (python3 -c "import urllib.parse, '
        "sys; print(urllib.parse.quote(sys.argv[1], safe=''))\" 'password'), or use a "
        "URL-safe password such as the output of `openssl rand -hex 32`."
    )


def check_service_urls(env: Mapping[str, str] | None = None) -> None:
    """Refuse to start with a service URL whose credentials would be misread."""
    env = os.environ if env is None else env
    for name in SERVICE_URLS:
        problem = url_credentials_problem(name, env.get(name, ""))
        if problem:
            raise ConfigError(problem)


ENVIRONMENTS = ("development", "production")


class EnvironmentConfigError(ConfigError):
    """MASSAGEBOT_ENVIRONMENT has a value other than development or production."""


def environment(env: Mapping[str, str] | None = None) -> str:
    """`MASSAGEBOT_ENVIRONMENT`: `development` (the default, `make run`) or `production`, where
    the server refuses settings that are only safe on a developer's machine."""
    env = os.environ if env is None else env
    value = (env.get("MASSAGEBOT_ENVIRONMENT") or "development").strip().lower()
    if value not in ENVIRONMENTS:
        raise EnvironmentConfigError(
            f"MASSAGEBOT_ENVIRONMENT must be development or production, not '{value}'"
        )
    return value


def is_production(env: Mapping[str, str] | None = None) -> bool:
    return environment(env) == "production"


def project_home() -> Path:
    """The clinic's project folder: where `data/` and `var/` live (Rasa runs from here too)."""
    return Path(os.environ.get("MASSAGEBOT_HOME", Path.cwd())).resolve()


@dataclass(frozen=True)
class Settings:
    database_url: str
    clinic_file: Path
    faq_file: Path

    @classmethod
    def from_env(cls) -> Settings:
        home = project_home()
        default_db = home / "var" / "massagebot.db"
        check_service_urls()
        return cls(
            database_url=os.environ.get("DATABASE_URL", f"sqlite:///{default_db}"),
            clinic_file=Path(os.environ.get("CLINIC_FILE", home / "data" / "clinic.yml")),
            faq_file=Path(os.environ.get("FAQ_FILE", home / "data" / "faq.yml")),
        )
