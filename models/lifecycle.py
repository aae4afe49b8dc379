"""A case's life after intake: its flow run, urgency, completed services, closing, withdrawal."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from casework.actors import SYSTEM
from casework.errors import UserError
from casework.templating import RenderedMessage
from models import keys
from models.lookups import contact_by_key, get_case, materials_of
from models.outgoing import record_closing_letter, record_withdrawal_notice
from models.tables import (
    MATERIAL_DONE,
    Case,
    CaseEvent,
    CaseStatus,
    Channel,
    Contact,
    ContactKind,
    Direction,
    EventKind,
)
from models.transitions import advance_wait, record_event


def set_flow_run(*, session: Session, case_number: str, flow_run_id: str, as_of: datetime) -> None:
    case = get_case(session, case_number, lock=True)
    if case.flow_run_id != flow_run_id:
        case.flow_run_id = flow_run_id
        session.add(case)
        record_event(
            session, case, EventKind.FLOW_RUN_LINKED, as_of, detail=flow_run_id, actor=SYSTEM
        )


def claim_flow_run(
    *,
    session: Session,
    case_number: str,
    flow_run_id: str,
    replaces: str | None,
    as_of: datetime,
) -> bool:
    """Make this run the case's, if the case is still linked to `replaces` (a run seen to have
    ended) or already to this run; False when another run was linked meanwhile (a re-drive or
    another run's claim won: this one must not work the case beside it)."""
    case = get_case(session, case_number, lock=True)
    if case.flow_run_id == flow_run_id:
        return True
    if case.flow_run_id != replaces:
        return False
    case.flow_run_id = flow_run_id
    session.add(case)
    record_event(session, case, EventKind.FLOW_RUN_LINKED, as_of, detail=flow_run_id, actor=SYSTEM)
    return True


def mark_urgent(*, session: Session, case_number: str, urgent: bool, as_of: datetime) -> None:
    case = get_case(session, case_number, lock=True)
    if case.urgent == urgent:
        return
    case.urgent = urgent
    session.add(case)
    record_event(
        session,
        case,
        EventKind.MARKED_URGENT if urgent else EventKind.URGENCY_CLEARED,
        as_of,
        detail=f"法定时限 {case.deadline_date}",
        actor=SYSTEM,
    )


def record_service_completed(
    *, session: Session, case_number: str, service: str, as_of: datetime
) -> None:
    """A service of a bundle has all its materials: log it once (later services may start)."""
    case = get_case(session, case_number, lock=True)
    done = session.exec(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id,
            CaseEvent.kind == EventKind.SERVICE_COMPLETED,
            CaseEvent.detail == service,
        )
    ).first()
    if done is None:
        record_event(
            session, case, EventKind.SERVICE_COMPLETED, as_of, detail=service, actor=SYSTEM
        )


def close_case(
    *, session: Session, case_number: str, message: RenderedMessage, as_of: datetime
) -> Contact | None:
    """Every material is in: close the case and tell the applicant, once; the closing letter
    (None for a case closed otherwise, e.g. withdrawn)."""
    case = get_case(session, case_number, lock=True)
    if case.closed_at is not None:
        return contact_by_key(session, keys.closing_key(case.number))
    pending = [m.name for m in materials_of(session, case) if m.status not in MATERIAL_DONE]
    if pending:
        raise UserError("materials_missing", case=case_number, materials="、".join(pending))
    contact = record_closing_letter(session, case, message=message, as_of=as_of)
    case.closed_at = as_of
    case.escalated_at = None
    session.add(case)
    return contact


def open_requests(session: Session, case: Case) -> list[Contact]:
    """The case's requests still waiting for an agency's answer."""
    return list(
        session.exec(
            select(Contact).where(
                Contact.case_id == case.id,
                Contact.kind == ContactKind.REQUEST,
                col(Contact.answered_at).is_(None),
            )
        )
    )


def withdraw_case(
    *,
    session: Session,
    case_number: str,
    reason: str,
    as_of: datetime,
    actor: str,
    notices: dict[int, RenderedMessage],
) -> list[Contact]:
    """Stop a case that cannot or need not be completed (a manager's decision), with why: it
    ends as withdrawn (已终止), not done, and each agency with an open request is told, by the
    letter in `notices` (by request), so its reply link closes with it. Returns the notices."""
    case = get_case(session, case_number, lock=True)
    if case.status == CaseStatus.WITHDRAWN:
        raise UserError("already_withdrawn", case=case_number)
    if case.closed_at is not None:
        raise UserError("case_closed", case=case_number)
    waiting = open_requests(session, case)
    if {r.id for r in waiting} != set(notices):
        raise UserError("withdrawal_changed", case=case_number)  # an answer came meanwhile
    assert case.id is not None
    session.add(
        Contact(
            case_id=case.id,
            kind=ContactKind.CLOSING,
            channel=Channel.PHONE,
            direction=Direction.OUTBOUND,
            outcome="withdrawn",
            note=reason,
            occurred_at=as_of,
            recorded_by=actor,
        )
    )
    told = [
        record_withdrawal_notice(
            session, case, request, message=notices[request.id or 0], as_of=as_of, actor=actor
        )
        for request in waiting
    ]
    case.closed_at = as_of
    case.escalated_at = None
    session.add(case)
    record_event(
        session,
        case,
        EventKind.CASE_WITHDRAWN,
        as_of,
        detail=reason,
        to_status=CaseStatus.WITHDRAWN,
        actor=actor,
    )
    return told


def record_redrive(
    *,
    session: Session,
    case_number: str,
    flow_run_id: str,
    replaces: str | None,
    why: str,
    as_of: datetime,
) -> bool:
    """The case's run `replaces` had died: a new one works the case from the database. Audited
    once: two reconcilers that saw the same death get the same run, idempotently, and the
    second finds it recorded. False when the case had moved on to another run meanwhile (a
    reconciler that read the death before another round re-drove it made a run too many)."""
    case = get_case(session, case_number, lock=True)
    recorded = session.exec(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id,
            CaseEvent.kind == EventKind.RUN_REDRIVEN,
            col(CaseEvent.detail).endswith(flow_run_id),
        )
    ).first()
    if recorded is not None:
        return True
    if case.flow_run_id not in (replaces, flow_run_id):  # the new run may have claimed it first
        return False
    case.flow_run_id = flow_run_id
    session.add(case)
    record_event(
        session,
        case,
        EventKind.RUN_REDRIVEN,
        as_of,
        detail=f"{why} → {flow_run_id}",
        actor=SYSTEM,
    )
    return True


def redrives_since(*, session: Session, case_number: str, since: datetime) -> int:
    case = get_case(session, case_number)
    return len(
        session.exec(
            select(CaseEvent).where(
                CaseEvent.case_id == case.id,
                CaseEvent.kind == EventKind.RUN_REDRIVEN,
                col(CaseEvent.occurred_at) >= since,
            )
        ).all()
    )


def consume_wake(*, session: Session, case_number: str, generation: int) -> bool:
    """A wake-up input for this waiting state was used: move to the next state key."""
    return advance_wait(session, get_case(session, case_number, lock=True), generation)


def add_note(*, session: Session, case_number: str, text: str, as_of: datetime, actor: str) -> None:
    """A note on the case (what a phone call said, what the citizen asked): in the audit trail."""
    case = get_case(session, case_number, lock=True)
    record_event(session, case, EventKind.NOTE_ADDED, as_of, detail=text, actor=actor)
