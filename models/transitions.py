"""Case transitions: every change writes its audit row here; the status and the waiting state
move only through these functions."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models.lookups import materials_of
from models.tables import Case, CaseEvent, CaseStatus, EventKind, MaterialStatus


def record_event(
    session: Session,
    case: Case,
    kind: EventKind,
    as_of: datetime,
    detail: str = "",
    *,
    to_status: CaseStatus | None = None,
    actor: str,
) -> None:
    """Write one audit row; a status change goes through here and nowhere else."""
    from_status = case.status
    if to_status is not None:
        case.status = to_status
        session.add(case)
    assert case.id is not None
    session.add(
        CaseEvent(
            case_id=case.id,
            occurred_at=as_of,
            kind=kind,
            from_status=str(from_status),
            to_status=str(case.status),
            detail=detail,
            actor=actor,
        )
    )


def derive_status(session: Session, case: Case) -> CaseStatus:
    if case.closed_at is not None:
        return CaseStatus.WITHDRAWN if case.status == CaseStatus.WITHDRAWN else CaseStatus.CLOSED
    if case.escalated_at is not None:
        return CaseStatus.ESCALATED
    statuses = {m.status for m in materials_of(session, case)}
    if MaterialStatus.WAITING_APPLICANT in statuses:
        return CaseStatus.WAITING_APPLICANT
    if MaterialStatus.REQUESTED in statuses:
        return CaseStatus.WAITING_AGENCY
    return CaseStatus.OPEN


def refresh_status(session: Session, case: Case, as_of: datetime, actor: str) -> None:
    """Set the status the case's materials imply, with its audit row when it changes."""
    session.flush()
    new_status = derive_status(session, case)
    if new_status != case.status:
        record_event(
            session, case, EventKind.STATUS_CHANGED, as_of, to_status=new_status, actor=actor
        )


def advance_wait(session: Session, case: Case, generation: int) -> bool:
    """The flow run has read the input it waited for under `generation`: it waits under the
    next key from now on, so one Resume form is read once. False (nothing changed) when that
    input was already used, e.g. by an earlier execution that crashed after committing."""
    if case.wait_generation != generation:
        return False
    case.wait_generation += 1
    session.add(case)
    return True
