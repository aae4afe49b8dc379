"""The fault harness, short (outages and races): the mail server away, answering 421/451 and
refusing an address; the Prefect server killed and restarted; the run starter killed with
engines in flight and restarted; two answers racing for one request. Each test fails on any case lost or stalled, any answer lost or written over, any
message sent twice or undelivered after the outage, or a re-drive slower than two minutes."""

from __future__ import annotations

import pytest

from tests.faults import report, scenarios
from tests.faults.lab import Lab

pytestmark = pytest.mark.integration


def test_mail_server_outages_delay_but_lose_no_message(lab: Lab) -> None:
    tallies = scenarios.mail_server_faults(lab, cases=1)
    assert tallies[-1].refused == 1  # the 550 is failed for good and shown, not retried
    report.check(lab.tallies, *tallies)


def test_a_prefect_server_restart_loses_no_case(lab: Lab) -> None:
    report.check(lab.tallies, scenarios.server_restarts(lab, rounds=1))


def test_a_run_starter_killed_with_engines_in_flight_loses_no_case(lab: Lab) -> None:
    report.check(lab.tallies, scenarios.starter_restarts(lab, rounds=1))


def test_two_answers_racing_keep_one_and_show_the_other_refused(lab: Lab) -> None:
    report.check(lab.tallies, scenarios.racing_answers(lab, rounds=1))
