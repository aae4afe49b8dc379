"""The fault harness, short: about ten random SIGKILLs and one trial of every targeted fault
on the real stack (the long run, 100+ kills, is `python -m tests.faults`; its table is in the
README). Each test fails on any case lost or stalled, any answer lost, any duplicate message
other than a flagged resend after a kill between the server's 250 and the sent mark, any
message undelivered after the outage, or a re-drive slower than two minutes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.processes import Stack
from tests.faults import report, scenarios
from tests.faults.lab import Lab, Tally

pytestmark = pytest.mark.integration
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
_tallies: list[Tally] = []


@pytest.fixture(scope="module")
def lab(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with Lab(stack, tmp_path_factory.mktemp("faults")) as running:
        yield running
    report.write_json(_tallies, ARTIFACTS / "faults-ci.json")
    (ARTIFACTS / "faults-ci.md").write_text(report.table(_tallies) + "\n")


def _check(*tallies: Tally) -> None:
    _tallies.extend(tallies)
    failed = [t for t in tallies if not t.passed]
    assert not failed, report.table(failed) + "\n" + report.problems(failed)


def test_random_kills_lose_nothing(lab: Lab) -> None:
    tally = scenarios.random_kills(lab, cases=4, kills=10)
    assert tally.trials >= 10
    _check(tally)


def test_a_kill_at_each_dangerous_moment_loses_nothing(lab: Lab) -> None:
    tallies = scenarios.targeted_kills(lab, rounds=1)
    _check(*tallies)
    accepted = next(t for t in tallies if "250" in t.scenario)
    # The kill happened where it was aimed: the message the server took was sent again, flagged.
    assert accepted.allowed_duplicates == 1, report.table([accepted]) + report.problems([accepted])


def test_mail_server_outages_delay_but_lose_no_message(lab: Lab) -> None:
    tallies = scenarios.mail_server_faults(lab, cases=1)
    assert tallies[-1].refused == 1  # the 550 is failed for good and shown, not retried
    _check(*tallies)


def test_a_prefect_server_restart_loses_no_case(lab: Lab) -> None:
    _check(scenarios.server_restarts(lab, rounds=1))


def test_two_answers_racing_keep_one_and_show_the_other_refused(lab: Lab) -> None:
    _check(scenarios.racing_answers(lab, rounds=1))
