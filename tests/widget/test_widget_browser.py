"""The widget's own UI in real headless Chromium, against the stub bot (our socket.io channel, a
scripted agent): markup, typing indicator, keyboard, phone layout, accessibility, reconnecting,
and the site's login token. The main flows run against the trained bot in test_widget_e2e.py."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from playwright.sync_api import expect

from bot.rasa_adapter.serve import free_port
from tests.support.browser import ACTIVE_ELEMENT, screenshot
from tests.support.scripted_app import CLEARED, WIDGET_CREDENTIALS, scripted_server_thread
from tests.support.servers import run_stub_bot

pytestmark = pytest.mark.browser

GREETING = "Hello! I answer questions about massage and back pain."


def widget(page: Any) -> Any:
    return page.locator("#massagebot-webchat")


def open_demo(page: Any, url: str) -> Any:
    page.goto(url + "/webchat/")
    page.get_by_role("button", name="Chat with us").click()
    log = page.get_by_role("log", name="Conversation")
    expect(log).to_contain_text(GREETING)
    expect(page.get_by_role("status").first).to_have_text("Connected")
    return log


def stored(page: Any, name: str) -> Any:
    return page.evaluate(
        """(name) => {
          const key = Object.keys(localStorage).find(k => k.endsWith(':' + name));
          return key ? JSON.parse(localStorage.getItem(key)) : null;
        }""",
        name,
    )


def received(bot_url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(bot_url + "/stub/received") as reply:
        return json.load(reply)


def test_faq_question_and_quick_reply(page: Any, stub_bot: Any) -> None:
    log = open_demo(page, stub_bot.url)
    # The quick reply: stays visible, marked as chosen, and its title is shown as the answer.
    choice = page.get_by_role("button", name="Book an appointment")
    choice.click()
    chosen = page.get_by_role("button", name="Book an appointment (your choice)")
    expect(chosen).to_have_attribute("aria-pressed", "true")
    expect(chosen).to_be_disabled()
    expect(page.get_by_role("button", name="Benefits of massage")).to_be_visible()
    expect(log.locator(".mb-user").last).to_have_text("You said:Book an appointment")
    expect(log).to_contain_text("Which day suits you?")
    assert {"text": "/schedule_appointment"}.items() <= received(stub_bot.url)[-1].items()

    page.get_by_label("Your message").fill("What are the benefits?")
    page.get_by_role("button", name="Send").click()
    expect(log.locator(".mb-user").last).to_have_text("You said:What are the benefits?")
    answer = log.locator(".mb-bot").filter(has_text="may help with")
    expect(answer.locator("strong")).to_have_text("Massage")
    expect(answer.locator("li")).to_have_text(["relaxation", "sleep", "muscle recovery"])
    link = log.get_by_role("link", name="our benefits page")
    expect(link).to_have_attribute("href", "https://example.org/benefits")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(log.locator(".mb-bot em")).to_have_text("General information, not medical advice.")
    screenshot(page, "widget-faq-and-quick-reply")
    assert not page.errors


def test_buttons_are_disabled_once_the_conversation_moves_on(page: Any, stub_bot: Any) -> None:
    # An old "Book an appointment" tapped three turns later would answer a question no longer
    # asked (the server ignores such a payload too): once the client writes, it is disabled.
    log = open_demo(page, stub_bot.url)
    book = page.get_by_role("button", name="Book an appointment")
    expect(book).to_be_enabled()
    page.get_by_label("Your message").fill("What are the benefits?")
    page.keyboard.press("Enter")
    expect(log.locator(".mb-user").last).to_have_text("You said:What are the benefits?")
    expect(book).to_be_disabled()
    expect(book).to_have_attribute("aria-pressed", "false")  # disabled, not chosen
    page.reload()  # the panel reopens as it was left, and the buttons stay disabled
    expect(page.get_by_role("log", name="Conversation")).to_contain_text("may help with")
    expect(page.get_by_role("button", name="Book an appointment")).to_be_disabled()
    assert not page.errors


def test_typing_indicator_shows_until_the_answer(page: Any, stub_bot: Any) -> None:
    open_demo(page, stub_bot.url)
    typing = page.locator(".mb-typing")
    page.get_by_label("Your message").fill("benefits please")
    page.keyboard.press("Enter")
    expect(typing).to_be_visible()
    expect(typing).to_contain_text("The assistant is typing")
    expect(page.get_by_role("log")).to_contain_text("may help with")
    expect(typing).to_be_hidden()


def test_script_in_a_message_is_shown_as_text(page: Any, stub_bot: Any) -> None:
    log = open_demo(page, stub_bot.url)
    attack = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    attack_link = "[click](javascript:window.__xss=3)"
    page.get_by_label("Your message").fill(f"{attack} {attack_link}")
    page.keyboard.press("Enter")
    echo = log.locator(".mb-bot").filter(has_text="You wrote:")
    expect(echo).to_contain_text("<script>window.__xss=2</script>")
    expect(log.locator(".mb-user").last).to_contain_text('<img src=x onerror="window.__xss=1">')
    # Nothing was parsed as markup: no element from the message, no javascript: link.
    assert log.locator("img, script").count() == 0
    expect(echo.get_by_text("click")).to_be_visible()
    assert echo.locator("a").count() == 0
    page.click("body")
    assert page.evaluate("window.__xss") is None
    screenshot(page, "widget-xss-attempt")
    assert not page.errors


def test_keyboard_only(page: Any, stub_bot: Any) -> None:
    page.goto(stub_bot.url + "/webchat/")
    page.keyboard.press("Tab")  # the widget is the only focusable thing on the demo page
    assert page.evaluate(ACTIVE_ELEMENT)["cls"] == "mb-launcher"
    page.keyboard.press("Enter")
    assert page.evaluate(ACTIVE_ELEMENT)["cls"] == "mb-input"  # focus moves into the chat
    log = page.get_by_role("log")
    expect(log).to_contain_text(GREETING)

    # Tab backwards from the input through the log's buttons to a quick reply.
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if page.evaluate(ACTIVE_ELEMENT)["text"] == "Book an appointment":
            break
    else:
        pytest.fail("could not reach the quick reply with the keyboard")
    page.keyboard.press("Enter")
    expect(log).to_contain_text("Which day suits you?")
    assert page.evaluate(ACTIVE_ELEMENT)["cls"] == "mb-input"  # back to typing

    page.keyboard.type("hello there")
    page.keyboard.press("Enter")
    expect(log).to_contain_text("You wrote: hello there")

    page.keyboard.press("Escape")
    expect(page.locator(".mb-panel")).to_be_hidden()
    assert page.evaluate(ACTIVE_ELEMENT)["cls"] == "mb-launcher"
    screenshot(page, "widget-keyboard-closed")
    page.keyboard.press("Space")
    expect(page.locator(".mb-panel")).to_be_visible()
    assert page.evaluate(ACTIVE_ELEMENT)["cls"] == "mb-input"


def test_phone_viewport_is_full_screen(browser: Any, stub_bot: Any) -> None:
    context = browser.new_context(
        viewport={"width": 375, "height": 667},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    try:
        page = context.new_page()
        open_demo(page, stub_bot.url)
        box = page.locator(".mb-panel").bounding_box()
        assert box == {"x": 0, "y": 0, "width": 375, "height": 667}
        page.get_by_role("button", name="Benefits of massage").tap()
        expect(page.get_by_role("log")).to_contain_text("may help with")
        input_box = page.get_by_label("Your message").bounding_box()
        assert input_box["y"] + input_box["height"] <= 667  # the input stays on screen
        screenshot(page, "widget-phone")
    finally:
        context.close()


def test_axe_finds_no_serious_violations(page: Any, stub_bot: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    log = open_demo(page, stub_bot.url)
    page.get_by_role("button", name="Benefits of massage").click()
    expect(log).to_contain_text("may help with")
    page.get_by_label("Your message").fill("hello there")
    page.keyboard.press("Enter")
    expect(log).to_contain_text("You wrote: hello there")
    axe = Axe()
    results = axe.run(page)
    # axe reaches into the open shadow root; make sure the widget was really checked.
    checked = page.evaluate(
        "() => document.getElementById('massagebot-webchat')"
        ".shadowRoot.querySelectorAll('button').length"
    )
    assert checked >= 5
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert bad == [], results.generate_report()
    # The closed state too (launcher only).
    page.keyboard.press("Escape")
    closed = axe.run(page).response["violations"]
    assert [v["id"] for v in closed if v["impact"] in {"serious", "critical"}] == []


def test_reconnects_after_the_server_drops(page: Any, fake_platforms: Any, tmp_path: Path) -> None:
    port = free_port()
    with run_stub_bot(fake_platforms.url, tmp_path / "first.log", port=port) as bot:
        log = open_demo(page, bot.url)
        session = stored(page, "session")
    # The server is gone: the widget says so, and keeps what the visitor types.
    status = page.get_by_role("status").first
    expect(status).to_have_text("Connection lost. Reconnecting…")
    expect(status).to_have_attribute("data-state", "offline")
    page.get_by_label("Your message").fill("benefits while offline")
    page.keyboard.press("Enter")
    expect(log.locator(".mb-pending")).to_have_count(1)
    screenshot(page, "widget-offline")
    with run_stub_bot(fake_platforms.url, tmp_path / "second.log", port=port) as bot:
        expect(status).to_have_text("Connected", timeout=20_000)
        expect(log).to_contain_text("may help with")  # the queued message went out
        expect(log.locator(".mb-pending")).to_have_count(0)
        assert received(bot.url)[-1]["sender_id"] == f"webchat:{session}"  # resumed


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def jwt_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any, Path]]:
    """A bot that requires the site's login token (SOCKETIO_JWT_KEY), and a folder served as the
    clinic's site: (bot URL, scripted agent, site folder); the site's URL is `site_url`."""
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    env = {"SOCKETIO_JWT_KEY": "site-key", "CORS_ORIGINS": "*", "SESSION_SECRET": "s" * 32}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "bot").mkdir()
    (tmp_path / "site").mkdir()
    credentials = WIDGET_CREDENTIALS + "bot.rasa_adapter.channels.webchat.WebchatInput:\n"
    with scripted_server_thread(tmp_path / "bot", env, credentials) as (url, agent):
        yield url, agent, tmp_path / "site"


def site_url(folder: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def site_page(folder: Path, bot_url: str, head: str = "", attributes: str = "") -> None:
    (folder / "index.html").write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Clinic</title>{head}'
        "</head><body><main><h1>My account</h1></main>"
        f'<script src="{bot_url}/webchat/widget.js" data-server-url="{bot_url}" '
        f'data-start-open="true" data-initial-payload="" {attributes}></script></body></html>',
        encoding="utf-8",
    )


@pytest.mark.parametrize("how", ["data attribute", "script hook"])
def test_a_logged_in_sites_token_reaches_the_bot(
    page: Any, jwt_site: tuple[str, Any, Path], how: str
) -> None:
    bot_url, agent, folder = jwt_site
    token = jwt.encode({"sub": "client-42"}, "site-key", algorithm="HS256")
    if how == "data attribute":
        site_page(folder, bot_url, attributes=f'data-auth-token="{token}"')
    else:  # the site's own script hands the widget a fresh token on every connection
        hook = f"<script>window.MassageBotWidgetAuth = () => Promise.resolve('{token}');</script>"
        site_page(folder, bot_url, head=hook)
    for url in site_url(folder):
        page.goto(url + "/index.html")
        expect(page.get_by_role("status").first).to_have_text("Connected")
        page.get_by_label("Your message").fill("hello there")
        page.keyboard.press("Enter")
        expect(page.get_by_role("log")).to_contain_text("echo: hello there")
    assert [s.sender_id.startswith("webchat:") for s in agent.seen] == [True]


def test_without_the_sites_token_the_widget_cannot_connect(
    page: Any, jwt_site: tuple[str, Any, Path]
) -> None:
    bot_url, agent, folder = jwt_site
    site_page(folder, bot_url, attributes='data-auth-token="not-a-token"')
    for url in site_url(folder):
        page.goto(url + "/index.html")
        status = page.get_by_role("status").first
        expect(status).to_have_attribute("data-state", "offline")
        page.get_by_label("Your message").fill("hello there")
        page.keyboard.press("Enter")
        expect(page.locator(".mb-pending")).to_have_count(1)
    assert agent.seen == []


def test_widget_script_never_parses_html() -> None:
    """A static guard next to the XSS test: no HTML-parsing sink in the widget's code."""
    source = (
        Path(__file__).resolve().parents[2]
        / "bot"
        / "rasa_adapter"
        / "channels"
        / "widget"
        / "widget.js"
    ).read_text()
    code = "\n".join(
        line for line in source.splitlines() if not line.strip().startswith(("*", "/*", "//"))
    )
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "createContextualFragment",
    ):
        assert sink not in code, sink
