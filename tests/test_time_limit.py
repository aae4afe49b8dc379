"""The 限时办结 clock, branch by branch: weekends and holidays do not count, a pause stops it from
the day after the request to the day the citizen answers, an extension adds days, and the state
moves running → due soon → overdue, or paused, or met/missed once closed."""

from __future__ import annotations

from datetime import date

import pytest

from casework.time_limit import Clock, ClockState, Pause, clock

pytestmark = pytest.mark.unit
MON = date(2026, 11, 16)  # a Monday; the weeks after it hold no public holiday


def _at(day: date, *, limit: int = 7, pauses: list[Pause] | None = None, **kw: date) -> Clock:
    return clock(opened_on=MON, limit=limit, pauses=pauses or [], today=day, **kw)


def test_the_day_of_intake_does_not_count_and_weekends_do_not_either() -> None:
    assert _at(MON).used == 0
    assert _at(date(2026, 11, 17)).used == 1
    assert _at(date(2026, 11, 20)).used == 4  # Friday
    assert _at(date(2026, 11, 22)).used == 4  # Sunday: nothing more
    assert _at(date(2026, 11, 23)).used == 5


def test_national_day_does_not_count_and_the_adjusted_saturday_does() -> None:
    # 2026: 1–7 October off, Saturday 10 October a working day.
    opened = date(2026, 9, 30)
    counted = clock(opened_on=opened, limit=7, pauses=[], today=date(2026, 10, 10))
    assert counted.used == 3  # 8 (Thu), 9 (Fri) and 10 (the adjusted Saturday)
    assert clock(opened_on=opened, limit=7, pauses=[], today=date(2026, 10, 8)).used == 1


def test_running_then_due_soon_then_overdue_with_the_due_date_fixed() -> None:
    running = _at(date(2026, 11, 18))
    assert (running.state, running.used, running.left) == (ClockState.RUNNING, 2, 5)
    assert running.due_on == date(2026, 11, 25)  # 7 working days after intake
    soon = _at(date(2026, 11, 23))
    assert (soon.state, soon.left, soon.due_on) == (ClockState.DUE_SOON, 2, date(2026, 11, 25))
    last_day = _at(date(2026, 11, 25))
    assert (last_day.state, last_day.left) == (ClockState.DUE_SOON, 0)
    over = _at(date(2026, 11, 27))
    assert (over.state, over.left, over.due_on) == (ClockState.OVERDUE, -2, date(2026, 11, 25))


def test_a_pause_stops_the_clock_after_the_request_day_until_the_citizen_answers() -> None:
    # Asked on Wed 18th, the citizen brought it on Mon 23rd: Thu, Fri and Mon do not count.
    pause = Pause(started_on=date(2026, 11, 18), ended_on=date(2026, 11, 23))
    after = _at(date(2026, 11, 24), pauses=[pause])
    assert (after.used, after.paused, after.state) == (3, 3, ClockState.RUNNING)
    assert after.due_on == date(2026, 11, 30)  # three days later than without the pause
    still = _at(date(2026, 11, 20), pauses=[Pause(date(2026, 11, 18), None)])
    assert (still.used, still.paused, still.paused_now) == (2, 2, True)
    assert still.state == ClockState.PAUSED


def test_overlapping_pauses_count_a_day_once() -> None:
    pauses = [Pause(date(2026, 11, 17), date(2026, 11, 19)), Pause(date(2026, 11, 18), None)]
    counted = _at(date(2026, 11, 20), pauses=pauses)
    assert (counted.used, counted.paused) == (1, 3)


def test_a_paused_case_past_its_limit_is_still_overdue() -> None:
    counted = _at(date(2026, 11, 30), limit=3, pauses=[Pause(date(2026, 11, 20), None)])
    assert (counted.used, counted.paused, counted.state) == (4, 6, ClockState.OVERDUE)


def test_an_extension_is_more_limit() -> None:
    assert _at(date(2026, 11, 27), limit=7).state == ClockState.OVERDUE
    extended = _at(date(2026, 11, 27), limit=7 + 5)
    assert (extended.state, extended.left) == (ClockState.RUNNING, 3)


def test_a_closed_case_stops_its_clock_met_or_missed() -> None:
    met = _at(date(2026, 12, 31), closed_on=date(2026, 11, 25))
    assert (met.used, met.state) == (7, ClockState.MET)
    missed = _at(date(2026, 12, 31), closed_on=date(2026, 11, 26))
    assert (missed.used, missed.state) == (8, ClockState.MISSED)
    # A pause never closed by the citizen ends with the case.
    paused = _at(date(2026, 12, 31), closed_on=date(2026, 11, 20), pauses=[Pause(MON, None)])
    assert (paused.used, paused.paused, paused.paused_now) == (0, 4, False)


def test_ratings_parse_every_way_of_saying_them_and_draw_the_lines_at_3() -> None:
    from casework.errors import UserError
    from casework.ratings import needs_follow_up, parse_level, satisfied

    for typed, level in (
        ("非常满意", 5),
        ("满意", 4),
        ("基本满意", 3),
        ("不满意", 2),
        ("非常不满意", 1),
        (" 4 ", 4),
        ("Very-Dissatisfied", 1),
        ("fairly-satisfied", 3),
    ):
        assert parse_level(typed) == level, typed
    for typed in ("0", "6", "还行", "", "很满意"):
        with pytest.raises(UserError):
            parse_level(typed)
    assert [needs_follow_up(n) for n in range(1, 6)] == [True, True, False, False, False]
    assert [satisfied(n) for n in range(1, 6)] == [False, False, True, True, True]


@pytest.mark.parametrize(
    ("opened_at", "first_request_on", "in_time"),
    [
        ("2026-11-20T02:00:00+00:00", date(2026, 11, 20), True),  # Friday, the same day
        ("2026-11-20T02:00:00+00:00", date(2026, 11, 23), True),  # Monday: the next working day
        ("2026-11-20T02:00:00+00:00", date(2026, 11, 24), False),  # Tuesday: a day late
        # 01:00 on Friday in Beijing, Thursday in UTC: counted from the office's Friday.
        ("2026-11-19T17:00:00+00:00", date(2026, 11, 23), True),
        ("2026-11-19T17:00:00+00:00", date(2026, 11, 24), False),
    ],
)
def test_the_response_rate_counts_a_first_request_by_the_next_working_day(
    opened_at: str, first_request_on: date, in_time: bool
) -> None:
    from datetime import datetime

    from models.reports import requested_in_time

    assert requested_in_time(datetime.fromisoformat(opened_at), first_request_on) is in_time
