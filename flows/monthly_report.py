"""The monthly figures the office reports upward."""

from __future__ import annotations

from datetime import date, timedelta

from prefect import flow

from casework.clock import now, office_date
from gateways.run_logs import install_log_masking
from tasks.report import publish_monthly_report

install_log_masking()


def previous_month(today: date) -> str:
    last_day = today.replace(day=1) - timedelta(days=1)
    return f"{last_day:%Y-%m}"


def _run_name() -> str:
    from prefect.runtime import flow_run

    month = flow_run.parameters.get("month") or previous_month(office_date(now()))
    return f"monthly-report-{month}"


@flow(name="monthly-report", flow_run_name=_run_name)
def monthly_report(month: str | None = None) -> str:
    """Publish the month's report as the `casework-monthly-report` artifact (default: last month).

    People served, households helped per case type and service, materials obtained on the
    citizens' behalf, trips per case (median, share with 0-2), days to close (median, 90th
    percentile), work outside the office's remit, and cases opened/closed per week; CSV, XLSX
    and a PNG chart are written under the Casework home's reports/ folder.
    """
    return publish_monthly_report(month or previous_month(office_date(now())))
