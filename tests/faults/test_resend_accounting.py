"""Which duplicate emails a random kill explains: the harness's rule, on made-up records."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.faults.accounting import (
    ACCEPTED_TO_MARK_SECONDS,
    Kill,
    Received,
    last_gone,
    resend_causes,
    watch_deaths,
)

pytestmark = pytest.mark.unit

CASE = "HC-2026-0018"
NOTICE = "<notice-18@casework.local>"
CASE_RUN = 4101  # the case's engine, which sent the first copy
RECONCILER = 4202  # the reconciler's engine, which relays every case's outbox
OTHER = 4303


CONNECTED = 99.95  # the sender's EHLO, 50 ms before the server accepted the first copy


def _copies(
    *resends: bool, first_at: float = 100.0, sender: int | None = CASE_RUN
) -> list[Received]:
    """The first copy at `first_at` from `sender`, then one copy a minute later for each flag."""
    first = Received(NOTICE, "applicant@family.example", False, first_at, sender, CONNECTED)
    again = [
        Received(NOTICE, "applicant@family.example", flag, first_at + 60 + n, RECONCILER)
        for n, flag in enumerate(resends)
    ]
    return [first, *again]


def _explained(received: list[Received], *kills: Kill) -> int:
    """How many copies the kills explain: one a message at most."""
    return sum(1 for _, cause in resend_causes(received, list(kills)) if cause is not None)


def _kill(
    at: float,
    *pids: int,
    what: str = "flow run",
    case: str | None = CASE,
    gone: float | None = None,
) -> Kill:
    return Kill(what, at, case, "run-id", pids, gone)


def test_a_flagged_copy_after_a_kill_of_its_sender_right_after_acceptance_is_explained() -> None:
    assert _explained(_copies(True), _kill(100.5, CASE_RUN)) == 1
    assert _explained(_copies(True), _kill(100.0, CASE_RUN, what="worker's run")) == 1
    assert _explained(_copies(True), _kill(100 + ACCEPTED_TO_MARK_SECONDS, CASE_RUN)) == 1
    # A run's kill takes its client and its engine: either may be the sender.
    assert _explained(_copies(True), _kill(100.5, OTHER, CASE_RUN)) == 1


def test_the_reconcilers_relay_killed_right_after_acceptance_explains_its_copy() -> None:
    """The reconciler's run has no case: only the process says whose kill it was."""
    relayed = _copies(True, sender=RECONCILER)
    assert _explained(relayed, _kill(100.5, RECONCILER, case=None)) == 1
    assert _explained(relayed, _kill(100.5, RECONCILER, case=None, what="worker's run")) == 1


def test_a_sender_killed_with_its_message_in_the_pipe_explains_the_copy() -> None:
    """Killed after its EHLO and before the server read the end of its message: the server
    accepts what it wrote, and nobody marks it sent."""
    assert _explained(_copies(True), _kill(CONNECTED, CASE_RUN, gone=CONNECTED + 0.001)) == 1
    assert _explained(_copies(True), _kill(99.99, CASE_RUN)) == 1
    # A warm engine's client killed first: the engine, still alive, connected, then went.
    client_killed = _kill(99.9, 4100, CASE_RUN, gone=99.96)
    assert _explained(_copies(True), client_killed) == 1


def test_the_kill_aimed_at_the_sender_right_after_the_250_explains_its_copy() -> None:
    assert _explained(_copies(True), _kill(100.001, CASE_RUN, what="smtp accepted")) == 1
    # Aimed before the 250 (at its connection, during DATA), a kill leaves nothing accepted.
    assert _explained(_copies(True), _kill(100.001, CASE_RUN, what="smtp data")) == 0
    assert _explained(_copies(True), _kill(100.001, CASE_RUN, what="smtp connect")) == 0


def test_each_message_sent_more_than_once_is_told_with_the_kill_that_explains_it() -> None:
    explained = _kill(100.5, CASE_RUN)
    other = [
        Received("<request-18@casework.local>", "archive@agency.example", False, 200.0, OTHER, 199.9),
        Received("<request-18@casework.local>", "archive@agency.example", True, 260.0, RECONCILER),
        Received("<closing-18@casework.local>", "applicant@family.example", False, 300.0, OTHER),
    ]  # fmt: skip
    causes = resend_causes([*_copies(True), *other], [_kill(150.0, RECONCILER), explained])
    assert [([c.at for c in copies], cause) for copies, cause in causes] == [
        ([100.0, 160.0], explained),
        ([200.0, 260.0], None),  # its sender was not killed: a duplicate the design does not allow
    ]


def test_a_kill_before_the_sender_connected_or_after_the_mark_explains_nothing() -> None:
    assert _explained(_copies(True), _kill(99.9, CASE_RUN)) == 0
    assert _explained(_copies(True), _kill(99.9, CASE_RUN, gone=CONNECTED - 0.001)) == 0
    late = 100 + ACCEPTED_TO_MARK_SECONDS + 0.01
    assert _explained(_copies(True), _kill(late, CASE_RUN)) == 0
    assert _explained(_copies(True), _kill(late, CASE_RUN, gone=late + 0.01)) == 0


def test_a_kill_of_another_process_explains_nothing_even_of_the_same_case() -> None:
    assert _explained(_copies(True), _kill(100.5, OTHER)) == 0
    assert _explained(_copies(True, sender=RECONCILER), _kill(100.5, CASE_RUN)) == 0
    assert _explained(_copies(True), _kill(100.5)) == 0  # a kill that took no known process
    assert _explained(_copies(True, sender=None), _kill(100.5, CASE_RUN)) == 0
    unknown_connection = _copies(True)
    unknown_connection[0].connected_at = None
    assert _explained(unknown_connection, _kill(100.5, CASE_RUN)) == 0
    # The worker's own death is counted through its runs' kills, not as a sender's.
    assert _explained(_copies(True), _kill(100.5, CASE_RUN, what="worker")) == 0


def test_an_unflagged_copy_or_a_second_resend_is_not_explained() -> None:
    kill = _kill(100.5, CASE_RUN)
    assert _explained(_copies(False), kill) == 0
    assert _explained(_copies(True, False), kill) == 0
    # One kill explains one copy: a third copy, flagged or not, is still a duplicate.
    assert _explained(_copies(True, True), kill) == 1
    assert _explained(_copies(), kill) == 0  # a single copy: nothing to explain


def test_copies_are_matched_in_the_order_they_arrived() -> None:
    arrived = list(reversed(_copies(True)))  # the list is not in arrival order
    assert _explained(arrived, _kill(100.5, CASE_RUN)) == 1


def test_the_death_watch_times_each_process_and_leaves_out_one_still_alive() -> None:
    """A killed process is gone once dead or a zombie (nobody has reaped this one)."""
    killed = subprocess.Popen(["sleep", "30"])
    alive = subprocess.Popen(["sleep", "30"])
    try:
        before = time.time()
        os.kill(killed.pid, signal.SIGKILL)
        gone = watch_deaths({killed.pid, alive.pid}, timeout=0.3)
        assert set(gone) == {killed.pid}
        assert before <= gone[killed.pid] <= time.time()
        assert last_gone((killed.pid,), gone) == gone[killed.pid]
        assert last_gone((killed.pid, alive.pid), gone) is None
        assert last_gone((), gone) is None
    finally:
        for process in (killed, alive):
            process.kill()
            process.wait()
