"""The seam to Prefect's API: start a case's flow run, wake it, read its state."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import httpx
from pydantic import BaseModel

from casework.clock import now
from casework.prefect_env import prefect_auth_string
from casework.settings import Settings
from models import lifecycle
from models.db import session_scope

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.objects import FlowRun, State
    from prefect.client.schemas.responses import SetStateStatus
    from prefect.input.run_input import Keyset, RunInput

    from gateways.resume_form import CaseInput

# Prefect is imported inside each function that talks to it: the CLI and the workbench load this
# module for every command, and importing Prefect's client costs more than a read command.

CASE_FLOW = "hard-case"

_shared_client: ContextVar[SyncPrefectClient | None] = ContextVar("shared_client", default=None)


@contextlib.contextmanager
def one_client() -> Iterator[None]:
    """Every call to Prefect inside shares one client: making one costs about 30 ms (its HTTP
    transport and TLS context), which a reconciler round over thousands of cases paid for
    each suspended run it looked into."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        token = _shared_client.set(client)
        try:
            yield
        finally:
            _shared_client.reset(token)


@contextlib.contextmanager
def _client(*, own: bool = False) -> Iterator[SyncPrefectClient]:
    """The client one_client() shares, else (or if `own`) a new one for this call."""
    shared = None if own else _shared_client.get()
    if shared is not None:
        yield shared
        return
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        yield client


def deployment_name(playbook: str) -> str:
    """Each case type has its own deployment of the case flow, named by its slug."""
    return f"{CASE_FLOW}/{playbook}"


def start_case_flow(case_number: str, playbook: str) -> str:
    """Create the case's flow run (at most one per case) and record its id on the case."""
    from prefect.deployments import run_deployment

    flow_run: FlowRun = run_deployment(  # type: ignore[assignment, call-arg]
        deployment_name(playbook),
        parameters={"case_number": case_number},
        flow_run_name=f"case-{case_number}",
        timeout=0,
        tags=[playbook],
        idempotency_key=f"case-{case_number}",
        as_subflow=False,
        _sync=True,  # also when an event loop runs in this thread (e.g. a browser driver)
    )
    with session_scope() as session:
        lifecycle.set_flow_run(
            session=session, case_number=case_number, flow_run_id=str(flow_run.id), as_of=now()
        )
    return str(flow_run.id)


def cancel_flow_run(flow_run_id: str) -> None:
    """Stop a run that will not move again, so a re-driven run never works beside it."""
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Cancelled

    with _client() as client:
        try:
            client.set_flow_run_state(UUID(flow_run_id), Cancelled(), force=True)
        except ObjectNotFound:
            return


def redrive_case_flow(case_number: str, playbook: str, attempt: int) -> str:
    """A new flow run for a case whose run died: it re-reads the case database from the top."""
    from prefect.deployments import run_deployment

    flow_run: FlowRun = run_deployment(  # type: ignore[assignment, call-arg]
        deployment_name(playbook),
        parameters={"case_number": case_number},
        flow_run_name=f"case-{case_number}",
        timeout=0,
        tags=[playbook, "re-driven"],
        idempotency_key=f"case-{case_number}-redrive-{attempt}",
        as_subflow=False,
        _sync=True,
    )
    return str(flow_run.id)


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
        with _client(own=own) as client:
            return [
                run
                for ids in pages
                for run in client.read_flow_runs(
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

    with _client() as client:
        try:
            return client.read_flow_run(UUID(flow_run_id))
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


def _wait_keyset(wait_key: str) -> Keyset:
    """Where Prefect keeps a suspended run's form: "suspended-<pause key>-schema|response"."""
    from prefect.input.run_input import keyset_from_base_key

    return keyset_from_base_key(f"suspended-{wait_key}")


def _form_answer(raw: str) -> CaseInput | None:
    """A stored input as a form answer; None if this version cannot read it (left alone)."""
    from gateways.resume_form import CaseInput

    try:
        return CaseInput.model_validate_json(raw)
    except ValueError:
        return None


def unread_form_answer(flow_run_id: str, wait_key: str) -> CaseInput | None:
    """The Resume-form answer (or wake-up) stored under the run's wait key, if any: what a
    resumed run was woken with, or what a run that died never read."""

    with _client() as client:
        try:
            raw = client.read_flow_run_input(UUID(flow_run_id), _wait_keyset(wait_key)["response"])
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 404:  # no answer was given: nothing to carry
                return None
            raise
    return _form_answer(raw)


def wake_case_flow(
    flow_run_id: str, *, as_of: datetime | None = None, wait_for_pause: float = 0
) -> bool:
    """Resume a suspended case run so it re-reads the case database; False if it was not paused
    (or was resumed a moment before by someone else).

    `wait_for_pause`: a run still Running may have read the case database just before the
    change that wakes it, and be about to suspend (a second, seen in the bench when an answer
    follows the request at once). Resumed the moment it suspends, it reads the change; refused
    instead, it would sleep until the reconciler's next round, up to a minute later."""
    from prefect.client.schemas.responses import SetStateStatus

    run_input: dict[str, object] = {"outcome": "recheck"}
    if as_of is not None:
        run_input["as_of"] = as_of.isoformat()
    with _client() as client:
        status = _resume(client, flow_run_id, run_input)
        if (
            status is not SetStateStatus.ACCEPT
            and wait_for_pause > 0
            and _suspends_within(client, flow_run_id, wait_for_pause)
        ):
            status = _resume(client, flow_run_id, run_input)
    # A run no longer paused gets ABORT, which Prefect's resume_flow_run() passes over in
    # silence: the status is the only sign that this wake did nothing.
    return status is SetStateStatus.ACCEPT


def _resume(
    client: SyncPrefectClient, flow_run_id: str, run_input: dict[str, object]
) -> SetStateStatus | None:
    """One resume of the run with this input; None when there was nothing to resume."""
    from prefect.client.schemas.responses import SetStateStatus
    from prefect.exceptions import ObjectNotFound

    from gateways.resume_form import FormOutcome

    for attempt in range(2):
        try:
            response = client.resume_flow_run(UUID(flow_run_id), run_input=run_input)
        except ObjectNotFound:
            return None
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 409:
                raise
            # The response key holds an input already. Mostly another resume stored it a
            # moment earlier, and the run is awake. But a run that came back from Cancelled
            # to Running has its pause keys reset by Prefect and suspends again under the
            # same key with that old input in place: no resume would ever be accepted. A
            # stale wake-up carries nothing; clear it and resume (a stale form answer is
            # left for the reconciler, which records it first).
            stale = stale_wake_input(flow_run_id)
            if attempt or stale is None or stale[1].outcome is not FormOutcome.RECHECK:
                return None
            discard_wake_input(flow_run_id, stale[0])
            continue
        if (
            response.status is SetStateStatus.REJECT
            and not attempt
            and restore_missing_schema(flow_run_id)
        ):
            continue
        return response.status
    return None


def _suspends_within(client: SyncPrefectClient, flow_run_id: str, seconds: float) -> bool:
    """Whether the run, if Running, is Paused within `seconds` (polled every 0.2 s)."""
    from prefect.client.schemas.objects import StateType

    deadline = time.monotonic() + seconds
    while True:
        state = client.read_flow_run(UUID(flow_run_id)).state
        if state is None or state.type is not StateType.RUNNING:
            return state is not None and state.is_paused()
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


# How long after proposing Suspended a live run may still be saving its form's schema.
SCHEMA_SAVE_GRACE = timedelta(seconds=5)


def restore_missing_schema(flow_run_id: str, form: type[RunInput] | None = None) -> bool:
    """A run killed (or left by a busy server) between proposing Suspended and saving its
    form's schema can never be resumed: Prefect rejects every resume with "Run input schema
    not found", as the long fault run found. Save the schema of `form` (a case's form unless
    told) as it would have; True if a resume is worth trying again (the schema is there now).

    A run that suspended moments ago is given until SCHEMA_SAVE_GRACE after its suspension to
    save the schema itself: saved from here first, the run's own save met "already exists"
    and the run failed (the bench's fifty cases at once lost a minute to a re-drive so)."""

    from gateways.resume_form import CaseInput

    with _client() as client:
        run = client.read_flow_run(UUID(flow_run_id))
        state = run.state
        if state is None or not state.is_paused() or not state.state_details.run_input_keyset:
            return False
        keyset = _wait_keyset(str(state.state_details.pause_key))
        saved_by_run_until = (state.timestamp or now()) + SCHEMA_SAVE_GRACE
        while True:
            try:
                client.read_flow_run_input(UUID(flow_run_id), keyset["schema"])
                return True  # the run saved it meanwhile (or it was there all along)
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != 404:
                    raise
            if now() >= saved_by_run_until:
                break
            time.sleep(0.2)
    (form or CaseInput).save(keyset, flow_run_id=UUID(flow_run_id))
    return True


def stale_wake_input(
    flow_run_id: str, *, state: State | None = None
) -> tuple[str, CaseInput] | None:
    """The input stored under the key a suspended run waits on, when the run suspended after
    it was stored, so that no resume will ever read it: (pause key, input). One stored after
    the run suspended is a wake-up or an answer on its way (Prefect stores the input, then
    resumes the run), never stale. `state`: the run's state as read a moment ago, if it was
    (None: read it now; the reconciler passes the state its round read in bulk). Such a
    state serves: an input stored since it was read is newer than it, so on its way as
    above, and a run that suspended again since is judged by the next round's read."""
    from prefect.exceptions import ObjectNotFound

    with _client() as client:
        if state is None:
            try:
                state = client.read_flow_run(UUID(flow_run_id)).state
            except ObjectNotFound:
                return None
        if state is None or not state.is_paused() or not state.state_details.pause_key:
            return None
        key = state.state_details.pause_key
        response_key = _wait_keyset(key)["response"]
        found = client.filter_flow_run_input(UUID(flow_run_id), response_key, 1, set())
    stored = next((i for i in found if i.key == response_key), None)
    if stored is None or stored.created is None or state.timestamp is None:
        return None
    if state.timestamp <= stored.created:
        return None  # stored after the run suspended: on its way to wake it
    answer = _form_answer(stored.value)
    return (key, answer) if answer is not None else None


def discard_wake_input(flow_run_id: str, wait_key: str) -> None:
    """Remove the input stored under a suspended run's key (after it has been recorded)."""
    from prefect.exceptions import ObjectNotFound

    key = _wait_keyset(wait_key)["response"]
    gone_already = contextlib.suppress(ObjectNotFound, httpx.HTTPStatusError)
    with _client() as client, gone_already:
        client.delete_flow_run_input(UUID(flow_run_id), key)


def wait_until_settled(flow_run_id: str, *, after: datetime, timeout: float = 120) -> str:
    """Block until the run is suspended or finished in a state entered after `after`."""

    deadline = time.monotonic() + timeout
    with _client() as client:
        while True:
            run = client.read_flow_run(UUID(flow_run_id))
            state = run.state
            if (
                state is not None
                and (state.is_paused() or state.is_final())
                and state.timestamp is not None
                and state.timestamp > after
            ):
                return str(state.name)
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"flow run {flow_run_id} still {state.name if state else '?'} after {timeout}s"
                )
            time.sleep(0.3)


def api_healthy(settings: Settings) -> bool:
    """True when the Prefect server answers its health check (with the stack's password)."""
    user, _, password = prefect_auth_string(settings).partition(":")
    url = settings.prefect_api_url
    # Over plain http there is no certificate to check, and loading certifi's 150 costs 25 ms.
    verify = url.startswith("https://")
    try:
        response = httpx.get(f"{url}/health", timeout=2, auth=(user, password), verify=verify)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


class ScheduledWork(BaseModel):
    """A scheduled deployment's last finished run and next planned one, as Prefect records them."""

    deployment: str
    last_run_at: datetime | None = None
    last_state: str | None = None
    next_run_at: datetime | None = None


def scheduled_work(deployment: str) -> ScheduledWork:
    """When `flow/deployment` last ran (to a final state) and when it runs next."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.exceptions import ObjectNotFound

    work = ScheduledWork(deployment=deployment)
    with _client() as client:
        try:
            found = client.read_deployment_by_name(deployment)
        except ObjectNotFound:
            return work
        by_deployment = DeploymentFilter(id=DeploymentFilterId(any_=[found.id]))
        final = [StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED]
        last = client.read_flow_runs(
            deployment_filter=by_deployment,
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=final))
            ),
            sort=FlowRunSort.END_TIME_DESC,
            limit=1,
        )
        upcoming = client.read_flow_runs(
            deployment_filter=by_deployment,
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            limit=1,
        )
    if last:
        work.last_run_at = last[0].end_time
        work.last_state = last[0].state_name
    if upcoming:
        work.next_run_at = upcoming[0].expected_start_time
    return work
