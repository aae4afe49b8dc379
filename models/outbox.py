"""The outbox: every outgoing email, written with the change that causes it, sent by the relay."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import update
from sqlmodel import Session, col, select

from casework.templating import RenderedMessage
from models.lookups import get_case
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
            body_html=message.html,
            created_at=as_of,
        )
    )


class OutgoingEmail(BaseModel):
    id: int
    message_id: str
    to_address: str
    subject: str
    body_text: str
    body_html: str | None
    attempts: int
    resend: bool = False
    contact_id: int | None = None
    case_number: str | None = None


LEASE = timedelta(minutes=10)


def _retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at one hour between tries of a temporary failure."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def claim_due_emails(
    *,
    session: Session,
    as_of: datetime,
    case_number: str | None = None,
    lease: timedelta = LEASE,
) -> list[OutgoingEmail]:
    """Claim what is due: pending rows whose retry time has come, and claims whose relay died.

    Each row is claimed with a conditional UPDATE, so two relays never send the same row; a
    claim older than the lease was sent (or not) by a relay that died before marking it: it is
    sent again with the same Message-ID and flagged as a resend.
    """
    query = select(OutboxMessage).where(
        col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
    )
    if case_number is not None:
        query = query.where(OutboxMessage.case_id == get_case(session, case_number).id)
    claimed = []
    for row in session.exec(query.order_by(col(OutboxMessage.id))):
        stale = row.status == OutboxStatus.SENDING
        if stale and row.claimed_at is not None and row.claimed_at > as_of - lease:
            continue  # another relay is sending it right now
        if not stale and row.next_attempt_at is not None and row.next_attempt_at > as_of:
            continue
        taken = session.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == row.id,
                col(OutboxMessage.status) == row.status,
                col(OutboxMessage.attempts) == row.attempts,
            )
            .values(
                status=OutboxStatus.SENDING,
                claimed_at=as_of,
                attempts=row.attempts + 1,
                resent=row.resent or stale,
            )
            # The claimed rows are read back from `row` below; evaluating the WHERE against
            # every object in the session after each UPDATE made a batch's claim quadratic
            # (3 of 10 s for 500 emails).
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            case = session.get(Case, row.case_id) if row.case_id else None
            email = OutgoingEmail.model_validate(row, from_attributes=True)
            claimed.append(
                email.model_copy(
                    update={
                        "resend": stale,
                        "attempts": row.attempts + 1,
                        "case_number": case.number if case else None,
                    }
                )
            )
    return claimed


def mark_email_sent(*, session: Session, outbox_id: int, as_of: datetime) -> None:
    # One UPDATE, no read: the relay marks each email before it sends the next.
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == outbox_id)
        .values(status=OutboxStatus.SENT, sent_at=as_of, last_error=None)
        .execution_options(synchronize_session=False)
    )


def mark_email_failed(
    *, session: Session, outbox_id: int, error: str, permanent: bool, as_of: datetime
) -> None:
    """5xx and refused addresses fail for good (shown to staff); the rest are retried later."""
    row = session.get(OutboxMessage, outbox_id)
    assert row is not None
    row.last_error = error[:500]
    row.status = OutboxStatus.FAILED if permanent else OutboxStatus.PENDING
    row.next_attempt_at = None if permanent else as_of + _retry_delay(row.attempts)
    session.add(row)
