"""The website widget's socket.io channel: sessions the server issues, one conversation each.

Rasa's `SocketIOInput` lets any socket join any session's room by naming it in
`session_request` (and hear every reply of that conversation), takes the conversation of each
message from the id the client puts in it, and, since python-socketio 5.10, never even joins the
room (it calls the coroutine `enter_room` without `await`). This channel keeps Rasa's name
(`socketio`), events, credentials keys and output channel, and replaces the handlers:

- `connect`: with SOCKETIO_JWT_KEY set, a valid JWT (`auth: {token}`) is required and its user
  (`sub`) is remembered for this socket; the client's IP is kept for the rate limits;
- `session_request`: the server issues the session id and a credential bound to it (and to the
  JWT user) — see `bot.rasa_adapter.widget_sessions`. A client resumes a session only with both;
  anything else gets a fresh session. New sessions are limited per IP;
- `user_uttered`: the message belongs to the session this socket was given, whatever
  `session_id` it names, in conversation `webchat:<session id>` (also the room's name);
- each message carries the socket and IP so the guard can limit them (`security.Client`).

The confirmation is `{"session_id": …, "session_token": …}`; Rasa's own widget reads the id from
such an object too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.clinic.conversations import conversation_id
from bot.rasa_adapter.security import TOO_FAST, Client, MessageGuard, attach_client
from bot.rasa_adapter.widget_sessions import SessionIssuer, session_secret

logger = logging.getLogger(__name__)

CHANNEL = "socketio"


def decode_token(token: object, key: str, algorithm: str) -> dict[str, Any] | None:
    """The JWT's claims if it is valid (`Bearer ` prefix optional), else None — quietly: a bad
    token from the internet is not an error of ours (Rasa logs a traceback for each)."""
    if not isinstance(token, str) or not token.strip():
        return None
    try:
        claims = jwt.decode(token.removeprefix("Bearer ").strip(), key, algorithms=[algorithm])
    except jwt.PyJWTError:
        return None
    return claims if isinstance(claims, dict) else None


def jwt_user(payload: dict[str, Any]) -> str:
    """The user a site's JWT names: `sub`, or Rasa's `{"user": {"username": …}}`."""
    user = payload.get("sub")
    if user is None and isinstance(payload.get("user"), dict):
        user = payload["user"].get("username")
    return "" if user is None else str(user)


def client_ip(environ: dict[str, Any]) -> str:
    """The client's address as the HTTP guard sees it (X-Forwarded-For with TRUSTED_PROXIES)."""
    request = environ.get("sanic.request")
    if request is None:
        return "unknown"
    return str(request.remote_addr or request.ip or "unknown")


class SocketIOChannel(SocketIOInput):
    """`socketio` channel; list it in credentials.yml by this module path instead of `socketio`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.issuer: SessionIssuer | None = None
        self.guard: MessageGuard | None = None

    def use_guard(self, guard: MessageGuard) -> None:
        """The server's guard, for the limit on new sessions per IP."""
        self.guard = guard

    def use_sessions(self, issuer: SessionIssuer) -> None:
        self.issuer = issuer

    def sessions(self) -> SessionIssuer:
        if self.issuer is None:  # e.g. a test server that registers channels itself
            self.issuer = SessionIssuer(session_secret())
        return self.issuer

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        namespace = self.namespace
        issuer = self.sessions()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            user = ""
            if self.jwt_key:
                token = auth.get("token") if isinstance(auth, dict) else None
                payload = decode_token(token, self.jwt_key, self.jwt_algorithm or "HS256")
                if not payload:
                    logger.info("socket.io connection refused: no valid JWT")
                    return False
                user = jwt_user(payload)
            state = {"user": user, "ip": client_ip(environ), "conversation": None}
            await sio.save_session(sid, state, namespace=namespace)
            if not self.session_persistence:  # one conversation per socket, as in Rasa
                await self._join(sid, conversation_id(CHANNEL, sid), state)
            return True

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            state = await sio.get_session(sid, namespace=namespace)
            data = data if isinstance(data, dict) else {}
            wanted, credential = data.get("session_id"), data.get("session_token")
            if issuer.verify(wanted, credential, state["user"]):
                session_id = str(wanted)
            else:
                if self.guard is not None and not await self.guard.allow_new_session(state["ip"]):
                    logger.info("New widget sessions limited for IP %s", state["ip"])
                    await sio.emit(self.bot_message_evt, {"text": TOO_FAST}, room=sid)
                    await sio.emit("session_confirm", {"error": "too_many_sessions"}, room=sid)
                    return
                if wanted:
                    logger.debug("Socket %s asked for a session it holds no credential for.", sid)
                session_id = issuer.new_id()
            if self.session_persistence:
                await self._join(sid, conversation_id(CHANNEL, session_id), state)
            confirmation = {
                "session_id": session_id,
                "session_token": issuer.credential(session_id, state["user"]),
            }
            await sio.emit("session_confirm", confirmation, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            state = await sio.get_session(sid, namespace=namespace)
            conversation = state.get("conversation")
            if not conversation:
                logger.info("Ignored a message from socket %s before its session_request.", sid)
                return
            data = data if isinstance(data, dict) else {}
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            text = data.get("message", "")
            message = UserMessage(
                text if isinstance(text, str) else "",
                SocketIOOutput(sio, self.bot_message_evt),
                conversation,  # the socket's own session, never one the client names
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else {},
            )
            attach_client(message, Client(ip=state["ip"], connection=sid))
            await on_new_message(message)

        return webhook

    async def _join(self, sid: str, conversation: str, state: dict[str, Any]) -> None:
        """Put the socket in its conversation's room, and in no other conversation's."""
        assert self.sio is not None
        previous = state.get("conversation")
        if previous and previous != conversation:
            await self.sio.leave_room(sid, previous, namespace=self.namespace)
        await self.sio.enter_room(sid, conversation, namespace=self.namespace)
        state["conversation"] = conversation
        await self.sio.save_session(sid, state, namespace=self.namespace)
