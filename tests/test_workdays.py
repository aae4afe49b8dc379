from datetime import date

import pytest

from casework.workdays import add_working_days, is_working_day, working_days_between

pytestmark = pytest.mark.unit


def test_national_day_holiday_is_skipped() -> None:
    # 2026: 1-7 October off; the 30th of September is the last working day before it.
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)


def test_adjusted_working_saturday_counts() -> None:
    assert date(2026, 10, 10).weekday() == 5
    assert is_working_day(date(2026, 10, 10))
    assert add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)


def test_ordinary_weekend_is_skipped() -> None:
    assert add_working_days(date(2026, 11, 20), 1) == date(2026, 11, 23)  # Fri -> Mon


def test_working_days_between_crosses_the_holiday() -> None:
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 4


def test_year_without_official_calendar_falls_back_to_weekdays() -> None:
    assert not is_working_day(date(2099, 1, 3))  # a Saturday
    assert add_working_days(date(2099, 1, 2), 1) == date(2099, 1, 5)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), -1)
