"""Slack: Rasa's Slack channel (which verifies Slack's request signature) with our replies.

We keep Rasa's webhook handling as it is, signature check included, and change only what is
sent: replies fitted by `format_reply` (mrkdwn, 3000-character sections, up to 25 buttons), an API
base URL that can be pointed elsewhere, and numbered answers mapped back to their buttons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.slack import SlackInput
from sanic import Blueprint

from bot.rasa_adapter.channels.base import (
    DisabledChannel,
    FormattedOutput,
    MessagingChannel,
    OptionMemory,
    PlatformApi,
    read_settings,
)
from bot.rasa_adapter.channels.formatting import PROFILES, OutgoingMessage

DEFAULT_API = "https://slack.com/api"


class SlackOutput(FormattedOutput):
    """Posts with chat.postMessage: a mrkdwn section plus an actions block for buttons."""

    @classmethod
    def name(cls) -> str:
        return "slack"

    def __init__(
        self,
        api: PlatformApi,
        token: str,
        channel: str | None,
        thread_id: str | None = None,
        memory: OptionMemory | None = None,
    ) -> None:
        super().__init__(PROFILES["slack"], memory)
        self.api = api
        self.token = token
        self.slack_channel = channel
        self.thread_id = thread_id

    async def post(self, payload: dict[str, Any]) -> Any:
        if self.thread_id:
            payload["thread_ts"] = self.thread_id
        return await self.api.call(
            "chat.postMessage",
            json=payload,
            headers={"Authorization": f"Bearer {self.token}"},
        )

    async def send_formatted(self, recipient_id: str, message: OutgoingMessage) -> None:
        payload: dict[str, Any] = {
            "channel": self.slack_channel or recipient_id,
            "text": message.text,
            "mrkdwn": True,
        }
        if message.buttons:
            payload["blocks"] = [
                {"type": "section", "text": {"type": "mrkdwn", "text": message.text}},
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": f"choice_{number}",
                            "text": {"type": "plain_text", "text": b.title},
                            "value": b.payload,
                        }
                        for number, b in enumerate(message.buttons, start=1)
                    ],
                },
            ]
        await self.post(payload)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        block = {"type": "image", "image_url": image, "alt_text": "image"}
        channel = self.slack_channel or self.platform(recipient_id)
        await self.post({"channel": channel, "text": image, "blocks": [block]})


class SlackChannel(SlackInput, MessagingChannel):
    """Slack Events API webhook at `/webhooks/slack/webhook`."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings, missing = read_settings(
            credentials,
            ["slack_token", "slack_signing_secret"],
            ["slack_channel", "api_base_url"],
        )
        if missing:
            return DisabledChannel(cls.name(), cls.name(), missing)
        credentials = credentials or {}
        options = {
            k: v
            for k, v in credentials.items()
            if k in ("use_threads", "conversation_granularity", "errors_ignore_retry")
        }
        return cls(
            slack_token=settings["slack_token"] or "",
            slack_channel=settings["slack_channel"],
            slack_signing_secret=settings["slack_signing_secret"] or "",
            api_base_url=settings["api_base_url"] or DEFAULT_API,
            # Rasa's from_credentials supplies these defaults; its __init__ does not.
            slack_retry_reason_header=credentials.get(
                "slack_retry_reason_header", "x-slack-retry-reason"
            ),
            slack_retry_number_header=credentials.get(
                "slack_retry_number_header", "x-slack-retry-num"
            ),
            **options,
        )

    def __init__(self, *args: Any, api_base_url: str = DEFAULT_API, **kwargs: Any) -> None:
        SlackInput.__init__(self, *args, **kwargs)
        MessagingChannel.__init__(self)
        self.api = PlatformApi(api_base_url)

    def get_output_channel(
        self, channel: str | None = None, thread_id: str | None = None
    ) -> OutputChannel:
        return SlackOutput(
            self.api, self.slack_token, channel or self.slack_channel, thread_id, self.memory
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def resolving(message: UserMessage) -> Any:
            message.sender_id = self.conversation(message.sender_id)
            message.text = await self.resolve_choice(message.sender_id, message.text or "")
            return await on_new_message(message)

        webhook = super().blueprint(resolving)
        self.watch_app(webhook)
        return webhook
