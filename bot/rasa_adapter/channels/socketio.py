"""Rasa's socket.io channel with session persistence that actually persists.

Rasa 3.6 calls `sio.enter_room(...)` without `await`; since python-socketio 5.10 that method is a
coroutine on AsyncServer, so the socket never joins its session's room and, with
`session_persistence: true`, every bot reply (sent to the room) is lost. This subclass replaces
only the `session_request` handler with one that awaits the join; everything else, including the
channel name `socketio` and its credentials keys, is Rasa's.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

logger = logging.getLogger(__name__)


class SocketIOChannel(SocketIOInput):
    """`socketio` channel; list it in credentials.yml by this module path instead of `socketio`."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by SocketIOInput.blueprint

        # Registering the event again replaces Rasa's handler.
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id") or uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(joined):  # a coroutine from python-socketio 5.10 on
                    await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            logger.debug("Socket %s joined session %s.", sid, session_id)

        return webhook
