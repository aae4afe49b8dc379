"""The office's own rules on a real case database: the 限时办结 clock pauses for 补正 and runs
again, an extension approved before the limit (and refused after it), a second notice counted
with its amended notice filed, a 不满意 rating that must be followed up, the first-contact
receipt read back from its PDF, and a month's report checked figure by figure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from casework.answers import Answer, AnswerOutcome, TripReason
from casework.clock import start_of_office_day
from casework.errors import UserError
from casework.settings import get_settings
from casework.workdays import add_working_days
from cli.stories import synthetic_id_number
from models import incoming, office_rules
from models.board import daily_board
from models.db import session_scope
from models.lookups import get_case
from models.reports import monthly_report
from models.tables import Case, CaseEvent, Contact, EventKind, OutboxMessage, Rating, SecondNotice
from tests.factories import case_with_a_request, document_text, window_staff
from tests.test_case_records import _run_until_wait
from usecases import answers, intake
from usecases import office_rules as rules
from usecases.accounts import console_actor, who

pytestmark = pytest.mark.flow
MON = date(2026, 11, 16)
MATERIAL = "cremation-certificate"


def _day(day: date, hour: int = 10) -> datetime:
    return start_of_office_day(day) + timedelta(hours=hour - 9)


@pytest.fixture
def case(fresh_db: object, smtp_server: list) -> Iterator[str]:
    number, _ = case_with_a_request(_day(MON))
    yield number


def _answer(number: str, outcome: AnswerOutcome, day: date, note: str = "") -> None:
    with session_scope() as session:
        incoming.record_answer(
            actor="staff",
            session=session,
            case_number=number,
            answer=Answer(agency="crematorium-front-desk", outcome=outcome, note=note),
            as_of=_day(day),
        )


def _close(number: str, day: date) -> None:
    _answer(number, AnswerOutcome.RECEIVED, day)
    _run_until_wait(number, _day(day, 11))
    with session_scope() as session:
        assert get_case(session, number).closed_at is not None


def _count(table: type) -> int:
    with session_scope() as session:
        return len(session.exec(select(table)).all())


def test_the_clock_stops_for_correction_and_runs_again(case: str) -> None:
    start = rules.clock_of(actor=console_actor(), case_number=case, as_of=_day(MON))
    assert (start.limit, start.used, start.state) == (15, 0, "running")
    _answer(case, AnswerOutcome.NEEDS_INFO, date(2026, 11, 18), "需要申请人身份证复印件")
    paused = rules.clock_of(actor=console_actor(), case_number=case, as_of=_day(date(2026, 11, 20)))
    assert (paused.used, paused.paused, paused.state) == (2, 2, "paused")
    with session_scope() as session:  # posted in: no trip, and the clock runs from the next day
        incoming.record_visit(
            actor="staff",
            session=session,
            case_number=case,
            reason=TripReason.MATERIAL_MISSING,
            brought=[MATERIAL],
            as_of=_day(date(2026, 11, 23)),
            channel=incoming.Channel.POST,
        )
    again = rules.clock_of(actor=console_actor(), case_number=case, as_of=_day(date(2026, 11, 25)))
    assert (again.used, again.paused, again.state) == (4, 3, "running")
    assert again.due_on == add_working_days(MON, 15 + 3)
    with session_scope() as session:
        kinds = [e.kind for e in session.exec(select(CaseEvent)) if e.kind.startswith("clock-")]
    assert kinds == [EventKind.CLOCK_PAUSED, EventKind.CLOCK_RESUMED]


def test_an_extension_before_the_limit_moves_the_date_and_tells_the_citizen(case: str) -> None:
    day = date(2026, 12, 1)  # 11 working days used of 15
    for days, reason, code in ((3, "  ", "text_required"), (0, "殡仪馆档案搬迁", "extension_days")):
        with pytest.raises(UserError) as refused:
            rules.extend_time_limit(
                case_number=case, days=days, reason=reason, as_of=_day(day), actor=console_actor()
            )
        assert refused.value.code == code
    assert _count(Contact) == 3  # notice, visit at intake, request: nothing written

    window_staff(_day(day))
    manager = who("wangmin")
    assert manager is not None
    done = rules.extend_time_limit(
        case_number=case,
        days=5,
        reason="殡仪馆档案搬迁，查档暂停",
        as_of=_day(day),
        actor=manager,
    )
    assert done.due_on == add_working_days(MON, 20)
    detail = rules.clock_of(actor=console_actor(), case_number=case, as_of=_day(day))
    assert (detail.limit, detail.extension_days, detail.left) == (20, 5, 9)
    with session_scope() as session:
        letter = session.exec(
            select(Contact).where(Contact.dedupe_key == f"extension:{case}:1")
        ).one()
        mail = session.exec(
            select(OutboxMessage).where(OutboxMessage.contact_id == letter.id)
        ).one()
        event = session.exec(
            select(CaseEvent).where(CaseEvent.kind == EventKind.TIME_LIMIT_EXTENDED)
        ).one()
    printed = document_text(letter.document_path or "")
    assert "延长5个工作日" in printed
    assert "原定于2026年12月7日前办结" in printed and "预计于2026年12月14日前办结" in printed
    assert mail.to_address == "shen.family@example.com" and "延期办结告知书" in mail.subject
    assert event.actor == "wangmin" and "殡仪馆档案搬迁" in event.detail
    assert "由2026年12月7日改为" in event.detail  # the date promised before, and the new one

    again = rules.extend_time_limit(
        case_number=case, days=2, reason="档案室人手不足", as_of=_day(day), actor=console_actor()
    )
    assert again.due_on == add_working_days(MON, 22)
    with session_scope() as session:  # a second extension is a second letter, not a repeat
        second = session.exec(
            select(Contact).where(Contact.dedupe_key == f"extension:{case}:2")
        ).one()
    assert second.document_path and "延长2个工作日" in document_text(second.document_path)

    late = date(2026, 12, 23)  # 26 working days used: past even the extended limit
    assert (
        rules.clock_of(actor=console_actor(), case_number=case, as_of=_day(late)).state == "overdue"
    )
    with pytest.raises(UserError) as refused:
        rules.extend_time_limit(
            case_number=case, days=5, reason="再次延期", as_of=_day(late), actor=console_actor()
        )
    assert refused.value.code == "extension_too_late"
    assert rules.clock_of(actor=console_actor(), case_number=case, as_of=_day(late)).limit == 22


def test_a_second_notice_needs_a_reason_is_counted_and_sends_the_amended_notice(
    case: str,
) -> None:
    with pytest.raises(UserError) as refused:
        rules.record_second_notice(
            case_number=case,
            item="逝者生前单位证明",
            reason="",
            as_of=_day(MON),
            actor=console_actor(),
        )
    assert refused.value.code == "text_required" and _count(SecondNotice) == 0

    day = date(2026, 11, 19)
    done = rules.record_second_notice(
        case_number=case,
        item="逝者生前单位出具的证明",
        reason="殡仪馆要求核实逝者身份，告知书未列",
        as_of=_day(day),
        actor=console_actor(),
    )
    assert done.count == 1
    with session_scope() as session:
        letter = session.exec(
            select(Contact).where(Contact.dedupe_key == f"second-notice:{case}:1")
        ).one()
        board = daily_board(session=session, today=day)
    text = document_text(str(letter.document_path))
    assert "补充告知书" in text and "逝者生前单位出具的证明" in text and "殡仪馆要求核实" in text
    assert board.second_notices_this_month == 1


def test_a_bad_rating_opens_a_rectification_that_a_follow_up_call_closes(case: str) -> None:
    def refused(code: str, **kw: str) -> None:
        with pytest.raises(UserError) as caught:
            rules.record_rating(case_number=case, as_of=_day(MON), actor=console_actor(), **kw)
        assert caught.value.code == code

    refused("rating_before_closing", level="满意")
    with pytest.raises(UserError) as caught:
        rules.record_follow_up(
            case_number=case, note="已致电", as_of=_day(MON), actor=console_actor()
        )
    assert caught.value.code == "follow_up_before_rating"
    closed_on = date(2026, 11, 20)
    _close(case, closed_on)
    refused("bad_rating", level="还行")
    refused("bad_rating", level="6")
    refused("bad_rating_channel", level="满意", channel="wechat")
    assert _count(Rating) == 0

    rated = rules.record_rating(
        case_number=case,
        level="不满意",
        comment="等了太久",
        as_of=_day(closed_on),
        actor=console_actor(),
    )
    assert (rated.level, rated.rectify_by) == (2, add_working_days(closed_on, 5))
    refused("already_rated", level="满意")
    with session_scope() as session:
        assert [
            r.case_number for r in daily_board(session=session, today=closed_on).rectifications
        ] == [case]
        # Nobody called back in time: flagged once for the manager.
        late = _day(add_working_days(closed_on, 6))
        assert office_rules.flag_overdue_rectifications(session=session, as_of=late) == [case]
        assert office_rules.flag_overdue_rectifications(session=session, as_of=late) == []
    rules.record_follow_up(
        case_number=case,
        note="已致电道歉，说明殡仪馆查档流程；群众表示理解",
        as_of=late,
        actor=console_actor(),
    )
    with session_scope() as session:
        assert daily_board(session=session, today=late.date()).rectifications == []
    with pytest.raises(UserError) as caught:
        rules.record_follow_up(case_number=case, note="再次回访", as_of=late, actor=console_actor())
    assert caught.value.code == "already_followed_up"


def test_the_first_contact_receipt_reads_back_from_its_pdf(
    fresh_db: object, smtp_server: list, tmp_path: Path
) -> None:
    window_staff(_day(MON))
    clerk = who("xuchang")
    assert clerk is not None
    opened = intake.open_case(
        actor=clerk,
        form=intake.IntakeForm(
            playbook="recover-cremation-certificate",
            name="沈桂兰",
            id_number=synthetic_id_number(date(1950, 3, 8)),
            phone="13800001234",
            fields={"deceased_name": "王建国", "cremation_date": "2017-06-01"},
        ),
        as_of=_day(MON),
        start=False,
    )
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(rules.receipt_pdf(actor=clerk, case_number=opened.case_number, as_of=_day(MON)))
    text = document_text(pdf)
    for expected in (
        "首问负责受理回执",
        opened.case_number,
        "限时办结：15个工作日",
        f"{add_working_days(MON, 15):%Y年%-m月%-d日}",
        "陶然亭街道",  # the office that took it, by its own name
        "联系电话：010-63500000",  # the office's window phone
        "监督电话：010-63500099",  # and its supervision phone
        "首问责任人：徐畅",  # the clerk who took it, by name
        "经办人：徐畅",
        "火化证明（补办件或火化记录证明）",
        "申请人签字",
    ):
        assert expected in text, expected
    for foreign in ("010-0000-0000", "经办人：窗口工作人员"):  # nothing from the demo's settings
        assert foreign not in text, foreign


def test_a_months_report_counts_what_the_cases_did(
    fresh_db: object, smtp_server: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ms. Shen's type with a 3-day limit: two cases closed in time, one late, one withdrawn
    # (two and one, so that a count of the late ones for the timely ones shows).
    monkeypatch.setenv("CASEWORK_TIME_LIMITS", '{"recover-cremation-certificate": 3}')
    get_settings.cache_clear()
    in_time, _ = case_with_a_request(_day(MON))
    also_in_time, _ = case_with_a_request(_day(MON))
    late, _ = case_with_a_request(_day(MON))
    withdrawn, _ = case_with_a_request(_day(date(2026, 11, 17)))
    _close(in_time, date(2026, 11, 19))  # 3 working days
    _close(also_in_time, date(2026, 11, 18))  # 2 working days
    asked = rules.record_second_notice(
        case_number=late,
        item="户籍注销证明",
        reason="告知书漏列",
        as_of=_day(MON),
        actor=console_actor(),
    )
    # She posts it the same day: the clock stood still for no working day, no trip.
    answers.take_in(
        actor=console_actor(),
        case_number=late,
        brought=[asked.material],
        channel="post",
        reason="other",
        as_of=_day(MON, 15),
    )
    _close(late, date(2026, 11, 20))  # 4 working days
    answers.withdraw_case(
        actor=console_actor(),
        case_number=withdrawn,
        reason="申请人放弃",
        as_of=_day(date(2026, 11, 18)),
    )
    rules.record_rating(
        case_number=in_time, level="5", as_of=_day(date(2026, 11, 19)), actor=console_actor()
    )
    rules.record_rating(
        case_number=late, level="非常不满意", as_of=_day(date(2026, 11, 20)), actor=console_actor()
    )
    with session_scope() as session:
        report = monthly_report(session=session, month="2026-11")
        cases = {c.number: c for c in session.exec(select(Case))}
    figures = report.rules
    assert (figures.cases_opened, figures.cases_closed) == (4, 4)
    assert figures.share_closed_within_limit == round(2 / 3, 4)  # of the three done
    assert figures.median_working_days_to_close == 3  # 2, 3 and 4
    assert (figures.second_notices, figures.second_notice_rate) == (1, 0.25)
    assert figures.response_rate == 1.0  # every request went out on the day of intake
    assert figures.resolution_rate == 0.75
    assert (figures.ratings, figures.satisfaction_rate, figures.follow_up_rate) == (2, 0.5, 0.0)
    assert figures.trips == {"1": 4}  # intake at the window is each case's one trip
    assert figures.share_within_trip_goal == 1.0
    assert report.rules_by_type["recover-cremation-certificate"] == figures
    with session_scope() as session:  # the board shows the same figures for the month so far
        assert daily_board(session=session, today=date(2026, 11, 30)).month_to_date == figures
    assert all(c.time_limit_days == 3 for c in cases.values())

    rules.record_follow_up(
        case_number=late, note="已回访", as_of=_day(date(2026, 11, 23)), actor=console_actor()
    )
    with session_scope() as session:
        assert monthly_report(session=session, month="2026-11").rules.follow_up_rate == 1.0
    get_settings.cache_clear()
