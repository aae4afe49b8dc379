"""What managers see in the Prefect UI: run tags, case artifacts, the board and the report."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterKey,
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterName,
)
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment

from casework.clock import now, office_date
from casework.report_formats import daily_board_markdown, monthly_markdown
from cli.stories import Driver, li, synthetic_id_number, today_at_office
from models.board import daily_board
from models.db import session_scope
from models.reports import monthly_report
from tasks.publish import artifact_key
from tasks.report import DAILY_BOARD_KEY, MONTHLY_REPORT_KEY

pytestmark = pytest.mark.integration


def latest_artifacts(keys: list[str]) -> dict[str, Any]:
    with get_client(sync_client=True) as client:
        found = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=keys))
        )
    return {a.key: a for a in found}


def text_of(artifact: Any) -> str:
    """Artifact data as readable text (table artifacts arrive as JSON with escapes)."""
    data = artifact.data
    if isinstance(data, str) and data[:1] in "[{":
        return json.dumps(json.loads(data), ensure_ascii=False)
    return str(data)


def run_named(name: str) -> FlowRun:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name]))
        )
    assert len(runs) == 1, [r.name for r in runs]
    return runs[0]


def test_each_case_run_is_found_by_name_with_tags_and_artifacts(stack: object) -> None:
    number = li(Driver(echo=False), today_at_office())
    run = run_named(f"case-{number}")
    assert {"temporary-assistance", "agency:street-social-assistance", "closed"} <= set(run.tags)
    keys = [
        artifact_key(number, part) for part in ("checklist", "contacts", "progress", "deadline")
    ]
    artifacts = latest_artifacts(keys)
    assert set(artifacts) == set(keys)
    assert artifacts[artifact_key(number, "progress")].data == 100.0
    checklist = text_of(artifacts[artifact_key(number, "checklist")])
    assert "临时救助审批及救助金发放确认" in checklist and "已取得" in checklist
    assert "李**" in text_of(artifacts[artifact_key(number, "deadline")])
    for artifact in artifacts.values():  # nothing personal beyond the masked name
        text = text_of(artifact)
        assert "李桂芳" not in text and synthetic_id_number(date(1968, 11, 5)) not in text


def open_cremation_case(driver: Driver, *, born: date, phone: str) -> str:
    """A cremation-certificate case opened at the window; its run waits on the front desk."""
    return driver.open(
        "recover-cremation-certificate",
        name="何美玲",
        born=born,
        phone=phone,
        fields={"deceased_name": "孙大成", "cremation_date": date(2016, 12, 20).isoformat()},
    )


def test_a_waiting_case_carries_its_agencies_and_flags(stack: object) -> None:
    number = open_cremation_case(Driver(echo=False), born=date(1949, 2, 1), phone="13800009999")
    run = run_named(f"case-{number}")
    assert run.state is not None and run.state.is_paused()
    assert {"recover-cremation-certificate", "agency:crematorium-front-desk", "urgent"} <= set(
        run.tags
    )


def test_each_execution_publishes_only_the_parts_of_the_view_that_changed(stack: object) -> None:
    driver = Driver(echo=False)
    number = open_cremation_case(driver, born=date(1949, 2, 2), phone="13800009998")
    driver.reply(
        number, "crematorium-front-desk", "forwarded", forward_to="crematorium-archive-room"
    )
    run = run_named(f"case-{number}")
    assert "agency:crematorium-archive-room" in run.tags  # retagged by the second execution
    versions: dict[str, list[Any]] = {}
    with get_client(sync_client=True) as client:
        for part in ("checklist", "contacts", "progress", "deadline"):
            versions[part] = client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=[artifact_key(number, part)])
                )
            )
    # The request to the archive room changed who was tried and the contact log; nothing was
    # collected and no date moved.
    assert {part: len(found) for part, found in versions.items()} == {
        "checklist": 2,
        "contacts": 2,
        "progress": 1,
        "deadline": 1,
    }
    for found in versions.values():  # each shown under the task run that published it
        assert all(a.flow_run_id == run.id and a.task_run_id is not None for a in found)


def test_board_and_monthly_report_artifacts_match_the_database(stack: object) -> None:
    started = now()
    board_run: FlowRun = run_deployment(  # type: ignore[assignment]
        "daily-board/every-morning", timeout=120, as_subflow=False
    )
    assert board_run.state is not None and board_run.state.is_completed()
    month = f"{office_date(started):%Y-%m}"
    report_run: FlowRun = run_deployment(  # type: ignore[assignment]
        "monthly-report/first-of-month",
        parameters={"month": month},
        timeout=120,
        as_subflow=False,
    )
    assert report_run.state is not None and report_run.state.is_completed()
    with session_scope() as session:
        expected_board = daily_board_markdown(
            daily_board(session=session, today=office_date(now()))
        )
        figures = monthly_report(session=session, month=month)
    artifacts = latest_artifacts([DAILY_BOARD_KEY, MONTHLY_REPORT_KEY])
    assert artifacts[DAILY_BOARD_KEY].data == expected_board
    report_text = str(artifacts[MONTHLY_REPORT_KEY].data)
    assert report_text.startswith(monthly_markdown(figures))
    assert figures.cases_closed >= 1 and f"| 办结案件 | {figures.cases_closed} |" in report_text
    assert ".xlsx" in report_text and "weekly.png" in report_text


def test_an_escalation_event_refreshes_the_board_through_an_automation(stack: object) -> None:
    import time

    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        automations = client.read_automations()
        assert any("casework.case.escalated" in str(a.trigger.model_dump()) for a in automations), [
            a.name for a in automations
        ]
        before = {
            r.id
            for r in client.read_flow_runs(
                deployment_filter=DeploymentFilter(
                    name=DeploymentFilterName(any_=["every-morning"])
                )
            )
        }
    # Cremated over ten years ago: the case escalates at once (deadline passed).
    number = Driver(echo=False).open(
        "recover-cremation-certificate",
        name="冯桂珍",
        born=date(1946, 5, 5),
        phone="13800005555",
        fields={"deceased_name": "陈永福", "cremation_date": date(2015, 3, 1).isoformat()},
    )
    assert "escalated" in run_named(f"case-{number}").tags
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(
                    name=DeploymentFilterName(any_=["every-morning"])
                ),
                sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            )
        if {r.id for r in runs} - before:
            break
        time.sleep(1)
    else:
        pytest.fail("no daily-board run was triggered by the escalation event")

    # The manager decides to stop: the case closes and its run completes.
    from typer.testing import CliRunner

    from cli.main import app
    from gateways.prefect_client import wait_until_settled

    started = now()
    result = CliRunner().invoke(app, ["withdraw", number, "--reason", "已超过时限，经主任同意终止"])
    assert result.exit_code == 0, result.output
    run = run_named(f"case-{number}")
    assert wait_until_settled(str(run.id), after=started) == "Completed"
    tags = run_named(f"case-{number}").tags
    assert "withdrawn" in tags and "closed" not in tags  # ended, but not done
