"""Board and monthly report figures against a real case database (no Prefect)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casework.answers import Answer, AnswerOutcome
from casework.clock import start_of_office_day
from cli.main import app
from models import incoming, intake
from models.board import daily_board
from models.db import session_scope
from models.reports import monthly_report
from tasks.report import write_monthly_report
from tests.factories import shen_intake
from tests.test_case_records import _run_until_wait

pytestmark = pytest.mark.flow
OPENED = start_of_office_day(date(2026, 11, 16))


def _two_cases() -> tuple[str, str]:
    """One case closed after 3 days with 2 trips; one still waiting on the archive room."""
    with session_scope() as session:
        first = intake.open_case(
            session=session, intake=shen_intake(date(2017, 6, 1)), as_of=OPENED
        )
        second = intake.open_case(
            session=session, intake=shen_intake(date(2016, 12, 20), email=None), as_of=OPENED
        )
    for number in (first.number, second.number):
        _run_until_wait(number, OPENED)
    closed_at = OPENED + timedelta(days=3)
    with session_scope() as session:
        incoming.record_visit(
            actor="staff",
            session=session,
            case_number=first.number,
            reason=incoming.TripReason.SIGNATURE,
            brought=[],
            as_of=OPENED + timedelta(days=1),
        )
        incoming.record_answer(
            actor="staff",
            session=session,
            case_number=first.number,
            answer=Answer(agency="crematorium-front-desk", outcome=AnswerOutcome.RECEIVED),
            as_of=closed_at,
        )
    _run_until_wait(first.number, closed_at)
    return first.number, second.number


def test_monthly_figures_match_the_cases(fresh_db: object, smtp_server: list) -> None:
    _first, _second = _two_cases()
    with session_scope() as session:
        report = monthly_report(session=session, month="2026-11")
    assert (report.cases_opened, report.cases_closed, report.people_served) == (2, 1, 2)
    assert report.households_helped_by_type == {"recover-cremation-certificate": 1}
    assert report.materials_obtained_for_citizens == 1
    assert report.median_trips_per_closed_case == 2
    assert report.share_closed_with_0_to_2_trips == 1.0
    assert report.median_days_to_close == 3.0 and report.p90_days_to_close == 3.0
    # Weeks from the Monday of the month's first day; both opened on Monday 16th, one closed
    # on the Thursday.
    assert report.weekly == [
        ("2026-10-26", 0, 0),
        ("2026-11-02", 0, 0),
        ("2026-11-09", 0, 0),
        ("2026-11-16", 2, 1),
        ("2026-11-23", 0, 0),
        ("2026-11-30", 0, 0),
    ]
    with session_scope() as session:
        assert monthly_report(session=session, month="2026-10").empty


def test_daily_board_lists_what_is_stuck(fresh_db: object, smtp_server: list) -> None:
    _first, second = _two_cases()
    with session_scope() as session:
        board = daily_board(session=session, today=date(2026, 11, 20))
    assert board.open_by_type_and_status == {"recover-cremation-certificate": {"waiting_agency": 1}}
    assert [c.case_number for c in board.overdue_contacts] == [second]  # urgent: due after 1 day
    assert [d.case_number for d in board.deadlines_next_30_days] == [second]
    front_desk = next(a for a in board.agencies if a.agency == "crematorium-front-desk")
    assert (front_desk.requests, front_desk.answered, front_desk.share_never_answered) == (
        2,
        1,
        0.5,
    )
    assert front_desk.median_days_to_answer == 3.0


def test_report_files_and_cli(fresh_db: object, smtp_server: list, tmp_path: Path) -> None:
    _two_cases()
    _report, files = write_monthly_report("2026-11")
    assert [f.suffix for f in files] == [".csv", ".xlsx", ".png"]
    assert files[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from openpyxl import load_workbook

    sheet = load_workbook(files[1])["月度报告"]
    assert ("办结案件", "1") in [(r[0].value, r[1].value) for r in sheet.iter_rows(min_row=2)]
    runner = CliRunner()
    result = runner.invoke(app, ["report", "--month", "2026-11", "--format", "csv"])
    assert result.exit_code == 0 and "受理案件,2" in result.stdout
    empty = runner.invoke(app, ["report", "--month", "2026-10"])
    assert empty.exit_code == 0 and "2026-10 没有任何案件数据" in empty.stdout
    bad = runner.invoke(app, ["report", "--month", "2026-13"])
    assert bad.exit_code == 2 and "月份格式无效：2026-13" in bad.output
