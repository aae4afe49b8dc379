"""Time for the office: aware UTC datetimes in the database, Beijing dates for working days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

OFFICE_TZ = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """The current instant; only outer layers call this, logic takes `as_of`."""
    return datetime.now(UTC)


def office_date(moment: datetime) -> date:
    """The calendar date at the office for an instant."""
    return moment.astimezone(OFFICE_TZ).date()


def office_time(moment: datetime) -> str:
    """2026-11-23 09:00 in Beijing time, for people to read."""
    return moment.astimezone(OFFICE_TZ).strftime("%Y-%m-%d %H:%M")


def start_of_office_day(day: date) -> datetime:
    """09:00 Beijing time on `day`, as an aware datetime (what `--as-of DATE` means)."""
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=OFFICE_TZ).astimezone(UTC)


def chinese_date(day: date) -> str:
    """2026年11月23日 (an instant: its date at the office)."""
    if isinstance(day, datetime):
        day = office_date(day)
    return f"{day.year}年{day.month}月{day.day}日"
