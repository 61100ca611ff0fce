"""Twilio SMS and WhatsApp, with the request signature check Rasa's Twilio channel lacks.

Anyone who finds the webhook URL could otherwise post fake messages as any phone number (and
make the bot send SMS at the clinic's expense). Every request must carry `X-Twilio-Signature`:
Twilio's HMAC-SHA1, keyed with the auth token, of the public webhook URL followed by the sorted
POST parameters. We check it with the `twilio` package's `RequestValidator` (installed with Rasa)
and answer 403 otherwise. One webhook serves both: a sender `whatsapp:+44…` is a WhatsApp chat.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.rasa_adapter.channels.base import (
    DisabledChannel,
    FormattedOutput,
    MessagingChannel,
    OptionMemory,
    PlatformApi,
    read_settings,
)
from bot.rasa_adapter.channels.formatting import PROFILES, ChannelProfile, OutgoingMessage

logger = logging.getLogger(__name__)

DEFAULT_API = "https://api.twilio.com"
WHATSAPP = "whatsapp:"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def is_whatsapp(address: str) -> bool:
    return address.startswith(WHATSAPP)


class TwilioOutput(FormattedOutput):
    """Sends through Twilio's Messages resource: numbered options, 1600-character bodies."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    def __init__(
        self,
        api: PlatformApi,
        account_sid: str,
        auth_token: str,
        sms_number: str | None,
        whatsapp_number: str | None,
        memory: OptionMemory | None = None,
    ) -> None:
        super().__init__(PROFILES["sms"], memory)
        self.api = api
        self.account_sid = account_sid
        self.auth = aiohttp.BasicAuth(account_sid, auth_token)
        self.sms_number = sms_number
        self.whatsapp_number = whatsapp_number

    def profile_for(self, recipient_id: str) -> ChannelProfile:
        return PROFILES["whatsapp" if is_whatsapp(recipient_id) else "sms"]

    def sender_for(self, recipient_id: str) -> str | None:
        if is_whatsapp(recipient_id):
            number = self.whatsapp_number or ""
            return number if is_whatsapp(number) or not number else WHATSAPP + number
        return self.sms_number

    async def create_message(self, fields: dict[str, str]) -> Any:
        return await self.api.call(
            f"2010-04-01/Accounts/{self.account_sid}/Messages.json", data=fields, auth=self.auth
        )

    async def send_formatted(self, recipient_id: str, message: OutgoingMessage) -> None:
        sender = self.sender_for(recipient_id)
        if not sender:
            logger.error("No Twilio number configured to answer %s.", recipient_id[:12])
            return
        await self.create_message({"To": recipient_id, "From": sender, "Body": message.text})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        to = self.platform(recipient_id)
        sender = self.sender_for(to)
        if sender:
            await self.create_message({"To": to, "From": sender, "MediaUrl": image})


class TwilioChannel(TwilioInput, MessagingChannel):
    """Twilio Messaging webhook at `/webhooks/twilio/webhook` (SMS and WhatsApp)."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings, missing = read_settings(
            credentials,
            ["account_sid", "auth_token"],
            ["twilio_number", "whatsapp_number", "webhook_url", "api_base_url"],
        )
        if not missing and not (settings["twilio_number"] or settings["whatsapp_number"]):
            missing = ["TWILIO_NUMBER or TWILIO_WHATSAPP_NUMBER"]
        if missing:
            return DisabledChannel(cls.name(), cls.name(), missing)
        return cls(
            account_sid=settings["account_sid"] or "",
            auth_token=settings["auth_token"] or "",
            twilio_number=settings["twilio_number"],
            whatsapp_number=settings["whatsapp_number"],
            webhook_url=settings["webhook_url"],
            api_base_url=settings["api_base_url"] or DEFAULT_API,
        )

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        twilio_number: str | None,
        whatsapp_number: str | None = None,
        webhook_url: str | None = None,
        api_base_url: str = DEFAULT_API,
    ) -> None:
        TwilioInput.__init__(self, account_sid, auth_token, twilio_number, debug_mode=False)
        MessagingChannel.__init__(self)
        self.whatsapp_number = whatsapp_number
        self.webhook_url = webhook_url
        self.validator = RequestValidator(auth_token)
        self.api = PlatformApi(api_base_url)

    def get_output_channel(self) -> TwilioOutput:
        return TwilioOutput(
            self.api,
            self.account_sid or "",
            self.auth_token or "",
            self.twilio_number,
            self.whatsapp_number,
            self.memory,
        )

    def signed_url(self, request: Request) -> str:
        """The URL Twilio signed: the configured public one (behind a proxy or tunnel the URL
        the server sees differs), else the request's own URL."""
        if self.webhook_url:
            query = request.query_string
            return f"{self.webhook_url}?{query}" if query else self.webhook_url
        return request.url

    def is_authentic(self, request: Request) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            return False
        # request.form maps each name to a list of values, as RequestValidator expects.
        return bool(self.validator.validate(self.signed_url(request), request.form, signature))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("twilio_webhook", __name__)
        self.watch_app(webhook)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.is_authentic(request):
                logger.warning("Refused a Twilio webhook with a wrong or missing signature.")
                return response.text("invalid signature", status=403)
            sender = request.form.get("From")
            text = request.form.get("Body")
            if self._is_location_message(request):
                text = (
                    "/locationData{"
                    f'"Latitude": {request.form.get("Latitude")}, '
                    f'"Longitude": {request.form.get("Longitude")}}}'
                )
            if sender and text:
                # `twilio:+44…` for SMS; WhatsApp's `whatsapp:+44…` is keyed as it comes.
                conversation = self.conversation(sender)
                # Some carriers turn @ into ¡ in SMS.
                text = await self.resolve_choice(conversation, text.replace("¡", "@").strip())
                await on_new_message(
                    UserMessage(
                        text, self.get_output_channel(), conversation, input_channel=self.name()
                    )
                )
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return webhook
