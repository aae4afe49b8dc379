"""The outbox: every outgoing email, written with the change that causes it, sent by the relay."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from casework.rendering import RenderedMessage
from models.tables import Case, Contact, OutboxMessage, OutboxStatus

MESSAGE_ID_DOMAIN = "casework.local"


def message_id_for(dedupe_key: str) -> str:
    """The same dedupe key always yields the same Message-ID, so a resend is recognisable."""
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:24]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


def queue_email(
    session: Session,
    case: Case,
    contact: Contact | None,
    dedupe_key: str,
    to_address: str,
    message: RenderedMessage,
    as_of: datetime,
) -> None:
    session.add(
        OutboxMessage(
            case_id=case.id,
            contact_id=contact.id if contact else None,
            dedupe_key=dedupe_key,
            message_id=message_id_for(dedupe_key),
            to_address=to_address,
            subject=message.subject,
            body_text=message.text,
            created_at=as_of,
        )
    )


class OutgoingEmail(BaseModel):
    id: int
    message_id: str
    to_address: str
    subject: str
    body_text: str
    attempts: int


def pending_emails(*, session: Session, number: str | None = None) -> list[OutgoingEmail]:
    query = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
    if number is not None:
        from models.cases import get_case

        case = get_case(session, number)
        query = query.where(OutboxMessage.case_id == case.id)
    return [
        OutgoingEmail.model_validate(row, from_attributes=True)
        for row in session.exec(query.order_by(col(OutboxMessage.id)))
    ]


def mark_email_sent(*, session: Session, outbox_id: int, as_of: datetime) -> None:
    row = session.get(OutboxMessage, outbox_id)
    assert row is not None
    row.status = OutboxStatus.SENT
    row.sent_at = as_of
    row.attempts += 1
    session.add(row)


def mark_email_failed(*, session: Session, outbox_id: int, error: str, permanent: bool) -> None:
    row = session.get(OutboxMessage, outbox_id)
    assert row is not None
    row.attempts += 1
    row.last_error = error[:500]
    if permanent:
        row.status = OutboxStatus.FAILED
    session.add(row)
