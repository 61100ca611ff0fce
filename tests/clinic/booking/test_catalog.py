"""Matching what a client says to the clinic's services."""

from __future__ import annotations

import pytest

from bot.clinic.booking.catalog import match_services, wanted_minutes
from bot.clinic.facts import Clinic, parse_clinic
from tests.support.clinics import clinic_data


@pytest.fixture()
def menu() -> Clinic:
    services = [
        {"id": "back-30", "name": "Back massage (30 minutes)", "massage_type": "back",
         "duration_minutes": 30, "price": 35.0},
        {"id": "back-60", "name": "Back massage (60 minutes)", "massage_type": "back",
         "duration_minutes": 60, "price": 55.0},
        {"id": "deep-tissue-60", "name": "Deep tissue massage (60 minutes)",
         "massage_type": "deep_tissue", "duration_minutes": 60, "price": 60.0},
        {"id": "swedish-60", "name": "Swedish massage (60 minutes)", "massage_type": "swedish",
         "duration_minutes": 60, "price": 55.0},
    ]  # fmt: skip
    return parse_clinic(clinic_data(services=services))


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (("back-60",), ["back-60"]),  # a button's payload
        (("back",), ["back-30", "back-60"]),  # ambiguous: both offered
        (("back", "a 60 minute back massage"), ["back-60"]),
        (("a back massage for 30 mins",), ["back-30"]),
        (("deep_tissue",), ["deep-tissue-60"]),  # the NLU synonym's value
        (("the deep tisue one",), ["deep-tissue-60"]),  # typo
        (("sweedish massage",), ["swedish-60"]),
        (("hot stone",), []),
        (("banana",), []),
        ((None, ""), []),
    ],
)
def test_match_services(menu: Clinic, said: tuple, expected: list[str]) -> None:
    assert [s.id for s in match_services(menu, *said)] == expected


def test_wanted_minutes() -> None:
    assert wanted_minutes("an hour please") == 60
    assert wanted_minutes("half an hour") == 30
    assert wanted_minutes("the 45-minute one") == 45
    assert wanted_minutes("a back massage") is None
