"""The district's agency directory: one entry per agency (name, desk, channels, hours, notes,
how quickly it answers), and the agencies a single case adds for itself (an employer found via
114, the one filling a role such as "the deceased's former employer"), which only that case's
lists show. A name that is another entry's written differently is refused."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, func, or_, select

from casework.agency_names import near_duplicate
from casework.clock import office_date
from casework.errors import UserError
from casework.follow_up import LATEST_ANSWERS, usual_answer_days
from casework.playbook import Playbook
from casework.workdays import working_days_between
from models.lookups import ADDED_AGENCY_PREFIX, get_agency
from models.tables import Agency, Case, Contact, ContactKind


class AgencyDetails(BaseModel):
    """What the directory keeps of an agency, checked."""

    name: str
    department: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    office_hours: str | None = None
    notes: str | None = None


def alike(session: Session, name: str, *, case: Case | None = None) -> Agency | None:
    """The entry of the directory (or of the case) that `name` names, however written."""
    return _same_agency(session, name, case_id=case.id if case is not None else None)


def _same_agency(
    session: Session, name: str, *, case_id: int | None, except_slug: str | None = None
) -> Agency | None:
    """The entry (of the directory, or of the same case) that `name` would duplicate."""
    query = select(Agency).where(
        or_(col(Agency.case_id).is_(None), Agency.case_id == case_id)
        if case_id is not None
        else col(Agency.case_id).is_(None)
    )
    for agency in session.exec(query.order_by(col(Agency.id))):
        if agency.slug != except_slug and near_duplicate(agency.name, name):
            return agency
    return None


def _refuse_duplicate(
    session: Session, name: str, *, case_id: int | None, except_slug: str | None = None
) -> None:
    same = _same_agency(session, name, case_id=case_id, except_slug=except_slug)
    if same is not None:
        raise UserError(
            "agency_near_duplicate",
            agency=name,
            existing=same.name + (f"（{same.department}）" if same.department else ""),
            agency_code=same.slug,
        )


def _next_code(session: Session) -> str:
    # Codes are generated (agency-001…): codes reach Prefect as tags and task names, and a
    # code typed by staff tends to be a person's name in pinyin. The name stays here.
    taken = session.exec(
        select(Agency.slug).where(col(Agency.slug).startswith(ADDED_AGENCY_PREFIX))
    ).all()
    numbers = [int(s.removeprefix(ADDED_AGENCY_PREFIX)) for s in taken if s[-3:].isdigit()]
    return f"{ADDED_AGENCY_PREFIX}{max(numbers, default=0) + 1:03d}"


def add_agency(
    *,
    session: Session,
    details: AgencyDetails,
    case: Case | None = None,
    distinct: bool = False,
) -> Agency:
    """An agency added to the directory, or (`case`) for that case only; without an email it
    is written to by post. `distinct`: the clerk has seen the alike entry and says this is
    another agency."""
    case_id = case.id if case is not None else None
    if not distinct:
        _refuse_duplicate(session, details.name, case_id=case_id)
    elif _exact(session, details.name, case_id) is not None:
        raise UserError("agency_exists", agency=details.name)
    agency = Agency(slug=_next_code(session), case_id=case_id, **details.model_dump())
    session.add(agency)
    session.flush()
    return agency


def _exact(session: Session, name: str, case_id: int | None) -> Agency | None:
    query = select(Agency).where(Agency.name == name)
    found = [a for a in session.exec(query) if a.case_id is None or a.case_id == case_id]
    return found[0] if found else None


def edit_agency(
    *, session: Session, slug: str, changes: dict[str, str | None], distinct: bool = False
) -> Agency:
    """Change a directory entry (only the fields given); a role keeps no channels."""
    agency = get_agency(session, slug)
    if agency.role and any(changes.get(k) for k in ("email", "phone", "address")):
        raise UserError("role_has_no_channels", agency=agency.name)
    name = changes.get("name")
    if name and name != agency.name and not distinct:
        _refuse_duplicate(session, name, case_id=agency.case_id, except_slug=slug)
    for key, value in changes.items():
        if key == "name" and not value:
            continue
        setattr(agency, key, value)
    session.add(agency)
    session.flush()
    return agency


def directory(session: Session) -> list[Agency]:
    """The district's directory: every agency but those of a single case, by name."""
    return list(
        session.exec(select(Agency).where(col(Agency.case_id).is_(None)).order_by(col(Agency.name)))
    )


def agencies_for_case(session: Session, case: Case) -> list[Agency]:
    """The agencies a case may ask: the directory's (roles aside) and its own."""
    return [
        a
        for a in session.exec(
            select(Agency)
            .where(or_(col(Agency.case_id).is_(None), Agency.case_id == case.id))
            .order_by(col(Agency.name))
        )
        if not a.role
    ]


def agency_for_case(session: Session, case: Case, slug: str) -> Agency:
    """An agency the case may ask: UserError for an unknown code, another case's own agency,
    or a role (which names no agency)."""
    agency = get_agency(session, slug)
    if agency.case_id is not None and agency.case_id != case.id:
        raise UserError("unknown_agency", agency=slug)
    if agency.role:
        raise UserError("role_is_not_an_agency", agency=agency.name)
    return agency


def learn_answer_time(session: Session, agency_slug: str) -> int | None:
    """Work out again how many working days the agency usually takes to answer (its latest
    answered requests: from when each left the office to its answer) and keep it on its
    entry for chasing to follow."""
    answered = session.exec(
        select(Contact)
        .where(
            Contact.kind == ContactKind.REQUEST,
            Contact.agency_slug == agency_slug,
            col(Contact.answered_at).is_not(None),
        )
        .order_by(col(Contact.answered_at).desc())
        .limit(LATEST_ANSWERS)
    ).all()
    waits = [
        working_days_between(office_date(c.left_office_at), office_date(_at(c.answered_at)))
        for c in reversed(answered)
    ]
    usual = usual_answer_days(waits)
    agency = get_agency(session, agency_slug)
    agency.answers_within_days = usual
    session.add(agency)
    return usual


def _at(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment


def answers_by_agency(session: Session) -> dict[str, int]:
    """How many requests each agency has answered (the directory shows what its time rests on)."""
    return {
        slug or "": count
        for slug, count in session.exec(
            select(Contact.agency_slug, func.count())
            .where(Contact.kind == ContactKind.REQUEST, col(Contact.answered_at).is_not(None))
            .group_by(col(Contact.agency_slug))
        )
    }


def seed(session: Session, playbook: Playbook) -> None:
    """Put each agency a case type names into the directory, when it is not there yet. An
    entry already there keeps what the managers made of it (a new email, the desk, notes)."""
    known = set(session.exec(select(Agency.slug)))
    for spec in playbook.agencies:
        if spec.slug in known:
            continue
        session.add(
            Agency(
                slug=spec.slug,
                name=spec.name,
                email=spec.email,
                phone=spec.phone,
                address=spec.address,
                department=spec.department,
                office_hours=spec.office_hours,
                role=spec.role,
            )
        )
    session.flush()
