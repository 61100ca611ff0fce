"""Facebook Messenger: Rasa's message parsing, our signature check and our replies.

The webhook verifies `X-Hub-Signature-256` (or the older SHA-1 `X-Hub-Signature`) and refuses a
bad one with 403 (Rasa answers 200 "not validated", which hides the problem from Meta's delivery
dashboard). Our own check replaces Rasa's `validate_hub_signature`, which compares with `==`
(a timing leak) and answers a malformed header such as `foo=bar` with a 500.

Replies use quick replies (up to 13, titles cut at 20 characters) and are sent without blocking
the event loop, unlike the synchronous `requests` client Rasa's channel uses.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput, Messenger
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rasa_adapter.channels.base import (
    DisabledChannel,
    FormattedOutput,
    MessagingChannel,
    OptionMemory,
    PlatformApi,
    read_settings,
)
from bot.rasa_adapter.channels.formatting import PROFILES, OutgoingMessage

logger = logging.getLogger(__name__)

DEFAULT_API = "https://graph.facebook.com/v18.0"
SIGNATURE_DIGESTS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}


class FacebookOutput(FormattedOutput):
    """Sends through the Send API (`POST /me/messages`)."""

    @classmethod
    def name(cls) -> str:
        return "facebook"

    def __init__(self, api: PlatformApi, token: str, memory: OptionMemory | None = None) -> None:
        super().__init__(PROFILES["facebook"], memory)
        self.api = api
        self.token = token

    async def post(self, payload: dict[str, Any]) -> Any:
        return await self.api.call("me/messages", json=payload, params={"access_token": self.token})

    async def send_formatted(self, recipient_id: str, message: OutgoingMessage) -> None:
        body: dict[str, Any] = {"text": message.text}
        if message.buttons:
            body["quick_replies"] = [
                {"content_type": "text", "title": b.title, "payload": b.payload}
                for b in message.buttons
            ]
        await self.post(
            {"recipient": {"id": recipient_id}, "messaging_type": "RESPONSE", "message": body}
        )

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        attachment = {"type": "image", "payload": {"url": image, "is_reusable": True}}
        await self.post(
            {
                "recipient": {"id": self.platform(recipient_id)},
                "messaging_type": "RESPONSE",
                "message": {"attachment": attachment},
            }
        )

    async def send_action(self, recipient_id: str, sender_action: str) -> None:
        recipient = {"id": self.platform(recipient_id)}
        await self.post({"recipient": recipient, "sender_action": sender_action})


class _Messenger(Messenger):
    """Rasa's event parsing, with our output channel and numbered-choice resolution."""

    def __init__(
        self,
        channel: FacebookChannel,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        super().__init__(channel.fb_access_token, on_new_message)
        self.channel = channel

    async def _handle_user_message(
        self, text: str, sender_id: str, metadata: dict[str, Any] | None
    ) -> None:
        out_channel = self.channel.get_output_channel()
        conversation = self.channel.conversation(sender_id)
        await out_channel.send_action(conversation, "typing_on")
        text = await self.channel.resolve_choice(conversation, text)
        try:
            await self.on_new_message(
                UserMessage(
                    text, out_channel, conversation, input_channel="facebook", metadata=metadata
                )
            )
        except Exception:
            logger.exception("Could not handle a Messenger message.")
        finally:
            await out_channel.send_action(conversation, "typing_off")


class FacebookChannel(FacebookInput, MessagingChannel):
    """Messenger webhook at `/webhooks/facebook/webhook`."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings, missing = read_settings(
            credentials, ["verify", "secret", "page-access-token"], ["api_base_url"]
        )
        if missing:
            return DisabledChannel(cls.name(), cls.name(), missing)
        return cls(
            settings["verify"] or "",
            settings["secret"] or "",
            settings["page-access-token"] or "",
            api_base_url=settings["api_base_url"] or DEFAULT_API,
        )

    def __init__(
        self, fb_verify: str, fb_secret: str, fb_access_token: str, api_base_url: str = DEFAULT_API
    ) -> None:
        FacebookInput.__init__(self, fb_verify, fb_secret, fb_access_token)
        MessagingChannel.__init__(self)
        self.api = PlatformApi(api_base_url)

    def get_output_channel(self) -> OutputChannel:
        return FacebookOutput(self.api, self.fb_access_token, self.memory)

    def is_authentic(self, request: Request) -> bool:
        """Check Meta's HMAC of the raw body; SHA-256 preferred, SHA-1 for older apps."""
        header = request.headers.get("X-Hub-Signature-256") or request.headers.get(
            "X-Hub-Signature", ""
        )
        algorithm, _, given = header.partition("=")
        digest = SIGNATURE_DIGESTS.get(algorithm.strip().lower())
        if digest is None or not given:
            return False
        expected = hmac.new(self.fb_secret.encode(), request.body or b"", digest).hexdigest()
        return hmac.compare_digest(expected.encode(), given.strip().lower().encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("fb_webhook", __name__)
        self.watch_app(webhook)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def token_verification(request: Request) -> HTTPResponse:
            if request.args.get("hub.verify_token") == self.fb_verify:
                return response.text(request.args.get("hub.challenge") or "")
            return response.text("failure, invalid token", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.is_authentic(request):
                logger.warning("Refused a Messenger webhook with a wrong or missing signature.")
                return response.text("not validated", status=403)
            payload = request.json
            if not isinstance(payload, dict) or "entry" not in payload:
                return response.text("ignored")
            await _Messenger(self, on_new_message).handle(payload, self.get_metadata(request))
            return response.text("success")

        return webhook
