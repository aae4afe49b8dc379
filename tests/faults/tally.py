"""The fault lab's tally: per scenario, what was lost, stalled, sent twice (and what explains
each copy), never sent, refused, handed to a manager, and how long each re-drive took."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from models import lookups
from models.db import session_scope
from models.tables import (
    Case,
    CaseEvent,
    Contact,
    ContactKind,
    EventKind,
    OutboxStatus,
)
from tests.faults.accounting import (
    Kill,
    resend_causes,
    resend_told,
    stack_clock,
)
from tests.faults.processes import (
    as_epoch,
    handed_over,
)

if TYPE_CHECKING:
    from tests.faults.lab import Lab


@dataclass
class Tally:
    scenario: str
    trials: int = 0
    lost: int = 0  # cases missing from the database, or answers given and not recorded
    stalled: int = 0  # open cases not waiting quietly (with nothing due) at the end
    duplicates: int = 0  # copies of one Message-ID at the mail server beyond the first
    flagged: int = 0  # of those, copies marked X-Casework-Resend
    undelivered: int = 0  # outbox rows not sent at the end, or "sent" but never received
    refused: int = 0  # rows failed for good (550): shown to staff, not retried
    # Cases re-driven three times in a day and escalated to a manager instead (by design: the
    # harness aims at most two kills at a case, but a worker's kill can add a third).
    handed_over: int = 0
    allowed_duplicates: int = 0  # copies a kill of their sender explains (`resend_causes`)
    redrive_seconds: list[float] = field(default_factory=list)
    # Re-drives with no kill of the case's run since its last one: the run died on its own.
    unprovoked: int = 0
    # Each re-drive: the case, when, the reconciler's reason, the kill it answers (if any).
    redrive_log: list[dict[str, Any]] = field(default_factory=list)
    # Each message that arrived more than once: its copies and the kill that explains them.
    resend_log: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            self.lost == 0
            and self.stalled == 0
            and self.undelivered == 0
            and self.duplicates <= self.allowed_duplicates
            and self.duplicates == self.flagged
            and all(s <= 120 for s in self.redrive_seconds)
            and not self.problems  # each one, counted above or not, fails the row
        )

    def row(self) -> dict[str, Any]:
        times = self.redrive_seconds
        return {
            "scenario": self.scenario,
            "trials": self.trials,
            "lost": self.lost,
            "stalled": self.stalled,
            "duplicates": f"{self.duplicates} ({self.flagged} flagged)",
            "undelivered": self.undelivered,
            "refused_550": self.refused,
            "handed_to_manager": self.handed_over,
            "redrive_median_s": round(statistics.median(times), 1) if times else None,
            "redrive_max_s": round(max(times), 1) if times else None,
            "redrives": len(times) + self.unprovoked,
            "unprovoked_redrives": self.unprovoked,
            "passed": self.passed,
        }


def tally(lab: Lab, scenario: str, cases: list[str], *, trials: int, since: float) -> Tally:
    """Count what was lost, stalled, sent twice or not at all for these cases."""
    tally = Tally(scenario=scenario, trials=trials)
    for case_number in cases:
        with session_scope() as session:
            reasons = lookups.case_view(session=session, case_number=case_number).escalation_reasons
        tally.handed_over += handed_over(reasons)
        problem = lab.problem(case_number)
        if problem == "lost":
            tally.lost += 1
        elif problem is not None:
            tally.stalled += 1
            tally.problems.append(f"{case_number}: {problem}")
    tally.lost += lost_answers(lab, cases)
    rows = lab._outbox(cases)
    ids = {r.message_id for r in rows}
    received = Counter(m.message_id for m in lab.mail.messages if m.message_id in ids)
    for row in rows:
        if row.status == OutboxStatus.FAILED:
            tally.refused += 1
        elif row.status != OutboxStatus.SENT or received[row.message_id] == 0:
            tally.undelivered += 1
            tally.problems.append(f"{row.message_id}: {row.status}, {row.last_error}")
    tally.duplicates = sum(n - 1 for n in received.values())
    tally.flagged = sum(1 for m in lab.mail.messages if m.message_id in ids and m.resend)
    tally.flagged = min(tally.flagged, tally.duplicates)
    arrived = [m for m in lab.mail.messages if m.at >= since and m.message_id in ids]
    causes = resend_causes(arrived, [*lab.kills, *lab.mail.kills])
    tally.allowed_duplicates = sum(1 for _, cause in causes if cause is not None)
    tally.resend_log = [resend_told(copies, cause) for copies, cause in causes]
    if tally.duplicates > tally.allowed_duplicates:
        tally.problems += [
            f"{r['message']} sent again unexplained: {r['copies']}; kills within 10 s: "
            + "; ".join(
                f"{k.what} at {stack_clock(k.at)}, pids {k.pids}, gone {stack_clock(k.gone)}"
                for k in [*lab.kills, *lab.mail.kills]
                if abs(k.at - copies[0].at) <= 10
            )
            for r, (copies, cause) in zip(tally.resend_log, causes, strict=True)
            if cause is None
        ]
    tally.redrive_log = redrive_log(lab, cases, since)
    tally.redrive_seconds = [r["seconds"] for r in tally.redrive_log if r["kill"]]
    tally.unprovoked = sum(1 for r in tally.redrive_log if not r["kill"])
    return tally


def replies_from(lab: Lab, case_number: str, agency: str) -> int:
    """How many answers from this agency the case database holds."""
    with session_scope() as session:
        return sum(1 for a, _ in _replies(session, case_number, distinct=False) if a == agency)


def refused_form_answers(lab: Lab, case_number: str) -> int:
    """Form answers refused in the case's audit trail (where the manager sees them)."""
    with session_scope() as session:
        case = session.exec(select(Case).where(Case.number == case_number)).one()
        return len(
            session.exec(
                select(CaseEvent).where(
                    CaseEvent.case_id == case.id,
                    CaseEvent.kind == EventKind.FORM_ANSWER_REFUSED,
                )
            ).all()
        )


def lost_answers(lab: Lab, cases: list[str]) -> int:
    lost = 0
    with session_scope() as session:
        for answer in [a for a in lab.answers if a.case_number in cases]:
            if (answer.agency, answer.outcome) not in _replies(session, answer.case_number):
                lost += 1
    return lost


def redrive_log(lab: Lab, cases: list[str], since: float) -> list[dict[str, Any]]:
    """Each re-drive of these cases (the audit trail's time and reason) with the kill it
    answers: the first kill of the case's run since the case's previous re-drive, and the
    seconds from it; none when no kill came between (the run died on its own)."""
    deaths_of: dict[str | None, list[Kill]] = {}
    for kill in [*lab.kills, *lab.mail.kills]:
        # The worker's runs are counted one by one ("worker's run"); a killed `casework
        # reply` is no run.
        if kill.at < since or kill.what == "worker" or kill.what.startswith("casework reply"):
            continue
        case_number = kill.case_number
        if case_number is None and kill.flow_run_id is not None:
            case_number = lab.case_of_run(kill.flow_run_id)
        deaths_of.setdefault(case_number, []).append(kill)
    # A restart of the server or of the run starter may crash any run in flight.
    server_deaths = [
        k for k in lab.kills if k.what in ("prefect server", "run starter") and k.at >= since
    ]
    log: list[dict[str, Any]] = []
    with session_scope() as session:
        for case_number in cases:
            case = session.exec(select(Case).where(Case.number == case_number)).one()
            events = session.exec(
                select(CaseEvent).where(
                    CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.RUN_REDRIVEN
                )
            ).all()
            redrives = sorted((as_epoch(e.occurred_at), e.detail) for e in events)
            deaths = sorted(deaths_of.get(case_number, []) + server_deaths, key=lambda k: k.at)
            previous = since
            for redriven, detail in redrives:
                cause = [d for d in deaths if previous < d.at <= redriven]
                log.append(
                    {
                        "case": case_number,
                        "at": datetime.fromtimestamp(redriven, UTC).isoformat(),
                        "why": detail,
                        "kill": f"{cause[0].what} {cause[0].flow_run_id or ''}".strip()
                        if cause
                        else None,
                        "seconds": round(redriven - cause[0].at, 1) if cause else None,
                    }
                )
                previous = redriven
    return log


def _replies(session: Any, case_number: str, *, distinct: bool = True) -> Any:
    case = session.exec(select(Case).where(Case.number == case_number)).one()
    found = [
        (c.agency_slug, c.outcome)
        for c in session.exec(
            select(Contact).where(Contact.case_id == case.id, Contact.kind == ContactKind.REPLY)
        )
    ]
    return set(found) if distinct else found
