"""Runtime configuration, read from the environment so one checkout serves many clinics."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def project_home() -> Path:
    """The clinic's project folder: where `data/` and `var/` live (Rasa runs from here too)."""
    return Path(os.environ.get("MASSAGEBOT_HOME", Path.cwd())).resolve()


ENVIRONMENTS = ("development", "production")


def environment() -> str:
    """MASSAGEBOT_ENVIRONMENT: `development` (default) or `production` (compose and Helm set it)."""
    value = os.environ.get("MASSAGEBOT_ENVIRONMENT", "development").strip().lower() or "development"
    if value not in ENVIRONMENTS:
        raise ValueError(
            f"MASSAGEBOT_ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}, not {value!r}"
        )
    return value


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
