"""Fit one bot reply to one messaging channel, with no Rasa in sight.

Every platform has its own idea of a message: a length limit, native quick-reply buttons or none,
its own markup. These pure functions turn the bot's reply (markdown-ish text plus buttons) into
the list of messages a channel can actually deliver, and map a client's "2" back to the button it
stands for. The Rasa output channels in this package only call them, so the rules are tested here
once instead of once per platform.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Markup = Literal["markdown", "plain", "whatsapp", "slack"]


@dataclass(frozen=True)
class Button:
    """A choice offered to the client: the label shown and the payload sent back to Rasa."""

    title: str
    payload: str

    @classmethod
    def from_rasa(cls, button: Mapping[str, Any]) -> Button:
        title = str(button.get("title") or button.get("payload") or "")
        return cls(title=title, payload=str(button.get("payload") or title))


@dataclass(frozen=True)
class ChannelProfile:
    """What one channel can carry; limits come from each platform's API documentation."""

    name: str
    max_chars: int
    native_buttons: bool
    max_buttons: int = 0
    max_button_title: int = 0
    markup: Markup = "plain"


@dataclass(frozen=True)
class OutgoingMessage:
    """One platform message: its text and the native buttons to attach (never on SMS)."""

    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)


PROFILES: dict[str, ChannelProfile] = {
    # sendMessage text ≤ 4096; an inline keyboard takes up to 100 buttons.
    "telegram": ChannelProfile("telegram", 4096, True, 100, 64, "plain"),
    # A section block's text is capped at 3000 characters; an actions block at 25 elements,
    # and a button label at 75.
    "slack": ChannelProfile("slack", 3000, True, 25, 75, "slack"),
    # Send API text ≤ 2000; at most 13 quick replies, titles cut by Messenger at 20.
    "facebook": ChannelProfile("facebook", 2000, True, 13, 20, "plain"),
    # Twilio concatenates SMS up to a 1600-character body; there are no buttons.
    "sms": ChannelProfile("sms", 1600, False, markup="plain"),
    # WhatsApp through Twilio: the same body limit, free-form messages have no buttons,
    # but WhatsApp renders *bold*.
    "whatsapp": ChannelProfile("whatsapp", 1600, False, markup="whatsapp"),
}

NUMBERED_HINT = "Reply with the number of your choice."

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
# _italic_, but not the underscores inside snake_case or __dunder__ words.
_ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
_NUMBER_REPLY = re.compile(r"^\s*(?:(?:option|no\.?|number)\s*|#)?(\d{1,2})\s*[.)]?\s*$", re.I)


def utf16_len(text: str) -> int:
    """Length as Telegram, Messenger and Twilio count it: an emoji outside the BMP is two."""
    return len(text.encode("utf-16-le")) // 2


def render_markup(text: str, markup: Markup) -> str:
    """Convert the bot's markdown subset (bold, _italic_, links, bullets) for the channel.

    Answers are written once in light markdown for the website widget; printing `**` or
    `[label](url)` literally on a phone would look broken, so each channel gets its dialect.
    """
    if markup == "markdown":
        return text
    if markup == "slack":
        # Slack treats &, < and > as control characters in mrkdwn, so escape them first.
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", text)
        text = _BOLD.sub(lambda m: f"*{m.group(1)}*", text)
        return _BULLET.sub(r"\1• ", text)
    text = _LINK.sub(
        lambda m: m.group(2) if m.group(1) == m.group(2) else f"{m.group(1)} ({m.group(2)})", text
    )
    bold = "*{}*" if markup == "whatsapp" else "{}"
    text = _BOLD.sub(lambda m: bold.format(m.group(1)), text)
    if markup != "whatsapp":  # WhatsApp shows _italic_ itself
        text = _ITALIC.sub(r"\1", text)
    return _BULLET.sub(r"\1• ", text)


def _hard_cut(text: str, limit: int) -> int:
    """The largest prefix length (in code points) whose UTF-16 length fits the limit."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return max(index, 1)
    return len(text)


def split_text(text: str, limit: int) -> list[str]:
    """Split text into chunks of at most `limit` UTF-16 units, at the most natural boundary.

    Paragraphs are kept whole when possible, then lines, then sentences, then words; only a
    single unbroken run longer than the limit is cut mid-word. Small first chunks are avoided
    (a boundary in the first third is ignored) so a reply is not split into crumbs.
    """
    if limit <= 0:
        raise ValueError("limit must be positive")
    text = text.strip()
    chunks: list[str] = []
    while text:
        if utf16_len(text) <= limit:
            chunks.append(text)
            break
        window = text[: _hard_cut(text, limit)]
        cut = 0
        for separator, keep in (("\n\n", 0), ("\n", 0), (". ", 1), ("? ", 1), ("! ", 1), (" ", 0)):
            position = window.rfind(separator)
            if position > len(window) // 3:
                cut = position + keep
                break
        if cut == 0:
            cut = len(window)
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [chunk for chunk in chunks if chunk]


def numbered_options(buttons: Sequence[Button], hint: str = NUMBERED_HINT) -> str:
    """Buttons as a numbered list for channels without buttons: "1. Yes" / "2. No"."""
    lines = [f"{index}. {button.title}" for index, button in enumerate(buttons, start=1)]
    return "\n".join([*lines, hint] if hint else lines)


def _shorten(title: str, limit: int) -> str:
    if limit <= 0 or len(title) <= limit:
        return title
    return title[: limit - 1].rstrip() + "…"


def format_reply(
    text: str,
    buttons: Iterable[Button | Mapping[str, Any]] = (),
    profile: ChannelProfile | str = "sms",
    hint: str = NUMBERED_HINT,
) -> list[OutgoingMessage]:
    """Turn one bot reply into the messages a channel sends, buttons on the last one.

    Channels with native buttons get them (titles shortened to the platform limit, payloads
    untouched); when a reply offers more buttons than the channel allows, or the channel has
    none (SMS, WhatsApp), the choices become a numbered list that `resolve_reply` understands.
    """
    if isinstance(profile, str):
        profile = PROFILES[profile]
    choices = tuple(b if isinstance(b, Button) else Button.from_rasa(b) for b in buttons)
    body = render_markup(text or "", profile.markup)
    native = profile.native_buttons and 0 < len(choices) <= profile.max_buttons
    if choices and not native:
        options = numbered_options(choices, hint)
        body = f"{body}\n\n{options}" if body.strip() else options
    chunks = split_text(body, profile.max_chars)
    if not chunks and choices:
        # A platform message needs some text to hang buttons on.
        chunks = ["…"]
    messages = [OutgoingMessage(chunk) for chunk in chunks]
    if native and messages:
        shown = tuple(
            Button(_shorten(b.title, profile.max_button_title), b.payload) for b in choices
        )
        messages[-1] = OutgoingMessage(messages[-1].text, shown)
    return messages


def resolve_reply(text: str, options: Sequence[Button | Mapping[str, Any]]) -> str | None:
    """Map a client's answer to the payload of the option it picks, or None if it picks none.

    Accepts the option's number ("2", "2.", "#2", "option 2") or its exact title, ignoring case,
    so a client on SMS can answer numbered choices and a Telegram reply keyboard (which sends
    the title) lands on the same intent as a tap on an inline button.
    """
    choices = [b if isinstance(b, Button) else Button.from_rasa(b) for b in options]
    if not choices or not text:
        return None
    match = _NUMBER_REPLY.match(text)
    if match:
        index = int(match.group(1))
        return choices[index - 1].payload if 1 <= index <= len(choices) else None
    wanted = text.strip().casefold()
    for choice in choices:
        if choice.title.strip().casefold() == wanted:
            return choice.payload
    return None
