"""The workbench's use cases: the same reading and answering as the CLI, scoped to what the
signed-in account may see and signed with its name."""

from __future__ import annotations

import hmac
from datetime import date, datetime
from pathlib import Path

from pydantic import BaseModel

from casework import validation
from casework.clock import office_date
from casework.errors import UserError
from casework.figures import DailyBoard
from casework.links import status_token
from casework.masking import mask_name
from casework.planning import Action, plan_next_step
from casework.playbook import get_playbook
from casework.settings import get_settings
from casework.workdays import working_days_between
from models import accounts, lifecycle, lookups, reports, views
from models import office_rules as office_rules_model
from models.accounts import AccountView
from models.db import read_scope, session_scope
from models.tables import Applicant, Case, MaterialStatus, Role
from usecases import answers, intake, office_rules, reading, runs
from usecases.answers import AnswerRecorded


def my_cases(*, viewer: AccountView, as_of: datetime) -> list[views.CaseSummary]:
    """The cases this account may see, newest first (overdue and escalated are flagged)."""
    default_office = get_settings().office_code
    with read_scope() as session:
        return views.case_summaries(
            session=session,
            today=office_date(as_of),
            where=accounts.visible_cases(session, viewer, default_office),
        )


def _check_visible(viewer: AccountView, case_number: str) -> None:
    with read_scope() as session:
        if not accounts.may_see(session, viewer, case_number, get_settings().office_code):
            # The same answer as for a case that does not exist: no probing across offices.
            raise UserError("unknown_case", case=case_number[:20])


def case_page(*, viewer: AccountView, case_number: str, as_of: datetime) -> views.CaseDetail:
    _check_visible(viewer, case_number)
    with read_scope() as session:
        return views.case_detail(session=session, case_number=case_number, as_of=as_of)


def awaited_agencies(*, viewer: AccountView, case_number: str) -> list[tuple[str, str, str]]:
    """(agency, agency name, material) for every request the case waits on."""
    _check_visible(viewer, case_number)
    with read_scope() as session:
        view = lookups.case_view(session=session, case_number=case_number)
        return [
            (m.agency_slug, lookups.agency_name(session, m.agency_slug), m.slug)
            for m in view.materials
            if m.open_request is not None and m.agency_slug
        ]


def record_answer(
    *,
    viewer: AccountView,
    case_number: str,
    agency: str,
    outcome: str,
    as_of: datetime,
    material: str | None = None,
    forward_to: str | None = None,
    note: str | None = None,
    via: str = "phone",
) -> AnswerRecorded:
    _check_visible(viewer, case_number)
    return answers.record_answer(
        case_number=case_number,
        agency=agency,
        outcome=outcome,
        as_of=as_of,
        material=material,
        forward_to=forward_to,
        note=note,
        via=via,
        actor=viewer.username,
    )


class CitizenStatus(BaseModel):
    """The citizen's read-only page: nothing personal beyond the masked name."""

    case_number: str
    title: str
    applicant: str  # masked: 沈**
    opened_on: date
    promised_by: date
    closed: bool
    collected: list[str]
    awaited: list[str]
    next_step: str
    clerk: str
    office_name: str
    office_phone: str
    rated: bool = False


# What the citizen reads for the planner's next step: words, never the step's code.
NEXT_STEP_WORDS = {
    Action.DONE: "材料已全部收齐，案件办结",
    Action.CLOSE: "材料已全部收齐，正在办结",
    Action.WAIT: "工作人员正在等待有关单位答复，无需您跑动",
    Action.REQUEST: "工作人员正在向有关单位发函，无需您跑动",
    Action.REMIND: "有关单位尚未答复，工作人员正在催办，无需您跑动",
    Action.ESCALATE: "有关单位尚未答复，已请主管协调，无需您跑动",
    Action.NOTIFY: "案件已受理，正在准备一次性告知书",
}


def citizen_status(*, case_number: str, token: str, as_of: datetime) -> CitizenStatus:
    """The status page behind a notice's QR code; the same error for a wrong case or token."""
    expected = status_token(case_number)
    if not hmac.compare_digest(expected.encode(), token.encode()):
        raise UserError("status_link_unknown")
    with session_scope() as session:
        case = session.get(Case, lookups.get_case(session, case_number).id)
        assert case is not None
        applicant = session.get(Applicant, case.applicant_id)
        view = lookups.case_view(session=session, case_number=case_number)
        contact = accounts.first_contact(session, case)
        due_on = office_rules_model.case_clock(session, case, as_of).due_on
        rated = office_rules_model.rating_of(session, case) is not None
    playbook = get_playbook(case.playbook)
    step = plan_next_step(view, playbook, as_of)
    waiting_applicant = [m for m in view.materials if m.status == MaterialStatus.WAITING_APPLICANT]
    if waiting_applicant:
        next_step = "需要您补充材料，工作人员会电话联系您"
    else:
        next_step = NEXT_STEP_WORDS.get(step.action, "工作人员正在办理")
    return CitizenStatus(
        case_number=case_number,
        title=playbook.title,
        applicant=mask_name(applicant.name if applicant else ""),
        opened_on=office_date(case.opened_at),
        promised_by=due_on,  # the clock's date: later by each paused day and extension
        closed=case.closed_at is not None,
        rated=rated,
        collected=[m.name for m in view.materials if m.status == MaterialStatus.COLLECTED],
        awaited=[m.name for m in view.materials if m.status != MaterialStatus.COLLECTED],
        next_step=next_step,
        clerk=contact.clerk,
        office_name=contact.office_name,
        office_phone=contact.office_phone,
    )


def notice_pdf(*, viewer: AccountView, case_number: str, as_of: datetime) -> bytes:
    _check_visible(viewer, case_number)
    return reading.notice_pdf(case_number=case_number, as_of=as_of)


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
    brought: list[tuple[str, str]]  # materials the applicant may bring today: (code, name)


def intake_spec(playbook: str) -> IntakeSpec:
    spec = get_playbook(validation.slug(playbook, field="事项"))
    return IntakeSpec(
        playbook=spec.slug,
        title=spec.title,
        fields=[
            IntakeField(key=f.key, label=f.label, kind=str(f.kind), required=f.required)
            for f in spec.fields
        ],
        brought=[(m.slug, m.name) for m in spec.materials],
    )


def open_case(
    *, viewer: AccountView, form: intake.IntakeForm, as_of: datetime
) -> intake.OpenedCase:
    """Open the case for this account's office, the account as its first-contact owner."""
    signed = form.model_copy(
        update={
            "office_code": viewer.office_code,
            "taken_by": viewer.username,
            "actor": viewer.username,
        }
    )
    return intake.open_case(form=signed, as_of=as_of)


class Waiting(BaseModel):
    """One agency a case waits on, as the clerk's list shows it."""

    agency_name: str
    material_name: str
    since: date
    working_days: int


def waiting_on(*, rows: list[views.CaseSummary], as_of: datetime) -> dict[str, list[Waiting]]:
    """For each open case of `rows` (my_cases, already scoped to the account): whose answer it
    awaits, since when, how long."""
    today = office_date(as_of)
    found: dict[str, list[Waiting]] = {}
    with session_scope() as session:
        for row in rows:
            if row.status == "closed":
                continue
            view = lookups.case_view(session=session, case_number=row.case_number)
            found[row.case_number] = [
                Waiting(
                    agency_name=lookups.agency_name(session, m.open_request.agency_slug),
                    material_name=m.name,
                    since=office_date(m.open_request.sent_at),
                    working_days=working_days_between(office_date(m.open_request.sent_at), today),
                )
                for m in view.materials
                if m.open_request is not None
            ]
    return found


def _require_manager(viewer: AccountView) -> None:
    if viewer.role is Role.CLERK:
        raise UserError("managers_only")


def board(*, viewer: AccountView, as_of: datetime) -> DailyBoard:
    """The daily board over the cases this manager (or district) sees."""
    _require_manager(viewer)
    visible = {row.case_number for row in my_cases(viewer=viewer, as_of=as_of)}
    with session_scope() as session:
        full = reports.daily_board(session=session, today=office_date(as_of))
    return full.model_copy(
        update={
            "overdue_cases": [c for c in full.overdue_cases if c in visible],
            "overdue_contacts": [c for c in full.overdue_contacts if c.case_number in visible],
            "escalations": [e for e in full.escalations if e.case_number in visible],
            "deadlines_next_30_days": [
                d for d in full.deadlines_next_30_days if d.case_number in visible
            ],
            "letters_to_post": [p for p in full.letters_to_post if p.case_number in visible],
        }
    )


def take_in(
    *,
    viewer: AccountView,
    case_number: str,
    brought: list[str],
    reason: str,
    channel: str,
    note: str | None,
    as_of: datetime,
) -> answers.MaterialsTakenIn:
    """The applicant came (a trip), or materials arrived by post, email or a home visit."""
    _check_visible(viewer, case_number)
    return answers.take_in(
        case_number=case_number,
        brought=brought,
        reason=reason,
        channel=channel,
        note=note,
        as_of=as_of,
        actor=viewer.username,
    )


def record_posting(*, viewer: AccountView, case_number: str, tracking: str, as_of: datetime) -> str:
    """A printed letter was posted with this tracking number; says to whom."""
    _check_visible(viewer, case_number)
    posting = answers.record_posting(case_number=case_number, tracking=tracking, as_of=as_of)
    return posting.agency_name or posting.agency or "—"


def withdraw(*, viewer: AccountView, case_number: str, reason: str, as_of: datetime) -> None:
    """A manager stops the case, with the reason (the citizen is told by the clerk)."""
    _check_visible(viewer, case_number)
    _require_manager(viewer)
    answers.withdraw_case(
        case_number=case_number, reason=reason, as_of=as_of, actor=viewer.username
    )


def reveal(
    *, viewer: AccountView, case_number: str, reason: str, as_of: datetime
) -> dict[str, str | None]:
    """The applicant's details in clear, for a reason written into the audit trail."""
    _check_visible(viewer, case_number)
    text = validation.free_text(reason, field="查看理由", max_length=200)
    assert text is not None
    with session_scope() as session:
        return views.reveal_applicant(
            session=session,
            case_number=case_number,
            reason=text,
            as_of=as_of,
            actor=viewer.username,
        )


def run_links(case_numbers: list[str]) -> dict[str, str]:
    """Each case's flow run in the Prefect UI (for managers who follow a case there)."""
    links = {}
    for number in case_numbers:
        flow_run_id = runs.flow_run_of(number)
        if flow_run_id:
            links[number] = runs.run_url(flow_run_id)
    return links


def add_note(*, viewer: AccountView, case_number: str, text: str, as_of: datetime) -> None:
    """A note on the case, signed and kept in the audit trail (never in Prefect)."""
    _check_visible(viewer, case_number)
    note = validation.free_text(text, field="备注", max_length=1000, multiline=True)
    assert note is not None
    with session_scope() as session:
        lifecycle.add_note(
            session=session,
            case_number=case_number,
            text=note,
            as_of=as_of,
            actor=viewer.username,
        )


def book_appointment(
    *,
    viewer: AccountView,
    case_number: str,
    agency: str,
    at: str,
    escort: str | None,
    pickup: bool,
    as_of: datetime,
) -> answers.AppointmentBooked:
    """An appointment with an agency; the applicant is told and the escort reminded."""
    _check_visible(viewer, case_number)
    return answers.book_appointment(
        case_number=case_number,
        agency=agency,
        at=at.replace("T", " "),
        escort=escort or None,
        pickup=pickup,
        as_of=as_of,
        actor=viewer.username,
    )


def letter(*, viewer: AccountView, case_number: str, contact_id: int) -> Path:
    """The filed letter of one contact of the case, to view and print."""
    _check_visible(viewer, case_number)
    with session_scope() as session:
        found = views.document_of(session=session, case_number=case_number, contact_id=contact_id)
    if found is None or not Path(found).is_file():
        raise UserError("no_letter", case=case_number)
    return Path(found)


# -- the office's rules ----------------------------------------------------------------------


def extend(
    *, viewer: AccountView, case_number: str, days: str, reason: str, as_of: datetime
) -> office_rules.ExtensionApproved:
    """A manager extends the time limit (the citizen gets the extension notice)."""
    _check_visible(viewer, case_number)
    _require_manager(viewer)
    try:
        count = int(days.strip())
    except ValueError:
        raise UserError("extension_days", most=office_rules.MAX_EXTENSION_DAYS) from None
    return office_rules.extend_time_limit(
        case_number=case_number,
        days=count,
        reason=reason,
        as_of=as_of,
        approved_by=viewer.username,
    )


def second_notice(
    *, viewer: AccountView, case_number: str, item: str, reason: str, as_of: datetime
) -> office_rules.SecondNoticeRecorded:
    _check_visible(viewer, case_number)
    return office_rules.record_second_notice(
        case_number=case_number, item=item, reason=reason, as_of=as_of, actor=viewer.username
    )


def rate(
    *,
    viewer: AccountView,
    case_number: str,
    level: str,
    comment: str,
    channel: str,
    as_of: datetime,
) -> office_rules.RatingRecorded:
    """The citizen's rating, taken at the window or by phone and typed in by staff."""
    _check_visible(viewer, case_number)
    if channel not in ("window", "phone"):
        raise UserError("bad_rating_channel", value=channel[:20], choices="window/phone")
    return office_rules.record_rating(
        case_number=case_number,
        level=level,
        comment=comment or None,
        channel=channel,
        as_of=as_of,
        actor=viewer.username,
    )


def follow_up(*, viewer: AccountView, case_number: str, note: str, as_of: datetime) -> None:
    _check_visible(viewer, case_number)
    office_rules.record_follow_up(
        case_number=case_number, note=note, as_of=as_of, actor=viewer.username
    )


def receipt_pdf(*, viewer: AccountView, case_number: str, as_of: datetime) -> bytes:
    _check_visible(viewer, case_number)
    return office_rules.receipt_pdf(case_number=case_number, as_of=as_of)


def citizen_rates(
    *, case_number: str, token: str, level: str, comment: str, as_of: datetime
) -> office_rules.RatingRecorded:
    """The citizen rates her closed case on her status page (the link is her key)."""
    if not hmac.compare_digest(status_token(case_number).encode(), token.encode()):
        raise UserError("status_link_unknown")
    return office_rules.record_rating(
        case_number=case_number,
        level=level,
        comment=comment or None,
        channel="status-page",
        as_of=as_of,
        actor="citizen",
    )
