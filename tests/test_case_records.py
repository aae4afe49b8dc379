"""Case database and side-effect tasks against real SQLite and a real SMTP server (no Prefect)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import func, select

from casework.answers import Answer, AnswerOutcome
from casework.clock import start_of_office_day
from casework.errors import UserError
from casework.planning import Action, plan_next_step
from casework.playbook import get_playbook
from models import incoming, intake, lifecycle, lookups, views
from models.db import session_scope
from models.tables import CaseEvent, Contact, OutboxMessage
from tasks.send import notify_applicant, send_request
from tasks.steps import carry_out
from tests.factories import document_text, shen_intake

pytestmark = pytest.mark.flow
DAY = start_of_office_day(date(2026, 11, 16))


def _count(model: type) -> int:
    with session_scope() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _open(email: str | None = "shen.family@example.com", cremated: date = date(2017, 6, 1)) -> str:
    with session_scope() as session:
        return intake.open_case(
            session=session, intake=shen_intake(cremated, email=email), as_of=DAY
        ).number


def _plan(number: str):  # type: ignore[no-untyped-def]
    with session_scope() as session:
        view = lookups.case_view(session=session, case_number=number)
    return plan_next_step(view, get_playbook(view.playbook), DAY)


def test_open_case_numbers_and_audits(fresh_db: object) -> None:
    first, second = _open(cremated=date(2016, 12, 10)), _open()
    assert (first, second) == ("HC-2026-0001", "HC-2026-0002")
    with session_scope() as session:
        case = lookups.get_case(session, first)
        kinds = [
            e.kind for e in session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))
        ]
    assert kinds == ["case-opened"]
    assert case.deadline_date == date(2026, 12, 10)
    assert case.promised_by == date(2026, 12, 7)  # 15 working days after 16 Nov


def test_notice_and_request_are_sent_once_however_often_the_task_runs(
    fresh_db: object, smtp_server: list
) -> None:
    number = _open()
    for _ in range(2):
        notify_applicant.fn(number, DAY)
    step = _plan(number)
    assert step.action is Action.REQUEST
    for _ in range(2):
        send_request.fn(number, step, DAY)
    assert [m["X-Envelope-To"] for m in smtp_server] == [
        "shen.family@example.com",
        "front-desk@crematorium.example",
    ]
    assert smtp_server[1]["Subject"] == f"[{number}] 关于协助查询火化记录并补办火化证明的函"
    assert "王建国" in smtp_server[1].get_body(preferencelist=("plain",)).get_content()
    assert _count(OutboxMessage) == 2
    with session_scope() as session:
        statuses = {row.status for row in session.exec(select(OutboxMessage))}
    assert statuses == {"sent"}
    assert _plan(number).action is Action.WAIT


def test_applicant_without_email_gets_a_printed_notice_only(
    fresh_db: object, smtp_server: list
) -> None:
    number = _open(email=None, cremated=date(2016, 12, 10))
    notify_applicant.fn(number, DAY)
    assert smtp_server == []
    with session_scope() as session:
        detail = views.case_detail(session=session, case_number=number)
    notice = next(c for c in detail.contacts if c.kind == "notice")
    assert notice.channel == "window"
    assert notice.document is not None
    text = document_text(notice.document)
    assert "一次性告知书" in text and "2026年12月10日" in text and "沈桂兰" in text


def test_stale_or_wrong_replies_write_nothing(fresh_db: object, smtp_server: list) -> None:
    number = _open()
    notify_applicant.fn(number, DAY)
    send_request.fn(number, _plan(number), DAY)
    before = (_count(Contact), _count(CaseEvent))
    reply = Answer(agency="crematorium-front-desk", outcome=AnswerOutcome.RECEIVED)
    with session_scope() as session:
        stale = incoming.record_form_answer(
            session=session, case_number=number, generation=99, answer=reply, as_of=DAY
        )
    assert stale == "already-read"
    bad = [
        Answer(agency="crematorium-archive-room", outcome=AnswerOutcome.RECEIVED),  # not asked
        Answer(agency="crematorium-front-desk", outcome=AnswerOutcome.FORWARDED),  # no target
        Answer(agency="crematorium-front-desk", outcome=AnswerOutcome.FORWARDED, forward_to="x"),
    ]
    codes = []
    for item in bad:
        with pytest.raises(UserError) as info, session_scope() as session:
            incoming.record_answer(
                actor="staff", session=session, case_number=number, answer=item, as_of=DAY
            )
        codes.append(info.value.code)
    assert codes == ["not_waiting", "forward_to_missing", "unknown_agency"]
    assert (_count(Contact), _count(CaseEvent)) == before


def test_forwarding_then_no_record_moves_along_the_chain(
    fresh_db: object, smtp_server: list
) -> None:
    number = _open()
    notify_applicant.fn(number, DAY)
    send_request.fn(number, _plan(number), DAY)
    with session_scope() as session:
        incoming.record_answer(
            actor="staff",
            session=session,
            case_number=number,
            answer=Answer(agency="crematorium-front-desk", outcome=AnswerOutcome.NO_RECORD),
            as_of=DAY,
        )
    step = _plan(number)
    assert (step.action, step.agency) == (Action.REQUEST, "crematorium-archive-room")
    send_request.fn(number, step, DAY)
    with session_scope() as session:
        incoming.record_answer(
            actor="staff",
            session=session,
            case_number=number,
            answer=Answer(agency="crematorium-archive-room", outcome=AnswerOutcome.NO_RECORD),
            as_of=DAY,
        )
    step = _plan(number)
    assert (step.action, step.reason) == (Action.ESCALATE, "no-body-left")


def _step_and_do(number: str, as_of=DAY) -> Action:  # type: ignore[no-untyped-def]
    """Carry out the planner's next step with the flow's own dispatch, once."""
    with session_scope() as session:
        view = lookups.case_view(session=session, case_number=number)
    step = plan_next_step(view, get_playbook(view.playbook), as_of)
    if step.action not in (Action.WAIT, Action.DONE):
        carry_out(number, step, as_of, run=lambda task, *args: task.fn(*args))
    return step.action


def _run_until_wait(number: str, as_of=DAY) -> list[Action]:  # type: ignore[no-untyped-def]
    actions = []
    for _ in range(20):
        action = _step_and_do(number, as_of)
        actions.append(action)
        if action in (Action.WAIT, Action.DONE):
            return actions
    raise AssertionError(f"no wait after {actions}")


def test_needs_info_waits_for_the_applicant_then_asks_again(
    fresh_db: object, smtp_server: list
) -> None:
    number = _open()
    assert _run_until_wait(number) == [Action.NOTIFY, Action.REQUEST, Action.WAIT]
    with session_scope() as session:
        incoming.record_answer(
            actor="staff",
            session=session,
            case_number=number,
            answer=Answer(
                agency="crematorium-front-desk",
                outcome=AnswerOutcome.NEEDS_INFO,
                note="需要申请人的结婚证复印件",
            ),
            as_of=DAY,
        )
        assert lookups.get_case(session, number).status == "waiting_applicant"
    assert _run_until_wait(number) == [Action.WAIT]
    with session_scope() as session:
        incoming.record_visit(
            actor="staff",
            session=session,
            case_number=number,
            reason=incoming.TripReason.MATERIAL_MISSING,
            brought=["cremation-certificate"],
            as_of=DAY,
        )
    assert _run_until_wait(number) == [Action.REQUEST, Action.WAIT]
    with session_scope() as session:
        detail = views.case_detail(session=session, case_number=number)
    assert [(c.kind, c.agency) for c in detail.contacts if c.kind != "notice"] == [
        ("visit", None),
        ("request", "crematorium-front-desk"),
        ("reply", "crematorium-front-desk"),
        ("visit", None),
        ("request", "crematorium-front-desk"),
    ]
    assert detail.trips == 2
    assert [m["X-Envelope-To"] for m in smtp_server].count("front-desk@crematorium.example") == 2


def test_past_the_deadline_the_case_escalates_and_sends_no_request(
    fresh_db: object, smtp_server: list
) -> None:
    number = _open(cremated=date(2016, 11, 1))  # limit was 2026-11-01, before DAY
    assert _run_until_wait(number) == [Action.NOTIFY, Action.ESCALATE, Action.WAIT]
    assert [m["X-Envelope-To"] for m in smtp_server] == [
        "shen.family@example.com",
        "manager@street-office.example",
    ]
    assert "已超过法定时限" in smtp_server[1]["Subject"]
    with session_scope() as session:
        case = lookups.get_case(session, number)
    assert (case.status, case.escalation_reason) == ("escalated", "deadline-passed")


def test_a_refusal_escalates_the_case(fresh_db: object, smtp_server: list) -> None:
    number = _open()
    _run_until_wait(number)
    with session_scope() as session:
        incoming.record_answer(
            actor="staff",
            session=session,
            case_number=number,
            answer=Answer(agency="crematorium-front-desk", outcome=AnswerOutcome.REFUSED),
            as_of=DAY,
        )
    assert _run_until_wait(number) == [Action.ESCALATE, Action.WAIT]
    with session_scope() as session:
        case = lookups.get_case(session, number)
        detail = views.case_detail(session=session, case_number=number)
    assert (case.status, case.escalation_reason) == ("escalated", "refused")
    assert detail.materials[0].status == "unobtainable"
    assert smtp_server[-1]["X-Envelope-To"] == "manager@street-office.example"
    assert "单位拒绝办理" in smtp_server[-1]["Subject"]
    assert _run_until_wait(number) == [Action.WAIT]


def test_an_escalated_case_can_be_withdrawn_and_then_takes_nothing(
    fresh_db: object, smtp_server: list
) -> None:
    number = _open(cremated=date(2016, 11, 1))  # past the limit: escalates at once
    assert _run_until_wait(number) == [Action.NOTIFY, Action.ESCALATE, Action.WAIT]
    with session_scope() as session:
        lifecycle.withdraw_case(
            actor="staff",
            notices={},
            session=session,
            case_number=number,
            reason="已超过10年时限，经主任同意终止",
            as_of=DAY,
        )
    assert _run_until_wait(number) == [Action.DONE]
    with session_scope() as session:
        detail = views.case_detail(session=session, case_number=number)
        assert detail.status == "withdrawn"  # ended, but not done: 已终止, not 已办结
        assert detail.events[-1].kind == "case-withdrawn"
        with pytest.raises(UserError) as info:
            lifecycle.withdraw_case(
                actor="staff",
                session=session,
                case_number=number,
                reason="again",
                as_of=DAY,
                notices={},
            )
    assert info.value.code == "already_withdrawn"
    # The notice and the manager's memo; no agency had a request open, so nobody else is told.
    assert len(smtp_server) == 2
