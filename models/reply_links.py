"""Reply links: an agency answers one request on a page of its own, without an account. A link
opens the form only while its request waits for an answer; once the answer came (by any
channel), the case ended or the link expired, its page says so, and by whom and when."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from casework.actors import AGENCY_LINK
from casework.answers import Answer
from casework.clock import office_date, office_time
from casework.errors import UserError
from casework.links import is_code, normalise_code
from casework.messages import label
from models import directory
from models.accounts import display_names
from models.incoming import record_answer
from models.lookups import agency_name, get_case, material_of
from models.offices import office_card
from models.tables import (
    Case,
    CaseStatus,
    Channel,
    Contact,
    ContactKind,
    Direction,
    EventKind,
    ReplyLink,
)
from models.transitions import record_event


class LinkClosed(BaseModel):
    """Why a link no longer takes an answer, in words for its page."""

    reason: str  # answered, withdrawn, closed, expired
    at: datetime | None = None  # when
    by: str | None = None  # who recorded the answer, as people read it
    outcome: str | None = None  # the answer recorded, in words


class LinkPage(BaseModel):
    """What the reply page shows: the request, nothing personal beyond what the letter said."""

    code: str
    case_number: str
    agency: str
    agency_name: str
    material: str
    material_name: str
    requested_on: date
    office_name: str
    office_phone: str
    clerk: str
    # Where the playbook would look next, offered first when the agency passes it on.
    forward_choices: list[tuple[str, str]]
    closed: LinkClosed | None = None


class LinkAnswer(BaseModel):
    """What became of an answer given on a reply page."""

    kind: str  # recorded; same (as recorded before: nothing new); kept (differs: for the clerk)
    contact_id: int
    case_number: str
    agency_name: str
    earlier: LinkClosed | None = None


def _find(session: Session, code: str, *, lock: bool = False) -> ReplyLink:
    normalised = normalise_code(code)
    if not is_code(normalised):  # a typo, or bytes a database would refuse (NUL)
        raise UserError("link_unknown", typed=code[:20])
    query = select(ReplyLink).where(ReplyLink.code == normalised)
    if lock:
        query = query.with_for_update()
    link = session.exec(query).first()
    if link is None:
        raise UserError("link_unknown", typed=code[:20])
    return link


def _answer_of(session: Session, request: Contact) -> Contact | None:
    return session.exec(
        select(Contact).where(Contact.in_reply_to == request.id, Contact.kind == ContactKind.REPLY)
    ).first()


def _closed(
    session: Session, link: ReplyLink, request: Contact, case: Case, as_of: datetime
) -> LinkClosed | None:
    if request.answered_at is not None:
        answer = _answer_of(session, request)
        people = display_names(session)
        by = answer.recorded_by if answer and answer.recorded_by else ""
        return LinkClosed(
            reason="answered",
            at=request.answered_at,
            by=people.get(by) or label("actor", by) if by else None,
            outcome=label("outcome", request.outcome or ""),
        )
    if case.status == CaseStatus.WITHDRAWN:
        return LinkClosed(reason="withdrawn", at=case.closed_at)
    if case.closed_at is not None:
        return LinkClosed(reason="closed", at=case.closed_at)
    if link.expires_at <= as_of:
        return LinkClosed(reason="expired", at=link.expires_at)
    return None


def link_page(*, session: Session, code: str, as_of: datetime) -> LinkPage:
    """The request a code stands for, and whether it still takes an answer; UserError for a
    code that does not exist."""
    link = _find(session, code)
    request = session.get(Contact, link.contact_id)
    assert request is not None and request.agency_slug and request.material_slug
    case = session.get(Case, request.case_id)
    assert case is not None
    order = material_of(session, case, request.material_slug).chain
    card = office_card(session, case)
    return LinkPage(
        code=link.code,
        case_number=case.number,
        agency=request.agency_slug,
        agency_name=agency_name(session, request.agency_slug),
        material=request.material_slug,
        material_name=material_of(session, case, request.material_slug).name,
        requested_on=office_date(request.left_office_at),
        office_name=card.name,
        office_phone=card.phone,
        clerk=card.clerk,
        forward_choices=[
            (slug, agency_name(session, slug)) for slug in order if slug != request.agency_slug
        ],
        closed=_closed(session, link, request, case, as_of),
    )


def answer_by_link(
    *,
    session: Session,
    code: str,
    answer: Answer,
    forward_name: str | None,
    as_of: datetime,
) -> LinkAnswer:
    """Record the agency's answer from its reply page and use the link up, in one transaction:
    a second submit, or a second tab, finds it answered. An answer to a request answered
    meanwhile (by phone, say) is kept for the clerk when it says something else, never
    dropped; one that says the same records nothing new."""
    link = _find(session, code, lock=True)
    request = session.get(Contact, link.contact_id)
    assert request is not None and request.agency_slug and request.material_slug
    owner = session.get(Case, request.case_id)
    assert owner is not None
    case = get_case(session, owner.number, lock=True)  # the case row first, as every answer
    request = session.get(Contact, link.contact_id)  # re-read under the case's lock
    assert request is not None and request.agency_slug and request.material_slug
    closed = _closed(session, link, request, case, as_of)
    if closed is not None and closed.reason == "expired":
        assert closed.at is not None
        raise UserError(
            "link_expired", at=office_time(closed.at), phone=office_card(session, case).phone
        )
    answer = answer.model_copy(
        update={"agency": request.agency_slug, "material": request.material_slug}
    )
    if closed is not None:
        return _late(session, case, request, answer, closed, as_of)
    if forward_name and not answer.forward_to:
        # A body no playbook names, added only now that the link is known to take an answer.
        # It belongs to this case (the directory is the managers'), unless the directory
        # has it already under this name or one alike.
        existing = directory.alike(session, forward_name, case=case)
        target = (
            existing
            or directory.add_agency(
                session=session, details=directory.AgencyDetails(name=forward_name), case=case
            )
        ).slug
        answer = answer.model_copy(update={"forward_to": target})
    contact = record_answer(
        session=session, case_number=case.number, answer=answer, as_of=as_of, actor=AGENCY_LINK
    )
    link.used_at = as_of
    session.add(link)
    assert contact.id is not None
    return LinkAnswer(
        kind="recorded",
        contact_id=contact.id,
        case_number=case.number,
        agency_name=agency_name(session, request.agency_slug),
    )


def _late(
    session: Session,
    case: Case,
    request: Contact,
    answer: Answer,
    closed: LinkClosed,
    as_of: datetime,
) -> LinkAnswer:
    recorded = _answer_of(session, request)
    same = (
        closed.reason == "answered"
        and request.outcome == str(answer.outcome)
        and not answer.note
        and not answer.tracking
    )
    if same and recorded is not None and recorded.id is not None:
        return LinkAnswer(
            kind="same",
            contact_id=recorded.id,
            case_number=case.number,
            agency_name=agency_name(session, request.agency_slug),
            earlier=closed,
        )
    assert case.id is not None
    late = Contact(
        case_id=case.id,
        kind=ContactKind.LATE_ANSWER,
        channel=Channel.WEB,
        direction=Direction.INBOUND,
        agency_slug=request.agency_slug,
        material_slug=request.material_slug,
        in_reply_to=request.id,
        outcome=str(answer.outcome),
        note=answer.note or None,
        occurred_at=as_of,
        recorded_by=AGENCY_LINK,
        details={
            k: v
            for k, v in (
                ("tracking_number", answer.tracking),
                ("answered_by", answer.answered_by),
                ("forward_to_name", answer.forward_to),
            )
            if v
        },
    )
    session.add(late)
    record_event(
        session,
        case,
        EventKind.LATE_ANSWER,
        as_of,
        detail=f"{agency_name(session, request.agency_slug)}：{label('outcome', answer.outcome)}"
        + (f"（此前已记录为：{closed.outcome}）" if closed.outcome else ""),
        actor=AGENCY_LINK,
    )
    session.flush()
    assert late.id is not None
    return LinkAnswer(
        kind="kept",
        contact_id=late.id,
        case_number=case.number,
        agency_name=agency_name(session, request.agency_slug),
        earlier=closed,
    )


def late_answer_seen(
    *, session: Session, case_number: str, contact_id: int, as_of: datetime, actor: str
) -> Contact:
    """The clerk has looked at an agency's later answer."""
    case = get_case(session, case_number, lock=True)
    late = session.get(Contact, contact_id)
    if late is None or late.case_id != case.id or late.kind != ContactKind.LATE_ANSWER:
        raise UserError("unknown_request", case=case_number, request=contact_id)
    if (late.details or {}).get("seen_at"):
        return late
    late.details = {**(late.details or {}), "seen_at": as_of.isoformat(), "seen_by": actor}
    session.add(late)
    record_event(
        session,
        case,
        EventKind.LATE_ANSWER_SEEN,
        as_of,
        detail=f"{agency_name(session, late.agency_slug)}：{label('outcome', late.outcome or '')}",
        actor=actor,
    )
    return late


def unseen_late_answers(session: Session) -> list[tuple[str, Contact]]:
    """Every case's later answers nobody has looked at yet, with the case number."""
    found = session.exec(
        select(Contact, Case.number)
        .join(Case, col(Case.id) == col(Contact.case_id))
        .where(Contact.kind == ContactKind.LATE_ANSWER)
    ).all()
    return [(number, c) for c, number in found if not (c.details or {}).get("seen_at")]
