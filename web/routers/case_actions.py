"""What a clerk records on a case page: an agency's answer, materials taken in, a posted letter,
a note, an appointment, a second notice, a rating and its follow-up; and a manager's extension
and withdrawal. Each checks the form's CSRF token, calls one use case and goes back to the case
page: with what was done, or with the mistake beside the form it came from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from casework.errors import UserError
from casework.messages import label
from casework.templating import written_date, written_time
from usecases import answers, office_rules, reading
from usecases.accounts import Actor
from web.case_page import case_page
from web.deps import CsrfChecked, CurrentPerson, Manager, RecordId, VisibleCase
from web.pages import lang_of, now_of, render, words_for

router = APIRouter(prefix="/cases/{case_number}")
Text = Annotated[str, Form()]


def _act(
    request: Request,
    person: Actor,
    case_number: str,
    section: str,
    form: dict[str, Any],
    act: Callable[[], str],
) -> Response:
    """Run one action; back to the case page with what was done, or the mistake beside the
    form `section` with what was typed in it (nothing recorded)."""
    try:
        done = act()
    except UserError as exc:
        return case_page(request, person, case_number, status=400, failed=(section, exc), form=form)
    return RedirectResponse(f"/cases/{case_number}?done={quote(done)}", status_code=303)


@router.post("/answer")
def record_answer(
    request: Request,
    _csrf: CsrfChecked,
    person: CurrentPerson,
    case_number: VisibleCase,
    agency: Text = "",
    outcome: Text = "",
    forward_to: Text = "",
    note: Text = "",
    via: Text = "phone",
    tracking: Text = "",
) -> Response:
    def record() -> str:
        recorded = answers.record_answer(
            actor=person,
            case_number=case_number,
            agency=agency,
            outcome=outcome,
            forward_to=forward_to or None,
            note=note or None,
            via=via,
            tracking=tracking or None,
            as_of=now_of(request),
        )
        return f"{recorded.agency_name}：{label('outcome', recorded.outcome, lang_of(request))}"

    form = {
        "agency": agency,
        "outcome": outcome,
        "forward_to": forward_to,
        "note": note,
        "via": via,
        "tracking": tracking,
    }
    return _act(request, person, case_number, "answer", form, record)


@router.post("/visit")
async def take_in(request: Request, person: CurrentPerson, case_number: VisibleCase) -> Response:
    data = await request.form()
    from web.deps import csrf_checked

    csrf_checked(request, str(data.get("csrf", "")))
    brought = [str(v) for v in data.getlist("brought")]
    form = {
        "brought": brought,
        "channel": str(data.get("channel", "window")),
        "reason": str(data.get("reason", "")),
        "visit_note": str(data.get("note", "")),
    }

    def record() -> str:
        answers.take_in(
            actor=person,
            case_number=case_number,
            brought=brought,
            reason=str(data.get("reason", "material-missing")),
            channel=str(data.get("channel", "window")),
            note=str(data.get("note", "")) or None,
            as_of=now_of(request),
        )
        return words_for(request)("收到材料／来访")

    # In a worker thread, as FastAPI runs the plain `def` routes: waking the case's run may
    # wait seconds for it to suspend, and the event loop serves every other clerk meanwhile.
    return await run_in_threadpool(_act, request, person, case_number, "visit", form, record)


@router.post("/arrived")
def material_arrived(
    request: Request,
    _csrf: CsrfChecked,
    person: CurrentPerson,
    case_number: VisibleCase,
    material: Text = "",
) -> Response:
    """What an agency posted has reached the office (or the citizen)."""

    def record() -> str:
        done = answers.confirm_arrival(
            actor=person, case_number=case_number, material=material, as_of=now_of(request)
        )
        return words_for(request)("已收到寄来的材料：{what}", what=done.material_name)

    return _act(request, person, case_number, "arrived", {}, record)


@router.post("/posting")
def record_posting(
    request: Request,
    _csrf: CsrfChecked,
    person: CurrentPerson,
    case_number: VisibleCase,
    tracking: Text = "",
    letter: Text = "",
    back: Text = "",
) -> Response:
    def record() -> str:
        posting = answers.record_posting(
            actor=person,
            case_number=case_number,
            tracking=tracking,
            letter_id=int(letter) if letter.strip().isdigit() and len(letter) < 10 else None,
            as_of=now_of(request),
        )
        return words_for(request)(
            "致{to}的信函已寄出：{tracking}",
            to=posting.agency_name or words_for(request)("申请人"),
            tracking=posting.tracking_number,
        )

    if back == "print":
        try:
            done = record()
        except UserError as exc:
            from web.routers.print_queue import queue_page

            return queue_page(request, person, failed=(letter, exc), status=400)
        return RedirectResponse(f"/print?done={quote(done)}", status_code=303)
    return _act(request, person, case_number, "posting", {"tracking": tracking}, record)


@router.post("/note")
def add_note(
    request: Request,
    _csrf: CsrfChecked,
    person: CurrentPerson,
    case_number: VisibleCase,
    text: Text = "",
) -> Response:
    def record() -> str:
        answers.add_note(actor=person, case_number=case_number, text=text, as_of=now_of(request))
        return words_for(request)("备注已记录")

    return _act(request, person, case_number, "note", {"text": text}, record)


@router.post("/appointment")
def book_appointment(
    request: Request,
    _csrf: CsrfChecked,
    person: CurrentPerson,
    case_number: VisibleCase,
    agency: Text = "",
    at: Text = "",
    escort: Text = "",
    pickup: Text = "",
) -> Response:
    def record() -> str:
        booked = answers.book_appointment(
            actor=person,
            case_number=case_number,
            agency=agency,
            at=at.replace("T", " "),
            escort=escort or None,
            pickup=pickup == "on",
            as_of=now_of(request),
        )
        at_words = written_time(booked.at, lang_of(request))
        return words_for(request)("已预约：{agency} {at}", agency=booked.agency_name, at=at_words)

    form = {"appt_agency": agency, "at": at, "escort": escort}
    return _act(request, person, case_number, "appointment", form, record)


@router.post("/reveal")
def reveal(
    request: Request,
    _csrf: CsrfChecked,
    person: CurrentPerson,
    case_number: VisibleCase,
    reason: Text = "",
) -> Response:
    try:
        revealed = reading.reveal(
            actor=person, case_number=case_number, reason=reason, as_of=now_of(request)
        )
    except UserError as exc:
        return case_page(request, person, case_number, status=400, failed=("reveal", exc))
    return render(
        request, "revealed.html.j2", viewer=person, case_number=case_number, revealed=revealed
    )


@router.post("/extend")
def extend(
    request: Request,
    _csrf: CsrfChecked,
    person: Manager,
    case_number: VisibleCase,
    days: Text = "",
    reason: Text = "",
) -> Response:
    def record() -> str:
        count = int(days.strip()) if days.strip().isdigit() and len(days.strip()) < 4 else 0
        done = office_rules.extend_time_limit(
            actor=person, case_number=case_number, days=count, reason=reason, as_of=now_of(request)
        )
        return words_for(request)(
            "已延期{days}个工作日，应办结日由{before}改为{due}",
            days=done.days,
            before=written_date(done.due_before, lang_of(request)),
            due=written_date(done.due_on, lang_of(request)),
        )

    return _act(
        request, person, case_number, "extend", {"days": days, "extend_reason": reason}, record
    )


@router.post("/second-notice")
def second_notice(
    request: Request,
    _csrf: CsrfChecked,
    person: CurrentPerson,
    case_number: VisibleCase,
    item: Text = "",
    reason: Text = "",
) -> Response:
    def record() -> str:
        done = office_rules.record_second_notice(
            actor=person, case_number=case_number, item=item, reason=reason, as_of=now_of(request)
        )
        return words_for(request)("已二次告知：{item}", item=done.item)

    form = {"item": item, "second_reason": reason}
    return _act(request, person, case_number, "second-notice", form, record)


@router.post("/rating")
def rating(
    request: Request,
    _csrf: CsrfChecked,
    person: CurrentPerson,
    case_number: VisibleCase,
    level: Text = "",
    comment: Text = "",
    channel: Text = "window",
) -> Response:
    def record() -> str:
        done = office_rules.record_rating(
            actor=person,
            case_number=case_number,
            level=level,
            comment=comment,
            channel=channel,
            as_of=now_of(request),
        )
        return words_for(request)(
            "已记录评价：{words}", words=label("rating", done.level, lang_of(request))
        )

    return _act(request, person, case_number, "rating", {"comment": comment}, record)


@router.post("/follow-up")
def follow_up(
    request: Request,
    _csrf: CsrfChecked,
    person: CurrentPerson,
    case_number: VisibleCase,
    note: Text = "",
) -> Response:
    def record() -> str:
        office_rules.record_follow_up(
            actor=person, case_number=case_number, note=note, as_of=now_of(request)
        )
        return words_for(request)("已记录回访")

    return _act(request, person, case_number, "follow-up", {"follow_note": note}, record)


@router.post("/late-answers/{contact_id}/seen")
def late_answer_seen(
    request: Request,
    _csrf: CsrfChecked,
    person: CurrentPerson,
    case_number: VisibleCase,
    contact_id: RecordId,
) -> Response:
    """The clerk has looked at an agency's later answer (and called it back if need be)."""

    def record() -> str:
        answers.late_answer_seen(
            actor=person, case_number=case_number, contact_id=contact_id, as_of=now_of(request)
        )
        return words_for(request)("已核对单位的另一答复")

    return _act(request, person, case_number, "late", {}, record)


# -- withdrawal: a manager's decision, confirmed on a page that says what will follow ----------


@router.post("/withdraw")
def withdraw_ask(
    request: Request,
    _csrf: CsrfChecked,
    person: Manager,
    case_number: VisibleCase,
    reason: Text = "",
) -> Response:
    """Ask to confirm: what stops, who is told, that it cannot be undone."""
    try:
        preview = answers.withdrawal_preview(actor=person, case_number=case_number, reason=reason)
    except UserError as exc:
        return case_page(
            request,
            person,
            case_number,
            status=400,
            failed=("withdraw", exc),
            form={"withdraw_reason": reason},
        )
    return render(request, "withdraw_confirm.html.j2", viewer=person, preview=preview)


@router.post("/withdraw/confirm")
def withdraw(
    request: Request,
    _csrf: CsrfChecked,
    person: Manager,
    case_number: VisibleCase,
    reason: Text = "",
) -> Response:
    def record() -> str:
        done = answers.withdraw_case(
            actor=person, case_number=case_number, reason=reason, as_of=now_of(request)
        )
        return words_for(request)(
            "案件已终止办理；已通知{n}个单位撤回协查", n=len(done.agencies_told)
        )

    return _act(request, person, case_number, "withdraw", {"withdraw_reason": reason}, record)
