"""The production topology, run for real: Debian's nginx with deploy/nginx.conf (only its
`# site:` lines filled in) in front of two Rasa instances, the action server, the outbox worker,
PostgreSQL and Redis on loopback — deploy/docker-compose.yml without the containers.

The two Rasa instances are replicas of one service: the same port on two loopback addresses,
named `rasa` by a DNS server that stands in for Docker's. nginx starts while the name has one
address; the second is added later ("--scale rasa=2"), and the first is then stopped: the
widget's conversation carries on only if nginx found the new instance by itself.

Clients are told apart by the loopback address they connect from (127.0.0.x), and 127.0.0.9
plays a load balancer in front of nginx, the one address nginx.conf is told to trust.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from bot.rasa_adapter.serve import stop
from tests.support.bots import prepare_database
from tests.support.browser import CHROMIUM_ARGS, chromium_path, screenshot
from tests.support.deployments import Server, action_server, deployment_env, rasa_servers
from tests.support.services import TEST_REDIS_URL, fresh_postgres
from tests.support.topology import (
    DnsServer,
    Nginx,
    nginx,
    port_free_on,
    render_nginx_conf,
    request,
    wait_for,
)

pytestmark = [pytest.mark.services, pytest.mark.e2e, pytest.mark.browser]

INSTANCES = ("127.0.0.2", "127.0.0.3")
LOAD_BALANCER = "127.0.0.9"
API_TOKEN = "topology-test-token"
IP_LIMIT = 5
IP_WINDOW = 3600  # seconds: one window for the whole test (see `same_window`)
BOT = ".mb-msg.mb-bot"


@dataclass
class Site:
    nginx: Nginx
    dns: DnsServer
    rasa: list[Server]
    actions: Server
    outbox: subprocess.Popen
    redis_prefix: str
    tracker_url: str
    folder: Path

    def ip_counters(self) -> dict[str, int]:
        """The client addresses the bot counted (its per-IP limit, shared in Redis), with counts."""
        client = redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True)
        counted: dict[str, int] = {}
        for key in client.scan_iter(match=f"{self.redis_prefix}:ratelimit:ip:*"):
            address = key[len(f"{self.redis_prefix}:ratelimit:ip:") :].rsplit(":", 1)[0]
            counted[address] = counted.get(address, 0) + int(client.get(key) or 0)
        client.close()
        return counted

    def logs(self) -> str:
        parts = [f"--- nginx\n{self.nginx.log()[-3000:]}"]
        parts += [f"--- rasa {s.url}\n{s.tail(40)}" for s in self.rasa]
        parts.append(f"--- actions\n{self.actions.tail(20)}")
        return "\n".join(parts)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, model: Path) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("topology")
    prefix = f"test{uuid.uuid4().hex[:12]}"
    store = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        store.ping()
    except Exception as error:
        pytest.fail(f"Redis not reachable at {TEST_REDIS_URL}: {error}")
    with fresh_postgres() as database_url:
        prepare_database(database_url)  # `massagebot setup` / the migration Job
        env = deployment_env(
            database_url,
            TRACKER_STORE_URL=database_url,
            REDIS_URL=TEST_REDIS_URL,
            LOCK_STORE_KEY_PREFIX=prefix,
            TRUSTED_PROXIES="1",  # as compose sets it: nginx is the one proxy
            RATE_LIMIT_SENDER="1000/600",
            RATE_LIMIT_IP=f"{IP_LIMIT}/{IP_WINDOW}",
            # The messages clients send; the readiness polls below stay out of the count.
            RATE_LIMIT_IP_PATHS="/webhooks/rest/webhook",
            # The API is on, so that only nginx keeps it from the outside.
            RASA_API_ENABLED="true",
            RASA_TOKEN=API_TOKEN,
            SESSION_SECRET=uuid.uuid4().hex,
            SANIC_WORKERS="1",
        )
        port = port_free_on(INSTANCES)
        with (
            action_server(folder, env) as actions,
            rasa_servers(
                folder, model, actions.port, [env, env], hosts=INSTANCES, port=port
            ) as instances,
        ):
            outbox = subprocess.Popen(
                [sys.executable, "-m", "bot", "outbox", "deliver", "--loop", "--interval", "2"],
                env=env,
                stdout=(folder / "outbox.log").open("ab"),
                stderr=subprocess.STDOUT,
            )
            # "docker compose up" with one replica: nginx starts knowing one address.
            dns = DnsServer("rasa", [INSTANCES[0]]).start()
            listen = port_free_on(["127.0.0.1"])
            conf = render_nginx_conf(
                listen=f"127.0.0.1:{listen}",
                resolver=f"127.0.0.1:{dns.port}",
                trusted=[LOAD_BALANCER],
                rasa=f"rasa:{port}",
            )
            try:
                with nginx(folder / "nginx", conf, listen) as proxy:
                    yield Site(proxy, dns, instances, actions, outbox, prefix, database_url, folder)
            finally:
                dns.stop()
                stop([outbox])
                keys = list(store.scan_iter(match=f"{prefix}*"))
                if keys:
                    store.delete(*keys)
                store.close()


def say(site: Site, text: str, source: str, **headers: str) -> Any:
    return request(
        site.nginx.port,
        "POST",
        "/webhooks/rest/webhook",
        source=source,
        body={"sender": f"topology-{source}-{uuid.uuid4().hex[:6]}", "message": text},
        headers=headers,
    )


def same_window(check: Any) -> None:
    """Run a rate-limit check inside one counting window of the bot (a fixed window in Redis),
    again if the window turned over while it ran."""
    for _ in range(2):
        window = math.floor(time.time() / IP_WINDOW)
        try:
            check()
            return
        except AssertionError:
            if math.floor(time.time() / IP_WINDOW) == window:
                raise


def test_the_bot_sees_each_real_client_and_limits_it_alone(site: Site) -> None:
    # A client that claims to be someone else is counted as itself.
    spoofer = "127.0.0.5"
    reply = say(site, "what are your opening hours", spoofer, **{"X-Forwarded-For": "6.6.6.6"})
    assert reply.status == 200 and reply.json(), reply
    # A client behind the trusted load balancer is counted as the address the balancer reports;
    # an address it forwarded on the client's say-so is not.
    reply = say(site, "hello", LOAD_BALANCER, **{"X-Forwarded-For": "6.6.6.7, 203.0.113.7"})
    assert reply.status == 200, reply
    counted = site.ip_counters()
    assert counted.get(spoofer) == 1 and counted.get("203.0.113.7") == 1, counted
    assert not {"6.6.6.6", "6.6.6.7", LOAD_BALANCER} & set(counted), counted

    def limits() -> None:
        first, second = f"127.0.0.{20 + int(time.time()) % 100}", "127.0.0.200"
        for i in range(IP_LIMIT):
            assert say(site, f"hi ({i})", first).status == 200
        refused = say(site, "hi again", first)
        assert refused.status == 429 and refused.headers.get("Retry-After"), refused
        # A new address in its header doesn't give the same client a fresh allowance …
        dodge = say(site, "hi again", first, **{"X-Forwarded-For": "198.51.100.1"})
        assert dodge.status == 429, dodge
        # … and other clients have their own: nginx's address is no shared bucket.
        assert say(site, "hello", second).status == 200
        assert "198.51.100.1" not in site.ip_counters()

    same_window(limits)


def test_the_rasa_api_is_reachable_only_from_inside(site: Site) -> None:
    # On inside the network (staff tools, probes) …
    status = requests.get(f"{site.rasa[0].url}/status", params={"token": API_TOKEN}, timeout=10)
    assert status.status_code == 200, "the API should be on inside the network in this test"
    # … and none of it through nginx, token or not.
    for method, path in (
        ("GET", f"/status?token={API_TOKEN}"),
        ("GET", f"/version?token={API_TOKEN}"),
        ("GET", f"/conversations/someone/tracker?token={API_TOKEN}"),
        ("POST", f"/model/parse?token={API_TOKEN}"),
        ("POST", f"/conversations/someone/messages?token={API_TOKEN}"),
        ("GET", "/health"),
    ):
        body = {"text": "hello"} if method == "POST" else None
        outside = request(site.nginx.port, method, path, source="127.0.0.6", body=body)
        assert outside.status == 404, (method, path, outside.status)
    # What clients need does get through.
    assert request(site.nginx.port, "GET", "/webchat/widget.js").status == 200


def settle(page: Any, before: int, timeout: float = 60.0, quiet: float = 2.0) -> None:
    """Wait until the bot has answered (more bot messages than `before`) and gone quiet."""
    deadline = time.monotonic() + timeout
    last_count, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = page.locator(BOT).count()
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        elif count > before and time.monotonic() - last_change >= quiet:
            return
        time.sleep(0.2)
    raise AssertionError(f"the bot did not answer (bot messages: {last_count}, before: {before})")


def say_in_widget(page: Any, text: str) -> None:
    before = page.locator(BOT).count()
    page.get_by_label("Your message").fill(text)
    page.keyboard.press("Enter")
    settle(page, before)


def session_of(page: Any) -> str:
    return page.evaluate(
        """() => {
          const key = Object.keys(localStorage).find(k => k.endsWith(':session'));
          return key ? JSON.parse(localStorage.getItem(key)) : null;
        }"""
    )


def user_messages(tracker_url: str, session: str) -> list[str]:
    engine = create_engine(tracker_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT sender_id, type_name, data FROM events "
                    "WHERE sender_id LIKE :s AND type_name = 'user' ORDER BY id"
                ),
                {"s": f"%{session}%"},
            )
            return [json.loads(row.data).get("text") or "" for row in rows]
    finally:
        engine.dispose()


@pytest.fixture()
def page() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.fail("Chromium not found: run scripts/install-chromium.sh or set CHROMIUM_PATH")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(30_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.errors = errors  # type: ignore[attr-defined]
        yield page
        context.close()
        browser.close()


def test_the_widget_converses_and_survives_an_instance_stopping(site: Site, page: Any) -> None:
    sockets: list[str] = []  # every websocket the page opens
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.goto(site.nginx.url + "/webchat/")
    page.get_by_role("button", name="Chat with us").click()
    settle(page, 0)  # the greeting: socket.io through nginx, origin checked against the Host
    status = page.get_by_role("status").first
    expect(status).to_have_text("Connected")
    say_in_widget(page, "what are your opening hours?")
    log = page.get_by_role("log")
    expect(log.locator(BOT).last).not_to_be_empty()
    session = session_of(page)
    assert session, "the widget kept no session"
    screenshot(page, "topology-widget-before-failover")

    # "--scale rasa=2": the name gets its second address while nginx runs; then the instance
    # that holds the widget's websocket stops and its address goes, as Docker's DNS drops a
    # stopped container. nginx was started knowing only the first address.
    site.dns.addresses = list(INSTANCES)
    stopping, staying = site.rasa
    stopping.stop()
    site.dns.addresses = [INSTANCES[1]]
    opened = len(sockets)
    assert opened >= 1 and "/socket.io/" in sockets[0], sockets
    for _ in range(120):  # Playwright delivers the page's events while it is called
        if len(sockets) > opened:
            break
        page.wait_for_timeout(500)
    assert len(sockets) > opened, f"the widget did not reconnect:\n{site.logs()}"
    expect(status).to_have_text("Connected", timeout=60_000)
    before = page.locator(BOT).count()
    say_in_widget(page, "what do your massages cost?")
    replies = " ".join(page.locator(BOT).all_inner_texts()[before:])
    assert "£" in replies, replies  # answered by the instance still up (the price list)
    assert session_of(page) == session, "the widget was given a new conversation"
    screenshot(page, "topology-widget-after-failover")

    def stored_as_one() -> list[str]:
        messages = user_messages(site.tracker_url, session)
        return messages if "what do your massages cost?" in messages else []

    sent = wait_for(stored_as_one, 30, f"the conversation was not stored as one:\n{site.logs()}")
    assert "what are your opening hours?" in sent, sent
    assert staying.process.poll() is None
    assert not page.errors, page.errors
    # The rest of the site kept running all along.
    assert site.outbox.poll() is None, (site.folder / "outbox.log").read_text()
    assert site.actions.process.poll() is None
