"""Warning signs: red flags need a doctor first, caution signs mean wait and check."""

import pytest

from bot.clinic.triage import Level, assess


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("my legs have gone numb since my back went", "leg_numbness_or_weakness"),
        ("weakness in both legs when I walk", "leg_numbness_or_weakness"),
        ("pins and needles down my left leg", "leg_numbness_or_weakness"),
        ("I've lost control of my bladder", "bladder_or_bowel"),
        ("bowel problems since the back pain started", "bladder_or_bowel"),
        ("back pain and I have a fever", "fever"),
        ("running a temperature and my back aches", "fever"),
        ("I fell off a ladder yesterday", "fall_or_accident"),
        ("was in a car accident last week, neck is stiff", "fall_or_accident"),
        ("chest pain when I breathe in", "chest_pain"),
        ("unexplained weight loss and back ache", "unexplained_weight_loss"),
    ],
)
def test_red_flags(text: str, sign: str) -> None:
    result = assess(text)
    assert result.level is Level.RED_FLAG
    assert sign in result.red_flags


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("my lower back is inflamed", "inflammation"),
        ("can I come with inflammation in my shoulder?", "inflammation"),
        ("there's some swelling near my spine", "swelling"),
        ("I pulled a muscle in my back yesterday", "acute_injury"),
        ("my muscles tense up instead of relaxing", "muscles_tense_up"),
        ("my neck gets tighter during massage", "muscles_tense_up"),
    ],
)
def test_caution_signs(text: str, sign: str) -> None:
    result = assess(text)
    assert result.level is Level.CAUTION
    assert sign in result.caution_signs


@pytest.mark.parametrize(
    "text",
    [
        "does massage help me fall asleep?",
        "I don't have a fever, just a stiff back",
        "no numbness in my legs",
        "how many sessions do I need?",
        "does massage help with weight loss",
        "I get tense when I'm stressed at work",
        "can I book for Friday at 3?",
    ],
)
def test_no_false_alarm(text: str) -> None:
    assert assess(text).level is Level.NONE


def test_red_flag_outranks_caution() -> None:
    result = assess("my back is swollen and I've got a fever")
    assert result.level is Level.RED_FLAG
    assert result.caution_signs == ("swelling",)
