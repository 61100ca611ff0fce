"""The clinical triage (bot.clinic.triage): concepts, levels and ConText, as clients write."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from spacy.schemas import validate_token_pattern

from bot.clinic.triage import Assessment, Context, Level, assess, get_lexicon, reader
from bot.clinic.triage.lexicon import LexiconError, compile_phrases, load_lexicon

ROOT = Path(__file__).resolve().parents[2]


def concerns(text: str) -> set[str]:
    return {f.concept for f in assess(text).concerns}


# The messages of the issue that the old word list got wrong, and what they need.
@pytest.mark.parametrize(
    ("text", "level", "concept"),
    [
        (
            "I'm on warfarin (blood thinners) - is a deep tissue massage safe for me?",
            Level.DOCTOR,
            "anticoagulants",
        ),
        (
            "had a spinal op 3 weeks ago, can i book a back massage to help the recovery",
            Level.DOCTOR,
            "recent_surgery",
        ),
        (
            "hi im 20 weeks pregnant and my lower back is agony, can i have a massage?",
            Level.DOCTOR,
            "pregnancy",
        ),
        ("No fever, no chills, but numb legs", Level.EMERGENCY, "leg_weakness_numbness"),
        ("No, but my legs are numb", Level.EMERGENCY, "leg_weakness_numbness"),
        ("peeing myself since my back went", Level.EMERGENCY, "bladder_bowel"),
        ("numbness down there when I wipe", Level.EMERGENCY, "saddle_numbness"),
        ("I slipped on ice yesterday", Level.EMERGENCY, "recent_trauma"),
        ("back pain radiating to my chest", Level.EMERGENCY, "chest_pain"),
        ("feaver and back pain", Level.EMERGENCY, "fever_with_back_pain"),
        ("my calf is swollen, red and hot", Level.EMERGENCY, "calf_clot"),
        ("I'm 18 weeks pregnant", Level.DOCTOR, "pregnancy"),
        ("the pain is 10 out of 10", Level.DOCTOR, "severe_pain"),
        ("got a stinking cold, should I cancel?", Level.POSTPONE, "infection_illness"),
        ("I've got shingles on my side", Level.POSTPONE, "skin_problem"),
        ("pulled a muscle in my back yesterday", Level.POSTPONE, "fresh_injury"),
        ("can I book my daughter in? she's 13", Level.CONSENT, "under_16"),
    ],
)
def test_issue_examples(text: str, level: Level, concept: str) -> None:
    result = assess(text)
    assert result.level is level
    assert concept in concerns(text)


# Lay, slang and clinical wordings of the same concerns (kinds of phrasing a new author used).
@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("cant feel my backside when i sit on the toilet", "saddle_numbness"),
        ("numbness round my arse and lower back pain", "saddle_numbness"),
        ("i think i have cauda equina, back is agony", "saddle_numbness"),
        ("urinary retention and sciatica", "bladder_bowel"),
        ("my legs wont hold me up", "leg_weakness_numbness"),
        ("stabbing pain in the centre of my chest", "chest_pain"),
        ("pain on the left side of my chest since lunch", "chest_pain"),
        ("chest feels like its in a vice", "chest_pain"),
        ("getting SOB walking upstairs", "breathlessness"),
        ("breathless on exertion for 2 days", "breathlessness"),
        ("feeling febrile and my lower back aches", "fever_with_back_pain"),
        ("the pony bucked me off on sunday", "recent_trauma"),
        ("took a heavy knock to the back playing rugby saturday", "recent_trauma"),
        ("came a cropper on the ice yesterday, back is sore", "recent_trauma"),
        ("previous breast ca, now new back ache", "cancer_history_back_pain"),
        ("back pain at nite, doesn't ease whatever position i try", "night_pain"),
        ("12 weeks preg, ok for a massage?", "pregnancy"),
        ("im 6 months along", "pregnancy"),
        ("our ivf was successful, so excited", "pregnancy"),
        ("my INR has been high lately", "anticoagulants"),
        ("im anticoagulated, is deep tissue ok", "anticoagulants"),
        ("had an acl repair 6 weeks ago", "recent_surgery"),
        ("the graze on my knee is still healing", "skin_problem"),
        ("diagnosed with herpes zoster last week", "skin_problem"),
        ("golfers elbow flaring up", "inflammation"),
        ("my knee has flared up again", "inflammation"),
        ("hes 12 and plays rugby, can i book him in", "under_16"),
        ("my 7th grader plays football", "under_16"),
        ("my son's only 14, can he book", "under_16"),
    ],
)
def test_lay_and_clinical_wordings(text: str, concept: str) -> None:
    assert concept in concerns(text)


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("I had a fall five years ago but I'm fine now", Context.HISTORICAL),
        ("had a cold last week, all gone now", Context.HISTORICAL),
        ("does massage help with fever?", Context.HYPOTHETICAL),
        ("if I get a cold before my appointment can I reschedule?", Context.HYPOTHETICAL),
        ("Is deep tissue safe for people on blood thinners?", Context.HYPOTHETICAL),
        ("My dad had a fever last week", Context.OTHER_PERSON),
        ("my dog's on blood thinners lol, the vet bills are mad", Context.OTHER_PERSON),
        ("Ive not had any surgery ever", Context.NEGATED),
        ("how soon after a car accident can you have a massage, in general?", Context.HYPOTHETICAL),
        ("is pain at night a bad sign with back ache?", Context.HYPOTHETICAL),
        ("If my back ever went and I got numb down below, is it A&E?", Context.HYPOTHETICAL),
        ("what if my legs go numb during the massage?", Context.HYPOTHETICAL),
        ("my wife is pregnant, can I book a massage for me?", Context.OTHER_PERSON),
        ("I'm not pregnant and not on any blood thinners", Context.NEGATED),
        ("tested negative for flu yesterday", Context.NEGATED),
        ("the form asks about clots, i've never had one", Context.HYPOTHETICAL),
        ("heart problems, clots, surgery: none of those apply to me", Context.NEGATED),
        ("had a chest infection in january, all settled now", Context.HISTORICAL),
        ("sprained my wrist last year, totally over it", Context.HISTORICAL),
        ("had flu last month but it's gone now", Context.HISTORICAL),
        ("when i was 12 i broke my arm", Context.HISTORICAL),
        ("do you treat people with shingles", Context.HYPOTHETICAL),
        ("can a cold be spread through massage", Context.HYPOTHETICAL),
        ("wot if i get a cold before my appointment", Context.HYPOTHETICAL),
    ],
)
def test_context_keeps_it_from_being_a_concern(text: str, context: Context) -> None:
    result = assess(text)
    assert result.level is Level.NONE
    assert result.findings and {f.context for f in result.findings} == {context}


def test_negation_is_scoped_to_its_clause() -> None:
    result = assess("No fever, no chills, but numb legs")
    by_concept = {f.concept: f.context for f in result.findings}
    assert by_concept["leg_weakness_numbness"] is Context.AFFIRMED
    assert by_concept["infection_illness"] is Context.NEGATED  # no back pain: an illness sign


def test_a_later_answer_does_not_negate_a_red_flag_before_it() -> None:
    assert assess("my legs are numb, never had one of those scans").level is Level.EMERGENCY
    assert assess("chest pain today, the age limit doesn't apply to me").level is Level.EMERGENCY
    text = "I get chest pains when walking, never had any heart problems"
    assert assess(text).level is Level.EMERGENCY


def test_a_gap_never_skips_a_negation() -> None:
    assert assess("my legs are fine, no tingling, it's just the back").level is Level.NONE
    assert assess("my calf isn't red or swollen, it's just tight from running").level is Level.NONE


def test_the_client_speaking_of_their_present_state_is_no_maybe() -> None:
    assert assess("can I still come if my legs are numb?").level is Level.EMERGENCY
    assert assess("If I'm honest my legs have gone numb").level is Level.EMERGENCY
    assert assess("my wife says I'm dragging my left foot").level is Level.EMERGENCY


def test_a_sentence_end_without_a_capital_still_ends_a_scope() -> None:
    text = "had kidney cancer, they took the kidney out in 2020. now back pain out of nowhere"
    assert assess(text).level is Level.EMERGENCY


def test_booking_for_someone_else_makes_their_condition_the_concern() -> None:
    assert assess("booking for my dad, he fell off a ladder yesterday").level is Level.EMERGENCY
    assert assess("my brother fell off his bike, can I book for me tomorrow?").level is Level.NONE


def test_asking_what_someone_else_should_do_now_gets_their_urgent_advice() -> None:
    assert assess("my dad has chest pain and his left arm hurts, what should he do?").level is (
        Level.EMERGENCY
    )
    assert assess("my mum has numb legs, should she go to hospital?").level is Level.EMERGENCY


def test_a_past_clot_is_still_a_concern() -> None:
    [finding] = assess("I had a DVT years ago, all sorted now").concerns
    assert (finding.concept, finding.level) == ("previous_clot", Level.DOCTOR)


@pytest.mark.parametrize(
    "text",
    [
        "I fell for your advert",
        "fell in love with your clinic",
        "killer leg day yesterday, could do with a massage",
        "my laptop crashed so I couldn't finish the booking",
        "That was a rash decision, booking two massages in one week haha",
        "Saturday Night Fever is on at the theatre next door",
        "Do you have a lockable chest for my bag?",
        "I'm 5 minutes late, sorry",
        "I'm 16, can I book on my own?",
        "my heart's set on the hot stone massage",
        "had clotted cream with my scone",
        "what are the three sections of the back?",
        "which section of the form do I fill in?",
        "I nearly had a heart attack when I saw the parking ticket",
        "nearly wet myself laughing at your April Fools post",
        "we're expecting snow so I might be a few minutes late",
        "swell, see you at 4 then!",
        "had a rash moment and booked three sessions in one go",
        "finally under 16 stone after a year at the gym, celebrating with a massage",
        "10 out of 10 would recommend",
        "it's cold in here",
        "the heat is unbearable today, need a massage",
        "our plans fell through so i'm free on friday",
        "my phone took a fall and the screen cracked",
        "took a hit on the stock market lol",
        "got a knock at the door, brb",
        "awkward pregnant pause there sorry",
        "i work on the oncology ward as a nurse, it's a lot",
        "im 45 and need a deep tissue",
        "do you treat under 16s?",
    ],
)
def test_benign_traps_raise_nothing(text: str) -> None:
    assert assess(text).findings == ()


def test_the_whole_message_is_read_however_long() -> None:
    filler = "I've been meaning to book in for ages and my shoulders are tight from work. " * 16
    text = filler + "Both my legs are numb and I can't control my bladder. Can I book for today?"
    assert len(text) > 1200
    result = assess(text)
    assert result.level is Level.EMERGENCY
    assert {"leg_weakness_numbness", "bladder_bowel"} <= concerns(text)


def test_lookalike_letters_and_misspellings() -> None:
    assert "pregnancy" in concerns("I'm prеgɳant, is mаѕsаge safе for me?")
    assert "anticoagulants" in concerns("on apixiban 5mg twice a day")
    assert "osteoporosis" in concerns("osteoperosis in my spine")


def test_two_everyday_words_run_together_are_no_typo() -> None:
    assert assess("my back hurts alot").level is Level.NONE  # not "a clot"
    assert assess("hurts abit aswell").level is Level.NONE
    assert assess("feaver and back pain").level is Level.EMERGENCY  # a typo still reads


def test_assessment_round_trips_through_the_parse_data() -> None:
    result = assess("I'm 18 weeks pregnant and on warfarin, no fever")
    again = Assessment.from_dict(result.as_dict())
    assert again == result
    assert result.as_dict()["level"] == "doctor"
    [pregnancy] = [f for f in result.concerns if f.concept == "pregnancy"]
    assert pregnancy.phrase == "pregnant" and pregnancy.advice == "pregnancy"
    assert Assessment.from_dict({"level": "red_flag", "red_flags": ["x"]}) == Assessment()


def test_levels_are_ordered() -> None:
    assert Level.NONE < Level.CONSENT < Level.POSTPONE < Level.DOCTOR < Level.EMERGENCY


def test_every_red_flag_training_example_is_caught_by_the_triage() -> None:
    data = yaml.safe_load((ROOT / "data" / "nlu" / "safety.yml").read_text(encoding="utf-8"))
    [block] = [b for b in data["nlu"] if b.get("intent") == "red_flag"]
    examples = [line.strip()[2:].strip() for line in block["examples"].splitlines() if line.strip()]
    # Entity annotations "[numb](warning_sign)" -> "numb".
    plain = [_strip_annotations(e) for e in examples]
    missed = [text for text in plain if assess(text).level < Level.DOCTOR]
    assert len(plain) >= 40
    assert missed == []


def _strip_annotations(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "[" and "](" in text[i:]:
            close = text.index("](", i)
            out.append(text[i + 1 : close])
            i = text.index(")", close) + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def test_lexicon_levels_and_concepts_are_the_agreed_ones() -> None:
    by_level: dict[str, set[str]] = {}
    for concept in get_lexicon().concepts:
        if not concept.helper:
            by_level.setdefault(concept.level.value, set()).add(concept.id)
    assert by_level == {
        "emergency": {
            "saddle_numbness", "bladder_bowel", "leg_weakness_numbness", "foot_drop",
            "chest_pain", "breathlessness", "fever_with_back_pain", "recent_trauma",
            "calf_clot", "cancer_history_back_pain", "weight_loss", "night_pain",
        },
        "doctor": {
            "pregnancy", "anticoagulants", "osteoporosis", "recent_surgery",
            "cancer_treatment", "previous_clot", "heart_condition", "severe_pain",
        },
        "postpone": {"inflammation", "fresh_injury", "swelling", "skin_problem",
                     "infection_illness"},
        "consent": {"under_16"},
    }  # fmt: skip


def test_a_caesarean_is_recent_surgery() -> None:
    for text in ("I had a c-section 5 weeks ago", "had an emergency section six weeks ago"):
        assert "recent_surgery" in concerns(text)


def test_every_compiled_pattern_is_a_valid_spacy_pattern() -> None:
    """The reader's matchers skip spaCy's schema check at start-up (seconds for thousands of
    patterns); this is where a malformed phrase is caught."""
    lexicon, key = get_lexicon(), reader().key
    phrases = [(c.id, p) for c in lexicon.concepts for p in (*c.phrases, *c.not_when)]
    phrases += [("someone", p) for p in lexicon.for_someone_else]
    for where, phrase in phrases:
        for pattern in compile_phrases([phrase], lexicon.words, key, where):
            assert not validate_token_pattern(pattern), (where, phrase)


def test_a_broken_lexicon_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    concepts = tmp_path / "concepts.yml"
    context = tmp_path / "context.yml"
    context.write_text("context_rules: []\n")
    concepts.write_text("concepts:\n  - {id: x, level: doctor, source: nowhere, phrases: [numb]}\n")
    with pytest.raises(LexiconError, match="source 'nowhere'"):
        load_lexicon(concepts, context, ROOT / "data" / "sources")
    concepts.write_text("concepts:\n  - {id: x, level: urgent, source: s, phrases: [numb]}\n")
    with pytest.raises(LexiconError, match="concepts\\[0\\]"):
        load_lexicon(concepts, context)
