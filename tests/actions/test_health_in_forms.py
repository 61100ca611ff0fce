"""Triage inside the booking form: every answer and the note are read for health concerns. An
emergency ends the booking (the rules give urgent guidance); any other concern gets its advice
once, the booking goes on, the summary reminds the client before they confirm, and the booking
record shows staff what was mentioned. Also: another language in the middle of a booking."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import context
from actions.booking import ActionAskBookingConfirmed, ActionSubmitBooking, ValidateBookingForm
from bot.clinic.advice import staff_note
from bot.clinic.triage import assess
from tests.actions.test_booking_actions import (  # booking_env: the clinic, clock and database
    DOMAIN,
    FRIDAY_3PM,
    booking_env,  # noqa: F401
    slot_values,
    tracker,
)

DETAILS = {
    "booking_service": "back-30",
    "booking_time": FRIDAY_3PM.isoformat(),
    "client_name": "Jo Bloggs",
    "client_contact": "+447400444555",
}
PREGNANT = [f.as_dict() for f in assess("I'm 20 weeks pregnant").concerns]


def message(
    text: str,
    requested: str | None,
    slots: dict[str, Any] | None = None,
    ranking: list[tuple[str, float]] | None = None,
) -> Tracker:
    """The form's view of `text` as the NLU reads it: the triage attached, and `red_flag` put
    first when the triage found an emergency or doctor-first concern (WarningSignDetector),
    with the classifier's own `ranking` after it."""
    triage = assess(text)
    ranked = [{"name": name, "confidence": score} for name, score in ranking or [("inform", 0.9)]]
    if triage.level.value in {"doctor", "emergency"}:
        ranked = [{"name": "red_flag", "confidence": 1.0}, *ranked]
    state = tracker(
        text=text, intent=ranked[0]["name"], requested=requested, slots=slots or dict(DETAILS)
    )
    state.latest_message["triage"] = triage.as_dict()
    state.latest_message["intent_ranking"] = ranked
    return state


async def read(state: Tracker) -> tuple[dict[str, Any], str]:
    dispatcher = CollectingDispatcher()
    values = slot_values(await ValidateBookingForm().run(dispatcher, state, DOMAIN))
    return values, " ".join(m.get("text") or "" for m in dispatcher.messages)


def concepts(values: dict[str, Any]) -> list[str]:
    return [c["concept"] for c in values.get("health_concerns") or []]


async def test_a_doctor_first_note_gets_its_advice_and_the_booking_goes_on() -> None:
    values, said = await read(
        message("I'm 20 weeks pregnant", "booking_note", ranking=[("inform", 0.65)])
    )
    assert values["booking_note"] == "I'm 20 weeks pregnant"
    assert concepts(values) == ["pregnancy"]
    assert "booking_stopped" not in values and "requested_slot" not in values
    assert "You mentioned that you're pregnant" in said and "midwife or GP" in said
    assert "999" not in said


async def test_the_summary_reminds_the_client_before_they_confirm() -> None:
    dispatcher = CollectingDispatcher()
    slots = {**DETAILS, "booking_note": "I'm 20 weeks pregnant", "health_concerns": PREGNANT}
    await ActionAskBookingConfirmed().run(dispatcher, tracker(slots=slots), DOMAIN)
    [summary] = dispatcher.messages
    assert "Before I confirm this: you mentioned that you're pregnant" in summary["text"]
    assert "midwife or GP" in summary["text"]
    assert "Shall I still book it?" in summary["text"]

    plain = CollectingDispatcher()
    await ActionAskBookingConfirmed().run(plain, tracker(slots=DETAILS), DOMAIN)
    assert "Before I confirm" not in plain.messages[0]["text"]
    assert "Shall I book it?" in plain.messages[0]["text"]


async def test_my_midwife_says_its_fine_confirms_without_the_advice_again() -> None:
    slots = {**DETAILS, "booking_note": "I'm 20 weeks pregnant", "health_concerns": PREGNANT}
    values, said = await read(
        message("yes, my midwife says it's fine", "booking_confirmed", slots, [("affirm", 0.95)])
    )
    assert values["booking_confirmed"] is True
    assert said == ""  # straight on to booking: no advice, no question


async def test_the_booking_record_shows_staff_what_was_mentioned() -> None:
    slots = {**DETAILS, "booking_confirmed": True, "health_concerns": PREGNANT}
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitBooking().run(dispatcher, tracker(slots=slots), DOMAIN)
    assert "booked in" in dispatcher.messages[0]["text"]
    reference = slot_values(events)["booking_reference"]
    stored = context.booking_service().get(reference)
    assert stored is not None
    assert staff_note(stored.health_concerns) == (
        "client mentioned: pregnant (pregnancy, doctor first)"
    )


async def test_an_emergency_in_an_answer_is_left_to_the_rules_to_end_the_booking() -> None:
    state = message("my legs have gone numb", "booking_note")
    dispatcher = CollectingDispatcher()
    assert await ValidateBookingForm().run(dispatcher, state, DOMAIN) == []
    assert dispatcher.messages == []


async def test_a_concern_at_the_name_question_is_news_not_a_wrong_name() -> None:
    slots = {k: v for k, v in DETAILS.items() if k in {"booking_service", "booking_time"}}
    values, said = await read(message("I'm 20 weeks pregnant", "client_name", slots))
    assert values["client_name"] is None and values["requested_slot"] == "client_name"
    assert "booking_failures" not in values
    assert concepts(values) == ["pregnancy"]
    assert "midwife" in said and "name can only" not in said


async def test_a_concern_advised_already_is_not_advised_again() -> None:
    slots = {"booking_service": "back-30", "health_concerns": PREGNANT}
    values, said = await read(message("I'm 20 weeks pregnant", "booking_time", slots))
    assert said == "Thanks for letting me know."
    assert values["booking_time"] is None and "booking_failures" not in values


async def test_a_postpone_concern_with_the_answer_gets_the_advice_and_the_answer_counts() -> None:
    slots = {"booking_service": "back-30"}
    text = "friday at 3pm, but I've got a bit of a cold at the moment"
    values, said = await read(message(text, "booking_time", slots))
    assert values["booking_time"] == FRIDAY_3PM.isoformat()
    assert concepts(values) == ["infection_illness"]
    assert "unwell" in said and "wait until it has settled" in said


async def test_a_duration_question_at_the_service_question_gets_only_the_lengths(
    faq_database: str,  # the FAQ in the form's database
) -> None:
    ranking = [("nlu_fallback", 0.55), ("ask_treatment_plan", 0.48), ("ask_clinic_info", 0.37)]
    values, said = await read(message("how long is a session?", "booking_service", {}, ranking))
    assert values["requested_slot"] == "booking_service"
    assert "30 or 60 minutes" in said
    assert "six weeks" not in said and "four treatments" not in said


async def test_another_language_is_left_to_the_language_reply() -> None:
    # The rules answer in that language; the form then asks its question again.
    ranking = [("other_language", 1.0)]
    polish = "Przepraszam, nie rozumiem, czy mówi Pan po polsku?"
    for requested in ("client_name", "booking_note", "booking_time"):
        state = message(polish, requested, ranking=ranking)
        dispatcher = CollectingDispatcher()
        assert await ValidateBookingForm().run(dispatcher, state, DOMAIN) == [], requested
        assert dispatcher.messages == []
    # A name reads the same in any language.
    slots = {k: v for k, v in DETAILS.items() if k in {"booking_service", "booking_time"}}
    values, _ = await read(message("José García", "client_name", slots, ranking))
    assert values["client_name"] == "José García"
