"""Letters by post: the printed request, its tracking number, and the board's list to post."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from casework.clock import start_of_office_day
from casework.planning import plan_next_step
from casework.playbook import get_playbook
from cli.main import app
from models import intake, lookups, views
from models.board import daily_board
from models.db import session_scope
from models.tables import CaseEvent, Contact
from tests.factories import case_with_a_request, document_text, shen_intake

pytestmark = pytest.mark.flow
DAY = start_of_office_day(date(2026, 11, 16))
runner = CliRunner()


def _run(*args: str) -> tuple[int, list[str]]:
    result = runner.invoke(app, list(args))
    return result.exit_code, [line for line in result.output.splitlines() if line.strip()]


def _case_with_a_posted_request() -> str:
    """Ms. Shen's case, with a crematorium that has no email: the request goes by post."""
    return case_with_a_request(DAY, by_post=True)[0]


def _detail(number: str) -> views.CaseDetail:
    with session_scope() as session:
        return views.case_detail(session=session, case_number=number)


def _posting_state(number: str) -> tuple[list[str | None], int]:
    with session_scope() as session:
        detail = views.case_detail(session=session, case_number=number)
        events = session.exec(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "letter-posted")
        ).one()
    letters = [c.tracking_number for c in detail.contacts if c.channel == "post"]
    return letters, int(events)


def test_a_request_by_post_is_printed_and_sends_no_email(
    fresh_db: object, smtp_server: list
) -> None:
    number = _case_with_a_posted_request()
    assert [m["To"] for m in smtp_server] == ["shen.family@example.com"]  # the notice only
    with session_scope() as session:
        detail = views.case_detail(session=session, case_number=number)
    (request,) = [c for c in detail.contacts if c.kind == "request"]
    assert request.channel == "post" and request.document and request.document.endswith(".pdf")
    text = document_text(request.document)
    assert "王建国" in text and "请将回函寄至" in text and "请回复本邮件" not in text
    code, out = _run("show", number)
    assert code == 0 and any("待寄出" in line and f"#{request.id}" in line for line in out)
    assert request.document in "\n".join(out)  # the letter is listed with the case's files


def test_posting_records_the_tracking_number_once(fresh_db: object, smtp_server: list) -> None:
    number = _case_with_a_posted_request()
    with session_scope() as session:
        board = daily_board(session=session, today=DAY.date())
    assert [(x.case_number, x.agency) for x in board.letters_to_post] == [
        (number, "crematorium-front-desk")
    ]

    code, out = _run("posted", number, "--tracking", "ea 1234-5678 9cn")
    assert code == 0 and "EA123456789CN" in out[0]
    assert _posting_state(number) == (["EA123456789CN"], 1)
    code, out = _run("show", number)
    assert any("邮寄单号 EA123456789CN" in line for line in out)
    with session_scope() as session:
        assert daily_board(session=session, today=DAY.date()).letters_to_post == []

    # The same number again changes nothing; another number for the same letter is refused.
    assert _run("posted", number, "--tracking", "EA123456789CN")[0] == 0
    (letter,) = [c.id for c in _detail(number).contacts if c.channel == "post"]
    code, out = _run("posted", number, "--tracking", "SF1234567890", "--letter", str(letter))
    assert code == 2 and len(out) == 1
    assert _posting_state(number) == (["EA123456789CN"], 1)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--tracking", "SF12"], "邮件单号无效：SF12"),
        (["--tracking", "SF1234567890\nBcc: x"], "邮件单号无效"),
        (["--tracking", "SF1234567890", "--letter", "999"], "不是待寄出的信函"),
    ],
)
def test_bad_postings_say_why_in_one_line_and_write_nothing(
    fresh_db: object, smtp_server: list, args: list[str], expected: str
) -> None:
    number = _case_with_a_posted_request()
    with session_scope() as session:
        before = session.exec(select(func.count()).select_from(Contact)).one()
    code, out = _run("posted", number, *args)
    assert code == 2 and len(out) == 1 and expected in out[0]
    assert _posting_state(number) == ([None], 0)
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(Contact)).one() == before


def test_a_case_with_nothing_to_post_says_so(fresh_db: object, smtp_server: list) -> None:
    with session_scope() as session:
        number = intake.open_case(
            session=session, intake=shen_intake(date(2017, 6, 1)), as_of=DAY
        ).number
    code, out = _run("posted", number, "--tracking", "EA123456789CN")
    assert code == 2 and out == [f"案件 {number} 没有待寄出的信函"]


def test_the_follow_up_clock_starts_when_the_letter_is_posted(
    fresh_db: object, smtp_server: list
) -> None:
    from casework.planning import Action
    from casework.workdays import add_working_days
    from models.postal import record_posting

    number = _case_with_a_posted_request()  # limit in 2027: not urgent, the normal interval
    playbook = get_playbook("recover-cremation-certificate")

    def next_action(day: date) -> Action:
        with session_scope() as session:
            view = lookups.case_view(session=session, case_number=number)
        return plan_next_step(view, playbook, start_of_office_day(day)).action

    # Printed but never posted: the crematorium cannot be chased for a letter it never got.
    assert next_action(add_working_days(DAY.date(), 20)) is Action.WAIT
    posted_on = add_working_days(DAY.date(), 3)
    with session_scope() as session:
        record_posting(
            actor="staff",
            session=session,
            case_number=number,
            tracking_number="EA123456789CN",
            as_of=start_of_office_day(posted_on),
        )
    due = add_working_days(posted_on, playbook.follow_up.interval_working_days)
    assert next_action(due - timedelta(days=1)) is Action.WAIT
    assert next_action(due) is Action.REMIND


def test_an_answer_by_post_is_logged_as_post(fresh_db: object, smtp_server: list) -> None:
    number = _case_with_a_posted_request()
    reply = ["reply", number, "--agency", "crematorium-front-desk", "--outcome", "received"]
    code, out = _run(*reply, "--via", "fax")
    assert code == 2 and out == ["答复方式无效：fax（phone/email/post/visit）"]
    assert [c for c in _detail(number).contacts if c.kind == "reply"] == []
    code, out = _run(*reply, "--via", "post", "--note", "回函已寄到")
    assert code == 0
    (answer,) = [c for c in _detail(number).contacts if c.kind == "reply"]
    assert (answer.channel, answer.outcome, answer.note) == ("post", "received", "回函已寄到")


def test_a_tracking_number_belongs_to_one_letter(fresh_db: object, smtp_server: list) -> None:
    first, second = _case_with_a_posted_request(), _case_with_a_posted_request()
    assert _run("posted", first, "--tracking", "EA123456789CN")[0] == 0
    # An old command typed again, now that another case has a letter waiting: refused.
    code, out = _run("posted", second, "--tracking", "EA123456789CN")
    (letter,) = [c.id for c in _detail(first).contacts if c.channel == "post"]
    assert code == 2 and out == [f"邮件单号 EA123456789CN 已登记在 {first} 的信函 #{letter}"]
    assert _posting_state(second)[0] == [None]


def test_a_letter_answered_before_it_was_posted_is_not_on_the_board(
    fresh_db: object, smtp_server: list
) -> None:
    number = _case_with_a_posted_request()
    reply = ["reply", number, "--agency", "crematorium-front-desk", "--outcome", "received"]
    assert _run(*reply, "--via", "phone")[0] == 0  # it phoned before the letter left
    with session_scope() as session:
        assert daily_board(session=session, today=DAY.date()).letters_to_post == []
    code, out = _run("posted", number, "--tracking", "EA123456789CN")
    assert code == 2 and out == [f"案件 {number} 没有待寄出的信函"]


def test_a_posting_can_be_recorded_for_an_earlier_day(fresh_db: object, smtp_server: list) -> None:
    from casework.clock import now, office_date, start_of_office_day

    number = _case_with_a_posted_request()  # printed on 16 Nov 2026
    code, out = _run("posted", number, "--tracking", "EA123456789CN", "--posted-on", "2026-11-15")
    assert code == 2 and "不能早于信函打印日 2026-11-16" in out[0]
    tomorrow = (office_date(now()) + timedelta(days=1)).isoformat()
    code, out = _run("posted", number, "--tracking", "EA123456789CN", "--posted-on", tomorrow)
    assert code == 2 and "不能晚于今天" in out[0]
    assert _posting_state(number) == ([None], 0)
    assert (
        _run("posted", number, "--tracking", "EA123456789CN", "--posted-on", "2026-11-18")[0] == 0
    )
    with session_scope() as session:
        view = lookups.case_view(session=session, case_number=number)
    (request,) = [m.open_request for m in view.materials if m.open_request]
    assert request.sent_at == start_of_office_day(date(2026, 11, 18))


def test_an_agency_without_email_is_reminded_by_post(fresh_db: object, smtp_server: list) -> None:
    from casework.planning import Action
    from casework.workdays import add_working_days
    from models.postal import letters_to_post, record_posting
    from tasks.send import send_reminder

    number = _case_with_a_posted_request()
    playbook = get_playbook("recover-cremation-certificate")
    with session_scope() as session:
        record_posting(
            actor="staff",
            session=session,
            case_number=number,
            tracking_number="EA100000001CN",
            as_of=DAY,
        )
    due = add_working_days(DAY.date(), playbook.follow_up.interval_working_days)
    with session_scope() as session:
        view = lookups.case_view(session=session, case_number=number)
    step = plan_next_step(view, playbook, start_of_office_day(due))
    assert step.action is Action.REMIND
    send_reminder.fn(number, step, start_of_office_day(due))
    with session_scope() as session:
        (reminder,) = letters_to_post(session=session, case_number=number)
        view = lookups.case_view(session=session, case_number=number)
    assert reminder.kind == "reminder" and reminder.document and reminder.document.endswith(".pdf")
    assert "请将回函寄至" in document_text(reminder.document)
    assert [m["To"] for m in smtp_server] == ["shen.family@example.com"]  # still no email
    # The second reminder cannot fall due while the first is still in the office.
    later = add_working_days(due, 3 * playbook.follow_up.interval_working_days)
    assert plan_next_step(view, playbook, start_of_office_day(later)).action is Action.WAIT
