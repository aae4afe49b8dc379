"""The sweep that keeps cases moving when nobody touches them: chase, relay, reconcile."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from casework.clock import now
from casework.errors import UserError
from casework.messages import message
from casework.planning import (
    Action,
    EscalationReason,
    Step,
    generation_of,
    plan_next_step,
    wait_key_for,
)
from casework.settings import get_settings
from gateways.imap import poll_mailbox
from gateways.prefect_client import cancel_flow_run, one_client, redrive_case_flow, start_case_flow
from gateways.resume_form import CaseInput, FormOutcome
from gateways.run_health import read_runs, run_health
from gateways.run_inputs import (
    discard_wake_input,
    stale_wake_input,
    unread_form_answer,
    wake_case_flow,
)
from gateways.run_logs import task_logger
from models import case_types, lifecycle, lookups, office_rules, views
from models.db import read_scope, session_scope
from tasks.record import record_form_answer
from tasks.send import escalate_case, relay_pending

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun, State


class SweepReport(BaseModel):
    as_of: datetime
    woken: list[str] = []
    started: list[str] = []
    redriven: list[str] = []
    escalated: list[str] = []
    emails_sent: int = 0
    replies_fetched: int = 0
    rectifications_overdue: list[str] = []


# More re-drives than this in a day and the case goes to a manager instead of looping.
MAX_REDRIVES_PER_DAY = 3


def _carry_unread_answer(
    case_number: str, flow_run_id: str, generation: int, as_of: datetime
) -> None:
    """A Resume-form answer the dead run was given but never read is recorded now, so the
    re-driven run (a new run, with no input of its own) carries on from it."""
    answer = unread_form_answer(flow_run_id, wait_key_for(generation))
    if answer is not None:
        _record_left_answer(case_number, generation, answer, as_of, "the dead run's")


def _record_left_answer(
    case_number: str, generation: int, answer: CaseInput, as_of: datetime, whose: str
) -> None:
    """Record a Resume-form answer no run read (a wake-up carries nothing): once, because
    record_form_answer checks the generation it was given under."""
    if answer.outcome is FormOutcome.RECHECK:
        return
    answered_at = max(as_of, answer.as_of) if answer.as_of else as_of  # as the flow does
    outcome = record_form_answer.fn(case_number, generation, answer.to_answer(), answered_at)
    task_logger().warning("Case %s: %s form answer recorded (%s)", case_number, whose, outcome)


def _clear_stale_input(
    case_number: str, flow_run_id: str, state: State | None, as_of: datetime
) -> bool:
    """A suspended run whose key already holds an input (it came back from Cancelled and
    suspended again under the same key) can never be resumed: record a form answer found
    there (once, by its generation), then clear the key so the run can be woken. True if an
    input was found."""
    stale = stale_wake_input(flow_run_id, state=state)
    if stale is None:
        return False
    key, answer = stale
    generation = generation_of(key)
    if generation is not None:
        _record_left_answer(case_number, generation, answer, as_of, "a stale")
    discard_wake_input(flow_run_id, key)
    return True


# A run suspends over a stale input only in the minutes after it came back from Cancelled,
# and only while the server is up, when this round runs every minute: an hour gives sixty
# rounds to find it. Older suspensions are not read for one every minute (a day's were 3% of
# 10,000 open cases, 3.7 of a 16 s round). One missed while the reconciler was down is found
# when the case's next step falls due and its wake-up is refused.
STALE_INPUT_LOOKBACK = timedelta(hours=1)


def reconcile(
    as_of: datetime, report: SweepReport | None = None, *, plan_as_of: datetime | None = None
) -> SweepReport:
    """Re-drive every open case whose flow run crashed, failed, was cancelled, vanished or
    stopped moving; a case that keeps crashing is escalated to a manager instead. Start runs
    for cases opened while the stack was down, and wake suspended runs with work due at
    `plan_as_of` (default `as_of`). `as_of` is the real present: it is compared with the times
    Prefect recorded. Every open case's run is read in a few requests and every open case's
    plan in a few queries, the plans while the runs are read (that wait is Prefect's)."""
    report = report or SweepReport(as_of=as_of)
    plan_at = plan_as_of or as_of
    with read_scope() as session:
        open_cases = views.open_cases(session=session)
    with one_client(), ThreadPoolExecutor(1) as planner:
        # Planned before the runs are read, not after: a plan an answer overtakes says WAIT
        # (woken by the clerk's save, or next round) or wakes a run that finds nothing to do.
        planning = planner.submit(plan_cases, [c.case_number for c in open_cases], plan_at)
        runs = read_runs([c.flow_run_id for c in open_cases if c.flow_run_id])
        plans = planning.result()
        for case in open_cases:
            try:
                run = runs.get(case.flow_run_id or "")
                _reconcile_case(case, run, plans.get(case.case_number), as_of, plan_as_of, report)
            except Exception as exc:  # one case's trouble must not stop the others' round
                task_logger().error(
                    "Case %s not reconciled: %s", case.case_number, type(exc).__name__
                )
    return report


def plan_cases(case_numbers: list[str], as_of: datetime) -> dict[str, Step]:
    """Each case's next step at `as_of`, its rows read in a few queries for all of them."""
    with read_scope() as session:
        views_by_number = lookups.case_views(
            session=session, cases=lookups.get_cases(session, case_numbers)
        )
        playbooks = {
            number: case_types.version_of(session, view.playbook, view.playbook_version)
            for number, view in views_by_number.items()
        }
    return {
        number: plan_next_step(view, playbooks[number], as_of)
        for number, view in views_by_number.items()
    }


def _reconcile_case(
    case: views.OpenCase,
    run: FlowRun | None,
    step: Step | None,
    as_of: datetime,
    plan_as_of: datetime | None,
    report: SweepReport,
) -> None:
    """Start, wake or re-drive one open case's run, whichever its state calls for. `run` and
    `step`: its run as read this round and, if it waits, its plan (None: read them again)."""
    if case.flow_run_id is None:  # opened while the stack was down
        start_case_flow(case.case_number, case.playbook)
        report.started.append(case.case_number)
        return
    health = run_health(
        case.flow_run_id, as_of=as_of, workers_here=get_settings().workers_on_this_machine, run=run
    )
    if health == "ok":
        return
    if health == "waiting":
        _wake_if_due(case, run, step, as_of, plan_as_of, report)
        return
    with session_scope() as session:
        linked = lookups.flow_run_of(session=session, case_number=case.case_number)
        if linked != case.flow_run_id:
            return  # re-driven by another round since this one read it: judged next round
        recent = lifecycle.redrives_since(
            session=session, case_number=case.case_number, since=as_of - timedelta(days=1)
        )
        view = lookups.case_view(session=session, case_number=case.case_number)
    if recent >= MAX_REDRIVES_PER_DAY:
        if EscalationReason.RUN_KEEPS_CRASHING not in view.escalation_reasons:
            step = Step(
                action=Action.ESCALATE,
                generation=view.wait_generation,
                reason=EscalationReason.RUN_KEEPS_CRASHING,
            )
            escalate_case.fn(case.case_number, step, as_of)
            report.escalated.append(case.case_number)
        return
    if health in ("stuck", "gone"):  # Prefect would show it moving beside its successor
        cancel_flow_run(case.flow_run_id)
    _carry_unread_answer(case.case_number, case.flow_run_id, view.wait_generation, as_of)
    flow_run_id = redrive_case_flow(case.case_number, case.playbook, recent + 1)
    with session_scope() as session:
        recorded = lifecycle.record_redrive(
            session=session,
            case_number=case.case_number,
            flow_run_id=flow_run_id,
            replaces=case.flow_run_id,
            why=health,
            as_of=as_of,
        )
    if not recorded:  # another round re-drove it first: one run works a case, never two
        cancel_flow_run(flow_run_id)
        return
    task_logger().warning("Case %s re-driven: its run was %s", case.case_number, health)
    report.redriven.append(case.case_number)


def _wake_if_due(
    case: views.OpenCase,
    run: FlowRun | None,
    step: Step | None,
    as_of: datetime,
    plan_as_of: datetime | None,
    report: SweepReport,
) -> None:
    """Wake a suspended case run that has work due: an answer recorded while the run was still
    moving found nobody to wake, and the run then suspended under the old key; or a reminder
    fell due. A stale input under its key is dealt with first (see _clear_stale_input)."""
    assert case.flow_run_id is not None
    state = run.state if run is not None else None
    recent = (
        state is None or state.timestamp is None or state.timestamp > as_of - STALE_INPUT_LOOKBACK
    )
    if recent and _clear_stale_input(case.case_number, case.flow_run_id, state, as_of):
        step = None  # an answer may have been recorded: plan again
    if step is None:
        step = plan_cases([case.case_number], plan_as_of or as_of)[case.case_number]
    if step.action is Action.WAIT:
        return
    woken = wake_case_flow(case.flow_run_id, as_of=plan_as_of)
    if (
        not woken
        and not recent
        and _clear_stale_input(case.case_number, case.flow_run_id, None, as_of)
    ):
        woken = wake_case_flow(case.flow_run_id, as_of=plan_as_of)  # the refusal was the input
    if woken:
        report.woken.append(case.case_number)


def reconcile_and_relay(as_of: datetime) -> SweepReport:
    """The every-minute round: re-drive dead case runs, then send what the outbox has due (so
    mail held back by a mail-server outage goes out within a minute of its end)."""
    report = reconcile(as_of)
    report.emails_sent = sum(1 for r in relay_pending(as_of=as_of) if r.delivered)
    return report


def sweep(as_of: datetime) -> SweepReport:
    """Wake every suspended case run with work due at `as_of`; start runs for cases without one;
    relay the outbox; fetch replies from the office mailbox when one is configured."""
    report = SweepReport(as_of=as_of)
    # Processes live in real time: a sweep run for a later day (--as-of) plans at that day but
    # must not take a run working right now for one stuck since yesterday.
    reconcile(now(), report, plan_as_of=as_of)
    with session_scope() as session:  # 差评 past its date without a follow-up call: to the board
        report.rectifications_overdue = office_rules.flag_overdue_rectifications(
            session=session, as_of=as_of
        )
    report.emails_sent = sum(1 for r in relay_pending() if r.delivered)
    settings = get_settings()
    if settings.imap_host:
        try:
            report.replies_fetched = poll_mailbox(settings).fetched
        except UserError as exc:  # the mail stays in the mailbox; the next sweep tries again
            task_logger().warning("Mailbox not read: %s", message(exc.code, "en", **exc.params))
        except Exception as exc:  # chasing cases must not stop for the mailbox
            task_logger().warning("Mailbox not read: %s", type(exc).__name__)
    return report


@task(cache_policy=NO_CACHE)
def sweep_cases(as_of: datetime) -> SweepReport:
    """Wake due cases, start missing case runs, relay the outbox, fetch the office's mail."""
    report = sweep(as_of)
    task_logger().info(
        "Woke %s, started %s, sent %d email(s), fetched %d repl(ies)",
        report.woken,
        report.started,
        report.emails_sent,
        report.replies_fetched,
    )
    return report
