"""What the bot says when safety or a failure matters more than the question asked.

These sentences are safety-critical, so they live in one reviewed place rather than in each action.
Each triage level has its own reply, naming what the client mentioned (the lexicon's advice key,
data/triage/concepts.yml) and giving the clinic's own numbers from data/clinic.yml. Emergency and
doctor-first replies never invite a booking.

For the booking form: `before_booking` (when a booking starts, and a short reminder before
confirming one), `concern_in_form` (a concern in a form answer or the booking note),
`stops_booking` (only emergencies end a booking), and `staff_note` (what the booking record shows
staff). `acknowledged` answers a concern mentioned again after its advice was given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.clinic.facts import Clinic
from bot.clinic.triage.model import Finding, Level, most_urgent_first


@dataclass(frozen=True)
class Wording:
    mentioned: str  # completes "You mentioned …"
    why: str = ""  # one sentence: why it matters for a massage
    who: str = "your GP"  # who to check with (doctor-first concerns)
    now: bool = False  # emergency: 999 / A&E now, rather than urgent advice today


# Emergency: sources data/sources/spinal-red-flags.txt and nhs-dvt.txt.
# Doctor first and postpone: massage-precautions.txt and the clinic's massage-therapy-notes.txt.
WORDING: dict[str, Wording] = {
    "saddle_numbness": Wording(
        "numbness or tingling around your bottom, genitals or inner thighs",
        "Together with back pain that can mean the nerves at the base of the spine are being "
        "squeezed, which needs treating straight away.",
        now=True,
    ),
    "bladder_bowel": Wording(
        "changes in your bladder or bowel control",
        "Together with back pain that can mean the nerves at the base of the spine are being "
        "squeezed, which needs treating straight away.",
        now=True,
    ),
    "leg_weakness_numbness": Wording(
        "numbness, tingling or weakness in your legs",
        "That can mean a nerve is being squeezed and needs a doctor to check it straight away.",
        now=True,
    ),
    "foot_drop": Wording(
        "trouble lifting your foot or a foot that drags",
        "That can mean a nerve is being squeezed and needs a doctor to check it straight away.",
        now=True,
    ),
    "chest_pain": Wording(
        "pain or tightness in your chest",
        "Chest pain, or a sudden tearing pain between the shoulder blades, can have causes that "
        "are not muscular and need help straight away.",
        now=True,
    ),
    "breathlessness": Wording(
        "being short of breath",
        "New breathlessness needs a doctor to check it straight away.",
        now=True,
    ),
    "fever_with_back_pain": Wording(
        "a fever or chills together with back pain",
        "Back pain with a high temperature can be a sign of an infection that needs a doctor.",
    ),
    "recent_trauma": Wording(
        "a recent fall, accident or blow",
        "Pain after a fall or accident needs checking for an injury before any massage.",
    ),
    "calf_clot": Wording(
        "a calf or leg that is swollen, red or warm",
        "That can be a sign of a blood clot (DVT), and massage could make a clot move.",
    ),
    "cancer_history_back_pain": Wording(
        "new back pain after cancer",
        "New back pain in someone who has had cancer should always be checked by a doctor.",
    ),
    "weight_loss": Wording(
        "weight loss you can't explain",
        "Unexplained weight loss with back pain should be checked by a doctor.",
    ),
    "night_pain": Wording(
        "back pain that is worse at night",
        "Pain that is worse at night and not eased by changing position should be checked by a "
        "doctor.",
    ),
    "pregnancy": Wording(
        "that you're pregnant",
        "A midwife's or GP's go-ahead comes first, and pregnancy massage needs a therapist "
        "trained in it.",
        who="your midwife or GP",
    ),
    "anticoagulants": Wording(
        "that you take blood-thinning medicine",
        "It can make you bruise or bleed more easily, so firm or deep pressure may not be safe.",
        who="your GP or the clinic that prescribes it",
    ),
    "osteoporosis": Wording(
        "osteoporosis (thin or brittle bones)",
        "Firm pressure could harm fragile bones.",
    ),
    "recent_surgery": Wording(
        "a recent operation",
        "After surgery in the last three months, your surgeon's go-ahead comes first, and we "
        "keep away from the area until it has healed.",
        who="your surgeon or GP",
    ),
    "cancer_treatment": Wording(
        "that you're having treatment for cancer",
        "Your care team knows what is safe for you during treatment.",
        who="your cancer care team",
    ),
    "previous_clot": Wording(
        "that you've had a blood clot (DVT or pulmonary embolism)",
        "Massage needs care after a clot, and you may be on blood-thinning medicine.",
    ),
    "heart_condition": Wording(
        "a heart condition or a pacemaker",
        "It's best to be sure massage is right for you.",
        who="your GP or heart specialist",
    ),
    "severe_pain": Wording(
        "that your pain is severe",
        "When pain is severe, the advice is to see a doctor first, before starting massage.",
    ),
    "inflammation": Wording(
        "inflammation",
        "Massage should wait until the inflammation has settled, and it's a good idea to check "
        "with your doctor.",
    ),
    "fresh_injury": Wording(
        "a fresh injury",
        "Massage should wait until it has settled; a doctor or physiotherapist can check it first.",
    ),
    "swelling": Wording(
        "swelling",
        "Massage should wait until the swelling has gone down; if it doesn't, please see a doctor.",
    ),
    "skin_problem": Wording(
        "a rash, a skin problem or a wound",
        "We can't massage over it until it has healed, as massage could spread an infection or "
        "hurt the skin.",
    ),
    "infection_illness": Wording(
        "that you're unwell (a cold, flu, a temperature or another infection)",
        "You need rest to get better, and close contact could pass it on to your therapist and "
        "other clients.",
    ),
    "under_16": Wording(
        "that the massage is for someone under 16",
        "Clients under 16 need a parent's or guardian's consent.",
    ),
}


def wording(finding: Finding) -> Wording:
    return WORDING.get(finding.advice) or Wording(finding.concept.replace("_", " "))


def _listed(parts: Sequence[str]) -> str:
    parts = list(dict.fromkeys(parts))
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _who(findings: Iterable[Finding]) -> str:
    """Who to check with: "your midwife or GP" already covers "your GP"."""
    people = list(dict.fromkeys(wording(f).who for f in findings))
    words = {who: set(who.split()) - {"your", "or", "the"} for who in people}
    kept = [
        who
        for who in people
        if not any(other != who and words[who] <= words[other] for other in people)
    ]
    return _listed(kept)


def _mentioned(findings: Iterable[Finding]) -> str:
    return _listed([wording(f).mentioned for f in findings])


def _why(findings: Iterable[Finding]) -> str:
    return " ".join(dict.fromkeys(wording(f).why for f in findings if wording(f).why))


def _at(concerns: Iterable[Finding], level: Level) -> list[Finding]:
    return [f for f in most_urgent_first(concerns) if f.level is level]


def level_of(concerns: Iterable[Finding]) -> Level:
    return max((f.level for f in concerns if f.is_concern), default=Level.NONE)


def stops_booking(concerns: Iterable[Finding]) -> bool:
    """Emergency concerns end a booking: the client needs medical help first."""
    return level_of(concerns) is Level.EMERGENCY


def emergency_help(clinic: Clinic, now: bool) -> str:
    if now:
        return (
            f"Please call {clinic.emergency_number} or go to A&E now. If you're not sure, call "
            f"{clinic.urgent_advice} straight away."
        )
    return (
        f"Please get urgent medical advice today: call {clinic.urgent_advice} or your GP. If it "
        f"gets worse or you feel very unwell, call {clinic.emergency_number}."
    )


def emergency(clinic: Clinic, concerns: Iterable[Finding]) -> str:
    """999 / A&E or urgent advice; deliberately no booking prompt."""
    found = _at(concerns, Level.EMERGENCY)
    now = any(wording(f).now for f in found)
    return (
        f"I'm sorry you're dealing with this. You mentioned {_mentioned(found)}. {_why(found)} "
        f"A massage will have to wait. {emergency_help(clinic, now)}"
    )


def doctor_first(
    clinic: Clinic, concerns: Iterable[Finding], opening: str = "Thank you for telling me."
) -> str:
    """Check with a GP, midwife or surgeon first; no booking prompt."""
    found = _at(concerns, Level.DOCTOR)
    who = _who(found)
    text = (
        f"{opening} You mentioned {_mentioned(found)}. {_why(found)} "
        f"Please check with {who} that massage is right for you first."
    )
    if any(f.advice == "pregnancy" for f in found):
        text += " " + pregnancy_massage(clinic)
    return f"{text} If you'd like to talk it through, our team is on {clinic.phone}."


def pregnancy_massage(clinic: Clinic) -> str:
    if clinic.offers("pregnancy"):
        return (
            f"{clinic.name} offers pregnancy massage with a therapist trained in it, which we can "
            "book once you have the go-ahead."
        )
    return (
        f"{clinic.name} doesn't offer pregnancy massage at the moment, so please speak to our "
        "team first."
    )


def postpone(clinic: Clinic, concerns: Iterable[Finding]) -> str:
    found = _at(concerns, Level.POSTPONE)
    return (
        f"You mentioned {_mentioned(found)}. {_why(found)} Please wait until it has settled "
        "before having a massage — you're welcome to book for a later date, and you can always "
        "move a booking if you need to."
    )


def under_16s(clinic: Clinic) -> str:
    if clinic.youngest_client_age is None or clinic.youngest_client_age >= 16:
        return f"{clinic.name} doesn't see clients under 16 at the moment, I'm sorry."
    return (
        f"We see young people aged {clinic.youngest_client_age} to 15: a parent or guardian "
        "gives their consent, fills in the health questions with them and stays for the whole "
        "appointment."
    )


def consent(clinic: Clinic, concerns: Iterable[Finding]) -> str:
    return (
        "Clients under 16 need a parent's or guardian's consent, so a parent or guardian "
        f"should make the booking. {under_16s(clinic)}"
    )


def concern_reply(
    clinic: Clinic, concerns: Iterable[Finding], opening: str = "Thank you for telling me."
) -> str | None:
    """The reply for the most urgent level among `concerns`; None when there is none."""
    concerns = [f for f in concerns if f.is_concern]
    level = level_of(concerns)
    if level is Level.EMERGENCY:
        return emergency(clinic, concerns)
    if level is Level.DOCTOR:
        return doctor_first(clinic, concerns, opening)
    if level is Level.POSTPONE:
        text = postpone(clinic, concerns)
        if _at(concerns, Level.CONSENT):
            text += " " + consent(clinic, concerns)
        return text
    if level is Level.CONSENT:
        return consent(clinic, concerns)
    return None


def before_booking(
    clinic: Clinic, concerns: Iterable[Finding], confirming: bool = False
) -> str | None:
    """The reminder when a booking starts; with `confirming`, the short one in the summary before
    the client says yes (the advice itself was given when the concern was raised)."""
    concerns = [f for f in concerns if f.is_concern]
    level = level_of(concerns)
    opening = "Before I confirm this" if confirming else "Before we book"
    if confirming and level is not Level.EMERGENCY:
        return _at_summary(concerns)
    if level is Level.EMERGENCY:
        found = _at(concerns, Level.EMERGENCY)
        now = any(wording(f).now for f in found)
        return (
            f"{opening}: earlier you mentioned {_mentioned(found)}. That needs a doctor first, so "
            f"I can't book a massage for now. {emergency_help(clinic, now)} Once a doctor has "
            f"said massage is fine, we'd be glad to see you — call us on {clinic.phone}."
        )
    if level is Level.DOCTOR:
        found = _at(concerns, Level.DOCTOR)
        who = _who(found)
        text = (
            f"{opening}: you mentioned {_mentioned(found)}. Please make sure {who} has said "
            "massage is fine for you, and tell your therapist at the start."
        )
        if any(f.advice == "pregnancy" for f in found):
            text += " " + pregnancy_massage(clinic)
        return text
    if level is Level.POSTPONE:
        found = _at(concerns, Level.POSTPONE)
        text = (
            f"{opening}: you mentioned {_mentioned(found)}. {_why(found)} Please choose a day "
            "after it has settled — you can always move the booking later."
        )
        if _at(concerns, Level.CONSENT):
            text += " " + consent(clinic, concerns)
        return text
    if level is Level.CONSENT:
        return f"{opening}: {consent(clinic, concerns)}"
    return None


def _at_summary(concerns: Sequence[Finding]) -> str | None:
    """One sentence per level, so a client who mentioned several things is reminded of each."""
    parts = []
    doctor = _at(concerns, Level.DOCTOR)
    if doctor:
        parts.append(
            f"you mentioned {_mentioned(doctor)}, so please check with {_who(doctor)} that "
            "massage is fine for you, and tell your therapist at the start."
        )
    waiting = _at(concerns, Level.POSTPONE)
    if waiting:
        parts.append(
            f"you mentioned {_mentioned(waiting)}, so please pick a day after it has settled — "
            "you can always move the booking."
        )
    if _at(concerns, Level.CONSENT):
        parts.append(
            "clients under 16 need a parent's or guardian's consent, and a parent or guardian "
            "comes along to the appointment."
        )
    if not parts:
        return None
    return "Before I confirm this: " + " Also, ".join(parts)


def acknowledged() -> str:
    """A concern mentioned again after its advice was given ("ok, I'll check with my midwife
    first"): the same advice word for word again would read as if the bot hadn't listened."""
    return "Thanks for letting me know — that sounds good. Is there anything else I can help with?"


def concern_in_form(clinic: Clinic, concerns: Iterable[Finding]) -> str | None:
    """A concern raised in a form answer or the booking note: the same advice, said in passing."""
    concerns = [f for f in concerns if f.is_concern]
    level = level_of(concerns)
    if level is Level.EMERGENCY:
        return emergency(clinic, concerns)
    if level is Level.NONE:
        return None
    noted = "Thanks — I've noted that."
    if level is Level.DOCTOR:
        return concern_reply(clinic, concerns, opening=noted)
    return f"{noted} {concern_reply(clinic, concerns)}"


def staff_note(concerns: Iterable[Finding]) -> str:
    """For the booking record: what the client mentioned, in their words, most urgent first."""
    parts = [
        f"{f.phrase} ({f.concept.replace('_', ' ')}, {LEVEL_NAMES[f.level]})"
        for f in most_urgent_first(f for f in concerns if f.is_concern)
    ]
    return "client mentioned: " + "; ".join(parts) if parts else ""


LEVEL_NAMES = {
    Level.EMERGENCY: "emergency",
    Level.DOCTOR: "doctor first",
    Level.POSTPONE: "postpone",
    Level.CONSENT: "consent",
    Level.NONE: "none",
}


def medical_guidance(clinic: Clinic) -> str:
    """When the classifier heard a warning sign the triage could not name."""
    return (
        "I'm sorry you're dealing with this. A symptom like that should be checked by a doctor "
        f"before any massage. {emergency_help(clinic, now=False)} "
        f"If you'd like to talk to us, call {clinic.phone}."
    )


def no_answer(clinic: Clinic) -> str:
    return (
        "I'm sorry — I don't have a checked answer to that yet, and I'd rather not guess. "
        f"I've passed your question to our team. You can also call us on {clinic.phone}."
    )


def gave_up(clinic: Clinic) -> str:
    return (
        "Sorry, I'm still not sure what you mean. A member of our team can help: I can pass you "
        f"to a person, or you can call us on {clinic.phone}."
    )


def unavailable(clinic: Clinic) -> str:
    """When the database (or another part of the bot) is down: never silence or a stack trace."""
    return (
        "I'm sorry — I can't look that up right now because of a technical problem on our side. "
        f"Please try again in a few minutes, or call us on {clinic.phone}."
    )


def not_taken(clinic: Clinic) -> str:
    """When the bot cannot keep the conversation (its store or lock is down): the message was
    not taken, so the client knows to send it again rather than think it was understood."""
    return (
        "I'm sorry — I couldn't take your last message because of a technical problem on our "
        f"side. Please send it again in a moment, or call us on {clinic.phone}."
    )
