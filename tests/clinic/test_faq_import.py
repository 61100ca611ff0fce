"""FAQ import: every problem is reported with file and entry, and nothing changes on error."""

from pathlib import Path

import pytest

from bot.clinic import faq
from bot.clinic.facts import Clinic
from bot.clinic.faq import FaqImportError, import_faq, list_faq
from tests.support import ROOT

GOOD = """
version: 1
entries:
  - id: benefits
    intent: ask_benefits
    title: "What is it good for?"
    answer: "Many people find it relaxing. Call {phone}."
    follow_ups: [benefits-sleep]
    source: clinic
    health_advice: true
  - id: benefits-sleep
    intent: ask_benefits
    entity: benefit
    value: sleep
    title: "Can it help me sleep?"
    answer: "Some people sleep better after a massage."
    follow_ups: [benefits]
    source: clinic
    health_advice: true
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "faq.yml"
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(url: str) -> list[faq.FaqItem]:
    return list_faq(url)


def test_curated_faq_imports_and_covers_every_topic(faq_database: str) -> None:
    items = list_faq(faq_database)
    general = {item.intent for item in items if item.entity is None}
    assert general >= {
        "ask_benefits",
        "ask_back_pain",
        "ask_inflammation",
        "ask_treatment_plan",
        "ask_what_to_expect",
        "ask_massage_types",
        "ask_clinic_info",
    }
    benefits = {item.value for item in items if item.entity == "benefit"}
    assert benefits == faq.ENTITY_VALUES["benefit"]
    regions = {item.value for item in items if item.entity == "back_region"}
    assert regions == faq.ENTITY_VALUES["back_region"]  # upper, mid, lower and the whole back
    details = {item.value for item in items if item.entity == "info_type"}
    assert details == faq.ENTITY_VALUES["info_type"]


def test_curated_faq_keeps_seed_facts_and_hedges_claims(faq_database: str) -> None:
    answers = " ".join(item.answer for item in list_faq(faq_database)).lower()
    for fact in ("four", "six weeks", "two", "doctor", "inflam", "cervical", "thoracic", "lumbar"):
        assert fact in answers, fact
    for overclaim in ("boosts your immune", "flushes out toxins", "flush out the toxins", "cure"):
        assert overclaim not in answers, overclaim


def test_reimport_replaces_entries(database_url: str, tmp_path: Path) -> None:
    import_faq(database_url, ROOT / "data" / "faq.yml")
    assert import_faq(database_url, write(tmp_path, GOOD)) == 2
    assert [item.id for item in list_faq(database_url)] == ["benefits", "benefits-sleep"]


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (GOOD.replace("intent: ask_benefits\n    title", "intent: ask_weather\n    title", 1),
         "unknown intent 'ask_weather'"),
        (GOOD.replace("id: benefits-sleep", "id: benefits"), "duplicate id 'benefits'"),
        (GOOD.replace('answer: "Some people sleep better after a massage."', ""),
         "missing 'answer'"),
        (GOOD.replace("entries:", "entries: [oops"), "not valid YAML"),
        (GOOD.replace("value: sleep", "value: slep"), "unknown benefit value 'slep'"),
        (GOOD.replace("follow_ups: [benefits-sleep]", "follow_ups: [nowhere]"),
         "follow-up 'nowhere' is not an entry"),
        (GOOD.replace("Call {phone}", "Call {fone}"), "unknown placeholder(s) fone"),
        (GOOD.replace("    health_advice: true\n  - id", "    health_advice: maybe\n  - id"),
         "'health_advice' must be true or false"),
        (GOOD.replace("source: clinic\n    health_advice: true\n  - id", "source: ''\n"
                      "    health_advice: true\n  - id"), "missing 'source'"),
        ("just a string", "expected a mapping with a list 'entries'"),
    ],
)  # fmt: skip
def test_each_error_is_reported_and_database_unchanged(
    faq_database: str, tmp_path: Path, broken: str, message: str
) -> None:
    before = snapshot(faq_database)
    path = write(tmp_path, broken)
    with pytest.raises(FaqImportError) as caught:
        import_faq(faq_database, path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)
    assert snapshot(faq_database) == before


def test_problems_name_the_entry_and_all_are_listed(tmp_path: Path) -> None:
    broken = GOOD.replace("intent: ask_benefits", "intent: nope").replace(
        "value: sleep", "value: x"
    )
    with pytest.raises(FaqImportError) as caught:
        faq.load_faq_file(write(tmp_path, broken))
    entries = {p.entry for p in caught.value.problems}
    assert entries == {"#1 (benefits)", "#2 (benefits-sleep)"}


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FaqImportError, match="cannot read file"):
        faq.load_faq_file(tmp_path / "absent.yml")


def test_export_round_trips(faq_database: str, tmp_path: Path, database_url: str) -> None:
    out = tmp_path / "exported.yml"
    count = faq.export_faq(faq_database, out)
    assert count == len(list_faq(faq_database))
    assert faq.load_faq_file(out) == list_faq(faq_database)


def test_most_specific_entry_wins(faq_database: str, sample_clinic: Clinic) -> None:
    specific = faq.answer_for(faq_database, "ask_benefits", {"benefit": ["sleep"]}, sample_clinic)
    general = faq.answer_for(faq_database, "ask_benefits", {}, sample_clinic)
    unknown = faq.answer_for(
        faq_database, "ask_benefits", {"back_region": ["upper"]}, sample_clinic
    )
    assert specific is not None and specific.entry_id == "benefits-sleep"
    assert general is not None and unknown is not None
    assert general.entry_id == unknown.entry_id != specific.entry_id
    assert sample_clinic.disclaimer in specific.text
    assert 1 <= len(specific.buttons) <= 3
    assert all(b.payload.startswith("/ask_") or b.payload.startswith("/") for b in specific.buttons)


def test_placeholders_are_filled_from_the_clinic(faq_database: str, sample_clinic: Clinic) -> None:
    answer = faq.answer_for(
        faq_database, "ask_clinic_info", {"info_type": ["phone"]}, sample_clinic
    )
    assert answer is not None
    assert sample_clinic.phone in answer.text and "{" not in answer.text
    assert sample_clinic.disclaimer not in answer.text
