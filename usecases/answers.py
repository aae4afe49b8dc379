"""Feeding a case: an agency's answer, the applicant's visit or hand-in, an appointment, a
posted letter, a withdrawal. Each is checked, written in one transaction, then the case's flow
run is woken to carry on from the case database."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from casework import validation
from casework.answers import Answer, AnswerChannel, AnswerOutcome, TripReason
from casework.clock import OFFICE_TZ, office_date
from casework.errors import UserError
from models import case_types, incoming, lifecycle, lookups, postal, reply_links, views
from models.accounts import Actor, require_manager, visible_case
from models.db import read_scope, session_scope
from models.tables import CaseStatus, Channel
from usecases.runs import RunNudge, wake_case_run

WITHDRAWAL_LETTER = "common/withdrawal.txt.j2"
# How materials reach the office without the applicant coming to the window.
RECEIPT_CHANNELS = (Channel.POST, Channel.HOME_VISIT, Channel.EMAIL, Channel.PHONE)


class AnswerRecorded(BaseModel):
    case_number: str
    contact_id: int
    agency: str
    agency_name: str
    outcome: AnswerOutcome
    run: RunNudge


class MaterialsTakenIn(BaseModel):
    case_number: str
    trips: int
    at_window: bool
    run: RunNudge | None = None


class AppointmentBooked(BaseModel):
    case_number: str
    appointment_id: int
    agency: str
    agency_name: str
    at: datetime
    run: RunNudge


class CaseWithdrawn(BaseModel):
    case_number: str
    agencies_told: list[str]
    already: bool = False  # withdrawn before (a second submit of the confirmation)
    run: RunNudge | None = None


def _choice(
    value: str, choices: type[AnswerOutcome] | type[AnswerChannel] | type[TripReason], code: str
) -> str:
    allowed = [c.value for c in choices]
    if value not in allowed:
        raise UserError(code, value=value, choices="/".join(allowed))
    return value


def _clerk_channel(via: str) -> AnswerChannel:
    """How a clerk heard the answer; "web" is the agency's own reply page, never typed."""
    allowed = [c.value for c in AnswerChannel if c is not AnswerChannel.WEB]
    if via not in allowed:
        raise UserError("bad_reply_via", value=via, choices="/".join(allowed))
    return AnswerChannel(via)


def record_answer(
    *,
    actor: Actor,
    case_number: str,
    agency: str,
    outcome: str,
    as_of: datetime,
    material: str | None = None,
    forward_to: str | None = None,
    note: str | None = None,
    via: str = "phone",
    tracking: str | None = None,
) -> AnswerRecorded:
    """An agency answered a request (by phone, email, post or in person); "posted" (it sent the
    document by post, `tracking` its number) leaves the material on its way until it arrives."""
    answer = Answer(
        agency=validation.slug(agency, field="单位代码"),
        outcome=AnswerOutcome(_choice(outcome, AnswerOutcome, "bad_outcome")),
        material=validation.slug(material, field="材料代码") if material else None,
        forward_to=validation.slug(forward_to, field="转往单位代码") if forward_to else None,
        note=validation.free_text(
            note, field="备注", max_length=2000, multiline=True, required=False
        )
        or "",
        via=_clerk_channel(via),
        tracking=validation.tracking_number(tracking) if tracking else None,
    )
    with session_scope() as session:
        visible_case(session, actor, case_number)
        contact = incoming.record_answer(
            session=session,
            case_number=case_number,
            answer=answer,
            as_of=as_of,
            actor=actor.username,
        )
        assert contact is not None and contact.id is not None
        contact_id = contact.id
        agency_name = lookups.agency_name(session, answer.agency)
    run = wake_case_run(case_number, as_of=as_of)
    return AnswerRecorded(
        case_number=case_number,
        contact_id=contact_id,
        agency=answer.agency,
        agency_name=agency_name,
        outcome=answer.outcome,
        run=run,
    )


def take_in(
    *,
    actor: Actor,
    case_number: str,
    brought: list[str],
    as_of: datetime,
    reason: str = "material-missing",
    channel: str = "window",
    note: str | None = None,
) -> MaterialsTakenIn:
    """The applicant came to the window (a trip), or materials arrived without one."""
    trip_reason = TripReason(_choice(reason, TripReason, "bad_reason"))
    if channel != Channel.WINDOW and channel not in RECEIPT_CHANNELS:
        raise UserError("bad_via", value=channel)
    text = validation.free_text(note, field="备注", max_length=200, required=False)
    codes = [validation.slug(code, field="材料代码") for code in brought]
    with session_scope() as session:
        visible_case(session, actor, case_number)
        incoming.record_visit(
            session=session,
            case_number=case_number,
            reason=trip_reason,
            brought=codes,
            as_of=as_of,
            channel=Channel(channel),
            note=text,
            actor=actor.username,
        )
        trips = views.case_detail(session=session, case_number=case_number, as_of=as_of).trips
    run = wake_case_run(case_number) if brought else None
    return MaterialsTakenIn(
        case_number=case_number, trips=trips, at_window=channel == Channel.WINDOW, run=run
    )


def book_appointment(
    *,
    actor: Actor,
    case_number: str,
    agency: str,
    at: str,
    as_of: datetime,
    material: str | None = None,
    escort: str | None = None,
    pickup: bool = False,
    applicant_attends: bool = True,
) -> AppointmentBooked:
    """An appointment with an agency (the applicant escorted, perhaps picked up at home)."""
    try:
        moment = datetime.strptime(at.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=OFFICE_TZ)
    except ValueError:
        raise UserError("appointment_format", value=at) from None
    escort_name = validation.person_name(escort) if escort is not None else None
    agency = validation.slug(agency, field="单位代码")
    material = validation.slug(material, field="材料代码") if material else None
    with session_scope() as session:
        visible_case(session, actor, case_number)
        contact = incoming.record_appointment(
            session=session,
            case_number=case_number,
            agency=agency,
            at=moment,
            material=material,
            escort=escort_name,
            pickup=pickup,
            applicant_attends=applicant_attends,
            as_of=as_of,
            actor=actor.username,
        )
        assert contact.id is not None
        appointment_id = contact.id
        agency_name = lookups.agency_name(session, agency)
    run = wake_case_run(case_number)
    return AppointmentBooked(
        case_number=case_number,
        appointment_id=appointment_id,
        agency=agency,
        agency_name=agency_name,
        at=moment,
        run=run,
    )


def record_posting(
    *,
    actor: Actor,
    case_number: str,
    tracking: str,
    as_of: datetime,
    letter_id: int | None = None,
    posted_on: str | None = None,
) -> postal.PostalLetter:
    """A printed letter was posted: its tracking number is kept and its follow-up clock starts."""
    tracking_number = validation.tracking_number(tracking)
    day: date | None = validation.iso_date(posted_on, field="寄出日期") if posted_on else None
    with session_scope() as session:
        visible_case(session, actor, case_number)
        posting = postal.record_posting(
            session=session,
            case_number=case_number,
            tracking_number=tracking_number,
            letter_id=letter_id,
            posted_on=day,
            as_of=as_of,
            actor=actor.username,
        )
        posting.agency_name = lookups.agency_name(session, posting.agency)
    # The follow-up clock starts now: let the case run re-plan (and refresh what managers see).
    wake_case_run(posting.case_number)
    return posting


class WithdrawalPreview(BaseModel):
    """What a withdrawal will do, for the manager to confirm."""

    case_number: str
    title: str
    reason: str
    agencies: list[str]  # told that their request is withdrawn (and their links close)


def withdrawal_preview(*, actor: Actor, case_number: str, reason: str) -> WithdrawalPreview:
    """Check the withdrawal can be made and say what it will do; nothing is written."""
    require_manager(actor)
    text = validation.free_text(reason, field="终止原因", max_length=500) or ""
    with read_scope() as session:
        case = visible_case(session, actor, case_number)
        if case.status == CaseStatus.WITHDRAWN:
            raise UserError("already_withdrawn", case=case_number)
        if case.closed_at is not None:
            raise UserError("case_closed", case=case_number)
        agencies = [
            lookups.agency_name(session, r.agency_slug)
            for r in lifecycle.open_requests(session, case)
        ]
        title = case_types.case_title(session, case)
    return WithdrawalPreview(
        case_number=case_number,
        title=title,
        reason=text,
        agencies=agencies,
    )


def withdraw_case(*, actor: Actor, case_number: str, reason: str, as_of: datetime) -> CaseWithdrawn:
    """A manager stops a case that cannot or need not be completed, with the reason: it ends
    as withdrawn, and each agency still asked for something is told (email, or a letter by
    post) and its reply link closes. Confirmed twice (a double submit), it withdraws once."""
    from tasks.render import file_letter, render_for_case

    require_manager(actor)
    text = validation.free_text(reason, field="终止原因", max_length=500)
    assert text is not None
    with read_scope() as session:
        case = visible_case(session, actor, case_number)
        if case.status == CaseStatus.WITHDRAWN:
            return CaseWithdrawn(case_number=case_number, agencies_told=[], already=True)
        waiting = [
            (r.id or 0, r.agency_slug or "", r.material_slug or "", r.left_office_at)
            for r in lifecycle.open_requests(session, case)
        ]
        extras = {
            request_id: {
                "agency": lookups.get_agency(session, agency),
                "material_name": lookups.material_of(session, case, material).name,
                "requested_on": office_date(sent),
            }
            for request_id, agency, material, sent in waiting
        }
    notices = {
        request_id: render_for_case(WITHDRAWAL_LETTER, case_number, as_of, **extra)
        for request_id, extra in extras.items()
    }
    try:
        with session_scope() as session:
            told = lifecycle.withdraw_case(
                session=session,
                case_number=case_number,
                reason=text,
                as_of=as_of,
                actor=actor.username,
                notices=notices,
            )
            names = [lookups.agency_name(session, c.agency_slug) for c in told]
    except UserError as exc:
        if exc.code == "already_withdrawn":  # the other submit of the same confirmation won
            return CaseWithdrawn(case_number=case_number, agencies_told=[], already=True)
        raise
    for contact in told:
        extra = extras[contact.in_reply_to or 0]
        file_letter(
            case_number,
            contact,
            notices[contact.in_reply_to or 0],
            as_of,
            WITHDRAWAL_LETTER,
            **extra,
        )
    return CaseWithdrawn(
        case_number=case_number, agencies_told=names, run=wake_case_run(case_number)
    )


class ArrivalConfirmed(BaseModel):
    case_number: str
    material_name: str
    run: RunNudge


def confirm_arrival(
    *, actor: Actor, case_number: str, material: str, as_of: datetime
) -> ArrivalConfirmed:
    """What an agency posted has arrived at the office: the material is in."""
    slug = validation.slug(material, field="材料代码")
    with session_scope() as session:
        visible_case(session, actor, case_number)
        arrived = incoming.confirm_arrival(
            session=session,
            case_number=case_number,
            material_slug=slug,
            as_of=as_of,
            actor=actor.username,
        )
        name = arrived.name
    return ArrivalConfirmed(
        case_number=case_number, material_name=name, run=wake_case_run(case_number)
    )


def add_note(*, actor: Actor, case_number: str, text: str, as_of: datetime) -> None:
    """A note on the case, signed and kept in the audit trail (never in Prefect)."""
    note = validation.free_text(text, field="备注", max_length=1000, multiline=True)
    assert note is not None
    with session_scope() as session:
        visible_case(session, actor, case_number)
        lifecycle.add_note(
            session=session, case_number=case_number, text=note, as_of=as_of, actor=actor.username
        )


def late_answer_seen(*, actor: Actor, case_number: str, contact_id: int, as_of: datetime) -> None:
    """The clerk has looked at an agency's later answer (and called it back if need be)."""
    with session_scope() as session:
        visible_case(session, actor, case_number)
        reply_links.late_answer_seen(
            session=session,
            case_number=case_number,
            contact_id=contact_id,
            as_of=as_of,
            actor=actor.username,
        )


def mark_printed(
    *, actor: Actor, case_number: str, letter_id: int, printed: bool, as_of: datetime
) -> None:
    """Tick a letter to post as printed (or take the tick back)."""
    with session_scope() as session:
        visible_case(session, actor, case_number)
        postal.mark_printed(
            session=session,
            case_number=case_number,
            letter_id=letter_id,
            printed=printed,
            as_of=as_of,
            actor=actor.username,
        )
