"""Website widget sessions the server issues, and the credential that proves one is yours.

The server makes every session id (a random 128-bit value) and hands the widget a credential
with it: `HMAC-SHA256(SESSION_SECRET, "v1|<session id>|<user>")`, where `<user>` is the logged-in
user of JWT mode (the token's `sub`) or empty. A socket resumes a session only by presenting
both, and in JWT mode only as the same user; anything else gets a fresh session. So knowing a
session id — from a staff notification, a log line or a shared screen — opens nothing.

Why an HMAC and not a signed token library: the credential carries no data of its own (the id
is sent beside it) and never expires by itself (the tracker store's session expiry ends old
conversations), so a single keyed hash from the standard library is all it needs.

SESSION_SECRET  at least 32 characters, the same on every instance; required with
                MASSAGEBOT_ENVIRONMENT=production. In development an unset secret is replaced by a
                random one per process (logged), so widget sessions end when the server restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import uuid
from collections.abc import Mapping
from functools import lru_cache

logger = logging.getLogger(__name__)

MIN_SECRET_CHARS = 32


@lru_cache(maxsize=1)
def development_secret() -> str:
    """One random secret per process: forked Sanic workers inherit it from the main process."""
    logger.warning(
        "SESSION_SECRET is not set: using a random secret for this process (development only). "
        "Widget visitors start a new conversation whenever the server restarts; set "
        "SESSION_SECRET (32+ characters, the same on every instance) to keep them."
    )
    return secrets.token_hex(32)


def session_secret(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("SESSION_SECRET") or development_secret()


class SessionIssuer:
    """Makes widget sessions and checks the credentials clients bring back."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a session secret is required")
        self._key = secret.encode("utf-8")

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def credential(self, session_id: str, user: str = "") -> str:
        message = f"v1|{session_id}|{user}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def verify(self, session_id: object, credential: object, user: str = "") -> bool:
        """True only for a credential this server issued for this session (and user)."""
        if not isinstance(session_id, str) or not isinstance(credential, str):
            return False
        if not session_id or len(session_id) > 64 or len(credential) != 64:
            return False
        return hmac.compare_digest(self.credential(session_id, user), credential)
