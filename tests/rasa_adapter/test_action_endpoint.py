"""The action endpoint keeps its connection, gives up after ACTION_TIMEOUT_SECONDS, stops
calling a failing action server for a while, and is otherwise Rasa's own endpoint."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, FollowupAction
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot.rasa_adapter.action_endpoint import (
    ActionEndpoint,
    ActionTimeout,
    CircuitBreaker,
    CircuitOpen,
)
from bot.rasa_adapter.resilience import ResilienceSettings, guard_action
from bot.rasa_adapter.server import read_endpoints
from bot.settings import ConfigError
from tests.conftest import free_port


@pytest.fixture()
async def action_server():
    """A webhook that answers like the action server and notes each call's connection."""
    peers: list[object] = []

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        if request.query.get("token") != "secret":
            return web.json_response({"error": "who are you"}, status=401)
        return web.json_response({"events": [], "responses": [{"text": "hi"}]})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/webhook", peers
    await runner.cleanup()


async def test_calls_share_one_connection_and_answer_as_rasas(action_server) -> None:
    url, peers = action_server
    rasas = EndpointConfig(url, token="secret")
    ours = ActionEndpoint.from_config(rasas)
    try:
        expected = await rasas.request(json={"next_action": "x"})
        for _ in range(3):
            assert await ours.request(json={"next_action": "x"}) == expected
        assert len(set(peers[1:])) == 1 and len(peers) == 4  # one connection, three calls
        with pytest.raises(ClientResponseError) as error:
            await ActionEndpoint(url).request(json={})  # errors as Rasa raises them
        assert error.value.status == 401
    finally:
        await ours.close()


def test_it_is_rasas_endpoint_with_the_same_settings(tmp_path) -> None:
    rasas = EndpointConfig(
        "http://a/webhook", params={"p": 1}, headers={"h": "v"}, token="t", cafile="ca.pem"
    )
    ours = ActionEndpoint.from_config(rasas)
    assert isinstance(ours, EndpointConfig) and ours == rasas
    assert (ours.cafile, ours.token_name, ours.kwargs) == ("ca.pem", "token", {})
    assert isinstance(ours.copy(), ActionEndpoint) and ours.copy() == ours
    assert ActionEndpoint.from_config(ours) is ours and ActionEndpoint.from_config(None) is None

    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text('action_endpoint:\n  url: "http://localhost:5055/webhook"\n')
    read = read_endpoints(str(endpoints))
    assert isinstance(read.action, ActionEndpoint) and read.action.url.endswith(":5055/webhook")


# --- timeout and circuit breaker ------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_failures_in_a_row_then_tries_once() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failures=3, reset_seconds=15, clock=clock)
    for _ in range(2):
        breaker.before_call()
        breaker.failed()
    breaker.before_call()
    breaker.succeeded()  # a success in between: the count starts again
    for _ in range(3):
        assert breaker.state == "closed"
        breaker.before_call()
        breaker.failed()
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen, match="in 15 s"):
        breaker.before_call()
    clock.now += 14.9
    with pytest.raises(CircuitOpen):
        breaker.before_call()

    clock.now += 0.1
    assert breaker.state == "half-open"
    breaker.before_call()  # the one trial call …
    with pytest.raises(CircuitOpen, match="after the trial"):
        breaker.before_call()  # … and nobody else while it runs
    breaker.failed()  # the trial failed: open for another 15 s
    assert breaker.state == "open"
    clock.now += 15
    breaker.before_call()
    breaker.abandoned()  # the trial was cancelled: it tells nothing, another may try
    breaker.before_call()
    breaker.succeeded()
    assert breaker.state == "closed" and breaker.failures == 0
    breaker.before_call()


def test_breaker_switched_off_never_opens() -> None:
    breaker = CircuitBreaker(failures=0, reset_seconds=15, clock=FakeClock())
    for _ in range(10):
        breaker.before_call()
        breaker.failed()
    assert breaker.state == "closed"


def test_settings_from_the_environment() -> None:
    assert ResilienceSettings.from_env({}) == ResilienceSettings(5.0, 3, 5.0, 64)
    custom = {
        "ACTION_TIMEOUT_SECONDS": "1.5",
        "ACTION_CIRCUIT_FAILURES": "0",
        "ACTION_CIRCUIT_RESET_SECONDS": "30",
        "MAX_MESSAGES_IN_FLIGHT": " 8 ",
    }
    assert ResilienceSettings.from_env(custom) == ResilienceSettings(1.5, 0, 30.0, 8)
    for name, value, message in [
        ("ACTION_TIMEOUT_SECONDS", "5s", "ACTION_TIMEOUT_SECONDS must be a number of seconds"),
        ("ACTION_TIMEOUT_SECONDS", "0", "ACTION_TIMEOUT_SECONDS must be more than 0"),
        ("ACTION_TIMEOUT_SECONDS", "nan", "ACTION_TIMEOUT_SECONDS must be a number"),
        ("ACTION_CIRCUIT_FAILURES", "2.5", "ACTION_CIRCUIT_FAILURES must be a whole number"),
        ("ACTION_CIRCUIT_FAILURES", "-1", "ACTION_CIRCUIT_FAILURES must be a whole number ≥ 0"),
        ("ACTION_CIRCUIT_RESET_SECONDS", "0", "ACTION_CIRCUIT_RESET_SECONDS must be more than 0"),
        ("MAX_MESSAGES_IN_FLIGHT", "many", "MAX_MESSAGES_IN_FLIGHT must be a whole number"),
    ]:
        with pytest.raises(ConfigError, match=message):
            ResilienceSettings.from_env({name: value})


def test_server_refuses_to_start_with_a_bad_setting(monkeypatch, capsys) -> None:
    from bot.rasa_adapter import server

    monkeypatch.setenv("ACTION_TIMEOUT_SECONDS", "soon")
    assert server.main([]) == 2
    assert "ACTION_TIMEOUT_SECONDS must be a number of seconds" in capsys.readouterr().err


@pytest.fixture()
async def stuck_action_server():
    """An action server whose `/webhook` never answers while `held` is set (like a process
    stopped with SIGSTOP), or answers with the status in `status`; counts its calls."""
    state: dict[str, object] = {"calls": 0, "status": 0}
    release = asyncio.Event()

    async def webhook(request: web.Request) -> web.Response:
        state["calls"] = int(state["calls"]) + 1  # type: ignore[call-overload]
        if state["status"]:
            return web.json_response({"error": "broken"}, status=int(state["status"]))  # type: ignore[call-overload]
        await release.wait()
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app, shutdown_timeout=0)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/webhook", state
    release.set()
    await runner.cleanup()


async def test_a_call_gives_up_after_the_timeout_and_the_client_gets_the_apology(
    stuck_action_server, monkeypatch
) -> None:
    url, state = stuck_action_server
    monkeypatch.setenv("ACTION_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("ACTION_CIRCUIT_FAILURES", "2")
    endpoint = ActionEndpoint.from_config(EndpointConfig(url))
    assert endpoint.timeout == 1
    clock = FakeClock()
    endpoint.breaker.clock = clock
    try:
        with pytest.raises(ActionTimeout, match="within 1 s"):
            await endpoint.request(json={}, timeout=300)  # Rasa's own 300 s is overridden

        # As Rasa runs a custom action, guarded by the server's patch: an apology, then listen.
        action = guard_action(RemoteAction("action_slow", endpoint), lambda: "Sorry! Call us.")
        tracker = DialogueStateTracker.from_events("client", [])
        events = await action.run(
            CollectingOutputChannel(),
            TemplatedNaturalLanguageGenerator({}),
            tracker,
            Domain.empty(),
        )
        assert [type(e) for e in events] == [BotUttered, FollowupAction]
        assert events[0].text == "Sorry! Call us." and events[1].action_name == "action_listen"
        assert state["calls"] == 2 and endpoint.breaker.state == "open"

        with pytest.raises(CircuitOpen):  # refused at once, the server is not even asked
            await endpoint.request(json={})
        assert state["calls"] == 2

        clock.now += 15  # half-open: one trial, which the server answers
        state["status"] = 400  # an answer, even a refusal, shows the server is back
        with pytest.raises(ClientResponseError):
            await endpoint.request(json={})
        assert state["calls"] == 3 and endpoint.breaker.state == "closed"
    finally:
        await endpoint.close()


async def test_server_errors_count_as_failures(stuck_action_server, monkeypatch) -> None:
    url, state = stuck_action_server
    monkeypatch.setenv("ACTION_CIRCUIT_FAILURES", "3")
    endpoint = ActionEndpoint(url)
    state["status"] = 502
    try:
        for _ in range(3):
            with pytest.raises(ClientResponseError):
                await endpoint.request(json={})
        with pytest.raises(CircuitOpen):
            await endpoint.request(json={})
        assert state["calls"] == 3
    finally:
        await endpoint.close()


async def test_connection_refused_counts_as_a_failure(monkeypatch) -> None:
    monkeypatch.setenv("ACTION_CIRCUIT_FAILURES", "1")
    endpoint = ActionEndpoint(f"http://127.0.0.1:{free_port()}/webhook")  # nobody listens
    try:
        with pytest.raises(aiohttp.ClientConnectorError):
            await endpoint.request(json={})
        with pytest.raises(CircuitOpen):
            await endpoint.request(json={})
        assert endpoint.copy().breaker is endpoint.breaker  # one action server, one breaker
    finally:
        await endpoint.close()
