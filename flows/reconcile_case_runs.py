"""Every minute: a case whose flow run died is picked up again, so nothing stalls after a kill."""

from __future__ import annotations

from prefect import flow

from casework.clock import now
from gateways.run_logs import install_log_masking
from tasks.chase import SweepReport, reconcile_and_relay

install_log_masking()


def _run_name() -> str:
    return f"reconcile-{now():%Y%m%d-%H%M}"


@flow(name="reconcile-case-runs", flow_run_name=_run_name)
def reconcile_cases() -> SweepReport:
    """Re-drive open cases whose flow run is gone.

    Runs every minute. A case run that crashed (its process was killed), failed, was cancelled,
    finished while the case is still open, vanished from Prefect, lost its process (looked for
    on this machine), sat Pending a minute with no process started (its worker died) or
    Running ten minutes without a change gets a new flow run, which re-reads the case database from the top and
    repeats nothing already done; each re-drive is an audit event on the case. A case re-driven
    three times within a day is escalated to a manager instead of looping. A case opened while
    the stack was down gets its first run; a suspended run with work due (an answer recorded
    while it was still moving) is woken. Then any email due
    in the outbox is sent, so mail held back while the mail server was away leaves within a
    minute of its return.
    """
    # One plain call, no task run: every minute, the fewest writes to Prefect's database.
    return reconcile_and_relay(now())
