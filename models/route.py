"""A case's route changing on the way: a material it now needs (from agencies, or from the
citizen: a second notice does that), an agency added to a material's chain, a material waived,
the case handed to a colleague. Each is written with its audit row; the run picks it up when
woken, and nothing in flight is lost or sent twice (the requests already sent keep their keys)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from casework.errors import UserError
from casework.settings import get_settings
from models import directory
from models.accounts import actor_of
from models.incoming import extend_chain
from models.intake import NAMED_MATERIAL_PREFIX
from models.lookups import agency_name, get_case, material_of, materials_of
from models.tables import MATERIAL_DONE, Agency, Case, CaseMaterial, EventKind, MaterialStatus, Role
from models.transitions import record_event, refresh_status


def _open_case(session: Session, case_number: str) -> Case:
    case = get_case(session, case_number, lock=True)
    if case.closed_at is not None:
        raise UserError("case_closed", case=case_number)
    return case


def _next_slug(session: Session, case: Case) -> tuple[str, int]:
    existing = list(session.exec(select(CaseMaterial).where(CaseMaterial.case_id == case.id)))
    names = {m.slug for m in existing}
    number = 1
    while f"{NAMED_MATERIAL_PREFIX}{number}" in names:
        number += 1
    return f"{NAMED_MATERIAL_PREFIX}{number}", max((m.position for m in existing), default=-1) + 1


def add_office_material(
    *,
    session: Session,
    case_number: str,
    name: str,
    chain: list[str],
    asks: str | None,
    as_of: datetime,
    actor: str,
) -> CaseMaterial:
    """A material the case now needs, obtained by the office from these agencies in order."""
    case = _open_case(session, case_number)
    assert case.id is not None
    if not chain:
        raise UserError("chain_empty", material=name)
    for slug in chain:
        directory.agency_for_case(session, case, slug)
    taken = {
        m.name for m in session.exec(select(CaseMaterial).where(CaseMaterial.case_id == case.id))
    }
    if name in taken:
        raise UserError("material_twice", material=name)
    slug, position = _next_slug(session, case)
    material = CaseMaterial(
        case_id=case.id,
        slug=slug,
        name=name,
        position=position,
        obtained_by="office",
        status=MaterialStatus.PENDING,
        agency_slug=chain[0],
        chain=list(chain),
        asks=asks,
    )
    session.add(material)
    record_event(
        session,
        case,
        EventKind.MATERIAL_ADDED,
        as_of,
        detail=f"{name}：" + " → ".join(agency_name(session, a) for a in chain),
        actor=actor,
    )
    refresh_status(session, case, as_of, actor)
    return material


def add_to_chain(
    *,
    session: Session,
    case_number: str,
    material_slug: str,
    agency: str,
    as_of: datetime,
    actor: str,
) -> CaseMaterial:
    """One more agency to ask for a material, after the others (the next one asked when the
    ones before have no record). A material that had run out of agencies asks it at once."""
    case = _open_case(session, case_number)
    material = material_of(session, case, material_slug)
    if material.obtained_by != "office":
        raise UserError("not_an_office_material", material=material.name)
    directory.agency_for_case(session, case, agency)
    if not extend_chain(material, agency, after=None):
        raise UserError(
            "agency_in_chain", agency=agency_name(session, agency), material=material.name
        )
    if material.status == MaterialStatus.PENDING and material.agency_slug is None:
        material.agency_slug = agency  # it had run out of agencies: this one is asked now
    session.add(material)
    record_event(
        session,
        case,
        EventKind.AGENCY_ADDED,
        as_of,
        detail=f"{material.name}：{agency_name(session, agency)}",
        actor=actor,
    )
    return material


def waive(
    *,
    session: Session,
    case_number: str,
    material_slug: str,
    reason: str,
    as_of: datetime,
    actor: str,
) -> CaseMaterial:
    """A manager decides the case can do without a material, and says why."""
    case = _open_case(session, case_number)
    material = material_of(session, case, material_slug)
    if material.status in MATERIAL_DONE:
        raise UserError("material_done", material=material.name)
    material.status = MaterialStatus.WAIVED
    material.waived_reason = reason
    session.add(material)
    record_event(
        session,
        case,
        EventKind.MATERIAL_WAIVED,
        as_of,
        detail=f"{material.name}：{reason}",
        actor=actor,
    )
    refresh_status(session, case, as_of, actor)
    return material


def hand_over(
    *, session: Session, case_number: str, to: str, as_of: datetime, actor: str
) -> tuple[str, str]:
    """The case goes to a colleague of its office: they handle it (and sign its letters) from
    now on; its first-contact clerk (首问责任人) stays who took it in. (from, to) by name."""
    case = _open_case(session, case_number)
    colleague = actor_of(session=session, username=to)
    if colleague is None or colleague.role is Role.DISTRICT:
        raise UserError("no_such_colleague", username=to)
    if (case.office_code or get_settings().office_code) != colleague.office_code:
        raise UserError("other_office_colleague", name=colleague.display_name)
    before = actor_of(session=session, username=case.handled_by or case.taken_by or "")
    if case.handled_by == colleague.username:
        raise UserError("handles_already", name=colleague.display_name)
    case.handled_by = colleague.username
    session.add(case)
    giver = before.display_name if before else "—"
    record_event(
        session,
        case,
        EventKind.HANDED_OVER,
        as_of,
        detail=f"{giver} → {colleague.display_name}",
        actor=actor,
    )
    return giver, colleague.display_name


def fill_role(
    *, session: Session, case_number: str, role: str, agency: str, as_of: datetime, actor: str
) -> str:
    """Name the agency that fills a role of the case type for this case (原单位人事部门 → the
    employer found): every material asking the role asks it instead. The role's name."""
    case = _open_case(session, case_number)
    awaited = {
        slug
        for m in materials_of(session, case)
        if m.status not in MATERIAL_DONE
        for slug in m.chain
    }
    roles = [a for a in session.exec(select(Agency).where(col(Agency.role))) if a.slug in awaited]
    role_row = next((a for a in roles if role in (a.slug, a.name)), None)
    if role_row is None:
        raise UserError("not_a_role", role=role[:40], roles="、".join(a.name for a in roles) or "—")
    role = role_row.slug
    filler = directory.agency_for_case(session, case, agency)
    changed = []
    for material in materials_of(session, case):
        if role not in material.chain or material.status in MATERIAL_DONE:
            continue
        material.chain = [agency if slug == role else slug for slug in material.chain]
        if material.agency_slug == role:
            material.agency_slug = agency
        session.add(material)
        changed.append(material.name)
    if not changed:
        raise UserError("role_not_awaited", role=role_row.name)
    record_event(
        session,
        case,
        EventKind.AGENCY_ADDED,
        as_of,
        detail=f"{role_row.name}：{filler.name}（{'、'.join(changed)}）",
        actor=actor,
    )
    return role_row.name
