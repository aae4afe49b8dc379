"""Which duplicate emails a random kill explains: the harness's rule, on made-up records."""

from __future__ import annotations

import pytest

from tests.faults.lab import ACCEPTED_TO_MARK_SECONDS, Kill, Received, resends_explained_by_kills

pytestmark = pytest.mark.unit

CASE = "HC-2026-0018"
NOTICE = "<notice-18@casework.local>"


def _copies(*resends: bool, first_at: float = 100.0) -> list[Received]:
    """The first copy at `first_at`, then one copy a second later for each flag given."""
    first = Received(NOTICE, "applicant@family.example", resend=False, at=first_at)
    again = [
        Received(NOTICE, "applicant@family.example", resend=flag, at=first_at + 60 + n)
        for n, flag in enumerate(resends)
    ]
    return [first, *again]


def _explained(received: list[Received], *kills: Kill) -> int:
    return resends_explained_by_kills(received, {NOTICE: CASE}, list(kills))


def test_a_flagged_copy_after_a_kill_of_the_case_run_right_after_acceptance_is_explained() -> None:
    assert _explained(_copies(True), Kill("flow run", 100.5, CASE)) == 1
    assert _explained(_copies(True), Kill("worker's run", 100.0, CASE)) == 1
    assert _explained(_copies(True), Kill("flow run", 100 + ACCEPTED_TO_MARK_SECONDS, CASE)) == 1


def test_a_kill_before_the_first_copy_or_after_the_mark_explains_nothing() -> None:
    assert _explained(_copies(True), Kill("flow run", 99.9, CASE)) == 0
    late = 100 + ACCEPTED_TO_MARK_SECONDS + 0.01
    assert _explained(_copies(True), Kill("flow run", late, CASE)) == 0


def test_another_case_or_another_process_killed_explains_nothing() -> None:
    assert _explained(_copies(True), Kill("flow run", 100.5, "HC-2026-0019")) == 0
    assert _explained(_copies(True), Kill("flow run", 100.5, None)) == 0
    assert _explained(_copies(True), Kill("worker", 100.5, CASE)) == 0


def test_an_unflagged_copy_or_a_second_resend_is_not_explained() -> None:
    kill = Kill("flow run", 100.5, CASE)
    assert _explained(_copies(False), kill) == 0
    assert _explained(_copies(True, False), kill) == 0
    # One kill explains one copy: a third copy, flagged or not, is still a duplicate.
    assert _explained(_copies(True, True), kill) == 1
    assert _explained(_copies(), kill) == 0  # a single copy: nothing to explain


def test_copies_are_matched_in_the_order_they_arrived() -> None:
    arrived = list(reversed(_copies(True)))  # the list is not in arrival order
    assert _explained(arrived, Kill("flow run", 100.5, CASE)) == 1
