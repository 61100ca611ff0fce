"""What the booking, manage-booking and hand-off forms share: reading the client's answer,
rejecting it kindly, stopping, and the fixed questions.

Booking rules live in `bot.clinic.booking`; the time question is in `actions.time_question`.
"""

from __future__ import annotations

import copy
import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.clinic.booking import answers

REQUESTED_SLOT = "requested_slot"
MAX_FAILURES = 3  # the third wrong answer in a row stops the form and offers a person

BOOKING_SLOTS = (
    "booking_service", "booking_time", "booking_day", "client_name", "client_contact",
    "booking_note", "booking_confirmed", "booking_failures", "booking_stopped",
    "booking_alternatives", "booking_service_options",
)  # fmt: skip
MANAGE_SLOTS = (
    "manage_reference", "manage_contact", "manage_new_time", "manage_confirmed",
    "manage_booking", "manage_failures", "manage_stopped", "manage_alternatives",
    "manage_pending_time",
)  # fmt: skip
RED_FLAG = "red_flag"
FALLBACK = "nlu_fallback"
PERSON_BUTTON = {"title": "Talk to a person", "payload": "/human_handoff"}
YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]

_STOP = re.compile(
    r"^\W*(?:no,?\s+|oh\s+|actually,?\s+)?(?:stop|never\s*mind|nevermind|forget\s+(?:it|about\s+it)"
    r"|cancel(?:\s+(?:that|it|this|the\s+booking))?|quit|exit|leave\s+it|not\s+any\s*more"
    r"|i\s+(?:don'?t|do\s+not)\s+want\s+to\s+(?:book|do\s+this)(?:\s+any\s*more)?"
    r"|i'?ve\s+changed\s+my\s+mind)\W*(?:please|thanks|thank\s+you)?\W*$",
    re.IGNORECASE,
)


def intent_name(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def classified(tracker: Tracker) -> Tracker:
    """The latest message as the classifiers read it, before the triage put `red_flag` first
    (bot.rasa_adapter.nlu.components.WarningSignDetector keeps their ranking after it).

    A concern that doesn't end a booking ("I'm 20 weeks pregnant" as the note, "yes, my midwife
    says it's fine" at the summary) gets its advice on its own; the message is still an answer,
    a question or a request, and is read as one.
    """
    if intent_name(tracker) != RED_FLAG:
        return tracker
    message = tracker.latest_message
    ranking = [r for r in message.get("intent_ranking") or [] if r.get("name") != RED_FLAG]
    top = ranking[0] if ranking else {"name": FALLBACK, "confidence": 0.0}
    read = copy.copy(tracker)
    read.latest_message = {
        **message,
        "intent": {"name": top.get("name"), "confidence": top.get("confidence")},
        "intent_ranking": ranking,
    }
    return read


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def typed_text(tracker: Tracker) -> str:
    """The latest message as the client typed it (the NLU's text has look-alike letters folded
    to ASCII, which would turn "Анна Петрова" into "Anna Petpova")."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return str(event.get("text") or "") or latest_text(tracker)
    return latest_text(tracker)


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [
        str(e["value"])
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == entity and e.get("value") is not None
    ]


def wants_to_stop(tracker: Tracker) -> bool:
    return bool(_STOP.match(latest_text(tracker))) or answers.is_stop(latest_text(tracker))


# What may run between the client's message and the form reading it: anything else (an FAQ
# answer, the bot's own submit action) means the message was already dealt with.
# (The safety action starts a form itself when a concern it advised already comes with a request:
# "my midwife says it's fine, can I book?")
_BEFORE_THE_FORM = {
    "action_listen", "action_extract_slots", "action_check_booking_safety",
    "action_red_flag_advice",
    "booking_form", "cancel_booking_form", "reschedule_booking_form", "handoff_form",
    "validate_booking_form", "validate_cancel_booking_form", "validate_reschedule_booking_form",
}  # fmt: skip


def unread_message(tracker: Tracker) -> bool:
    """Whether the form has yet to read the client's latest message.

    It has not when the form comes back after answering a question (the rules answered it) or
    after the submit action asked it to pick another time.
    """
    if (tracker.active_loop or {}).get("is_interrupted"):
        return False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return True
        if event.get("event") == "action" and event.get("name") not in _BEFORE_THE_FORM:
            return False
    return True


def shown_payloads(tracker: Tracker) -> set[str]:
    """The payloads of the buttons the bot showed since the client's previous message: a
    button from an older reply (an old widget, a messaging app) is stale."""
    shown: set[str] = set()
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_latest:
                break
            seen_latest = True
        elif seen_latest and event.get("event") == "bot":
            for button in (event.get("data") or {}).get("buttons") or []:
                shown.add(str(button.get("payload") or ""))
    return shown


def is_stale_payload(tracker: Tracker) -> bool:
    text = latest_text(tracker).strip()
    return text.startswith("/") and text not in shown_payloads(tracker)


def last_value(tracker: Tracker, slot: str) -> Any:
    """The last value `slot` had that wasn't empty (a booking just made, once reset)."""
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == slot and event.get("value"):
            return event.get("value")
    return None


# Intents the rules answer in the middle of a form (data/booking_rules.yml). The classifier
# names one only above the fallback threshold (0.55); below it the form answers the question.
RULE_INTENTS = frozenset({
    "red_flag", "ask_benefits", "ask_back_pain", "ask_inflammation", "ask_treatment_plan",
    "ask_what_to_expect", "ask_massage_types", "ask_clinic_info", "bot_challenge",
    "other_language",
})  # fmt: skip
OTHER_LANGUAGE = "other_language"


def for_the_rules(tracker: Tracker) -> bool:
    """A message the rules should take: returning no slots makes Rasa reject the form's turn,
    and the rule for that intent runs (the form asks its question again after it)."""
    return intent_name(tracker) in RULE_INTENTS


def wants_a_person(tracker: Tracker) -> bool:
    """The classifier is sure the client asked for a person ("can I just talk to a human?")."""
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name") == "human_handoff" and float(intent.get("confidence") or 0) >= 0.55


def reject_answer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    slot: str,
    reason: str,
    counter: str,
    stopped: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Reject an answer; the third wrong answer in a row ends the form instead of looping."""
    dispatcher.utter_message(text=reason)
    failures = int(tracker.get_slot(counter) or 0) + 1
    values: dict[str, Any] = {slot: None, counter: failures, **(extra or {})}
    if failures >= MAX_FAILURES:
        values.update({stopped: "failures", REQUESTED_SLOT: None})
    return values


def person_offer(tracker: Tracker, counter: str) -> list[dict[str, str]]:
    """From the second wrong answer on, every question also offers a person."""
    return [PERSON_BUTTON] if int(tracker.get_slot(counter) or 0) >= 2 else []


class FixedQuestion(Action, ABC):
    """A fixed question; from the second wrong answer in a row it also offers a person.

    Abstract so the action server doesn't register it.
    """

    question = ""
    counter = "booking_failures"
    buttons: tuple[dict[str, str], ...] = ()

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            text=self.question, buttons=[*self.buttons, *person_offer(tracker, self.counter)]
        )
        return []
