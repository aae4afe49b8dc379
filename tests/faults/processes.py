"""The stack's processes as the fault lab sees them: which process runs which flow run, the
runs a worker has claimed, a run's state."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType

from casework.planning import EscalationReason
from casework.settings import get_settings
from stack.run_starter import started_engines
from tests.waiting import process_gone


def flow_run_processes() -> dict[int, str]:
    """Every live process executing a flow run of this lab's stack: pid → flow run id (another
    stack on the machine, e.g. a test session's, is left alone). Not the subprocess in which
    Prefect's worker runs a crashed run's hooks: it carries the run's id, but the run is dead
    already and its case re-driven or about to be (a kill of it is no kill of the case)."""
    home = f"CASEWORK_HOME={get_settings().home}".encode()
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            if home not in environ or process_gone(int(proc.name)):
                continue
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if _is_hook_runner(argv):
            continue
        for entry in environ:
            if entry.startswith(b"PREFECT__FLOW_RUN_ID="):
                found[int(proc.name)] = entry.split(b"=", 1)[1].decode()
    return found | warm_engines()


def warm_engines() -> dict[int, str]:
    """The engines the stack's run starter forked and that still run: pid → flow run id. Their
    environ is the starter's, so the starter's log names their runs; each also has a client
    process (the worker's child, found above) that lives and dies with it."""
    settings = get_settings()
    try:
        starter = int((settings.home / "run" / "run-starter.pid").read_text())
        started = started_engines((settings.logs_dir / "run-starter.log").read_text())
    except (OSError, ValueError):
        return {}
    alive = {}
    for pid, flow_run_id in started.items():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if f"\nPPid:\t{starter}\n" in status and "\nState:\tZ" not in status:
            alive[pid] = flow_run_id
    return alive


def _is_hook_runner(argv: list[bytes]) -> bool:
    """Prefect's `…/_workspace_runtime_bootstrap.py hook <kind> …` (a flow run's is `… engine`)."""
    return any(
        a.endswith(b"_workspace_runtime_bootstrap.py") and b == b"hook" for a, b in pairwise(argv)
    )


def pending_runs() -> set[str]:
    """Runs a worker has claimed and not yet started (Pending, "Submitting")."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PENDING]))
            ),
            limit=200,
        )
    return {str(r.id) for r in runs}


def handed_over(escalation_reasons: list[str]) -> bool:
    """The reconciler gave the case to a manager after three re-drives in a day (by design)."""
    return EscalationReason.RUN_KEEPS_CRASHING in escalation_reasons


def run_state(flow_run_id: str) -> str:
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(flow_run_id)).state
    return str(state.name) if state else "?"


def as_epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
