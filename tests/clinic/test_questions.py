"""Reading a message as a receptionist would: every question in it, follow-ups in context."""

from __future__ import annotations

import pytest

from bot.clinic.questions import Question, Topic, questions_asked, spotted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("how much is it?", {"info_type": ["price"]}),
        ("sorry, how much is it?", {"info_type": ["price"]}),
        ("do you take card", {"info_type": ["payment"]}),
        ("can i pay cash", {"info_type": ["payment"]}),
        ("is it wheelchair accessible", {"info_type": ["access"]}),
        ("are there stairs to get in?", {"info_type": ["access"]}),
        ("how long is a session", {"info_type": ["duration"]}),
        ("is there parking", {"info_type": ["parking"]}),
        ("what about sunday", {"weekday": ["sunday"]}),
        (
            "are you open at the weekend",
            {"info_type": ["hours"], "weekday": ["saturday", "sunday"]},
        ),
        ("what about lower down?", {"back_region": ["lower"]}),
        ("do you have a website?", {"info_type": ["website"]}),
        ("which parts of the back do you work on", {"back_region": ["whole"]}),
        ("what are the three sections of the back?", {"back_region": ["whole"]}),
        # Everyday words that only look like clinic details.
        ("I hurt my back lifting a box", {}),
        ("my back is sore", {}),
    ],
)
def test_spots_clinic_details_weekdays_and_regions(text: str, expected: dict) -> None:
    assert spotted(text) == expected


def test_two_questions_in_one_message_are_both_asked() -> None:
    asked = questions_asked("ask_back_pain", {}, "does it help with sciatica and how much is it")
    assert asked == [
        Question("ask_back_pain", {"info_type": ("price",)}),
        Question("ask_clinic_info", {"info_type": ("price",)}),
    ]


def test_clinic_details_stay_one_question_with_their_parts() -> None:
    asked = questions_asked("ask_clinic_info", {}, "where are you and is there parking")
    assert asked == [Question("ask_clinic_info", {"info_type": ("location", "parking")})]


def test_a_weekday_asks_for_that_days_hours_not_the_week() -> None:
    asked = questions_asked("ask_clinic_info", {"info_type": ["hours"]}, "are you open on sunday")
    assert asked == [Question("ask_clinic_info", {"weekday": ("sunday",)})]


def test_the_whole_back_has_its_own_answer_whatever_the_intent() -> None:
    asked = questions_asked("ask_massage_types", {}, "which parts of the back do you work on")
    assert asked == [Question("ask_back_pain", {"back_region": ("whole",)})]


@pytest.mark.parametrize(
    ("last", "entities", "text", "expected"),
    [
        (
            Topic("ask_clinic_info", {"info_type": "hours"}),
            {},
            "what about sunday",
            Question("ask_clinic_info", {"weekday": ("sunday",)}),
        ),
        (
            Topic("ask_back_pain", {"back_region": "upper"}),
            {},
            "what about lower down?",
            Question("ask_back_pain", {"back_region": ("lower",)}),
        ),
        (
            Topic("ask_benefits", {"benefit": "stress"}),
            {"benefit": ["sleep"]},
            "and for sleep?",
            Question("ask_benefits", {"benefit": ("sleep",)}),
        ),
        (
            Topic("ask_massage_types", {"massage_type": "sports"}),
            {"massage_type": ["deep_tissue"]},
            "and deep tissue?",
            Question("ask_massage_types", {"massage_type": ("deep_tissue",)}),
        ),
    ],
)
def test_follow_ups_are_read_against_the_last_topic(
    last: Topic, entities: dict, text: str, expected: Question
) -> None:
    assert questions_asked("follow_up", entities, text, last) == [expected]


def test_a_follow_up_without_detail_asks_about_the_last_topic_again() -> None:
    last = Topic("ask_back_pain", {"back_region": "upper"})
    assert questions_asked("follow_up", {}, "tell me more", last) == [Question("ask_back_pain")]
    assert questions_asked("follow_up", {}, "tell me more", None) == []


def test_the_last_topic_comes_back_from_slots() -> None:
    assert Topic.from_slots(None, None) is None
    assert Topic.from_slots("ask_benefits", {"benefit": "sleep"}) == Topic(
        "ask_benefits", {"benefit": "sleep"}
    )
    assert Topic.from_slots("ask_benefits", "junk") == Topic("ask_benefits", {})


def test_unknown_entity_values_are_ignored() -> None:
    asked = questions_asked("ask_benefits", {"benefit": ["feeling run down"]}, "run down?")
    assert asked == [Question("ask_benefits", {})]


def test_non_faq_intents_ask_nothing() -> None:
    assert questions_asked("greet", {}, "hello, how much is it") == []


def test_an_unsure_message_with_a_clinic_detail_is_answered_anyway() -> None:
    from bot.clinic.questions import intent_when_unsure

    ranking = [("nlu_fallback", 0.55), ("ask_back_pain", 0.53), ("ask_clinic_info", 0.06)]
    text = "does it help with sciatica and how much is it"
    assert intent_when_unsure(ranking, text) == "ask_back_pain"
    # A poor guess is left out; the clinic detail is still answered.
    assert intent_when_unsure([("ask_back_pain", 0.2)], text) == "ask_clinic_info"
    # Nothing sure in it: the fallback asks.
    assert intent_when_unsure(ranking, "does it help with sciatica") is None


def test_a_kind_of_massage_after_another_asks_about_it() -> None:
    from bot.clinic.questions import Topic, intent_when_unsure

    last = Topic("ask_massage_types", {"massage_type": "deep_tissue"})
    kinds = {"massage_type": ["swedish"]}
    ranking = [("nlu_fallback", 0.55), ("ask_massage_types", 0.52)]
    assert intent_when_unsure(ranking, "and swedish?", kinds, last, ["swedish"]) == (
        "ask_massage_types"
    )
    # With no answer before it to follow, the fallback asks.
    assert intent_when_unsure(ranking, "and swedish?", kinds, None, ["swedish"]) is None


@pytest.mark.parametrize(
    "text",
    [
        "how long is each session?",
        "how long is a session?",
        "ok and how long is each session, please?",
        "what's your website?",
        "are you open on sunday?",
    ],
)
def test_a_message_that_asks_only_a_clinic_detail(text: str) -> None:
    from bot.clinic.questions import asks_nothing_else

    assert asks_nothing_else(text)


@pytest.mark.parametrize(
    "text",
    [
        "does it help with sciatica and how much is it",
        "how many sessions will I need and how long is each one?",
        "what should I wear, and is there parking?",
    ],
)
def test_a_message_that_asks_more_than_a_clinic_detail(text: str) -> None:
    from bot.clinic.questions import asks_nothing_else

    assert not asks_nothing_else(text)


@pytest.mark.parametrize("text", ["how long is each session?", "how long is a session?"])
def test_a_duration_question_is_never_the_treatment_plan(text: str) -> None:
    # The classifier leans to "how many sessions"; the words ask how long one lasts. The plan's
    # topic may answer only with an entry of its own on durations, never its general entry.
    assert questions_asked("ask_treatment_plan", {}, text) == [
        Question("ask_treatment_plan", {"info_type": ("duration",)}, general=False),
        Question("ask_clinic_info", {"info_type": ("duration",)}),
    ]


def test_a_question_with_more_in_it_keeps_the_classifiers_topic() -> None:
    asked = questions_asked(
        "ask_treatment_plan", {}, "how many sessions will I need, and how long is a session?"
    )
    assert asked[0] == Question("ask_treatment_plan", {"info_type": ("duration",)})


def test_the_price_of_one_kind_of_treatment_is_its_own_question() -> None:
    asked = questions_asked(
        "ask_clinic_info", {"massage_type": ["sports"]}, "how much is a sports massage?"
    )
    assert asked == [Question("ask_clinic_info", {"massage_type": ("sports",)})]
    # With another detail: that detail is still asked.
    asked = questions_asked(
        "ask_clinic_info", {"massage_type": ["sports"]}, "how much is a sports massage and parking?"
    )
    assert asked == [
        Question("ask_clinic_info", {"info_type": ("parking",), "massage_type": ("sports",)})
    ]
    # A treatment named with a detail it has no answer of its own for: just that detail.
    asked = questions_asked(
        "ask_clinic_info", {"massage_type": ["sports"]}, "where is the clinic for sports massage?"
    )
    assert asked == [Question("ask_clinic_info", {"info_type": ("location",)})]


@pytest.mark.parametrize(
    "last",
    [
        Topic("ask_clinic_info", {"info_type": "price"}),
        Topic("ask_clinic_info", {"massage_type": "back"}),
        Topic("ask_clinic_info", {"info_type": "duration"}),
    ],
)
def test_a_treatment_after_a_price_answer_asks_its_price(last: Topic) -> None:
    asked = questions_asked("follow_up", {"massage_type": ["sports"]}, "and the sports one?", last)
    assert asked == [Question("ask_clinic_info", {"massage_type": ("sports",)})]


def test_a_treatment_after_another_topic_asks_about_that_treatment() -> None:
    last = Topic("ask_clinic_info", {"info_type": "hours"})
    asked = questions_asked("follow_up", {"massage_type": ["sports"]}, "and the sports one?", last)
    assert asked == [Question("ask_massage_types", {"massage_type": ("sports",)})]


def test_an_unsure_follow_up_naming_a_treatment_after_prices() -> None:
    from bot.clinic.questions import FOLLOW_UP, intent_when_unsure

    ranking = [("nlu_fallback", 0.55), ("ask_massage_types", 0.48), ("inform", 0.17)]
    prices = Topic("ask_clinic_info", {"info_type": "price"})
    sports = {"massage_type": ["sports"]}
    text = "and the sports one?"
    assert intent_when_unsure(ranking, text, sports, prices, names=["sports"]) == FOLLOW_UP
    # Not after a price answer, or with more asked than the treatment: the fallback asks.
    hours = Topic("ask_clinic_info", {"info_type": "hours"})
    assert intent_when_unsure(ranking, text, sports, hours, names=["sports"]) is None
    busy = "and is the sports one good for runners?"
    assert intent_when_unsure(ranking, busy, sports, prices, names=["sports"]) is None


def test_an_unsure_duration_question_is_answered_as_a_clinic_detail() -> None:
    from bot.clinic.questions import intent_when_unsure

    ranking = [("nlu_fallback", 0.55), ("ask_treatment_plan", 0.53), ("ask_clinic_info", 0.32)]
    assert intent_when_unsure(ranking, "how long is each session?") == "ask_clinic_info"
    assert intent_when_unsure(ranking, "do you have a website?") == "ask_clinic_info"
