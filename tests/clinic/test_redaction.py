"""Logs never show clients' phone numbers or e-mail addresses, whatever logs them and how."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.clinic.redaction import install_log_redaction, redact, uninstall_log_redaction


@pytest.mark.parametrize(
    "text",
    [
        "call me on 07911 123456",
        "my number is +44 (0)7911-123-456 thanks",
        "0044 7911 123456",
        "(555) 123-4567",
        "whatsapp +1 415.555.0134",
        "mail ANN.o'neil+spa@example.co.uk please",
    ],
)
def test_contact_details_are_masked(text: str) -> None:
    masked = redact(text)
    assert not any(ch.isdigit() for ch in masked.replace("[phone]", "")), masked
    assert "@" not in masked


@pytest.mark.parametrize(
    "text",
    [
        "booking at 2030-03-05 10:00 for 60 minutes",
        "Loading model models/20261121-194116-big-tree.tar.gz",
        "reference MB-7K3Q9P, 3 sessions over 6 weeks",
    ],
)
def test_dates_times_and_references_are_kept(text: str) -> None:
    assert redact(text) == text


@pytest.fixture()
def redacting() -> Iterator[None]:
    install_log_redaction()
    install_log_redaction()  # idempotent
    yield
    uninstall_log_redaction()


def test_every_logger_and_traceback_is_redacted(
    redacting: None, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("rasa.core.processor")  # any library's logger
    with caplog.at_level(logging.DEBUG):
        logger.debug("Received user message '%s'", "I'm on 07911 123456")
        try:
            raise ValueError("bad contact ann@example.org")
        except ValueError:
            logger.exception("failed for %s", "ann@example.org")
    text = caplog.text
    assert "07911" not in text and "ann@example.org" not in text
    assert "[phone]" in text and "[email]" in text and "ValueError" in text
