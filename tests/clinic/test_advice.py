"""The replies for each triage level: what the client mentioned, the clinic's numbers, and no
booking prompt where medical help comes first."""

from __future__ import annotations

from dataclasses import replace

from bot.clinic import advice
from bot.clinic.facts import Clinic, Service
from bot.clinic.triage import assess


def test_emergency_reply_names_the_sign_and_the_numbers(clinic: Clinic) -> None:
    text = advice.concern_reply(clinic, assess("I can't control my bladder").concerns)
    assert text is not None
    assert "changes in your bladder or bowel control" in text
    assert clinic.emergency_number in text and "A&E" in text
    assert "book" not in text.lower()


def test_urgent_but_not_999_now_signs_get_urgent_advice_today(clinic: Clinic) -> None:
    text = advice.concern_reply(clinic, assess("I fell off a ladder yesterday").concerns)
    assert text is not None
    assert "a recent fall, accident or blow" in text
    assert f"call {clinic.urgent_advice} or your GP" in text


def test_doctor_first_reply_says_who_to_ask(clinic: Clinic) -> None:
    text = advice.concern_reply(clinic, assess("I take blood thinners").concerns)
    assert text is not None
    assert "You mentioned that you take blood-thinning medicine" in text
    assert "your GP or the clinic that prescribes it" in text
    assert clinic.phone in text
    assert "book" not in text.lower()


def test_pregnancy_reply_says_whether_the_clinic_offers_pregnancy_massage(clinic: Clinic) -> None:
    concerns = assess("I'm 20 weeks pregnant").concerns
    assert "doesn't offer pregnancy massage" in str(advice.concern_reply(clinic, concerns))
    offering = replace(
        clinic, services=(*clinic.services, Service("preg-60", "Pregnancy", "pregnancy", 60, 60.0))
    )
    assert "offers pregnancy massage" in str(advice.concern_reply(offering, concerns))


def test_postpone_reply_allows_a_later_booking(clinic: Clinic) -> None:
    text = advice.concern_reply(clinic, assess("I've got the flu").concerns)
    assert text is not None
    assert "wait until it has settled" in text and "book for a later date" in text


def test_consent_reply_says_what_the_clinic_offers_under_16s(sample_clinic: Clinic) -> None:
    concerns = assess("my son is 13, can he come in?").concerns
    text = advice.concern_reply(sample_clinic, concerns)
    assert text is not None
    assert "parent" in text and f"aged {sample_clinic.youngest_client_age} to 15" in text
    none_under_16 = replace(sample_clinic, youngest_client_age=None)
    assert "doesn't see clients under 16" in str(advice.concern_reply(none_under_16, concerns))


def test_booking_reminders_by_level(clinic: Clinic) -> None:
    emergency = advice.before_booking(clinic, assess("my legs are numb").concerns)
    assert emergency is not None and "can't book" in emergency
    doctor = advice.before_booking(clinic, assess("I'm on warfarin").concerns, confirming=True)
    assert doctor is not None and doctor.startswith("Before I confirm this")
    assert advice.before_booking(clinic, assess("my shoulders are tight").concerns) is None
    assert advice.stops_booking(assess("my legs are numb").concerns)
    assert not advice.stops_booking(assess("I'm on warfarin").concerns)


def test_a_concern_in_a_form_answer_is_acknowledged(clinic: Clinic) -> None:
    text = advice.concern_in_form(clinic, assess("I'm 18 weeks pregnant").concerns)
    assert text is not None and text.startswith("Thanks — I've noted that. You mentioned")
    assert "Thank you for telling me" not in text  # one thank-you is enough
    assert advice.concern_in_form(clinic, assess("lower left side").concerns) is None


def test_the_reminder_before_confirming_is_short_and_names_each_concern(clinic: Clinic) -> None:
    concerns = assess("I'm 18 weeks pregnant, I take warfarin and my back is swollen").concerns
    text = advice.before_booking(clinic, concerns, confirming=True)
    assert text is not None and text.startswith("Before I confirm this: you mentioned")
    assert "pregnant" in text and "blood-thinning" in text and "swelling" in text
    assert "your midwife or GP" in text and "after it has settled" in text
    # The advice itself was given when the concern was raised: not again word for word.
    assert advice.doctor_first(clinic, concerns) not in text
    assert "pregnancy massage" not in text


def test_who_to_ask_is_said_once(clinic: Clinic) -> None:
    concerns = assess("I'm pregnant and I have osteoporosis").concerns
    text = str(advice.before_booking(clinic, concerns, confirming=True))
    assert "check with your midwife or GP that" in text  # "your GP" is already in it
    assert "your GP and" not in text and "and your GP" not in text


def test_a_concern_mentioned_again_is_acknowledged_briefly() -> None:
    text = advice.acknowledged()
    assert len(text) < 120 and "anything else" in text
    assert "book" not in text.lower()


def test_staff_note_quotes_the_client(clinic: Clinic) -> None:
    note = advice.staff_note(assess("I'm 18 weeks pregnant and I take warfarin").concerns)
    assert note.startswith("client mentioned: ")
    assert "pregnant (pregnancy, doctor first)" in note
    assert "warfarin (anticoagulants, doctor first)" in note
    assert advice.staff_note([]) == ""
