"""Whether a case's flow run still works its case: its state as Prefect has it and, on this
machine, the process that runs it (the reconciler's judgement)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from gateways.prefect_client import client

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun, State


# Prefect is imported inside each function that talks to it: the CLI and the workbench load these
# modules for every command, and importing Prefect's client costs more than a read command.

# A run still Running this long after its last state change has lost its process.
STUCK_AFTER = timedelta(minutes=10)
# A worker starts a run's process within seconds of claiming it (Pending, "Submitting") and
# records its pid; a run Pending this long with no pid lost its worker before it started (when
# it cannot be told whether that worker still lives: see health_of).
STUCK_PENDING_AFTER = timedelta(minutes=1)
# A worker proposes Pending before it starts the process and records the new pid after, so a
# resumed run briefly carries the pid of the process that suspended it: a run is "gone" only
# when no process has run it for this long since its last state change.
GONE_AFTER = timedelta(seconds=30)
_DEAD = ("CRASHED", "FAILED", "CANCELLED", "COMPLETED")


# Requests of read_runs in flight at once: the server builds one page while this process
# validates another (10,000 runs: 9.4 s one at a time, 6.2 s four at a time, on 2 cores).
READS_IN_FLIGHT = 3


def read_runs(flow_run_ids: list[str], *, chunk: int = 200) -> dict[str, FlowRun]:
    """Many runs in a few requests, a few at once (the reconciler reads every open case's run
    each minute); a run Prefect does not have is left out. `chunk`: Prefect's largest page."""
    from concurrent.futures import ThreadPoolExecutor

    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    chunks = [flow_run_ids[start : start + chunk] for start in range(0, len(flow_run_ids), chunk)]
    lanes = [chunks[lane::READS_IN_FLIGHT] for lane in range(min(READS_IN_FLIGHT, len(chunks)))]

    def read_lane(pages: list[list[str]], own: bool) -> list[FlowRun]:
        # A lane of its own has a client of its own: a client's CSRF token is one per client,
        # and two threads fetching one in turn each invalidated the other's (403, retried
        # with back-off: rounds of 30 s).
        with client(own=own) as prefect:
            return [
                run
                for ids in pages
                for run in prefect.read_flow_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(i) for i in ids])),
                    limit=len(ids),
                )
            ]

    if len(chunks) <= 1:
        return {str(run.id): run for run in read_lane(chunks, own=False)}
    with ThreadPoolExecutor(READS_IN_FLIGHT) as pool:
        found = list(pool.map(read_lane, lanes, [True] * len(lanes)))
    return {str(run.id): run for runs in found for run in runs}


def run_health(
    flow_run_id: str, *, as_of: datetime, workers_here: bool = True, run: FlowRun | None = None
) -> str:
    """For an open case's run: "waiting" (suspended), "ok" (moving), "missing", "dead"
    (crashed, failed, cancelled, or finished while the case is open), "gone" (Pending or
    Running, no process running it) or "stuck" (see health_of). `workers_here`: the workers
    run on this machine, so a run's process can be looked for (the embedded stack; not when
    workers run elsewhere). `run`: the run as read a moment ago (read_runs), if it was."""
    if run is None:
        run = _read_run(flow_run_id)
        if run is None:
            return "missing"
    state = run.state
    process = claimer = None
    # Only a run Prefect thinks is moving is looked for on this machine (a scan of /proc).
    if workers_here and state is not None and state.type.value in ("RUNNING", "PENDING"):
        pid = run.infrastructure_pid
        process = _process_runs(pid, flow_run_id) if pid else None
        if process is not True:  # the recorded pid may be stale or not yet recorded
            process = _any_process_runs(flow_run_id)
        if process is False and state.type.value == "PENDING" and state.timestamp is not None:
            claimer = _worker_running_since(state.timestamp)
    health = health_of(
        state,
        as_of=as_of,
        process=process,
        pid_known=pid_of_this_attempt(run),
        claimer=claimer,
    )
    if health in ("gone", "stuck"):
        # The run may have suspended or finished between the read and the process search
        # (its process then exits): judge only a state that held still throughout.
        again = _read_run(flow_run_id)
        if again is None:
            return "missing"
        if again.state is None or state is None or again.state.id != state.id:
            return "ok"
    return health


def pid_of_this_attempt(run: FlowRun) -> bool:
    """Whether the run's recorded pid is of the process its worker started for this attempt. A
    resumed run keeps the pid of the process that suspended it (long gone) until its worker has
    started the new one; Prefect marks such a run as resuming until it is Running again."""
    if not run.infrastructure_pid:
        return False
    pending = run.state is not None and run.state.type.value == "PENDING"
    return not (pending and run.empirical_policy.resuming)


def run_has_ended(flow_run_id: str) -> bool:
    """Whether a run will never work its case again: crashed, failed, cancelled, finished, or
    unknown to Prefect."""
    run = _read_run(flow_run_id)
    return run is None or run.state is None or run.state.type.value in _DEAD


def _read_run(flow_run_id: str) -> FlowRun | None:
    from prefect.exceptions import ObjectNotFound

    with client() as prefect:
        try:
            return prefect.read_flow_run(UUID(flow_run_id))
        except ObjectNotFound:
            return None


def _process_runs(pid: str, flow_run_id: str) -> bool | None:
    """Whether process `pid` on this machine is executing this flow run (None: cannot tell)."""
    try:
        environ = Path(f"/proc/{int(pid)}/environ").read_bytes()
    except FileNotFoundError:
        return False  # no such process
    except (OSError, ValueError):
        return None
    return f"PREFECT__FLOW_RUN_ID={flow_run_id}".encode() in environ.split(b"\0")


def _any_process_runs(flow_run_id: str) -> bool | None:
    """Whether any process on this machine is executing this flow run (None: cannot tell)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    for entry in proc.iterdir():
        if entry.name.isdigit() and _process_runs(entry.name, flow_run_id):
            return True
    return False


def _worker_running_since(moment: datetime) -> bool | None:
    """Whether a Prefect worker of this server on this machine was already running at `moment`
    and still is: the one that claimed a run Pending since then may be among them, still
    submitting it to a busy server. None when /proc cannot tell."""
    from prefect.settings import PREFECT_API_URL

    try:
        ticks = os.sysconf("SC_CLK_TCK")
        booted = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        entries = [e for e in Path("/proc").iterdir() if e.name.isdigit()]
    except (OSError, ValueError, StopIteration):
        return None
    ours = f"PREFECT_API_URL={PREFECT_API_URL.value()}".encode()
    for entry in entries:
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            if b"worker" not in args or b"start" not in args:
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
            # The field after the command's name (which may hold spaces): start time, 22nd.
            started = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
        except (OSError, ValueError, IndexError):
            continue
        other_server = any(e.startswith(b"PREFECT_API_URL=") for e in environ) and (
            ours not in environ
        )
        if not other_server and booted + started <= moment.timestamp():
            return True
    return False


def health_of(
    state: State | None,
    *,
    as_of: datetime,
    process: bool | None = None,
    pid_known: bool = True,
    claimer: bool | None = None,
) -> str:
    """run_health's judgement (a pure function, tested branch by branch). `process`: whether a
    process on this machine runs it (None: cannot tell). `claimer`, for a run Pending with no
    process: whether a worker that was running when it went Pending still runs (None: cannot
    tell). A run Running with no process past GONE_AFTER is "gone"; so is one Pending with no
    process past GONE_AFTER when no worker from before lives, past STUCK_PENDING_AFTER when that
    is not known or its process had started, past STUCK_AFTER while such a worker lives (on a
    busy server claiming and starting a run takes minutes; a worker that fails to start it says
    Crashed). One Pending past STUCK_PENDING_AFTER with no pid recorded and no process to look
    for (workers elsewhere), or Pending or Running with no change past STUCK_AFTER, is
    "stuck"."""
    from prefect.client.schemas.objects import StateType

    if state is None:
        return "missing"
    if state.type.value in _DEAD:
        return "dead"
    if state.is_paused():
        return "waiting"
    if state.type not in (StateType.RUNNING, StateType.PENDING):
        return "ok"
    age = as_of - state.timestamp if state.timestamp is not None else timedelta(0)
    pending = state.type == StateType.PENDING
    if process is False:  # Prefect still says Pending/Running: nobody reported the death
        bound = GONE_AFTER
        if pending and (pid_known or claimer is None):
            bound = STUCK_PENDING_AFTER
        elif pending and claimer:
            bound = STUCK_AFTER
        return "gone" if age > bound else "ok"
    # A pid not known to be this attempt's, and no process found: nothing says it started. One
    # found (a resumed run's new client, its engine waiting its turn in the run starter) has.
    if pending and not pid_known and process is None and age > STUCK_PENDING_AFTER:
        return "stuck"
    return "stuck" if age > STUCK_AFTER else "ok"
