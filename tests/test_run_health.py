"""The reconciler's judgement of a case run's state: every branch, at and around each bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prefect.states import (
    Cancelled,
    Completed,
    Crashed,
    Failed,
    Paused,
    Pending,
    Running,
    Scheduled,
    Suspended,
)

from gateways.prefect_api import STUCK_AFTER, STUCK_PENDING_AFTER, health_of

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _at(state, age: timedelta):  # type: ignore[no-untyped-def]
    state.timestamp = NOW - age
    return state


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (None, "missing"),
        (_at(Crashed(), SECOND), "dead"),
        (_at(Failed(), SECOND), "dead"),
        (_at(Cancelled(), SECOND), "dead"),
        (_at(Completed(), SECOND), "dead"),  # finished while the case is open
        (_at(Suspended(), STUCK_AFTER * 10), "waiting"),  # waits as long as the agency takes
        (_at(Paused(), STUCK_AFTER * 10), "waiting"),
        (_at(Scheduled(), STUCK_AFTER * 10), "ok"),  # the worker will take it when it is back
        (_at(Pending(), STUCK_PENDING_AFTER - SECOND), "ok"),
        (_at(Pending(), STUCK_PENDING_AFTER + SECOND), "stuck"),
        (_at(Pending(name="Submitting"), STUCK_PENDING_AFTER + SECOND), "stuck"),
        (_at(Running(), STUCK_PENDING_AFTER + SECOND), "ok"),  # running has the longer bound
        (_at(Running(), STUCK_AFTER - SECOND), "ok"),
        (_at(Running(), STUCK_AFTER + SECOND), "stuck"),
    ],
    ids=lambda v: getattr(v, "name", None) or str(v),
)
def test_each_state_is_judged_by_its_own_bound(state: object, expected: str) -> None:
    assert health_of(state, as_of=NOW) == expected  # type: ignore[arg-type]


def test_pending_is_given_less_time_than_running() -> None:
    assert STUCK_PENDING_AFTER < STUCK_AFTER
