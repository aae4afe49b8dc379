"""The fault harness, short (kills): about ten random SIGKILLs and a kill at each dangerous
moment on the real stack (the long run, 100+ kills, is `python -m tests.faults`; its table is
in the README). Each test fails on any case lost or stalled, any answer lost, any duplicate
message other than a flagged resend after a kill of its sender between its connection and its
sent mark (`resend_causes`), or a re-drive slower than two minutes."""

from __future__ import annotations

import pytest

from tests.faults import report, scenarios
from tests.faults.lab import Lab

pytestmark = pytest.mark.integration


def test_random_kills_lose_nothing(lab: Lab) -> None:
    tally = scenarios.random_kills(lab, cases=4, kills=10)
    assert tally.trials >= 10
    report.check(lab.tallies, tally)


def test_a_kill_at_each_dangerous_moment_loses_nothing(lab: Lab) -> None:
    tallies = scenarios.targeted_kills(lab, rounds=1)
    report.check(lab.tallies, *tallies)
    accepted = next(t for t in tallies if "250" in t.scenario)
    # The kill happened where it was aimed: the message the server took was sent again, flagged.
    assert accepted.allowed_duplicates == 1, report.table([accepted]) + report.problems([accepted])
