"""The REST channel, for scripts, tests and a clinic's own integrations — and nothing else.

Rasa's `rest` channel takes any sender id and even the name of the channel from the request
body, so a POST naming a widget session or a phone number used to continue that client's
conversation. This one (same name and URL, `/webhooks/rest/webhook`):

- keys every conversation `rest:<sender>` and always calls itself `rest`, so it reaches REST
  conversations only; replies still show the sender the caller sent;
- with REST_CHANNEL_TOKEN set, requires `Authorization: Bearer <token>` (401 otherwise);
- with MASSAGEBOT_ENVIRONMENT=production and no token, is off: the webhook answers 403 and says
  which variable turns it on (its health route still answers, for load balancers);
- when the server is too busy (MAX_MESSAGES_IN_FLIGHT), answers 503 with `Retry-After` and the
  usual reply list holding the "please try again in a minute" message, for clients to show.

`make run` (development) leaves it on without a token, for the staff shell, tests and curl.
Streaming (`?stream=true`) is not offered; replies come as one JSON list.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.clinic.conversations import platform_id, prefix_for
from bot.rasa_adapter.security import BUSY_RETRY_AFTER_SECONDS, was_shed
from bot.settings import is_production

logger = logging.getLogger(__name__)

CHANNEL = "rest"
DEFAULT_SENDER = "default"


class RestCollector(CollectingOutputChannel):
    """Collects the replies, addressed as the caller knows itself (without `rest:`)."""

    @staticmethod
    def _message(recipient_id: str, **kwargs: Any) -> dict[str, Any]:
        return CollectingOutputChannel._message(platform_id(recipient_id, CHANNEL), **kwargs)


def bearer(request: Request) -> str:
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class RestChannel(RestInput):
    """`rest`: list it in credentials.yml as `bot.rasa_adapter.channels.rest.RestChannel`."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        token = os.environ.get("REST_CHANNEL_TOKEN") or None
        return cls(token=token, enabled=bool(token) or not is_production())

    def __init__(self, token: str | None = None, enabled: bool = True) -> None:
        self.token = token
        self.enabled = enabled
        if not enabled:
            logger.warning(
                "The REST channel is off (production without REST_CHANNEL_TOKEN): set "
                "REST_CHANNEL_TOKEN to turn it on for your own integrations."
            )

    def authorised(self, request: Request) -> bool:
        if self.token is None:
            return True
        return hmac.compare_digest(bearer(request).encode(), self.token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("custom_webhook_RestChannel", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "disabled"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.enabled:
                return response.text(
                    "The REST channel is off in production; set REST_CHANNEL_TOKEN to use it.",
                    status=403,
                )
            if not self.authorised(request):
                return response.json(
                    {"error": "Authorization: Bearer <REST_CHANNEL_TOKEN> required"},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            body = request.json if isinstance(request.json, dict) else {}
            sender = body.get("sender") or DEFAULT_SENDER
            metadata = body.get("metadata")
            collector = RestCollector()
            message = UserMessage(
                body.get("message"),
                collector,
                # Always prefixed, so the reply names exactly the sender sent.
                f"{prefix_for(CHANNEL)}:{sender}",
                input_channel=CHANNEL,  # never the one the body names
                metadata=metadata if isinstance(metadata, dict) else None,
            )
            try:
                await on_new_message(message)
            except asyncio.CancelledError:  # RESPONSE_TIMEOUT: answer what there is, like Rasa
                logger.error("A REST message took longer than the response timeout")
            except Exception:
                logger.exception("Could not handle a REST message")
            if was_shed(message):
                return response.json(
                    collector.messages,
                    status=503,
                    headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
                )
            return response.json(collector.messages)

        return webhook
