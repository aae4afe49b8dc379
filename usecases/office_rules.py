"""The office's own rules, for every front end: the 限时办结 clock and its extension, the
first-contact receipt (首问回执), second notices (二次告知), ratings (好差评) and follow-up calls.
Each is checked before anything is written: a mistake is one clear message and no row."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from casework import validation
from casework.actors import CITIZEN
from casework.errors import UserError
from casework.links import rating_code_matches, status_token_matches
from casework.ratings import LEVEL_WORDS, parse_level
from casework.settings import get_settings
from models import office_rules
from models.accounts import Actor, require_manager, visible_case
from models.db import read_scope, session_scope
from models.tables import EventKind
from models.transitions import record_event
from models.views import ClockRow, clock_row
from usecases.runs import wake_case_run

# Who may take a rating down for the citizen, and how she gave it.
STAFF_RATING_CHANNELS = ("window", "phone")
MAX_EXTENSION_DAYS = 60


class ExtensionApproved(BaseModel):
    case_number: str
    days: int
    due_before: date
    due_on: date


class SecondNoticeRecorded(BaseModel):
    case_number: str
    item: str
    material: str  # the material the citizen now has to bring
    count: int  # second notices on this case so far
    clock_paused: bool


class RatingRecorded(BaseModel):
    case_number: str
    level: int
    words: str
    rectify_by: date | None


def clock_of(*, actor: Actor, case_number: str, as_of: datetime) -> ClockRow:
    """Where a case's 限时办结 clock stands, for the case page, `show` and the board."""
    with read_scope() as session:
        case = visible_case(session, actor, case_number)
        return clock_row(case, office_rules.case_clock(session, case, as_of))


def extend_time_limit(
    *, actor: Actor, case_number: str, days: int, reason: str, as_of: datetime
) -> ExtensionApproved:
    """A manager extends the limit, with a reason, before it runs out; the citizen is told by a
    letter that names the date promised before and the new one."""
    from tasks.render import file_letter, render_for_case

    require_manager(actor)
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise UserError("extension_days", most=MAX_EXTENSION_DAYS)
    why = validation.free_text(reason, field="延期理由", max_length=300) or ""
    with session_scope() as session:  # read first: the letter names both dates
        case = visible_case(session, actor, case_number)
        before = office_rules.case_clock(session, case, as_of).due_on
        due = office_rules.case_clock(session, case, as_of, extra_days=days).due_on
    letter = {"days": days, "reason": why, "old_due_on": before, "new_due_on": due}
    message = render_for_case(office_rules.EXTENSION_LETTER, case_number, as_of, **letter)
    with session_scope() as session:
        contact, after = office_rules.extend_time_limit(
            session=session,
            case_number=case_number,
            days=days,
            reason=why,
            as_of=as_of,
            actor=actor.username,
            message=message,
            old_due_on=before,
        )
    file_letter(case_number, contact, message, as_of, office_rules.EXTENSION_LETTER, **letter)
    wake_case_run(case_number)  # the view managers read shows the new date
    return ExtensionApproved(
        case_number=case_number, days=days, due_before=before, due_on=after.due_on
    )


def record_second_notice(
    *, actor: Actor, case_number: str, item: str, reason: str, as_of: datetime
) -> SecondNoticeRecorded:
    """The citizen is asked for something the one-time notification did not list: say why,
    send her the amended notice, wait for the item (the clock paused meanwhile, when the
    office's rule says so), count it against the playbook."""
    from tasks.render import file_letter, render_for_case

    what = validation.free_text(item, field="补充告知的材料", max_length=200) or ""
    why = validation.free_text(reason, field="二次告知的原因", max_length=300) or ""
    pauses = get_settings().second_notice_pauses_clock
    with session_scope() as session:  # an unknown case is refused before rendering
        visible_case(session, actor, case_number)
    letter = {"item": what, "reason": why, "clock_paused": pauses}
    message = render_for_case(office_rules.SECOND_NOTICE_LETTER, case_number, as_of, **letter)
    with session_scope() as session:
        contact, count = office_rules.record_second_notice(
            session=session,
            case_number=case_number,
            item=what,
            reason=why,
            as_of=as_of,
            actor=actor.username,
            message=message,
            pauses_clock=pauses,
        )
        material = contact.material_slug or ""
    file_letter(case_number, contact, message, as_of, office_rules.SECOND_NOTICE_LETTER, **letter)
    wake_case_run(case_number)  # the case now waits for her item too
    return SecondNoticeRecorded(
        case_number=case_number, item=what, material=material, count=count, clock_paused=pauses
    )


def _rating(
    *,
    case_number: str,
    level: str,
    comment: str | None,
    channel: str,
    as_of: datetime,
    recorded_by: str,
) -> RatingRecorded:
    value = parse_level(level)
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
            actor=recorded_by,
        )
        return RatingRecorded(
            case_number=case_number,
            level=rating.level,
            words=LEVEL_WORDS[rating.level],
            rectify_by=rating.rectify_by,
        )


def record_rating(
    *,
    actor: Actor,
    case_number: str,
    level: str,
    as_of: datetime,
    comment: str | None = None,
    channel: str = "window",
) -> RatingRecorded:
    """The citizen's rating at closing, given at the window or by phone and typed in by staff."""
    if channel not in STAFF_RATING_CHANNELS:
        raise UserError(
            "bad_rating_channel", value=channel[:20], choices="/".join(STAFF_RATING_CHANNELS)
        )
    with read_scope() as session:
        visible_case(session, actor, case_number)
    return _rating(
        case_number=case_number,
        level=level,
        comment=comment,
        channel=channel,
        as_of=as_of,
        recorded_by=actor.username,
    )


def citizen_rates(
    *,
    case_number: str,
    token: str,
    code: str,
    level: str,
    comment: str | None,
    as_of: datetime,
) -> RatingRecorded:
    """The citizen rates her closed case on her status page, with the rating code of her
    closing letter: the status link, which staff see, is not enough."""
    if not status_token_matches(case_number, token):
        raise UserError("status_link_unknown")
    if not rating_code_matches(case_number, code):
        raise UserError("rating_code_wrong")
    return _rating(
        case_number=case_number,
        level=level,
        comment=comment,
        channel="status-page",
        as_of=as_of,
        recorded_by=CITIZEN,
    )


def record_follow_up(*, actor: Actor, case_number: str, note: str, as_of: datetime) -> None:
    """回访: the call back to a citizen who rated the case badly, and what was put right."""
    text = validation.free_text(note, field="回访情况", max_length=1000, multiline=True) or ""
    with session_scope() as session:
        visible_case(session, actor, case_number)
        office_rules.record_follow_up(
            session=session, case_number=case_number, note=text, as_of=as_of, actor=actor.username
        )


def receipt_pdf(*, actor: Actor, case_number: str, as_of: datetime) -> bytes:
    """首问回执: printed at intake for the citizen to keep."""
    from casework.printing import render_pdf
    from tasks.render import render_for_case, status_page_extras

    with session_scope() as session:
        case = visible_case(session, actor, case_number)
        counted = office_rules.case_clock(session, case, as_of)
        record_event(
            session,
            case,
            EventKind.PERSONAL_DATA_SHOWN,
            as_of,
            detail="打印首问回执",
            actor=actor.username,
        )
    message = render_for_case(
        "common/receipt.txt.j2",
        case_number,
        as_of,
        time_limit=counted.limit,
        due_on=counted.due_on,
        **status_page_extras(case_number),
    )
    return render_pdf(message.printable)
