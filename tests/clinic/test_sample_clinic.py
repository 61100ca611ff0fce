"""The sample clinic can't go live by accident: production refuses to start with it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from bot.clinic.facts import Clinic, sample_clinic_refusal, sample_signs

ROOT = Path(__file__).resolve().parents[2]


def own_clinic(clinic: Clinic) -> Clinic:
    return replace(
        clinic,
        sample=False,
        phone="+44 1245 000111",
        email="hello@backclinic.co.uk",
        website="https://backclinic.co.uk",
    )


def test_the_sample_is_recognised(sample_clinic: Clinic) -> None:
    clinic = sample_clinic
    signs = sample_signs(clinic)
    assert any("sample: true" in s for s in signs)
    assert any("kept for fiction" in s for s in signs)
    assert any("example address" in s for s in signs)
    # A copy that dropped only the marker still gives itself away.
    assert sample_signs(replace(clinic, sample=False))
    assert sample_signs(own_clinic(clinic)) == []


def test_only_production_refuses() -> None:
    sample = ROOT / "data" / "clinic.yml"
    assert sample_clinic_refusal(sample, production=False) is None
    refusal = sample_clinic_refusal(sample, production=True)
    assert refusal is not None and "still the sample clinic" in refusal


def test_production_with_its_own_clinic_starts(tmp_path: Path) -> None:
    text = (ROOT / "data" / "clinic.yml").read_text(encoding="utf-8")
    text = text.replace("sample: true", "").replace("+44 20 7946 0123", "+44 1245 000111")
    text = text.replace("example.com", "backclinic.co.uk")
    (tmp_path / "clinic.yml").write_text(text, encoding="utf-8")
    assert sample_clinic_refusal(tmp_path / "clinic.yml", production=True) is None


def test_the_server_refuses_to_start_with_a_clear_message() -> None:
    env = {
        **os.environ,
        "MASSAGEBOT_ENVIRONMENT": "production",
        "SESSION_SECRET": "s" * 32,  # production's other requirement, so the clinic is what's left
        "CLINIC_FILE": str(ROOT / "data" / "clinic.yml"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.rasa_adapter.server", "--model", "models"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "still the sample clinic" in done.stderr and "sample: true" in done.stderr
