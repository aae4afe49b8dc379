"""The office's rules in the case database: the 限时办结 clock and its pauses, extensions,
second notices (二次告知), ratings (好差评) and the follow-up calls bad ones require."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, select

from casework.actors import SYSTEM
from casework.clock import chinese_date, office_date
from casework.errors import UserError
from casework.playbook import get_playbook
from casework.ratings import LEVEL_WORDS, needs_follow_up
from casework.settings import get_settings
from casework.templating import RenderedMessage
from casework.time_limit import Clock, ClockState, Pause, clock
from casework.workdays import add_working_days
from models import keys
from models.lookups import get_case, material_of
from models.outgoing import record_applicant_letter
from models.tables import (
    Case,
    CaseMaterial,
    CaseStatus,
    Channel,
    ClockPause,
    Contact,
    ContactKind,
    EventKind,
    MaterialStatus,
    Rating,
    SecondNotice,
)
from models.transitions import record_event, refresh_status

EXTENSION_LETTER = "common/extension.txt.j2"
SECOND_NOTICE_LETTER = "common/second-notice.txt.j2"
# Materials added to a case after intake: no playbook names them.
EXTRA_MATERIAL_PREFIX = "extra-"


def time_limit_of(case: Case) -> int:
    """The case's limit in working days, approved extensions included."""
    base = case.time_limit_days
    if base is None:  # opened before the clock existed: the playbook's limit
        base = get_playbook(case.playbook).time_limit(get_settings().time_limits)
    return base + case.extension_days


def case_clock(session: Session, case: Case, as_of: datetime, *, extra_days: int = 0) -> Clock:
    """The clock on `as_of`; `extra_days` shows it as an extension would leave it."""
    return clock_on_day(session, case, office_date(as_of), extra_days=extra_days)


def clock_on_day(
    session: Session | None,
    case: Case,
    today: date,
    *,
    extra_days: int = 0,
    pauses: list[ClockPause] | None = None,
) -> Clock:
    """The clock on `today`; `pauses` when the caller read them already (a report's many
    cases), else they are read here."""
    if pauses is None:
        assert session is not None
        pauses = list(session.exec(select(ClockPause).where(ClockPause.case_id == case.id)))
    return clock(
        opened_on=office_date(case.opened_at),
        limit=time_limit_of(case) + extra_days,
        pauses=[
            Pause(office_date(p.started_at), office_date(p.ended_at) if p.ended_at else None)
            for p in pauses
        ],
        today=today,
        closed_on=office_date(case.closed_at) if case.closed_at else None,
    )


def pauses_of(session: Session, case_ids: list[int]) -> dict[int, list[ClockPause]]:
    """The clock pauses of many cases in a few queries, by case id."""
    found: dict[int, list[ClockPause]] = {}
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        for pause in session.exec(select(ClockPause).where(col(ClockPause.case_id).in_(chunk))):
            found.setdefault(pause.case_id, []).append(pause)
    return found


def pause_clock(
    session: Session, case: Case, material_slug: str, as_of: datetime, actor: str
) -> None:
    """补正: the office now waits for the citizen to supply something for this material."""
    assert case.id is not None
    open_for_material = session.exec(
        select(ClockPause).where(
            ClockPause.case_id == case.id,
            ClockPause.material_slug == material_slug,
            col(ClockPause.ended_at).is_(None),
        )
    ).first()
    if open_for_material is not None:
        return
    session.add(ClockPause(case_id=case.id, material_slug=material_slug, started_at=as_of))
    name = material_of(session, case, material_slug).name
    record_event(
        session, case, EventKind.CLOCK_PAUSED, as_of, detail=f"等待申请人补正：{name}", actor=actor
    )


def resume_clock(
    session: Session, case: Case, material_slugs: list[str], as_of: datetime, actor: str
) -> None:
    """The citizen supplied what was asked: the clock runs again for these materials."""
    pauses = session.exec(
        select(ClockPause).where(
            ClockPause.case_id == case.id,
            col(ClockPause.material_slug).in_(material_slugs),
            col(ClockPause.ended_at).is_(None),
        )
    ).all()
    for pause in pauses:
        pause.ended_at = as_of
        session.add(pause)
    if pauses:
        names = "、".join(material_of(session, case, p.material_slug).name for p in pauses)
        record_event(
            session, case, EventKind.CLOCK_RESUMED, as_of, detail=f"已补正：{names}", actor=actor
        )


def extend_time_limit(
    *,
    session: Session,
    case_number: str,
    days: int,
    reason: str,
    as_of: datetime,
    actor: str,
    message: RenderedMessage,
    old_due_on: date,
) -> tuple[Contact, Clock]:
    """A manager extends the limit before it runs out; the citizen is told (letter, and email
    when there is an address) of the date promised before and the new one."""
    case = get_case(session, case_number, lock=True)
    if case.closed_at is not None:
        raise UserError("case_closed", case=case_number)
    before = case_clock(session, case, as_of)
    if before.state == ClockState.OVERDUE:
        raise UserError("extension_too_late", case=case_number, due=before.due_on)
    case.extension_days += days
    session.add(case)
    extensions = len(
        session.exec(
            select(Contact).where(
                Contact.case_id == case.id, Contact.kind == ContactKind.EXTENSION_NOTICE
            )
        ).all()
    )
    after = case_clock(session, case, as_of)
    contact = record_applicant_letter(
        session,
        case,
        kind=ContactKind.EXTENSION_NOTICE,
        key=keys.extension_key(case.number, extensions + 1),
        message=message,
        letter={
            "template": EXTENSION_LETTER,
            "days": days,
            "reason": reason,
            "old_due_on": old_due_on.isoformat(),
            "new_due_on": after.due_on.isoformat(),
        },
        as_of=as_of,
        event=(
            EventKind.TIME_LIMIT_EXTENDED,
            f"延长{days}个工作日，应办结日由{chinese_date(old_due_on)}改为"
            f"{chinese_date(after.due_on)}：{reason}",
        ),
        without_email=Channel.POST,
        actor=actor,
    )
    session.flush()
    return contact, after


def record_second_notice(
    *,
    session: Session,
    case_number: str,
    item: str,
    reason: str,
    as_of: datetime,
    actor: str,
    message: RenderedMessage,
    pauses_clock: bool,
) -> tuple[Contact, int]:
    """二次告知: the citizen is asked for something the first notice did not list. It becomes a
    material of the case that waits on her (the case cannot close without it), with the
    限时办结 clock paused until she brings it when `pauses_clock` (the letter promises so).
    Counted per case type; the amended notice goes to her like the first. Returns the letter
    and how many second notices the case has had."""
    case = get_case(session, case_number, lock=True)
    if case.closed_at is not None:
        raise UserError("case_closed", case=case_number)
    assert case.id is not None
    earlier = session.exec(select(SecondNotice).where(SecondNotice.case_id == case.id)).all()
    count = len(earlier) + 1
    material = add_applicant_material(session, case, name=item, note=reason)
    contact = record_applicant_letter(
        session,
        case,
        kind=ContactKind.AMENDED_NOTICE,
        key=keys.second_notice_key(case.number, count),
        message=message,
        letter={"template": SECOND_NOTICE_LETTER, "item": item, "reason": reason},
        as_of=as_of,
        event=(EventKind.SECOND_NOTICE, f"{item}（原因：{reason}）"),
        without_email=Channel.PHONE,
        actor=actor,
        material_slug=material.slug,
    )
    session.add(
        SecondNotice(
            case_id=case.id,
            item=item,
            reason=reason,
            occurred_at=as_of,
            actor=actor,
            material_slug=material.slug,
        )
    )
    if pauses_clock:
        pause_clock(session, case, material.slug, as_of, actor)
    refresh_status(session, case, as_of, actor)
    session.flush()
    return contact, count


def add_applicant_material(session: Session, case: Case, *, name: str, note: str) -> CaseMaterial:
    """A material the citizen must bring that her case type does not list (extra-1, extra-2…)."""
    assert case.id is not None
    existing = list(session.exec(select(CaseMaterial).where(CaseMaterial.case_id == case.id)))
    taken = {m.slug for m in existing}
    number = 1
    while f"{EXTRA_MATERIAL_PREFIX}{number}" in taken:
        number += 1
    material = CaseMaterial(
        case_id=case.id,
        slug=f"{EXTRA_MATERIAL_PREFIX}{number}",
        name=name,
        position=max((m.position for m in existing), default=-1) + 1,
        obtained_by="applicant",
        status=MaterialStatus.WAITING_APPLICANT,
        note=note,
    )
    session.add(material)
    session.flush()
    return material


def second_notices(session: Session, case: Case) -> list[SecondNotice]:
    return list(session.exec(select(SecondNotice).where(SecondNotice.case_id == case.id)))


def rating_of(session: Session, case: Case) -> Rating | None:
    return session.exec(select(Rating).where(Rating.case_id == case.id)).first()


def record_rating(
    *,
    session: Session,
    case_number: str,
    level: int,
    comment: str | None,
    channel: str,
    as_of: datetime,
    actor: str,
) -> Rating:
    """好差评 at closing: one rating per case. A bad one opens a rectification with its own
    working-day clock and wants a follow-up call."""
    case = get_case(session, case_number, lock=True)
    if case.status == CaseStatus.WITHDRAWN:
        raise UserError("rating_withdrawn", case=case_number)
    if case.closed_at is None:
        raise UserError("rating_before_closing", case=case_number)
    if rating_of(session, case) is not None:
        raise UserError("already_rated", case=case_number)
    assert case.id is not None
    rectify_by: date | None = None
    if needs_follow_up(level):
        rectify_by = add_working_days(
            office_date(as_of), get_settings().rectify_within_working_days
        )
    rating = Rating(
        case_id=case.id,
        level=level,
        comment=comment,
        channel=channel,
        rated_at=as_of,
        recorded_by=actor,
        rectify_by=rectify_by,
    )
    session.add(rating)
    detail = LEVEL_WORDS[level] + (
        f"，须于{rectify_by.isoformat()}前整改并回访" if rectify_by else ""
    )
    record_event(session, case, EventKind.RATED, as_of, detail=detail, actor=actor)
    session.flush()
    return rating


def record_follow_up(
    *, session: Session, case_number: str, note: str, as_of: datetime, actor: str
) -> Rating:
    """回访: staff called the citizen back about a bad rating and what was put right."""
    case = get_case(session, case_number, lock=True)
    rating = rating_of(session, case)
    if rating is None:
        raise UserError("follow_up_before_rating", case=case_number)
    if rating.followed_up_at is not None:
        raise UserError("already_followed_up", case=case_number)
    rating.followed_up_at = as_of
    rating.follow_up_note = note
    rating.followed_up_by = actor
    session.add(rating)
    record_event(session, case, EventKind.FOLLOW_UP_CALLED, as_of, detail=note, actor=actor)
    session.flush()
    return rating


def flag_overdue_rectifications(*, session: Session, as_of: datetime) -> list[str]:
    """Bad ratings past their rectification date with no follow-up: flagged to the manager
    once each (the board lists them until the call is recorded)."""
    today = office_date(as_of)
    flagged = []
    for rating in session.exec(
        select(Rating).where(
            col(Rating.rectify_by).is_not(None),
            col(Rating.followed_up_at).is_(None),
            col(Rating.overdue_flagged_at).is_(None),
        )
    ):
        assert rating.rectify_by is not None
        if rating.rectify_by >= today:
            continue
        case = session.get(Case, rating.case_id)
        assert case is not None
        rating.overdue_flagged_at = as_of
        session.add(rating)
        record_event(
            session,
            case,
            EventKind.RECTIFICATION_OVERDUE,
            as_of,
            detail=f"差评整改回访逾期（应于{rating.rectify_by.isoformat()}前完成）",
            actor=SYSTEM,
        )
        flagged.append(case.number)
    return flagged
