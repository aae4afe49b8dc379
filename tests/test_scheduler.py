"""Prefect's own scheduler plans and the worker runs the scheduled deployments: nobody calls
the sweep here, the test only watches what the running stack does by itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentUpdate
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.schedules import SCHEDULE_TYPES, IntervalSchedule
from typer.testing import CliRunner

from casework.clock import now
from cli.main import app
from stack.processes import Stack
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

SCHEDULED = (
    "chase-due-cases/every-15-minutes",
    "daily-board/every-morning",
    "monthly-report/first-of-month",
)


def _runs_of(deployment: str) -> list[FlowRun]:
    with get_client(sync_client=True) as client:
        found = client.read_deployment_by_name(deployment)
        return client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[found.id]))
        )


def test_the_scheduler_plans_every_scheduled_deployment_and_the_worker_runs_the_sweep(
    stack: Stack,
) -> None:
    # Earlier tests in the session may have killed the server on purpose (tests/faults): only
    # what its services log from now on counts.
    log_offset = stack.server_log_size()

    def planned(deployment: str) -> Callable[[], bool]:
        return lambda: any(
            r.auto_scheduled and r.state_name == "Scheduled" for r in _runs_of(deployment)
        )

    for deployment in SCHEDULED:
        wait_for(
            planned(deployment),
            seconds=120,
            every=2,
            what=f"a run of {deployment} planned by the scheduler",
        )
    board = [r for r in _runs_of("daily-board/every-morning") if r.auto_scheduled]
    assert all(
        r.expected_start_time and r.expected_start_time.astimezone().utcoffset() is not None
        for r in board
    )
    # The sweep's real interval is 15 minutes: add a one-minute schedule beside it whose first
    # slot is 20 s away, so the scheduler (not this test) creates a run the worker must pick up
    # within the test's time. Touching the deployment, as an edit in the UI does, hands it to
    # the scheduler's 5-second loop for recently updated deployments instead of its 60-second one.
    with get_client(sync_client=True) as client:
        sweep = client.read_deployment_by_name(SCHEDULED[0])
        soon = now() + timedelta(seconds=20)
        every_minute: list[tuple[SCHEDULE_TYPES, bool]] = [
            (IntervalSchedule(interval=timedelta(seconds=60), anchor_date=soon), True)
        ]
        extra = client.create_deployment_schedules(sweep.id, every_minute)
        client.update_deployment(sweep.id, DeploymentUpdate(description=sweep.description))
    started = now()
    try:
        wait_for(
            lambda: any(
                r.auto_scheduled
                and r.state_name == "Completed"
                and r.end_time is not None
                and r.end_time > started
                for r in _runs_of(SCHEDULED[0])
            ),
            seconds=240,
            every=2,
            what="a scheduled sweep run completed by the worker",
        )
    finally:
        with get_client(sync_client=True) as client:
            for schedule in extra:
                client.delete_deployment_schedule(sweep.id, schedule.id)

    # Removing a schedule drops the planned runs; the scheduler plans the 15-minute ones again.
    wait_for(planned(SCHEDULED[0]), seconds=120, every=2, what="the sweep planned again")
    scheduler_errors = [
        line
        for line in stack.service_errors(since=log_offset)
        if any(word in line for word in ("schedul", "docket", "bulk DML"))
    ]
    assert scheduler_errors == []
    shown = CliRunner().invoke(app, ["status"])
    assert shown.exit_code == 0, shown.output
    assert "巡检（每15分钟）：上次 20" in shown.output, shown.output
    assert "⚠ 巡检" not in shown.output, shown.output
