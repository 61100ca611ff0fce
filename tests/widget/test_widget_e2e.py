"""The widget against the trained bot (Rasa + action server from tests/conftest.py).

The main flows run here, against the real answers and the real server (its guards, sessions and
origin checks): an FAQ question, a follow-up quick reply, a reload that resumes the session,
starting over, a booking, embedding on another site, and a copied session id. The stub-bot tests
next to this file are for the widget's own UI details only.
"""

from __future__ import annotations

import json
import re
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.browser import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

BOT = ".mb-msg.mb-bot"


def settle(page: Any, before: int, timeout: float = 60.0, quiet: float = 2.5) -> None:
    """Wait until the bot has answered (more bot messages than `before`) and gone quiet:
    Rasa sends a turn's messages one by one with no end marker."""
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


def say(page: Any, text: str, label: str = "Your message") -> None:
    before = page.locator(BOT).count()
    page.get_by_label(label).fill(text)
    page.keyboard.press("Enter")
    settle(page, before)


def click(page: Any, button: Any) -> None:
    before = page.locator(BOT).count()
    button.click()
    settle(page, before)


def open_chat(page: Any, url: str) -> None:
    page.goto(url + "/webchat/")
    page.get_by_role("button", name="Chat with us").click()
    settle(page, 0)  # the greeting
    expect(page.get_by_role("status").first).to_have_text("Connected")


def test_faq_quick_reply_and_reload(page: Any, bot_server: Any) -> None:
    open_chat(page, bot_server.url)
    say(page, "does back massage help with blood circulation?")
    log = page.get_by_role("log")
    expect(log).to_contain_text(re.compile("circulation|blood", re.I))
    disclaimer = log.locator(f"{BOT} em").filter(has_text=re.compile("not medical advice", re.I))
    expect(disclaimer.last).to_be_visible()  # _italic_ rendered, no stray underscores

    follow_up = log.locator(".mb-choice:enabled").last
    title = follow_up.inner_text().strip()
    click(page, follow_up)
    chosen = log.locator(".mb-choice.mb-chosen").last
    expect(chosen).to_have_attribute("aria-pressed", "true")
    expect(chosen).to_contain_text(title)
    expect(log.locator(".mb-user").last).to_have_text(f"You said:{title}")
    screenshot(page, "e2e-widget-faq")

    count = log.locator(".mb-msg").count()
    page.reload()
    log = page.get_by_role("log")
    expect(log.locator(".mb-msg")).to_have_count(count)
    expect(log.locator(".mb-choice.mb-chosen").last).to_contain_text(title)
    expect(page.get_by_role("status").first).to_have_text("Connected")
    say(page, "thank you")
    assert log.locator(".mb-msg").count() > count + 1


def test_complete_a_booking(page: Any, bot_server: Any) -> None:
    open_chat(page, bot_server.url)
    say(page, "I'd like to book a back massage")
    log = page.get_by_role("log")
    for _ in range(12):
        turn_text = log.locator(BOT).last.inner_text().lower()
        if "reference is" in turn_text:
            break
        buttons = log.locator(BOT).last.locator(".mb-choice:enabled")
        titles = [t.strip().lower() for t in buttons.all_inner_texts()]
        if "shall i book" in turn_text and "yes" in titles:
            click(page, buttons.nth(titles.index("yes")))
        elif "booking under" in turn_text:
            say(page, "Sarah Jones")
        elif "phone number or e-mail" in turn_text:
            say(page, "07911 123456")
        elif "therapist should know" in turn_text:
            if "nothing to add" in titles:
                click(page, buttons.nth(titles.index("nothing to add")))
            else:
                say(page, "nothing to add")
        elif titles:
            usable = [i for i, t in enumerate(titles) if "person" not in t]
            click(page, buttons.nth(usable[0] if usable else 0))
        else:
            say(page, "next Wednesday at 11am")
    expect(log.locator(BOT).last).to_contain_text("reference is")
    screenshot(page, "e2e-widget-booking")


def stored(page: Any, name: str) -> Any:
    return page.evaluate(
        """(name) => {
          const key = Object.keys(localStorage).find(k => k.endsWith(':' + name));
          return key ? JSON.parse(localStorage.getItem(key)) : null;
        }""",
        name,
    )


FIRST = "what are the benefits of massage for runners?"


def test_history_and_session_survive_reload(page: Any, bot_server: Any) -> None:
    open_chat(page, bot_server.url)
    say(page, FIRST)
    session, token = stored(page, "session"), stored(page, "session_token")
    assert session and token  # the server issued both; the widget keeps them
    page.reload()
    log = page.get_by_role("log")
    expect(log).to_contain_text(re.compile("benefit", re.I))
    expect(page.get_by_role("status").first).to_have_text("Connected")
    say(page, "how long is a session?")
    assert stored(page, "session") == session  # the same conversation, resumed with its token
    resumed = conversation_of(bot_server, "how long is a session?")
    assert resumed == conversation_of(bot_server, FIRST)


def conversation_of(bot: Any, words: str) -> set[str]:
    from tests.e2e.test_ownership import conversations_saying

    return conversations_saying(bot, words)


def test_start_over_begins_a_new_conversation(page: Any, bot_server: Any) -> None:
    open_chat(page, bot_server.url)
    say(page, "does massage help with sleep?")
    old = stored(page, "session")
    page.get_by_role("button", name="Start over").click()
    log = page.get_by_role("log")
    expect(log).not_to_contain_text(re.compile("sleep", re.I))
    settle(page, 0)  # the new greeting
    new = stored(page, "session")
    assert new and new != old
    say(page, "can I pay by card?")
    assert conversation_of(bot_server, "can I pay by card?").isdisjoint(
        conversation_of(bot_server, "does massage help with sleep?")
    )


def test_a_copied_session_id_gets_a_conversation_of_its_own(browser: Any, bot_server: Any) -> None:
    """Eve puts Ana's session id (from a staff notification, or Ana's screen) into her own
    browser's storage: her widget must start a fresh conversation and hear nothing of Ana's."""
    ana_context, eve_context = browser.new_context(), browser.new_context()
    try:
        ana = ana_context.new_page()
        open_chat(ana, bot_server.url)
        say(ana, "does massage help with headaches?")
        ana_session = stored(ana, "session")
        key = f"massagebot:{bot_server.url}:session"
        eve_context.add_init_script(
            f"localStorage.setItem({json.dumps(key)}, {json.dumps(json.dumps(ana_session))})"
        )
        eve = eve_context.new_page()
        open_chat(eve, bot_server.url)
        assert stored(eve, "session") != ana_session
        eve_log = eve.get_by_role("log")
        seen_by_eve = eve_log.locator(BOT).count()
        say(ana, "and with stress?")
        time.sleep(2)
        assert eve_log.locator(BOT).count() == seen_by_eve  # Ana's answers never reach Eve
        expect(eve_log).not_to_contain_text(re.compile("headache|stress", re.I))
        screenshot(eve, "e2e-widget-copied-session")
    finally:
        ana_context.close()
        eve_context.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def test_embedded_on_another_site_with_data_attributes(
    page: Any, bot_server: Any, tmp_path: Path
) -> None:
    """A clinic's own site (another origin, allowed by CORS_ORIGINS) embeds the widget."""
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Clínica</title>'
        "</head><body><main><h1>Clínica de masajes</h1></main>"
        f'<script src="{bot_server.url}/webchat/widget.js" data-server-url="{bot_server.url}" '
        'data-title="Chat de la clínica" data-primary-color="#ffd700" data-lang="es" '
        'data-start-open="true"></script></body></html>',
        encoding="utf-8",
    )
    port = int(bot_server.site_origin.rsplit(":", 1)[1])
    handler = partial(_QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.goto(f"{bot_server.site_origin}/index.html")
        dialog = page.get_by_role("dialog", name="Chat de la clínica")
        expect(dialog).to_be_visible()  # data-start-open
        settle(page, 0)  # the trained bot's greeting, over cross-origin socket.io
        expect(page.get_by_role("status").first).to_have_text("Conectado")
        say(page, "¿el masaje ayuda con el dolor de espalda?", label="Su mensaje")
        header = page.locator(".mb-header")
        expect(header).to_have_css("background-color", "rgb(255, 215, 0)")
        assert page.evaluate("typeof window.io") == "undefined"  # no global leaked to the host
        screenshot(page, "e2e-widget-embedded-es")
    finally:
        server.shutdown()
        server.server_close()
