"""The daily board: open cases by type and status, what is overdue or escalated, clocks running
out, later answers to check, letters to post, and how each agency answers."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from casework.clock import office_date, start_of_office_day
from casework.figures import (
    AgencyResponsiveness,
    DailyBoard,
    Escalation,
    LateAnswerFlag,
    LetterToPost,
    NearDeadline,
    OverdueContact,
    RectificationDue,
    TimeLimitAlert,
)
from casework.messages import label
from casework.planning import reminder_due_on
from casework.ratings import LEVEL_WORDS
from casework.time_limit import ClockState
from models.case_types import (
    all_current,
    case_title,
    playbook_of_case,
    shareable_material_name,
)
from models.lookups import CaseRows, list_agencies, shareable_agency_names
from models.office_rules import clock_on_day
from models.postal import letters_to_post
from models.reply_links import unseen_late_answers
from models.reports import monthly_report
from models.tables import (
    Case,
    ClockPause,
    Contact,
    ContactKind,
    Rating,
    SecondNotice,
)
from models.views import is_overdue


def daily_board(
    *,
    session: Session,
    today: date,
    where: ColumnElement[bool] | None = None,
    shareable: bool = True,
) -> DailyBoard:
    """Open cases by type and status, overdue contacts, escalations, near deadlines, agencies;
    `where`: the cases the reader may see (the month's figures and the agencies' are the
    district's). `shareable`: the board leaves the case database (Prefect's artifact), so an
    agency added on the way shows by its code only; staff on the workbench read its name."""
    query = select(Case).where(col(Case.closed_at).is_(None))
    if where is not None:
        query = query.where(where)
    open_cases = list(session.exec(query))
    names = (
        shareable_agency_names(session)
        if shareable
        else {a.slug: a.name for a in list_agencies(session)}
    )

    def title_of(case: Case) -> str:
        # A general case's own title may name a person: Prefect's copy names its type.
        return playbook_of_case(session, case).title if shareable else case_title(session, case)

    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    current = all_current(session, start_of_office_day(today))
    overdue_contacts: list[OverdueContact] = []
    # Every open case's rows in a few queries (a district has thousands of cases).
    rows = CaseRows(session, open_cases)
    for case in open_cases:
        by_type[case.playbook][str(case.status)] += 1
        playbook = playbook_of_case(session, case)
        for place, material in enumerate(rows.materials[case.id or 0], start=1):
            request = rows.open_request(case, material)
            if request is None or not request.chased:
                continue
            due = reminder_due_on(request, playbook, urgent=case.urgent)
            if due <= today:
                overdue_contacts.append(
                    OverdueContact(
                        case_number=case.number,
                        agency=request.agency_slug,
                        agency_name=names.get(request.agency_slug, request.agency_slug),
                        material=material.slug,
                        material_name=shareable_material_name(
                            playbook, material.slug, material.name, place
                        )
                        if shareable
                        else material.name,
                        requested_on=office_date(request.sent_at),
                        reminders=request.reminders,
                        due_on=due,
                    )
                )
    escalations = [
        Escalation(
            case_number=c.number,
            reason=c.escalation_reason or "",
            since=office_date(c.escalated_at),
        )
        for c in open_cases
        if c.escalated_at is not None
    ]
    near = [
        NearDeadline(
            case_number=c.number,
            playbook=c.playbook,
            playbook_title=title_of(c),
            deadline=c.deadline_date,
            days_left=(c.deadline_date - today).days,
        )
        for c in open_cases
        if c.deadline_date is not None and 0 <= (c.deadline_date - today).days <= 30
    ]
    alerts = []
    for case in open_cases:
        counted = clock_on_day(None, case, today, pauses=rows.pauses[case.id or 0])
        if counted.state in (ClockState.DUE_SOON, ClockState.OVERDUE):
            alerts.append(
                TimeLimitAlert(
                    case_number=case.number,
                    playbook_title=title_of(case),
                    state=str(counted.state),
                    left=counted.left,
                    due_on=counted.due_on,
                )
            )
    open_ids = {c.id for c in open_cases}
    paused = {
        p.case_id
        for p in session.exec(select(ClockPause).where(col(ClockPause.ended_at).is_(None)))
        if p.case_id in open_ids
    }
    rectifications = []
    for rating in session.exec(
        select(Rating).where(
            col(Rating.rectify_by).is_not(None), col(Rating.followed_up_at).is_(None)
        )
    ):
        assert rating.rectify_by is not None
        rated_case = session.get(Case, rating.case_id)
        assert rated_case is not None
        rectifications.append(
            RectificationDue(
                case_number=rated_case.number,
                level_words=LEVEL_WORDS[rating.level],
                rectify_by=rating.rectify_by,
                overdue=rating.rectify_by < today,
            )
        )
    month_start = today.replace(day=1)
    return DailyBoard(
        month_to_date=monthly_report(session=session, month=f"{today:%Y-%m}").rules,
        time_limits=sorted(alerts, key=lambda a: a.left),
        paused_clocks=len(paused),
        rectifications=sorted(rectifications, key=lambda r: r.rectify_by),
        second_notices_this_month=sum(
            1
            for n in session.exec(select(SecondNotice))
            if month_start <= office_date(n.occurred_at) <= today
        ),
        today=today,
        open_by_type_and_status={k: dict(v) for k, v in sorted(by_type.items())},
        overdue_cases=[c.number for c in open_cases if is_overdue(session, c, today, rows)],
        overdue_contacts=overdue_contacts,
        escalations=escalations,
        deadlines_next_30_days=sorted(near, key=lambda n: n.days_left),
        agencies=agency_responsiveness(session=session, names=names),
        letters_to_post=[
            LetterToPost(
                case_number=x.case_number,
                letter=x.letter_id,
                agency=x.agency or "",
                agency_name=names.get(x.agency, x.agency)
                if x.agency
                else label("party", "applicant"),
                written_on=office_date(x.written_at),
            )
            for x in letters_to_post(session=session)
        ],
        late_answers=[
            LateAnswerFlag(
                case_number=number,
                agency_name=names.get(late.agency_slug or "", late.agency_slug or ""),
                outcome=late.outcome or "",
                at=late.occurred_at,
            )
            for number, late in unseen_late_answers(session)
        ],
        playbook_titles={
            slug: current[slug][0].title if slug in current else slug for slug in by_type
        },
    )


def _days_between(session: Session, start: Any, end: Any) -> Any:
    """`end` - `start` in days, as the database works it out (UTC on both)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 86400
    return func.julianday(end) - func.julianday(start)  # SQLite keeps "YYYY-MM-DD HH:MM:SS"


def agency_responsiveness(
    *, session: Session, names: dict[str, str] | None = None
) -> list[AgencyResponsiveness]:
    """Per agency: requests sent, answered, median days to answer, share never answered."""
    names = names if names is not None else shareable_agency_names(session)
    requests: Counter[str] = Counter()
    for slug, sent in session.exec(
        select(Contact.agency_slug, func.count())
        .where(Contact.kind == ContactKind.REQUEST, col(Contact.agency_slug).is_not(None))
        .group_by(col(Contact.agency_slug))
    ):
        requests[slug or ""] = sent
    # Each answered request's wait comes back as one number of days, worked out by the
    # database: the median needs every one, and a city's year has a quarter of a million
    # (two timestamps each made into datetimes took half the report's time).
    waited: dict[str, list[float]] = defaultdict(list)
    days = _days_between(session, col(Contact.occurred_at), col(Contact.answered_at))
    for slug, waited_days in session.exec(
        select(Contact.agency_slug, days).where(
            Contact.kind == ContactKind.REQUEST,
            col(Contact.agency_slug).is_not(None),
            col(Contact.answered_at).is_not(None),
        )
    ):
        assert slug is not None and waited_days is not None
        waited[slug].append(float(waited_days))
    rows = []
    for slug, sent in sorted(requests.items()):
        days = waited.get(slug, [])
        rows.append(
            AgencyResponsiveness(
                agency=slug,
                name=names.get(slug, slug),
                requests=sent,
                answered=len(days),
                median_days_to_answer=round(statistics.median(days), 1) if days else None,
                share_never_answered=round(1 - len(days) / sent, 3),
            )
        )
    return rows
