"""Letters that go by post: which are waiting to be posted, and the tracking number of each."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from casework.clock import office_date
from casework.errors import UserError
from models.cases import _event, get_case
from models.tables import Case, Channel, Contact, Direction


class PostalLetter(BaseModel):
    case_number: str
    letter_id: int
    kind: str
    agency: str | None
    document: str | None
    written_at: datetime
    tracking_number: str | None = None
    posted_at: datetime | None = None


def tracking_of(contact: Contact) -> tuple[str | None, datetime | None]:
    details = contact.details or {}
    posted = details.get("posted_at")
    return details.get("tracking_number"), datetime.fromisoformat(posted) if posted else None


def _letter(case: Case, contact: Contact) -> PostalLetter:
    tracking, posted_at = tracking_of(contact)
    assert contact.id is not None
    return PostalLetter(
        case_number=case.number,
        letter_id=contact.id,
        kind=str(contact.kind),
        agency=contact.agency_slug,
        document=contact.document_path,
        written_at=contact.occurred_at,
        tracking_number=tracking,
        posted_at=posted_at,
    )


def postal_letters(
    *, session: Session, number: str | None = None, unposted_only: bool = True
) -> list[PostalLetter]:
    """Outgoing letters by post (of one case, or of all open cases), oldest first."""
    query = (
        select(Contact, Case)
        .join(Case, col(Case.id) == col(Contact.case_id))
        .where(Contact.channel == Channel.POST, Contact.direction == Direction.OUTBOUND)
        .order_by(col(Contact.occurred_at), col(Contact.id))
    )
    if number is not None:
        query = query.where(Case.id == get_case(session, number).id)
    else:
        query = query.where(col(Case.closed_at).is_(None))
    letters = [_letter(case, contact) for contact, case in session.exec(query)]
    return [x for x in letters if not (unposted_only and x.tracking_number)]


def record_posting(
    *,
    session: Session,
    number: str,
    tracking_number: str,
    as_of: datetime,
    letter_id: int | None = None,
    actor: str = "staff",
) -> PostalLetter:
    """Staff posted a printed letter: keep its tracking number with the contact, audited.

    Without `letter_id` the case must have exactly one letter waiting; posting the same letter
    again with the same number changes nothing, with another number is refused.
    """
    case = get_case(session, number)
    waiting = postal_letters(session=session, number=number)
    if letter_id is None:
        if not waiting:
            everything = postal_letters(session=session, number=number, unposted_only=False)
            for letter in everything:
                if letter.tracking_number == tracking_number:
                    return letter  # typed twice: already recorded
            raise UserError("nothing_to_post", case=case.number)
        if len(waiting) > 1:
            listing = ", ".join(f"#{x.letter_id} {x.agency or ''}" for x in waiting)
            raise UserError("which_letter", case=case.number, letters=listing)
        letter_id = waiting[0].letter_id
    contact = session.get(Contact, letter_id)
    if (
        contact is None
        or contact.case_id != case.id
        or contact.channel != Channel.POST
        or contact.direction != Direction.OUTBOUND
    ):
        raise UserError("not_a_postal_letter", case=case.number, letter=letter_id)
    known, posted_at = tracking_of(contact)
    if known is not None:
        if known == tracking_number:
            return _letter(case, contact)
        assert posted_at is not None
        raise UserError(
            "already_posted", letter=letter_id, posted_on=office_date(posted_at), tracking=known
        )
    # A new dict, so the JSON column is seen as changed.
    contact.details = {
        **(contact.details or {}),
        "tracking_number": tracking_number,
        "posted_at": as_of.isoformat(),
    }
    session.add(contact)
    _event(
        session,
        case,
        "letter-posted",
        as_of,
        detail=f"#{letter_id} → {contact.agency_slug or '-'} 单号 {tracking_number}",
        actor=actor,
    )
    session.flush()
    return _letter(case, contact)
