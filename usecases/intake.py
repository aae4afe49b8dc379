"""Intake at the window: a case opened from what the clerk typed, its flow run started."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from casework import validation
from casework.clock import office_date
from casework.errors import UserError
from casework.playbook import FieldKind, Playbook, all_playbooks, get_playbook
from models import intake
from models.db import session_scope
from usecases.runs import RunNudge, start_case_run


class IntakeForm(BaseModel):
    """What the clerk typed at intake, as typed: every value is checked here."""

    playbook: str
    name: str
    id_number: str
    phone: str
    email: str | None = None
    address: str | None = None
    fields: dict[str, str] = {}
    brought: list[str] = []
    letter_lang: str = "zh"
    actor: str = "staff"
    office_code: str | None = None  # set by the workbench from the signed-in account
    taken_by: str | None = None
    intake_key: str | None = None


class OpenedCase(BaseModel):
    case_number: str
    playbook: str
    title: str
    promised_by: date
    run: RunNudge | None = None


def parse_field_pairs(raw: list[str]) -> dict[str, str]:
    """`KEY=VALUE` pairs as typed on the command line."""
    values: dict[str, str] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError("field_format", value=item[:60])
        values[key.strip()] = value
    return values


def _check_fields(playbook: Playbook, raw: dict[str, str], today: date) -> dict[str, str]:
    known = {f.key: f for f in playbook.fields}
    values: dict[str, str] = {}
    for key, value in raw.items():
        if key not in known:
            raise UserError("unknown_field", key=key, known=", ".join(known))
        spec = known[key]
        if spec.kind is FieldKind.DATE:
            day = validation.iso_date(value, field=spec.label)
            if day > today:
                raise UserError("future_date", field=spec.label, value=value)
            values[key] = day.isoformat()
        else:
            text = validation.free_text(value, field=spec.label, max_length=200)
            assert text is not None
            values[key] = text
    for spec in playbook.fields:
        if spec.required and spec.key not in values:
            raise UserError("missing_field", key=spec.key, label=spec.label)
    return values


def _open(case_intake: intake.CaseIntake, playbook: Playbook, as_of: datetime) -> OpenedCase:
    with session_scope() as session:
        case = intake.open_case(session=session, intake=case_intake, as_of=as_of)
        return OpenedCase(
            case_number=case.number,
            playbook=playbook.slug,
            title=playbook.title,
            promised_by=case.promised_by,
        )


def open_case(*, form: IntakeForm, as_of: datetime, start: bool = True) -> OpenedCase:
    """Check the intake, open the case in one transaction, then start its flow run."""
    today = office_date(as_of)
    playbook = get_playbook(form.playbook)
    case_intake = intake.CaseIntake(
        playbook=playbook.slug,
        applicant=intake.ApplicantIn(
            name=validation.person_name(form.name),
            id_number=validation.resident_id(form.id_number, today=today),
            phone=validation.phone(form.phone),
            email=validation.email(form.email) if form.email else None,
            address=validation.free_text(
                form.address, field="地址", max_length=200, required=False
            ),
        ),
        fields=_check_fields(playbook, form.fields, today),
        brought=[validation.slug(code, field="材料代码") for code in form.brought],
        letter_lang=validation.letter_language(form.letter_lang),
        actor=form.actor,
        office_code=form.office_code,
        taken_by=form.taken_by,
        intake_key=form.intake_key,
    )
    try:
        opened = _open(case_intake, playbook, as_of)
    except IntegrityError:
        # The same form, submitted twice at once, on PostgreSQL: the other submit opened it.
        if form.intake_key is None:
            raise
        opened = _open(case_intake, playbook, as_of)
    if start:
        opened.run = start_case_run(opened.case_number, playbook.slug)
    return opened


def playbooks() -> list[Playbook]:
    """Every case type the office handles."""
    return list(all_playbooks().values())


def check_playbooks() -> dict[str, list[str]]:
    """Validate every playbook and render each template it uses with sample data."""
    from casework.samples import (
        render_playbook_samples,  # Jinja and the playbooks: this command only
    )

    return render_playbook_samples()
