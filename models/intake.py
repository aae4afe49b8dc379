"""Intake: a case opened at the window with its applicant and materials, and agencies added."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from casework.answers import TripReason
from casework.clock import office_date
from casework.crypto import lookup_hash
from casework.errors import UserError
from casework.playbook import Playbook, get_playbook
from casework.search import name_key, phone_key
from casework.settings import get_settings
from casework.workdays import add_working_days
from models.lookups import ADDED_AGENCY_PREFIX, find_agency, material_of
from models.tables import (
    Agency,
    Applicant,
    Case,
    CaseMaterial,
    CaseNumberCounter,
    CaseStatus,
    Channel,
    Contact,
    ContactKind,
    Direction,
    EventKind,
    MaterialStatus,
)
from models.transitions import record_event, refresh_status


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
    actor: str  # the account (or the console) that took the case in
    letter_lang: Literal["zh", "en"] = "zh"
    office_code: str | None = None  # the workbench's office; None from the CLI
    taken_by: str | None = None  # the workbench account that took the case (首问责任人)
    intake_key: str | None = None  # the form's one-time key (a double submit opens one case)


def sync_agencies(session: Session, playbook: Playbook) -> None:
    """Make sure every agency the playbook names is in the agency table (details from the file)."""
    for spec in playbook.agencies:
        agency = find_agency(session, spec.slug) or Agency(slug=spec.slug, name=spec.name)
        agency.name = spec.name
        agency.email = spec.email
        agency.phone = spec.phone
        agency.address = spec.address
        session.add(agency)
    session.flush()


def _next_case_number(session: Session, year: int) -> str:
    counter = session.get(CaseNumberCounter, year)
    if counter is None:
        counter = CaseNumberCounter(year=year, last=0)
    counter.last += 1
    session.add(counter)
    session.flush()
    return f"HC-{year}-{counter.last:04d}"


def open_case(*, session: Session, intake: CaseIntake, as_of: datetime) -> Case:
    """Create the case, its applicant and its materials; the intake visit is the first trip.
    A form already submitted (same intake key) gives back the case it opened."""
    if intake.intake_key is not None:
        opened = session.exec(select(Case).where(Case.intake_key == intake.intake_key)).first()
        if opened is not None:
            return opened
    playbook = get_playbook(intake.playbook)
    sync_agencies(session, playbook)
    applicant = Applicant(
        **intake.applicant.model_dump(),
        id_number_hash=lookup_hash(intake.applicant.id_number),
        phone_hash=phone_key(intake.applicant.phone),
        name_hash=name_key(intake.applicant.name),
    )
    session.add(applicant)
    session.flush()
    today = office_date(as_of)
    limit = playbook.time_limit(get_settings().time_limits)
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
        promised_by=add_working_days(today, limit),
        time_limit_days=limit,
        deadline_date=deadline_date,
        outside_remit=playbook.outside_remit,
        letter_lang=intake.letter_lang,
        office_code=intake.office_code,
        taken_by=intake.taken_by,
        intake_key=intake.intake_key,
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
    record_event(
        session,
        case,
        EventKind.CASE_OPENED,
        as_of,
        detail=playbook.title,
        to_status=CaseStatus.OPEN,
        actor=intake.actor,
    )
    session.flush()
    for slug in intake.brought:
        material = material_of(session, case, slug)
        if material.obtained_by != "applicant":
            raise UserError("not_waiting_applicant", material=material.name)
        material.status = MaterialStatus.COLLECTED
        material.collected_at = as_of
        session.add(material)
    refresh_status(session, case, as_of, intake.actor)
    return case


def open_case_of_person(
    *, session: Session, id_number: str, playbook: str, where: ColumnElement[bool]
) -> str | None:
    """The number of an open case of this type (among those `where` admits) for the person
    with this resident ID."""
    return session.exec(
        select(Case.number)
        .join(Applicant, col(Applicant.id) == col(Case.applicant_id))
        .where(
            Applicant.id_number_hash == lookup_hash(id_number),
            Case.playbook == playbook,
            col(Case.closed_at).is_(None),
            where,
        )
        .order_by(col(Case.id).desc())
    ).first()


def opened_by_key(*, session: Session, intake_key: str) -> bool:
    """Whether a case was opened from this intake form already."""
    return session.exec(select(Case.id).where(Case.intake_key == intake_key)).first() is not None


def add_agency(
    *,
    session: Session,
    name: str,
    email: str | None,
    phone: str | None,
    address: str | None,
) -> Agency:
    """An agency no playbook knows, added on the fly (e.g. an employer found through 114).

    Its code is generated (agency-001, agency-002…): codes reach Prefect as tags and task
    names, and a code typed by staff tends to be a person's name in pinyin. The name stays here.
    """
    if session.exec(select(Agency).where(Agency.name == name)).first() is not None:
        raise UserError("agency_exists", agency=name)
    taken = session.exec(
        select(Agency.slug).where(col(Agency.slug).startswith(ADDED_AGENCY_PREFIX))
    ).all()
    numbers = [int(s.removeprefix(ADDED_AGENCY_PREFIX)) for s in taken if s[-3:].isdigit()]
    slug = f"{ADDED_AGENCY_PREFIX}{max(numbers, default=0) + 1:03d}"
    agency = Agency(slug=slug, name=name, email=email, phone=phone, address=address)
    session.add(agency)
    session.flush()
    return agency
