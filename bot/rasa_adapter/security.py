"""The public face of the Rasa server: who may call what, how often, and with how much.

Rasa has no application-level hook for any of this, so `server` builds the Sanic app itself and
installs what is here:

- the HTTP API (conversations, model, parsing) is off unless RASA_API_ENABLED=true, and then
  only with RASA_TOKEN and/or RASA_JWT_SECRET — the launcher refuses to start otherwise; the
  token may come in an `Authorization: Bearer` header (Rasa itself only reads `?token=`);
- CORS and socket.io connections only from CORS_ORIGINS (and the bot's own origin);
- socket.io clients must present a JWT signed with SOCKETIO_JWT_KEY when that is set, and the
  user it names is bound to their widget session (`widget_sessions`, keyed by SESSION_SECRET);
- every conversation is keyed by its channel (`bot.clinic.conversations`): a channel can only
  reach its own conversations, whatever sender id it is sent;
- the REST channel is off in production unless REST_CHANNEL_TOKEN is set (`channels.rest`);
- request bodies over MAX_REQUEST_BYTES are refused before anything parses them, and messages
  over MAX_MESSAGE_CHARS get a friendly reply instead of going to the NLU;
- rate limits per client IP (on the REST and socket.io endpoints, which clients call directly;
  messaging platforms call their webhooks from a few shared IPs), per sender on every channel,
  and per socket.io connection and IP for widget messages and new widget sessions, with a
  friendly reply when exceeded. With REDIS_URL set the counters are shared by all instances,
  otherwise each instance counts on its own;
- past MAX_MESSAGES_IN_FLIGHT messages being handled at once in this process, new ones are
  shed with a friendly "busy, try again in a minute" (REST: 503 with Retry-After), so an
  overloaded instance answers quickly instead of queueing everyone into timeouts.

Rates are written `COUNT/SECONDS` (e.g. `20/60`); `0` switches a limit off.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import os
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.clinic.conversations import conversation_id, owned, platform_id
from bot.rasa_adapter.widget_sessions import MIN_SECRET_CHARS
from bot.settings import EnvironmentConfigError, is_production

logger = logging.getLogger(__name__)

TOO_FAST = (
    "You're sending messages faster than I can read them — please wait a few seconds and try again."
)
TOO_LONG = (
    "That message is too long for me to read in one go. Could you ask your question in a few "
    "sentences?"
)
EMPTY = "I didn't get any text there. What would you like to know?"
BUSY = "I'm answering a lot of people right now — please try again in a minute. Sorry for the wait!"
BUSY_RETRY_AFTER_SECONDS = 60
NOT_A_COMMAND = (
    "That isn't something I can do here. What would you like to know about massage or booking?"
)
# Rasa's built-in intents, which a client could otherwise trigger by typing e.g. "/restart"
# (it wipes the conversation and answers nothing). Our buttons never send them.
BUILT_IN_COMMANDS = re.compile(r"^\s*/(restart|back|session_start|nlu_fallback)\b", re.I)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
REST_PATH = "/webhooks/rest/webhook"
# Routes of the channels (each checks its own credentials), not of Rasa's HTTP API.
CHANNEL_PATHS = ("/webhooks/", "/socket.io", "/webchat")
MAX_SENDER_CHARS = 128


class SecurityConfigError(ValueError):
    """A security setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str, name: str) -> Rate | None:
        text = text.strip()
        if text in ("", "0", "off"):
            return None
        try:
            count, _, seconds = text.partition("/")
            rate = cls(int(count), float(seconds or 60))
        except ValueError as error:
            raise SecurityConfigError(f"{name} must look like 20/60 (messages/seconds)") from error
        if rate.count < 1 or rate.seconds <= 0:
            raise SecurityConfigError(f"{name} must be positive, or 0 to switch it off")
        return rate


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _list(env: Mapping[str, str], name: str, default: str = "") -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, default).split(",") if item.strip())


@dataclass(frozen=True)
class SecuritySettings:
    production: bool = False
    session_secret: str | None = field(default=None, repr=False)
    rest_token: str | None = field(default=None, repr=False)
    enable_api: bool = False
    api_token: str | None = field(default=None, repr=False)
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_method: str = "HS256"
    cors_origins: tuple[str, ...] = ()
    socketio_jwt_key: str | None = field(default=None, repr=False)
    socketio_jwt_method: str = "HS256"
    sender_rate: Rate | None = Rate(20, 60)
    ip_rate: Rate | None = Rate(60, 60)
    session_rate: Rate | None = Rate(10, 60)
    ip_limited_paths: tuple[str, ...] = ("/webhooks/rest/", "/socket.io")
    max_message_chars: int = 2000
    max_request_bytes: int = 64 * 1024
    proxies_count: int = 0
    redis_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SecuritySettings:
        env = os.environ if env is None else env
        try:
            production = is_production(env)
        except EnvironmentConfigError as error:
            raise SecurityConfigError(str(error)) from error
        settings = cls(
            production=production,
            session_secret=env.get("SESSION_SECRET") or None,
            rest_token=env.get("REST_CHANNEL_TOKEN") or None,
            enable_api=_flag(env, "RASA_API_ENABLED"),
            api_token=env.get("RASA_TOKEN") or None,
            jwt_secret=env.get("RASA_JWT_SECRET") or None,
            jwt_method=env.get("RASA_JWT_METHOD") or "HS256",
            cors_origins=_list(env, "CORS_ORIGINS"),
            socketio_jwt_key=env.get("SOCKETIO_JWT_KEY") or None,
            socketio_jwt_method=env.get("SOCKETIO_JWT_METHOD") or "HS256",
            sender_rate=Rate.parse(env.get("RATE_LIMIT_SENDER", "20/60"), "RATE_LIMIT_SENDER"),
            ip_rate=Rate.parse(env.get("RATE_LIMIT_IP", "60/60"), "RATE_LIMIT_IP"),
            session_rate=Rate.parse(env.get("RATE_LIMIT_SESSIONS", "10/60"), "RATE_LIMIT_SESSIONS"),
            ip_limited_paths=_list(env, "RATE_LIMIT_IP_PATHS", "/webhooks/rest/,/socket.io"),
            max_message_chars=int(env.get("MAX_MESSAGE_CHARS") or 2000),
            max_request_bytes=int(env.get("MAX_REQUEST_BYTES") or 64 * 1024),
            proxies_count=int(env.get("TRUSTED_PROXIES") or 0),
            redis_url=env.get("REDIS_URL") or None,
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.enable_api and not (self.api_token or self.jwt_secret):
            raise SecurityConfigError(
                "RASA_API_ENABLED=true needs RASA_TOKEN or RASA_JWT_SECRET: the HTTP API can "
                "read and change every conversation, so it never runs open"
            )
        if self.max_message_chars < 1 or self.max_request_bytes < 1024:
            raise SecurityConfigError("MAX_MESSAGE_CHARS must be ≥ 1 and MAX_REQUEST_BYTES ≥ 1024")
        if self.production:
            if not self.session_secret or len(self.session_secret) < MIN_SECRET_CHARS:
                raise SecurityConfigError(
                    f"MASSAGEBOT_ENVIRONMENT=production needs SESSION_SECRET (at least "
                    f"{MIN_SECRET_CHARS} characters, the same on every instance): it signs the "
                    "widget's session credentials"
                )
            if self.rest_token is not None and len(self.rest_token) < 16:
                raise SecurityConfigError("REST_CHANNEL_TOKEN must be at least 16 characters")


# --- rate limiting ----------------------------------------------------------------------------


class Limiter(Protocol):
    async def allow(self, key: str) -> bool: ...


class MemoryLimiter:
    """A token bucket per key: `count` at once, refilled evenly over `seconds`."""

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}
        self._next_sweep = clock() + rate.seconds

    async def allow(self, key: str) -> bool:
        now = self.clock()
        per_second = self.rate.count / self.rate.seconds
        tokens, last = self.buckets.get(key, (float(self.rate.count), now))
        tokens = min(float(self.rate.count), tokens + (now - last) * per_second)
        allowed = tokens >= 1.0
        self.buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if now >= self._next_sweep:  # forget idle keys so memory stays bounded
            self._next_sweep = now + self.rate.seconds
            idle = [k for k, (_, seen) in self.buckets.items() if now - seen > self.rate.seconds]
            for k in idle:
                del self.buckets[k]
        return allowed


class RedisLimiter:
    """A fixed window counter in Redis, shared by every instance; fails open if Redis is down
    (the lock store will report that loudly anyway)."""

    def __init__(self, rate: Rate, url: str, prefix: str) -> None:
        import redis.asyncio

        self.rate = rate
        self.prefix = prefix
        self.redis = redis.asyncio.Redis.from_url(url, socket_timeout=1)

    async def allow(self, key: str) -> bool:
        window = math.floor(time.time() / self.rate.seconds)
        name = f"{self.prefix}:{key}:{window}"
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.incr(name)
            pipe.expire(name, math.ceil(self.rate.seconds) + 1)
            count, _ = await pipe.execute()
        except Exception as error:
            logger.warning("Rate limiting skipped, Redis unavailable: %s", error)
            return True
        return int(count) <= self.rate.count


class Unlimited:
    async def allow(self, key: str) -> bool:
        return True


def make_limiter(rate: Rate | None, settings: SecuritySettings, name: str) -> Limiter:
    if rate is None:
        return Unlimited()
    if settings.redis_url:
        prefix = os.environ.get("LOCK_STORE_KEY_PREFIX") or "massagebot"
        return RedisLimiter(rate, settings.redis_url, f"{prefix}:ratelimit:{name}")
    return MemoryLimiter(rate)


# --- per message: every channel, before Rasa sees it ---------------------------------------------

Handler = Callable[[UserMessage], Awaitable[Any]]


def visible_text(text: str) -> str:
    """The text without control, format (e.g. right-to-left marks) and separator characters."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in ("C", "Z")).strip()


def storable(text: str) -> str:
    """The text as it can be stored and sent on: lone UTF-16 surrogates (invalid in UTF-8, they
    break the action server and PostgreSQL for the rest of the conversation) become U+FFFD and
    control characters other than tab and newlines are dropped (PostgreSQL refuses NUL)."""
    return _CONTROL.sub("", _LONE_SURROGATE.sub("\ufffd", text))


@dataclass(frozen=True)
class Client:
    """Where a message came from, for channels that know (socket.io): limits per connection
    and per IP need it; it is kept on the message object only, never stored in the tracker."""

    ip: str
    connection: str


_CLIENT = "massagebot_client"


def attach_client(message: UserMessage, client: Client) -> UserMessage:
    setattr(message, _CLIENT, client)
    return message


def client_of(message: UserMessage) -> Client | None:
    client = getattr(message, _CLIENT, None)
    return client if isinstance(client, Client) else None


_SHED = "massagebot_shed"


def was_shed(message: UserMessage) -> bool:
    """Whether the guard turned this message away because the process was busy (the REST
    channel then answers 503 with Retry-After instead of 200)."""
    return getattr(message, _SHED, False) is True


class PlatformIds(OutputChannel):
    """Wraps the output channel of a channel that does not key its own conversations: Rasa
    answers to the conversation id (`rest:abc`), the channel gets its own id back (`abc`)."""

    def __init__(self, inner: OutputChannel, channel: str) -> None:
        self.inner = inner
        self.channel = channel

    def name(self) -> str:  # type: ignore[override]  # per instance, like the wrapped channel
        return self.inner.name()

    def _to(self, recipient_id: str) -> str:
        return platform_id(recipient_id, self.channel)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.inner.send_response(self._to(recipient_id), message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.inner.send_text_message(self._to(recipient_id), text, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.inner.send_image_url(self._to(recipient_id), image, **kwargs)

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        await self.inner.send_attachment(self._to(recipient_id), attachment, **kwargs)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.inner.send_text_with_buttons(self._to(recipient_id), text, buttons, **kwargs)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.inner.send_quick_replies(self._to(recipient_id), text, quick_replies, **kwargs)

    async def send_elements(self, recipient_id: str, elements: Any, **kwargs: Any) -> None:
        await self.inner.send_elements(self._to(recipient_id), elements, **kwargs)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self.inner.send_custom_json(self._to(recipient_id), json_message, **kwargs)


class MessageGuard:
    """Wraps the handler Rasa's channels call for each incoming message."""

    def __init__(
        self,
        settings: SecuritySettings,
        limiter: Limiter,
        failure_reply: Callable[[], str],
        connection_limiter: Limiter | None = None,
        ip_limiter: Limiter | None = None,
        session_limiter: Limiter | None = None,
        max_in_flight: int = 0,
    ) -> None:
        self.settings = settings
        self.limiter = limiter
        self.failure_reply = failure_reply
        self.connection_limiter = connection_limiter or Unlimited()
        self.ip_limiter = ip_limiter or Unlimited()
        self.session_limiter = session_limiter or Unlimited()
        self.max_in_flight = max_in_flight  # 0: no limit
        self.in_flight = 0  # messages of this process between the guard and Rasa's reply
        self.shed = 0  # turned away since the process became busy

    def wrap(self, handler: Handler, channel: InputChannel | None = None) -> Handler:
        """The guarded handler for one channel: its messages are keyed by that channel, so a
        client can never reach another channel's conversation (nor claim another channel)."""
        name = channel.name() if channel is not None else None

        async def guarded(message: UserMessage) -> None:
            if name is not None:
                self.key_by_channel(message, name)
            if isinstance(message.text, str):
                message.text = storable(message.text)
            reply = await self.refusal(message)
            if reply is not None:
                await self._say(message, reply)
                return
            # Checked and counted with no `await` in between: no other message slips past.
            if self.max_in_flight and self.in_flight >= self.max_in_flight:
                self.shed += 1
                if self.shed == 1:  # logged once per busy spell, not per message
                    logger.warning(
                        "%d messages in flight (MAX_MESSAGES_IN_FLIGHT): new ones are told to "
                        "try again in a minute",
                        self.in_flight,
                    )
                setattr(message, _SHED, True)
                await self._say(message, BUSY)
                return
            self.in_flight += 1
            try:
                await handler(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Rasa's channels log and answer nothing; the client deserves an apology.
                logger.exception("Could not handle a message from %s", message.sender_id)
                await self._say(message, self.failure_reply())
            finally:
                self.in_flight -= 1
                if self.shed and self.in_flight < self.max_in_flight:
                    logger.warning("Busy spell over: %d messages were turned away", self.shed)
                    self.shed = 0

        return guarded

    @staticmethod
    def key_by_channel(message: UserMessage, channel: str) -> None:
        """Our channels key their conversations themselves; any other channel's ids are keyed
        here, with an output channel that gets the platform's own id back."""
        message.input_channel = channel
        if not owned(channel, message.sender_id):
            message.sender_id = conversation_id(channel, message.sender_id)
            message.output_channel = PlatformIds(message.output_channel, channel)

    async def allow_new_session(self, ip: str) -> bool:
        """New widget sessions per IP: each one is a conversation (and, unchecked, a way to
        start every limit afresh)."""
        return await self.session_limiter.allow(ip)

    async def refusal(self, message: UserMessage) -> str | None:
        """Why this message is not passed on (the reply to send), or None to pass it on."""
        text = message.text if isinstance(message.text, str) else ""
        if len(text) > self.settings.max_message_chars:
            return TOO_LONG
        if not visible_text(text):
            return EMPTY
        if BUILT_IN_COMMANDS.match(text):
            return NOT_A_COMMAND
        client = client_of(message)
        if client is not None:
            # A socket could otherwise start a new session for every message.
            if not await self.connection_limiter.allow(client.connection):
                logger.info("Rate limit reached for a socket.io connection from %s", client.ip)
                return TOO_FAST
            if not await self.ip_limiter.allow(client.ip):
                logger.info("Rate limit reached for socket.io messages from IP %s", client.ip)
                return TOO_FAST
        key = f"{message.input_channel}:{message.sender_id}"
        if not await self.limiter.allow(key):
            logger.info("Rate limit reached for sender %s", message.sender_id)
            return TOO_FAST
        return None

    @staticmethod
    async def _say(message: UserMessage, text: str) -> None:
        try:
            await message.output_channel.send_text_message(message.sender_id, text)
        except Exception:
            logger.exception("Could not send a reply to %s", message.sender_id)


def make_guard(
    settings: SecuritySettings, failure_reply: Callable[[], str], max_in_flight: int = 0
) -> MessageGuard:
    """The guard with every limiter the settings ask for."""
    return MessageGuard(
        settings,
        make_limiter(settings.sender_rate, settings, "sender"),
        failure_reply,
        connection_limiter=make_limiter(settings.sender_rate, settings, "connection"),
        ip_limiter=make_limiter(settings.ip_rate, settings, "socket-ip"),
        session_limiter=make_limiter(settings.session_rate, settings, "sessions"),
        max_in_flight=max_in_flight,
    )


# --- per HTTP request ---------------------------------------------------------------------------


def _rest_reply(text: str, status: int, sender: str = "", **headers: str) -> HTTPResponse:
    """The REST channel's reply format, so widgets and scripts show the message as usual."""
    return response.json([{"recipient_id": sender, "text": text}], status=status, headers=headers)


def origin_allowed(origin: str, host: str, allowed: tuple[str, ...]) -> bool:
    """The bot's own origin always; others only if configured ('*' allows any)."""
    if "*" in allowed:
        return True
    if origin.rstrip("/") in {a.rstrip("/") for a in allowed}:
        return True
    return bool(host) and urlsplit(origin).netloc == host


def install_http_guards(app: Sanic, settings: SecuritySettings, ip_limiter: Limiter) -> None:
    """Body size cap, socket.io origin check, per-IP limits and REST payload validation."""
    app.config.REQUEST_MAX_SIZE = settings.max_request_bytes
    if settings.proxies_count:
        # The client's address is the one our proxy appended to X-Forwarded-For; headers a
        # client could set itself (X-Real-IP) are not trusted.
        app.config.PROXIES_COUNT = settings.proxies_count

    from sanic.exceptions import PayloadTooLarge

    @app.exception(PayloadTooLarge)
    async def too_large(request: Request, _error: Exception) -> HTTPResponse:
        return _rest_reply(TOO_LONG, 413)

    @app.middleware("request")
    async def guard(request: Request) -> HTTPResponse | None:
        path = request.path
        if settings.enable_api and not path.startswith(CHANNEL_PATHS):
            if settings.api_token:
                _api_token_from_header(request, settings.api_token)
            _unquote_conversation_id(request)
        if path.startswith("/socket.io"):
            origin = request.headers.get("origin")
            if origin and not origin_allowed(origin, request.host, settings.cors_origins):
                logger.info("socket.io connection refused from origin %s", origin)
                return response.text("origin not allowed", status=403)
        if any(path.startswith(prefix) for prefix in settings.ip_limited_paths):
            ip = request.remote_addr or request.ip or "unknown"
            if not await ip_limiter.allow(ip):
                logger.info("Rate limit reached for IP %s on %s", ip, path)
                return _rest_reply(TOO_FAST, 429, **{"Retry-After": "10"})
        if path == REST_PATH and request.method == "POST":
            try:
                await request.receive_body()  # middleware runs before Sanic reads the body
            except PayloadTooLarge:
                return _rest_reply(TOO_LONG, 413)
            return _check_rest_payload(request)
        return None


def _api_token_from_header(request: Request, token: str) -> None:
    """Rasa's HTTP API takes its token only as `?token=` (which proxies and access logs keep)
    and compares it with `==`. Staff tools send `Authorization: Bearer <RASA_TOKEN>`: checked
    here in constant time and handed to Rasa's check; a wrong `?token=` is dropped before Rasa
    compares it. A bearer value that is not the token is left for Rasa's JWT check."""
    scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
    candidates = [given.strip()] if scheme.lower() == "bearer" and given.strip() else []
    candidates += request.args.getlist("token") or []
    expected = token.encode()
    valid = any(hmac.compare_digest(c.encode(), expected) for c in candidates)
    request.args.pop("token", None)
    if valid:
        request.args["token"] = [token]


def _unquote_conversation_id(request: Request) -> None:
    """Conversation ids hold `:` and may hold `/`, `?`, `#` or `%`, so staff tools escape them
    whole (`rest%3Aa%2Fb`); Rasa's routes take the path segment as it is, undecoded, and would
    address a conversation named `rest%3Aa%2Fb`. Decoded here, after routing, before Rasa."""
    conversation = request.match_info.get("conversation_id")
    if isinstance(conversation, str) and "%" in conversation:
        request.match_info["conversation_id"] = unquote(conversation)


def _check_rest_payload(request: Request) -> HTTPResponse | None:
    """Rasa's REST channel trusts its JSON; odd shapes would reach the NLU or the tracker
    store's 255-character sender column and fail there with a 500."""
    try:
        body = request.json
    except Exception:
        body = None
    if not isinstance(body, dict):
        return _rest_reply('Please send JSON like {"sender": "…", "message": "…"}.', 400)
    sender, text = body.get("sender", "default"), body.get("message")
    if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER_CHARS:
        return _rest_reply(f"'sender' must be text of 1 to {MAX_SENDER_CHARS} characters.", 400)
    if not isinstance(text, str):
        return _rest_reply("'message' must be text.", 400, sender)
    return None
