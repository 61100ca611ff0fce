"""Channel building blocks without a server: secrets from the environment, signature checks,
remembered choices and the formatted output path."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

import pytest
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic.request import RequestParameters
from twilio.request_validator import RequestValidator

from bot.rasa_adapter.channels.base import (
    DisabledChannel,
    FormattedOutput,
    OptionMemory,
    PlatformApi,
    expand_env,
    offered_options,
    read_settings,
)
from bot.rasa_adapter.channels.facebook import FacebookChannel
from bot.rasa_adapter.channels.formatting import PROFILES, Button, OutgoingMessage
from bot.rasa_adapter.channels.slack import SlackChannel
from bot.rasa_adapter.channels.telegram import TelegramChannel
from bot.rasa_adapter.channels.twilio import TwilioChannel, TwilioOutput
from tests.support.webhooks import facebook_signature, twilio_signature


@dataclass
class FakeRequest:
    """Just the parts of a Sanic request the signature checks read."""

    url: str = "https://bot.example.org/webhooks/twilio/webhook"
    headers: dict[str, str] = field(default_factory=dict)
    form: RequestParameters = field(default_factory=RequestParameters)
    body: bytes = b""
    query_string: str = ""


# --- secrets from the environment ---------------------------------------------------------------


def test_expand_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MB_TOKEN", "abc")
    monkeypatch.setenv("MB_EMPTY", "")
    monkeypatch.delenv("MB_UNSET", raising=False)
    assert expand_env("${MB_TOKEN}") == ("abc", [])
    assert expand_env("pre-${MB_TOKEN}-post") == ("pre-abc-post", [])
    assert expand_env("${MB_UNSET}") == (None, ["MB_UNSET"])
    assert expand_env("${MB_EMPTY}") == (None, ["MB_EMPTY"])
    assert expand_env("literal") == ("literal", [])
    assert expand_env(None) == (None, [])


def test_read_settings_reports_missing_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MB_A", raising=False)
    monkeypatch.setenv("MB_B", "b")
    settings, missing = read_settings(
        {"a": "${MB_A}", "b": "${MB_B}", "c": "${MB_C_UNSET}"}, ["a", "b", "d"], ["c"]
    )
    assert settings == {"a": None, "b": "b", "d": None, "c": None}
    assert missing == ["MB_A", "d"]  # optional "c" is not reported


@pytest.mark.parametrize(
    ("channel", "credentials"),
    [
        (TelegramChannel, {"access_token": "${MB_UNSET_1}"}),
        (SlackChannel, {"slack_token": "${MB_UNSET_1}", "slack_signing_secret": "${MB_UNSET_2}"}),
        (TwilioChannel, {"account_sid": "${MB_UNSET_1}", "auth_token": "${MB_UNSET_2}"}),
        (FacebookChannel, {"verify": "${MB_UNSET_1}", "secret": "s", "page-access-token": "t"}),
        (TelegramChannel, None),
    ],
)
def test_channels_switch_off_without_secrets(channel: Any, credentials: Any) -> None:
    made = channel.from_credentials(credentials)
    assert isinstance(made, DisabledChannel)
    assert made.name() == channel.name() and made.url_prefix() == channel.name()
    assert made.missing


def test_twilio_needs_a_number() -> None:
    made = TwilioChannel.from_credentials({"account_sid": "AC1", "auth_token": "t"})
    assert isinstance(made, DisabledChannel)
    assert made.missing == ["TWILIO_NUMBER or TWILIO_WHATSAPP_NUMBER"]


# --- Twilio signatures --------------------------------------------------------------------------

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}


def test_our_signature_matches_twilios_published_example() -> None:
    # The worked example in Twilio's security documentation.
    assert twilio_signature(TOKEN, URL, PARAMS) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert RequestValidator(TOKEN).compute_signature(URL, PARAMS) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def make_twilio(webhook_url: str | None = None) -> TwilioChannel:
    return TwilioChannel("AC1", TOKEN, "+15005550006", webhook_url=webhook_url)


def signed_request(url: str, params: dict[str, str], signature: str) -> FakeRequest:
    return FakeRequest(
        url=url,
        headers={"X-Twilio-Signature": signature},
        form=RequestParameters({key: [value] for key, value in params.items()}),
    )


def test_twilio_accepts_a_correct_signature() -> None:
    url = "https://bot.example.org/webhooks/twilio/webhook"
    request = signed_request(url, PARAMS, twilio_signature(TOKEN, url, PARAMS))
    assert make_twilio().is_authentic(request)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "mutate",
    ["no header", "other token", "changed param", "added param", "other url"],
)
def test_twilio_rejects(mutate: str) -> None:
    url = "https://bot.example.org/webhooks/twilio/webhook"
    params = dict(PARAMS)
    signature = twilio_signature("other" if mutate == "other token" else TOKEN, url, params)
    if mutate == "changed param":
        params["Digits"] = "9999"
    if mutate == "added param":
        params["Body"] = "extra"
    request = signed_request(
        "https://evil.example.org/webhooks/twilio/webhook" if mutate == "other url" else url,
        params,
        signature,
    )
    if mutate == "no header":
        request.headers = {}
    assert not make_twilio().is_authentic(request)  # type: ignore[arg-type]


def test_twilio_checks_the_public_url_behind_a_proxy() -> None:
    public = "https://bot.example.org/webhooks/twilio/webhook"
    signature = twilio_signature(TOKEN, public, PARAMS)
    request = signed_request("http://127.0.0.1:5005/webhooks/twilio/webhook", PARAMS, signature)
    assert not make_twilio().is_authentic(request)  # type: ignore[arg-type]
    assert make_twilio(webhook_url=public).is_authentic(request)  # type: ignore[arg-type]


def test_twilio_whatsapp_sender_number() -> None:
    out = TwilioOutput(PlatformApi("http://x"), "AC1", TOKEN, "+1500", "+1415")
    assert out.sender_for("whatsapp:+4477") == "whatsapp:+1415"
    assert out.sender_for("+4477") == "+1500"
    assert out.profile_for("whatsapp:+4477").name == "whatsapp"
    prefixed = TwilioOutput(PlatformApi("http://x"), "AC1", TOKEN, None, "whatsapp:+1415")
    assert prefixed.sender_for("whatsapp:+4477") == "whatsapp:+1415"
    assert prefixed.sender_for("+4477") is None


# --- Facebook and Telegram ----------------------------------------------------------------------


def test_facebook_signature_check() -> None:
    channel = FacebookChannel("verify", "app-secret", "page-token")
    body = b'{"object": "page", "entry": []}'
    good_signature = facebook_signature("app-secret", body)
    good = FakeRequest(body=body, headers={"X-Hub-Signature-256": good_signature})
    assert channel.is_authentic(good)  # type: ignore[arg-type]
    sha1_signature = "sha1=" + hmac.new(b"app-secret", body, "sha1").hexdigest()
    sha1 = FakeRequest(body=body, headers={"X-Hub-Signature": sha1_signature})
    assert channel.is_authentic(sha1)  # type: ignore[arg-type]
    for headers in (
        {},
        {"X-Hub-Signature-256": facebook_signature("wrong", body)},
        {"X-Hub-Signature-256": "nonsense"},
    ):
        request = FakeRequest(body=body, headers=headers)
        assert not channel.is_authentic(request)  # type: ignore[arg-type]


def test_telegram_secret_token_check() -> None:
    channel = TelegramChannel("1:t", secret_token="s3cret")
    header = "X-Telegram-Bot-Api-Secret-Token"
    assert channel.is_authentic(FakeRequest(headers={header: "s3cret"}))  # type: ignore[arg-type]
    assert not channel.is_authentic(FakeRequest(headers={header: "guess"}))  # type: ignore[arg-type]
    assert not channel.is_authentic(FakeRequest())  # type: ignore[arg-type]


# --- remembered choices -------------------------------------------------------------------------


def test_option_memory_is_single_use_and_bounded() -> None:
    memory = OptionMemory(max_entries=2)
    memory.remember("a", [Button("Yes", "/affirm")])
    assert memory.take("a") == (Button("Yes", "/affirm"),)
    assert memory.take("a") is None
    for sender in "xyz":
        memory.remember(sender, [])
    assert memory.take("x") is None and memory.take("z") == ()


async def test_offered_options_fall_back_to_the_tracker() -> None:
    store = InMemoryTrackerStore(Domain.empty())
    tracker = DialogueStateTracker("sms-1", slots=[])
    tracker.update(UserUttered("hi"))
    tracker.update(
        BotUttered(
            "Hello",
            data={
                "buttons": [
                    {"title": "Benefits", "payload": "/ask_benefits"},
                    {"title": "Book", "payload": "/schedule_appointment"},
                ]
            },
        )
    )
    tracker.update(BotUttered("Anything else?"))
    await store.save(tracker)

    class Agent:
        tracker_store = store

    options = await offered_options(Agent(), "sms-1", OptionMemory())
    assert [b.payload for b in options] == ["/ask_benefits", "/schedule_appointment"]
    tracker.update(UserUttered("2"))
    await store.save(tracker)
    assert await offered_options(Agent(), "sms-1", OptionMemory()) == ()  # already answered
    assert await offered_options(None, "sms-1", OptionMemory()) == ()


class RecordingOutput(FormattedOutput):
    def __init__(self, profile: str) -> None:
        super().__init__(PROFILES[profile], OptionMemory())
        self.sent: list[OutgoingMessage] = []

    async def send_formatted(self, recipient_id: str, message: OutgoingMessage) -> None:
        self.sent.append(message)


async def test_formatted_output_handles_rasa_responses() -> None:
    out = RecordingOutput("sms")
    await out.send_response(
        "+44",
        {
            "text": "Pick",
            "buttons": [{"title": "A", "payload": "/a"}, {"title": "B", "payload": "/b"}],
        },
    )
    hint = "Reply with the number of your choice."
    assert out.sent == [OutgoingMessage(f"Pick\n\n1. A\n2. B\n{hint}")]
    assert out.memory is not None
    assert out.memory.take("+44") == (Button("A", "/a"), Button("B", "/b"))

    native = RecordingOutput("telegram")
    reply = {"text": "Pick", "quick_replies": [{"title": "A", "payload": "/a"}]}
    await native.send_response("1", reply)
    await native.send_response("1", {"image": "https://example.org/x.png"})  # Rasa's fallback
    assert native.sent[0] == OutgoingMessage("Pick", (Button("A", "/a"),))
    assert native.sent[1].text == "Image: https://example.org/x.png"
