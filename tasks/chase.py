"""The sweep that keeps cases moving when nobody touches them: chase, relay, reconcile."""

from __future__ import annotations

from datetime import datetime, timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from casework.clock import now
from casework.errors import UserError
from casework.messages import message
from casework.planning import Action, EscalationReason, Step, plan_next_step
from casework.playbook import get_playbook
from casework.settings import get_settings
from gateways.imap import poll_mailbox
from gateways.prefect_api import (
    cancel_flow_run,
    is_paused,
    redrive_case_flow,
    run_health,
    start_case_flow,
    wake_case_flow,
)
from gateways.run_logs import task_logger
from models import lifecycle, lookups, views
from models.db import session_scope
from tasks.send import escalate_case, relay_pending


class SweepReport(BaseModel):
    as_of: datetime
    woken: list[str] = []
    started: list[str] = []
    redriven: list[str] = []
    escalated: list[str] = []
    emails_sent: int = 0
    replies_fetched: int = 0


# More re-drives than this in a day and the case goes to a manager instead of looping.
MAX_REDRIVES_PER_DAY = 3


def reconcile(as_of: datetime, report: SweepReport | None = None) -> SweepReport:
    """Re-drive every open case whose flow run crashed, failed, was cancelled, vanished or
    stopped moving; a case that keeps crashing is escalated to a manager instead. `as_of` is
    the real present: it is compared with the times Prefect recorded."""
    report = report or SweepReport(as_of=as_of)
    with session_scope() as session:
        open_cases = views.open_cases(session=session)
    for case in open_cases:
        if case.flow_run_id is None:
            continue  # never started: the sweep starts it
        health = run_health(case.flow_run_id, as_of=as_of)
        if health == "ok":
            continue
        with session_scope() as session:
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
            continue
        if health == "stuck":
            cancel_flow_run(case.flow_run_id)
        flow_run_id = redrive_case_flow(case.case_number, case.playbook, recent + 1)
        with session_scope() as session:
            lifecycle.record_redrive(
                session=session,
                case_number=case.case_number,
                flow_run_id=flow_run_id,
                why=health,
                as_of=as_of,
            )
        task_logger().warning("Case %s re-driven: its run was %s", case.case_number, health)
        report.redriven.append(case.case_number)
    return report


def sweep(as_of: datetime) -> SweepReport:
    """Wake every suspended case run with work due at `as_of`; start runs for cases without one;
    relay the outbox; fetch replies from the office mailbox when one is configured."""
    report = SweepReport(as_of=as_of)
    with session_scope() as session:
        open_cases = views.open_cases(session=session)
    for case in open_cases:
        if case.flow_run_id is None:
            start_case_flow(case.case_number, case.playbook)
            report.started.append(case.case_number)
            continue
        with session_scope() as session:
            view = lookups.case_view(session=session, case_number=case.case_number)
        step = plan_next_step(view, get_playbook(case.playbook), as_of)
        if step.action is Action.WAIT or not is_paused(case.flow_run_id):
            continue
        if wake_case_flow(case.flow_run_id, as_of=as_of):
            report.woken.append(case.case_number)
    # Processes live in real time: a sweep run for a later day (--as-of) must not take a run
    # that is working right now for one stuck since yesterday.
    reconcile(now(), report)
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
