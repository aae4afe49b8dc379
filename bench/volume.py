"""Volume: 10,000 open cases seeded through the product's own functions, and a city's year
(100,000 cases, 1,000,000 contacts) synthesised in bulk; the managers' figures timed on both."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, text

from bench.figures import Figure, median, timed
from casework.clock import office_date
from casework.playbook import all_playbooks
from casework.templating import RenderedMessage
from casework.validation import id_check_digit
from models import board, directory, intake, outgoing, reports, views
from models.db import get_engine, session_scope
from models.tables import (
    Applicant,
    Case,
    CaseEvent,
    CaseMaterial,
    CaseStatus,
    Channel,
    Contact,
    ContactKind,
    Direction,
    EventKind,
    MaterialStatus,
)
from tasks.chase import plan_cases

PLAYBOOK = "recover-cremation-certificate"
LETTER = RenderedMessage(subject="协查函", text="协查函正文", html=None, printable="<p>协查函</p>")


def id_number(serial: int) -> str:
    """A resident ID with a valid check digit (born 1950-03-08, serial 001–999)."""
    body = f"11010219500308{serial % 999 + 1:03d}"
    return body + id_check_digit(body)


def seed_open_cases(count: int, as_of: datetime) -> list[str]:
    """`count` open cases of Ms. Shen's type, each notified and waiting on the crematorium:
    opened, notified and requested through the case database's own functions, 100 a commit."""
    numbers: list[str] = []
    for start in range(0, count, 100):
        with session_scope() as session:
            for serial in range(start, min(count, start + 100)):
                form = intake.CaseIntake(
                    actor="staff",
                    playbook=PLAYBOOK,
                    applicant=intake.ApplicantIn(
                        name="沈桂兰", id_number=id_number(serial), phone="13800001234"
                    ),
                    fields={"deceased_name": "王建国", "cremation_date": "2017-06-01"},
                )
                case = intake.open_case(session=session, intake=form, as_of=as_of)
                outgoing.record_notice(
                    session=session, case_number=case.number, message=LETTER, as_of=as_of
                )
                outgoing.record_request(
                    session=session,
                    case_number=case.number,
                    material="cremation-certificate",
                    agency="crematorium-front-desk",
                    message=LETTER,
                    as_of=as_of,
                )
                numbers.append(case.number)
    return numbers


def sweep_planning(as_of: datetime) -> int:
    """The case-database half of the sweep: every open case's plan at `as_of` (what is due),
    as the reconciler's round plans its waiting cases."""
    with session_scope() as session:
        open_cases = views.open_cases(session=session)
    plans = plan_cases([c.case_number for c in open_cases], as_of)
    return sum(step.action.value != "wait" for step in plans.values())


def capacity(count: int, as_of: datetime, *, trials: int) -> list[Figure]:
    """Seed `count` waiting cases, then time the sweep's planning, the board and the lists."""
    seconds = timed(lambda: seed_open_cases(count, as_of))
    later = as_of + timedelta(days=30)  # every request overdue: a reminder due on each case
    figures = [
        Figure(
            "volume", f"seed {count:,} waiting cases (product functions)", count / seconds,
            "cases/s", "open + notice + request, 100 per commit",
        ),
    ]  # fmt: skip
    sweep_s = median([timed(lambda: sweep_planning(later)) for _ in range(trials)])
    figures.append(
        Figure(
            "volume", f"sweep over {count:,} open cases (case-database side)", sweep_s, "s",
            "every case's plan read, a reminder due on each", "≤ 10 s", sweep_s <= 10,
        )
    )  # fmt: skip
    for what, action in {
        "daily board": lambda: _board(later),
        "cases --overdue": lambda: _overdue(later),
    }.items():
        took = median([timed(action) for _ in range(trials)])
        figures.append(Figure("volume", f"{what}, {count:,} open cases", took, "s", "median"))
    return figures


def _board(as_of: datetime) -> None:
    with session_scope() as session:
        board.daily_board(session=session, today=office_date(as_of))


def _overdue(as_of: datetime) -> None:
    with session_scope() as session:
        views.case_summaries(session=session, today=office_date(as_of), overdue_only=True)


# ---------------------------------------------------------------- a city's year, in bulk


def synthesise_city(cases: int, contacts_per_case: int, as_of: datetime, seed: int = 7) -> int:
    """`cases` cases over the past year with their applicants, materials, contacts and audit
    rows, inserted in bulk (not through the product: a year of a city is too many for that).
    Returns the number of contacts written."""
    rng = random.Random(seed)
    playbooks = list(all_playbooks())
    with session_scope() as session:  # the agencies of every playbook exist, as after intake
        for playbook in all_playbooks().values():
            directory.seed(session, playbook)
        agencies = [a.slug for a in session.exec(text("SELECT slug FROM agency"))]  # type: ignore[call-overload]
    engine = get_engine()
    written = 0
    batch = 5_000
    for start in range(0, cases, batch):
        rows = range(start, min(cases, start + batch))
        applicants, case_rows, materials, contacts, events = [], [], [], [], []
        for i in rows:
            opened = as_of - timedelta(days=rng.uniform(0, 365), hours=rng.uniform(0, 8))
            still_open = rng.random() < 0.05
            closed = None if still_open else opened + timedelta(days=rng.uniform(0.5, 25))
            if closed is not None and closed > as_of:
                closed, still_open = None, True
            applicants.append(
                {"id": i + 1, "name": "居民", "id_number": id_number(i), "phone": "13800001234",
                 "id_number_hash": f"h{i}"}
            )  # fmt: skip
            slug = playbooks[i % len(playbooks)]
            case_rows.append(
                {"id": i + 1, "number": f"HC-C-{i + 1:07d}", "playbook": slug,
                 "status": CaseStatus.WAITING_AGENCY if still_open else CaseStatus.CLOSED,
                 "applicant_id": i + 1, "fields": {}, "opened_at": opened, "closed_at": closed,
                 "promised_by": office_date(opened) + timedelta(days=21), "urgent": False,
                 "outside_remit": False, "wait_generation": 1, "letter_lang": "zh",
                 "time_limit_days": 15, "extension_days": 0}
            )  # fmt: skip
            for position in range(2):
                materials.append(
                    {"case_id": i + 1, "slug": f"material-{position}", "name": "材料",
                     "position": position, "obtained_by": "office" if position == 0 else "applicant",
                     "status": MaterialStatus.REQUESTED if still_open else MaterialStatus.COLLECTED,
                     "agency_slug": rng.choice(agencies), "tried_agencies": [],
                     "collected_at": closed}
                )  # fmt: skip
            events.append(
                {"case_id": i + 1, "occurred_at": opened, "kind": EventKind.CASE_OPENED,
                 "detail": "", "actor": "staff"}
            )  # fmt: skip
            moment = opened
            for n in range(contacts_per_case):
                moment = moment + timedelta(hours=rng.uniform(1, 30))
                kind, channel, direction, trip = _contact_shape(n, rng)
                answered = (
                    moment + timedelta(days=rng.uniform(0.2, 9))
                    if kind == ContactKind.REQUEST and (closed is not None or rng.random() < 0.5)
                    else None
                )
                contacts.append(
                    {"case_id": i + 1, "kind": kind, "channel": channel, "direction": direction,
                     "agency_slug": rng.choice(agencies) if kind == ContactKind.REQUEST else None,
                     "material_slug": "material-0", "occurred_at": min(moment, as_of),
                     "answered_at": answered if answered and answered < as_of else None,
                     "trip": trip}
                )  # fmt: skip
        with engine.begin() as connection:
            connection.execute(insert(Applicant), applicants)
            connection.execute(insert(Case), case_rows)
            connection.execute(insert(CaseMaterial), materials)
            connection.execute(insert(CaseEvent), events)
            connection.execute(insert(Contact), contacts)
        written += len(contacts)
    _sync_sequences(engine)
    return written


def _contact_shape(n: int, rng: random.Random) -> tuple[str, str, str, bool]:
    if n == 0:
        return ContactKind.VISIT, Channel.WINDOW, Direction.INBOUND, True
    if n == 1:
        return ContactKind.NOTICE, Channel.WINDOW, Direction.OUTBOUND, False
    roll = rng.random()
    if roll < 0.35:
        return ContactKind.REQUEST, Channel.EMAIL, Direction.OUTBOUND, False
    if roll < 0.7:
        return ContactKind.REPLY, Channel.PHONE, Direction.INBOUND, False
    if roll < 0.85:
        return ContactKind.REMINDER, Channel.EMAIL, Direction.OUTBOUND, False
    return ContactKind.VISIT, Channel.WINDOW, Direction.INBOUND, rng.random() < 0.3


def _sync_sequences(engine: Any) -> None:
    """After explicit ids, PostgreSQL's sequences must move past them (SQLite needs nothing)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for table in ("applicant", "case"):
            connection.execute(
                text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                     f"(SELECT max(id) FROM \"{table}\"))")
            )  # fmt: skip


def city(
    cases: int, contacts_per_case: int, as_of: datetime, *, label: str, trials: int
) -> list[Figure]:
    """Synthesise the city's year, then time the monthly report, agencies and the board."""
    seconds = timed(lambda: synthesise_city(cases, contacts_per_case, as_of))
    size = f"{cases:,} cases / {cases * contacts_per_case:,} contacts"
    figures = [
        Figure(
            "city", f"{label}: synthesise {size}", seconds, "s", "bulk INSERT, 5,000 cases a commit"
        ),
    ]
    month = f"{office_date(as_of) - timedelta(days=31):%Y-%m}"
    for what, action, target in (
        (f"monthly report {month}", lambda: _report(month), 2.0),
        ("agency response times", _agencies, 2.0),
        ("daily board", lambda: _board(as_of), None),
    ):
        took = median([timed(action) for _ in range(trials)])
        figures.append(
            Figure(
                "city", f"{label}: {what}, {size}", took, "s", "median",
                f"≤ {target:g} s" if target else "", took <= target if target else None,
            )
        )  # fmt: skip
    return figures


def _report(month: str) -> None:
    with session_scope() as session:
        reports.monthly_report(session=session, month=month)


def _agencies() -> None:
    with session_scope() as session:
        board.agency_responsiveness(session=session)
