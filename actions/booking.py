"""Booking a new appointment: the Rasa side of `bot.clinic.booking` for the booking form.

The form only collects and checks answers; every rule (opening hours, notice, availability)
lives in `bot.clinic.booking`, and the database has the last word on double bookings when the
booking is stored.

Message layout: a validator says what was wrong with an answer; the `action_ask_*` actions that
follow ask again and carry the buttons (free times, services, "Talk to a person"), so buttons
are always on the latest message.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import context
from actions.context import clinic, health_concerns, latest_assessment, not_yet_advised
from actions.faq import answer_question, health_topic
from actions.forms import (
    BOOKING_SLOTS,
    OTHER_LANGUAGE,
    PERSON_BUTTON,
    RED_FLAG,
    REQUESTED_SLOT,
    YES_NO,
    FixedQuestion,
    classified,
    entity_values,
    for_the_rules,
    intent_name,
    is_stale_payload,
    last_value,
    latest_text,
    person_offer,
    reject_answer,
    typed_text,
    unread_message,
    wants_a_person,
    wants_to_stop,
)
from actions.safety import ActionRedFlagAdvice, advise_in_form, ends_the_form
from actions.time_question import (
    TimeSlots,
    answer_time,
    offered_times,
    slot_button,
    time_before_latest_message,
)
from bot.clinic import advice
from bot.clinic.booking import answers, wording
from bot.clinic.booking.catalog import match_services
from bot.clinic.booking.config import BookingConfig
from bot.clinic.booking.contact import display_contact, validate_name
from bot.clinic.booking.time_choice import chosen_start, earliest_free_times
from bot.clinic.facts import Clinic, Service

logger = logging.getLogger(__name__)

MAX_NOTE = 500
NO_NOTE = "-"
_YES_ONLY = re.compile(r"^\W*(?:yes|yeah|yep|sure|ok|okay|yes please)\W*$", re.IGNORECASE)
_NO_NOTE = re.compile(
    r"^\W*(?:no|nope|nah|none|nothing|no thanks|no thank you|n/?a|not really|that'?s all|"
    r"nothing (?:else|to add)|all good|-)\W*$",
    re.IGNORECASE,
)

BOOKING_TIME = TimeSlots(
    time="booking_time",
    alternatives="booking_alternatives",
    failures="booking_failures",
    stopped="booking_stopped",
    held="booking_day",
    holds_day=True,  # "Friday" alone: the next question asks what time on Friday
)


def _service_button(service: Service, clinic_: Clinic) -> dict[str, str]:
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(clinic_.currency, "")
    return {
        "title": f"{service.name} – {symbol}{service.price:.2f}",
        "payload": '/inform{"massage_type": "' + service.id + '"}',
    }


# Intents that make an unclear message a question rather than an answer, when the classifier
# ranks one of them first (below the fallback threshold: above it, the rules answered already).
QUESTION_INTENTS = (
    "ask_benefits", "ask_back_pain", "ask_inflammation", "ask_treatment_plan",
    "ask_what_to_expect", "ask_massage_types", "ask_clinic_info", "bot_challenge",
)  # fmt: skip
DETAILS = ("booking_service", "booking_time", "client_name", "client_contact")


class ValidateBookingForm(Action):
    """Reads each of the client's messages whole and decides what it says to the booking.

    The slots have `custom` mappings in domain.yml: Rasa fills none of them, so nothing the
    entity extractor cut out of a message ("07400" of "07400 444555", "Dave Smith" as a date)
    can reach the booking unchecked. What a message is (stop, change, answer, question, wrong
    answer) is decided in the order `bot.clinic.booking.answers` describes.

    Health: the triage reads every message (the NLU attaches it). An emergency ends the booking
    (the rules give urgent guidance); any other concern — in an answer, a question or the note —
    gets its advice once, in `_Reading.health`, and the booking goes on: the summary reminds the
    client before they confirm, and the booking record shows staff what was mentioned.
    """

    def name(self) -> str:
        return "validate_booking_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if advice.stops_booking(health_concerns(tracker)):
            # The safety action has just explained why: no booking in this conversation.
            return [SlotSet("booking_stopped", "red_flag"), SlotSet(REQUESTED_SLOT, None)]
        if not unread_message(tracker):
            return []
        requested = tracker.get_slot(REQUESTED_SLOT)
        if ends_the_form(tracker):
            if requested:
                return []  # the rules end the booking with urgent guidance
            # Started with the message (a request after advice given earlier): no booking.
            await ActionRedFlagAdvice().run(dispatcher, tracker, domain)
            return [SlotSet("booking_stopped", "red_flag"), SlotSet(REQUESTED_SLOT, None)]
        # A concern that doesn't end the booking made the NLU say `red_flag`: read the message
        # as the classifiers did; its advice comes from `_Reading.health`.
        concern = intent_name(tracker) == RED_FLAG
        tracker = classified(tracker)
        if requested and wants_to_stop(tracker):
            return [
                *(SlotSet(slot, None) for slot in BOOKING_SLOTS),
                SlotSet("booking_stopped", "client"),
                SlotSet(REQUESTED_SLOT, None),
            ]
        if requested and wants_a_person(tracker):
            # The rules can't start the hand-off form from inside this one: end the booking
            # and let the submit action hand over (booking_stopped "person").
            return [SlotSet("booking_stopped", "person"), SlotSet(REQUESTED_SLOT, None)]
        reading = _Reading(dispatcher, tracker)
        if requested and reading.asks_about_health():
            values = await reading.question(requested)
            return reading.events(values)
        if (
            requested
            and not concern
            and for_the_rules(tracker)
            and not reading.answers_the_question(requested)
        ):
            # Nothing read: Rasa then lets the rules answer (a question the classifier is sure
            # of), and the form asks its question again afterwards.
            return []
        if latest_text(tracker).strip().startswith("/") and requested is None:
            # A button that starts a booking may name the treatment ("Book a sports massage").
            reading.text = " ".join(entity_values(tracker, "massage_type"))
            values = await reading.first_message() if reading.text else {}
        elif latest_text(tracker).strip().startswith("/"):
            values = await reading.button(requested)
        elif requested is None:
            values = await reading.first_message()
        else:
            values = await reading.answer(requested)
        return reading.events(values)


class _Reading:
    """One message read against the booking so far."""

    def __init__(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        self.dispatcher = dispatcher
        self.tracker = tracker
        self.clinic = clinic()
        self.now = context.current_time()
        self.today = self.now.astimezone(self.clinic.timezone).date()
        self.text = answers.clean(latest_text(tracker))
        # The NLU folds look-alike letters ("Анна" → "Anna"); names and notes keep what was typed.
        self.typed = answers.clean(typed_text(tracker))
        self.values: dict[str, Any] = {}
        self.concerns = latest_assessment(tracker).concerns
        self.fresh = not_yet_advised(tracker, self.concerns)
        # Besides the slots read: the concerns remembered, what an answered question set.
        self.noted: list[EventType] = []
        self.health_read = False

    def events(self, values: dict[str, Any]) -> list[EventType]:
        """The slots read, then the concerns the message raised (remembered for the summary and
        the booking record) and the topic of a question answered."""
        return [*(SlotSet(slot, value) for slot, value in values.items()), *self.noted]

    def slot(self, name: str) -> Any:
        return self.values[name] if name in self.values else self.tracker.get_slot(name)

    @property
    def service(self) -> Service | None:
        return self.clinic.service(str(self.slot("booking_service") or ""))

    def answers_the_question(self, requested: str) -> bool:
        """Whether a message the classifier took for a question is in fact the answer asked
        for: a statement at the note ("my left shoulder blade is really tight"), a name, a
        number, a time that isn't phrased as a question."""
        if intent_name(self.tracker) == "red_flag" or answers.looks_like_question(self.text):
            return False
        if intent_name(self.tracker) == OTHER_LANGUAGE and requested not in {
            "client_name",
            "client_contact",
        }:
            # "Przepraszam, nie rozumiem…" is no note or time: the language reply, then the
            # question again. A name or a number reads the same in any language.
            return False
        if requested == "booking_note":
            return True
        if requested == "client_name":
            return answers.name_answer(self.typed).ok
        if requested == "client_contact":
            return answers.contact_answer(self.text, self.clinic.region).ok
        if requested == "booking_time":
            return answers.names_time(self.text, self.clinic, self.now)
        if requested == "booking_service":  # "swedish massage" reads as a massage-types question
            return bool(answers.named_services(self.clinic, self.text))
        if requested == "booking_confirmed":
            return answers.is_yes(self.text) or answers.is_no(self.text)
        return False

    def asks_about_health(self) -> bool:
        """ "Is it ok if I'm pregnant?": a general question about a health topic is answered from
        that topic's FAQ entry, whatever intent the classifier guessed."""
        return (
            not self.concerns
            and health_topic(latest_assessment(self.tracker)) is not None
            and answers.looks_like_question(self.text)
        )

    def _topic_services(self) -> list[Service]:
        """ "Great, can I book one?" after a question about a kind of massage or about the
        back: the services of that kind (the back massages for a back question)."""
        seen_latest = False
        for event in reversed(self.tracker.events):
            if event.get("event") != "user":
                continue
            if not seen_latest:
                seen_latest = True
                continue
            parsed = event.get("parse_data") or {}
            entities = {e.get("entity"): e.get("value") for e in parsed.get("entities") or []}
            kind = entities.get("massage_type")
            if kind:
                return answers.of_kind(self.clinic, str(kind))
            if (parsed.get("intent") or {}).get("name") == "ask_back_pain" or entities.get(
                "back_region"
            ):
                return answers.of_kind(self.clinic, "back")
            return []
        return []

    # -- the kinds of message ----------------------------------------------------------------

    async def first_message(self) -> dict[str, Any]:
        """ "Can I book a 30 min back massage tomorrow 2ish?": keep everything it says."""
        self.health()
        spans = [
            (int(e["start"]), int(e["end"]))
            for e in self.tracker.latest_message.get("entities") or []
            if e.get("entity") == "name" and "start" in e and "end" in e
        ]
        found = answers.read_first_message(self.text, self.clinic, self.now, spans)
        if found.name:
            found = replace(found, name=answers.read_name(self.typed) or found.name)
        services = list(found.services)
        if not services and answers.refers_to_last_booking(self.text):
            last = self.clinic.service(str(last_value(self.tracker, "booking_service") or ""))
            services = [last] if last else []
        if not services and answers.refers_back(self.text):
            services = self._topic_services()
        self._set_services(services)
        if found.names_time:
            previous = None
            if answers.refers_to_last_booking(self.text):
                previous = chosen_start(last_value(self.tracker, "booking_time"))
            await self._set_time(answers.without_details(self.text, self.clinic.region), previous)
            start = chosen_start(self.values.get("booking_time"))
            service = self.service
            if start is not None and service is not None:
                when = wording.describe_start(start.astimezone(self.clinic.timezone), self.today)
                self.dispatcher.utter_message(
                    text=f"{wording.sentence(when)} is free for a {answers.service_title(service)}."
                )
        if found.name:
            self.values["client_name"] = found.name
        if found.contact:
            self.values["client_contact"] = found.contact
        return self.values

    async def answer(self, requested: str) -> dict[str, Any]:
        self.health()
        return await self._answer(requested)

    def health(self) -> None:
        """What the client's message says about their health: the one place every answer, the
        note and every question pass through, before anything else is said about them.

        Emergencies never get here (the rules end the booking first). A concern not advised
        yet in this conversation gets its advice, said in passing; every concern is remembered
        for the reminder before confirming and for the booking record.
        """
        if not self.health_read:
            self.health_read = True
            self.noted += advise_in_form(self.dispatcher, self.tracker)

    async def _answer(self, requested: str) -> dict[str, Any]:
        correcting = answers.says_correction(self.text) or requested == "booking_confirmed"
        question = answers.looks_like_question(self.text) or self._question_intent() is not None
        if requested == "booking_note" and answers.looks_like_question(self.text):
            # Anything else is the note, even what the classifier took for a question ("my
            # left shoulder blade is really tight"); a question-shaped message is a question.
            return await self.question(requested)
        if answers.is_strong_question(self.text) and requested != "booking_confirmed":
            # "What time do you close on Saturday?" names a day but asks something.
            return await self.question(requested)
        # A note is free text: other details are read from it only when the client says
        # they are changing one ("actually make it 3pm").
        free_text = requested == "booking_note"
        changed = (not free_text or correcting) and await self._other_details(
            requested, change=correcting
        )
        if changed:
            # The question asked is asked again (at the summary: the summary with the change).
            return self.values
        answered = await self._read(requested)
        if answered:
            return self.values
        if not question and not free_text:
            changed = await self._other_details(requested, change=True)
            if changed:
                return self.values
        if question or self.concerns:
            # "I'm 20 weeks pregnant" at the name question is news, not a wrong name.
            return await self.question(requested)
        return self._reject(requested)

    async def button(self, requested: str | None) -> dict[str, Any]:
        """A tapped button: only one the bot showed with its last reply counts; an old one
        ("Book an appointment" three turns ago) changes nothing and the question is asked
        again."""
        if requested is None or is_stale_payload(self.tracker):
            # The question is asked again. (Setting the asked slot, even to None, tells Rasa
            # the form read the message; with nothing set it would reject the form's turn.)
            return {requested: None} if requested else {}
        intent = intent_name(self.tracker)
        if requested == "booking_service":
            self._set_services(
                [
                    s
                    for s in map(self.clinic.service, entity_values(self.tracker, "massage_type"))
                    if s
                ]
            )
        elif requested == "booking_time":
            tapped = entity_values(self.tracker, "date_time")
            if tapped:
                await self._set_time(tapped[0])
        elif requested == "booking_note" and intent == "deny":
            self.values["booking_note"] = NO_NOTE
        elif requested == "booking_confirmed" and intent in {"affirm", "deny"}:
            self.values["booking_confirmed"] = intent == "affirm"
        return self.values or {requested: None}

    # -- the question asked --------------------------------------------------------------------

    async def _read(self, requested: str) -> bool:
        """The whole message as the answer to `requested`; False if it isn't one."""
        if requested == "booking_service":
            options = tuple(
                s for s in map(self.clinic.service, self.slot("booking_service_options") or []) if s
            )
            services = answers.named_services(self.clinic, self.text, options)
            if not services:
                services = match_services(self.clinic, self.text)
                if len(services) == len(self.clinic.services):
                    services = []
            if services:
                self._set_services(services)
                return True
            self.error = "Sorry, that isn't one of the treatments I can book."
            return False
        if requested == "booking_time":
            if intent_name(self.tracker) == "deny" and answers.is_no(self.text):
                self.values.update({"booking_time": None, "booking_alternatives": None})
                return True
            if not answers.names_time(self.text, self.clinic, self.now):
                if answers.looks_like_question(self.text) and self._asks_for_times():
                    await self._offer_earliest()
                    return True
                if (
                    answers.looks_like_question(self.text)
                    or self._question_intent()
                    or self.concerns  # "I'm 20 weeks pregnant": news, not a time
                ):
                    return False
            await self._set_time(self.text, asked=True)
            return True
        if requested == "client_name":
            checked = answers.name_answer(self.typed)
            if not checked.ok:
                named = answers.read_name(self.typed)
                checked = validate_name(named) if named else checked
            if checked.ok:
                self.values.update({"client_name": checked.value, "booking_failures": 0})
                return True
            self.error = checked.reason
            return False
        if requested == "client_contact":
            checked = answers.contact_answer(self.text, self.clinic.region)
            if checked.ok:
                self.values.update({"client_contact": checked.value, "booking_failures": 0})
                return True
            self.error = checked.reason
            return False
        if requested == "booking_note":
            if answers.is_no_note(self.text) or (
                intent_name(self.tracker) == "deny" and len(self.text.split()) <= 3
            ):
                self.values["booking_note"] = NO_NOTE
            elif answers.wants_to_add_note(self.text):
                self.dispatcher.utter_message(
                    text="Sure — what would you like the therapist to know?"
                )
                self.values["booking_note"] = None
            else:
                self.values["booking_note"] = self.typed[:MAX_NOTE]
            return True
        if requested == "booking_confirmed":
            if answers.is_yes(self.text) or (
                intent_name(self.tracker) == "affirm" and not answers.looks_like_question(self.text)
            ):
                self.values["booking_confirmed"] = True
                return True
            if answers.is_no(self.text) or intent_name(self.tracker) == "deny":
                self.values["booking_confirmed"] = False
                return True
            self.error = "Sorry, I didn't catch that — shall I book it? Yes or no?"
            return False
        return False

    # -- other details in the same message -----------------------------------------------------

    async def _other_details(self, requested: str, change: bool) -> bool:
        """Fill details the message holds besides the one asked; with `change`, also replace
        ones already given ("actually make it Friday"). True if anything was filled or changed."""
        before = {slot: self.slot(slot) for slot in DETAILS}
        done = False
        if requested != "client_contact":
            found = answers.read_contact(self.text, self.clinic.region)
            if (
                found
                and found.value != before["client_contact"]
                and (change or not before["client_contact"])
            ):
                self.values["client_contact"] = found.value
                done = True
                if before["client_contact"]:
                    self.dispatcher.utter_message(
                        text=f"Thanks — I've changed your contact to {found.value}."
                    )
        if requested != "client_name" and (change or not before["client_name"]):
            name = (
                answers.read_name(self.typed)
                if re.search(r"\bname\b|\bunder\b", self.text, re.I) or not before["client_name"]
                else None
            )
            if name and name != before["client_name"] and requested != "booking_service":
                self.values["client_name"] = name
                done = True
                if before["client_name"]:
                    self.dispatcher.utter_message(text=f"Thanks — I've changed the name to {name}.")
        if requested != "booking_service" and (change or not before["booking_service"]):
            current = self.service
            among = tuple(
                s
                for s in self.clinic.services
                if current and s.massage_type == current.massage_type
            )
            services = answers.named_services(
                self.clinic, answers.without_details(self.text, self.clinic.region), among
            )
            if services and [s.id for s in services] != [before["booking_service"]]:
                self._set_services(services)
                done = True
                if before["booking_service"] and len(services) == 1:
                    self.dispatcher.utter_message(
                        text=f"OK, I've changed that to a {answers.service_title(services[0])} "
                        f"({answers.price(self.clinic, services[0])})."
                    )
                if self.slot("booking_time") and len(services) == 1:
                    await self._set_time(str(self.slot("booking_time")))  # still fits?
        if requested != "booking_time" and (change or not before["booking_time"]):
            text = answers.without_details(self.text, self.clinic.region)
            if answers.names_time(text, self.clinic, self.now):
                previous = chosen_start(before["booking_time"])
                await self._set_time(text, previous, announce=bool(previous))
                done = True
        return done

    # -- setting details -----------------------------------------------------------------------

    def _set_services(self, services: list[Service]) -> None:
        if len(services) == 1:
            self.values.update(
                {
                    "booking_service": services[0].id,
                    "booking_service_options": None,
                    "booking_failures": 0,
                }
            )
        elif services:
            self.values.update(
                {"booking_service": None, "booking_service_options": [s.id for s in services]}
            )

    async def _set_time(
        self,
        answer: str,
        previous: datetime | None = None,
        asked: bool = False,
        announce: bool = False,
    ) -> None:
        default_day = None
        held = self.slot("booking_day")
        offered = offered_times(self.tracker, "booking_alternatives")
        if held:
            default_day = date.fromisoformat(held)
        elif previous is not None:
            default_day = previous.astimezone(self.clinic.timezone).date()
        elif offered:
            # "5pm is good" after free times on Thursday: Thursday at 17:00
            default_day = offered[0].astimezone(self.clinic.timezone).date()
        if chosen_start(answer) is None:
            wanted = answers.read_time(answer, self.clinic, self.now, default_day)
            if not wanted.understood and default_day is not None:
                answer = answers.bare_hour(answer) or answer
            elif previous is not None and wanted.day and not (wanted.at or wanted.window):
                # "actually make it Friday": the new day at the time already chosen
                local = previous.astimezone(self.clinic.timezone)
                answer = datetime.combine(wanted.day, local.time(), local.tzinfo).isoformat()
            elif wanted.at and not held and previous is None and offered:
                same = [
                    t for t in offered if t.astimezone(self.clinic.timezone).time() == wanted.at
                ]
                answer = same[0].isoformat() if same else answer
        values = await answer_time(
            self.dispatcher, self.tracker, BOOKING_TIME, self.service, answer, default_day,
            previous=previous or time_before_latest_message(self.tracker, "booking_time"),
            asked=asked or previous is None,
        )  # fmt: skip
        self.values.update(values)
        start = chosen_start(values.get("booking_time"))
        if announce and start is not None:
            when = wording.describe_start(start.astimezone(self.clinic.timezone), self.today)
            self.dispatcher.utter_message(text=f"OK, I've changed that to {when}.")

    # -- questions and wrong answers -----------------------------------------------------------

    def _question_intent(self) -> str | None:
        for ranked in self.tracker.latest_message.get("intent_ranking") or []:
            name = ranked.get("name")
            if name in {"nlu_fallback"}:
                continue
            if name in QUESTION_INTENTS and float(ranked.get("confidence") or 0) >= 0.3:
                return str(name)
            return None
        return None

    def _asks_for_times(self) -> bool:
        return bool(
            re.search(
                r"\b(?:what|which)\b.*\b(?:got|have|free|available)\b|not sure", self.text, re.I
            )
        )

    async def _offer_earliest(self) -> None:
        service = self.service
        if service is None:
            return
        times = await asyncio.to_thread(
            earliest_free_times, self.clinic, context.availability(), service, self.now
        )
        self.dispatcher.utter_message(text=wording.EARLIEST_OFFER)
        self.values.update(
            {"booking_time": None, "booking_alternatives": [t.isoformat() for t in times]}
        )

    async def question(self, requested: str) -> dict[str, Any]:
        """Answer it, then the form asks its question again (nothing given is lost)."""
        self.health()
        intent = self._question_intent()
        text = self.text.casefold()
        topic = health_topic(latest_assessment(self.tracker))
        if self.concerns:
            # "I'm pregnant, is that ok?": the concern's advice (`health`) is the answer; a
            # concern advised before gets a word of thanks, not the same advice again.
            if not self.fresh:
                self.dispatcher.utter_message(text="Thanks for letting me know.")
        elif topic is not None:
            self.noted += await answer_question(self.dispatcher, self.tracker, topic[1], topic[2])
        elif answers.asks_price(text) and self.service is not None:
            self.noted += await answer_question(self.dispatcher, self.tracker, "ask_clinic_info")
        elif intent == "bot_challenge":
            self.dispatcher.utter_message(response="utter_iamabot")
        elif intent is not None:
            self.noted += await answer_question(self.dispatcher, self.tracker, intent)
        else:
            self.dispatcher.utter_message(
                text="I'm not sure about that one — our team can tell you: "
                f"call us on {self.clinic.phone}, or ask me to put you through to a person."
            )
        return {REQUESTED_SLOT: requested, requested: None}

    def _reject(self, requested: str) -> dict[str, Any]:
        reason = getattr(self, "error", "") or "Sorry, I didn't catch that."
        extra = {"booking_service_options": None} if requested == "booking_service" else None
        return reject_answer(
            self.dispatcher,
            self.tracker,
            requested,
            reason,
            "booking_failures",
            "booking_stopped",
            extra,
        )


class ActionAskBookingService(Action):
    def name(self) -> str:
        return "action_ask_booking_service"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clinic_ = clinic()
        ids = tracker.get_slot("booking_service_options") or []
        options = [s for s in map(clinic_.service, ids) if s is not None]
        text = "Which one would you like?" if options else "Which treatment would you like?"
        buttons = [_service_button(s, clinic_) for s in options or clinic_.services]
        dispatcher.utter_message(
            text=text, buttons=buttons + person_offer(tracker, "booking_failures")
        )
        return []


class ActionAskBookingTime(Action):
    def name(self) -> str:
        return "action_ask_booking_time"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clinic_ = clinic()
        now = context.current_time()
        today = now.astimezone(clinic_.timezone).date()
        times = offered_times(tracker, "booking_alternatives")
        day = tracker.get_slot("booking_day")
        if day:
            held = date.fromisoformat(day)
            text = wording.what_time_on(held, today, clinic_.hours_on(held))
        elif times:
            text = wording.CHOOSE_OR_SAY
        else:
            text = wording.WHEN_WOULD_YOU_LIKE
            service = clinic_.service(str(tracker.get_slot("booking_service") or ""))
            if service is not None:
                try:
                    times = await asyncio.to_thread(
                        earliest_free_times, clinic_, context.availability(), service, now
                    )
                except SQLAlchemyError:
                    logger.exception("availability lookup failed")
                    times = []
                if times:
                    text += " The earliest free times are:"
        buttons = [slot_button(t, today) for t in times[:3]]
        dispatcher.utter_message(
            text=text, buttons=buttons + person_offer(tracker, "booking_failures")
        )
        return []


class ActionAskClientName(FixedQuestion):
    question = "What name should I put the booking under?"

    def name(self) -> str:
        return "action_ask_client_name"


class ActionAskClientContact(FixedQuestion):
    question = (
        "What's the best phone number or e-mail address to reach you on? "
        "We'll only use it for this booking."
    )

    def name(self) -> str:
        return "action_ask_client_contact"


class ActionAskBookingNote(FixedQuestion):
    question = (
        "Is there anything the therapist should know — for example which part of your back hurts?"
    )
    buttons = ({"title": "Nothing to add", "payload": "/deny"},)

    def name(self) -> str:
        return "action_ask_booking_note"


class ActionAskBookingConfirmed(Action):
    def name(self) -> str:
        return "action_ask_booking_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clinic_ = clinic()
        service = clinic_.service(str(tracker.get_slot("booking_service") or ""))
        start = chosen_start(tracker.get_slot("booking_time"))
        if service is None or start is None:  # can't happen once the form has both
            dispatcher.utter_message(text="Shall I book it?", buttons=YES_NO)
            return []
        today = context.current_time().astimezone(clinic_.timezone).date()
        when = wording.describe_start(start.astimezone(clinic_.timezone), today)
        region = clinic_.region
        lines = [
            "Here's what I'll book for you:",
            f"• {wording.sentence(answers.service_title(service))} – "
            f"{answers.price(clinic_, service)}",
            f"• {wording.sentence(when)}",
            f"• Name: {tracker.get_slot('client_name')}",
            f"• Contact: {display_contact(str(tracker.get_slot('client_contact')), region)}",
        ]
        note = tracker.get_slot("booking_note")
        if note and note != NO_NOTE:
            lines.append(f"• Note for your therapist: {note}")
        # What the client told us about their health, once more before they say yes.
        reminder = advice.before_booking(clinic_, health_concerns(tracker), confirming=True)
        if reminder:
            lines.append(reminder)
        shall = "Shall I still book it?" if reminder else "Shall I book it?"
        lines.append(f"{shall} If anything's wrong, just tell me what to change.")
        dispatcher.utter_message(text="\n".join(lines), buttons=YES_NO)
        return []


class ActionSubmitBooking(Action):
    """Runs whenever the booking form ends: books, or says why nothing was booked."""

    def name(self) -> str:
        return "action_submit_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        clinic_ = clinic()
        reset = [SlotSet(slot, None) for slot in BOOKING_SLOTS]
        stopped = tracker.get_slot("booking_stopped")
        if stopped == "red_flag" or stopped == "error":
            return reset
        if stopped == "person":
            return [*reset, FollowupAction("handoff_form")]
        if stopped == "client":
            dispatcher.utter_message(
                text="No problem — I haven't booked anything. Anything else I can help with?"
            )
            return reset
        if stopped == "failures":
            dispatcher.utter_message(
                text="I'm sorry this isn't working. A person from our team can help you book, or "
                f"you can call us on {clinic_.phone}.",
                buttons=[PERSON_BUTTON],
            )
            return reset
        if tracker.get_slot("booking_confirmed") is not True:
            dispatcher.utter_message(
                text="OK, I haven't booked it. You can start again whenever you like.",
                buttons=[{"title": "Book a different time", "payload": "/schedule_appointment"}],
            )
            return reset

        start = chosen_start(tracker.get_slot("booking_time"))
        assert start is not None
        config = BookingConfig.from_env()
        try:
            outcome = await asyncio.to_thread(
                context.booking_service().create,
                str(tracker.get_slot("booking_service")),
                start,
                str(tracker.get_slot("client_name")),
                str(tracker.get_slot("client_contact")),
                ""
                if tracker.get_slot("booking_note") == NO_NOTE
                else tracker.get_slot("booking_note") or "",
                tracker.sender_id,
                health_concerns(tracker),
            )
        except SQLAlchemyError:
            # The database is down or stalled (DATABASE_TIMEOUT_SECONDS): nothing was stored,
            # the transaction was rolled back. Keep everything the client told us and ask again,
            # so a "yes" once it is back books it.
            logger.exception("could not store a booking")
            dispatcher.utter_message(text=wording.not_saved(clinic_.phone))
            return [SlotSet("booking_confirmed", None), FollowupAction("booking_form")]
        today = context.current_time().astimezone(clinic_.timezone).date()
        if outcome.ok and outcome.booking is not None:
            booking = outcome.booking
            when = wording.on_start(booking.start, today)
            text = (
                f"You're booked in: {booking.service_name} {when}. "
                f"Your reference is {booking.reference} — "
                "please keep it: with your phone number or e-mail it lets you change or cancel."
            )
            if booking.status == "pending":
                text += " The clinic will confirm your appointment shortly."
            dispatcher.utter_message(text=text)
            context.deliver_soon(config)
            return [*reset, SlotSet("booking_reference", booking.reference)]
        if outcome.code in {"taken", "unavailable"}:
            # Someone else got there first (or the time stopped being bookable): pick again,
            # keeping everything else the client told us.
            dispatcher.utter_message(text=outcome.message)
            return [
                SlotSet("booking_time", None),
                SlotSet("booking_confirmed", None),
                SlotSet("booking_alternatives", [t.isoformat() for t in outcome.alternatives]),
                FollowupAction("booking_form"),
            ]
        dispatcher.utter_message(text=outcome.message)
        return reset
