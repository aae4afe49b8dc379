"""限时办结: the clock of a case, counted in working days from intake.

The day of intake is not counted; each working day after it is, up to today (or the day the
case closed), except days the clock stood still while the office waited for the citizen to
supply something (补正). A pause covers the working days after it began up to and including
the day the citizen supplied it: the day the request went out counts, the day the material came
back does not, and the clock runs again from the next working day. An approved extension adds
its days to the limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from casework.workdays import add_working_days, is_working_day

# A case with this many working days left or fewer is "about to run out" on the board.
DUE_SOON_DAYS = 2


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    DUE_SOON = "due-soon"
    OVERDUE = "overdue"
    MET = "met"  # closed within the limit
    MISSED = "missed"  # closed after it


@dataclass(frozen=True)
class Pause:
    started_on: date
    ended_on: date | None  # None: still waiting for the citizen

    def covers(self, day: date, today: date) -> bool:
        end = self.ended_on if self.ended_on is not None else today
        return self.started_on < day <= end


@dataclass(frozen=True)
class Clock:
    limit: int  # working days, extensions included
    used: int
    paused: int
    paused_now: bool
    state: ClockState
    due_on: date  # the last day within the limit, as things stand today

    @property
    def left(self) -> int:
        return self.limit - self.used


def clock(
    *,
    opened_on: date,
    limit: int,
    pauses: list[Pause],
    today: date,
    closed_on: date | None = None,
) -> Clock:
    """Where the case's clock stands on `today` (or stood when it closed)."""
    end = min(today, closed_on) if closed_on is not None else today
    used = paused = 0
    day = opened_on
    while day < end:
        day += timedelta(days=1)
        if not is_working_day(day):
            continue
        if any(p.covers(day, end) for p in pauses):
            paused += 1
        else:
            used += 1
    paused_now = closed_on is None and any(p.ended_on is None for p in pauses)
    left = limit - used
    # While paused nothing is used, so the due date moves with each paused day.
    due_on = add_working_days(end, max(left, 0)) if left >= 0 else _back(end, -left)
    if closed_on is not None:
        state = ClockState.MET if used <= limit else ClockState.MISSED
    elif used > limit:
        state = ClockState.OVERDUE
    elif paused_now:
        state = ClockState.PAUSED
    elif left <= DUE_SOON_DAYS:
        state = ClockState.DUE_SOON
    else:
        state = ClockState.RUNNING
    return Clock(limit, used, paused, paused_now, state, due_on)


def _back(day: date, working_days: int) -> date:
    """The working day `working_days` before `day` (the day an overdue case ran out)."""
    while working_days:
        day -= timedelta(days=1)
        if is_working_day(day):
            working_days -= 1
    return day
