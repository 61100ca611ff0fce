"""What every messaging channel here shares: secrets from the environment, switching itself off
when they are missing, remembering offered choices, and formatting replies per channel.

Why our own layer over Rasa's channels: Rasa fails to start when a `${VAR}` in credentials.yml is
unset, and some of its channels call their platform while starting (Telegram sets its webhook).
A clinic that only uses the website must still start with no messaging secrets at all, so our
channels read quoted `"${VAR}"` values themselves and, when any is missing, register a stub that
answers 503 and says which variables are missing.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.clinic.conversations import conversation_id, platform_id
from bot.rasa_adapter.channels.formatting import (
    Button,
    ChannelProfile,
    OutgoingMessage,
    format_reply,
    resolve_reply,
)

logger = logging.getLogger(__name__)

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(value: Any) -> tuple[str | None, list[str]]:
    """Expand `${VAR}` references; returns (value or None, names of unset/empty variables).

    Rasa expands unquoted `${VAR}` itself (and refuses to start if one is unset); quoted values
    reach us verbatim, so an unset variable can mean "this channel is off" instead of a crash.
    """
    if value is None:
        return None, []
    text = str(value)
    missing = [name for name in _ENV_REF.findall(text) if not os.environ.get(name)]
    if missing:
        return None, missing
    expanded = _ENV_REF.sub(lambda m: os.environ[m.group(1)], text)
    return (expanded or None), []


def read_settings(
    credentials: Mapping[str, Any] | None,
    required: Sequence[str],
    optional: Sequence[str] = (),
) -> tuple[dict[str, str | None], list[str]]:
    """Expand the credential values a channel needs; returns (settings, what is missing).

    A missing entry is reported by its environment variable name when it names one, so the
    log tells staff exactly what to export.
    """
    credentials = credentials or {}
    settings: dict[str, str | None] = {}
    missing: list[str] = []
    for key in (*required, *optional):
        value, unset = expand_env(credentials.get(key))
        settings[key] = value
        if key in required and value is None:
            missing.extend(unset or [key])
    return settings, missing


class DisabledChannel(InputChannel):
    """Stands in for a channel whose secrets are not set, so Rasa starts without it.

    Its webhook answers 503 (the platform retries later, nothing is processed) and its health
    route names the missing variables; nothing is sent to the platform.
    """

    def __init__(self, channel_name: str, prefix: str, missing: Sequence[str]) -> None:
        self.channel_name = channel_name
        self.prefix = prefix
        self.missing = list(missing)
        logger.warning(
            "Channel %s is disabled: set %s to enable it.", channel_name, ", ".join(self.missing)
        )

    def name(self) -> str:  # type: ignore[override]  # per instance: one class, many channels
        return self.channel_name

    def url_prefix(self) -> str:
        return self.prefix

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"{self.channel_name}_disabled")

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "disabled", "missing": self.missing})

        @webhook.route("/<path:path>", methods=["GET", "POST"])
        async def refuse(_: Request, path: str) -> HTTPResponse:
            if not path.strip("/"):
                return await health(_)
            return response.text(f"{self.channel_name} channel is not configured", status=503)

        return webhook


class OptionMemory:
    """The choices last offered to each conversation, so "2" can be mapped back to a payload.

    Kept in memory for speed; when it has nothing (after a restart) the conversation's tracker is
    consulted instead, see `offered_options`. Entries expire so memory stays bounded.
    """

    def __init__(self, ttl_seconds: float = 24 * 3600, max_entries: int = 10_000) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, tuple[Button, ...]]] = {}

    def remember(self, sender_id: str, buttons: Sequence[Button]) -> None:
        if len(self._entries) >= self.max_entries:
            oldest = min(self._entries, key=lambda key: self._entries[key][0])
            del self._entries[oldest]
        self._entries[sender_id] = (time.monotonic(), tuple(buttons))

    def take(self, sender_id: str) -> tuple[Button, ...] | None:
        """Return and forget the choices: each offer is answered at most once."""
        entry = self._entries.pop(sender_id, None)
        if entry is None or time.monotonic() - entry[0] > self.ttl_seconds:
            return None
        return entry[1]


async def offered_options(agent: Any, sender_id: str, memory: OptionMemory) -> tuple[Button, ...]:
    """The buttons of the bot's latest turn in this conversation (none if it had none)."""
    remembered = memory.take(sender_id)
    if remembered is not None:
        return remembered
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return ()
    try:
        tracker = await store.retrieve(sender_id)
    except Exception:  # a tracker store outage must not lose the client's message
        logger.exception("Could not read the tracker to resolve a numbered reply.")
        return ()
    if tracker is None:
        return ()
    for event in reversed(tracker.events):
        if event.type_name == "user":
            break
        if event.type_name == "bot":
            data = getattr(event, "data", None) or {}
            buttons = data.get("buttons") or data.get("quick_replies")
            if buttons:
                return tuple(Button.from_rasa(b) for b in buttons)
    return ()


class FormattedOutput(OutputChannel):
    """Output channel mixin: text and buttons go through `format_reply` for `profile`.

    Subclasses implement `send_formatted`; images, attachments and custom payloads keep Rasa's
    handling (they come after the text, as in Rasa's own `send_response`).
    """

    def __init__(
        self, profile: ChannelProfile, memory: OptionMemory | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.profile = profile
        self.memory = memory

    def profile_for(self, recipient_id: str) -> ChannelProfile:
        """The profile for this recipient; Twilio overrides it to tell SMS from WhatsApp."""
        return self.profile

    def platform(self, recipient_id: str) -> str:
        """Rasa addresses the conversation (`telegram:42`); the platform wants its id (`42`)."""
        return platform_id(recipient_id, self.name())

    async def send_formatted(self, recipient_id: str, message: OutgoingMessage) -> None:
        raise NotImplementedError

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        message = dict(message)
        text = message.pop("text", None) or ""
        raw_buttons = message.pop("buttons", None) or message.pop("quick_replies", None) or []
        buttons = [Button.from_rasa(b) for b in raw_buttons]
        if text or buttons:
            for outgoing in format_reply(text, buttons, self.profile_for(recipient_id)):
                await self.send_formatted(self.platform(recipient_id), outgoing)
            if buttons and self.memory is not None:
                self.memory.remember(recipient_id, buttons)
        await super().send_response(recipient_id, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for outgoing in format_reply(text, (), self.profile_for(recipient_id)):
            await self.send_formatted(self.platform(recipient_id), outgoing)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_response(recipient_id, {"text": text, "buttons": buttons})


class PlatformApi:
    """A messaging platform's HTTP API at a configurable base URL.

    The base URL is a setting so tests (and self-hosted gateways) can point a channel at another
    server; a failed call is logged and reported as None rather than raised, so one undeliverable
    message does not abort the rest of the bot's turn.
    """

    def __init__(self, base_url: str, timeout_seconds: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def call(
        self,
        path: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: aiohttp.BasicAuth | None = None,
    ) -> Any:
        url = f"{self.base_url}/{path.lstrip('/')}"
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout) as session,
                session.post(
                    url, json=json, data=data, params=params, headers=headers, auth=auth
                ) as reply,
            ):
                body = await reply.text()
                if reply.status >= 400:
                    logger.error("%s answered %s: %s", path, reply.status, body[:500])
                    return None
                try:
                    return await reply.json(content_type=None)
                except ValueError:
                    return body
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.error("Could not reach %s: %s", path, error)
            return None


class MessagingChannel(InputChannel):
    """Input channel base: resolves "2" (or an option's title) to the payload it stands for,
    and keys conversations by channel (`telegram:42`, see `bot.clinic.conversations`)."""

    def conversation(self, platform_sender: str) -> str:
        return conversation_id(self.name(), platform_sender)

    def __init__(self) -> None:
        self.memory = OptionMemory()
        self._app: Any = None

    def watch_app(self, blueprint: Blueprint) -> None:
        """Keep a reference to the Sanic app, whose `ctx.agent` holds the tracker store."""

        @blueprint.listener("before_server_start")
        async def remember(app: Any, _loop: Any) -> None:
            self._app = app

    async def resolve_choice(self, sender_id: str, text: str) -> str:
        """`sender_id` is the conversation id (the tracker's key and the options' key)."""
        if not text or text.startswith("/"):
            return text
        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        options = await offered_options(agent, sender_id, self.memory)
        return resolve_reply(text, options) or text
