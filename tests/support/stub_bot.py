"""A fast stand-in for the Rasa server: the real channels, a scripted agent instead of a model.

It registers the channels from a credentials file exactly as `rasa run` does (Rasa's socketio
channel, our webchat and messaging channels) on a Sanic app whose agent answers from a script.
Widget and webhook tests run against it in seconds; the e2e tests use the trained bot instead.

Run: python tests/support/stub_bot.py --port 5999 --credentials credentials.yml
`GET /stub/received` lists what the agent was sent (text, sender, channel).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from rasa.core.channels.channel import UserMessage, register
from rasa.core.run import create_http_input_channels
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

GREETING = "Hello! I answer questions about massage and back pain."
MENU = [
    {"title": "Benefits of massage", "payload": "/ask_benefits"},
    {"title": "Book an appointment", "payload": "/schedule_appointment"},
]
BENEFITS = (
    "**Massage** may help with:\n- relaxation\n- sleep\n- muscle recovery\n\n"
    "More on [our benefits page](https://example.org/benefits).\n_General information, "
    "not medical advice._"
)
DAYS = [
    {"title": "Monday", "payload": '/inform{"day": "monday"}'},
    {"title": "Friday", "payload": '/inform{"day": "friday"}'},
]


class StubAgent:
    """Answers like the clinic bot would, without a model: enough to exercise every channel."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def handle_message(self, message: UserMessage) -> None:
        text = message.text or ""
        self.received.append(
            {"text": text, "sender_id": message.sender_id, "channel": message.input_channel}
        )
        out = message.output_channel
        sender = message.sender_id
        await asyncio.sleep(0.4)  # long enough for the typing indicator to be seen
        lowered = text.lower()
        if text == "/greet" or lowered in {"hi", "hello"}:
            await out.send_response(sender, {"text": GREETING, "buttons": MENU})
        elif text == "/ask_benefits" or "benefit" in lowered:
            await out.send_response(sender, {"text": BENEFITS})
        elif text == "/schedule_appointment" or "book" in lowered:
            await out.send_response(sender, {"text": "Which day suits you?", "buttons": DAYS})
        elif text.startswith("/inform"):
            await out.send_response(sender, {"text": "Booked. See you then!"})
        elif "long answer" in lowered:
            await out.send_response(sender, {"text": "Massage is good for you. " * 400})
        else:
            # Echoes the client's words, so an injection attempt comes back in a bot message too.
            await out.send_response(sender, {"text": f"You wrote: {text}"})


def create_app(credentials: str) -> Sanic:
    app = Sanic("stub_bot")
    agent = StubAgent()
    app.ctx.agent = agent
    register(create_http_input_channels(None, credentials), app, route="/webhooks/")

    @app.get("/stub/received")
    async def received(_: Request) -> HTTPResponse:
        return response.json(agent.received)

    @app.get("/")
    async def health(_: Request) -> HTTPResponse:
        return response.text("stub bot")

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--credentials", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    create_app(args.credentials).run(host="127.0.0.1", port=args.port, access_log=False, motd=False)


if __name__ == "__main__":
    main()
