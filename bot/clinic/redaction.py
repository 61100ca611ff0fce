"""Keep clients' phone numbers and e-mail addresses out of the logs.

Rasa logs user messages and slot values (at debug level, and in tracebacks at any level), and
clients type their contact details into the chat. Rather than trusting every logger we install a
log record factory: every record, from any library and for any handler, has its message, its
arguments and its formatted traceback redacted when it is created. The patterns err on the side
of redacting: a long number that is not a phone number may be hidden too, but dates and times are
left alone because booking logs need them.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from typing import Any

EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# 7 to 17 digits with the separators people type between them (spaces, dots, dashes, slashes,
# brackets), optionally led by + or 00; not glued to letters or digits around it.
PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d(?:[ \t.\-/()]{0,3}\d){6,16}(?![\w])")
# Left alone: ISO dates, clock times and Rasa's model names (20261121-194116-big-tree).
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}:\d{2}\b|^\d{8}-\d{6}$")

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"


def _phone(match: re.Match[str]) -> str:
    found = match.group()
    return found if DATE.search(found) else PHONE_MASK


def redact(text: str) -> str:
    """The text with e-mail addresses and phone numbers masked."""
    if not text:
        return text
    if "@" in text:
        text = EMAIL.sub(EMAIL_MASK, text)
    return PHONE.sub(_phone, text)


_installed: list[Callable[..., logging.LogRecord]] = []


def _redacting_factory(
    previous: Callable[..., logging.LogRecord],
) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return record
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_text = record.exc_text.rstrip("\n")
        return record

    return factory


def install_log_redaction() -> None:
    """Redact every log record created from now on in this process (idempotent)."""
    if _installed:
        return
    previous = logging.getLogRecordFactory()
    _installed.append(previous)
    logging.setLogRecordFactory(_redacting_factory(previous))


def uninstall_log_redaction() -> None:
    """For tests: restore the record factory that was there before."""
    if _installed:
        logging.setLogRecordFactory(_installed.pop())
