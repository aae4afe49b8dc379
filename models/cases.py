"""Case data functions: every read and write of a case, each change with its audit event."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, col, func, select

from casework.clock import office_date
from casework.crypto import lookup_hash
from casework.errors import UserError
from casework.planning import (
    AppointmentView,
    CaseView,
    EscalationReason,
    MaterialView,
    OpenRequest,
)
from casework.playbook import Playbook, get_playbook
from casework.rendering import RenderedMessage
from casework.replies import Reply, ReplyOutcome
from casework.workdays import add_working_days
from models.outbox import queue_email
from models.tables import (
    Agency,
    Applicant,
    Case,
    CaseEvent,
    CaseMaterial,
    CaseNumberCounter,
    CaseStatus,
    Channel,
    Contact,
    ContactKind,
    Direction,
    MaterialStatus,
)

_MATERIAL_ESCALATIONS = (EscalationReason.NO_BODY_LEFT, EscalationReason.REFUSED)


class ApplicantIn(BaseModel):
    """Validated applicant details from intake."""

    name: str
    id_number: str
    phone: str
    email: str | None = None
    address: str | None = None


class CaseIntake(BaseModel):
    """Everything needed to open a case, already validated."""

    playbook: str
    applicant: ApplicantIn
    fields: dict[str, Any]
    brought: list[str] = []
    actor: str = "staff"
    letter_lang: Literal["zh", "en"] = "zh"


# ---------------------------------------------------------------- helpers


def _event(
    session: Session,
    case: Case,
    kind: str,
    as_of: datetime,
    detail: str = "",
    *,
    to_status: CaseStatus | None = None,
    actor: str = "system",
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


def record_event(
    session: Session,
    case: Case,
    kind: str,
    as_of: datetime,
    detail: str = "",
    actor: str = "system",
) -> None:
    """An audit row for a change that is not a status change (used by other models modules)."""
    _event(session, case, kind, as_of, detail=detail, actor=actor)


def _derive_status(session: Session, case: Case) -> CaseStatus:
    if case.closed_at is not None:
        return CaseStatus.CLOSED
    if case.escalated_at is not None:
        return CaseStatus.ESCALATED
    statuses = {m.status for m in materials_of(session, case)}
    if MaterialStatus.WAITING_APPLICANT in statuses:
        return CaseStatus.WAITING_APPLICANT
    if MaterialStatus.REQUESTED in statuses:
        return CaseStatus.WAITING_AGENCY
    return CaseStatus.OPEN


def _refresh_status(session: Session, case: Case, as_of: datetime, actor: str) -> None:
    new_status = _derive_status(session, case)
    if new_status != case.status:
        _event(session, case, "status-changed", as_of, to_status=new_status, actor=actor)


def materials_of(session: Session, case: Case) -> list[CaseMaterial]:
    return list(
        session.exec(
            select(CaseMaterial)
            .where(CaseMaterial.case_id == case.id)
            .order_by(col(CaseMaterial.position))
        )
    )


def _material(session: Session, case: Case, slug: str) -> CaseMaterial:
    material = session.exec(
        select(CaseMaterial).where(CaseMaterial.case_id == case.id, CaseMaterial.slug == slug)
    ).first()
    if material is None:
        raise UserError("unknown_material", case=case.number, material=slug)
    return material


def _contact_by_key(session: Session, dedupe_key: str) -> Contact | None:
    return session.exec(select(Contact).where(Contact.dedupe_key == dedupe_key)).first()


def _outbound(
    session: Session,
    case: Case,
    *,
    kind: ContactKind,
    key: str,
    to_address: str | None,
    message: RenderedMessage,
    as_of: datetime,
    without_email: Channel = Channel.PHONE,
    **fields: Any,
) -> Contact:
    """Log an outgoing contact and, when there is an address, queue its email: once per key."""
    assert case.id is not None
    contact = Contact(
        case_id=case.id,
        kind=kind,
        channel=Channel.EMAIL if to_address else without_email,
        direction=Direction.OUTBOUND,
        note=message.subject,
        dedupe_key=key,
        occurred_at=as_of,
        **fields,
    )
    session.add(contact)
    session.flush()
    if to_address:
        queue_email(session, case, contact, key, to_address, message, as_of)
    return contact


def get_case(session: Session, number: str) -> Case:
    case = session.exec(select(Case).where(Case.number == number.strip())).first()
    if case is None:
        raise UserError("unknown_case", case=number)
    return case


def get_agency(session: Session, slug: str) -> Agency:
    agency = session.exec(select(Agency).where(Agency.slug == slug)).first()
    if agency is None:
        raise UserError("unknown_agency", agency=slug)
    return agency


def sync_agencies(session: Session, playbook: Playbook) -> None:
    """Make sure every body the playbook names is in the agency table (details from the file)."""
    for spec in playbook.agencies:
        agency = session.exec(select(Agency).where(Agency.slug == spec.slug)).first()
        if agency is None:
            agency = Agency(slug=spec.slug, name=spec.name)
        agency.name = spec.name
        agency.email = spec.email
        agency.phone = spec.phone
        agency.address = spec.address
        session.add(agency)
    session.flush()


# ---------------------------------------------------------------- intake


def _next_case_number(session: Session, year: int) -> str:
    counter = session.get(CaseNumberCounter, year)
    if counter is None:
        counter = CaseNumberCounter(year=year, last=0)
    counter.last += 1
    session.add(counter)
    session.flush()
    return f"HC-{year}-{counter.last:04d}"


def open_case(*, session: Session, intake: CaseIntake, as_of: datetime) -> Case:
    """Create the case, its applicant and its materials; the intake visit is the first trip."""
    playbook = get_playbook(intake.playbook)
    sync_agencies(session, playbook)
    applicant = Applicant(
        **intake.applicant.model_dump(), id_number_hash=lookup_hash(intake.applicant.id_number)
    )
    session.add(applicant)
    session.flush()
    today = office_date(as_of)
    deadline_date: date | None = None
    if playbook.deadline is not None:
        start = date.fromisoformat(str(intake.fields[playbook.deadline.starts_from]))
        deadline_date = playbook.deadline.last_day(start)
    assert applicant.id is not None
    case = Case(
        number=_next_case_number(session, today.year),
        playbook=playbook.slug,
        applicant_id=applicant.id,
        fields=intake.fields,
        opened_at=as_of,
        promised_by=add_working_days(today, playbook.promised_working_days),
        deadline_date=deadline_date,
        outside_remit=playbook.outside_remit,
        letter_lang=intake.letter_lang,
    )
    session.add(case)
    session.flush()
    assert case.id is not None
    for position, spec in enumerate(playbook.materials):
        session.add(
            CaseMaterial(
                case_id=case.id,
                slug=spec.slug,
                name=spec.name,
                position=position,
                obtained_by=str(spec.obtained_by),
                status=(
                    MaterialStatus.PENDING
                    if spec.obtained_by == "office"
                    else MaterialStatus.WAITING_APPLICANT
                ),
                agency_slug=spec.agencies[0] if spec.agencies else None,
            )
        )
    session.add(
        Contact(
            case_id=case.id,
            kind=ContactKind.VISIT,
            channel=Channel.WINDOW,
            direction=Direction.INBOUND,
            outcome=TripReason.INTAKE,
            note="受理：申请人到窗口",
            occurred_at=as_of,
            trip=True,
        )
    )
    _event(
        session,
        case,
        "case-opened",
        as_of,
        detail=playbook.slug,
        to_status=CaseStatus.OPEN,
        actor=intake.actor,
    )
    session.flush()
    for slug in intake.brought:
        material = _material(session, case, slug)
        if material.obtained_by != "applicant":
            raise UserError("not_waiting_applicant", case=case.number, material=slug)
        material.status = MaterialStatus.COLLECTED
        material.collected_at = as_of
        session.add(material)
    session.flush()
    _refresh_status(session, case, as_of, intake.actor)
    return case


def set_flow_run(*, session: Session, number: str, flow_run_id: str, as_of: datetime) -> None:
    case = get_case(session, number)
    if case.flow_run_id != flow_run_id:
        case.flow_run_id = flow_run_id
        session.add(case)
        _event(session, case, "flow-run-linked", as_of, detail=flow_run_id)


# ---------------------------------------------------------------- reading


def open_request_of(session: Session, case: Case, material: CaseMaterial) -> OpenRequest | None:
    if material.status != MaterialStatus.REQUESTED:
        return None
    request = session.exec(
        select(Contact)
        .where(
            Contact.case_id == case.id,
            Contact.kind == ContactKind.REQUEST,
            Contact.material_slug == material.slug,
            col(Contact.answered_at).is_(None),
        )
        .order_by(col(Contact.id).desc())
    ).first()
    if request is None or request.id is None:
        return None
    follow_ups = list(
        session.exec(
            select(Contact).where(Contact.in_reply_to == request.id).order_by(col(Contact.id))
        )
    )
    reminders = [c for c in follow_ups if c.kind == ContactKind.REMINDER]
    escalated = any(c.kind == ContactKind.ESCALATION for c in follow_ups)
    # Letters by post count from the day they were posted; until then nobody can be chased.
    last = reminders[-1] if reminders else request
    return OpenRequest(
        contact_id=request.id,
        agency_slug=request.agency_slug or "",
        sent_at=request.left_office_at,
        last_chased_at=last.left_office_at,
        reminders=len(reminders),
        escalated=escalated,
        awaiting_posting=last.awaiting_posting,
    )


def case_view(*, session: Session, number: str) -> CaseView:
    """The snapshot the planner decides on."""
    case = get_case(session, number)
    contacts = list(session.exec(select(Contact).where(Contact.case_id == case.id)))
    escalations = [c for c in contacts if c.kind == ContactKind.ESCALATION]
    escalation_reasons = sorted({c.outcome or "" for c in escalations})
    escalated_materials = {
        c.material_slug for c in escalations if c.outcome in _MATERIAL_ESCALATIONS
    }
    materials = [
        MaterialView(
            slug=m.slug,
            name=m.name,
            obtained_by=m.obtained_by,
            status=str(m.status),
            agency_slug=m.agency_slug,
            open_request=open_request_of(session, case, m),
            escalated=m.slug in escalated_materials,
        )
        for m in materials_of(session, case)
    ]
    completed_services = list(
        session.exec(
            select(CaseEvent.detail).where(
                CaseEvent.case_id == case.id, CaseEvent.kind == "service-completed"
            )
        )
    )
    follow_ups = {(c.in_reply_to, c.kind) for c in contacts if c.in_reply_to is not None}
    appointments = [
        AppointmentView(
            contact_id=c.id or 0,
            agency_slug=c.agency_slug or "",
            scheduled_at=c.scheduled_at,
            confirmed=(c.id, ContactKind.APPOINTMENT_CONFIRMATION) in follow_ups,
            staff_reminded=(c.id, ContactKind.STAFF_REMINDER) in follow_ups,
        )
        for c in contacts
        if c.kind == ContactKind.APPOINTMENT and c.scheduled_at is not None
    ]
    return CaseView(
        number=case.number,
        playbook=case.playbook,
        status=str(case.status),
        completed_services=completed_services,
        appointments=appointments,
        notified=any(c.kind == ContactKind.NOTICE for c in contacts),
        urgent=case.urgent,
        deadline_date=case.deadline_date,
        escalation_reasons=escalation_reasons,
        wait_generation=case.wait_generation,
        materials=materials,
    )


def letter_context(*, session: Session, number: str) -> dict[str, Any]:
    """Data templates may use for this case (the letter itself decides what it prints)."""
    case = get_case(session, number)
    applicant = session.get(Applicant, case.applicant_id)
    assert applicant is not None
    return {
        "case": {
            "number": case.number,
            "opened_on": office_date(case.opened_at),
            "promised_by": case.promised_by,
            "deadline_date": case.deadline_date,
            "urgent": case.urgent,
            "fields": dict(case.fields),
            "status": str(case.status),
            "playbook": case.playbook,
        },
        "applicant": {"name": applicant.name, "has_email": bool(applicant.email)},
        "lang": case.letter_lang,
        "materials": [
            {"slug": m.slug, "name": m.name, "status": str(m.status), "agency": m.agency_slug}
            for m in materials_of(session, case)
        ],
    }


def applicant_email(*, session: Session, number: str) -> str | None:
    case = get_case(session, number)
    applicant = session.get(Applicant, case.applicant_id)
    return applicant.email if applicant else None


# ---------------------------------------------------------------- outbound contacts


def record_notice(
    *,
    session: Session,
    number: str,
    message: RenderedMessage,
    as_of: datetime,
) -> Contact:
    """The one-time notification: printed for the window, emailed too when we have an address."""
    case = get_case(session, number)
    key = f"notice:{case.number}"
    existing = _contact_by_key(session, key)
    if existing is not None:
        return existing
    applicant = session.get(Applicant, case.applicant_id)
    assert applicant is not None
    contact = _outbound(
        session,
        case,
        kind=ContactKind.NOTICE,
        key=key,
        to_address=applicant.email,
        message=message,
        as_of=as_of,
        without_email=Channel.WINDOW,
    )
    _event(session, case, "applicant-notified", as_of, detail="一次性告知书")
    return contact


def request_key(case: Case, material: str, agency: str, attempt: int) -> str:
    return f"request:{case.number}:{material}:{agency}:{attempt}"


def record_request(
    *,
    session: Session,
    number: str,
    material: str,
    agency: str,
    message: RenderedMessage,
    as_of: datetime,
) -> Contact:
    """Log a request to an agency and queue its email, once per (material, agency, attempt)."""
    case = get_case(session, number)
    case_material = _material(session, case, material)
    body = get_agency(session, agency)
    if case_material.status == MaterialStatus.REQUESTED:
        open_request = open_request_of(session, case, case_material)
        if open_request is not None:
            found = session.get(Contact, open_request.contact_id)
            assert found is not None
            return found
    earlier = session.exec(
        select(func.count())
        .select_from(Contact)
        .where(
            Contact.case_id == case.id,
            Contact.kind == ContactKind.REQUEST,
            Contact.material_slug == material,
            Contact.agency_slug == agency,
        )
    ).one()
    key = request_key(case, material, agency, int(earlier) + 1)
    contact = _outbound(
        session,
        case,
        kind=ContactKind.REQUEST,
        key=key,
        to_address=body.email,
        message=message,
        as_of=as_of,
        without_email=Channel.POST,
        agency_slug=agency,
        material_slug=material,
    )
    case_material.status = MaterialStatus.REQUESTED
    case_material.agency_slug = agency
    if agency not in case_material.tried_agencies:
        case_material.tried_agencies = [*case_material.tried_agencies, agency]
    session.add(case_material)
    _event(session, case, "request-sent", as_of, detail=f"{material} → {agency}")
    session.flush()
    _refresh_status(session, case, as_of, "system")
    return contact


def record_reminder(
    *,
    session: Session,
    number: str,
    request_id: int,
    reminder_number: int,
    message: RenderedMessage,
    as_of: datetime,
) -> Contact:
    """Log the n-th reminder for an unanswered request and queue its email, once."""
    case = get_case(session, number)
    key = f"reminder:{case.number}:{request_id}:{reminder_number}"
    existing = _contact_by_key(session, key)
    if existing is not None:
        return existing
    request = session.get(Contact, request_id)
    if request is None or request.case_id != case.id or request.agency_slug is None:
        raise UserError("unknown_request", case=number, request=request_id)
    body = get_agency(session, request.agency_slug)
    contact = _outbound(
        session,
        case,
        kind=ContactKind.REMINDER,
        key=key,
        to_address=body.email,
        message=message,
        as_of=as_of,
        # An agency without email gets its reminder by post, as it got the request.
        without_email=Channel.POST,
        agency_slug=body.slug,
        material_slug=request.material_slug,
        in_reply_to=request_id,
    )
    _event(session, case, "reminder-sent", as_of, detail=f"#{reminder_number} → {body.slug}")
    return contact


def record_escalation(
    *,
    session: Session,
    number: str,
    reason: EscalationReason,
    material: str | None,
    request_id: int | None,
    manager_email: str,
    message: RenderedMessage,
    as_of: datetime,
) -> Contact:
    """Hand the case to a manager: visible status, audit event and a memo email, once."""
    case = get_case(session, number)
    key = f"escalation:{case.number}:{reason}:{material or '-'}:{request_id or '-'}"
    existing = _contact_by_key(session, key)
    if existing is not None:
        return existing
    contact = _outbound(
        session,
        case,
        kind=ContactKind.ESCALATION,
        key=key,
        to_address=manager_email,
        message=message,
        as_of=as_of,
        material_slug=material,
        in_reply_to=request_id,
        outcome=str(reason),
    )
    if reason == EscalationReason.NO_BODY_LEFT and material is not None:
        case_material = _material(session, case, material)
        case_material.status = MaterialStatus.UNOBTAINABLE
        session.add(case_material)
    case.escalated_at = as_of
    case.escalation_reason = str(reason)
    session.add(case)
    _event(session, case, "escalated", as_of, detail=str(reason), to_status=CaseStatus.ESCALATED)
    return contact


def mark_urgent(*, session: Session, number: str, urgent: bool, as_of: datetime) -> None:
    case = get_case(session, number)
    if case.urgent == urgent:
        return
    case.urgent = urgent
    session.add(case)
    _event(
        session,
        case,
        "marked-urgent" if urgent else "urgency-cleared",
        as_of,
        detail=f"deadline {case.deadline_date}",
    )


def close_case(
    *, session: Session, number: str, message: RenderedMessage, as_of: datetime
) -> Contact | None:
    """Every material is in: close the case and tell the applicant, once; the closing letter
    (None for a case closed otherwise, e.g. withdrawn)."""
    case = get_case(session, number)
    key = f"closing:{case.number}"
    if case.closed_at is not None:
        return _contact_by_key(session, key)
    pending = [m.slug for m in materials_of(session, case) if m.status != MaterialStatus.COLLECTED]
    if pending:
        raise UserError("materials_missing", case=number, materials=", ".join(pending))
    applicant = session.get(Applicant, case.applicant_id)
    assert applicant is not None
    contact = _outbound(
        session,
        case,
        kind=ContactKind.CLOSING,
        key=key,
        to_address=applicant.email,
        message=message,
        as_of=as_of,
    )
    case.closed_at = as_of
    case.escalated_at = None
    session.add(case)
    _event(session, case, "case-closed", as_of, to_status=CaseStatus.CLOSED)
    return contact


def withdraw_case(
    *, session: Session, number: str, reason: str, as_of: datetime, actor: str = "staff"
) -> Case:
    """Close a case that cannot or need not be completed (a manager's decision), with why."""
    case = get_case(session, number)
    if case.closed_at is not None:
        raise UserError("case_closed", case=number)
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
        )
    )
    case.closed_at = as_of
    case.escalated_at = None
    case.wait_generation += 1
    session.add(case)
    _event(
        session,
        case,
        "case-withdrawn",
        as_of,
        detail=reason,
        to_status=CaseStatus.CLOSED,
        actor=actor,
    )
    return case


# ---------------------------------------------------------------- inbound: replies and visits


def _awaited_request(session: Session, case: Case, reply: Reply) -> Contact:
    """The open request this reply answers; a reply nobody is waiting for is refused."""
    query = select(Contact).where(
        Contact.case_id == case.id,
        Contact.kind == ContactKind.REQUEST,
        Contact.agency_slug == reply.agency,
        col(Contact.answered_at).is_(None),
    )
    if reply.material:
        query = query.where(Contact.material_slug == reply.material)
    candidates = list(session.exec(query.order_by(col(Contact.id))))
    if not candidates:
        raise UserError("not_waiting", case=case.number, agency=reply.agency)
    if len(candidates) > 1 and not reply.material:
        raise UserError(
            "which_material",
            case=case.number,
            materials=", ".join(c.material_slug or "" for c in candidates),
        )
    return candidates[0]


def record_reply(
    *,
    session: Session,
    number: str,
    reply: Reply,
    as_of: datetime,
    generation: int | None = None,
    actor: str = "staff",
) -> Contact | None:
    """Record an agency's answer and what follows from it.

    `generation` is the waiting state the answer was given for: if the case has moved on since
    (the same answer already recorded from the CLI, say), nothing is written and None returned.
    """
    case = get_case(session, number)
    if generation is not None and generation != case.wait_generation:
        return None
    if case.closed_at is not None:
        raise UserError("case_closed", case=number)
    get_agency(session, reply.agency)
    request = _awaited_request(session, case, reply)
    material_slug = request.material_slug
    assert material_slug is not None and case.id is not None and request.id is not None
    material = _material(session, case, material_slug)
    playbook = get_playbook(case.playbook)

    if reply.outcome == ReplyOutcome.FORWARDED:
        if not reply.forward_to:
            raise UserError("forward_to_missing")
        if reply.forward_to == reply.agency:
            raise UserError("forward_to_same", agency=reply.agency)
        get_agency(session, reply.forward_to)

    request.answered_at = as_of
    request.outcome = str(reply.outcome)
    session.add(request)
    contact = Contact(
        case_id=case.id,
        kind=ContactKind.REPLY,
        channel=Channel(str(reply.via)),
        direction=Direction.INBOUND,
        agency_slug=reply.agency,
        material_slug=material_slug,
        in_reply_to=request.id,
        outcome=str(reply.outcome),
        note=reply.note or None,
        occurred_at=as_of,
    )
    session.add(contact)

    if reply.outcome == ReplyOutcome.RECEIVED:
        material.status = MaterialStatus.COLLECTED
        material.collected_at = as_of
    elif reply.outcome == ReplyOutcome.FORWARDED:
        material.status = MaterialStatus.PENDING
        material.agency_slug = reply.forward_to
    elif reply.outcome == ReplyOutcome.NO_RECORD:
        material.status = MaterialStatus.PENDING
        material.agency_slug = _next_untried_agency(playbook, material)
    elif reply.outcome == ReplyOutcome.NEEDS_INFO:
        material.status = MaterialStatus.WAITING_APPLICANT
        material.note = reply.note or None
    elif reply.outcome == ReplyOutcome.REFUSED:
        material.status = MaterialStatus.UNOBTAINABLE  # the planner escalates it next
        material.note = reply.note or None
    session.add(material)
    if case.escalation_reason == EscalationReason.NO_ANSWER:
        case.escalated_at = None  # the silence that was escalated has been broken
        case.escalation_reason = None
    case.wait_generation += 1
    session.add(case)
    _event(
        session,
        case,
        "reply-recorded",
        as_of,
        detail=f"{reply.agency}: {reply.outcome} ({material_slug})"
        + (f" → {reply.forward_to}" if reply.forward_to else ""),
        actor=actor,
    )
    session.flush()
    _refresh_status(session, case, as_of, actor)
    return contact


def _next_untried_agency(playbook: Playbook, material: CaseMaterial) -> str | None:
    spec = playbook.material(material.slug)
    order = spec.agencies if spec else []
    return next((slug for slug in order if slug not in material.tried_agencies), None)


class TripReason(StrEnum):
    """Why the applicant had to come (or was reached): every trip is counted with one."""

    INTAKE = "intake"
    MATERIAL_MISSING = "material-missing"
    SIGNATURE = "signature"
    APPOINTMENT = "appointment"
    COLLECT = "collect"
    OTHER = "other"


def record_visit(
    *,
    session: Session,
    number: str,
    reason: TripReason,
    brought: list[str],
    as_of: datetime,
    channel: Channel = Channel.WINDOW,
    note: str | None = None,
    actor: str = "staff",
) -> Contact:
    """The applicant came to the window (a trip) or sent or handed over materials without one.

    Only a window visit counts as a trip; materials taken in by post, on a home visit or by
    email cost the applicant nothing.
    """
    case = get_case(session, number)
    if case.closed_at is not None:
        raise UserError("case_closed", case=number)
    materials = [_material(session, case, slug) for slug in brought]
    for material in materials:
        if material.status != MaterialStatus.WAITING_APPLICANT:
            raise UserError("not_waiting_applicant", case=number, material=material.slug)
    trip = channel == Channel.WINDOW
    assert case.id is not None
    contact = Contact(
        case_id=case.id,
        kind=ContactKind.VISIT if trip else ContactKind.RECEIPT,
        channel=channel,
        direction=Direction.INBOUND,
        outcome=str(reason),
        note=note or (("带来：" + "、".join(m.name for m in materials)) if materials else None),
        occurred_at=as_of,
        trip=trip,
    )
    session.add(contact)
    for material in materials:
        if material.obtained_by == "office":
            # The agency asked for something only the applicant has: ask the same body again.
            material.status = MaterialStatus.PENDING
        else:
            material.status = MaterialStatus.COLLECTED
            material.collected_at = as_of
        session.add(material)
    if materials:
        case.wait_generation += 1
        session.add(case)
    _event(
        session,
        case,
        "applicant-visited" if trip else "materials-received",
        as_of,
        detail=f"{reason}: {', '.join(brought)}" if brought else str(reason),
        actor=actor,
    )
    session.flush()
    _refresh_status(session, case, as_of, actor)
    return contact


def record_appointment(
    *,
    session: Session,
    number: str,
    agency: str,
    at: datetime,
    material: str | None,
    escort: str | None,
    pickup: bool,
    applicant_attends: bool,
    as_of: datetime,
    actor: str = "staff",
) -> Contact:
    """Book an appointment with a body; if the applicant attends it is a trip (reason appointment)."""
    case = get_case(session, number)
    if case.closed_at is not None:
        raise UserError("case_closed", case=number)
    get_agency(session, agency)
    if material is not None:
        _material(session, case, material)
    if at <= as_of:
        raise UserError("appointment_in_past", at=at)
    assert case.id is not None
    contact = Contact(
        case_id=case.id,
        kind=ContactKind.APPOINTMENT,
        channel=Channel.VISIT,
        direction=Direction.OUTBOUND,
        agency_slug=agency,
        material_slug=material,
        outcome=str(TripReason.APPOINTMENT) if applicant_attends else None,
        note=f"陪同：{escort}" if escort else None,
        occurred_at=as_of,
        scheduled_at=at,
        trip=applicant_attends,
        details={"escort": escort, "pickup": pickup, "applicant_attends": applicant_attends},
    )
    session.add(contact)
    case.wait_generation += 1
    session.add(case)
    _event(
        session, case, "appointment-booked", as_of, detail=f"{agency} {at.isoformat()}", actor=actor
    )
    return contact


def appointment_details(*, session: Session, number: str, appointment_id: int) -> dict[str, Any]:
    case = get_case(session, number)
    contact = session.get(Contact, appointment_id)
    if contact is None or contact.case_id != case.id or contact.kind != ContactKind.APPOINTMENT:
        raise UserError("unknown_request", case=number, request=appointment_id)
    assert contact.scheduled_at is not None
    details = dict(contact.details or {})
    return {
        "id": contact.id,
        "agency": contact.agency_slug,
        "material": contact.material_slug,
        "scheduled_at": contact.scheduled_at,
        "escort": details.get("escort"),
        "pickup": bool(details.get("pickup")),
    }


def record_appointment_notice(
    *,
    session: Session,
    number: str,
    appointment_id: int,
    kind: ContactKind,
    to_address: str | None,
    message: RenderedMessage,
    as_of: datetime,
) -> Contact:
    """The applicant's confirmation or the staff reminder for an appointment, once each."""
    case = get_case(session, number)
    key = f"{kind}:{case.number}:{appointment_id}"
    existing = _contact_by_key(session, key)
    if existing is not None:
        return existing
    contact = _outbound(
        session,
        case,
        kind=kind,
        key=key,
        to_address=to_address,
        message=message,
        as_of=as_of,
        in_reply_to=appointment_id,
    )
    _event(session, case, str(kind), as_of, detail=f"appointment #{appointment_id}")
    return contact


def attach_document(*, session: Session, contact_id: int, path: str) -> None:
    """The printable copy of an outgoing letter was filed: list it with the contact."""
    contact = session.get(Contact, contact_id)
    assert contact is not None
    contact.document_path = path
    session.add(contact)


def record_service_completed(
    *, session: Session, number: str, service: str, as_of: datetime
) -> None:
    """A service of a bundle has all its materials: log it once (later services may start)."""
    case = get_case(session, number)
    done = session.exec(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id,
            CaseEvent.kind == "service-completed",
            CaseEvent.detail == service,
        )
    ).first()
    if done is None:
        _event(session, case, "service-completed", as_of, detail=service)


def add_agency(
    *,
    session: Session,
    slug: str,
    name: str,
    email: str | None,
    phone: str | None,
    address: str | None,
) -> Agency:
    """A body no playbook knows, added on the fly (e.g. an employer found through 114)."""
    if session.exec(select(Agency).where(Agency.slug == slug)).first() is not None:
        raise UserError("agency_exists", agency=slug)
    agency = Agency(slug=slug, name=name, email=email, phone=phone, address=address)
    session.add(agency)
    return agency


def consume_wake(*, session: Session, number: str, generation: int) -> bool:
    """A wake-up input for this waiting state was used: move to the next state key."""
    case = get_case(session, number)
    if case.wait_generation != generation:
        return False
    case.wait_generation += 1
    session.add(case)
    return True


def cases_of_person(*, session: Session, id_number: str) -> list[str]:
    """Case numbers of the applicant with this resident ID number (found by its keyed hash)."""
    query = (
        select(Case.number)
        .join(Applicant, col(Applicant.id) == col(Case.applicant_id))
        .where(Applicant.id_number_hash == lookup_hash(id_number))
        .order_by(col(Case.id))
    )
    return list(session.exec(query))


def rotate_encryption(*, session: Session) -> int:
    """Re-encrypt every applicant's ID and phone under the newest data key; returns how many."""
    applicants = list(session.exec(select(Applicant)))
    for applicant in applicants:
        # Reading decrypts with any key; marking the fields dirty re-encrypts with the first.
        applicant.id_number = str(applicant.id_number)
        applicant.phone = str(applicant.phone)
        flag_modified(applicant, "id_number")
        flag_modified(applicant, "phone")
        session.add(applicant)
    return len(applicants)
