"""Feeding a case: an agency's answer, the applicant's visit or hand-in, an appointment, a
posted letter, a withdrawal. Each is checked, written in one transaction, then the case's flow
run is woken to carry on from the case database."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from casework import validation
from casework.clock import OFFICE_TZ
from casework.errors import UserError
from casework.replies import Reply, ReplyChannel, ReplyOutcome, TripReason
from models import incoming, lifecycle, lookups, postal, views
from models.db import session_scope
from models.tables import Channel
from usecases.runs import RunNudge, wake_case_run

# How materials reach the office without the applicant coming to the window.
RECEIPT_CHANNELS = (Channel.POST, Channel.HOME_VISIT, Channel.EMAIL, Channel.PHONE)


class AnswerRecorded(BaseModel):
    case_number: str
    contact_id: int
    agency: str
    agency_name: str
    outcome: ReplyOutcome
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
    run: RunNudge


def _choice(
    value: str, choices: type[ReplyOutcome] | type[ReplyChannel] | type[TripReason], code: str
) -> str:
    allowed = [c.value for c in choices]
    if value not in allowed:
        raise UserError(code, value=value, choices="/".join(allowed))
    return value


def _clerk_channel(via: str) -> ReplyChannel:
    """How a clerk heard the answer; "web" is the agency's own reply page, never typed."""
    allowed = [c.value for c in ReplyChannel if c is not ReplyChannel.WEB]
    if via not in allowed:
        raise UserError("bad_reply_via", value=via, choices="/".join(allowed))
    return ReplyChannel(via)


def record_answer(
    *,
    case_number: str,
    agency: str,
    outcome: str,
    as_of: datetime,
    material: str | None = None,
    forward_to: str | None = None,
    note: str | None = None,
    via: str = "phone",
    actor: str = "staff",
) -> AnswerRecorded:
    """An agency answered a request (by phone, email, post or in person)."""
    answer = Reply(
        agency=validation.slug(agency, field="单位代码"),
        outcome=ReplyOutcome(_choice(outcome, ReplyOutcome, "bad_outcome")),
        material=validation.slug(material, field="材料代码") if material else None,
        forward_to=validation.slug(forward_to, field="转往单位代码") if forward_to else None,
        note=validation.free_text(
            note, field="备注", max_length=2000, multiline=True, required=False
        )
        or "",
        via=_clerk_channel(via),
    )
    with session_scope() as session:
        contact = incoming.record_reply(
            session=session, case_number=case_number, reply=answer, as_of=as_of, actor=actor
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
    case_number: str,
    brought: list[str],
    as_of: datetime,
    reason: str = "material-missing",
    channel: str = "window",
    note: str | None = None,
    actor: str = "staff",
) -> MaterialsTakenIn:
    """The applicant came to the window (a trip), or materials arrived without one."""
    trip_reason = TripReason(_choice(reason, TripReason, "bad_reason"))
    if channel != Channel.WINDOW and channel not in RECEIPT_CHANNELS:
        raise UserError("bad_via", value=channel)
    text = validation.free_text(note, field="备注", max_length=200, required=False)
    codes = [validation.slug(code, field="材料代码") for code in brought]
    with session_scope() as session:
        incoming.record_visit(
            session=session,
            case_number=case_number,
            reason=trip_reason,
            brought=codes,
            as_of=as_of,
            channel=Channel(channel),
            note=text,
            actor=actor,
        )
        trips = views.case_detail(session=session, case_number=case_number, as_of=as_of).trips
    run = wake_case_run(case_number) if brought else None
    return MaterialsTakenIn(
        case_number=case_number, trips=trips, at_window=channel == Channel.WINDOW, run=run
    )


def book_appointment(
    *,
    case_number: str,
    agency: str,
    at: str,
    as_of: datetime,
    material: str | None = None,
    escort: str | None = None,
    pickup: bool = False,
    applicant_attends: bool = True,
    actor: str = "staff",
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
            actor=actor,
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
        posting = postal.record_posting(
            session=session,
            case_number=case_number,
            tracking_number=tracking_number,
            letter_id=letter_id,
            posted_on=day,
            as_of=as_of,
        )
        posting.agency_name = lookups.agency_name(session, posting.agency)
    # The follow-up clock starts now: let the case run re-plan (and refresh what managers see).
    wake_case_run(posting.case_number)
    return posting


def withdraw_case(
    *, case_number: str, reason: str, as_of: datetime, actor: str = "staff"
) -> CaseWithdrawn:
    """A manager stops a case that cannot or need not be completed, with the reason."""
    text = validation.free_text(reason, field="终止原因", max_length=500)
    assert text is not None
    with session_scope() as session:
        lifecycle.withdraw_case(
            session=session, case_number=case_number, reason=text, as_of=as_of, actor=actor
        )
    return CaseWithdrawn(case_number=case_number, run=wake_case_run(case_number))
