"""Runtime configuration, read from the environment so one checkout serves many clinics."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENVIRONMENTS = ("development", "production")


class EnvironmentConfigError(ValueError):
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
        return cls(
            database_url=os.environ.get("DATABASE_URL", f"sqlite:///{default_db}"),
            clinic_file=Path(os.environ.get("CLINIC_FILE", home / "data" / "clinic.yml")),
            faq_file=Path(os.environ.get("FAQ_FILE", home / "data" / "faq.yml")),
        )
