"""The office's own rules, for every front end: the 限时办结 clock and its extension, the
first-contact receipt (首问回执), second notices (二次告知), ratings (好差评) and follow-up calls.
Each is checked before anything is written: a mistake is one clear message and no row."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from casework import validation
from casework.errors import UserError
from casework.ratings import LEVEL_WORDS, parse_level
from models import accounts, lookups, office_rules
from models.db import session_scope
from models.views import ClockRow, clock_row

RATING_CHANNELS = ("window", "phone", "status-page")
MAX_EXTENSION_DAYS = 60


class ExtensionApproved(BaseModel):
    case_number: str
    days: int
    due_on: date


class SecondNoticeRecorded(BaseModel):
    case_number: str
    item: str
    count: int  # second notices on this case so far


class RatingRecorded(BaseModel):
    case_number: str
    level: int
    words: str
    rectify_by: date | None


def clock_of(*, case_number: str, as_of: datetime) -> ClockRow:
    """Where a case's 限时办结 clock stands, for the case page, `show` and the board."""
    with session_scope() as session:
        case = lookups.get_case(session, case_number)
        return clock_row(case, office_rules.case_clock(session, case, as_of))


def extend_time_limit(
    *, case_number: str, days: int, reason: str, as_of: datetime, approved_by: str
) -> ExtensionApproved:
    """A manager extends the limit, with a reason, before it runs out; the citizen is told."""
    from tasks.render import file_letter, render_for_case

    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise UserError("extension_days", most=MAX_EXTENSION_DAYS)
    why = validation.free_text(reason, field="延期理由", max_length=300) or ""
    with session_scope() as session:  # read first: the letter names the new date
        case = lookups.get_case(session, case_number)
        due = office_rules.case_clock(session, case, as_of, extra_days=days).due_on
    letter = {"days": days, "reason": why, "new_due_on": due}
    message = render_for_case(office_rules.EXTENSION_LETTER, case_number, as_of, **letter)
    with session_scope() as session:
        contact, after = office_rules.extend_time_limit(
            session=session,
            case_number=case_number,
            days=days,
            reason=why,
            as_of=as_of,
            actor=approved_by,
            message=message,
        )
    file_letter(case_number, contact, message, as_of, office_rules.EXTENSION_LETTER, **letter)
    return ExtensionApproved(case_number=case_number, days=days, due_on=after.due_on)


def record_second_notice(
    *, case_number: str, item: str, reason: str, as_of: datetime, actor: str
) -> SecondNoticeRecorded:
    """The citizen is asked for something the one-time notification did not list: say why,
    send her the amended notice, count it against the playbook."""
    from tasks.render import file_letter, render_for_case

    what = validation.free_text(item, field="补充告知的材料", max_length=200) or ""
    why = validation.free_text(reason, field="二次告知的原因", max_length=300) or ""
    with session_scope() as session:
        lookups.get_case(session, case_number)  # an unknown case is refused before rendering
    letter = {"item": what, "reason": why}
    message = render_for_case(office_rules.SECOND_NOTICE_LETTER, case_number, as_of, **letter)
    with session_scope() as session:
        contact, count = office_rules.record_second_notice(
            session=session,
            case_number=case_number,
            item=what,
            reason=why,
            as_of=as_of,
            actor=actor,
            message=message,
        )
    file_letter(case_number, contact, message, as_of, office_rules.SECOND_NOTICE_LETTER, **letter)
    return SecondNoticeRecorded(case_number=case_number, item=what, count=count)


def record_rating(
    *,
    case_number: str,
    level: str,
    as_of: datetime,
    actor: str,
    comment: str | None = None,
    channel: str = "window",
) -> RatingRecorded:
    """The citizen's rating at closing: at the window, by phone, or on the status page."""
    value = parse_level(level)
    if channel not in RATING_CHANNELS:
        raise UserError("bad_rating_channel", value=channel, choices="/".join(RATING_CHANNELS))
    text = validation.free_text(
        comment, field="评价内容", max_length=500, multiline=True, required=False
    )
    with session_scope() as session:
        rating = office_rules.record_rating(
            session=session,
            case_number=case_number,
            level=value,
            comment=text or None,
            channel=channel,
            as_of=as_of,
            actor=actor,
        )
        return RatingRecorded(
            case_number=case_number,
            level=rating.level,
            words=LEVEL_WORDS[rating.level],
            rectify_by=rating.rectify_by,
        )


def record_follow_up(*, case_number: str, note: str, as_of: datetime, actor: str) -> None:
    """回访: the call back to a citizen who rated the case badly, and what was put right."""
    text = validation.free_text(note, field="回访情况", max_length=1000, multiline=True) or ""
    with session_scope() as session:
        office_rules.record_follow_up(
            session=session, case_number=case_number, note=text, as_of=as_of, actor=actor
        )


def receipt_pdf(*, case_number: str, as_of: datetime) -> bytes:
    """首问回执: printed at intake for the citizen to keep."""
    from casework.printing import render_pdf
    from tasks.render import render_for_case, status_page_extras

    with session_scope() as session:
        case = lookups.get_case(session, case_number)
        counted = office_rules.case_clock(session, case, as_of)
        contact = accounts.first_contact(session, case)
    message = render_for_case(
        "common/receipt.txt.j2",
        case_number,
        as_of,
        first_contact=contact,
        time_limit=counted.limit,
        due_on=counted.due_on,
        **status_page_extras(case_number),
    )
    return render_pdf(message.printable)
