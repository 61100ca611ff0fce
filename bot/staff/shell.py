"""The staff test conversation in a terminal; several staff can use it at once.

`rasa shell` starts a whole Rasa server on port 5005 (clashing with the running bot and with a
colleague's shell) and shows intents only inside its debug log. This shell loads the model in its
own process, uses the tracker store and action server from endpoints.yml (the configuration the
server uses, so conversations land in the same database), gives each staff member their own
conversation id, and prints the intent and confidence of each message on request (`/intent`).

    python -m bot.staff.shell [--model models/x.tar.gz] [--show-intent]
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import re
import sys
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.rasa_adapter.channels.formatting import Button, resolve_reply

HELP = (
    "Type a message. /intent shows or hides intent and confidence, /restart starts over, "
    "/quit leaves."
)
PROMPT = "you> "


def latest_model(folder: Path = Path("models")) -> Path:
    models = sorted(folder.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    if not models:
        raise SystemExit("No trained model in models/: run `make train` first.")
    return models[-1]


def is_up(action_url: str) -> bool:
    health = re.sub(r"/webhook/?$", "", action_url) + "/health"
    try:
        with urllib.request.urlopen(health, timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def describe_parse(message: dict[str, Any]) -> str:
    """One line for staff: the intent, its confidence and the entities found."""
    intent = message.get("intent") or {}
    line = f"intent: {intent.get('name')} ({float(intent.get('confidence') or 0):.2f})"
    entities = [f"{e.get('entity')}={e.get('value')}" for e in message.get("entities") or []]
    return line + (f"  entities: {', '.join(entities)}" if entities else "")


def render(responses: list[dict[str, Any]]) -> tuple[str, list[Button]]:
    """The bot's turn as terminal text; buttons numbered so staff can answer "2"."""
    lines: list[str] = []
    buttons: list[Button] = []
    for response in responses:
        text = str(response.get("text") or "").strip()
        if text:
            first, *rest = text.splitlines()
            lines.append(f"bot> {first}")
            lines.extend(f"     {line}" for line in rest)
        if response.get("image"):
            lines.append(f"bot> [image] {response['image']}")
        for button in response.get("buttons") or []:
            buttons.append(Button.from_rasa(button))
            lines.append(f"     [{len(buttons)}] {buttons[-1].title}  ({buttons[-1].payload})")
    return "\n".join(lines) or "bot> (no answer)", buttons


class StaffShell:
    def __init__(self, agent: Any, sender_prefix: str, show_intent: bool = False) -> None:
        self.agent = agent
        self.sender_prefix = sender_prefix
        self.show_intent = show_intent
        self.sender_id = self.new_sender()
        self.buttons: list[Button] = []

    def new_sender(self) -> str:
        """`shell:<name>-<random>`: keyed like every conversation (bot.clinic.conversations),
        so staff tools tell a staff test from a client."""
        return f"shell:{self.sender_prefix}-{uuid.uuid4().hex[:6]}"

    async def turn(self, text: str) -> str:
        """Handle one line typed by staff; returns what to print."""
        command = text.strip().lower()
        if command == "/intent":
            self.show_intent = not self.show_intent
            return f"(intent display {'on' if self.show_intent else 'off'})"
        if command == "/restart":
            self.sender_id, self.buttons = self.new_sender(), []
            return f"(new conversation: {self.sender_id})"
        message = resolve_reply(text, self.buttons) or text
        self.buttons = []
        responses = await self.agent.handle_text(message, sender_id=self.sender_id)
        output, self.buttons = render(responses or [])
        if self.show_intent:
            tracker = await self.agent.tracker_store.retrieve(self.sender_id)
            if tracker is not None:
                output = f"  ({describe_parse(tracker.latest_message.parse_data)})\n{output}"
        return output


async def load(model: Path, endpoints_file: Path, action_url: str | None) -> Any:
    """The agent as the server builds it: same stores, action endpoint class and patches."""
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints

    from bot.rasa_adapter import patches, sessions
    from bot.rasa_adapter.action_endpoint import ActionEndpoint

    endpoints = AvailableEndpoints.read_endpoints(str(endpoints_file))
    if action_url:
        endpoints.action = ActionEndpoint(url=action_url)
    endpoints.action = ActionEndpoint.from_config(endpoints.action)
    patches.install(patches.PatchSettings(session_limit=sessions.limit_from_env()))
    return await load_agent(model_path=str(model), endpoints=endpoints)


async def repl(shell: StaffShell, read: Callable[[str], str] = input) -> None:
    print(f"Staff test shell. Conversation id: {shell.sender_id}")
    print(HELP, flush=True)
    while True:
        try:
            text = await asyncio.to_thread(read, PROMPT)
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if text.strip().lower() in {"/quit", "/exit", "/q"}:
            return
        if text.strip():
            print(await shell.turn(text), flush=True)


async def session(args: argparse.Namespace, action_url: str, sender_prefix: str) -> None:
    """Load and talk in one event loop: the agent's resources belong to the loop it loaded in."""
    print("Loading the model…", flush=True)
    agent = await load(args.model or latest_model(), args.endpoints, action_url)
    try:
        await repl(StaffShell(agent, sender_prefix, args.show_intent))
    finally:
        endpoint = getattr(agent, "action_endpoint", None)
        if endpoint is not None and hasattr(endpoint, "close"):
            await endpoint.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model archive (default: the newest)")
    parser.add_argument("--endpoints", type=Path, default=Path("endpoints.yml"))
    parser.add_argument("--action-url", help="action server webhook (default: endpoints.yml)")
    parser.add_argument("--show-intent", action="store_true", help="start with /intent on")
    parser.add_argument("--name", default=getpass.getuser(), help="prefix of conversation ids")
    args = parser.parse_args(argv)

    from bot.rasa_adapter.startup import prepare_process

    prepare_process()
    logging.basicConfig(level=logging.ERROR)
    from bot.rasa_adapter.serve import free_port, rasa_env, start_action_server, stop

    action_url = args.action_url
    started = None
    if action_url is None:
        from rasa.core.utils import AvailableEndpoints

        configured = AvailableEndpoints.read_endpoints(str(args.endpoints)).action
        action_url = configured.url if configured else None
    if action_url is None or not is_up(action_url):
        # No action server (the bot is not running): start one of our own on a free port, so
        # several staff can each have one without fighting over 5055.
        port = free_port()
        started = start_action_server(port, rasa_env())
        action_url = f"http://127.0.0.1:{port}/webhook"
    try:
        safe_name = re.sub(r"[^\w-]+", "", args.name) or "staff"
        asyncio.run(session(args, action_url, f"staff-{safe_name}"))
    finally:
        if started is not None:
            stop([started])
    return 0


if __name__ == "__main__":
    sys.exit(main())
