"""Figures for managers: the daily board and the monthly report, read from the case database."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, distinct, func
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import Session, col, select

from casework.clock import OFFICE_TZ, now, office_date
from casework.figures import (
    MonthlyReport,
    RuleFigures,
)
from casework.ratings import needs_follow_up, satisfied
from casework.time_limit import ClockState
from casework.workdays import add_working_days, working_days_between
from models.case_types import all_current
from models.office_rules import clock_on_day
from models.tables import (
    Case,
    CaseEvent,
    CaseMaterial,
    ClockPause,
    Contact,
    ContactKind,
    EventKind,
    Rating,
    SecondNotice,
)

# ---------------------------------------------------------------- monthly report


def month_bounds(month: str) -> tuple[date, date]:
    """First day of the month and first day of the next; raises ValueError if malformed."""
    year_text, sep, month_text = month.partition("-")
    if not sep or len(year_text) != 4 or len(month_text) != 2:
        raise ValueError(month)
    first = date(int(year_text), int(month_text), 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(share * (len(ordered) - 1))))
    return ordered[index]


def _office_midnight(day: date) -> datetime:
    """The instant the office's calendar day begins (so a month is a range of instants)."""
    return datetime(day.year, day.month, day.day, tzinfo=OFFICE_TZ).astimezone(UTC)


def monthly_report(*, session: Session, month: str) -> MonthlyReport:
    """The figures the seed articles quote, for one calendar month (office time).

    Each figure reads only the month's rows, counted by the database where it can: a city's
    year (100,000 cases, a million contacts) must not be loaded to report on one month.
    """
    first, following = month_bounds(month)
    start, end = _office_midnight(first), _office_midnight(following)

    def in_month(day: date) -> bool:
        return first <= day < following

    def within(column: Any) -> Any:
        return and_(col(column) >= start, col(column) < end)

    # Without the intake form's fields: nothing here reads them, and decoding each case's JSON
    # was a tenth of the report at a city's size.
    without_fields = defer(cast("QueryableAttribute[Any]", Case.fields))
    opened = list(session.exec(select(Case).options(without_fields).where(within(Case.opened_at))))
    closed = list(session.exec(select(Case).options(without_fields).where(within(Case.closed_at))))
    opened_ids = select(Case.id).where(within(Case.opened_at))
    closed_ids = select(Case.id).where(within(Case.closed_at))
    people_served = session.exec(
        select(func.count(distinct(col(Case.applicant_id)))).where(
            col(Case.id).in_(select(Contact.case_id).where(within(Contact.occurred_at)))
        )
    ).one()
    trips: Counter[int] = Counter(
        dict(
            session.exec(
                select(Contact.case_id, func.count())
                .where(col(Contact.trip).is_(True), col(Contact.case_id).in_(closed_ids))
                .group_by(col(Contact.case_id))
            ).all()
        )
    )
    closed_trips = [trips[c.id or 0] for c in closed]
    days_to_close = [
        (c.closed_at - c.opened_at).total_seconds() / 86400 for c in closed if c.closed_at
    ]
    services = Counter(
        session.exec(
            select(CaseEvent.detail).where(
                CaseEvent.kind == EventKind.SERVICE_COMPLETED, within(CaseEvent.occurred_at)
            )
        ).all()
    )
    materials = session.exec(
        select(func.count()).where(
            CaseMaterial.obtained_by == "office", within(CaseMaterial.collected_at)
        )
    ).one()
    # Each case counted in its week (Monday first) once, not looked at again for every week.
    opened_in = Counter(_monday(office_date(c.opened_at)) for c in opened)
    closed_in = Counter(_monday(office_date(c.closed_at)) for c in closed if c.closed_at)
    weekly = []
    week = _monday(first)
    while week < following:
        weekly.append((week.isoformat(), opened_in[week], closed_in[week]))
        week += timedelta(days=7)
    every_type_ever: list[str] = list(session.exec(select(distinct(col(Case.playbook)))).all())
    current = all_current(session, now())
    titles = {slug: current[slug][0].title if slug in current else slug for slug in every_type_ever}
    service_names = {
        sv.slug: sv.name for slug in titles if slug in current for sv in current[slug][0].services
    }
    facts = _month_facts(session, opened, closed, (opened_ids, closed_ids), trips, in_month, within)
    every_type = sorted({c.playbook for c in opened} | {c.playbook for c in closed})
    return MonthlyReport(
        rules=_rule_figures(opened, closed, facts, None),
        rules_by_type={
            slug: _rule_figures(
                [c for c in opened if c.playbook == slug],
                [c for c in closed if c.playbook == slug],
                facts,
                slug,
            )
            for slug in every_type
        },
        month=month,
        playbook_titles=titles,
        service_names=service_names,
        people_served=people_served,
        cases_opened=len(opened),
        cases_closed=len(closed),
        households_helped_by_type=dict(sorted(Counter(c.playbook for c in closed).items())),
        services_completed=dict(sorted(services.items())),
        materials_obtained_for_citizens=materials,
        median_trips_per_closed_case=statistics.median(closed_trips) if closed_trips else None,
        share_closed_with_0_to_2_trips=(
            round(sum(1 for t in closed_trips if t <= 2) / len(closed_trips), 3)
            if closed_trips
            else None
        ),
        median_days_to_close=round(statistics.median(days_to_close), 1) if days_to_close else None,
        p90_days_to_close=round(_percentile(days_to_close, 0.9), 1) if days_to_close else None,
        outside_remit_cases=sum(1 for c in opened if c.outside_remit),
        weekly=weekly,
    )


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def requested_in_time(opened_at: datetime, first_request_on: date) -> bool:
    """The response rate's rule: a case's first request went out by the end of the working
    day after its intake (a Friday's case, by Monday)."""
    return first_request_on <= add_working_days(office_date(opened_at), 1)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class _MonthFacts:
    """What the office-rule figures need beyond the cases, read once for every case type."""

    in_month: Callable[[date], bool]
    kinds: dict[int, str]  # case id → playbook, for the cases of the notices and ratings
    trips: Counter[int]  # closed case id → trips
    withdrawn: set[int]  # among the month's closed cases
    notices: list[SecondNotice]
    first_request: dict[int, date]  # opened case id → the day its first request went out
    ratings: list[Rating]  # given in the month
    # Each case's own figures, worked out once: the report counts every case twice (all
    # types, then its own), and a time-limit clock is the dearest thing it works out.
    working_days: dict[int, int]  # closed, not withdrawn case id → working days it took
    within_limit: set[int]  # of those, the cases closed within their time limit
    requested_within_a_day: set[int]  # opened case ids whose first request went out within a day


def _month_facts(
    session: Session,
    opened: list[Case],
    closed: list[Case],
    ids: tuple[Any, Any],
    trips: Counter[int],
    in_month: Callable[[date], bool],
    within: Callable[[Any], Any],
) -> _MonthFacts:
    opened_ids, closed_ids = ids
    first_request = {
        case_id: office_date(sent)
        for case_id, sent in session.exec(
            select(Contact.case_id, func.min(Contact.occurred_at))
            .where(Contact.kind == ContactKind.REQUEST, col(Contact.case_id).in_(opened_ids))
            .group_by(col(Contact.case_id))
        )
    }
    notices = list(session.exec(select(SecondNotice)))
    ratings = list(session.exec(select(Rating).where(within(Rating.rated_at))))
    rated_or_noticed = {n.case_id for n in notices} | {r.case_id for r in ratings}
    pauses: dict[int, list[ClockPause]] = defaultdict(list)
    for pause in session.exec(select(ClockPause).where(col(ClockPause.case_id).in_(closed_ids))):
        pauses[pause.case_id].append(pause)
    withdrawn = set(
        session.exec(
            select(CaseEvent.case_id).where(
                CaseEvent.kind == EventKind.CASE_WITHDRAWN,
                col(CaseEvent.case_id).in_(closed_ids),
            )
        ).all()
    )
    done = [c for c in closed if c.id not in withdrawn and c.closed_at is not None]
    return _MonthFacts(
        in_month=in_month,
        kinds={
            case_id or 0: playbook
            for case_id, playbook in session.exec(
                select(Case.id, Case.playbook).where(col(Case.id).in_(rated_or_noticed))
            )
        },
        trips=trips,
        withdrawn=withdrawn,
        notices=notices,
        first_request=first_request,
        ratings=ratings,
        working_days={
            c.id or 0: working_days_between(office_date(c.opened_at), office_date(c.closed_at))
            for c in done
            if c.closed_at is not None
        },
        within_limit={
            c.id or 0
            for c in done
            if c.closed_at is not None
            and clock_on_day(
                None, c, office_date(c.closed_at), pauses=pauses.get(c.id or 0, [])
            ).state
            == ClockState.MET
        },
        requested_within_a_day={
            c.id or 0
            for c in opened
            if c.id in first_request and requested_in_time(c.opened_at, first_request[c.id])
        },
    )


def _rule_figures(
    opened: list[Case],
    closed: list[Case],
    facts: _MonthFacts,
    kind: str | None,
) -> RuleFigures:
    """限时办结, 一次性告知, 好差评 and the three 12345 rates for one month: these cases, and
    the second notices and ratings given in the month on cases of this type (`kind`, or all)."""

    def of_kind(case_id: int) -> bool:
        return kind is None or facts.kinds.get(case_id) == kind

    done = [c for c in closed if c.id not in facts.withdrawn]
    buckets: Counter[str] = Counter(
        str(facts.trips[c.id or 0]) if facts.trips[c.id or 0] < 3 else "3+" for c in closed
    )
    working_days = [facts.working_days[c.id] for c in done if c.id in facts.working_days]
    within = sum(1 for c in done if c.id in facts.within_limit)
    notices = [n for n in facts.notices if of_kind(n.case_id)]
    noticed_cases = {n.case_id for n in notices}
    asked = [c for c in opened if c.id in facts.first_request]
    responded = sum(1 for c in asked if c.id in facts.requested_within_a_day)
    ratings = [r for r in facts.ratings if of_kind(r.case_id)]
    bad = [r for r in ratings if needs_follow_up(r.level)]
    return RuleFigures(
        cases_opened=len(opened),
        cases_closed=len(closed),
        trips=dict(sorted(buckets.items())),
        share_within_trip_goal=_share(sum(buckets[k] for k in ("0", "1", "2")), len(closed)),
        median_working_days_to_close=statistics.median(working_days) if working_days else None,
        share_closed_within_limit=_share(within, len(done)),
        second_notices=sum(1 for n in notices if facts.in_month(office_date(n.occurred_at))),
        second_notice_rate=_share(sum(1 for c in closed if c.id in noticed_cases), len(closed)),
        response_rate=_share(responded, len(asked)),
        resolution_rate=_share(len(done), len(closed)),
        ratings=len(ratings),
        satisfaction_rate=_share(sum(1 for r in ratings if satisfied(r.level)), len(ratings)),
        follow_up_rate=_share(sum(1 for r in bad if r.followed_up_at is not None), len(bad)),
    )
