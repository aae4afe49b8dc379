"""Outgoing contacts: notices, requests, reminders, escalations and appointment letters.

Each is logged once per dedupe key (models/keys.py) with its email queued in the outbox in the
same transaction, and its audit row written: `_send_once` is that sequence, in one place.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, func, select

from casework.actors import SYSTEM
from casework.errors import UserError
from casework.links import reply_code
from casework.messages import label
from casework.planning import EscalationReason
from casework.settings import get_settings
from casework.templating import RenderedMessage
from models import keys
from models.lookups import (
    applicant_of,
    contact_by_key,
    get_agency,
    get_case,
    material_of,
    open_request_of,
)
from models.outbox import queue_email
from models.tables import (
    Case,
    CaseStatus,
    Channel,
    Contact,
    ContactKind,
    Direction,
    EventKind,
    MaterialStatus,
    ReplyLink,
)
from models.transitions import record_event, refresh_status


def _send_once(
    session: Session,
    case: Case,
    *,
    kind: ContactKind,
    key: str,
    to_address: str | None,
    message: RenderedMessage,
    as_of: datetime,
    event: tuple[EventKind, str],
    to_status: CaseStatus | None = None,
    without_email: Channel = Channel.PHONE,
    actor: str,
    **fields: Any,
) -> tuple[Contact, bool]:
    """Log an outgoing contact, queue its email when there is an address, write its audit
    event: once per key. Returns the contact and whether it was new."""
    existing = contact_by_key(session, key)
    if existing is not None:
        return existing, False
    assert case.id is not None
    contact = Contact(
        case_id=case.id,
        kind=kind,
        channel=Channel.EMAIL if to_address else without_email,
        direction=Direction.OUTBOUND,
        note=message.subject,
        dedupe_key=key,
        occurred_at=as_of,
        recorded_by=actor,
        **fields,
    )
    session.add(contact)
    session.flush()
    if to_address:
        queue_email(session, case, contact, key, to_address, message, as_of)
    event_kind, detail = event
    record_event(session, case, event_kind, as_of, detail=detail, to_status=to_status, actor=actor)
    return contact, True


def record_notice(
    *, session: Session, case_number: str, message: RenderedMessage, as_of: datetime
) -> Contact:
    """The one-time notification: printed for the window, emailed too when we have an address."""
    case = get_case(session, case_number, lock=True)
    contact, _ = _send_once(
        session,
        case,
        kind=ContactKind.NOTICE,
        key=keys.notice_key(case.number),
        to_address=applicant_of(session, case).email,
        message=message,
        as_of=as_of,
        event=(EventKind.APPLICANT_NOTIFIED, "一次性告知书"),
        without_email=Channel.WINDOW,
        actor=SYSTEM,
    )
    return contact


def record_request(
    *,
    session: Session,
    case_number: str,
    material: str,
    agency: str,
    message: RenderedMessage,
    as_of: datetime,
) -> Contact | None:
    """Log a request to an agency and queue its email, once per (material, agency, attempt).

    The step was planned from an earlier read; under the case's lock it must still hold. An
    answer recorded in between (the agency forwarded the matter while the run was sending) makes
    it stale: then nothing is written and None is returned, and the run plans again.
    """
    case = get_case(session, case_number, lock=True)
    case_material = material_of(session, case, material)
    recipient = get_agency(session, agency)
    open_request = open_request_of(session, case, case_material)
    if open_request is not None:
        found = session.get(Contact, open_request.contact_id)
        assert found is not None
        return found
    if case_material.status != MaterialStatus.PENDING or case_material.agency_slug != agency:
        return None
    key = request_key_for(session, case, material, agency)
    contact, _ = _send_once(
        session,
        case,
        kind=ContactKind.REQUEST,
        key=key,
        to_address=recipient.email,
        message=message,
        as_of=as_of,
        event=(EventKind.REQUEST_SENT, f"{case_material.name} → {recipient.name}"),
        without_email=Channel.POST,
        agency_slug=agency,
        material_slug=material,
        actor=SYSTEM,
    )
    assert contact.id is not None
    if session.exec(select(ReplyLink).where(ReplyLink.contact_id == contact.id)).first() is None:
        session.add(
            ReplyLink(
                contact_id=contact.id,
                code=reply_code(key),
                expires_at=as_of + timedelta(days=get_settings().reply_link_days),
            )
        )
    case_material.status = MaterialStatus.REQUESTED
    case_material.agency_slug = agency
    if agency not in case_material.tried_agencies:
        case_material.tried_agencies = [*case_material.tried_agencies, agency]
    session.add(case_material)
    refresh_status(session, case, as_of, "system")
    return contact


def record_withdrawal_notice(
    session: Session,
    case: Case,
    request: Contact,
    *,
    message: RenderedMessage,
    as_of: datetime,
    actor: str,
) -> Contact:
    """Tell an agency its open request is withdrawn with the case (email, or a letter by post),
    once per request."""
    assert request.agency_slug is not None and request.id is not None
    recipient = get_agency(session, request.agency_slug)
    contact, _ = _send_once(
        session,
        case,
        kind=ContactKind.WITHDRAWAL_NOTICE,
        key=keys.withdrawal_key(case.number, request.id),
        to_address=recipient.email,
        message=message,
        as_of=as_of,
        event=(EventKind.REQUEST_WITHDRAWN, recipient.name),
        without_email=Channel.POST,
        agency_slug=request.agency_slug,
        material_slug=request.material_slug,
        in_reply_to=request.id,
        actor=actor,
    )
    return contact


def request_key_for(session: Session, case: Case, material: str, agency: str) -> str:
    """The dedupe key the next request for this material to this agency will carry."""
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
    return keys.request_key(case.number, material, agency, int(earlier) + 1)


def next_reply_code(*, session: Session, case_number: str, material: str, agency: str) -> str:
    """The reply-page code the next request for this material to this agency will carry (the
    letter is written before the request is recorded, and must print the same code)."""
    case = get_case(session, case_number)
    return reply_code(request_key_for(session, case, material, agency))


def record_reminder(
    *,
    session: Session,
    case_number: str,
    request_id: int,
    reminder_number: int,
    message: RenderedMessage,
    as_of: datetime,
) -> Contact | None:
    """Log the n-th reminder for an unanswered request and queue its email, once; None (and
    nothing written) when the request was answered since the reminder was planned."""
    case = get_case(session, case_number, lock=True)
    request = session.get(Contact, request_id)
    if request is None or request.case_id != case.id or request.agency_slug is None:
        raise UserError("unknown_request", case=case_number, request=request_id)
    key = keys.reminder_key(case.number, request_id, reminder_number)
    if request.answered_at is not None:
        return contact_by_key(session, key)
    recipient = get_agency(session, request.agency_slug)
    contact, _ = _send_once(
        session,
        case,
        kind=ContactKind.REMINDER,
        key=key,
        to_address=recipient.email,
        message=message,
        as_of=as_of,
        event=(EventKind.REMINDER_SENT, f"第 {reminder_number} 次 → {recipient.name}"),
        # An agency without email gets its reminder by post, as it got the request.
        without_email=Channel.POST,
        agency_slug=recipient.slug,
        material_slug=request.material_slug,
        in_reply_to=request_id,
        actor=SYSTEM,
    )
    return contact


def record_escalation(
    *,
    session: Session,
    case_number: str,
    reason: EscalationReason,
    material: str | None,
    request_id: int | None,
    manager_email: str,
    message: RenderedMessage,
    as_of: datetime,
) -> Contact | None:
    """Hand the case to a manager: visible status, audit event and a memo email, once; None
    (and nothing written) for an agency's silence that an answer has broken meanwhile."""
    case = get_case(session, case_number, lock=True)
    if reason == EscalationReason.NO_ANSWER and request_id is not None:
        request = session.get(Contact, request_id)
        key = keys.escalation_key(case.number, str(reason), material, request_id)
        if request is not None and request.answered_at is not None:
            return contact_by_key(session, key)
    contact, new = _send_once(
        session,
        case,
        kind=ContactKind.ESCALATION,
        key=keys.escalation_key(case.number, str(reason), material, request_id),
        to_address=manager_email,
        message=message,
        as_of=as_of,
        event=(EventKind.ESCALATED, label("outcome", reason)),
        to_status=CaseStatus.ESCALATED,
        material_slug=material,
        in_reply_to=request_id,
        outcome=str(reason),
        actor=SYSTEM,
    )
    if not new:
        return contact
    if reason == EscalationReason.NO_AGENCY_LEFT and material is not None:
        case_material = material_of(session, case, material)
        case_material.status = MaterialStatus.UNOBTAINABLE
        session.add(case_material)
    case.escalated_at = as_of
    case.escalation_reason = str(reason)
    session.add(case)
    return contact


def record_appointment_notice(
    *,
    session: Session,
    case_number: str,
    appointment_id: int,
    kind: ContactKind,
    to_address: str | None,
    message: RenderedMessage,
    as_of: datetime,
) -> Contact:
    """The applicant's confirmation or the staff reminder for an appointment, once each."""
    case = get_case(session, case_number, lock=True)
    contact, _ = _send_once(
        session,
        case,
        kind=kind,
        key=keys.appointment_notice_key(str(kind), case.number, appointment_id),
        to_address=to_address,
        message=message,
        as_of=as_of,
        event=(
            EventKind.APPOINTMENT_CONFIRMED
            if kind == ContactKind.APPOINTMENT_CONFIRMATION
            else EventKind.STAFF_REMINDED,
            f"预约 #{appointment_id}",
        ),
        in_reply_to=appointment_id,
        actor=SYSTEM,
    )
    return contact


def record_closing_letter(
    session: Session, case: Case, *, message: RenderedMessage, as_of: datetime
) -> Contact:
    """The letter telling the applicant her case is done, once."""
    contact, _ = _send_once(
        session,
        case,
        kind=ContactKind.CLOSING,
        key=keys.closing_key(case.number),
        to_address=applicant_of(session, case).email,
        message=message,
        as_of=as_of,
        event=(EventKind.CASE_CLOSED, ""),
        to_status=CaseStatus.CLOSED,
        actor=SYSTEM,
    )
    return contact


def record_applicant_letter(
    session: Session,
    case: Case,
    *,
    kind: ContactKind,
    key: str,
    message: RenderedMessage,
    as_of: datetime,
    event: tuple[EventKind, str],
    without_email: Channel,
    letter: dict[str, Any],
    actor: str,
    material_slug: str | None = None,
) -> Contact:
    """A letter to the applicant beyond the first notice (an extension, an amended notice):
    logged once per key, emailed when there is an address. `letter` names its template and
    what it was rendered with, so a run after a crash can file the same letter."""
    contact, _ = _send_once(
        session,
        case,
        kind=kind,
        key=key,
        to_address=applicant_of(session, case).email,
        message=message,
        as_of=as_of,
        event=event,
        without_email=without_email,
        actor=actor,
        details=letter,
        material_slug=material_slug,
    )
    return contact


def attach_document(*, session: Session, contact_id: int, path: str) -> None:
    """The printable copy of an outgoing letter was filed: list it with the contact."""
    contact = session.get(Contact, contact_id)
    assert contact is not None
    contact.document_path = path
    session.add(contact)
