"""The booking actions with Tracker + CollectingDispatcher, on a temporary database and clinic."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.engine import make_url

from actions import context
from actions.booking import (
    ActionAskBookingTime,
    ActionAskClientName,
    ActionSubmitBooking,
    ValidateBookingForm,
)
from actions.handoff import ActionHumanHandoff, ValidateHandoffForm
from actions.manage_booking import (
    ActionSubmitCancel,
    ActionSubmitReschedule,
    ValidateCancelBookingForm,
    ValidateRescheduleBookingForm,
)
from bot.clinic.booking.service import BookingService
from bot.clinic.db import get_engine, session_scope
from bot.clinic.facts import Clinic
from bot.clinic.models import Booking, HandoffRequest
from bot.clinic.triage import assess
from tests.support import ROOT
from tests.support.clinics import Clock, clinic_data, local

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
FRIDAY_3PM = local(2025, 11, 21, 15, 0)


@pytest.fixture(autouse=True)
def booking_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str, clock: Clock
) -> None:
    """The actions on the clinic built in code (not the sample clinic `bot_env` gives) and the
    fixed clock."""
    clinic_file = tmp_path / "clinic.yml"
    clinic_file.write_text(yaml.safe_dump(clinic_data()), encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CLINIC_FILE", str(clinic_file))
    for name in ("BOOKING_ADAPTER", "BOOKING_WEBHOOK_URL", "HANDOFF_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    # Every action module reads the clock through `context`, so one patch covers them all.
    monkeypatch.setattr(context, "current_time", clock)


def tracker(
    text: str = "",
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    candidates: dict[str, Any] | None = None,
    form: str | None = "booking_form",
    requested: str | None = None,
) -> Tracker:
    """A tracker as the form sees it: slot candidates are the SlotSet events after the message."""
    all_slots = {**(slots or {}), "requested_slot": requested}
    events: list[dict[str, Any]] = [
        {"event": "bot", "text": "Hello! How can I help?"},
        {"event": "user", "text": text, "parse_data": {}},
    ]
    events += [{"event": "slot", "name": k, "value": v} for k, v in (candidates or {}).items()]
    return Tracker(
        sender_id="client-1",
        slots={**all_slots, **(candidates or {})},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.95},
            "entities": entities or [],
        },
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": form} if form and requested else {},
        latest_action_name="action_listen",
    )


def slot_values(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def validate(action: Any, dispatcher: CollectingDispatcher, **kwargs: Any) -> dict[str, Any]:
    return slot_values(await action.run(dispatcher, tracker(**kwargs), DOMAIN))


async def test_prefilled_service_and_time_are_checked(dispatcher: CollectingDispatcher) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher,
        text="book me a 60 minute back massage on Friday at 3", intent="schedule_appointment",
        entities=[{"entity": "massage_type", "value": "back"},
                  {"entity": "date_time", "value": "Friday at 3"}],
        candidates={"booking_service": "back", "booking_time": "Friday at 3"},
    )  # fmt: skip
    assert values["booking_service"] == "back-60"
    assert values["booking_time"] == FRIDAY_3PM.isoformat()
    # The time asked for is confirmed before the next question.
    assert [m["text"] for m in dispatcher.messages] == [
        "Friday 21 November at 15:00 is free for a 60-minute back massage."
    ]


async def test_ambiguous_service_offers_the_choices(dispatcher: CollectingDispatcher) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, text="a back massage please",
        entities=[{"entity": "massage_type", "value": "back"}],
        candidates={"booking_service": "back"}, requested="booking_service",
    )  # fmt: skip
    assert values["booking_service"] is None
    assert values["booking_service_options"] == ["back-30", "back-60"]


async def test_closed_day_gets_the_reason_then_free_times_as_buttons(
    dispatcher: CollectingDispatcher,
) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, text="sunday at 11",
        candidates={"booking_time": "sunday at 11"}, requested="booking_time",
        slots={"booking_service": "back-30"},
    )  # fmt: skip
    assert values["booking_time"] is None and values["booking_failures"] == 1
    assert dispatcher.messages[0]["text"] == "We're closed on Sundays."
    assert len(values["booking_alternatives"]) == 3

    ask = CollectingDispatcher()
    await ActionAskBookingTime().run(
        ask, tracker(slots={**values, "booking_service": "back-30"}), DOMAIN
    )
    [message] = ask.messages
    assert message["text"] == "Would one of these suit you? Or tell me another day and time."
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[0].startswith('/inform{"date_time": "2025-11-2')
    assert len(payloads) == 3  # no person offer yet


async def test_a_day_alone_asks_for_the_time_that_day(dispatcher: CollectingDispatcher) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, text="friday", candidates={"booking_time": "friday"},
        requested="booking_time", slots={"booking_service": "back-30"},
    )  # fmt: skip
    assert values["booking_time"] is None and values["booking_day"] == "2025-11-21"
    assert dispatcher.messages == []  # the question comes from action_ask_booking_time
    ask = CollectingDispatcher()
    await ActionAskBookingTime().run(
        ask, tracker(slots={**values, "booking_service": "back-30"}), DOMAIN
    )
    assert ask.messages[0]["text"].startswith("What time on Friday 21 November would suit you?")
    assert ask.messages[0]["buttons"][0]["title"] == "Friday 21 November at 09:00"

    then = await validate(
        ValidateBookingForm(), CollectingDispatcher(), text="3pm",
        candidates={"booking_time": "3pm"}, requested="booking_time",
        slots={"booking_service": "back-30", "booking_day": "2025-11-21"},
    )  # fmt: skip
    assert then["booking_time"] == FRIDAY_3PM.isoformat() and then["booking_day"] is None


async def test_after_work_offers_evening_times_without_counting_a_failure(
    dispatcher: CollectingDispatcher,
) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, text="thursday after work",
        candidates={"booking_time": "thursday after work"}, requested="booking_time",
        slots={"booking_service": "back-30", "booking_failures": 1},
    )  # fmt: skip
    assert values["booking_time"] is None and "booking_failures" not in values
    assert dispatcher.messages[0]["text"] == "These times are free tomorrow after 17:00."
    assert values["booking_alternatives"] == [
        local(2025, 11, 20, 17, 0).isoformat(), local(2025, 11, 20, 17, 15).isoformat(),
        local(2025, 11, 20, 17, 30).isoformat(),
    ]  # fmt: skip
    ask = CollectingDispatcher()
    await ActionAskBookingTime().run(ask, tracker(slots={**values}), DOMAIN)
    titles = [b["title"] for b in ask.messages[0]["buttons"]]
    assert titles == ["tomorrow at 17:00", "tomorrow at 17:15", "tomorrow at 17:30"]


async def test_the_first_message_keeps_service_and_time(dispatcher: CollectingDispatcher) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher,
        text="can i book a 30 min back massage tomorrow 2ish", intent="schedule_appointment",
        entities=[{"entity": "massage_type", "value": "back"},
                  {"entity": "date_time", "value": "tomorrow 2ish"}],
        candidates={"booking_service": "back", "booking_time": "tomorrow 2ish"},
    )  # fmt: skip
    assert values["booking_service"] == "back-30"
    assert values["booking_time"] == local(2025, 11, 20, 14, 0).isoformat()


async def test_a_phone_number_does_not_wipe_the_chosen_time(
    dispatcher: CollectingDispatcher,
) -> None:
    # The NLU saw a date in "0044 7400 654321" at the contact question: the time stays.
    chosen = FRIDAY_3PM.isoformat()
    state = tracker(
        text="0044 7400 654321", requested="client_contact",
        slots={"booking_service": "back-30", "booking_time": chosen},
        candidates={"booking_time": "0044 7400 654321", "client_contact": "0044 7400 654321"},
    )  # fmt: skip
    state.events[:0] = [
        {"event": "user", "text": "book a back massage friday at 3"},
        {"event": "slot", "name": "booking_time", "value": chosen},
        {"event": "user", "text": "Jo Bloggs"},  # a turn in between
        {"event": "slot", "name": "client_name", "value": "Jo Bloggs"},
    ]
    values = slot_values(await ValidateBookingForm().run(dispatcher, state, DOMAIN))
    assert "booking_time" not in values  # left as it was
    assert values["client_contact"] == "+447400654321"
    assert dispatcher.messages == []


async def test_asap_offers_the_earliest_times(dispatcher: CollectingDispatcher) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, text="asap", candidates={"booking_time": "asap"},
        requested="booking_time", slots={"booking_service": "back-30"},
    )  # fmt: skip
    assert dispatcher.messages[0]["text"] == "Here are the earliest times I can offer."
    assert values["booking_alternatives"][0] == local(2025, 11, 19, 12, 0).isoformat()
    assert "booking_failures" not in values


async def test_days_read_in_a_sentence(dispatcher: CollectingDispatcher) -> None:
    ask = CollectingDispatcher()
    await ActionAskBookingTime().run(
        ask, tracker(slots={"booking_service": "back-30", "booking_day": "2025-11-20"}), DOMAIN
    )
    assert ask.messages[0]["text"].startswith("What time tomorrow would suit you?")
    tomorrow = local(2025, 11, 20, 11, 0).isoformat()
    await ActionSubmitBooking().run(
        dispatcher, tracker(slots=booking_slots(booking_time=tomorrow), form=None), DOMAIN
    )
    assert "Back massage (60 minutes) tomorrow at 11:00." in dispatcher.messages[0]["text"]
    assert "on tomorrow" not in dispatcher.messages[0]["text"]


async def test_a_taken_time_offers_the_nearest_free_ones(
    dispatcher: CollectingDispatcher, clinic: Clinic, database_url: str, clock: Clock
) -> None:
    service = BookingService(clinic, database_url, clock=clock)
    for name in ("Ann Other", "Bob Other"):  # both therapists
        assert service.create("back-30", FRIDAY_3PM, name, "07911 123456").ok
    values = await validate(
        ValidateBookingForm(), dispatcher, text="Friday at 3pm",
        candidates={"booking_time": "Friday at 3pm"}, requested="booking_time",
        slots={"booking_service": "back-30"},
    )  # fmt: skip
    assert values["booking_time"] is None
    assert dispatcher.messages[0]["text"] == "Sorry, Friday 21 November at 15:00 is already booked."
    # 14:45 would overlap 15:00; 14:15 and 15:45 are equally near and the earlier wins.
    assert values["booking_alternatives"] == [
        local(2025, 11, 21, 14, 15).isoformat(), local(2025, 11, 21, 14, 30).isoformat(),
        local(2025, 11, 21, 15, 30).isoformat(),
    ]  # fmt: skip


async def test_a_button_time_is_checked_too(dispatcher: CollectingDispatcher) -> None:
    chosen = local(2025, 11, 21, 10, 15).isoformat()
    payload = f'/inform{{"date_time": "{chosen}"}}'
    state = tracker(
        text=payload, entities=[{"entity": "date_time", "value": chosen}],
        requested="booking_time", slots={"booking_service": "back-60"},
    )  # fmt: skip
    state.events[0]["data"] = {"buttons": [{"title": "Friday at 10:15", "payload": payload}]}
    values = slot_values(await ValidateBookingForm().run(dispatcher, state, DOMAIN))
    assert values["booking_time"] == chosen


async def test_a_stale_button_changes_nothing(dispatcher: CollectingDispatcher) -> None:
    # A time button from an older reply, tapped at the name question: the name is asked again.
    chosen = local(2025, 11, 21, 10, 15).isoformat()
    values = await validate(
        ValidateBookingForm(), dispatcher, text=f'/inform{{"date_time": "{chosen}"}}',
        entities=[{"entity": "date_time", "value": chosen}], requested="client_name",
        slots={"booking_service": "back-60", "booking_time": FRIDAY_3PM.isoformat()},
    )  # fmt: skip
    assert values == {"client_name": None}
    assert dispatcher.messages == []


async def test_repeated_wrong_answers_offer_a_person_then_stop(
    dispatcher: CollectingDispatcher,
) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, text="blah", candidates={"booking_time": "blah"},
        requested="booking_time", slots={"booking_service": "back-30", "booking_failures": 1},
    )  # fmt: skip
    assert values["booking_failures"] == 2 and "requested_slot" not in values
    ask = CollectingDispatcher()
    await ActionAskClientName().run(ask, tracker(slots={"booking_failures": 2}), DOMAIN)
    assert ask.messages[0]["buttons"] == [
        {"title": "Talk to a person", "payload": "/human_handoff"}
    ]

    third = await validate(
        ValidateBookingForm(), CollectingDispatcher(), text="blah",
        candidates={"booking_time": "blah"}, requested="booking_time",
        slots={"booking_service": "back-30", "booking_failures": 2},
    )  # fmt: skip
    assert third["booking_stopped"] == "failures" and third["requested_slot"] is None
    submit = CollectingDispatcher()
    await ActionSubmitBooking().run(submit, tracker(slots={"booking_stopped": "failures"}), DOMAIN)
    assert submit.messages[0]["buttons"] == [
        {"title": "Talk to a person", "payload": "/human_handoff"}
    ]


@pytest.mark.parametrize(
    "text", ["stop", "never mind", "No, cancel that", "forget it thanks", "cancel"]
)
async def test_stop_leaves_the_form(dispatcher: CollectingDispatcher, text: str) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, text=text, intent="deny",
        candidates={"client_name": text}, requested="client_name",
        slots={"booking_service": "back-30", "booking_time": FRIDAY_3PM.isoformat()},
    )  # fmt: skip
    assert values["booking_stopped"] == "client" and values["requested_slot"] is None
    assert values["booking_time"] is None  # nothing carried over to a later booking


async def test_red_flag_means_no_booking(dispatcher: CollectingDispatcher) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, intent="schedule_appointment",
        slots={"health_concerns": [f.as_dict() for f in assess("my legs went numb").concerns]},
        candidates={"booking_service": "back"},
    )  # fmt: skip
    assert values == {"booking_stopped": "red_flag", "requested_slot": None}
    submit = CollectingDispatcher()
    await ActionSubmitBooking().run(submit, tracker(slots={"booking_stopped": "red_flag"}), DOMAIN)
    assert submit.messages == []


async def test_name_contact_and_note(dispatcher: CollectingDispatcher) -> None:
    values = await validate(
        ValidateBookingForm(), dispatcher, text="my name is jo bloggs",
        candidates={"client_name": "my name is jo bloggs"}, requested="client_name",
    )  # fmt: skip
    assert values["client_name"] == "Jo Bloggs"
    values = await validate(
        ValidateBookingForm(), dispatcher, text="07911 123 456",
        candidates={"client_contact": "07911 123 456"}, requested="client_contact",
    )  # fmt: skip
    assert values["client_contact"] == "+447911123456"
    values = await validate(
        ValidateBookingForm(), dispatcher, text="no thanks", intent="deny",
        candidates={"booking_note": "no thanks"}, requested="booking_note",
    )  # fmt: skip
    assert values["booking_note"] == "-"
    values = await validate(
        ValidateBookingForm(), dispatcher, text="my lower back is inflamed",
        candidates={"booking_note": "my lower back is inflamed"}, requested="booking_note",
    )  # fmt: skip
    assert values["booking_note"] == "my lower back is inflamed"


def booking_slots(**extra: Any) -> dict[str, Any]:
    return {
        "booking_service": "back-60", "booking_time": FRIDAY_3PM.isoformat(),
        "client_name": "Jo Bloggs", "client_contact": "+447911123456",
        "booking_note": "lower left side", "booking_confirmed": True, **extra,
    }  # fmt: skip


async def test_submit_books_and_gives_a_reference(
    dispatcher: CollectingDispatcher, database_url: str
) -> None:
    events = await ActionSubmitBooking().run(
        dispatcher, tracker(slots=booking_slots(), form=None), DOMAIN
    )
    with session_scope(database_url) as session:
        row = session.execute(select(Booking)).scalar_one()
        assert (row.client_name, row.note, row.conversation_id) == (
            "Jo Bloggs", "lower left side", "client-1",
        )  # fmt: skip
    text = dispatcher.messages[0]["text"]
    assert row.reference in text and "Friday 21 November at 15:00" in text
    values = slot_values(events)
    assert values["booking_reference"] == row.reference
    assert values["booking_time"] is None and values["booking_confirmed"] is None


async def test_a_stalled_database_keeps_the_booking_details_for_another_try(
    dispatcher: CollectingDispatcher, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database is locked by someone else past DATABASE_TIMEOUT_SECONDS: the client hears
    that nothing was booked, and the form asks again with everything they said still there."""
    monkeypatch.setenv("DATABASE_TIMEOUT_SECONDS", "0.5")
    get_engine.cache_clear()
    holder = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        events = await ActionSubmitBooking().run(
            dispatcher, tracker(slots=booking_slots(), form=None), DOMAIN
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        get_engine.cache_clear()
    text = dispatcher.messages[0]["text"]
    assert "nothing has been booked" in text and "kept your details" in text
    assert events == [SlotSet("booking_confirmed", None), FollowupAction("booking_form")]
    with session_scope(database_url) as session:
        assert session.execute(select(Booking)).first() is None


async def test_submit_when_someone_else_was_faster(
    dispatcher: CollectingDispatcher, clinic: Clinic, database_url: str, clock: Clock
) -> None:
    # Between the time check and "yes", both therapists' 15:00 went to other clients.
    service = BookingService(clinic, database_url, clock=clock)
    for name in ("Ann Other", "Bob Other"):
        assert service.create("back-60", FRIDAY_3PM, name, "ann@example.com").ok
    events = await ActionSubmitBooking().run(
        dispatcher, tracker(slots=booking_slots(), form=None), DOMAIN
    )
    assert "already booked" in dispatcher.messages[0]["text"]
    assert FollowupAction("booking_form") in events  # ask for another time, keep the rest
    assert SlotSet("booking_time", None) in events
    assert SlotSet("client_name", None) not in events
    assert len(slot_values(events)["booking_alternatives"]) == 3


async def test_declined_summary_books_nothing(
    dispatcher: CollectingDispatcher, database_url: str
) -> None:
    await ActionSubmitBooking().run(
        dispatcher, tracker(slots=booking_slots(booking_confirmed=False), form=None), DOMAIN
    )
    assert "haven't booked" in dispatcher.messages[0]["text"]
    with session_scope(database_url) as session:
        assert session.execute(select(Booking)).first() is None


# --- cancel, reschedule, hand-off ---------------------------------------------------------------


@pytest.fixture()
def jo_booking(clinic: Clinic, database_url: str, clock: Clock) -> str:
    outcome = BookingService(clinic, database_url, clock=clock).create(
        "back-60", FRIDAY_3PM, "Jo Bloggs", "07911 123456"
    )
    assert outcome.booking is not None
    return outcome.booking.reference


async def test_cancel_needs_the_matching_contact(
    dispatcher: CollectingDispatcher, jo_booking: str, database_url: str
) -> None:
    wrong = await validate(
        ValidateCancelBookingForm(), dispatcher, text="07400 123456", form="cancel_booking_form",
        candidates={"manage_contact": "07400 123456"}, requested="manage_contact",
        slots={"manage_reference": jo_booking},
    )  # fmt: skip
    assert wrong["manage_contact"] is None and wrong["manage_reference"] is None
    assert dispatcher.messages[0]["text"].startswith("I couldn't find a booking")
    assert "Friday" not in dispatcher.messages[0]["text"]  # nothing about the booking leaks

    right = await validate(
        ValidateCancelBookingForm(), CollectingDispatcher(), text="+44 7911 123456",
        form="cancel_booking_form", candidates={"manage_contact": "+44 7911 123456"},
        requested="manage_contact", slots={"manage_reference": jo_booking.lower()},
    )  # fmt: skip
    assert right["manage_contact"] == "+447911123456"
    assert right["manage_booking"]["reference"] == jo_booking

    done = CollectingDispatcher()
    events = await ActionSubmitCancel().run(
        done,
        tracker(form=None, slots={"manage_reference": jo_booking, "manage_confirmed": True,
                                  "manage_contact": "+447911123456"}),
        DOMAIN,
    )  # fmt: skip
    assert "is cancelled" in done.messages[0]["text"]
    assert slot_values(events)["manage_reference"] is None
    with session_scope(database_url) as session:
        assert session.execute(select(Booking.status)).scalar_one() == "cancelled"


async def test_reference_is_checked_for_shape(dispatcher: CollectingDispatcher) -> None:
    values = await validate(
        ValidateCancelBookingForm(), dispatcher, text="12", form="cancel_booking_form",
        candidates={"manage_reference": "12"}, requested="manage_reference",
    )  # fmt: skip
    assert values["manage_reference"] is None
    assert "MB-7K3Q9P" in dispatcher.messages[0]["text"]


async def test_reschedule_with_the_time_given_up_front(
    dispatcher: CollectingDispatcher, jo_booking: str, database_url: str
) -> None:
    # "Move MB-… to Monday at 10": the time waits until the booking is found.
    first = await validate(
        ValidateRescheduleBookingForm(), dispatcher, intent="reschedule_appointment",
        text=f"move {jo_booking} to monday at 10", form="reschedule_booking_form",
        candidates={"manage_reference": jo_booking, "manage_new_time": "monday at 10"},
    )  # fmt: skip
    assert "manage_new_time" not in first
    assert first["manage_pending_time"] == "move to monday at 10"  # read once the booking is found
    found = await validate(
        ValidateRescheduleBookingForm(), CollectingDispatcher(), text="07911123456",
        form="reschedule_booking_form", candidates={"manage_contact": "07911123456"},
        requested="manage_contact", slots={"manage_reference": jo_booking, **first},
    )  # fmt: skip
    assert found["manage_new_time"] == local(2025, 11, 24, 10, 0).isoformat()
    # Overlapping its own time is fine when moving by 30 minutes.
    later = await validate(
        ValidateRescheduleBookingForm(), CollectingDispatcher(), text="friday at 3:30pm",
        form="reschedule_booking_form", candidates={"manage_new_time": "friday at 3:30pm"},
        requested="manage_new_time", slots={"manage_booking": found["manage_booking"]},
    )  # fmt: skip
    assert later["manage_new_time"] == local(2025, 11, 21, 15, 30).isoformat()

    done = CollectingDispatcher()
    await ActionSubmitReschedule().run(
        done,
        tracker(form=None, slots={"manage_reference": jo_booking, "manage_confirmed": True,
                                  "manage_contact": "07911 123456",
                                  "manage_new_time": later["manage_new_time"]}),
        DOMAIN,
    )  # fmt: skip
    assert (
        "moved your Back massage (60 minutes) to Friday 21 November at 15:30"
        in done.messages[0]["text"]
    )
    with session_scope(database_url) as session:
        assert session.execute(select(Booking.start_at)).scalar_one() == local(2025, 11, 21, 15, 30)


async def test_reschedule_to_the_same_time_next_week(
    dispatcher: CollectingDispatcher, jo_booking: str
) -> None:
    booking = {
        "id": 1,
        "reference": jo_booking,
        "service_id": "back-60",
        "service_name": "Back massage (60 minutes)",
        "start": FRIDAY_3PM.isoformat(),
    }
    values = await validate(
        ValidateRescheduleBookingForm(), dispatcher, text="same time next week",
        form="reschedule_booking_form", candidates={"manage_new_time": "same time next week"},
        requested="manage_new_time", slots={"manage_booking": booking},
    )  # fmt: skip
    assert values["manage_new_time"] == local(2025, 11, 28, 15, 0).isoformat()


async def test_declining_leaves_the_booking(
    dispatcher: CollectingDispatcher, jo_booking: str
) -> None:
    await ActionSubmitCancel().run(
        dispatcher,
        tracker(form=None, slots={"manage_reference": jo_booking, "manage_confirmed": False}),
        DOMAIN,
    )
    assert dispatcher.messages[0]["text"] == "OK — I've left your booking as it is."


async def test_handoff_while_open_pauses_the_bot(
    dispatcher: CollectingDispatcher, database_url: str
) -> None:
    form = ValidateHandoffForm()
    assert await form.required_slots([], dispatcher, tracker(form="handoff_form"), DOMAIN) == []
    events = await ActionHumanHandoff().run(
        dispatcher, tracker("I want to talk to a person", intent="human_handoff", form=None), DOMAIN
    )
    assert ConversationPaused() in events
    assert "take over" in dispatcher.messages[0]["text"]
    with session_scope(database_url) as session:
        request = session.execute(select(HandoffRequest)).scalar_one()
        assert request.conversation_id == "client-1" and request.clinic_open
        assert "client: I want to talk to a person" in request.transcript


async def test_handoff_when_closed_asks_for_a_number_and_promises_a_call_back(
    dispatcher: CollectingDispatcher, clock: Clock, database_url: str
) -> None:
    clock.now = local(2025, 11, 22, 18, 0)  # Saturday evening
    form = ValidateHandoffForm()
    empty = tracker(form="handoff_form")
    assert await form.required_slots([], dispatcher, empty, DOMAIN) == ["handoff_contact"]
    known = tracker(form="handoff_form", slots={"client_contact": "+447911123456"})
    assert await form.required_slots([], dispatcher, known, DOMAIN) == []

    events = await ActionHumanHandoff().run(
        dispatcher, tracker(form=None, slots={"handoff_contact": "+447911123456"}), DOMAIN
    )
    assert ConversationPaused() not in events  # nobody to take over: the bot carries on
    assert (
        "call you back when we open (Monday 24 November at 09:00)" in dispatcher.messages[0]["text"]
    )
    with session_scope(database_url) as session:
        request = session.execute(select(HandoffRequest)).scalar_one()
        assert request.contact == "+447911123456" and not request.clinic_open


def test_every_domain_action_is_served_and_no_helper_leaks() -> None:
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    custom = {a for a in DOMAIN["actions"] if not a.startswith("utter_")}
    assert custom <= set(executor.actions)
    assert "action_ask_" not in executor.actions  # the abstract helpers stay unregistered
