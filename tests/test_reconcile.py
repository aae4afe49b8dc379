"""A case's flow-run process killed with SIGKILL: the scheduled reconciler re-drives the case
within two minutes, and the case carries on as if nothing happened (real stack, real kill)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from sqlmodel import select

from casework.clock import now
from cli.stories import synthetic_id_number
from models.db import session_scope
from models.tables import CaseEvent, EventKind
from stack.processes import Stack
from usecases import intake, reading, runs

pytestmark = pytest.mark.integration


def _state(flow_run_id: str) -> str:
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(flow_run_id)).state
    return str(state.name) if state else "?"


def _process_of(flow_run_id: str) -> int | None:
    """The PID of the process executing this flow run (the worker passes its id in the env)."""
    needle = f"PREFECT__FLOW_RUN_ID={flow_run_id}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if needle in (proc / "environ").read_bytes():
                return int(proc.name)
        except OSError:
            continue
    return None


def test_a_killed_case_run_is_redriven_within_two_minutes(stack: Stack) -> None:
    opened = intake.open_case(
        form=intake.IntakeForm(
            playbook="recover-cremation-certificate",
            name="沈桂兰",
            id_number=synthetic_id_number(now().date().replace(year=1950)),
            phone="13800001234",
            fields={"deceased_name": "王建国", "cremation_date": "2017-06-01"},
        ),
        as_of=now(),
    )
    case_number = opened.case_number
    first_run = runs.flow_run_of(case_number)
    assert first_run is not None
    deadline = time.monotonic() + 90
    pid = None
    while pid is None and time.monotonic() < deadline:
        pid = _process_of(first_run)
        time.sleep(0.1)
    assert pid is not None, f"no process for {first_run} ({_state(first_run)})"
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()

    # Nobody calls anything now: the every-minute reconciler has to notice and re-drive.
    while runs.flow_run_of(case_number) == first_run:
        assert time.monotonic() - killed_at < 150, f"not re-driven ({_state(first_run)})"
        time.sleep(2)
    redriven_after = time.monotonic() - killed_at
    second_run = runs.flow_run_of(case_number)
    assert second_run is not None
    runs.wait_until_settled(case_number, after=now().replace(year=2000), timeout=120)
    assert _state(first_run) == "Crashed"
    assert _state(second_run) == "Suspended"
    detail, _ = reading.show_case(case_number=case_number, as_of=now())
    assert detail.status == "waiting_agency"
    assert [c.kind for c in detail.contacts].count("request") == 1  # sent once, not twice
    with session_scope() as session:
        redrives = session.exec(
            select(CaseEvent).where(CaseEvent.kind == EventKind.RUN_REDRIVEN)
        ).all()
    assert len([e for e in redrives if second_run in e.detail]) == 1
    assert redriven_after < 120 + 10  # two minutes, give or take the poll
