"""The booking form reading free text: each answer whole, changes of mind, questions, stops."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.booking import ActionSubmitBooking, ValidateBookingForm
from actions.handoff import ValidateHandoffForm
from bot.clinic.triage import assess
from tests.actions.test_booking_actions import (  # booking_env: the clinic, clock and database
    DOMAIN,
    FRIDAY_3PM,
    booking_env,  # noqa: F401
    slot_values,
    tracker,
    validate,
)
from tests.support.clinics import local

CHOSEN = {"booking_service": "back-30", "booking_time": FRIDAY_3PM.isoformat()}


def texts(dispatcher: CollectingDispatcher) -> str:
    return " ".join(m.get("text") or "" for m in dispatcher.messages)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("07400 444555", "+447400444555"),
        ("+44 7400 123456", "+447400123456"),
        ("0044 7400 654321", "+447400654321"),
        ("07400-765-432", "+447400765432"),
        ("(01245) 356789", "+441245356789"),
        ("7400 444555", "+447400444555"),
        ("+44 (0)7400 444555", "+447400444555"),
        ("call me on 07400 111 222 please", "+447400111222"),
        (
            "emma.clarke-jones+massage@mail.example.co.uk",
            "emma.clarke-jones+massage@mail.example.co.uk",
        ),
        ("it's jo_smith99@example.com", "jo_smith99@example.com"),
    ],
)
async def test_contact_is_the_whole_answer(
    dispatcher: CollectingDispatcher, typed: str, stored: str
) -> None:
    # The entity extractor kept "07400" of "07400 444555"; the form reads the whole answer.
    values = await validate(
        ValidateBookingForm(), dispatcher, text=typed, requested="client_contact",
        entities=[{"entity": "contact", "value": typed[:5]}], slots={**CHOSEN, "client_name": "Jo"},
    )  # fmt: skip
    assert values == {"client_contact": stored, "booking_failures": 0}
    assert dispatcher.messages == []


async def test_a_wrong_contact_speaks_only_of_the_contact(dispatcher: CollectingDispatcher) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, text="jo.bloggs.example.com",
        requested="client_contact", slots={**CHOSEN, "client_name": "Jo Bloggs"},
    )  # fmt: skip
    assert values["client_contact"] is None
    assert "@" in texts(dispatcher) and "date" not in texts(dispatcher)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Siobhan O'Brien", "Siobhan O'Brien"),
        ("Emma Clarke-Jones", "Emma Clarke-Jones"),
        ("Dave Smith", "Dave Smith"),
        ("it's Zoë Müller", "Zoë Müller"),
        ("Ciarán O’Neill", "Ciarán O'Neill"),
        ("Анна Петрова", "Анна Петрова"),
        ("tom hughes", "Tom Hughes"),
    ],
)
async def test_names_are_kept_whole(
    dispatcher: CollectingDispatcher, typed: str, stored: str
) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, text=typed, requested="client_name", slots=CHOSEN,
        entities=[{"entity": "date_time", "value": typed}],  # the extractor's guess is ignored
    )  # fmt: skip
    assert values["client_name"] == stored


async def test_a_question_at_the_name_question_is_answered_not_taken(
    dispatcher: CollectingDispatcher, faq_database: str
) -> None:
    text = "is it ok if I'm pregnant?"
    state = tracker(text=text, intent="nlu_fallback", requested="client_name", slots=CHOSEN)
    # Asked in the middle of a booking, "if I'm pregnant" is the client's own state (the triage
    # reads "if I'm…" as now): the advice comes, the booking goes on and remembers it.
    state.latest_message["triage"] = assess(text).as_dict()
    values = slot_values(await ValidateBookingForm().run(dispatcher, state, DOMAIN))
    assert values["requested_slot"] == "client_name" and values["client_name"] is None
    assert [c["concept"] for c in values["health_concerns"]] == ["pregnancy"]
    assert "pregnan" in texts(dispatcher).lower()
    assert "name can only" not in texts(dispatcher)


async def test_make_it_friday_keeps_the_time_and_asks_the_name_again(
    dispatcher: CollectingDispatcher,
) -> None:
    wednesday_2pm = local(2025, 11, 19, 14, 0).isoformat()
    values = await validate(
        ValidateBookingForm(), dispatcher, text="actually make it Friday", requested="client_name",
        slots={"booking_service": "back-30", "booking_time": wednesday_2pm},
    )  # fmt: skip
    assert values["booking_time"] == local(2025, 11, 21, 14, 0).isoformat()
    assert "client_name" not in values
    assert "Friday 21 November at 14:00" in texts(dispatcher)


async def test_a_correction_at_the_summary_changes_that_field(
    dispatcher: CollectingDispatcher,
) -> None:
    summary = {**CHOSEN, "client_name": "Sarah Connor", "client_contact": "+447400444555",
               "booking_note": "-"}  # fmt: skip
    values = await validate(
        ValidateBookingForm(), dispatcher, text="no the name should be Sarah O'Connor",
        intent="deny", requested="booking_confirmed", slots=summary,
    )  # fmt: skip
    assert values["client_name"] == "Sarah O'Connor"
    assert "booking_confirmed" not in values  # the summary is shown again
    values = await validate(
        ValidateBookingForm(), CollectingDispatcher(), text="wrong number sorry, it's 07400 111222",
        requested="booking_confirmed", slots=summary,
    )  # fmt: skip
    assert values["client_contact"] == "+447400111222"
    values = await validate(
        ValidateBookingForm(), CollectingDispatcher(), text="actually I'd prefer the 60 minute one",
        requested="booking_confirmed", slots=summary,
    )  # fmt: skip
    assert values["booking_service"] == "back-60"


@pytest.mark.parametrize("typed", ["no", "nothing", "no thanks", "nope, that's all"])
async def test_no_note(dispatcher: CollectingDispatcher, typed: str) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, text=typed, intent="deny", requested="booking_note",
        slots={**CHOSEN, "client_name": "Jo", "client_contact": "+447400444555"},
    )  # fmt: skip
    assert values == {"booking_note": "-"}


async def test_a_statement_at_the_note_is_the_note(dispatcher: CollectingDispatcher) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, text="my left shoulder blade is really tight",
        intent="nlu_fallback", requested="booking_note",
        slots={**CHOSEN, "client_name": "Jo", "client_contact": "+447400444555"},
    )  # fmt: skip
    assert values == {"booking_note": "my left shoulder blade is really tight"}


@pytest.mark.parametrize("typed", ["no", "Dave", "07400 444555"])
async def test_only_an_explicit_stop_leaves_the_form(
    dispatcher: CollectingDispatcher, typed: str
) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, text=typed, intent="deny", requested="client_name",
        slots=CHOSEN,
    )  # fmt: skip
    assert values.get("booking_stopped") is None


async def test_the_first_message_is_kept_whole(dispatcher: CollectingDispatcher) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, intent="schedule_appointment",
        text="Book a 30 min back massage friday 3pm, name Maria Lopez, phone 07400 222333",
    )  # fmt: skip
    assert values["booking_service"] == "back-30"
    assert values["booking_time"] == FRIDAY_3PM.isoformat()
    assert values["client_name"] == "Maria Lopez"
    assert values["client_contact"] == "+447400222333"


async def test_a_vague_first_message_offers_times_that_fit(
    dispatcher: CollectingDispatcher,
) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, intent="schedule_appointment",
        text="could I book a 30 minute back massage friday after work?",
    )  # fmt: skip
    assert values["booking_service"] == "back-30"
    offered = values["booking_alternatives"]
    assert offered and all(t.startswith("2025-11-21T17") for t in offered)


async def test_asking_for_a_person_mid_form_hands_over(dispatcher: CollectingDispatcher) -> None:
    state = tracker(text="can I just talk to a human?", intent="human_handoff",
                    requested="client_contact", slots=CHOSEN)  # fmt: skip
    values = slot_values(await ValidateBookingForm().run(dispatcher, state, DOMAIN))
    assert values == {"booking_stopped": "person", "requested_slot": None}
    events = await ActionSubmitBooking().run(
        CollectingDispatcher(), tracker(slots={"booking_stopped": "person"}), DOMAIN
    )
    assert {"event": "followup", "name": "handoff_form", "timestamp": None} in events


async def test_declining_to_give_a_number_for_a_call_back(dispatcher: CollectingDispatcher) -> None:
    values: dict[str, Any] = await ValidateHandoffForm().validate_handoff_contact(
        "tomorrow", dispatcher,
        tracker(text="no thanks, I'll ring tomorrow", intent="deny", form="handoff_form",
                requested="handoff_contact"),
        DOMAIN,
    )  # fmt: skip
    assert values["handoff_declined"] is True


@pytest.mark.parametrize(
    ("typed", "intent", "requested"),
    [
        ("what time do you close on saturday?", "ask_clinic_info", "booking_time"),
        ("I've had crushing chest pain since this morning", "red_flag", "booking_note"),
        ("will it help with sciatica?", "ask_back_pain", "client_name"),
    ],
)
async def test_questions_the_classifier_is_sure_of_are_left_to_the_rules(
    dispatcher: CollectingDispatcher, typed: str, intent: str, requested: str
) -> None:
    # No slot read: Rasa rejects the form's turn and the rule for the intent answers.
    state = tracker(text=typed, intent=intent, requested=requested, slots=CHOSEN)
    assert await ValidateBookingForm().run(dispatcher, state, DOMAIN) == []
    assert dispatcher.messages == []


async def test_an_answer_the_classifier_took_for_a_question_is_still_the_answer(
    dispatcher: CollectingDispatcher,
) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, text="60 minute back massage",
        intent="ask_massage_types", requested="booking_service",
    )  # fmt: skip
    assert values["booking_service"] == "back-60"
    values = await validate(
        ValidateBookingForm(), CollectingDispatcher(), text="my lower back is a bit stiff",
        intent="ask_back_pain", requested="booking_note",
        slots={**CHOSEN, "client_name": "Jo", "client_contact": "+447400444555"},
    )  # fmt: skip
    assert values == {"booking_note": "my lower back is a bit stiff"}


async def test_a_caution_sign_in_the_note_gets_the_advice_before_the_summary(
    dispatcher: CollectingDispatcher,
) -> None:
    state = tracker(
        text="my lower back is inflamed", requested="booking_note",
        slots={**CHOSEN, "client_name": "Jo", "client_contact": "+447400444555"},
    )  # fmt: skip
    state.latest_message["triage"] = assess("my lower back is inflamed").as_dict()
    values = slot_values(await ValidateBookingForm().run(dispatcher, state, DOMAIN))
    assert values["booking_note"] == "my lower back is inflamed"
    assert [c["concept"] for c in values["health_concerns"]] == ["inflammation"]
    assert "inflam" in texts(dispatcher).lower()


async def test_book_one_after_a_back_question_offers_the_back_massages(
    dispatcher: CollectingDispatcher,
) -> None:
    state = tracker(text="great, can I book one for friday at 3pm?", intent="schedule_appointment")
    state.events[:0] = [
        {"event": "user", "text": "can a massage help with a stiff neck?",
         "parse_data": {"intent": {"name": "ask_back_pain"}, "entities": []}},
        {"event": "bot", "text": "It may help the upper back and neck."},
    ]  # fmt: skip
    values = slot_values(await ValidateBookingForm().run(dispatcher, state, DOMAIN))
    assert values["booking_service_options"] == ["back-30", "back-60"]
