"""The free-text conversation suite: clients' typed conversations against the real trained bot.

Each `tests/conversations/*.yml` file holds the conversations of one category. A conversation is
what a client types, turn by turn, and what the clinic expects the bot to say back: facts and
behaviour (the price, the phone number, the question that should come next), not exact wording,
so a friendlier rewording still passes but a wrong answer does not. The format is described in
tests/conversations/README.md.

How a run works:
- One bot is started for the whole run (`tests.conftest.start_bot`: Rasa and the action server on
  free loopback ports, a temporary database with the curated FAQ, the trained model in models/).
- The bot's clock is fixed: the action server reads the time from a file
  (`MASSAGEBOT_FAKE_NOW_FILE`, bot/clinic/clock.py), and the runner writes each conversation's
  `now` into it before the conversation starts, so "tomorrow at 2" is always the same day.
- Conversations run one after another, each with its own sender id. Before each one the bookings
  table is emptied (and the bookings a conversation lists under `given` are made), so every
  conversation sees the same free diary whichever others ran before it.
- A turn sends the typed text over the REST channel, or for `click:` the payload of the button
  with that title — only if the bot's previous reply showed it. The first failing turn ends the
  conversation (what follows would be testing a different conversation); the database checks
  run once every turn has passed.

Run it: `make conversations` (all), or
`uv run --frozen python -m tests.conversations.runner --category booking --id booking-2ish`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
import unicodedata
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
import yaml
from sqlalchemy import delete, select

from bot.clinic.booking.service import BookingService
from bot.clinic.clock import FAKE_NOW_FILE, parse_instant
from bot.clinic.db import session_scope
from bot.clinic.facts import Clinic, load_clinic
from bot.clinic.models import Booking, BookingSlot, HandoffRequest

SUITE = Path(__file__).resolve().parent
ROOT = SUITE.parent.parent
BOT_LOG = ROOT / "test-artifacts" / "conversations-bot.log"
DEFAULT_NOW = "2026-03-10T09:30:00+00:00"  # a Tuesday morning, clinic open (GMT, before BST)

# Never right in any reply: broken date wording, unfilled template placeholders, crash text.
ALWAYS_FORBIDDEN = (
    "on tomorrow",
    "on today",
    "what time on tomorrow",
    "what time on today",
    "open monday:",  # a list of days run into a sentence ("We're open Monday: 09:00–18:00 …")
    "traceback",
)
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
REFERENCE = re.compile(r"\bMB-[A-Z0-9]{6}\b")
VARIABLE = re.compile(r"\{(reference)\}")

CHECK_KEYS = {"booking", "bookings", "no_booking", "handoff", "no_handoff"}
TURN_KEYS = {"user", "click", "click_earlier", "must", "any_of", "must_not", "match", "buttons"}
TURN_KEYS |= {"silent", "note"}
CONVERSATION_KEYS = {"id", "category", "now", "given", "turns", "never", "about", *CHECK_KEYS}
# `phrases` holds YAML anchors for expectations the file's conversations share.
FILE_KEYS = {"category", "now", "never", "phrases", "conversations"}
BUTTON_KEYS = {"include", "exclude", "none", "some"}


class SuiteError(ValueError):
    """A conversation file that doesn't follow the format (a mistake in the test, not the bot)."""


# --- The suite's format --------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    text: str | None
    click: str | None
    stale: bool  # `click_earlier`: a button from an older reply, as an old widget still shows
    must: tuple[tuple[str, ...], ...]  # each group: at least one of its phrases appears
    must_not: tuple[str, ...]
    match: tuple[str, ...]  # regular expressions that must match
    buttons: dict[str, Any] | None
    silent: bool

    @property
    def said(self) -> str:
        return f'[clicks "{self.click}"]' if self.click is not None else str(self.text)


@dataclass(frozen=True)
class Conversation:
    id: str
    category: str
    now: str
    turns: tuple[Turn, ...]
    never: tuple[str, ...]
    given: tuple[dict[str, Any], ...]
    checks: dict[str, Any]
    file: str


def _phrases(value: Any, where: str) -> tuple[tuple[str, ...], ...]:
    """`must`: a list whose items are a phrase, or a list of alternative phrases (any one)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise SuiteError(f"{where}: `must` is a list of phrases")
    groups: list[tuple[str, ...]] = []
    for item in value:
        if isinstance(item, str):
            groups.append((item,))
        elif isinstance(item, dict) and set(item) == {"any_of"}:
            groups.append(tuple(map(str, item["any_of"])))
        elif isinstance(item, list) and item and all(isinstance(i, str) for i in item):
            groups.append(tuple(item))
        else:
            raise SuiteError(f"{where}: a `must` item is a phrase or a list of alternatives")
    return tuple(groups)


def _strings(value: Any, where: str, key: str) -> tuple[str, ...]:
    """A phrase or a list of phrases; nested lists (shared anchors) are flattened."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        raise SuiteError(f"{where}: `{key}` is a list of strings")
    flat: list[str] = []
    for item in value:
        if isinstance(item, list):
            flat.extend(_strings(item, where, key))
        elif isinstance(item, str):
            flat.append(item)
        else:
            raise SuiteError(f"{where}: `{key}` is a list of strings")
    return tuple(flat)


def parse_turn(raw: Any, where: str) -> Turn:
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: a turn is a mapping")
    unknown = set(raw) - TURN_KEYS
    if unknown:
        raise SuiteError(f"{where}: unknown keys {sorted(unknown)}")
    given = [key for key in ("user", "click", "click_earlier") if key in raw]
    if len(given) != 1:
        raise SuiteError(f"{where}: a turn has one of `user` (typed), `click`, `click_earlier`")
    click = raw.get("click", raw.get("click_earlier"))
    must = _phrases(raw.get("must"), where)
    if "any_of" in raw:
        must += (tuple(_strings(raw["any_of"], where, "any_of")),)
    buttons = raw.get("buttons")
    if buttons == "none":
        buttons = {"none": True}
    if buttons is not None and (not isinstance(buttons, dict) or set(buttons) - BUTTON_KEYS):
        raise SuiteError(f"{where}: `buttons` takes {sorted(BUTTON_KEYS)} or 'none'")
    turn = Turn(
        text=None if raw.get("user") is None else str(raw["user"]),
        click=None if click is None else str(click),
        stale="click_earlier" in raw,
        must=must,
        must_not=_strings(raw.get("must_not"), where, "must_not"),
        match=_strings(raw.get("match"), where, "match"),
        buttons=buttons,
        silent=bool(raw.get("silent", False)),
    )
    for pattern in turn.match:
        re.compile(pattern)
    if not (turn.must or turn.must_not or turn.match or turn.buttons or turn.silent):
        raise SuiteError(f"{where}: a turn needs at least one expectation")
    return turn


def load_file(path: Path) -> list[Conversation]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise SuiteError(f"{path.name}: {error}") from error
    unknown = set(data) - FILE_KEYS
    if unknown:
        raise SuiteError(f"{path.name}: unknown keys {sorted(unknown)}")
    category = data.get("category") or path.stem
    if category != path.stem:
        raise SuiteError(f"{path.name}: one file per category, named after it")
    file_now = str(data.get("now") or DEFAULT_NOW)
    file_never = _strings(data.get("never"), path.name, "never")
    conversations = []
    for index, raw in enumerate(data.get("conversations") or []):
        where = f"{path.name}#{index}"
        if not isinstance(raw, dict) or "id" not in raw:
            raise SuiteError(f"{where}: a conversation needs an `id`")
        where = f"{path.name}:{raw['id']}"
        unknown = set(raw) - CONVERSATION_KEYS
        if unknown:
            raise SuiteError(f"{where}: unknown keys {sorted(unknown)}")
        if raw.get("category", category) != category:
            raise SuiteError(f"{where}: category differs from its file's")
        now = str(raw.get("now") or file_now)
        parse_instant(now)
        turns = tuple(parse_turn(t, f"{where} turn {i + 1}") for i, t in enumerate(raw["turns"]))
        if not turns:
            raise SuiteError(f"{where}: no turns")
        given = raw.get("given") or {}
        conversations.append(
            Conversation(
                id=str(raw["id"]),
                category=category,
                now=now,
                turns=turns,
                never=file_never + _strings(raw.get("never"), where, "never"),
                given=tuple(given.get("bookings") or []),
                checks={k: raw[k] for k in CHECK_KEYS if k in raw},
                file=path.name,
            )
        )
    return conversations


def load_suite(folder: Path = SUITE) -> list[Conversation]:
    conversations = [c for path in sorted(folder.glob("*.yml")) for c in load_file(path)]
    seen: set[str] = set()
    for conversation in conversations:
        if conversation.id in seen:
            raise SuiteError(f"duplicate conversation id {conversation.id}")
        seen.add(conversation.id)
    return conversations


def select_conversations(
    conversations: Iterable[Conversation],
    categories: Sequence[str] = (),
    ids: Sequence[str] = (),
) -> list[Conversation]:
    """`--category` and `--id` filters; an id may end with * to take every id it starts."""
    chosen = []
    for conversation in conversations:
        if categories and conversation.category not in categories:
            continue
        if ids and not any(
            conversation.id == i or (i.endswith("*") and conversation.id.startswith(i[:-1]))
            for i in ids
        ):
            continue
        chosen.append(conversation)
    return chosen


# --- Checking replies -------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Lower case, one kind of apostrophe, dash and space: "O’Brien" matches "O'Brien"."""
    text = unicodedata.normalize("NFC", text)
    for fancy, plain in (("’‘`´", "'"), ("“”„", '"'), ("–—‒−", "-"), ("\u00a0\u202f\u2009", " ")):
        for char in fancy:
            text = text.replace(char, plain)
    return re.sub(r"\s+", " ", text).strip().lower()


def reply_text(replies: Sequence[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies if r.get("text"))


def reply_buttons(replies: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for r in replies for b in r.get("buttons") or [] if isinstance(b, dict)]


def describe_reply(replies: Sequence[dict[str, Any]]) -> str:
    if not replies:
        return "(nothing)"
    parts = []
    for reply in replies:
        if reply.get("text"):
            parts.append(str(reply["text"]))
        titles = [str(b.get("title")) for b in reply.get("buttons") or []]
        if titles:
            parts.append("[buttons: " + " | ".join(titles) + "]")
        for key in ("custom", "image", "attachment"):
            if reply.get(key):
                parts.append(f"[{key}: {json.dumps(reply[key], ensure_ascii=False)[:200]}]")
    return "\n".join(parts)


def find_button(replies: Sequence[dict[str, Any]], title: str) -> dict[str, Any] | None:
    """The button with this title (case-insensitive); a unique partial match also counts."""
    buttons = reply_buttons(replies)
    wanted = normalise(title)
    exact = [b for b in buttons if normalise(str(b.get("title", ""))) == wanted]
    if exact:
        return exact[0]
    partial = [b for b in buttons if wanted in normalise(str(b.get("title", "")))]
    return partial[0] if len(partial) == 1 else None


def check_reply(
    turn: Turn,
    replies: Sequence[dict[str, Any]],
    never: Sequence[str],
    variables: dict[str, str],
) -> list[str]:
    """What is wrong with the bot's reply to this turn (empty when it is right)."""
    problems: list[str] = []
    text = reply_text(replies)
    buttons = reply_buttons(replies)
    titles = [normalise(str(b.get("title", ""))) for b in buttons]
    # Buttons are part of what the bot says: a time offered as a button is offered.
    said = normalise(text + "\n" + "\n".join(titles))
    if turn.silent:
        if replies:
            problems.append("expected no reply (the conversation is with a person now)")
        return problems
    if not replies:
        return ["the bot said nothing"]
    for group in turn.must:
        options = [substitute(p, variables) for p in group]
        if not any(normalise(p) in said for p in options):
            problems.append(
                "missing: " + " or ".join(f'"{p}"' for p in options)
                if len(options) > 1
                else f'missing: "{options[0]}"'
            )
    for phrase in (*turn.must_not, *never, *ALWAYS_FORBIDDEN):
        if normalise(phrase) in said:
            problems.append(f'must not say: "{phrase}"')
    for pattern in turn.match:
        if not re.search(pattern, text, re.IGNORECASE):
            problems.append(f"no match for /{pattern}/")
    placeholder = PLACEHOLDER.search(text)
    if placeholder:
        problems.append(f"unfilled placeholder: {placeholder.group(0)}")
    rule = turn.buttons or {}
    if rule.get("none") and buttons:
        problems.append("expected no buttons")
    if rule.get("some") and not buttons:
        problems.append("expected buttons")
    for title in _strings(rule.get("include"), "buttons", "include"):
        if not any(normalise(title) in t for t in titles):
            problems.append(f'no button "{title}"')
    for title in _strings(rule.get("exclude"), "buttons", "exclude"):
        if any(normalise(title) in t for t in titles):
            problems.append(f'button "{title}" should not be offered')
    return problems


def substitute(text: str, variables: dict[str, str]) -> str:
    return VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(0)), text)


# --- The database: a clean diary per conversation, and the checks after it -------------------


def local_start(clinic: Clinic, text: str) -> datetime:
    """A time written without an offset ("2026-03-13T14:00") is clinic time."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clinic.timezone)
    return moment


def reset_diary(database_url: str) -> None:
    with session_scope(database_url) as session:
        session.execute(delete(BookingSlot))
        session.execute(delete(Booking))


def make_given_bookings(
    clinic: Clinic, database_url: str, now: datetime, bookings: Iterable[dict[str, Any]]
) -> None:
    """Bookings made before the conversation (by other clients, or by this client earlier)."""
    for given in bookings:
        service = BookingService(clinic, database_url, clock=lambda: now)
        if given.get("reference"):  # one the conversation can quote
            service.reference_factory = lambda r=str(given["reference"]): r
        outcome = service.create(
            str(given["service"]),
            local_start(clinic, str(given["start"])),
            str(given.get("name", "Given Client")),
            str(given.get("contact", "+447400000999")),
            str(given.get("note", "")),
            "conversation-suite-given",
        )
        if not outcome.ok:
            raise SuiteError(f"given booking {given} could not be made: {outcome.message}")


def _owned_by(conversation_id: str | None, sender: str) -> bool:
    return conversation_id is not None and (
        conversation_id == sender or conversation_id.endswith(":" + sender)
    )


def _booking_problems(clinic: Clinic, row: Booking | None, expected: dict[str, Any]) -> list[str]:
    """Compare a stored booking with the expected fields. Names and e-mail addresses compare
    without regard to case and apostrophe style; `status: live` means anything but cancelled;
    `note: null` means no note; `note_contains` looks for a phrase in the note; `mentioned` lists
    the health concerns (triage concept ids) the booking record shows staff."""
    if row is None:
        return [f"no booking found for {expected}"]
    actual = {
        "reference": row.reference,
        "service": row.service_id,
        "start": row.start_at.astimezone(clinic.timezone).strftime("%Y-%m-%dT%H:%M"),
        "name": row.client_name,
        "contact": row.contact,
        "note": row.note or None,
        "status": row.status,
    }
    loose = {"name", "contact"}
    problems = []
    for key, want in expected.items():
        if key == "note_contains":
            if not row.note or normalise(str(want)) not in normalise(row.note):
                problems.append(f"booking note {row.note!r} should mention {want!r}")
            continue
        if key == "mentioned":
            shown = sorted(str(c.get("concept")) for c in row.health_concerns or [])
            if shown != sorted(str(w) for w in want or []):
                problems.append(f"booking shows staff {shown}, expected {sorted(want or [])}")
            continue
        if key not in actual:
            problems.append(f"unknown booking field {key!r}")
            continue
        have = actual[key]
        if key == "status" and want == "live":
            ok = have != "cancelled"
        elif key in loose:
            ok = normalise(str(have)) == normalise(str(want))
        else:
            ok = have == want
        if not ok:
            problems.append(f"booking {key} is {have!r}, expected {want!r}")
    return problems


def check_database(
    clinic: Clinic, database_url: str, conversation: Conversation, sender: str
) -> list[str]:
    checks = conversation.checks
    with session_scope(database_url) as session:
        bookings = session.execute(select(Booking).order_by(Booking.id)).scalars().all()
        handoffs = session.execute(select(HandoffRequest)).scalars().all()
        own = [b for b in bookings if _owned_by(b.conversation_id, sender)]
        own_handoffs = [h for h in handoffs if _owned_by(h.conversation_id, sender)]
        problems: list[str] = []
        if checks.get("no_booking") and own:
            made = ", ".join(
                f"{b.reference} {b.service_id} {b.start_at:%Y-%m-%d %H:%M}" for b in own
            )
            problems.append(f"no booking expected, but the bot made one: {made}")
        expected_list = list(checks.get("bookings") or [])
        if "booking" in checks:
            expected_list.insert(0, checks["booking"])
        for expected in expected_list:
            expected = dict(expected)
            if "reference" in expected:
                row = next((b for b in bookings if b.reference == expected["reference"]), None)
            else:
                # The conversation's own booking; with several, the one matching the start.
                candidates = own
                if "start" in expected:
                    candidates = [
                        b
                        for b in own
                        if b.start_at.astimezone(clinic.timezone).strftime("%Y-%m-%dT%H:%M")
                        == expected["start"]
                    ] or own
                row = candidates[-1] if candidates else None
            problems += _booking_problems(clinic, row, expected)
        if "bookings" in checks and len(own) != len(checks["bookings"]):
            problems.append(f"expected {len(checks['bookings'])} bookings, found {len(own)}")
        handoff = checks.get("handoff")
        if handoff:
            if not own_handoffs:
                problems.append("expected a hand-off request for a person; none was recorded")
            elif isinstance(handoff, dict) and "contact" in handoff:
                contacts = [h.contact for h in own_handoffs]
                if str(handoff["contact"]).lower() not in [str(c).lower() for c in contacts]:
                    problems.append(f"hand-off contact {contacts}, expected {handoff['contact']!r}")
        if checks.get("no_handoff") and own_handoffs:
            problems.append("no hand-off expected, but one was recorded")
    return problems


# --- Running ------------------------------------------------------------------------------------


@dataclass
class TurnFailure:
    number: int
    said: str
    bot: str
    problems: list[str]


@dataclass
class Result:
    conversation: Conversation
    failure: TurnFailure | None = None
    database_problems: list[str] = field(default_factory=list)
    transcript: list[tuple[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failure is None and not self.database_problems


Sender = Callable[[str, str], list[dict[str, Any]]]


class SuiteRunner:
    """Runs conversations against one running bot whose clock reads `clock_file`."""

    def __init__(
        self,
        send: Sender,
        database_url: str,
        clock_file: Path,
        clinic: Clinic | None = None,
        run_tag: str | None = None,
    ) -> None:
        self.send = send
        self.database_url = database_url
        self.clock_file = clock_file
        self.clinic = clinic or load_clinic(ROOT / "data" / "clinic.yml")
        self.run_tag = run_tag or uuid.uuid4().hex[:6]

    def sender_for(self, conversation: Conversation) -> str:
        return f"conv-{self.run_tag}-{conversation.id}"[:56]

    def run(self, conversation: Conversation) -> Result:
        now = parse_instant(conversation.now)
        self.clock_file.write_text(conversation.now, encoding="utf-8")
        reset_diary(self.database_url)
        make_given_bookings(self.clinic, self.database_url, now, conversation.given)
        sender = self.sender_for(conversation)
        result = Result(conversation)
        previous: list[dict[str, Any]] = []
        shown: list[dict[str, Any]] = []  # every reply so far, for `click_earlier`
        variables: dict[str, str] = {}
        for number, turn in enumerate(conversation.turns, start=1):
            if turn.click is not None:
                button = find_button(shown if turn.stale else previous, turn.click)
                if button is None:
                    where = "no earlier reply" if turn.stale else "the previous reply"
                    result.failure = TurnFailure(
                        number,
                        turn.said,
                        describe_reply(previous),
                        [f'{where} showed a button "{turn.click}" to click'],
                    )
                    break
                message = str(button.get("payload") or button.get("title"))
            else:
                message = substitute(str(turn.text), variables)
                if VARIABLE.search(message):
                    result.failure = TurnFailure(
                        number, message, "", ["no booking reference was given earlier"]
                    )
                    break
            try:
                replies = self.send(message, sender)
            except requests.RequestException as error:
                result.failure = TurnFailure(number, turn.said, "", [f"request failed: {error}"])
                break
            said = turn.said if turn.click is not None else message
            result.transcript.append((said, describe_reply(replies)))
            problems = check_reply(turn, replies, conversation.never, variables)
            references = REFERENCE.findall(reply_text(replies))
            if references:
                variables["reference"] = references[-1]
            if problems:
                result.failure = TurnFailure(number, said, describe_reply(replies), problems)
                break
            previous = replies
            shown = [*shown, *replies]
        if result.failure is None and conversation.checks:
            result.database_problems = check_database(
                self.clinic, self.database_url, conversation, sender
            )
        return result

    def run_all(
        self,
        conversations: Sequence[Conversation],
        progress: Callable[[Result], None] | None = None,
    ) -> list[Result]:
        results = []
        for conversation in conversations:
            result = self.run(conversation)
            results.append(result)
            if progress:
                progress(result)
        return results


# --- Reporting ----------------------------------------------------------------------------------


def pass_rates(results: Sequence[Result]) -> OrderedDict[str, tuple[int, int]]:
    rates: OrderedDict[str, tuple[int, int]] = OrderedDict()
    for result in results:
        passed, total = rates.get(result.conversation.category, (0, 0))
        rates[result.conversation.category] = (passed + result.passed, total + 1)
    return rates


def indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in (text or "(nothing)").splitlines() or [""])


def report(results: Sequence[Result], seconds: float | None = None) -> str:
    lines: list[str] = []
    failures = [r for r in results if not r.passed]
    if failures:
        lines.append(f"Failing conversations ({len(failures)}):")
    for result in failures:
        conversation = result.conversation
        lines.append("")
        if result.failure is not None:
            failure = result.failure
            lines.append(
                f"FAIL {conversation.category}/{conversation.id} ({conversation.file}), "
                f"turn {failure.number} of {len(conversation.turns)}"
            )
            for said, bot in result.transcript[: failure.number - 1]:
                lines.append(indent(said, "    client: "))
                lines.append(indent(bot, "       bot: "))
            lines.append(indent(failure.said, "  > client: "))
            lines.append(indent(failure.bot, "  >    bot: "))
            for problem in failure.problems:
                lines.append(f"  ! {problem}")
        else:
            lines.append(
                f"FAIL {conversation.category}/{conversation.id} ({conversation.file}), "
                "after the conversation (database)"
            )
            for problem in result.database_problems:
                lines.append(f"  ! {problem}")
    lines.append("")
    lines.append("Pass rate per category:")
    rates = pass_rates(results)
    width = max([len(c) for c in rates] + [7])
    for category, (passed, total) in rates.items():
        lines.append(f"  {category:<{width}}  {passed:>3}/{total:<3}  {100 * passed / total:5.1f}%")
    passed = sum(r.passed for r in results)
    total = len(results)
    overall = 100 * passed / total if total else 0.0
    lines.append(f"  {'overall':<{width}}  {passed:>3}/{total:<3}  {overall:5.1f}%")
    if seconds is not None:
        lines.append(f"({total} conversations in {seconds:.0f} s)")
    return "\n".join(lines)


def as_json(results: Sequence[Result]) -> dict[str, Any]:
    return {
        "rates": {c: {"passed": p, "total": t} for c, (p, t) in pass_rates(results).items()},
        "conversations": [
            {
                "id": r.conversation.id,
                "category": r.conversation.category,
                "passed": r.passed,
                "failing_turn": r.failure.number if r.failure else None,
                "problems": (r.failure.problems if r.failure else []) + r.database_problems,
                "bot": r.failure.bot if r.failure else None,
            }
            for r in results
        ],
    }


@contextmanager
def output_of_children_to(log: Path) -> Iterator[None]:
    """Servers started inside write to `log` (they keep the descriptors they were started
    with), so the suite's report isn't buried under Rasa's logging."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    try:
        with log.open("ab") as file:
            os.dup2(file.fileno(), 1)
            os.dup2(file.fileno(), 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def run_suite(
    conversations: Sequence[Conversation],
    progress: Callable[[Result], None] | None = None,
    log: Path = BOT_LOG,
) -> list[Result]:
    """Start the trained bot with a fixed clock, run the conversations, stop the bot.

    The bot's own output goes to `log` (test-artifacts/, not committed)."""
    from tests.support.bots import send_rest, start_bot

    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    with tempfile.TemporaryDirectory(prefix="conversations-") as tmp, ExitStack() as stack:
        home = Path(tmp)
        clock_file = home / "now.txt"
        clock_file.write_text(DEFAULT_NOW, encoding="utf-8")
        try:
            with output_of_children_to(log):
                bot = stack.enter_context(
                    start_bot(home, extra_env={FAKE_NOW_FILE: str(clock_file)})
                )
        except Exception as error:
            raise RuntimeError(f"the bot did not start ({error}); its log: {log}") from error
        runner = SuiteRunner(
            lambda text, sender: send_rest(bot.url, text, sender), bot.database_url, clock_file
        )
        return runner.run_all(conversations, progress)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--category", action="append", default=[], help="only this category")
    parser.add_argument("--id", action="append", default=[], help="only this id (prefix*)")
    parser.add_argument("--list", action="store_true", help="list the conversations and stop")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    categories = [c for arg in args.category for c in arg.split(",") if c]
    ids = [i for arg in args.id for i in arg.split(",") if i]
    chosen = select_conversations(load_suite(), categories, ids)
    if not chosen:
        print("No conversation matches those filters.", file=sys.stderr)
        return 2
    if args.list:
        for conversation in chosen:
            print(f"{conversation.category:<20} {conversation.id}")
        return 0

    def progress(result: Result) -> None:
        print("." if result.passed else "F", end="", flush=True)

    started = time.monotonic()
    results = run_suite(chosen, progress)
    print()
    print(report(results, time.monotonic() - started))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(as_json(results), indent=2, ensure_ascii=False))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
