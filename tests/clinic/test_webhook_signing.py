"""Webhooks to staff and booking systems are always signed, over a timestamp and the body, so a
receiver can refuse forgeries and replays; nothing starts with a webhook URL and no secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.clinic.booking.config import (
    BOOKING_TARGET,
    BookingConfig,
    BookingConfigError,
    WebhookTarget,
)
from bot.clinic.db import session_scope
from bot.clinic.outbox import (
    REPLAY_WINDOW_SECONDS,
    SIGNATURE_HEADER,
    OutboxDeliverer,
    enqueue,
    sign,
    verify,
)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec-for-tests"
BODY = b'{"event":"booking.created","booking":{"reference":"MB-7K3Q9P"}}'
NOW = 1_900_000_000


def expected(secret: str, timestamp: int, body: bytes) -> str:
    """The contract, written out independently of the code under test."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def test_signature_covers_timestamp_and_body() -> None:
    header = sign(BODY, SECRET, timestamp=NOW)
    assert header == expected(SECRET, NOW, BODY)
    assert verify(BODY, SECRET, header, now=NOW)
    assert verify(BODY, SECRET, header, now=NOW + REPLAY_WINDOW_SECONDS)


@pytest.mark.parametrize(
    "case",
    ["replayed", "from the future", "body changed", "other secret", "timestamp changed",
     "old format", "missing", "garbage", "no v1", "no t"],
)  # fmt: skip
def test_forged_or_replayed_deliveries_are_refused(case: str) -> None:
    header = expected(SECRET, NOW, BODY)
    body, now = BODY, NOW
    if case == "replayed":
        now = NOW + REPLAY_WINDOW_SECONDS + 1  # a captured delivery sent again later
    elif case == "from the future":
        now = NOW - REPLAY_WINDOW_SECONDS - 1
    elif case == "body changed":
        body = BODY.replace(b"7K3Q9P", b"7K3Q9Q")
    elif case == "other secret":
        header = expected("guess", NOW, BODY)
    elif case == "timestamp changed":
        header = header.replace(f"t={NOW}", f"t={NOW + 100}")
        now = NOW + 100
    elif case == "old format":
        header = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    elif case == "missing":
        header = None  # type: ignore[assignment]
    elif case == "garbage":
        header = "t=abc,v1=zz"
    elif case == "no v1":
        header = f"t={NOW}"
    elif case == "no t":
        header = header.split(",", 1)[1]
    assert not verify(body, SECRET, header, now=now)


def test_a_webhook_url_without_a_secret_refuses_to_start() -> None:
    with pytest.raises(BookingConfigError, match="HANDOFF_WEBHOOK_SECRET"):
        BookingConfig.from_env({"HANDOFF_WEBHOOK_URL": "https://chat.example/hook"})
    with pytest.raises(BookingConfigError, match="BOOKING_WEBHOOK_SECRET"):
        BookingConfig.from_env({"BOOKING_WEBHOOK_URL": "https://clinic.example/bookings"})
    signed = BookingConfig.from_env(
        {"HANDOFF_WEBHOOK_URL": "https://chat.example/hook", "HANDOFF_WEBHOOK_SECRET": "s"}
    )
    assert signed.targets()["handoff"].secret == "s"


def test_the_deliverer_refuses_a_target_without_a_secret(database_url: str) -> None:
    with pytest.raises(BookingConfigError, match="secret"):
        OutboxDeliverer(database_url, {BOOKING_TARGET: WebhookTarget("http://127.0.0.1:9/x")})


def test_the_outbox_worker_refuses_to_start_unsigned(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    from bot.staff.cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("HANDOFF_WEBHOOK_URL", "https://chat.example/hook")
    monkeypatch.delenv("HANDOFF_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("BOOKING_WEBHOOK_SECRET", raising=False)
    assert main(["outbox", "deliver", "--loop"]) == 2
    assert "HANDOFF_WEBHOOK_SECRET" in capsys.readouterr().err


def test_the_server_refuses_to_start_unsigned(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.rasa_adapter.server import main

    monkeypatch.setenv("HANDOFF_WEBHOOK_URL", "https://chat.example/hook")
    monkeypatch.delenv("HANDOFF_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("BOOKING_WEBHOOK_SECRET", raising=False)
    assert main(["--model", "nowhere"]) == 2
    assert "HANDOFF_WEBHOOK_SECRET" in capsys.readouterr().err


def test_the_action_server_refuses_to_start_unsigned(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.rasa_adapter.action_server import main

    monkeypatch.setenv("BOOKING_WEBHOOK_URL", "https://clinic.example/bookings")
    monkeypatch.delenv("BOOKING_WEBHOOK_SECRET", raising=False)
    assert main(["--actions", "actions", "--port", "1"]) == 2
    assert "BOOKING_WEBHOOK_SECRET" in capsys.readouterr().err


def documented_receiver() -> dict[str, Any]:
    """The verification snippet staff copy from docs/security.md, run as written."""
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- receiver snippet -->\s*```python\n(.*?)```", text, re.S)
    assert match, "docs/security.md lost its receiver snippet"
    namespace: dict[str, Any] = {}
    exec(match.group(1), namespace)
    return namespace


def test_the_documented_snippet_accepts_a_real_delivery_once(database_url: str) -> None:
    received: list[tuple[bytes, str]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers.get(SIGNATURE_HEADER, "")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with session_scope(database_url) as session:
            enqueue(session, BOOKING_TARGET, "booking.created", {"booking": {"id": 1}})
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        report = OutboxDeliverer(database_url, {BOOKING_TARGET: WebhookTarget(url, SECRET)})
        assert report.deliver_due().delivered == 1
    finally:
        server.shutdown()
    [(body, header)] = received
    snippet = documented_receiver()
    assert snippet["verify_massagebot"](body, header, SECRET)
    assert json.loads(body)["event"] == "booking.created"
    later = datetime.now(timezone.utc) + timedelta(seconds=REPLAY_WINDOW_SECONDS + 5)
    assert not snippet["verify_massagebot"](body, header, SECRET, now=later.timestamp())
    assert not snippet["verify_massagebot"](body + b" ", header, SECRET)
