"""Messaging channels under attack, on the server our launcher builds (scripted agent): Telegram
without its secret, its `/set_webhook` called by a stranger, Messenger's signature header
malformed, and conversations keyed by channel so one platform's id can't reach another's."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.rasa_adapter.channels import facebook
from bot.rasa_adapter.channels.base import DisabledChannel
from bot.rasa_adapter.channels.facebook import FacebookChannel
from bot.rasa_adapter.channels.telegram import TelegramChannel
from tests.support.fake_platforms import FakePlatforms
from tests.support.scripted_app import CLEARED, ScriptedAgent, post_raw, scripted_server

TELEGRAM = {
    "TELEGRAM_ACCESS_TOKEN": "123456:test-telegram-token",
    "TELEGRAM_SECRET_TOKEN": "telegram-secret-for-tests",
    "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/webhooks/telegram/webhook",
}
FACEBOOK = {
    "FACEBOOK_VERIFY_TOKEN": "fb-verify",
    "FACEBOOK_APP_SECRET": "fb-app-secret",
    "FACEBOOK_PAGE_ACCESS_TOKEN": "fb-page-token",
}
CREDENTIALS = """
bot.rasa_adapter.channels.telegram.TelegramChannel:
  access_token: "${TELEGRAM_ACCESS_TOKEN}"
  webhook_url: "${TELEGRAM_WEBHOOK_URL}"
  secret_token: "${TELEGRAM_SECRET_TOKEN}"
  api_base_url: "${TELEGRAM_API_BASE_URL}"
bot.rasa_adapter.channels.facebook.FacebookChannel:
  verify: "${FACEBOOK_VERIFY_TOKEN}"
  secret: "${FACEBOOK_APP_SECRET}"
  page-access-token: "${FACEBOOK_PAGE_ACCESS_TOKEN}"
  api_base_url: "${FACEBOOK_API_BASE_URL}"
"""


@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakePlatforms]:
    platforms = FakePlatforms().start()
    yield platforms
    platforms.stop()


@pytest.fixture()
async def serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_api: FakePlatforms
) -> AsyncIterator[Callable[..., Any]]:
    fake_api.clear()
    contexts: list[Any] = []

    async def start(**env: str) -> tuple[str, ScriptedAgent]:
        for name in CLEARED:
            monkeypatch.delenv(name, raising=False)
        base = {
            **TELEGRAM,
            **FACEBOOK,
            "TELEGRAM_API_BASE_URL": f"{fake_api.url}/telegram",
            "FACEBOOK_API_BASE_URL": f"{fake_api.url}/facebook",
            "RATE_LIMIT_SENDER": "0",
            "RATE_LIMIT_IP": "0",
        }
        for name, value in {**base, **env}.items():
            if value:
                monkeypatch.setenv(name, value)
            else:
                monkeypatch.delenv(name, raising=False)
        folder = tmp_path / f"server{len(contexts)}"
        folder.mkdir()
        context = scripted_server(folder, env, CREDENTIALS)
        contexts.append(context)
        return await context.__aenter__()

    yield start
    for context in reversed(contexts):
        await context.__aexit__(None, None, None)


def telegram_update(chat_id: int, text: str) -> bytes:
    chat = {"id": chat_id, "type": "private", "first_name": "Ana"}
    message = {"message_id": 1, "chat": chat, "date": 1700000000, "text": text}
    return json.dumps({"update_id": 1, "message": message}).encode()


# --- Telegram -----------------------------------------------------------------------------------


def test_telegram_refuses_to_enable_without_a_secret_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEGRAM_ACCESS_TOKEN", TELEGRAM["TELEGRAM_ACCESS_TOKEN"])
    monkeypatch.delenv("TELEGRAM_SECRET_TOKEN", raising=False)
    channel = TelegramChannel.from_credentials(
        {"access_token": "${TELEGRAM_ACCESS_TOKEN}", "secret_token": "${TELEGRAM_SECRET_TOKEN}"}
    )
    assert isinstance(channel, DisabledChannel)
    assert channel.missing == ["TELEGRAM_SECRET_TOKEN"]


async def test_unsigned_telegram_updates_never_reach_the_bot(serve: Callable[..., Any]) -> None:
    url, agent = await serve(TELEGRAM_SECRET_TOKEN="")
    status, _ = await post_raw(
        f"{url}/webhooks/telegram/webhook",
        telegram_update(42, "hello"),
        {"Content-Type": "application/json"},
    )
    assert status in (403, 503)
    assert agent.seen == []


async def test_telegram_set_webhook_needs_the_staff_token(
    serve: Callable[..., Any], fake_api: FakePlatforms
) -> None:
    url, _ = await serve(RASA_TOKEN="staff-t0ken")
    set_webhook = f"{url}/webhooks/telegram/set_webhook"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-Staff-Token": "staff-t0ken"}):
        status, _ = await post_raw(set_webhook, b"", headers)
        assert status == 401, headers
    assert fake_api.of("telegram", "setWebhook") == []
    # Not in the query string: URLs end up in proxy logs.
    status, _ = await post_raw(f"{set_webhook}?token=staff-t0ken", b"", {})
    assert status == 401
    status, text = await post_raw(set_webhook, b"", {"Authorization": "Bearer staff-t0ken"})
    assert (status, text) == (200, "Webhook set")
    [call] = fake_api.of("telegram", "setWebhook")
    assert call.body["secret_token"] == TELEGRAM["TELEGRAM_SECRET_TOKEN"]


async def test_telegram_set_webhook_is_refused_without_a_staff_token_configured(
    serve: Callable[..., Any], fake_api: FakePlatforms
) -> None:
    url, _ = await serve()
    status, text = await post_raw(f"{url}/webhooks/telegram/set_webhook", b"", {})
    assert status == 403 and "RASA_TOKEN" in text
    assert fake_api.of("telegram", "setWebhook") == []


async def test_telegram_conversations_are_keyed_by_channel(
    serve: Callable[..., Any], fake_api: FakePlatforms
) -> None:
    url, agent = await serve()
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM["TELEGRAM_SECRET_TOKEN"],
    }
    status, _ = await post_raw(
        f"{url}/webhooks/telegram/webhook", telegram_update(42, "hello"), headers
    )
    assert status == 200
    assert [(s.sender_id, s.channel) for s in agent.seen] == [("telegram:42", "telegram")]
    [sent] = fake_api.wait_for(lambda calls: len(calls) >= 1)
    assert sent.body["chat_id"] == "42"  # Telegram is sent its own chat id


# --- Facebook Messenger ---------------------------------------------------------------------------


def messenger_body(text: str = "hello") -> bytes:
    event = {"sender": {"id": "psid-1"}, "recipient": {"id": "page"}, "message": {"text": text}}
    return json.dumps({"object": "page", "entry": [{"id": "page", "messaging": [event]}]}).encode()


@pytest.mark.parametrize(
    "header",
    ["foo=bar", "__class__=x", "sha256=", "sha256=a=b", "md5=" + "0" * 32, "sha256=zz", "="],
)
async def test_messenger_malformed_signature_gets_403(
    serve: Callable[..., Any], header: str
) -> None:
    url, agent = await serve()
    status, _ = await post_raw(
        f"{url}/webhooks/facebook/webhook",
        messenger_body(),
        {"Content-Type": "application/json", "X-Hub-Signature-256": header},
    )
    assert status == 403
    assert agent.seen == []


async def test_messenger_signed_message_is_keyed_by_channel(
    serve: Callable[..., Any], fake_api: FakePlatforms
) -> None:
    url, agent = await serve()
    body = messenger_body()
    signature = "sha256=" + hmac.new(b"fb-app-secret", body, hashlib.sha256).hexdigest()
    status, _ = await post_raw(
        f"{url}/webhooks/facebook/webhook",
        body,
        {"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )
    assert status == 200
    assert [s.sender_id for s in agent.seen] == ["facebook:psid-1"]
    sent = fake_api.wait_for(lambda calls: any("text" in c.body.get("message", {}) for c in calls))
    assert {c.body["recipient"]["id"] for c in sent} == {"psid-1"}


def test_messenger_compares_signatures_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A `==` on the hex digest leaks, through timing, how many leading characters matched."""
    compared: list[tuple[Any, Any]] = []
    original = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(facebook.hmac, "compare_digest", spy)
    channel = FacebookChannel("verify", "app-secret", "page-token")
    body = b'{"object": "page", "entry": []}'
    good = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()

    class Request:
        headers = {"X-Hub-Signature-256": good}

    Request.body = body  # type: ignore[attr-defined]
    assert channel.is_authentic(Request())  # type: ignore[arg-type]
    assert compared, "the signature was not compared with hmac.compare_digest"
