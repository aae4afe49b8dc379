"""Letters that go by post: which are waiting to be posted, and the tracking number of each."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlmodel import Session, col, or_, select

from casework.clock import office_date, start_of_office_day
from casework.errors import UserError
from models.lookups import agency_name, get_case
from models.tables import Case, Channel, Contact, ContactKind, Direction, EventKind
from models.transitions import record_event


class PostalLetter(BaseModel):
    case_number: str
    letter_id: int
    kind: str
    agency: str | None
    agency_name: str | None = None
    document: str | None
    written_at: datetime
    tracking_number: str | None = None
    posted_at: datetime | None = None
    printed_at: datetime | None = None


def _letter(case_number: str, contact: Contact) -> PostalLetter:
    assert contact.id is not None
    return PostalLetter(
        case_number=case_number,
        letter_id=contact.id,
        kind=str(contact.kind),
        agency=contact.agency_slug,
        document=contact.document_path,
        written_at=contact.occurred_at,
        tracking_number=contact.tracking_number,
        posted_at=contact.posted_at,
        printed_at=contact.printed_at,
    )


def _letters_by_post(
    session: Session, *, case_id: int | None = None, open_cases_only: bool = False
) -> list[tuple[Contact, str]]:
    """Outgoing letters by post with their case numbers, oldest first."""
    query = (
        select(Contact, Case.number)
        .join(Case, col(Case.id) == col(Contact.case_id))
        .where(Contact.channel == Channel.POST, Contact.direction == Direction.OUTBOUND)
        .order_by(col(Contact.occurred_at), col(Contact.id))
    )
    if case_id is not None:
        query = query.where(Case.id == case_id)
    if open_cases_only:  # and a withdrawn case's notices to its agencies
        query = query.where(
            or_(col(Case.closed_at).is_(None), Contact.kind == ContactKind.WITHDRAWAL_NOTICE)
        )
    return [(contact, case_number) for contact, case_number in session.exec(query)]


def _still_needed(session: Session, contact: Contact) -> bool:
    """A request or reminder the agency has not answered yet (else posting it is pointless)."""
    request = session.get(Contact, contact.in_reply_to) if contact.in_reply_to else contact
    return request is None or request.answered_at is None


def letters_to_post(*, session: Session, case_number: str | None = None) -> list[PostalLetter]:
    """Printed letters still in the office (of one case, or of every open case), oldest first."""
    found = (
        _letters_by_post(session, case_id=get_case(session, case_number).id)
        if case_number is not None
        else _letters_by_post(session, open_cases_only=True)
    )
    return [
        _letter(case_number, contact)
        for contact, case_number in found
        if contact.awaiting_posting and _still_needed(session, contact)
    ]


def _holder_of(session: Session, tracking_number: str) -> tuple[str, Contact] | None:
    """The letter (of any case) already recorded with this tracking number."""
    for contact, case_number in _letters_by_post(session):
        if contact.tracking_number == tracking_number:
            return case_number, contact
    return None


def record_posting(
    *,
    session: Session,
    case_number: str,
    tracking_number: str,
    as_of: datetime,
    letter_id: int | None = None,
    posted_on: date | None = None,
    actor: str,
) -> PostalLetter:
    """Staff posted a printed letter: keep its tracking number with the contact, audited.

    Without `letter_id` the case must have exactly one letter waiting. Typing the same posting
    twice changes nothing; a number already recorded for another letter is refused. `posted_on`
    records a posting made on an earlier day (the follow-up clock starts then).
    """
    case = get_case(session, case_number, lock=True)
    holder = _holder_of(session, tracking_number)
    if holder is not None:
        holder_case, holder_letter = holder
        if holder_case == case.number and letter_id in (None, holder_letter.id):
            return _letter(case.number, holder_letter)  # typed twice: already recorded
        raise UserError(
            "tracking_in_use", tracking=tracking_number, case=holder_case, letter=holder_letter.id
        )
    if letter_id is None:
        waiting = letters_to_post(session=session, case_number=case_number)
        if not waiting:
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
    if contact.tracking_number is not None:
        assert contact.posted_at is not None
        raise UserError(
            "already_posted",
            letter=letter_id,
            posted_on=office_date(contact.posted_at),
            tracking=contact.tracking_number,
        )
    posted_at = as_of
    if posted_on is not None:
        written = office_date(contact.occurred_at)
        if not written <= posted_on <= office_date(as_of):
            raise UserError("posted_on", value=posted_on.isoformat(), written=written)
        if posted_on < office_date(as_of):
            posted_at = max(contact.occurred_at, start_of_office_day(posted_on))
    # A new dict, so the JSON column is seen as changed.
    contact.details = {
        **(contact.details or {}),
        "tracking_number": tracking_number,
        "posted_at": posted_at.isoformat(),
    }
    session.add(contact)
    record_event(
        session,
        case,
        EventKind.LETTER_POSTED,
        as_of,
        detail=f"#{letter_id} → {agency_name(session, contact.agency_slug)} 单号 {tracking_number}",
        actor=actor,
    )
    session.flush()
    return _letter(case.number, contact)


def mark_printed(
    *,
    session: Session,
    case_number: str,
    letter_id: int,
    printed: bool,
    as_of: datetime,
    actor: str,
) -> PostalLetter:
    """Tick a letter by post as printed (or take the tick back): the print queue's column."""
    case = get_case(session, case_number, lock=True)
    contact = session.get(Contact, letter_id)
    if contact is None or contact.case_id != case.id or not contact.awaiting_posting:
        raise UserError("not_a_postal_letter", case=case.number, letter=letter_id)
    details = {k: v for k, v in (contact.details or {}).items() if k != "printed_at"}
    if printed:
        details["printed_at"] = as_of.isoformat()
    contact.details = details
    session.add(contact)
    if printed:
        record_event(
            session,
            case,
            EventKind.LETTER_PRINTED,
            as_of,
            detail=f"致{agency_name(session, contact.agency_slug) if contact.agency_slug else '申请人'}",
            actor=actor,
        )
    return _letter(case.number, contact)
