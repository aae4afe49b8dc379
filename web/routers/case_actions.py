"""What a clerk records on a case page: an agency's answer, materials taken in or arrived by
post, a posted letter, a note, an appointment, a second notice, a rating and its follow-up, a
later answer checked; and a manager's extension and withdrawal. Each route takes the form (its
CSRF token checked, the case one the person may see: `OnCase`), calls one use case and goes
back to the case page: with what was done, or with the mistake beside the form it came from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response

from casework.errors import UserError
from casework.messages import label
from casework.templating import written_date, written_time
from usecases import answers, office_rules, reading
from web.case_page import OnCase, case_page
from web.deps import Manager, RecordId
from web.pages import render

router = APIRouter(prefix="/cases/{case_number}")
Text = Annotated[str, Form()]


@router.post("/answer")
def record_answer(
    on: OnCase,
    agency: Text = "",
    outcome: Text = "",
    forward_to: Text = "",
    note: Text = "",
    via: Text = "phone",
    tracking: Text = "",
) -> Response:
    def record() -> str:
        recorded = answers.record_answer(
            actor=on.person,
            case_number=on.case_number,
            agency=agency,
            outcome=outcome,
            forward_to=forward_to or None,
            note=note or None,
            via=via,
            tracking=tracking or None,
            as_of=on.as_of,
        )
        return f"{recorded.agency_name}：{label('outcome', recorded.outcome, on.lang)}"

    form = {
        "agency": agency,
        "outcome": outcome,
        "forward_to": forward_to,
        "note": note,
        "via": via,
        "tracking": tracking,
    }
    return on.respond("answer", form, record)


@router.post("/visit")
def take_in(
    on: OnCase,
    brought: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies it per request)
    channel: Text = "window",
    reason: Text = "material-missing",
    note: Text = "",
) -> Response:
    """Materials brought to the window (a trip) or arrived by post, email or a home visit."""

    def record() -> str:
        answers.take_in(
            actor=on.person,
            case_number=on.case_number,
            brought=brought,
            reason=reason,
            channel=channel,
            note=note or None,
            as_of=on.as_of,
        )
        return on.words("收到材料／来访")

    form = {"brought": brought, "channel": channel, "reason": reason, "visit_note": note}
    return on.respond("visit", form, record)


@router.post("/arrived")
def material_arrived(on: OnCase, material: Text = "") -> Response:
    """What an agency posted has reached the office (or the citizen)."""

    def record() -> str:
        done = answers.confirm_arrival(
            actor=on.person, case_number=on.case_number, material=material, as_of=on.as_of
        )
        return on.words("已收到寄来的材料：{what}", what=done.material_name)

    return on.respond("arrived", {}, record)


@router.post("/posting")
def record_posting(on: OnCase, tracking: Text = "", letter: Text = "", back: Text = "") -> Response:
    """A printed letter was posted (from the case page, or the print queue: `back`)."""

    def record() -> str:
        posting = answers.record_posting(
            actor=on.person,
            case_number=on.case_number,
            tracking=tracking,
            letter_id=int(letter) if letter.strip().isdigit() and len(letter) < 10 else None,
            as_of=on.as_of,
        )
        return on.words(
            "致{to}的信函已寄出：{tracking}",
            to=posting.agency_name or on.words("申请人"),
            tracking=posting.tracking_number,
        )

    if back == "print":
        from web.routers.print_queue import queue_page

        try:
            done = record()
        except UserError as exc:
            return queue_page(on.request, on.person, failed=(letter, exc), status=400)
        return on.back_to("/print", done)
    return on.respond("posting", {"tracking": tracking}, record)


@router.post("/note")
def add_note(on: OnCase, text: Text = "") -> Response:
    def record() -> str:
        answers.add_note(actor=on.person, case_number=on.case_number, text=text, as_of=on.as_of)
        return on.words("备注已记录")

    return on.respond("note", {"text": text}, record)


@router.post("/appointment")
def book_appointment(
    on: OnCase, agency: Text = "", at: Text = "", escort: Text = "", pickup: Text = ""
) -> Response:
    def record() -> str:
        booked = answers.book_appointment(
            actor=on.person,
            case_number=on.case_number,
            agency=agency,
            at=at.replace("T", " "),
            escort=escort or None,
            pickup=pickup == "on",
            as_of=on.as_of,
        )
        when = written_time(booked.at, on.lang)
        return on.words("已预约：{agency} {at}", agency=booked.agency_name, at=when)

    return on.respond("appointment", {"appt_agency": agency, "at": at, "escort": escort}, record)


@router.post("/reveal")
def reveal(on: OnCase, reason: Text = "") -> Response:
    """The applicant's details in clear, for a reason the audit trail keeps."""
    try:
        revealed = reading.reveal(
            actor=on.person, case_number=on.case_number, reason=reason, as_of=on.as_of
        )
    except UserError as exc:
        return case_page(on.request, on.person, on.case_number, status=400, failed=("reveal", exc))
    return render(
        on.request,
        "revealed.html.j2",
        viewer=on.person,
        case_number=on.case_number,
        revealed=revealed,
    )


@router.post("/extend")
def extend(on: OnCase, _manager: Manager, days: Text = "", reason: Text = "") -> Response:
    def record() -> str:
        count = int(days.strip()) if days.strip().isdigit() and len(days.strip()) < 4 else 0
        done = office_rules.extend_time_limit(
            actor=on.person, case_number=on.case_number, days=count, reason=reason, as_of=on.as_of
        )
        return on.words(
            "已延期{days}个工作日，应办结日由{before}改为{due}",
            days=done.days,
            before=written_date(done.due_before, on.lang),
            due=written_date(done.due_on, on.lang),
        )

    return on.respond("extend", {"days": days, "extend_reason": reason}, record)


@router.post("/second-notice")
def second_notice(on: OnCase, item: Text = "", reason: Text = "") -> Response:
    def record() -> str:
        done = office_rules.record_second_notice(
            actor=on.person, case_number=on.case_number, item=item, reason=reason, as_of=on.as_of
        )
        return on.words("已二次告知：{item}", item=done.item)

    return on.respond("second-notice", {"item": item, "second_reason": reason}, record)


@router.post("/rating")
def rating(on: OnCase, level: Text = "", comment: Text = "", channel: Text = "window") -> Response:
    def record() -> str:
        done = office_rules.record_rating(
            actor=on.person,
            case_number=on.case_number,
            level=level,
            comment=comment,
            channel=channel,
            as_of=on.as_of,
        )
        return on.words("已记录评价：{words}", words=label("rating", done.level, on.lang))

    return on.respond("rating", {"comment": comment}, record)


@router.post("/follow-up")
def follow_up(on: OnCase, note: Text = "") -> Response:
    def record() -> str:
        office_rules.record_follow_up(
            actor=on.person, case_number=on.case_number, note=note, as_of=on.as_of
        )
        return on.words("已记录回访")

    return on.respond("follow-up", {"follow_note": note}, record)


@router.post("/late-answers/{contact_id}/seen")
def late_answer_seen(on: OnCase, contact_id: RecordId) -> Response:
    """The clerk has looked at an agency's later answer (and called it back if need be)."""

    def record() -> str:
        answers.late_answer_seen(
            actor=on.person, case_number=on.case_number, contact_id=contact_id, as_of=on.as_of
        )
        return on.words("已核对单位的另一答复")

    return on.respond("late", {}, record)


# -- withdrawal: a manager's decision, confirmed on a page that says what will follow ----------


@router.post("/withdraw")
def withdraw_ask(on: OnCase, _manager: Manager, reason: Text = "") -> Response:
    """Ask to confirm: what stops, who is told, that it cannot be undone."""
    try:
        preview = answers.withdrawal_preview(
            actor=on.person, case_number=on.case_number, reason=reason
        )
    except UserError as exc:
        return case_page(
            on.request,
            on.person,
            on.case_number,
            status=400,
            failed=("withdraw", exc),
            form={"withdraw_reason": reason},
        )
    return render(on.request, "withdraw_confirm.html.j2", viewer=on.person, preview=preview)


@router.post("/withdraw/confirm")
def withdraw(on: OnCase, _manager: Manager, reason: Text = "") -> Response:
    def record() -> str:
        done = answers.withdraw_case(
            actor=on.person, case_number=on.case_number, reason=reason, as_of=on.as_of
        )
        return on.words("案件已终止办理；已通知{n}个单位撤回协查", n=len(done.agencies_told))

    return on.respond("withdraw", {"withdraw_reason": reason}, record)
