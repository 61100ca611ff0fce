"""The text cleaner, on the clinic's own dirtiest source: the second seed article."""

import pytest

from bot.clinic.cleaning import MAX_MESSAGE_LENGTH, normalise
from tests.support import ROOT

SEED = ROOT / "data" / "sources" / "massage-therapy-notes.txt"


@pytest.fixture(scope="module")
def seed_text() -> str:
    return normalise(SEED.read_text(encoding="utf-8"), max_length=100_000)


def test_seed_article_comes_out_as_plain_ascii(seed_text: str) -> None:
    assert seed_text.isascii()
    raw = SEED.read_text(encoding="utf-8")
    assert not raw.isascii()  # the fixture really is dirty


@pytest.mark.parametrize(
    "sentence",
    [
        "Take note that when receiving massage therapy for the back, the pressure applied during "
        "the massage should evoke a response of relaxation in the muscles.",
        "If this does not occur the muscles may be inflamed possibly due to an acute injury of the "
        "muscle.",
        "In this case massage therapy should be put off until the inflammation subsides and it may "
        "be advised to consult a doctor.",
        "Should the muscle spasms not respond to therapy after two massages, it may be advisable "
        "to seek an alternative therapy.",
        "Improved blood supply to the muscles",
        "For those seeking chronic back pain relief",
    ],
)
def test_seed_article_lookalike_letters_fold_to_latin(seed_text: str, sentence: str) -> None:
    assert sentence in seed_text


def test_seed_article_markup_and_spacing_removed(seed_text: str) -> None:
    assert "[encode" not in seed_text and "[/encode]" not in seed_text
    assert "Back massage techniques are highly effective" in seed_text
    assert "  " not in seed_text and "\n" not in seed_text


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("Dоеѕ mаѕѕаgе hеlр mу bасk?", "Does massage help my back?"),  # Cyrillic look-alikes
        ("ƭhe ɭower bаck íѕ ѕore", "the lower back is sore"),
        ("ｆｕｌｌｗｉｄｔｈ letters", "fullwidth letters"),  # NFKC
        ("zero\u200bwidth\u200d and rtl\u202e marks", "zerowidth and rtl marks"),
        ("<b>bold</b> and <script>alert(1)</script>", "bold and alert(1)"),
        ("  lots \t of\n\nspace  ", "lots of space"),
        ("it’s “quoted”", 'it\'s "quoted"'),
        ("price £40? 😀", "price £40? 😀"),  # symbols are kept
    ],
)
def test_normalise_cases(dirty: str, clean: str) -> None:
    assert normalise(dirty) == clean


def test_length_is_capped() -> None:
    assert len(normalise("back " * 1000)) <= MAX_MESSAGE_LENGTH
    assert normalise("") == ""
