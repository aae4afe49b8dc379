"""Reply links: an agency answers one request on a page of its own, without an account."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlmodel import Session, select

from casework.clock import office_date, office_time
from casework.errors import UserError
from casework.links import normalise_code
from casework.playbook import get_playbook
from casework.replies import Reply
from casework.settings import get_settings
from models.incoming import record_reply
from models.lookups import agency_name, get_case
from models.tables import Case, Contact, Office, ReplyLink


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
    # Where the playbook would look next, offered first when the agency passes it on.
    forward_choices: list[tuple[str, str]]


def _link(session: Session, code: str, as_of: datetime, *, lock: bool = False) -> ReplyLink:
    settings = get_settings()
    query = select(ReplyLink).where(ReplyLink.code == normalise_code(code))
    if lock:
        query = query.with_for_update()
    link = session.exec(query).first()
    if link is None:
        raise UserError("link_unknown", typed=code[:20])
    if link.used_at is not None:
        raise UserError("link_used", at=office_time(link.used_at), phone=settings.office_phone)
    if link.expires_at <= as_of:
        raise UserError(
            "link_expired", at=office_time(link.expires_at), phone=settings.office_phone
        )
    return link


def link_page(*, session: Session, code: str, as_of: datetime) -> LinkPage:
    """The request a valid, unused, unexpired code stands for; UserError otherwise."""
    link = _link(session, code, as_of)
    request = session.get(Contact, link.contact_id)
    assert request is not None and request.agency_slug and request.material_slug
    case = session.get(Case, request.case_id)
    assert case is not None
    playbook = get_playbook(case.playbook)
    material = playbook.material(request.material_slug)
    order = material.agencies if material else []
    settings = get_settings()
    office = session.get(Office, case.office_code) if case.office_code else None
    return LinkPage(
        code=link.code,
        case_number=case.number,
        agency=request.agency_slug,
        agency_name=agency_name(session, request.agency_slug),
        material=request.material_slug,
        material_name=material.name if material else request.material_slug,
        requested_on=office_date(request.occurred_at),
        office_name=office.name if office else settings.office_name,
        office_phone=office.phone if office else settings.office_phone,
        forward_choices=[
            (slug, agency_name(session, slug)) for slug in order if slug != request.agency_slug
        ],
    )


def answer_by_link(*, session: Session, code: str, reply: Reply, as_of: datetime) -> Contact:
    """Record the agency's answer from its reply page and use the link up, in one transaction:
    a second submit, or a second tab, finds it used."""
    link = _link(session, code, as_of, lock=True)
    request = session.get(Contact, link.contact_id)
    assert request is not None and request.agency_slug and request.material_slug
    case = session.get(Case, request.case_id)
    assert case is not None
    get_case(session, case.number, lock=True)  # the case row first, as every answer does
    link = _link(session, code, as_of)  # re-read under the lock: another submit may have won
    answer = reply.model_copy(
        update={"agency": request.agency_slug, "material": request.material_slug}
    )
    contact = record_reply(
        session=session, case_number=case.number, reply=answer, as_of=as_of, actor="agency-link"
    )
    link.used_at = as_of
    session.add(link)
    return contact
