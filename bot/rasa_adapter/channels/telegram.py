"""Telegram: a webhook channel that starts without Telegram and checks Telegram's secret token.

Rasa's own channel sets the webhook while the server starts (so the bot cannot start offline or
without a token) and asks Telegram `getMe` on every update. This one sets the webhook only when
staff ask (`/webhooks/telegram/set_webhook`, with the staff token RASA_TOKEN), registers a secret
token with it and refuses updates that do not carry that token. Without TELEGRAM_SECRET_TOKEN the
channel stays off: an unauthenticated webhook would let anyone write as any Telegram chat.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
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

DEFAULT_API = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram rejects callback_data longer than 64 bytes.
MAX_CALLBACK_BYTES = 64


class TelegramOutput(FormattedOutput):
    """Sends plain-text messages with one inline button per row (readable on a phone)."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, api: PlatformApi, token: str, memory: OptionMemory | None = None) -> None:
        super().__init__(PROFILES["telegram"], memory)
        self.api = api
        self.token = token

    async def call(self, method: str, payload: dict[str, Any]) -> Any:
        return await self.api.call(f"bot{self.token}/{method}", json=payload)

    async def send_formatted(self, recipient_id: str, message: OutgoingMessage) -> None:
        payload: dict[str, Any] = {"chat_id": recipient_id, "text": message.text}
        if message.buttons:
            fits = all(len(b.payload.encode()) <= MAX_CALLBACK_BYTES for b in message.buttons)
            # A payload too long for callback_data is sent as its number, which the input side
            # maps back through the remembered options.
            payload["reply_markup"] = {
                "inline_keyboard": [
                    [{"text": b.title, "callback_data": b.payload if fits else str(number)}]
                    for number, b in enumerate(message.buttons, start=1)
                ]
            }
        await self.call("sendMessage", payload)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.call("sendPhoto", {"chat_id": self.platform(recipient_id), "photo": image})


class TelegramChannel(MessagingChannel):
    """Telegram bot webhook at `/webhooks/telegram/webhook`."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        # Without the secret token anyone could post updates as any chat: off until it is set.
        settings, missing = read_settings(
            credentials, ["access_token", "secret_token"], ["webhook_url", "api_base_url"]
        )
        if missing:
            return DisabledChannel(cls.name(), cls.name(), missing)
        return cls(
            access_token=settings["access_token"] or "",
            webhook_url=settings["webhook_url"],
            secret_token=settings["secret_token"] or "",
            api_base_url=settings["api_base_url"] or DEFAULT_API,
        )

    def __init__(
        self,
        access_token: str,
        secret_token: str,
        webhook_url: str | None = None,
        api_base_url: str = DEFAULT_API,
    ) -> None:
        super().__init__()
        if not secret_token:
            raise ValueError("Telegram needs a secret token to authenticate its updates")
        self.access_token = access_token
        self.webhook_url = webhook_url
        self.secret_token = secret_token
        self.api = PlatformApi(api_base_url)

    def get_output_channel(self) -> TelegramOutput:
        return TelegramOutput(self.api, self.access_token, self.memory)

    def is_authentic(self, request: Request) -> bool:
        """Telegram echoes the secret given to setWebhook in a header on every update."""
        given = request.headers.get(SECRET_HEADER, "")
        return hmac.compare_digest(given.encode(), self.secret_token.encode())

    @staticmethod
    def staff_refusal(request: Request) -> HTTPResponse | None:
        """`/set_webhook` decides where Telegram sends every client's messages: staff only,
        with RASA_TOKEN in an `Authorization: Bearer` header (never in the URL, which logs keep)."""
        token = os.environ.get("RASA_TOKEN") or ""
        if not token:
            return response.text("Set RASA_TOKEN (the staff token) to use set_webhook.", status=403)
        scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return response.text(
                "Authorization: Bearer <RASA_TOKEN> required",
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("telegram_webhook", __name__)
        self.watch_app(webhook)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/set_webhook", methods=["POST"])
        async def set_webhook(request: Request) -> HTTPResponse:
            refusal = self.staff_refusal(request)
            if refusal is not None:
                logger.warning("Refused an unauthorised call of Telegram's set_webhook.")
                return refusal
            if not self.webhook_url:
                return response.text("TELEGRAM_WEBHOOK_URL is not set", status=400)
            payload: dict[str, Any] = {"url": self.webhook_url, "secret_token": self.secret_token}
            result = await self.get_output_channel().call("setWebhook", payload)
            ok = isinstance(result, dict) and result.get("ok")
            return response.text(
                "Webhook set" if ok else "Telegram refused the webhook", status=200 if ok else 502
            )

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.is_authentic(request):
                logger.warning("Refused a Telegram update without the right secret token.")
                return response.text("forbidden", status=403)
            update = request.json if isinstance(request.json, dict) else {}
            out_channel = self.get_output_channel()
            callback = update.get("callback_query")
            if callback:
                chat = (callback.get("message") or {}).get("chat") or {}
                text = callback.get("data") or ""
                # Stops the spinner on the tapped button.
                await out_channel.call("answerCallbackQuery", {"callback_query_id": callback["id"]})
            else:
                message = update.get("message") or update.get("edited_message") or {}
                chat = message.get("chat") or {}
                text = message.get("text") or ""
            if not chat.get("id") or not text:
                return response.text("ignored")
            sender_id = self.conversation(str(chat["id"]))
            text = await self.resolve_choice(sender_id, text.strip())
            if text == "/start":
                text = "/greet"
            await on_new_message(
                UserMessage(text, out_channel, sender_id, input_channel=self.name())
            )
            return response.text("success")

        return webhook
