"""Channel-shaped webhooks posted to a running server (the stub bot: real channels from the repo's
credentials.yml, a scripted agent instead of a model); the platforms' APIs are the loopback
fake, which records what the bot sends. tests/e2e/test_channels.py repeats the core of
this against the trained bot."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_platforms import FakePlatforms
from tests.support.servers import SECRETS, StubBot, run_stub_bot
from tests.support.webhooks import (
    facebook_signature,
    get,
    messenger_payload,
    post,
    post_slack_event,
    post_twilio,
    slack_headers,
)

GREETING = "Hello! I answer questions about massage and back pain."
MENU_KEYBOARD = [
    [{"text": "Benefits of massage", "callback_data": "/ask_benefits"}],
    [{"text": "Book an appointment", "callback_data": "/schedule_appointment"}],
]


def received(bot: StubBot) -> list[dict[str, Any]]:
    return json.loads(get(bot.url + "/stub/received")[1])


# --- Telegram ---------------------------------------------------------------------------------


def telegram_update(chat_id: int, text: str | None = None, callback: str | None = None) -> bytes:
    person = {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": "en"}
    chat = {"id": chat_id, "first_name": "Ana", "type": "private"}
    if callback is not None:
        update: dict[str, Any] = {
            "update_id": 2,
            "callback_query": {
                "id": "cb-1",
                "from": person,
                "chat_instance": "1",
                "data": callback,
                "message": {
                    "message_id": 5,
                    "chat": chat,
                    "date": 1700000000,
                    "text": GREETING,
                    "from": {"id": 123456, "is_bot": True, "first_name": "Clinic"},
                },
            },
        }
    else:
        update = {
            "update_id": 1,
            "message": {
                "message_id": 4,
                "from": person,
                "chat": chat,
                "date": 1700000000,
                "text": text,
            },
        }
    return json.dumps(update).encode()


def post_telegram(bot: StubBot, body: bytes, secret: str | None) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return post(bot.url + "/webhooks/telegram/webhook", body, headers)


def test_telegram_buttons_become_an_inline_keyboard(stub_bot: StubBot, platforms: Any) -> None:
    status, _ = post_telegram(
        stub_bot, telegram_update(42, "hello"), SECRETS["TELEGRAM_SECRET_TOKEN"]
    )
    assert status == 200
    [call] = platforms.wait_for(lambda calls: len(calls) >= 1)
    assert call.path == f"/telegram/bot{SECRETS['TELEGRAM_ACCESS_TOKEN']}/sendMessage"
    assert call.body == {
        "chat_id": "42",
        "text": GREETING,
        "reply_markup": {"inline_keyboard": MENU_KEYBOARD},
    }


def test_telegram_button_tap_and_numbered_reply(stub_bot: StubBot, platforms: Any) -> None:
    secret = SECRETS["TELEGRAM_SECRET_TOKEN"]
    post_telegram(stub_bot, telegram_update(43, callback="/ask_benefits"), secret)
    calls = platforms.wait_for(lambda calls: any("sendMessage" in c.path for c in calls))
    assert calls[0].path.endswith("/answerCallbackQuery")
    sent = [c.body for c in calls if c.path.endswith("/sendMessage")]
    assert sent[0]["text"].startswith("Massage may help with:\n• relaxation")  # no raw **
    assert "our benefits page (https://example.org/benefits)" in sent[0]["text"]

    post_telegram(stub_bot, telegram_update(43, "hi"), secret)
    platforms.wait_for(lambda calls: any(c.body.get("text") == GREETING for c in calls))
    post_telegram(stub_bot, telegram_update(43, "2"), secret)  # "2" = Book an appointment
    platforms.wait_for(
        lambda calls: any(c.body.get("text") == "Which day suits you?" for c in calls)
    )
    assert received(stub_bot)[-1] == {
        "text": "/schedule_appointment",
        "sender_id": "telegram:43",
        "channel": "telegram",
    }


def test_telegram_long_answer_is_split_at_4096(stub_bot: StubBot, platforms: Any) -> None:
    post_telegram(
        stub_bot, telegram_update(44, "a long answer please"), SECRETS["TELEGRAM_SECRET_TOKEN"]
    )
    calls = platforms.wait_for(lambda calls: len(calls) >= 3)
    texts = [c.body["text"] for c in calls]
    assert len(texts) == 3 and all(len(t) <= 4096 for t in texts)
    assert "".join(texts).replace(" ", "") == ("Massage is good for you. " * 400).replace(" ", "")


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
def test_telegram_refuses_updates_without_the_secret(
    stub_bot: StubBot, platforms: Any, secret: str | None
) -> None:
    before = len(received(stub_bot))
    status, _ = post_telegram(stub_bot, telegram_update(45, "hello"), secret)
    assert status == 403
    assert len(received(stub_bot)) == before and platforms.calls == []


def test_telegram_set_webhook_needs_the_staff_token(stub_bot: StubBot, platforms: Any) -> None:
    """Anyone could once point the clinic's Telegram bot at their own server."""
    status, _ = post(stub_bot.url + "/webhooks/telegram/set_webhook", b"", {})
    assert status == 401 and platforms.of("telegram", "setWebhook") == []
    staff = {"Authorization": f"Bearer {SECRETS['RASA_TOKEN']}"}
    status, text = post(stub_bot.url + "/webhooks/telegram/set_webhook", b"", staff)
    assert (status, text) == (200, "Webhook set")
    [call] = platforms.of("telegram", "setWebhook")
    assert call.body == {
        "url": SECRETS["TELEGRAM_WEBHOOK_URL"],
        "secret_token": SECRETS["TELEGRAM_SECRET_TOKEN"],
    }


# --- Twilio: SMS and WhatsApp -------------------------------------------------------------------


def sms(sender: str, body: str) -> dict[str, str]:
    return {
        "ToCountry": "US",
        "SmsMessageSid": "SM" + "1" * 32,
        "NumMedia": "0",
        "Body": body,
        "From": sender,
        "To": SECRETS["TWILIO_SMS_NUMBER"],
        "NumSegments": "1",
        "MessageSid": "SM" + "1" * 32,
        "AccountSid": SECRETS["TWILIO_ACCOUNT_SID"],
        "ApiVersion": "2010-04-01",
    }


def twilio_url(bot: StubBot) -> str:
    return bot.url + "/webhooks/twilio/webhook"


def test_sms_gets_numbered_options_and_number_replies_work(
    stub_bot: StubBot, platforms: Any
) -> None:
    token = SECRETS["TWILIO_AUTH_TOKEN"]
    status, body = post_twilio(twilio_url(stub_bot), sms("+447700900123", "hello"), token)
    assert status == 200 and "<Response>" in body
    [call] = platforms.wait_for(lambda calls: len(calls) >= 1)
    assert call.path == f"/twilio/2010-04-01/Accounts/{SECRETS['TWILIO_ACCOUNT_SID']}/Messages.json"
    expected_auth = base64.b64encode(f"{SECRETS['TWILIO_ACCOUNT_SID']}:{token}".encode()).decode()
    assert call.headers["Authorization"] == f"Basic {expected_auth}"
    assert call.body == {
        "To": "+447700900123",
        "From": SECRETS["TWILIO_SMS_NUMBER"],
        "Body": f"{GREETING}\n\n1. Benefits of massage\n2. Book an appointment\n"
        "Reply with the number of your choice.",
    }
    platforms.clear()
    post_twilio(twilio_url(stub_bot), sms("+447700900123", "1"), token)
    [answer] = platforms.wait_for(lambda calls: len(calls) >= 1)
    assert answer.body["Body"].startswith("Massage may help with:\n• relaxation")
    assert received(stub_bot)[-1]["text"] == "/ask_benefits"


def test_whatsapp_replies_from_the_whatsapp_number_with_bold(
    stub_bot: StubBot, platforms: Any
) -> None:
    sender = "whatsapp:+447700900456"
    post_twilio(twilio_url(stub_bot), sms(sender, "benefits"), SECRETS["TWILIO_AUTH_TOKEN"])
    [call] = platforms.wait_for(lambda calls: len(calls) >= 1)
    assert call.body["From"] == "whatsapp:" + SECRETS["TWILIO_WHATSAPP_NUMBER"]
    assert call.body["To"] == sender
    assert call.body["Body"].startswith("*Massage* may help with:")


def test_sms_long_answer_is_split_at_1600(stub_bot: StubBot, platforms: Any) -> None:
    post_twilio(
        twilio_url(stub_bot), sms("+447700900789", "long answer"), SECRETS["TWILIO_AUTH_TOKEN"]
    )
    calls = platforms.wait_for(lambda calls: len(calls) >= 7)
    assert len(calls) == 7 and all(len(c.body["Body"]) <= 1600 for c in calls)


@pytest.mark.parametrize(
    "signature",
    [None, "", "bm90IGEgcmVhbCBzaWduYXR1cmU=", "signed-with-another-token"],
)
def test_twilio_refuses_unsigned_or_wrongly_signed(
    stub_bot: StubBot, platforms: Any, signature: str | None
) -> None:
    before = len(received(stub_bot))
    params = sms("+447700900999", "hello")
    if signature == "signed-with-another-token":
        status, _ = post_twilio(twilio_url(stub_bot), params, "another-token")
    else:
        status, _ = post_twilio(twilio_url(stub_bot), params, None, signature)
    assert status == 403
    assert len(received(stub_bot)) == before and platforms.calls == []


def test_twilio_refuses_a_tampered_body(stub_bot: StubBot, platforms: Any) -> None:
    from tests.support.webhooks import twilio_signature

    params = sms("+447700900999", "hello")
    signature = twilio_signature(SECRETS["TWILIO_AUTH_TOKEN"], twilio_url(stub_bot), params)
    params["Body"] = "cancel all my appointments"
    status, _ = post_twilio(twilio_url(stub_bot), params, None, signature)
    assert status == 403 and platforms.calls == []


# --- Slack --------------------------------------------------------------------------------------


def slack_message(user: str, text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": "D0CLINIC",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": "1700000000.000100",
    }


def test_slack_buttons_become_block_actions(stub_bot: StubBot, platforms: Any) -> None:
    url = stub_bot.url + "/webhooks/slack/webhook"
    status, _ = post_slack_event(
        url, slack_message("U42", "hello"), SECRETS["SLACK_SIGNING_SECRET"]
    )
    assert status == 200
    [call] = platforms.wait_for(lambda calls: len(calls) >= 1)
    assert call.path == "/slack/api/chat.postMessage"
    assert call.headers["Authorization"] == f"Bearer {SECRETS['SLACK_BOT_TOKEN']}"
    assert call.body["channel"] == "D0CLINIC"
    section, actions = call.body["blocks"]
    assert section["text"] == {"type": "mrkdwn", "text": GREETING}
    assert [(b["text"]["text"], b["value"]) for b in actions["elements"]] == [
        ("Benefits of massage", "/ask_benefits"),
        ("Book an appointment", "/schedule_appointment"),
    ]


def test_slack_button_click_and_markup(stub_bot: StubBot, platforms: Any) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "U43"},
        "channel": {"id": "D0CLINIC"},
        "message": {"ts": "1700000000.000200"},
        "actions": [
            {
                "type": "button",
                "action_id": "choice_1",
                "value": "/ask_benefits",
                "text": {"type": "plain_text", "text": "Benefits of massage"},
            }
        ],
    }
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **slack_headers(SECRETS["SLACK_SIGNING_SECRET"], body),
    }
    status, _ = post(stub_bot.url + "/webhooks/slack/webhook", body, headers)
    assert status == 200
    [call] = platforms.wait_for(lambda calls: len(calls) >= 1)
    assert call.body["text"].startswith("*Massage* may help with:\n• relaxation")
    assert "<https://example.org/benefits|our benefits page>" in call.body["text"]


@pytest.mark.parametrize("case", ["unsigned", "wrong secret", "replayed"])
def test_slack_refuses_bad_signatures(stub_bot: StubBot, platforms: Any, case: str) -> None:
    before = len(received(stub_bot))
    body = json.dumps({"type": "event_callback", "event": slack_message("U44", "hello")}).encode()
    headers = {"Content-Type": "application/json"}
    if case == "wrong secret":
        headers |= slack_headers("not-the-secret", body)
    elif case == "replayed":
        headers |= slack_headers(SECRETS["SLACK_SIGNING_SECRET"], body, timestamp=1_600_000_000)
    status, _ = post(stub_bot.url + "/webhooks/slack/webhook", body, headers)
    assert status == 400  # Rasa's SlackInput answers 400 to an unauthenticated request
    assert len(received(stub_bot)) == before and platforms.calls == []


# --- Facebook Messenger -------------------------------------------------------------------------


def post_messenger(bot: StubBot, body: bytes, signature: str | None) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return post(bot.url + "/webhooks/facebook/webhook", body, headers)


def test_messenger_quick_replies(stub_bot: StubBot, platforms: Any) -> None:
    body = messenger_payload("PSID42", {"text": "hello"})
    status, _ = post_messenger(
        stub_bot, body, facebook_signature(SECRETS["FACEBOOK_APP_SECRET"], body)
    )
    assert status == 200
    calls = platforms.wait_for(
        lambda calls: any("message" in c.body for c in calls if isinstance(c.body, dict))
    )
    assert calls[0].body == {"recipient": {"id": "PSID42"}, "sender_action": "typing_on"}
    [reply] = [c for c in calls if "message" in c.body]
    assert reply.query["access_token"] == SECRETS["FACEBOOK_PAGE_ACCESS_TOKEN"]
    assert reply.body["message"] == {
        "text": GREETING,
        "quick_replies": [
            {"content_type": "text", "title": "Benefits of massage", "payload": "/ask_benefits"},
            {
                "content_type": "text",
                "title": "Book an appointment",
                "payload": "/schedule_appointment",
            },
        ],
    }


def test_messenger_quick_reply_tap_sends_its_payload(stub_bot: StubBot, platforms: Any) -> None:
    tap = {"text": "Book an appointment", "quick_reply": {"payload": "/schedule_appointment"}}
    body = messenger_payload("PSID43", tap)
    post_messenger(stub_bot, body, facebook_signature(SECRETS["FACEBOOK_APP_SECRET"], body))
    platforms.wait_for(
        lambda calls: any(
            c.body.get("message", {}).get("text") == "Which day suits you?" for c in calls
        )
    )
    assert received(stub_bot)[-1]["text"] == "/schedule_appointment"


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc", "garbage"])
def test_messenger_refuses_bad_signatures(
    stub_bot: StubBot, platforms: Any, signature: str | None
) -> None:
    before = len(received(stub_bot))
    status, _ = post_messenger(stub_bot, messenger_payload("PSID44", {"text": "hello"}), signature)
    assert status == 403
    assert len(received(stub_bot)) == before and platforms.calls == []


def test_messenger_verify_token(stub_bot: StubBot) -> None:
    base = stub_bot.url + "/webhooks/facebook/webhook?hub.mode=subscribe&hub.challenge=12345"
    assert get(f"{base}&hub.verify_token={SECRETS['FACEBOOK_VERIFY_TOKEN']}") == (200, "12345")
    assert get(f"{base}&hub.verify_token=wrong")[0] == 403


# --- a clinic with only the website -------------------------------------------------------------


def test_server_starts_with_no_messaging_secrets(
    tmp_path: Path, fake_platforms: FakePlatforms
) -> None:
    with run_stub_bot(None, tmp_path / "website-only.log") as bot:
        assert get(bot.url + "/webchat/widget.js")[0] == 200
        assert json.loads(get(bot.url + "/webhooks/telegram/")[1]) == {
            "status": "disabled",
            "missing": ["TELEGRAM_ACCESS_TOKEN", "TELEGRAM_SECRET_TOKEN"],
        }
        assert post_twilio(twilio_url(bot), sms("+447700900123", "hi"), "x")[0] == 503
        assert post(bot.url + "/webhooks/slack/webhook", b"{}", {})[0] == 503
        assert post(bot.url + "/webhooks/facebook/webhook", b"{}", {})[0] == 503
        assert received(bot) == []
    log = (tmp_path / "website-only.log").read_text()
    assert "Channel twilio is disabled: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN" in log
