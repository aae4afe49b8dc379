"""Every due step still happens after a crash, and nothing is done for a request that an answer
has closed meanwhile (real case database and SMTP server, the tasks' own functions)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from casework.answers import Answer, AnswerOutcome
from casework.clock import start_of_office_day
from casework.planning import Action, EscalationReason, plan_next_step
from casework.playbook import get_playbook
from casework.templating import RenderedMessage
from models import incoming, intake, lookups, outgoing
from models.db import session_scope
from models.tables import Contact, ContactKind, OutboxMessage
from tasks.render import file_missing_letters, render_for_case
from tasks.steps import carry_out
from tests.factories import case_with_a_request, document_text, shen_intake, synthetic_id_number

pytestmark = pytest.mark.flow
DAY = start_of_office_day(date(2026, 11, 16))
MEMO = RenderedMessage(subject="上报", text="上报", printable="上报")


def _contacts(case_number: str, kind: ContactKind) -> list[Contact]:
    with session_scope() as session:
        case = lookups.get_case(session, case_number)
        return list(
            session.exec(select(Contact).where(Contact.case_id == case.id, Contact.kind == kind))
        )


def _step(case_number: str, as_of: object):  # type: ignore[no-untyped-def]
    with session_scope() as session:
        view = lookups.case_view(session=session, case_number=case_number)
    return plan_next_step(view, get_playbook(view.playbook), as_of)  # type: ignore[arg-type]


def test_a_letter_recorded_but_not_filed_is_filed_on_the_next_run(
    fresh_db: Path, smtp_server: list
) -> None:
    with session_scope() as session:
        case_number = intake.open_case(
            session=session, intake=shen_intake(date(2017, 6, 1)), as_of=DAY
        ).number
    # The notice is recorded (and its email queued), then the process dies before filing it.
    notice = render_for_case("recover-cremation-certificate/notice.txt.j2", case_number, DAY)
    with session_scope() as session:
        outgoing.record_notice(session=session, case_number=case_number, message=notice, as_of=DAY)
    assert _contacts(case_number, ContactKind.NOTICE)[0].document_path is None

    assert file_missing_letters(case_number) == 1
    filed = _contacts(case_number, ContactKind.NOTICE)[0].document_path
    assert filed is not None and filed.endswith("notice.pdf")
    assert "一次性告知书" in document_text(filed) and "2026年11月16日" in document_text(filed)
    assert file_missing_letters(case_number) == 0  # filed once


def test_no_reminder_for_a_request_answered_after_the_reminder_was_planned(
    fresh_db: Path, smtp_server: list
) -> None:
    case_number, request_id = case_with_a_request(DAY)
    later = DAY + timedelta(days=14)
    step = _step(case_number, later)
    assert (step.action, step.request_id) == (Action.REMIND, request_id)
    reply = Answer(agency="crematorium-front-desk", outcome=AnswerOutcome.RECEIVED)
    with session_scope() as session:  # the answer arrives between planning and sending
        incoming.record_answer(
            actor="staff", session=session, case_number=case_number, answer=reply, as_of=later
        )
    carry_out(case_number, step, later, run=lambda task, *args: task.fn(*args))
    assert _contacts(case_number, ContactKind.REMINDER) == []
    with session_scope() as session:
        emails = session.exec(select(OutboxMessage)).all()
    assert not any("催办" in e.subject for e in emails)

    with session_scope() as session:
        memo = outgoing.record_escalation(
            session=session,
            case_number=case_number,
            reason=EscalationReason.NO_ANSWER,
            material="cremation-certificate",
            request_id=request_id,
            manager_email="manager@example.com",
            message=MEMO,
            as_of=later,
        )
    assert memo is None and _contacts(case_number, ContactKind.ESCALATION) == []


def test_an_answer_clears_only_the_escalation_about_its_own_request(
    fresh_db: Path, smtp_server: list
) -> None:
    sick = intake.CaseIntake(
        actor="staff",
        playbook="sick-retirement",
        applicant=intake.ApplicantIn(
            name="赵秀英", id_number=synthetic_id_number(date(1957, 9, 12)), phone="13700003456"
        ),
        fields={"worker_name": "赵小军", "employer": "某机械厂", "hospital_name": "某区医院"},
    )
    with session_scope() as session:
        case_number = intake.open_case(session=session, intake=sick, as_of=DAY).number
    for _ in range(6):
        step = _step(case_number, DAY)
        if step.action is Action.WAIT:
            break
        carry_out(case_number, step, DAY, run=lambda task, *args: task.fn(*args))
    with session_scope() as session:  # a second request out at the same time
        outgoing.record_request(
            session=session,
            case_number=case_number,
            material="retirement-application",
            agency="social-insurance-office",
            message=MEMO,
            as_of=DAY,
        )
    requests = _contacts(case_number, ContactKind.REQUEST)
    assert len(requests) == 2, [r.agency_slug for r in requests]
    silent, answering = requests
    with session_scope() as session:
        outgoing.record_escalation(
            session=session,
            case_number=case_number,
            reason=EscalationReason.NO_ANSWER,
            material=silent.material_slug,
            request_id=silent.id,
            manager_email="manager@example.com",
            message=MEMO,
            as_of=DAY,
        )

    def status() -> str:
        with session_scope() as session:
            return str(lookups.get_case(session, case_number).status)

    assert status() == "escalated"
    for request in (answering, silent):
        reply = Answer(agency=request.agency_slug or "", outcome=AnswerOutcome.RECEIVED)
        with session_scope() as session:
            incoming.record_answer(
                actor="staff", session=session, case_number=case_number, answer=reply, as_of=DAY
            )
        # Only the answer to the escalated request breaks the silence that was escalated.
        assert status() == ("escalated" if request is answering else "waiting_applicant")


def test_a_second_answer_to_one_request_is_refused_saying_who_answered(
    fresh_db: Path, smtp_server: list
) -> None:
    case_number, _ = case_with_a_request(DAY)
    first = Answer(agency="crematorium-front-desk", outcome=AnswerOutcome.NO_RECORD)
    with session_scope() as session:
        incoming.record_answer(
            actor="staff", session=session, case_number=case_number, answer=first, as_of=DAY
        )
    second = Answer(agency="crematorium-front-desk", outcome=AnswerOutcome.RECEIVED)
    with pytest.raises(incoming.UserError) as refused, session_scope() as session:
        incoming.record_answer(
            actor="staff", session=session, case_number=case_number, answer=second, as_of=DAY
        )
    assert refused.value.code == "already_answered"
    assert refused.value.params["outcome"] == "无记录"
    assert len(_contacts(case_number, ContactKind.REPLY)) == 1


def test_one_death_seen_by_two_reconcilers_is_one_redrive(
    fresh_db: Path, smtp_server: list
) -> None:
    from models import lifecycle

    number, _ = case_with_a_request(DAY)
    since = DAY - timedelta(days=1)
    with session_scope() as session:
        first = lookups.get_case(session, number).flow_run_id

    def redrive(new: str, replaces: str | None) -> bool:
        with session_scope() as session:
            return lifecycle.record_redrive(
                session=session,
                case_number=number,
                flow_run_id=new,
                replaces=replaces,
                why="dead",
                as_of=DAY,
            )

    # The sweep and the every-minute round both saw the run die; Prefect's idempotency key
    # gave both the same new run. Counted twice, three deaths would look like five.
    assert redrive("run-2", first) is True
    assert redrive("run-2", first) is True
    # A round that read the first death before run-2 was recorded made a run too many (its
    # count, and so its idempotency key, was one behind): refused, the case stays with run-2.
    assert redrive("run-2b", first) is False
    with session_scope() as session:
        assert lookups.get_case(session, number).flow_run_id == "run-2"
    assert redrive("run-3", "run-2") is True  # run-2 died in turn
    with session_scope() as session:
        assert lifecycle.redrives_since(session=session, case_number=number, since=since) == 2
        assert lookups.get_case(session, number).flow_run_id == "run-3"


def test_a_run_claims_its_case_only_from_the_run_it_saw_end(
    fresh_db: Path, smtp_server: list
) -> None:
    from models import lifecycle

    number, _ = case_with_a_request(DAY)
    with session_scope() as session:
        first = lookups.get_case(session, number).flow_run_id

    def claim(run: str, replaces: str | None) -> bool:
        with session_scope() as session:
            return lifecycle.claim_flow_run(
                session=session, case_number=number, flow_run_id=run, replaces=replaces, as_of=DAY
            )

    assert claim("run-late", "some-other-run") is False  # the case is linked elsewhere
    assert claim("run-new", first) is True  # it saw the case's run end: now it works the case
    assert claim("run-new", "whatever") is True  # its own already (a resumed execution)
    assert claim("run-late", first) is False  # it saw the old run end, but run-new came first
    # A re-drive whose run claimed the case before the reconciler recorded it is still recorded.
    with session_scope() as session:
        assert lifecycle.record_redrive(
            session=session,
            case_number=number,
            flow_run_id="run-new",
            replaces=first,
            why="dead",
            as_of=DAY,
        )
        assert lookups.get_case(session, number).flow_run_id == "run-new"
