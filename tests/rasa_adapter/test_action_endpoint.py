"""The action endpoint keeps its connection, and is otherwise Rasa's own endpoint."""

from __future__ import annotations

import pytest
from aiohttp import web
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot.rasa_adapter.action_endpoint import ActionEndpoint
from bot.rasa_adapter.server import read_endpoints
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
