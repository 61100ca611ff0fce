"""Conversation ids: one client, one conversation, keyed by the channel it came through.

Every conversation id is `<channel>:<the channel's own id for the client>`:

    webchat:3f9c…        the website widget (socket.io), an id the server issued
    rest:<sender>        the REST channel
    telegram:<chat id>   Telegram
    twilio:+4479…        SMS through Twilio
    whatsapp:+4479…      WhatsApp through Twilio (Twilio's own address format already)
    slack:<user id>      Slack
    facebook:<psid>      Messenger

Before, conversations were keyed by the sender id alone, so a REST call naming a widget session
(or a phone number) continued that client's conversation. With the channel in the key, no
channel can reach another channel's conversations whatever sender id it is sent.
"""

from __future__ import annotations

from collections.abc import Mapping

# Rasa's channel name → the prefix of its conversations.
PREFIXES: Mapping[str, str] = {
    "socketio": "webchat",
    "webchat": "webchat",
    "rest": "rest",
    "telegram": "telegram",
    "twilio": "twilio",
    "slack": "slack",
    "facebook": "facebook",
}
# Prefixes a channel may use besides its own: Twilio's WhatsApp addresses start "whatsapp:".
EXTRA_PREFIXES: Mapping[str, tuple[str, ...]] = {"twilio": ("whatsapp",)}
# `shell:` is the staff test shell's (bot.staff.shell), which talks to the model directly.
KNOWN_PREFIXES = frozenset(PREFIXES.values()) | {"whatsapp", "shell"}
# Room for a 128-character sender id and the longest prefix; the columns are this wide.
MAX_ID_CHARS = 160


def prefix_for(channel: str) -> str:
    """The conversation prefix of a channel; an unknown channel keys by its own name."""
    return PREFIXES.get(channel, channel)


def owned(channel: str, conversation_id: str) -> bool:
    """Is this id one of `channel`'s own conversations?"""
    head, sep, rest = conversation_id.partition(":")
    allowed = (prefix_for(channel), *EXTRA_PREFIXES.get(channel, ()))
    return bool(sep and rest) and head in allowed


def conversation_id(channel: str, sender: str) -> str:
    """The conversation a channel's client is in. Idempotent: an id the channel already keyed
    (e.g. Twilio's `whatsapp:+44…`) stays as it is; anything else gets the channel's prefix, so
    a REST sender `webchat:abc` becomes `rest:webchat:abc`, never the widget's conversation."""
    if owned(channel, sender):
        return sender
    return f"{prefix_for(channel)}:{sender}"


def platform_id(conversation_id: str, channel: str) -> str:
    """What the platform calls the client: the conversation id without the channel's prefix.

    WhatsApp keeps its `whatsapp:` prefix, which is part of Twilio's address."""
    head, sep, rest = conversation_id.partition(":")
    if sep and head == prefix_for(channel):
        return rest
    return conversation_id


def channel_of(conversation_id: str) -> str | None:
    """The prefix of a keyed conversation id, or None for an id from before channel keys."""
    head, sep, rest = conversation_id.partition(":")
    return head if sep and rest and head in KNOWN_PREFIXES else None


def legacy_key(sender: str, input_channel: str | None) -> str:
    """The keyed id of a conversation stored before ids carried their channel.

    `input_channel` is the channel the tracker's messages came through (Rasa stores it with
    every user message); a conversation that never had one (e.g. only a session start) is
    guessed from the id's shape: Twilio addresses and phone numbers are SMS, everything else
    the REST channel, which is what staff tools and scripts used."""
    if channel_of(sender):
        return sender
    if input_channel and input_channel in PREFIXES:
        return conversation_id(input_channel, sender)
    if sender.startswith("+") and sender[1:].isdigit():
        return conversation_id("twilio", sender)
    return conversation_id("rest", sender)
