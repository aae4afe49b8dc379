"""The scheduled sweep: chasing works whether or not anyone touches a case."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from casework.clock import now
from gateways.run_logs import install_log_masking
from tasks.chase import SweepReport, sweep_cases

install_log_masking()


def _run_name() -> str:
    return f"chase-{now():%Y%m%d-%H%M}"


@flow(name="chase-due-cases", flow_run_name=_run_name)
def chase_due_cases(as_of: datetime | None = None) -> SweepReport:
    """Wake every case whose agency has been silent past its follow-up interval.

    Runs on a schedule. For each open case it asks the planner what is due at `as_of`
    (default: now); suspended case runs with a reminder, escalation or request due are resumed
    with a `recheck` input, cases whose flow run was never created get one, and any email
    still in the outbox is sent.
    """
    return sweep_cases(as_of or now())
