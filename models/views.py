"""What staff and managers read about cases: the case page, lists, overdue checks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from casework.actors import CITIZEN
from casework.clock import now, office_date
from casework.masking import mask_name, mask_phone
from casework.messages import label
from casework.planning import reminder_due_on
from casework.ratings import LEVEL_WORDS
from casework.time_limit import Clock
from models.accounts import display_names
from models.case_types import case_title, playbook_of_case
from models.documents import DocumentListed, documents_of
from models.lookups import CaseRows, get_case, materials_of, open_request_of
from models.office_rules import case_clock, clock_on_day, pauses_of, rating_of, second_notices
from models.offices import office_card
from models.tables import (
    MATERIAL_DONE,
    Agency,
    Applicant,
    Case,
    CaseEvent,
    Contact,
    ContactKind,
    EventKind,
    OutboxMessage,
)
from models.transitions import record_event


class OpenCase(BaseModel):
    case_number: str
    playbook: str
    flow_run_id: str | None


def open_cases(*, session: Session) -> list[OpenCase]:
    """Cases not yet closed, oldest first."""
    rows = session.exec(select(Case).where(col(Case.closed_at).is_(None)).order_by(col(Case.id)))
    return [
        OpenCase(case_number=c.number, playbook=c.playbook, flow_run_id=c.flow_run_id) for c in rows
    ]


# ---------------------------------------------------------------- what staff see


class ContactRow(BaseModel):
    id: int
    occurred_at: datetime
    kind: str
    channel: str
    direction: str
    agency: str | None
    agency_name: str | None = None
    material: str | None
    material_name: str | None = None
    outcome: str | None
    note: str | None
    document: str | None
    tracking_number: str | None = None
    recorded_by: str | None = None  # as people read it: a display name, or "单位网上答复"…
    answered_by: str | None = None  # the person at the agency who answered (reply page)
    sender: str | None = None  # an email's From address
    sender_verified: bool = True  # False: not an address the agency is known by
    seen: bool = True  # a late answer: whether the clerk has looked at it


class EventRow(BaseModel):
    occurred_at: datetime
    kind: str
    from_status: str | None
    to_status: str | None
    detail: str  # in words: no run ids, codes or usernames
    actor: str  # as people read it


class MaterialRow(BaseModel):
    slug: str
    name: str
    obtained_by: str
    status: str
    agency: str | None
    agency_name: str | None = None
    tried: list[str]
    tried_names: list[str] = []
    note: str | None
    chain: list[str] = []  # the agencies to ask, in order (the case's own route)
    chain_names: list[str] = []
    asks: str | None = None  # what the letters ask for, in the clerk's words
    waived_reason: str | None = None
    awaiting_agency: str | None = None  # a role of the case type nobody has been named for
    documents: list[DocumentListed] = []


class ClockRow(BaseModel):
    """限时办结 as it stands: working days used, paused and left, the state and the due date."""

    limit: int
    extension_days: int
    used: int
    paused: int
    left: int
    state: str
    due_on: date


def clock_row(case: Case, counted: Clock) -> ClockRow:
    return ClockRow(
        limit=counted.limit,
        extension_days=case.extension_days,
        used=counted.used,
        paused=counted.paused,
        left=counted.left,
        state=str(counted.state),
        due_on=counted.due_on,
    )


class RatingRow(BaseModel):
    level: int
    words: str
    comment: str | None
    rectify_by: date | None
    followed_up_at: datetime | None
    follow_up_note: str | None
    channel: str  # window, phone, status-page
    entered_by: str | None  # the staff member who typed it in; None: the citizen herself


class CaseDetail(BaseModel):
    """The case page: personal data only in masked form (see casework.masking)."""

    case_number: str
    playbook: str
    playbook_title: str = ""
    playbook_version: int = 1
    type_title: str = ""  # its case type's name (a general case's own title is playbook_title)
    taken_by: str | None = None  # 首问责任人, by display name
    handled_by: str | None = None  # the clerk handling it now (a hand-over changes it)
    problem: str | None = None  # a general case's problem, in the citizen's words
    office_name: str = ""
    status: str
    urgent: bool
    opened_at: datetime
    closed_at: datetime | None
    promised_by: date
    deadline_date: date | None
    escalation_reason: str | None
    applicant_name: str
    applicant_phone: str
    outside_remit: bool
    services: list[dict[str, Any]]
    trips: int
    flow_run_id: str | None
    materials: list[MaterialRow]
    contacts: list[ContactRow]
    events: list[EventRow]
    emails: list[dict[str, Any]]
    clock: ClockRow | None = None
    second_notices: list[str] = []
    rating: RatingRow | None = None
    withdrawn_reason: str | None = None

    @property
    def ended(self) -> bool:
        return self.status in ("closed", "withdrawn")

    @property
    def late_answers(self) -> list[ContactRow]:
        """Answers that came after the request was answered another way, not yet looked at."""
        return [c for c in self.contacts if c.kind == "late-answer" and not c.seen]


def case_detail(*, session: Session, case_number: str, as_of: datetime | None = None) -> CaseDetail:
    case = get_case(session, case_number)
    counted = case_clock(session, case, as_of or now())
    rating = rating_of(session, case)
    applicant = session.get(Applicant, case.applicant_id)
    assert applicant is not None
    contacts = list(
        session.exec(select(Contact).where(Contact.case_id == case.id).order_by(col(Contact.id)))
    )
    events = list(
        session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))
        )
    )
    completed = {e.detail for e in events if e.kind == EventKind.SERVICE_COMPLETED}
    materials = materials_of(session, case)
    material_names = {m.slug: m.name for m in materials}
    agencies = list(session.exec(select(Agency)))
    names = {a.slug: a.name for a in agencies}
    roles = {a.slug: a.name for a in agencies if a.role}
    kept = documents_of(session, case)
    people = display_names(session)
    office = office_card(session, case)
    emails = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.case_id == case.id)
        .order_by(col(OutboxMessage.id))
    )
    return CaseDetail(
        clock=clock_row(case, counted),
        second_notices=[f"{n.item}（{n.reason}）" for n in second_notices(session, case)],
        rating=RatingRow(
            level=rating.level,
            words=LEVEL_WORDS[rating.level],
            comment=rating.comment,
            rectify_by=rating.rectify_by,
            followed_up_at=rating.followed_up_at,
            follow_up_note=rating.follow_up_note,
            channel=rating.channel,
            entered_by=None
            if rating.recorded_by == CITIZEN
            else people.get(rating.recorded_by, rating.recorded_by),
        )
        if rating
        else None,
        case_number=case.number,
        playbook=case.playbook,
        playbook_title=case_title(session, case),
        playbook_version=case.playbook_version,
        type_title=playbook_of_case(session, case).title,
        taken_by=office.first_contact,
        handled_by=office.clerk,
        problem=case.problem,
        office_name=office.name,
        withdrawn_reason=next(
            (e.detail for e in events if e.kind == EventKind.CASE_WITHDRAWN), None
        ),
        status=str(case.status),
        urgent=case.urgent,
        opened_at=case.opened_at,
        closed_at=case.closed_at,
        # The promise moves with the clock: later by each paused day and each extension.
        promised_by=counted.due_on if case.closed_at is None else case.promised_by,
        deadline_date=case.deadline_date,
        escalation_reason=case.escalation_reason,
        applicant_name=mask_name(applicant.name),
        applicant_phone=mask_phone(applicant.phone),
        outside_remit=case.outside_remit,
        services=[
            {"slug": sv.slug, "name": sv.name, "completed": sv.slug in completed}
            for sv in playbook_of_case(session, case).services
        ],
        trips=sum(1 for c in contacts if c.trip),
        flow_run_id=case.flow_run_id,
        materials=[
            MaterialRow(
                slug=m.slug,
                name=m.name,
                obtained_by=m.obtained_by,
                status=str(m.status),
                agency=m.agency_slug,
                agency_name=names.get(m.agency_slug or "", m.agency_slug),
                tried=list(m.tried_agencies),
                tried_names=[names.get(t, t) for t in m.tried_agencies],
                note=m.note,
                chain=list(m.chain),
                chain_names=[names.get(a, a) for a in m.chain],
                asks=m.asks,
                waived_reason=m.waived_reason,
                awaiting_agency=roles.get(m.agency_slug or "")
                if m.status not in MATERIAL_DONE
                else None,
                documents=[d for d in kept if d.material_slug == m.slug],
            )
            for m in materials
        ],
        contacts=[
            ContactRow(
                id=c.id or 0,
                occurred_at=c.occurred_at,
                kind=str(c.kind),
                channel=str(c.channel),
                direction=str(c.direction),
                agency=c.agency_slug,
                agency_name=names.get(c.agency_slug or "", c.agency_slug),
                material=c.material_slug,
                material_name=material_names.get(c.material_slug or "", c.material_slug),
                outcome=c.outcome,
                note=c.note,
                document=c.document_path,
                tracking_number=c.tracking_number,
                recorded_by=person_name(people, c.recorded_by) if c.recorded_by else None,
                answered_by=(c.details or {}).get("answered_by"),
                sender=(c.details or {}).get("sender"),
                sender_verified=(c.details or {}).get("sender_verified", True),
                seen=c.kind != ContactKind.LATE_ANSWER or bool((c.details or {}).get("seen_at")),
            )
            for c in contacts
        ],
        events=[
            EventRow(
                occurred_at=e.occurred_at,
                kind=e.kind,
                from_status=e.from_status,
                to_status=e.to_status,
                detail=event_words(e),
                actor=person_name(people, e.actor),
            )
            for e in events
        ],
        emails=[
            {
                "to": e.to_address,
                "subject": e.subject,
                "status": str(e.status),
                "attempts": e.attempts,
                "error": e.last_error,
            }
            for e in emails
        ],
    )


def person_name(people: dict[str, str], actor: str) -> str:
    """Who did it, as people read it: an account's display name, else the label of the
    system, the console, an agency's reply page…"""
    return people.get(actor) or label("actor", actor)


def event_words(event: CaseEvent) -> str:
    """An audit row's detail in words: a run's id, a status code or a search's kind is kept
    in the database for the reconciler and auditors, never shown as it is."""
    if event.kind == EventKind.FLOW_RUN_LINKED:
        return label("event_detail", "run-linked")
    if event.kind == EventKind.RUN_REDRIVEN:
        return event.detail.split(" → ")[0]
    if event.kind == EventKind.STATUS_CHANGED and not event.detail:
        return (
            f"{label('case_status', event.from_status or '')} → "
            f"{label('case_status', event.to_status or '')}"
        )
    if event.kind == EventKind.PERSON_LOOKED_UP:
        return label("search_kind", event.detail)
    return event.detail


def is_overdue(
    session: Session,
    case: Case,
    today: date,
    rows: CaseRows | None = None,
    due_on: date | None = None,
) -> bool:
    """Open and past the date the 限时办结 clock promises (`due_on` when the caller has it), or an
    agency's answer overdue and not yet escalated. `rows`: the case's rows read already with
    many others (a list, the board)."""
    if case.closed_at is not None:
        return False
    if due_on is None:
        pauses = rows.pauses[case.id or 0] if rows else None
        due_on = clock_on_day(session, case, today, pauses=pauses).due_on
    if due_on < today:
        return True
    playbook = playbook_of_case(session, case)
    materials = rows.materials[case.id or 0] if rows else materials_of(session, case)
    for material in materials:
        if rows:
            request = rows.open_request(case, material)
        else:
            request = open_request_of(session, case, material)
        if (
            request
            and request.chased
            and (reminder_due_on(request, playbook, urgent=case.urgent) <= today)
        ):
            return True
    return False


def case_overdue(*, session: Session, case_number: str, today: date) -> bool:
    return is_overdue(session, get_case(session, case_number), today)


class CaseSummary(BaseModel):
    case_number: str
    playbook: str
    playbook_title: str = ""
    taken_by: str | None = None  # the account that took it (首问责任人), by username
    taken_by_name: str | None = None  # … and as people read it
    office_code: str | None = None
    status: str
    urgent: bool
    applicant_name: str
    opened_on: date
    promised_by: date  # as the 限时办结 clock has it today (extensions and pauses included)
    deadline_date: date | None
    overdue: bool


def case_summaries(
    *,
    session: Session,
    today: date,
    overdue_only: bool = False,
    where: ColumnElement[bool] | None = None,
) -> list[CaseSummary]:
    """Every case (or those `where` admits), newest first; overdue = open and past the
    promised date or a chase due."""
    rows = []
    # One query with the applicants (one get per case was 10,000 round trips for a list).
    query = (
        select(Case, Applicant)
        .outerjoin(Applicant, col(Applicant.id) == col(Case.applicant_id))
        .order_by(col(Case.id).desc())
    )
    if where is not None:
        query = query.where(where)
    found = list(session.exec(query))
    open_rows = CaseRows(session, [c for c, _ in found if c.closed_at is None])
    pauses = pauses_of(session, [c.id for c, _ in found if c.id is not None])
    people = display_names(session)
    for case, applicant in found:
        counted = clock_on_day(session, case, today, pauses=pauses.get(case.id or 0, []))
        overdue = is_overdue(session, case, today, open_rows, due_on=counted.due_on)
        if overdue_only and not overdue:
            continue
        rows.append(
            CaseSummary(
                case_number=case.number,
                playbook=case.playbook,
                playbook_title=case_title(session, case),
                taken_by=case.taken_by,
                taken_by_name=people.get(case.taken_by or ""),
                office_code=case.office_code,
                status=str(case.status),
                urgent=case.urgent,
                applicant_name=mask_name(applicant.name if applicant else ""),
                opened_on=office_date(case.opened_at),
                promised_by=counted.due_on,
                deadline_date=case.deadline_date,
                overdue=overdue,
            )
        )
    return rows


def reveal_applicant(
    *, session: Session, case_number: str, reason: str, as_of: datetime, actor: str
) -> dict[str, str | None]:
    """The applicant's details in clear, for a stated reason that goes into the audit trail."""
    case = get_case(session, case_number)
    applicant = session.get(Applicant, case.applicant_id)
    assert applicant is not None
    record_event(session, case, EventKind.PERSONAL_DATA_SHOWN, as_of, detail=reason, actor=actor)
    return {
        "name": applicant.name,
        "id_number": applicant.id_number,
        "phone": applicant.phone,
        "email": applicant.email,
        "address": applicant.address,
    }


def document_of(*, session: Session, case_number: str, contact_id: int) -> str | None:
    """The filed letter (PDF, or text without Pango) of one of this case's contacts."""
    case = get_case(session, case_number)
    contact = session.get(Contact, contact_id)
    if contact is None or contact.case_id != case.id:
        return None
    return contact.document_path
