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
from casework.playbook import Playbook
from casework.search import name_key, phone_key
from casework.settings import get_settings
from casework.workdays import add_working_days
from models import case_types, directory
from models.lookups import get_agency, material_of
from models.tables import (
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


# A material the clerk named for the case (need-1, need-2…): no case type names it.
NAMED_MATERIAL_PREFIX = "need-"


class MaterialIn(BaseModel):
    """A material the clerk names for the case (a general case's route, or one added later):
    obtained by the office from a chain of agencies, or brought by the citizen."""

    name: str
    chain: list[str] = []  # agency codes, in order; empty (and no new agency): she brings it
    asks: str | None = None  # what the request letter asks for, in the clerk's words
    # An agency the directory lacks, added for this case on the spot and asked after `chain`.
    new_agency: directory.AgencyDetails | None = None

    @property
    def obtained_by(self) -> str:
        return "office" if self.chain or self.new_agency else "applicant"


class CaseIntake(BaseModel):
    """Everything needed to open a case, already validated."""

    playbook: str
    applicant: ApplicantIn
    fields: dict[str, Any]
    brought: list[str] = []
    # A general case: its title, the citizen's problem in her words, its materials, and the
    # limit its tier gives it (None: the case type's).
    title: str | None = None
    problem: str | None = None
    materials: list[MaterialIn] = []
    time_limit_days: int | None = None
    # The agencies filling the case type's roles (原单位人事部门 → this case's employer), by
    # role code; a role left out waits for a clerk to name its agency on the way.
    roles: dict[str, str] = {}
    actor: str  # the account (or the console) that took the case in
    letter_lang: Literal["zh", "en"] = "zh"
    office_code: str | None = None  # the workbench's office; None from the CLI
    taken_by: str | None = None  # the workbench account that took the case (首问责任人)
    intake_key: str | None = None  # the form's one-time key (a double submit opens one case)


def _roles_filled(session: Session, playbook: Playbook, roles: dict[str, str]) -> dict[str, str]:
    """The agencies named for the case type's roles, checked: each a role of the type, each
    filled by an agency of the directory."""
    known = {a.slug: a for a in playbook.agencies if a.role}
    for role, slug in roles.items():
        if role not in known:
            raise UserError("not_a_role", role=role[:40], roles="、".join(known) or "—")
        agency = get_agency(session, slug)
        if agency.role or agency.case_id is not None:
            raise UserError("unknown_agency", agency=slug)
    return dict(roles)


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
    playbook, version = case_types.current(session, intake.playbook, as_of)
    directory.seed(session, playbook)  # a type saved before the directory knew its agencies
    applicant = Applicant(
        **intake.applicant.model_dump(),
        id_number_hash=lookup_hash(intake.applicant.id_number),
        phone_hash=phone_key(intake.applicant.phone),
        name_hash=name_key(intake.applicant.name),
    )
    session.add(applicant)
    session.flush()
    today = office_date(as_of)
    limit = intake.time_limit_days or playbook.time_limit(get_settings().time_limits)
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
        handled_by=intake.taken_by,
        intake_key=intake.intake_key,
        playbook_version=version,
        title=intake.title,
        problem=intake.problem,
    )
    session.add(case)
    session.flush()
    assert case.id is not None
    filled = _roles_filled(session, playbook, intake.roles)
    for number, named in enumerate(intake.materials, start=1):
        for slug in named.chain:  # an unknown agency is refused before anything is kept
            directory.agency_for_case(session, case, slug)
        if named.new_agency is not None:
            added = directory.add_agency(session=session, details=named.new_agency, case=case)
            named = named.model_copy(update={"chain": [*named.chain, added.slug]})
        session.add(
            CaseMaterial(
                case_id=case.id,
                slug=f"{NAMED_MATERIAL_PREFIX}{number}",
                name=named.name,
                position=len(playbook.materials) + number,
                obtained_by=named.obtained_by,
                status=MaterialStatus.PENDING
                if named.obtained_by == "office"
                else MaterialStatus.WAITING_APPLICANT,
                agency_slug=named.chain[0] if named.chain else None,
                chain=list(named.chain),
                asks=named.asks,
            )
        )
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
                agency_slug=filled.get(spec.agencies[0], spec.agencies[0])
                if spec.agencies
                else None,
                chain=[filled.get(slug, slug) for slug in spec.agencies],
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
