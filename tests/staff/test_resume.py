"""Staff resume a paused conversation through Rasa's HTTP API: the conversation id (which a
client could once choose) is escaped into the path, and the token travels in a header, never in
the URL that proxies and access logs keep."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.clinic.db import session_scope
from bot.clinic.models import HandoffRequest
from bot.staff.cli import main

ROOT = Path(__file__).resolve().parents[2]
NASTY = "rest:../../model?token=x#frag /%2e"


@pytest.fixture()
def rasa_api() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in for Rasa's HTTP API that records each request exactly as it arrived."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(
                {"path": self.path, "headers": dict(self.headers), "body": json.loads(body)}
            )
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_resume_escapes_the_id_and_sends_the_token_in_a_header(
    rasa_api: tuple[str, list[dict[str, Any]]],
    faq_database: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, seen = rasa_api
    with session_scope(faq_database) as session:
        request = HandoffRequest(conversation_id=NASTY, contact=None, transcript="")
        session.add(request)
        session.flush()
        request_id = request.id
    monkeypatch.setenv("DATABASE_URL", faq_database)
    monkeypatch.setenv("CLINIC_FILE", str(ROOT / "data" / "clinic.yml"))
    monkeypatch.setenv("RASA_URL", url + "/")
    monkeypatch.setenv("RASA_TOKEN", "staff-t0ken")
    assert main(["handoffs", "resolve", str(request_id)]) == 0
    assert NASTY in capsys.readouterr().out
    [call] = seen
    assert call["path"] == (
        "/conversations/rest%3A..%2F..%2Fmodel%3Ftoken%3Dx%23frag%20%2F%252e/tracker/events"
    )
    assert "token" not in call["path"].split("/tracker/events", 1)[1]  # no query string
    assert call["headers"]["Authorization"] == "Bearer staff-t0ken"
    assert call["body"] == [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
