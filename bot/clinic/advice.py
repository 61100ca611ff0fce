"""What the bot says when safety or a failure matters more than the question asked.

These sentences are safety-critical, so they live in one reviewed place rather than in each action.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.clinic.facts import Clinic

SIGN_WORDS: dict[str, str] = {
    "leg_numbness_or_weakness": "numbness or weakness in your legs",
    "bladder_or_bowel": "changes in bladder or bowel control",
    "fever": "a fever",
    "fall_or_accident": "a recent fall or accident",
    "chest_pain": "chest pain",
    "unexplained_weight_loss": "unexplained weight loss",
    "inflammation": "inflammation",
    "swelling": "swelling",
    "acute_injury": "a recent injury",
    "muscles_tense_up": "muscles that tense up instead of relaxing",
}


def describe(signs: Iterable[str]) -> str:
    words = [SIGN_WORDS.get(sign, sign.replace("_", " ")) for sign in dict.fromkeys(signs)]
    if not words:
        return "a warning sign"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " and " + words[-1]


def red_flag(clinic: Clinic, signs: Iterable[str]) -> str:
    """Urgent guidance first; deliberately no booking prompt in the same reply."""
    return (
        f"I'm sorry you're dealing with this. With {describe(signs)}, please get medical "
        "advice before having any massage — it needs a doctor to check it first. "
        f"{clinic.urgent_care}"
    )


def red_flag_before_booking(clinic: Clinic, signs: Iterable[str]) -> str:
    return (
        f"Before we book: earlier you mentioned {describe(signs)}. Please have that checked by a "
        "doctor first. If your doctor has said massage is fine, we can go ahead."
    )


def caution(signs: Iterable[str]) -> str:
    """The second source article's advice: wait until it settles and consult a doctor."""
    return (
        f"As you mentioned {describe(signs)}: massage should be put off until the inflammation "
        "or injury has settled, and it's a good idea to check with your doctor first. Muscles "
        "that tense up instead of relaxing under pressure can be a sign of inflammation."
    )


def caution_before_booking(signs: Iterable[str]) -> str:
    return (
        f"{caution(signs)} You're welcome to book for a date after it has settled — and you can "
        "always move the booking later."
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
