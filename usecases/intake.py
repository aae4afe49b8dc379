"""Intake at the window: a case opened from what the clerk typed, its flow run started."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from casework import validation
from casework.clock import office_date
from casework.errors import UserError
from casework.playbook import (
    FieldKind,
    ObtainedBy,
    Playbook,
    UnknownPlaybook,
)
from casework.settings import get_settings
from models import case_types, intake
from models.accounts import Actor, visible_cases
from models.db import read_scope, session_scope
from models.directory import AgencyDetails
from usecases.agencies import AgencyForm, checked_agency
from usecases.runs import RunNudge, start_case_run


class Need(BaseModel):
    """A material the office obtains for her, as typed: its name, the agency codes to ask in
    order, and what the request letter should ask for."""

    name: str
    agencies: list[str]
    asks: str | None = None
    new_agency: AgencyForm | None = None  # one the directory lacks, added for this case


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
    intake_key: str | None = None
    # The clerk has read the warnings (the same person's open case of this type, a statutory
    # limit already passed) and opens the case anyway.
    confirmed: bool = False
    # A general case (通用疑难事项): a short title, the problem in her words, what the office
    # obtains from which agencies (in the clerk's words), what she brings, its tier and limit.
    title: str | None = None
    problem: str | None = None
    needs: list[Need] = []
    brings: list[str] = []
    tier: str | None = None
    limit_days: str | None = None
    # The agencies that fill the case type's roles for this case (role code → agency code).
    roles: dict[str, str] = {}


# A general case's limit in working days by its tier, unless CASEWORK_TIME_LIMITS says otherwise.
TIER_WORKING_DAYS = {"general": 5, "hard": 10, "complex": 20}
MAX_LIMIT_DAYS = 120


# A date field is an event of a life: none before this day is plausible.
EARLIEST_DATE = date(1900, 1, 1)


class IntakeWarning(BaseModel):
    """Something the clerk should know before the case is opened (and its first letters go)."""

    code: str  # same_case_open, deadline_passed
    case_number: str | None = None  # the open case of the same person and type
    deadline: str | None = None  # the statutory limit's name
    last_day: date | None = None


class NeedsConfirmation(UserError):
    """The intake is valid, but the clerk must confirm the warnings before it opens."""

    def __init__(self, warnings: list[IntakeWarning]) -> None:
        super().__init__("intake_needs_confirmation", count=len(warnings))
        self.warnings = warnings


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


def parse_needs(raw: list[str], asks: dict[str, str]) -> list[Need]:
    """`MATERIAL=AGENCY[,AGENCY…]` as typed on the command line (the agencies to ask, in order),
    with what each letter asks for (`asks`, by material name)."""
    needs = []
    for item in raw:
        material, sep, codes = item.partition("=")
        agencies = [code.strip() for code in codes.split(",") if code.strip()]
        if not sep or not material.strip() or not agencies:
            raise UserError("need_format", value=item[:60])
        needs.append(
            Need(name=material.strip(), agencies=agencies, asks=asks.get(material.strip()))
        )
    unknown = set(asks) - {n.name for n in needs}
    if unknown:
        raise UserError("ask_without_need", material="、".join(sorted(unknown)))
    return needs


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
                raise UserError("future_date", field=spec.label, value=value, key=key)
            if day < EARLIEST_DATE:  # a year typed short (0715 for 2015) or wrong
                raise UserError("date_too_early", field=spec.label, value=value, key=key)
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
            title=case.title or playbook.title,
            promised_by=case.promised_by,
        )


def open_case(*, actor: Actor, form: IntakeForm, as_of: datetime, start: bool = True) -> OpenedCase:
    """Check the intake, open the case in one transaction for the person's office, with them
    as its first-contact clerk (首问责任人), then start its flow run."""
    today = office_date(as_of)
    playbook = current_playbook(form.playbook, as_of)
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
        actor=actor.username,
        office_code=actor.office_code,
        taken_by=None if actor.console else actor.username,
        intake_key=form.intake_key,
        roles={
            validation.slug(role, field="角色代码"): validation.slug(code, field="单位代码")
            for role, code in form.roles.items()
            if code.strip()
        },
        **(_general_route(form, playbook) if playbook.general else {}),
    )
    if not form.confirmed and (found := warnings_for(actor, case_intake, playbook, today)):
        raise NeedsConfirmation(found)
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


def current_playbook(slug: str, as_of: datetime) -> Playbook:
    """A case type at its newest version; UserError("unknown_playbook") for one the office
    does not have."""
    try:
        with session_scope() as session:
            return case_types.current(session, validation.slug(slug, field="事项"), as_of)[0]
    except UnknownPlaybook:
        raise UserError("unknown_playbook", slug=slug[:40]) from None


def _general_route(form: IntakeForm, playbook: Playbook) -> dict[str, object]:
    """A general case's title, problem, limit and materials, checked (nothing is written)."""
    title = validation.free_text(form.title, field="事项标题", max_length=40)
    problem = validation.free_text(form.problem, field="诉求", max_length=1000, multiline=True)
    materials = [
        intake.MaterialIn(
            name=validation.free_text(need.name, field="材料名称", max_length=60) or "",
            chain=[validation.slug(code, field="单位代码") for code in need.agencies],
            asks=validation.free_text(
                need.asks, field="请单位协助的内容", max_length=500, multiline=True, required=False
            ),
            new_agency=_new_agency(need.new_agency),
        )
        for need in form.needs
    ] + [
        intake.MaterialIn(name=validation.free_text(item, field="材料名称", max_length=60) or "")
        for item in form.brings
    ]
    if not materials:
        raise UserError("no_materials")
    for typed, material in zip(form.needs, materials, strict=False):
        if material.obtained_by != "office":
            raise UserError("chain_empty", material=typed.name[:60])
    names = [m.name for m in materials]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UserError("material_twice", material="、".join(twice))
    for material in materials:
        if material.obtained_by == "office" and len(set(material.chain)) != len(material.chain):
            raise UserError("agency_twice", material=material.name)
    tier = form.tier or str(playbook.tier)
    if tier not in TIER_WORKING_DAYS:
        raise UserError("bad_tier", value=tier[:20], choices="/".join(TIER_WORKING_DAYS))
    limit = get_settings().time_limits.get(tier, TIER_WORKING_DAYS[tier])
    if form.limit_days:
        days = form.limit_days.strip()
        if not days.isdigit() or not 1 <= int(days) <= MAX_LIMIT_DAYS:
            raise UserError("limit_days", most=MAX_LIMIT_DAYS)
        limit = int(days)
    return {"title": title, "problem": problem, "materials": materials, "time_limit_days": limit}


def _new_agency(form: AgencyForm | None) -> AgencyDetails | None:
    if form is None:
        return None
    values = checked_agency(form)
    return AgencyDetails.model_validate(values) if values.get("name") else None


def warnings_for(
    actor: Actor, case_intake: intake.CaseIntake, playbook: Playbook, today: date
) -> list[IntakeWarning]:
    """What to confirm before opening: the same person already has this type of case open
    (among the cases this person may see: another office's stays its own), or the statutory
    limit has already passed (the case would be escalated at once)."""
    found = []
    with read_scope() as session:
        same = intake.open_case_of_person(
            session=session,
            id_number=case_intake.applicant.id_number,
            playbook=playbook.slug,
            where=visible_cases(session, actor),
        )
    if same is not None and case_intake.intake_key is not None:
        with read_scope() as session:  # a form submitted twice finds the case it opened
            if intake.opened_by_key(session=session, intake_key=case_intake.intake_key):
                same = None
    if same is not None:
        found.append(IntakeWarning(code="same_case_open", case_number=same))
    if playbook.deadline is not None and playbook.deadline.starts_from in case_intake.fields:
        start = date.fromisoformat(str(case_intake.fields[playbook.deadline.starts_from]))
        last_day = playbook.deadline.last_day(start)
        if last_day < today:
            found.append(
                IntakeWarning(
                    code="deadline_passed", deadline=playbook.deadline.name, last_day=last_day
                )
            )
    return found


class CaseTypeListed(BaseModel):
    playbook: Playbook
    version: int


def playbooks(*, as_of: datetime) -> list[CaseTypeListed]:
    """Every case type the office handles, at its newest version (the general one last)."""
    with session_scope() as session:
        found = [
            CaseTypeListed(playbook=p, version=v)
            for p, v in case_types.all_current(session, as_of).values()
        ]
    return sorted(found, key=lambda t: (t.playbook.general, t.playbook.slug))


def check_playbooks() -> dict[str, list[str]]:
    """Validate every playbook and render each template it uses with sample data."""
    from casework.samples import (
        render_playbook_samples,  # Jinja and the playbooks: this command only
    )

    return render_playbook_samples()


class IntakeField(BaseModel):
    key: str
    label: str
    kind: str  # "date" or "text"
    required: bool


class IntakeSpec(BaseModel):
    """The intake form of one case type, generated from its playbook."""

    playbook: str
    title: str
    fields: list[IntakeField]
    # What the citizen may have brought today: the materials she is to bring (never one the
    # office obtains for her, such as the very certificate being sought).
    brought: list[tuple[str, str]]
    deadline: str | None  # the statutory limit's name, when the case type has one
    general: bool = False  # the clerk writes the route (title, problem, materials)
    tier: str = "hard"
    tiers: list[str] = []
    roles: list[tuple[str, str]] = []  # (code, name) of each role the case names an agency for


def intake_spec(playbook: str, *, as_of: datetime) -> IntakeSpec:
    """The form for a case type; UserError("unknown_playbook") for one the office lacks."""
    spec = current_playbook(playbook, as_of)
    return IntakeSpec(
        playbook=spec.slug,
        title=spec.title,
        fields=[
            IntakeField(key=f.key, label=f.label, kind=str(f.kind), required=f.required)
            for f in spec.fields
        ],
        brought=[(m.slug, m.name) for m in spec.materials if m.obtained_by is ObtainedBy.APPLICANT],
        deadline=spec.deadline.name if spec.deadline else None,
        general=spec.general,
        tier=str(spec.tier),
        tiers=list(TIER_WORKING_DAYS),
        roles=[(a.slug, a.name) for a in spec.agencies if a.role],
    )
