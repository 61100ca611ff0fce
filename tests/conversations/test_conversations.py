"""The free-text conversation suite against the real trained bot: every conversation must pass.

This is the acceptance test of how the bot copes with clients typing freely (booking, changes,
questions mid-way, other languages, warning signs). The report lists the pass rate per category
and, for each failing conversation, the turn that went wrong and what the bot said.
`make conversations` runs the same suite outside pytest, with `--category`/`--id` filters.
"""

from __future__ import annotations

import pytest

from tests.conversations.runner import load_suite, report, run_suite

pytestmark = pytest.mark.e2e


def test_every_conversation_passes() -> None:
    results = run_suite(load_suite())
    summary = report(results)
    print(summary)
    failed = [r.conversation.id for r in results if not r.passed]
    assert not failed, f"{len(failed)} of {len(results)} conversations failed:\n{summary}"
