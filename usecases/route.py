"""The route of any case, changed on the way: a material it now needs (obtained by the office
from agencies, or brought by the citizen: then it is a second notice, 二次告知), an agency
added to a material's chain, a material waived (managers), the case handed to a colleague. Each
is checked, written in one transaction with its audit row, then the case's run is woken."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from casework import validation
from casework.errors import UserError
from models import directory, lookups, route
from models.accounts import Actor, require_manager, visible_case
from models.db import session_scope
from usecases.agencies import AgencyForm, checked_agency
from usecases.office_rules import record_second_notice
from usecases.runs import RunNudge, wake_case_run


class RouteChanged(BaseModel):
    case_number: str
    material: str  # the material's code (need-N, extra-N)
    material_name: str
    run: RunNudge | None = None


def need(
    *,
    actor: Actor,
    case_number: str,
    material: str,
    as_of: datetime,
    agencies: list[str] | None = None,
    asks: str | None = None,
    from_applicant: bool = False,
    reason: str | None = None,
) -> RouteChanged:
    """A material the case now needs: the office asks `agencies` for it in order, or the
    citizen brings it (a second notice: why the one-time notice did not list it)."""
    name = validation.free_text(material, field="材料名称", max_length=60) or ""
    if from_applicant:
        if agencies:
            raise UserError("need_one_way")
        noticed = record_second_notice(
            actor=actor, case_number=case_number, item=name, reason=reason or "", as_of=as_of
        )
        return RouteChanged(
            case_number=case_number, material=noticed.material, material_name=noticed.item
        )
    chain = [validation.slug(code, field="单位代码") for code in agencies or []]
    if len(set(chain)) != len(chain):
        raise UserError("agency_twice", material=name)
    words = validation.free_text(
        asks, field="请单位协助的内容", max_length=500, multiline=True, required=False
    )
    with session_scope() as session:
        visible_case(session, actor, case_number)
        added = route.add_office_material(
            session=session,
            case_number=case_number,
            name=name,
            chain=chain,
            asks=words,
            as_of=as_of,
            actor=actor.username,
        )
        slug = added.slug
    return RouteChanged(
        case_number=case_number,
        material=slug,
        material_name=name,
        run=wake_case_run(case_number),
    )


def add_agency_to_chain(
    *, actor: Actor, case_number: str, material: str, agency: str, as_of: datetime
) -> RouteChanged:
    """One more agency to ask for a material."""
    with session_scope() as session:
        visible_case(session, actor, case_number)
        changed = route.add_to_chain(
            session=session,
            case_number=case_number,
            material_slug=validation.code_or_name(material, field="材料"),
            agency=validation.slug(agency, field="单位代码"),
            as_of=as_of,
            actor=actor.username,
        )
        name = changed.name
    return RouteChanged(
        case_number=case_number,
        material=material,
        material_name=name,
        run=wake_case_run(case_number),
    )


def waive(
    *, actor: Actor, case_number: str, material: str, reason: str, as_of: datetime
) -> RouteChanged:
    """A manager decides the case can do without a material, with the reason."""
    require_manager(actor)
    why = validation.free_text(reason, field="免收理由", max_length=300) or ""
    with session_scope() as session:
        visible_case(session, actor, case_number)
        waived = route.waive(
            session=session,
            case_number=case_number,
            material_slug=validation.code_or_name(material, field="材料"),
            reason=why,
            as_of=as_of,
            actor=actor.username,
        )
        name = waived.name
    return RouteChanged(
        case_number=case_number,
        material=material,
        material_name=name,
        run=wake_case_run(case_number),
    )


class HandedOver(BaseModel):
    case_number: str
    from_name: str
    to_name: str


def hand_over(*, actor: Actor, case_number: str, to: str, as_of: datetime) -> HandedOver:
    """The case goes to a colleague of the same office (轮值): they handle it and sign its
    letters from now on; the first-contact clerk stays."""
    with session_scope() as session:
        visible_case(session, actor, case_number)
        giver, taker = route.hand_over(
            session=session,
            case_number=case_number,
            to=validation.slug(to, field="用户名"),
            as_of=as_of,
            actor=actor.username,
        )
    wake_case_run(case_number)  # the view managers read names the new handler's office
    return HandedOver(case_number=case_number, from_name=giver, to_name=taker)


class RoleFilled(BaseModel):
    case_number: str
    role_name: str
    agency_name: str
    run: RunNudge | None = None


def fill_role(
    *, actor: Actor, case_number: str, role: str, agency: str, as_of: datetime
) -> RoleFilled:
    """Name the agency that fills a role of the case type for this case (the retiree's own
    former employer): the letters waiting for it go to that agency."""
    with session_scope() as session:
        visible_case(session, actor, case_number)
        code = validation.slug(agency, field="单位代码")
        role_name = route.fill_role(
            session=session,
            case_number=case_number,
            role=validation.code_or_name(role, field="待指定的单位"),
            agency=code,
            as_of=as_of,
            actor=actor.username,
        )
        name = lookups.agency_name(session, code)
    return RoleFilled(
        case_number=case_number,
        role_name=role_name,
        agency_name=name,
        run=wake_case_run(case_number),
    )


class AgencyAdded(BaseModel):
    case_number: str
    agency: str
    agency_name: str
    material_name: str | None = None  # the material whose chain it joined
    run: RunNudge | None = None


def add_case_agency(
    *,
    actor: Actor,
    case_number: str,
    form: AgencyForm,
    material: str | None,
    as_of: datetime,
    distinct: bool = False,
) -> AgencyAdded:
    """An agency found on the way, added for this case (the directory is the managers'), and
    asked for a material after the ones before it when one is given: in one transaction, so a
    refused material leaves no agency behind."""
    values = checked_agency(form)
    if not values.get("name"):
        raise UserError("missing_value", field="单位名称")
    details = directory.AgencyDetails.model_validate(values)
    with session_scope() as session:
        case = visible_case(session, actor, case_number)
        if case.closed_at is not None:
            raise UserError("case_closed", case=case_number)
        added = directory.add_agency(session=session, details=details, case=case, distinct=distinct)
        name = None
        if material:
            name = route.add_to_chain(
                session=session,
                case_number=case_number,
                material_slug=validation.code_or_name(material, field="材料"),
                agency=added.slug,
                as_of=as_of,
                actor=actor.username,
            ).name
        slug, agency_name = added.slug, added.name
    return AgencyAdded(
        case_number=case_number,
        agency=slug,
        agency_name=agency_name,
        material_name=name,
        run=wake_case_run(case_number) if material else None,
    )
