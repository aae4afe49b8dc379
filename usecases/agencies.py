"""The district's agency directory, kept by its managers (and at the command line), and the
agencies a clerk adds for one case on the way (an employer found via 114)."""

from __future__ import annotations

from pydantic import BaseModel

from casework import validation
from casework.errors import UserError
from models import directory, lookups
from models.accounts import Actor, require_manager, visible_case
from models.db import read_scope, session_scope
from models.tables import Agency


class AgencyRow(BaseModel):
    slug: str
    name: str
    department: str | None = None
    email: str | None
    phone: str | None
    address: str | None
    office_hours: str | None = None
    notes: str | None = None
    role: bool = False  # filled per case: no channels of its own
    case_number: str | None = None  # added for this case only
    # How many working days it usually takes to answer (reminders wait that long), and how
    # many answers that rests on.
    answers_within_days: int | None = None
    answered: int = 0


class AgencyForm(BaseModel):
    """A directory entry as typed: every value is checked here. None leaves a field as it is
    (when editing); "" clears it."""

    name: str | None = None
    department: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    office_hours: str | None = None
    notes: str | None = None


_TEXTS = {
    "name": ("单位名称", 100),
    "department": ("部门", 60),
    "address": ("地址", 200),
    "office_hours": ("办公时间", 100),
    "notes": ("备注", 500),
}


def checked_agency(form: AgencyForm) -> dict[str, str | None]:
    """The fields typed, checked; an empty value clears the field."""
    values: dict[str, str | None] = {}
    for key, typed in form.model_dump(exclude_none=True).items():
        text = typed.strip()
        if not text:
            if key == "name":
                raise UserError("missing_value", field="单位名称")
            values[key] = None
        elif key == "email":
            values[key] = validation.email(text)
        elif key == "phone":
            values[key] = validation.phone(text)
        else:
            label, most = _TEXTS[key]
            values[key] = validation.free_text(
                text, field=label, max_length=most, multiline=key == "notes"
            )
    return values


def _row(agency: Agency, answered: dict[str, int], case_number: str | None = None) -> AgencyRow:
    return AgencyRow.model_validate(
        {
            **agency.model_dump(),
            "case_number": case_number,
            "answered": answered.get(agency.slug, 0),
        }
    )


def add_agency(
    *, actor: Actor, form: AgencyForm, case_number: str | None = None, distinct: bool = False
) -> AgencyRow:
    """Add an agency to the directory (managers), or for one case (its clerks); its code is
    generated, and without an email it is written to by post. A name the directory (or the
    case) has already, however written, is refused with that entry named unless `distinct`."""
    values = checked_agency(form)
    if not values.get("name"):
        raise UserError("missing_value", field="单位名称")
    details = directory.AgencyDetails.model_validate(values)
    with session_scope() as session:
        case = None
        if case_number is not None:
            case = visible_case(session, actor, case_number)
        else:
            require_manager(actor)
        agency = directory.add_agency(
            session=session, details=details, case=case, distinct=distinct
        )
        return _row(agency, {}, case_number)


def edit_agency(*, actor: Actor, slug: str, form: AgencyForm, distinct: bool = False) -> AgencyRow:
    """Change a directory entry (managers): only the fields typed."""
    require_manager(actor)
    values = checked_agency(form)
    code = validation.slug(slug, field="单位代码")
    with session_scope() as session:
        agency = directory.edit_agency(
            session=session, slug=code, changes=values, distinct=distinct
        )
        return _row(agency, directory.answers_by_agency(session))


def list_agencies() -> list[AgencyRow]:
    """The district's directory, by name."""
    with read_scope() as session:
        answered = directory.answers_by_agency(session)
        return [_row(a, answered) for a in directory.directory(session)]


def agencies_for_case(*, actor: Actor, case_number: str) -> list[AgencyRow]:
    """The agencies a case may ask: the directory's and the case's own (its own first)."""
    with read_scope() as session:
        case = visible_case(session, actor, case_number)
        answered = directory.answers_by_agency(session)
        rows = [
            _row(a, answered, case_number if a.case_id is not None else None)
            for a in directory.agencies_for_case(session, case)
        ]
    return sorted(rows, key=lambda r: r.case_number is None)


def get_agency(slug: str) -> AgencyRow:
    with read_scope() as session:
        agency = lookups.get_agency(session, validation.slug(slug, field="单位代码"))
        return _row(agency, directory.answers_by_agency(session))
