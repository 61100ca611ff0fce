"""The curated FAQ: staff edit YAML, the import checks every entry, the bot answers from SQL.

The bot never writes its own health claims: every answer it gives comes from an entry a person
wrote and imported, and health answers always end with the clinic's disclaimer.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.clinic.db import session_scope
from bot.clinic.facts import Clinic
from bot.clinic.models import FaqEntry, UnansweredQuestion, utcnow
from bot.clinic.questions import Question
from bot.clinic.topics import ANY_VALUE, ENTITY_VALUES, FAQ_TOPICS

PLACEHOLDERS = frozenset(
    {
        "clinic_name",
        "phone",
        "email",
        "website",
        "address",
        "parking",
        "opening_hours",
        "prices",
        "session_lengths",
        "payment_methods",
        "access",
        "day_hours",
        "service_prices",
    }
)
# Placeholders that fill several lines (a list): each must stand alone on its line.
LIST_PLACEHOLDERS = frozenset({"opening_hours", "prices"})
# Placeholders filled from the value asked about, usable only in an entry for any value (`*`)
# of that entity.
VALUE_PLACEHOLDERS = {"day_hours": "weekday", "service_prices": "massage_type"}
# Entities whose entries may answer any value (`value: "*"`), with the placeholders above.
ANY_VALUE_ENTITIES = frozenset(VALUE_PLACEHOLDERS.values())
MAX_TITLE = 40
_ID_CHARS = frozenset(string.ascii_lowercase + string.digits + "-")


@dataclass(frozen=True)
class FaqItem:
    id: str
    intent: str
    title: str
    answer: str
    source: str
    health_advice: bool
    follow_ups: tuple[str, ...] = ()
    entity: str | None = None
    value: str | None = None

    def to_yaml(self) -> dict[str, Any]:
        data = asdict(self)
        data["follow_ups"] = list(self.follow_ups)
        if self.entity is None:
            del data["entity"], data["value"]
        if ", " in self.source:
            data["source"] = self.source.split(", ")
        order = ("id", "intent", "entity", "value", "title", "answer", "follow_ups", "source")
        return {key: data[key] for key in (*order, "health_advice") if key in data}


@dataclass(frozen=True)
class FaqProblem:
    file: str
    entry: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: entry {self.entry}: {self.message}"


class FaqImportError(ValueError):
    """Raised with every problem found, so staff can fix the file in one go."""

    def __init__(self, problems: Sequence[FaqProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Answer:
    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    entry_id: str | None = None
    # What it answered: the entry's intent and, for a specific entry, the sub-topic value.
    intent: str | None = None
    entity: str | None = None
    value: str | None = None


def _placeholders_in(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def parse_faq(text: str, file: str = "faq.yml") -> list[FaqItem]:
    """Parse and check a whole FAQ file; raise `FaqImportError` listing every problem."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "?"
        raise FaqImportError([FaqProblem(file, where, f"not valid YAML: {error}")]) from error
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        raise FaqImportError([FaqProblem(file, "-", "expected a mapping with a list 'entries'")])

    problems: list[FaqProblem] = []
    items: list[FaqItem] = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(document["entries"], start=1):
        name = f"#{position}"
        if not isinstance(raw, dict):
            problems.append(FaqProblem(file, name, "is not a mapping of keys"))
            continue
        entry_id = str(raw.get("id") or "").strip()
        name = f"#{position} ({entry_id})" if entry_id else name

        def problem(message: str, name: str = name) -> None:
            problems.append(FaqProblem(file, name, message))

        if not entry_id:
            problem("missing 'id'")
        elif not set(entry_id) <= _ID_CHARS:
            problem("'id' may use only lower-case letters, digits and '-'")
        elif entry_id in seen:
            problem(f"duplicate id '{entry_id}' (first used by entry #{seen[entry_id]})")
        else:
            seen[entry_id] = position
        unknown = set(raw) - {
            "id", "intent", "entity", "value", "title", "answer",
            "follow_ups", "source", "health_advice",
        }  # fmt: skip
        if unknown:
            problem(f"unknown keys: {', '.join(sorted(unknown))}")
        intent = raw.get("intent")
        if intent not in FAQ_TOPICS:
            problem(f"unknown intent '{intent}' (known: {', '.join(FAQ_TOPICS)})")
        entity, value = raw.get("entity"), raw.get("value")
        if (entity is None) != (value is None):
            problem("'entity' and 'value' go together: give both or neither")
        elif entity is not None and entity not in ENTITY_VALUES:
            problem(f"unknown entity '{entity}' (known: {', '.join(ENTITY_VALUES)})")
        elif value == ANY_VALUE and entity not in ANY_VALUE_ENTITIES:
            problem(f"'value: {ANY_VALUE}' is only for {', '.join(sorted(ANY_VALUE_ENTITIES))}")
        elif entity is not None and value != ANY_VALUE and str(value) not in ENTITY_VALUES[entity]:
            known = ", ".join(sorted(ENTITY_VALUES[entity]))
            problem(f"unknown {entity} value '{value}' (known: {known})")
        answer = raw.get("answer")
        if not isinstance(answer, str) or not answer.strip():
            problem("missing 'answer'")
        else:
            try:
                unknown_names = _placeholders_in(answer) - PLACEHOLDERS
            except ValueError as error:
                problem(f"answer has a broken {{placeholder}}: {error}")
            else:
                if unknown_names:
                    problem(
                        f"unknown placeholder(s) {', '.join(sorted(unknown_names))} "
                        f"(known: {', '.join(sorted(PLACEHOLDERS))})"
                    )
                for line in answer.splitlines():
                    for name in _placeholders_in(line) & LIST_PLACEHOLDERS:
                        if line.strip() != f"{{{name}}}":
                            problem(
                                f"{{{name}}} is a list: put it on a line of its own, after a "
                                "line that introduces it"
                            )
                for name in _placeholders_in(answer) & set(VALUE_PLACEHOLDERS):
                    if (entity, value) != (VALUE_PLACEHOLDERS[name], ANY_VALUE):
                        problem(
                            f"{{{name}}} needs 'entity: {VALUE_PLACEHOLDERS[name]}' and "
                            f"'value: \"{ANY_VALUE}\"'"
                        )
        title = raw.get("title")
        if not isinstance(title, str) or not title.strip():
            problem("missing 'title'")
        elif len(title) > MAX_TITLE:
            problem(f"'title' is longer than {MAX_TITLE} characters (it is a button label)")
        follow_ups = raw.get("follow_ups") or []
        if not isinstance(follow_ups, list) or not 1 <= len(follow_ups) <= 3:
            problem("'follow_ups' must list 1 to 3 entry ids")
            follow_ups = []
        # One source, or a list when an answer draws on several (an article and a health page).
        source = raw.get("source")
        if isinstance(source, list) and source and all(isinstance(s, str) for s in source):
            source = ", ".join(s.strip() for s in source)
        if not isinstance(source, str) or not source.strip():
            problem("missing 'source' (a source document's name, or 'clinic')")
        health_advice = raw.get("health_advice")
        if not isinstance(health_advice, bool):
            problem("'health_advice' must be true or false")
        if problems and problems[-1].entry == name:
            continue
        items.append(
            FaqItem(
                id=entry_id,
                intent=str(intent),
                entity=entity,
                value=None if value is None else str(value),
                title=cast(str, title).strip(),
                answer=cast(str, answer).strip(),
                follow_ups=tuple(str(f) for f in follow_ups),
                source=cast(str, source).strip(),
                health_advice=bool(health_advice),
            )
        )

    ids = {item.id for item in items} | set(seen)
    for item in items:
        for target in item.follow_ups:
            if target not in ids:
                problems.append(FaqProblem(file, item.id, f"follow-up '{target}' is not an entry"))
            elif target == item.id:
                problems.append(FaqProblem(file, item.id, "follows up to itself"))
    keys: dict[tuple[str, str | None, str | None], str] = {}
    for item in items:
        key = (item.intent, item.entity, item.value)
        if key in keys:
            what = f"{item.entity}={item.value}" if item.entity else "no sub-topic"
            problems.append(
                FaqProblem(file, item.id, f"answers {item.intent} ({what}) like '{keys[key]}'")
            )
        keys[key] = item.id
    if problems:
        raise FaqImportError(problems)
    return items


def load_faq_file(path: Path) -> list[FaqItem]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FaqImportError([FaqProblem(str(path), "-", f"cannot read file: {error}")]) from error
    return parse_faq(text, file=str(path))


def import_faq(database_url: str, path: Path) -> int:
    """Replace the FAQ with the file's entries in one transaction; all or nothing."""
    items = load_faq_file(path)
    with session_scope(database_url) as session:
        session.execute(delete(FaqEntry))
        now = utcnow()
        session.add_all(
            FaqEntry(
                id=item.id,
                intent=item.intent,
                entity=item.entity,
                value=item.value,
                title=item.title,
                answer=item.answer,
                follow_ups=list(item.follow_ups),
                source=item.source,
                health_advice=item.health_advice,
                position=position,
                updated_at=now,
            )
            for position, item in enumerate(items)
        )
    return len(items)


def _item(row: FaqEntry) -> FaqItem:
    return FaqItem(
        id=row.id,
        intent=row.intent,
        entity=row.entity,
        value=row.value,
        title=row.title,
        answer=row.answer,
        follow_ups=tuple(row.follow_ups or ()),
        source=row.source,
        health_advice=row.health_advice,
    )


def list_faq(database_url: str) -> list[FaqItem]:
    with session_scope(database_url) as session:
        rows = session.execute(select(FaqEntry).order_by(FaqEntry.position)).scalars()
        return [_item(row) for row in rows]


def export_faq(database_url: str, path: Path) -> int:
    """Write the database's FAQ back to YAML, e.g. to review what is live."""
    items = list_faq(database_url)
    document = {"version": 1, "entries": [item.to_yaml() for item in items]}
    Path(path).write_text(
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8"
    )
    return len(items)


def find_entry(
    session: Session, intent: str, entities: Mapping[str, Iterable[str]]
) -> FaqEntry | None:
    """The most specific entry for the intent and the sub-topics mentioned, else the general one."""
    found = find_entries(session, intent, entities)
    return found[0][0] if found else None


def find_entries(
    session: Session, intent: str, entities: Mapping[str, Iterable[str]]
) -> list[tuple[FaqEntry, str | None]]:
    """Every specific entry for the sub-topics mentioned, each with the value it answers, in the
    order mentioned; the general entry only when none is specific."""
    rows = list(
        session.execute(
            select(FaqEntry).where(FaqEntry.intent == intent).order_by(FaqEntry.position)
        ).scalars()
    )
    found: list[tuple[FaqEntry, str | None]] = []
    for entity, values in entities.items():
        for value in values:
            row = next((r for r in rows if r.entity == entity and r.value == value), None)
            row = row or next(
                (r for r in rows if r.entity == entity and r.value == ANY_VALUE), None
            )
            if row is not None and (row, value) not in found:
                found.append((row, value))
    if found:
        return found
    general = next((r for r in rows if r.entity is None), None)
    return [] if general is None else [(general, None)]


def payload(intent: str, entity: str | None = None, value: str | None = None) -> str:
    """A button payload Rasa reads as that intent (and entity) without running NLU."""
    if entity and value and value != ANY_VALUE:
        return f"/{intent}{json.dumps({entity: value})}"
    return f"/{intent}"


def render(session: Session, entry: FaqEntry, clinic: Clinic, value: str | None = None) -> Answer:
    values = clinic.placeholders()
    if entry.entity == "weekday" and value:
        values["day_hours"] = clinic.hours_on_weekday_text(value)
    if entry.entity == "massage_type" and entry.value == ANY_VALUE and value:
        values["service_prices"] = clinic.prices_of_kind_text(value)
    text = entry.answer.format_map(values)
    if entry.health_advice:
        text = f"{text}\n\n_{clinic.disclaimer}_"
    buttons = []
    for target_id in entry.follow_ups or ():
        target = session.get(FaqEntry, target_id)
        if target is not None:
            buttons.append(
                Button(target.title, payload(target.intent, target.entity, target.value))
            )
    return Answer(
        text=text,
        buttons=tuple(buttons),
        entry_id=entry.id,
        intent=entry.intent,
        entity=entry.entity,
        value=value if entry.entity else None,
    )


def answer_for(
    database_url: str, intent: str, entities: Mapping[str, Iterable[str]], clinic: Clinic
) -> Answer | None:
    with session_scope(database_url) as session:
        entry = find_entry(session, intent, entities)
        return None if entry is None else render(session, entry, clinic)


def answers_for(
    database_url: str, questions: Iterable[Question], clinic: Clinic, limit: int = 3
) -> list[Answer]:
    """One answer per entry the questions lead to, in order, each entry once, at most `limit`."""
    answers: list[Answer] = []
    with session_scope(database_url) as session:
        for question in questions:
            for entry, value in find_entries(session, question.intent, question.entities):
                if entry.entity is None and not question.general:
                    continue
                answered = {(a.entity, a.value) for a in answers if a.entity}
                if entry.entity and (entry.entity, value) in answered:
                    continue  # that detail was answered under the main question already
                if len(answers) < limit and all(
                    (a.entry_id, a.value) != (entry.id, value) for a in answers
                ):
                    answers.append(render(session, entry, clinic, value))
    return answers


def general_titles(database_url: str, intents: Iterable[str]) -> dict[str, str]:
    """Button labels for topics, as staff titled their general entries."""
    wanted = list(intents)
    with session_scope(database_url) as session:
        rows = session.execute(
            select(FaqEntry.intent, FaqEntry.title).where(
                FaqEntry.intent.in_(wanted), FaqEntry.entity.is_(None)
            )
        ).all()
    return {intent: title for intent, title in rows}


def log_unanswered(
    database_url: str,
    text: str,
    reason: str,
    intent: str | None = None,
    confidence: float | None = None,
    conversation: str | None = None,
) -> None:
    with session_scope(database_url) as session:
        session.add(
            UnansweredQuestion(
                text=text[:2000],
                reason=reason,
                intent=intent,
                confidence=confidence,
                conversation=conversation,
            )
        )


def list_unanswered(database_url: str, include_resolved: bool = False) -> list[UnansweredQuestion]:
    with session_scope(database_url) as session:
        query = select(UnansweredQuestion).order_by(UnansweredQuestion.created_at)
        if not include_resolved:
            query = query.where(UnansweredQuestion.resolved.is_(False))
        return list(session.execute(query).scalars())


def resolve_unanswered(database_url: str, question_id: int) -> bool:
    with session_scope(database_url) as session:
        row = session.get(UnansweredQuestion, question_id)
        if row is None:
            return False
        row.resolved = True
        return True
