"""Working days on China's official calendar (holidays and adjusted working weekends)."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

log = logging.getLogger(__name__)
_warned_years: set[int] = set()


# chinese_calendar checks each date against its whole table (min and max over every holiday):
# a month's report counts working days for thousands of cases, over the same few hundred days.
@lru_cache(maxsize=8192)
def is_working_day(day: date) -> bool:
    """True if government offices work on `day`.

    Years the calendar package does not cover yet (the State Council publishes each year's
    schedule in November) fall back to Monday-Friday, with one warning per year.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning("No official holiday calendar for %s yet: counting Mon-Fri only", day.year)
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (start itself is not counted)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 if end <= start)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count
