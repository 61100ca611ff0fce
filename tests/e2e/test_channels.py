"""Messaging channels against the trained bot: real Rasa and action server, every channel
switched on by environment variables, the platforms' APIs faked on loopback."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bot.rasa_adapter.channels.formatting import render_markup
from tests.support.bots import RunningBot, start_bot
from tests.support.fake_platforms import FakePlatforms
from tests.support.servers import SECRETS, channel_env
from tests.support.webhooks import (
    facebook_signature,
    messenger_payload,
    post,
    post_slack_event,
    post_twilio,
)

pytestmark = pytest.mark.e2e

QUESTION = "does back massage help with blood circulation?"


@pytest.fixture(scope="module")
def messaging_bot(
    fake_platforms: FakePlatforms, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningBot]:
    folder = tmp_path_factory.mktemp("messaging-bot")
    with start_bot(folder, extra_env=channel_env(fake_platforms.url)) as bot:
        yield bot


def phone() -> str:
    return "+4477009" + str(uuid.uuid4().int)[:5]


def test_telegram_faq_answer_with_inline_buttons(messaging_bot: RunningBot, platforms: Any) -> None:
    chat = {"id": 7001, "type": "private", "first_name": "Ana"}
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "chat": chat,
            "date": 1700000000,
            "from": {"id": 7001, "is_bot": False, "first_name": "Ana"},
            "text": QUESTION,
        },
    }
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": SECRETS["TELEGRAM_SECRET_TOKEN"],
    }
    status, _ = post(
        messaging_bot.url + "/webhooks/telegram/webhook", json.dumps(update).encode(), headers
    )
    assert status == 200
    sent = [c.body for c in platforms.of("telegram", "sendMessage")]
    text = "\n".join(m["text"] for m in sent)
    assert re.search("circulation|blood", text, re.I) and "not medical advice" in text.lower()
    assert "**" not in text
    keyboards = [m["reply_markup"]["inline_keyboard"] for m in sent if "reply_markup" in m]
    assert keyboards and all(len(row) == 1 for row in keyboards[-1])


def test_sms_numbered_follow_ups_and_a_number_reply(
    messaging_bot: RunningBot, platforms: Any
) -> None:
    token, url = SECRETS["TWILIO_AUTH_TOKEN"], messaging_bot.url + "/webhooks/twilio/webhook"
    client = phone()

    def sms(body: str) -> dict[str, str]:
        return {
            "From": client,
            "To": SECRETS["TWILIO_SMS_NUMBER"],
            "Body": body,
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": SECRETS["TWILIO_ACCOUNT_SID"],
            "NumMedia": "0",
        }

    assert post_twilio(url, sms(QUESTION), token)[0] == 200
    bodies = [c.body["Body"] for c in platforms.of("twilio")]
    assert all(len(b) <= 1600 for b in bodies)
    assert all(c.body["To"] == client for c in platforms.of("twilio"))
    options = re.findall(r"^(\d+)\. (.+)$", bodies[-1], re.M)
    assert options and bodies[-1].endswith("Reply with the number of your choice.")

    platforms.clear()
    assert post_twilio(url, sms("1"), token)[0] == 200
    answer = [c.body["Body"] for c in platforms.of("twilio")]
    # "1" lands where tapping the first button would: compare with the REST channel, where the
    # same question offers the same buttons and we send the first one's payload ourselves.
    reference = f"ref-{uuid.uuid4().hex[:8]}"
    buttons = [b for r in messaging_bot.send(QUESTION, reference) for b in r.get("buttons", [])]
    assert buttons[0]["title"] == options[0][1]
    expected = [r.get("text", "") for r in messaging_bot.send(buttons[0]["payload"], reference)]
    first_line = render_markup(expected[0], "plain").split("\n")[0]
    assert answer and answer[0].split("\n")[0] == first_line


def test_whatsapp_answers_from_the_whatsapp_number(
    messaging_bot: RunningBot, platforms: Any
) -> None:
    client = "whatsapp:" + phone()
    params = {
        "From": client,
        "To": "whatsapp:" + SECRETS["TWILIO_WHATSAPP_NUMBER"],
        "Body": QUESTION,
        "MessageSid": "SM" + uuid.uuid4().hex,
        "NumMedia": "0",
    }
    url = messaging_bot.url + "/webhooks/twilio/webhook"
    assert post_twilio(url, params, SECRETS["TWILIO_AUTH_TOKEN"])[0] == 200
    calls = platforms.of("twilio")
    assert calls and all(
        c.body["From"] == "whatsapp:" + SECRETS["TWILIO_WHATSAPP_NUMBER"] for c in calls
    )


def test_twilio_forgery_is_refused_by_the_real_server(
    messaging_bot: RunningBot, platforms: Any
) -> None:
    params = {"From": phone(), "Body": "cancel my appointment", "MessageSid": "SM1"}
    url = messaging_bot.url + "/webhooks/twilio/webhook"
    assert post_twilio(url, params, "a-guessed-token")[0] == 403
    assert platforms.calls == []


def test_slack_faq_answer(messaging_bot: RunningBot, platforms: Any) -> None:
    event = {
        "type": "message",
        "channel": "D0E2E",
        "channel_type": "im",
        "user": "UE2E",
        "text": QUESTION,
        "ts": "1700000000.000100",
    }
    status, _ = post_slack_event(
        messaging_bot.url + "/webhooks/slack/webhook", event, SECRETS["SLACK_SIGNING_SECRET"]
    )
    assert status == 200
    calls = platforms.wait_for(lambda calls: any("blocks" in c.body for c in calls), timeout=60)
    text = "\n".join(c.body["text"] for c in calls)
    assert "not medical advice" in text.lower()


def test_messenger_faq_answer_with_quick_replies(messaging_bot: RunningBot, platforms: Any) -> None:
    body = messenger_payload("PSIDE2E", {"text": QUESTION})
    status, _ = post(
        messaging_bot.url + "/webhooks/facebook/webhook",
        body,
        {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": facebook_signature(SECRETS["FACEBOOK_APP_SECRET"], body),
        },
    )
    assert status == 200
    messages = [c.body["message"] for c in platforms.of("facebook") if "message" in c.body]
    assert "not medical advice" in "\n".join(m["text"] for m in messages).lower()
    replies = [q for m in messages for q in m.get("quick_replies", [])]
    assert replies and all(len(q["title"]) <= 20 for q in replies)
