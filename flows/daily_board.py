"""The morning board for the head of the service centre."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from casework.clock import now, office_date
from gateways.run_logs import install_log_masking
from tasks.report import publish_daily_board

install_log_masking()


def _run_name() -> str:
    return f"daily-board-{office_date(now())}"


@flow(name="daily-board", flow_run_name=_run_name)
def daily_board(as_of: datetime | None = None) -> str:
    """Publish the daily case board as the `casework-daily-board` artifact.

    Open cases by type and status, overdue cases and agency contacts, escalations, statutory
    deadlines in the next 30 days, and how each agency answers (requests, answers, median days
    to answer, share never answered). Case numbers and agency names only: no personal data.
    """
    return publish_daily_board(as_of or now())
