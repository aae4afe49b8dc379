"""Ms. Shen's case (seed 004) through the real stack: Prefect server, process worker, SMTP."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.exceptions import PrefectHTTPStatusError
from prefect.flow_runs import resume_flow_run
from typer.testing import CliRunner

from casework.clock import now, office_date
from casework.settings import get_settings
from casework.workdays import add_working_days
from cli.main import app
from cli.stories import synthetic_id_number
from gateways.maildir import read_mailbox
from gateways.prefect_client import wait_until_settled
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
runner = CliRunner()


def last_execution_task_runs(run_id: str) -> list[str]:
    """The names of the task runs of the run's last execution (since it last entered Running),
    in the order they started."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(run_id)])),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
        )
        states = client.read_flow_run_states(UUID(run_id))
    began = max(s.timestamp for s in states if s.is_running() and s.timestamp)
    started = [(run.start_time or run.expected_start_time, run.name) for run in runs]
    return [name for at, name in sorted(started) if at is not None and at >= began]


def cli(*args: str) -> Any:
    result = runner.invoke(app, ["--lang", "en", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


def mail_for(number: str) -> list[tuple[str, str]]:
    return [
        (m["X-Envelope-To"], m["Subject"])
        for m in read_mailbox(get_settings().mailbox_dir)
        if f"[{number}]" in m["Subject"]
    ]


def contacts(number: str) -> list[tuple[str, str | None, str | None]]:
    shown = cli("show", number, "--json")
    return [(c["kind"], c["agency"], c["outcome"]) for c in shown["contacts"]]


def open_shen_case(cremated: date) -> tuple[str, str]:
    started = now()
    opened = cli(
        "open",
        "recover-cremation-certificate",
        "--json",
        "--name",
        "沈桂兰",
        "--id-number",
        synthetic_id_number(date(1950, 3, 8)),
        "--phone",
        "13800001234",
        "--email",
        "shen.family@example.com",
        "--field",
        "deceased_name=王建国",
        "--field",
        f"cremation_date={cremated.isoformat()}",
    )
    number, run_id = opened["case_number"], opened["flow_run_id"]
    assert run_id, "the flow run was not created"
    assert wait_until_settled(run_id, after=started) == "Suspended"
    return number, run_id


def _has_input(client: Any, run_id: str, key: str) -> bool:
    try:
        client.read_flow_run_input(UUID(run_id), key)
    except PrefectHTTPStatusError as exc:  # 404 until Prefect has saved it
        if exc.response.status_code != 404:
            raise
        return False
    return True


def test_shen_case_end_to_end(stack: object) -> None:
    today = office_date(now())
    # Cremated ten years ago less 20 days: the reissue limit is near, so the case is urgent.
    cremated = date(today.year - 10, today.month, min(today.day, 28)) + timedelta(days=20)
    number, run_id = open_shen_case(cremated)

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(run_id))
        assert run.name == f"case-{number}"
        assert run.parameters == {"case_number": number}
        assert "recover-cremation-certificate" in run.tags
        assert run.state is not None
        pause_key = run.state.state_details.pause_key
        assert pause_key == "case-wait-0"
        key = f"suspended-{pause_key}-description"
        # Prefect sets the Suspended state first and saves the Resume form's inputs after
        # (prefect.flow_runs.suspend_flow_run): a moment when the run waits without them.
        wait_for(
            lambda: _has_input(client, run_id, key), seconds=30, what="the Resume form's inputs"
        )
        description = client.read_flow_run_input(UUID(run_id), key)
    assert "crematorium-front-desk" in description and "火化证明" in description
    assert mail_for(number) == [
        ("shen.family@example.com", f"[{number}] 一次性告知书：补办火化证明（丧葬费补贴）"),
        ("front-desk@crematorium.example", f"[{number}] 关于协助查询火化记录并补办火化证明的函"),
    ]

    # The form keeps no free text: what is typed there would stay in Prefect's database.
    with pytest.raises(RuntimeError, match="note"):
        resume_flow_run(
            UUID(run_id), run_input={"outcome": "recheck", "note": "前台查不到十年前的记录"}
        )
    # The front desk forwards us to the archive room: answered through the Resume form's API.
    started = now()
    resume_flow_run(
        UUID(run_id),
        run_input={
            "outcome": "forwarded",
            "agency": "crematorium-front-desk",
            "forward_to": "crematorium-archive-room",
        },
    )
    assert wait_until_settled(run_id, after=started) == "Suspended"
    assert mail_for(number)[-1] == (
        "archive@crematorium.example",
        f"[{number}] 关于协助查询火化记录并补办火化证明的函",
    )
    # The resumed run read the answer first and recorded it before it planned or published
    # anything: the case was worked once, from what the answer changed.
    assert last_execution_task_runs(run_id) == [
        "record-form-answer",
        "send-request-cremation-certificate-crematorium-archive-room",
        f"publish-case-view-{number}",
    ]

    # Nobody touches the case; the sweep one working day later (urgent: daily) chases.
    started = now()
    due = add_working_days(today, 1)
    sweep = cli("chase", "--as-of", due.isoformat(), "--wait", "--json")
    assert number in sweep["woken"]
    assert mail_for(number)[-1] == (
        "archive@crematorium.example",
        f"[{number}] 催办：火化证明（补办件或火化记录证明）（第1次提醒）",
    )
    sent_so_far = len(mail_for(number))

    # Waking it twice more, and sweeping again on the same day, sends nothing new.
    for _ in range(2):
        started = now()
        cli("chase", "--as-of", due.isoformat(), "--wait", "--json")
    assert len(mail_for(number)) == sent_so_far

    # The archive room finds the record: recorded at the window.
    started = now()
    cli(
        "reply",
        number,
        "--agency",
        "crematorium-archive-room",
        "--outcome",
        "received",
        "--as-of",
        due.isoformat(),
    )
    assert wait_until_settled(run_id, after=started) == "Completed"

    assert mail_for(number) == [
        ("shen.family@example.com", f"[{number}] 一次性告知书：补办火化证明（丧葬费补贴）"),
        ("front-desk@crematorium.example", f"[{number}] 关于协助查询火化记录并补办火化证明的函"),
        ("archive@crematorium.example", f"[{number}] 关于协助查询火化记录并补办火化证明的函"),
        (
            "archive@crematorium.example",
            f"[{number}] 催办：火化证明（补办件或火化记录证明）（第1次提醒）",
        ),
        ("shen.family@example.com", f"[{number}] 办结通知：补办火化证明（丧葬费补贴）"),
    ]
    assert contacts(number) == [
        ("visit", None, "intake"),
        ("notice", None, None),
        ("request", "crematorium-front-desk", "forwarded"),
        ("reply", "crematorium-front-desk", "forwarded"),
        ("request", "crematorium-archive-room", "received"),
        ("reminder", "crematorium-archive-room", None),
        ("reply", "crematorium-archive-room", "received"),
        ("closing", None, None),
    ]
    shown = cli("show", number, "--json")
    events = [e["kind"] for e in shown["events"]]
    assert events == [
        "case-opened",
        "flow-run-linked",
        "applicant-notified",
        "marked-urgent",
        "request-sent",
        "status-changed",
        "reply-recorded",
        "status-changed",
        "request-sent",
        "status-changed",
        "reminder-sent",
        "reply-recorded",
        "status-changed",
        "case-closed",
    ]
    assert shown["status"] == "closed" and shown["trips"] == 1
    assert [m["status"] for m in shown["materials"]] == ["collected"]

    # Re-running the whole flow for the closed case sends nothing and changes nothing.
    rerun: FlowRun = run_deployment(  # type: ignore[assignment]
        "hard-case/recover-cremation-certificate",
        parameters={"case_number": number},
        timeout=120,
        as_subflow=False,
    )
    assert rerun.state is not None and rerun.state.is_completed()
    assert len(mail_for(number)) == 5
    assert contacts(number)[-1] == ("closing", None, None)

    # Every execution of the case's run was forked warm by the stack's run starter: opened,
    # forwarded, chased, woken twice, answered (stack/run_starter.py).
    starter_log = (get_settings().logs_dir / "run-starter.log").read_text()
    assert starter_log.count(f"flow run {run_id}: engine started warm") >= 4
    assert f"flow run {rerun.id}: engine started warm" in starter_log


def test_a_mistyped_resume_form_does_not_fail_the_case(stack: object) -> None:
    number, run_id = open_shen_case(date(2017, 6, 1))
    before = contacts(number)
    started = now()
    resume_flow_run(UUID(run_id), run_input={"outcome": "received", "agency": "no-such-body"})
    assert wait_until_settled(run_id, after=started) == "Suspended"
    assert contacts(number) == before
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(run_id))
    assert run.state is not None and run.state.state_details.pause_key == "case-wait-1"
    # Not recorded, but not dropped in silence: the audit trail says what was refused and why.
    refused = [
        e for e in cli("show", number, "--json")["events"] if e["kind"] == "form-answer-refused"
    ]
    assert len(refused) == 1 and "no-such-body" in refused[0]["detail"]

    # The corrected answer, given on the new form, is recorded.
    started = now()
    resume_flow_run(
        UUID(run_id), run_input={"outcome": "no-record", "agency": "crematorium-front-desk"}
    )
    assert wait_until_settled(run_id, after=started) == "Suspended"
    assert contacts(number)[-2:] == [
        ("reply", "crematorium-front-desk", "no-record"),
        ("request", "crematorium-archive-room", None),
    ]


def test_the_scheduled_sweep_deployment_runs(stack: object) -> None:
    swept: FlowRun = run_deployment(  # type: ignore[assignment]
        "chase-due-cases/every-15-minutes", timeout=120, as_subflow=False
    )
    assert swept.state is not None and swept.state.is_completed(), swept.state
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("chase-due-cases/every-15-minutes")
    assert [s.schedule.interval.total_seconds() for s in deployment.schedules] == [900.0]  # type: ignore[union-attr]
