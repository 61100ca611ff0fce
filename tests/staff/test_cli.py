"""The staff command line, as staff would run it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.clinic.faq import log_unanswered
from bot.staff.cli import main
from tests.support import ROOT


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("FAQ_FILE", str(ROOT / "data" / "faq.yml"))
    return url


def test_import_list_export(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["faq", "import"]) == 0
    assert main(["faq", "list"]) == 0
    listed = capsys.readouterr().out
    assert "benefits-sleep" in listed and "ask_benefits [benefit=sleep]" in listed
    out = tmp_path / "live.yml"
    assert main(["faq", "export", str(out)]) == 0
    assert "benefits-sleep" in out.read_text()


def test_bad_import_exits_2_and_explains(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["faq", "import"]) == 0
    broken = tmp_path / "broken.yml"
    broken.write_text("version: 1\nentries:\n  - id: x\n    intent: ask_nothing\n")
    assert main(["faq", "import", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "database is unchanged" in err and "unknown intent 'ask_nothing'" in err
    assert main(["faq", "list"]) == 0
    assert "benefits-sleep" in capsys.readouterr().out


def test_unanswered_list_and_resolve(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    log_unanswered(env, "do you do reiki?", "no_entry", "ask_massage_types", 0.4, "c1")
    assert main(["unanswered", "list"]) == 0
    assert "do you do reiki?" in capsys.readouterr().out
    assert main(["unanswered", "resolve", "1"]) == 0
    assert main(["unanswered", "list"]) == 0
    assert "0 questions" in capsys.readouterr().out
    assert main(["unanswered", "resolve", "99"]) == 2
