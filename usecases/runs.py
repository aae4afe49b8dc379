"""Starting and waking a case's flow run after its change is committed to the case database.

The case database is written first, so a front end never waits for Prefect; when the local
stack is down the change is kept and the scheduled sweep starts or wakes the run later.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from pydantic import BaseModel

from casework.settings import get_settings
from gateways import prefect_client, run_inputs, stack_health
from models import lookups
from models.db import session_scope


class RunNudge(BaseModel):
    """What happened to the case's flow run after a change: started, woken, or left to the sweep."""

    flow_run_id: str | None = None
    flow_run_url: str | None = None
    started: bool = False
    woken: bool = False
    stack_down: bool = False
    # Prefect's server was up but failed the call (a 503 from its SQLite under a burst): the
    # change is saved; the every-minute reconciler starts or wakes the run.
    busy: bool = False


def run_url(flow_run_id: str) -> str:
    return f"{get_settings().run_view_url}/runs/flow-run/{flow_run_id}"


def start_case_run(case_number: str, playbook: str) -> RunNudge:
    """Create the case's flow run (once per case) unless the local stack is down."""
    if not stack_health.api_healthy(get_settings()):
        return RunNudge(stack_down=True)
    try:
        flow_run_id = prefect_client.start_case_flow(case_number, playbook)
    except httpx.HTTPError:
        return RunNudge(busy=True)
    return RunNudge(flow_run_id=flow_run_id, flow_run_url=run_url(flow_run_id), started=True)


# A run still working when a change is saved may have read the case just before it and be
# about to suspend (about a second): the change's author waits for that, at most this long.
WAIT_FOR_SUSPENSION_SECONDS = 8


def wake_case_run(case_number: str, *, as_of: datetime | None = None) -> RunNudge:
    """Tell the case's suspended flow run to re-read the case database."""
    flow_run_id = flow_run_of(case_number)
    if flow_run_id is None or not stack_health.api_healthy(get_settings()):
        return RunNudge(flow_run_id=flow_run_id, stack_down=True)
    try:
        woken = run_inputs.wake_case_flow(
            flow_run_id, as_of=as_of, wait_for_pause=WAIT_FOR_SUSPENSION_SECONDS
        )
    except httpx.HTTPError:
        return RunNudge(flow_run_id=flow_run_id, busy=True)
    return RunNudge(flow_run_id=flow_run_id, flow_run_url=run_url(flow_run_id), woken=woken)


def flow_run_of(case_number: str) -> str | None:
    with session_scope() as session:
        return lookups.flow_run_of(session=session, case_number=case_number)


def wait_until_settled(case_number: str, *, after: datetime, timeout: float = 120) -> str:
    """Block until the case's run is waiting or finished again (the demo, the tests)."""
    flow_run_id = flow_run_of(case_number)
    if flow_run_id is None:
        raise LookupError(f"case {case_number} has no flow run")
    return prefect_client.wait_until_settled(flow_run_id, after=after, timeout=timeout)


SWEEP_DEPLOYMENT = "chase-due-cases/every-15-minutes"
SWEEP_EVERY = timedelta(minutes=15)


class SweepHealth(BaseModel):
    work: stack_health.ScheduledWork
    problems: list[str] = []  # message codes: what is wrong with the scheduled sweep


def sweep_health(*, as_of: datetime) -> SweepHealth:
    """Whether Prefect's scheduler keeps the sweep coming: a next run planned and not late,
    and a last run no older than two intervals (once one has run)."""
    work = stack_health.scheduled_work(SWEEP_DEPLOYMENT)
    problems = []
    if work.next_run_at is None:
        problems.append("sweep_not_scheduled")
    elif work.next_run_at < as_of - timedelta(minutes=5):
        problems.append("sweep_late")
    if work.last_run_at is not None and work.last_run_at < as_of - 2 * SWEEP_EVERY:
        problems.append("sweep_overdue")
    return SweepHealth(work=work, problems=problems)


def run_links(case_numbers: list[str]) -> dict[str, str]:
    """Each case's flow run in the Prefect UI (for managers who follow a case there)."""
    links = {}
    for number in case_numbers:
        flow_run_id = flow_run_of(number)
        if flow_run_id:
            links[number] = run_url(flow_run_id)
    return links
