"""One client, one conversation: the attacks of the security review, on the server our launcher
builds (real channels, guards and socket.io sessions; a scripted agent instead of the model).

Each test is an attack that worked before widget sessions were issued by the server and
conversations were keyed by channel; tests/e2e/test_ownership.py repeats the main ones against
the trained bot.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
import socketio

from bot.rasa_adapter.security import TOO_FAST, SecurityConfigError, SecuritySettings
from tests.support.scripted_app import (
    CLEARED,
    ScriptedAgent,
    WidgetClient,
    post_json,
    scripted_server,
)

SECRET = "a-session-secret-for-tests-only-32-chars-or-more"


@pytest.fixture()
async def serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., Any]]:
    """`await serve(**env)` → (base URL, agent); stopped after the test."""
    stack: list[Any] = []

    async def start(**env: str) -> tuple[str, ScriptedAgent]:
        for name in CLEARED:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("RATE_LIMIT_SENDER", "0")
        monkeypatch.setenv("RATE_LIMIT_IP", "0")
        monkeypatch.setenv("SESSION_SECRET", SECRET)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        folder = tmp_path / f"server{len(stack)}"
        folder.mkdir()
        context = scripted_server(folder, env)
        stack.append(context)
        return await context.__aenter__()

    yield start
    for context in reversed(stack):
        await context.__aexit__(None, None, None)


def widget(url: str, **kwargs: Any) -> WidgetClient:
    return WidgetClient(url, **kwargs).connect()


def run(function: Callable[..., Any], *args: Any) -> Any:
    return asyncio.to_thread(function, *args)


# --- finding 1: eavesdropping on the widget -----------------------------------------------------


async def test_the_server_issues_session_ids(serve: Callable[..., Any]) -> None:
    url, _ = await serve()

    def attempt() -> tuple[dict[str, Any], dict[str, Any]]:
        client = widget(url)
        try:
            return client.request_session(), client.request_session(session_id="i-choose-this")
        finally:
            client.close()

    fresh, chosen = await run(attempt)
    assert fresh["session_id"] and fresh["session_token"]
    assert chosen["session_id"] != "i-choose-this"  # a client can't pick its conversation


async def test_a_second_socket_cannot_join_another_clients_session(
    serve: Callable[..., Any],
) -> None:
    url, _agent = await serve()

    def attack() -> tuple[WidgetClient, WidgetClient]:
        ana, eve = widget(url), widget(url)
        ana.request_session()
        eve.request_session(session_id=ana.session_id)  # the id from a webhook or localStorage
        ana.say("my name is Ana Lopez")
        eve.settle()
        ana.close()
        eve.close()
        return ana, eve

    ana, eve = await run(attack)
    assert eve.session_id != ana.session_id
    assert ana.replies == ["echo: my name is Ana Lopez"]
    assert eve.replies == []  # nothing of Ana's conversation reaches the other socket


async def test_a_socket_cannot_type_into_another_session(serve: Callable[..., Any]) -> None:
    url, agent = await serve()

    def attack() -> tuple[WidgetClient, WidgetClient]:
        ana, eve = widget(url), widget(url)
        ana.request_session()
        eve.request_session()
        ana.say("book me in please")
        eve.say("yes, confirm it", session_id=ana.session_id)
        ana.settle()
        ana.close()
        eve.close()
        return ana, eve

    ana, _eve = await run(attack)
    [ana_conversation] = agent.senders_of("book me in please")
    [eve_conversation] = agent.senders_of("yes, confirm it")
    assert eve_conversation != ana_conversation
    assert ana.replies == ["echo: book me in please"]


async def test_a_client_resumes_its_session_with_its_credential(serve: Callable[..., Any]) -> None:
    url, agent = await serve()

    def visit_twice() -> tuple[dict[str, Any], dict[str, Any], WidgetClient]:
        first = widget(url)
        issued = first.request_session()
        first.say("hello")
        first.close()
        again = widget(url)  # a reload: a new socket with what the widget stored
        resumed = again.request_session(**issued)
        again.say("still me")
        again.close()
        return issued, resumed, again

    issued, resumed, again = await run(visit_twice)
    assert resumed["session_id"] == issued["session_id"]
    assert again.replies == ["echo: still me"]
    assert agent.senders_of("hello") == agent.senders_of("still me")


async def test_a_forged_or_borrowed_credential_gets_a_fresh_session(
    serve: Callable[..., Any],
) -> None:
    url, _ = await serve()

    def attempts() -> tuple[str, list[str]]:
        ana = widget(url)
        issued = ana.request_session()
        ana.close()
        other = widget(url)
        forged = hmac.new(b"guess", issued["session_id"].encode(), hashlib.sha256).hexdigest()
        tries = [
            {"session_id": issued["session_id"]},
            {"session_id": issued["session_id"], "session_token": forged},
            {"session_id": issued["session_id"], "session_token": ""},
            {"session_id": issued["session_id"], "session_token": {"$ne": None}},
            {"session_id": "other", "session_token": issued["session_token"]},
        ]
        got = [other.request_session(**wanted)["session_id"] for wanted in tries]
        other.close()
        return issued["session_id"], got

    ana_session, got = await run(attempts)
    assert ana_session not in got


# --- finding 2: crossing channels ----------------------------------------------------------------


async def test_rest_cannot_reach_a_widget_conversation(serve: Callable[..., Any]) -> None:
    url, agent = await serve()

    def start_widget() -> WidgetClient:
        ana = widget(url)
        ana.request_session()
        ana.say("I'd like to book")
        return ana

    ana = await run(start_widget)
    [ana_conversation] = agent.senders_of("I'd like to book")
    rest = f"{url}/webhooks/rest/webhook"
    for sender in (ana.session_id, ana_conversation, f"webchat:{ana.session_id}"):
        status, _ = await post_json(rest, {"sender": sender, "message": "Eve Stranger"})
        assert status == 200
    await run(ana.settle)
    await run(ana.close)
    assert ana_conversation not in agent.senders_of("Eve Stranger")
    assert ana.replies == ["echo: I'd like to book"]  # no reply of Eve's reached Ana


async def test_rest_cannot_claim_another_input_channel(serve: Callable[..., Any]) -> None:
    url, agent = await serve()
    body = {"sender": "+447911123456", "message": "hi", "input_channel": "twilio"}
    status, replies = await post_json(f"{url}/webhooks/rest/webhook", body)
    assert status == 200
    assert [(s.sender_id, s.channel) for s in agent.seen] == [("rest:+447911123456", "rest")]
    assert replies[0]["recipient_id"] == "+447911123456"  # the client sees its own sender


# --- finding 3 (REST part): off in production unless protected -----------------------------------


async def test_rest_is_off_in_production_without_a_token(serve: Callable[..., Any]) -> None:
    url, agent = await serve(MASSAGEBOT_ENVIRONMENT="production")
    status, _ = await post_json(f"{url}/webhooks/rest/webhook", {"sender": "x", "message": "hi"})
    assert status in (403, 404)
    assert agent.seen == []


async def test_rest_requires_the_bearer_token_when_one_is_set(serve: Callable[..., Any]) -> None:
    token = "rest-t0ken-for-tests"
    url, agent = await serve(MASSAGEBOT_ENVIRONMENT="production", REST_CHANNEL_TOKEN=token)
    rest = f"{url}/webhooks/rest/webhook"
    body = {"sender": "x", "message": "hi"}
    assert (await post_json(rest, body))[0] == 401
    assert (await post_json(rest, body, {"Authorization": "Bearer wrong"}))[0] == 401
    status, replies = await post_json(rest, body, {"Authorization": f"Bearer {token}"})
    assert status == 200 and replies[0]["text"] == "echo: hi"
    assert [s.sender_id for s in agent.seen] == ["rest:x"]


def test_production_needs_a_session_secret() -> None:
    with pytest.raises(SecurityConfigError, match="SESSION_SECRET"):
        SecuritySettings.from_env({"MASSAGEBOT_ENVIRONMENT": "production"})
    settings = SecuritySettings.from_env(
        {"MASSAGEBOT_ENVIRONMENT": "production", "SESSION_SECRET": "x" * 32}
    )
    assert settings.production and settings.session_secret == "x" * 32
    with pytest.raises(SecurityConfigError, match="32"):
        SecuritySettings.from_env({"MASSAGEBOT_ENVIRONMENT": "production", "SESSION_SECRET": "x"})


# --- finding 4: socket.io messages are limited too ---------------------------------------------


async def test_changing_session_per_message_does_not_escape_the_limit(
    serve: Callable[..., Any],
) -> None:
    url, agent = await serve(RATE_LIMIT_SENDER="3/60")

    def flood() -> WidgetClient:
        eve = widget(url)
        for number in range(6):
            eve.request_session()  # a fresh conversation for every message
            eve.say(f"message {number}")
        eve.close()
        return eve

    eve = await run(flood)
    assert eve.replies[:3] == ["echo: message 0", "echo: message 1", "echo: message 2"]
    assert eve.replies[3:] == [TOO_FAST] * 3
    assert len(agent.seen) == 3


async def test_socketio_messages_are_limited_per_ip(serve: Callable[..., Any]) -> None:
    url, agent = await serve(RATE_LIMIT_SENDER="2/60", RATE_LIMIT_IP="5/60")

    def flood() -> list[str]:
        replies: list[str] = []
        for _ in range(3):  # new connections from the same address
            eve = widget(url)
            eve.request_session()
            eve.say("one")
            eve.say("two")
            eve.close()
            replies += eve.replies
        return replies

    replies = await run(flood)
    assert replies.count(TOO_FAST) == 1 and replies[-1] == TOO_FAST
    assert len(agent.seen) == 5


async def test_new_sessions_are_limited_per_ip(serve: Callable[..., Any]) -> None:
    url, _ = await serve(RATE_LIMIT_SESSIONS="3/60")

    def sessions() -> list[dict[str, Any]]:
        eve = widget(url)
        got = [eve.request_session() for _ in range(5)]
        eve.close()
        return got

    got = await run(sessions)
    assert all(s.get("session_id") for s in got[:3])
    assert all(s.get("error") == "too_many_sessions" for s in got[3:])


# --- socket.io JWT: the logged-in user is bound to the session ---------------------------------


async def test_jwt_binds_the_user_to_the_session(serve: Callable[..., Any]) -> None:
    url, _agent = await serve(SOCKETIO_JWT_KEY="site-key")

    def token(user: str) -> str:
        return jwt.encode({"sub": user}, "site-key", algorithm="HS256")

    def attempts() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        ana = widget(url, auth={"token": f"Bearer {token('ana')}"})
        issued = ana.request_session()
        ana.say("hello")
        ana.close()
        ana_again = widget(url, auth={"token": token("ana")})
        resumed = ana_again.request_session(**issued)
        ana_again.close()
        eve = widget(url, auth={"token": token("eve")})  # another user with Ana's credential
        stolen = eve.request_session(**issued)
        eve.close()
        return issued, resumed, stolen

    issued, resumed, stolen = await run(attempts)
    assert resumed["session_id"] == issued["session_id"]
    assert stolen["session_id"] != issued["session_id"]
    with pytest.raises(socketio.exceptions.ConnectionError):
        await run(lambda: widget(url, auth={"token": "nonsense"}))


def test_rasas_own_rest_and_socketio_are_served_by_ours(tmp_path: Path) -> None:
    """A credentials.yml that still lists Rasa's `rest:` and `socketio:` gets our channels."""
    from bot.rasa_adapter.channels.rest import RestChannel
    from bot.rasa_adapter.channels.socketio import SocketIOChannel
    from bot.rasa_adapter.server import create_channels

    credentials = tmp_path / "credentials.yml"
    credentials.write_text("rest:\nsocketio:\n  session_persistence: true\n")
    rest, socket = create_channels(str(credentials), SecuritySettings(session_secret=SECRET))
    assert isinstance(rest, RestChannel) and isinstance(socket, SocketIOChannel)
    assert socket.session_persistence is True and socket.issuer is not None


# --- finding 7: staff reach Rasa's HTTP API with the token in a header --------------------------


async def test_the_http_api_takes_the_staff_token_in_a_header(serve: Callable[..., Any]) -> None:
    url, _ = await serve(RASA_API_ENABLED="true", RASA_TOKEN="staff-t0ken")
    status = f"{url}/conversations/rest%3Aana/tracker/events"
    body = {"event": "resume"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "staff-t0ken"}):
        assert (await post_json(status, body, headers))[0] == 401, headers
    assert (await post_json(f"{status}?token=wrong", body))[0] == 401
    accepted, _ = await post_json(status, body, {"Authorization": "Bearer staff-t0ken"})
    assert accepted != 401  # past authentication (the scripted agent has no tracker store)
