"""A case through the real stack, against the framework's floor and the physical limit.

Three ways to carry one of Ms. Shen's cases (open → request the front desk; "forwarded" →
request the archive room; "received" → closed): the product on the running stack; a bare
Prefect flow on the same server and worker with the same suspends and the same number of task
runs in each execution; and the same business steps as plain function calls in this process.
Runs alternate (bare, product, bare, product …) so a noisy machine hurts both alike, and each
timed action starts at a random point of the worker's polling second (`_wait_to_act`).
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.sorting import TaskRunSort
from prefect.deployments import run_deployment

from bench.figures import (
    Figure,
    median,
    private_database,
)
from casework.clock import now
from casework.planning import Action
from casework.settings import PROJECT_DIR, get_settings
from stack.job_template import bench_job_template
from stack.processes import Stack
from tasks.record import next_step
from tasks.steps import carry_out
from usecases import answers, intake
from usecases.accounts import console_actor
from usecases.runs import flow_run_of

PLAYBOOK = "recover-cremation-certificate"
FRONT_DESK = "crematorium-front-desk"
ARCHIVE_ROOM = "crematorium-archive-room"


def case_form(serial: int) -> intake.IntakeForm:
    from bench.volume import id_number

    return intake.IntakeForm(
        playbook=PLAYBOOK,
        name="沈桂兰",
        id_number=id_number(serial),
        phone="13800001234",
        email=None,
        fields={"deceased_name": "王建国", "cremation_date": "2017-06-01"},
    )


# The worker asks for runs to start once a second (CASEWORK_WORKER_POLL_SECONDS): how long an
# action waits for it depends on where in that second the action falls. Actions a fixed time
# apart fall at the same point time after time, which favoured one way over the other in a
# median (seen: the bare flow's start waited 0.17 s for the worker, Casework's open 0.62 s,
# eight of each). Each timed action starts at a random point of the second instead.
_phase = random.Random(20261206)


def _child_pids(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # the thread or the process ended meanwhile
            continue
    return found


def _quiet(stack: Stack, *, timeout: float = 15) -> None:
    """Wait until no case run's process is left: an engine outlives its run's last state by
    0.6–1 s (and a cold one's exit costs CPU), which the next timed action would otherwise
    share the cores with: the bare flow started cold ran just before each Casework case."""
    deadline = time.monotonic() + timeout
    services = [pid for pid in (stack.pid("worker"), stack.pid("run-starter")) if pid]
    while time.monotonic() < deadline and any(_child_pids(pid) for pid in services):
        time.sleep(0.05)


def _wait_to_act(stack: Stack | None) -> None:
    """Before a timed action: with `stack`, until its last run's engines are gone; then to a
    random point of the worker's polling second."""
    if stack is not None:
        _quiet(stack)
    time.sleep(_phase.random() * get_settings().worker_poll_seconds)


def _read(flow_run_id: str) -> FlowRun:
    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(flow_run_id))


def settled(flow_run_id: str, after: float, *, final: bool, timeout: float = 300) -> float:
    """When (epoch seconds, Prefect's own state time) the run entered Suspended (or a final
    state) after `after`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _read(flow_run_id).state
        if state is not None and state.timestamp is not None:
            at = state.timestamp.timestamp()
            if at > after and (state.is_final() if final else state.is_paused()):
                return at
            if state.is_final() and not final:
                raise RuntimeError(f"run {flow_run_id} ended {state.name} while waiting for it")
        time.sleep(0.1)
    raise TimeoutError(f"run {flow_run_id} did not settle in {timeout} s")


def _handed_over(flow_run_id: str, starts: list[float]) -> list[float]:
    """For each action (its epoch start, in order): seconds from the worker handing the run
    over (its first Pending state after the action) to the run settling (Suspended or final),
    by Prefect's state times. This leaves out the 0–1 s wait for the worker's poll, which moves
    a median of 8 by 0.2 s between runs of the same code: what is left is the engine's start
    (the same for both ways) and the run's own work."""
    with get_client(sync_client=True) as client:
        states = sorted(
            ((s.timestamp.timestamp(), s) for s in client.read_flow_run_states(UUID(flow_run_id))),
            key=lambda timed: timed[0],
        )
    spans = []
    for start, end in zip(starts, [*starts[1:], float("inf")], strict=True):
        inside = [(at, s) for at, s in states if start <= at < end]
        pending = next(at for at, s in inside if s.is_pending())
        settled = next(at for at, s in inside if (s.is_paused() or s.is_final()) and at > pending)
        spans.append(settled - pending)
    return spans


def timed_reads(flow_run_id: str, count: int) -> float:
    """Seconds for `count` reads of one flow run through Prefect's client, one connection."""
    with get_client(sync_client=True) as client:
        started = time.perf_counter()
        for _ in range(count):
            client.read_flow_run(UUID(flow_run_id))
        return time.perf_counter() - started


def _task_runs_per_execution(flow_run_id: str) -> list[int]:
    """How many task runs each execution (one process, between two waits) of a run made."""
    with get_client(sync_client=True) as client:
        states = client.read_flow_run_states(UUID(flow_run_id))
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)])),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
        )
    starts = sorted(s.timestamp for s in states if s.type.value == "RUNNING" and s.timestamp)
    counts = [0] * len(starts)
    for run in runs:
        begun = run.start_time or run.expected_start_time
        if begun is None:
            continue
        index = max((i for i, s in enumerate(starts) if s <= begun), default=0)
        counts[index] += 1
    return counts


# ---------------------------------------------------------------- the three ways


@dataclass
class Trial:
    """One case carried one way: for each action, action → the run settled, and the part of
    it from the worker's hand-over (`_handed_over`)."""

    segments: list[float]
    handed_over: list[float]


def product_case(serial: int, stack: Stack | None = None) -> tuple[Trial, str]:
    """Open, answer "forwarded", answer "received" through the application layer; the trial
    and the case number. With `stack`, each action waits for its engines to be gone first."""
    _wait_to_act(stack)
    started = time.time()
    starts = [started]
    opened = intake.open_case(actor=console_actor(), form=case_form(serial), as_of=now())
    run_id = flow_run_of(opened.case_number)
    assert run_id is not None
    waiting = settled(run_id, started, final=False)
    segments = [waiting - started]
    for agency, outcome, forward_to, final in (
        (FRONT_DESK, "forwarded", ARCHIVE_ROOM, False),
        (ARCHIVE_ROOM, "received", None, True),
    ):
        _wait_to_act(stack)
        started = time.time()
        starts.append(started)
        answers.record_answer(
            actor=console_actor(),
            case_number=opened.case_number,
            agency=agency,
            outcome=outcome,
            forward_to=forward_to,
            as_of=now(),
        )
        segments.append(settled(run_id, started, final=final) - started)
    return Trial(segments, _handed_over(run_id, starts)), opened.case_number


def bare_case(
    serial: int, per_execution: list[int], *, warm: bool, stack: Stack | None = None
) -> Trial:
    """The bare flow through the same server and worker: start, resume, resume; its engines
    started cold by the worker, or `warm` from the run starter as the case flows' are."""
    _wait_to_act(stack)
    started = time.time()
    starts = [started]
    run: FlowRun = run_deployment(  # type: ignore[assignment, call-arg]
        f"bench-bare-case/{'bare-warm' if warm else 'bare'}",
        parameters={"label": str(serial), "per_execution": per_execution},
        timeout=0,
        _sync=True,
    )
    run_id = str(run.id)
    segments = [settled(run_id, started, final=False) - started]
    for execution in range(len(per_execution) - 1):
        _wait_to_act(stack)
        started = time.time()
        starts.append(started)
        _resume_bare(run_id)
        last = execution == len(per_execution) - 2
        segments.append(settled(run_id, started, final=last) - started)
    return Trial(segments, _handed_over(run_id, starts))


def _resume_bare(run_id: str) -> None:
    """Resume the bare flow as the product wakes a case (`gateways.prefect_api`): a run whose
    form schema a busy Prefect server never saved is refused ("Run input schema not found")
    until the schema is saved for it; any other refusal is an error, not a wait."""
    from prefect.client.schemas.responses import SetStateStatus

    from bench.bare_flow import Answer
    from gateways.run_inputs import restore_missing_schema

    with get_client(sync_client=True) as client:
        for attempt in range(2):
            response = client.resume_flow_run(UUID(run_id), run_input={"outcome": "received"})
            if response.status == SetStateStatus.ACCEPT:
                return
            if attempt or not restore_missing_schema(run_id, Answer):
                break
    raise RuntimeError(f"the bare run {run_id} refused its resume: {response.details}")


def plain_case(serial: int) -> list[float]:
    """The same business steps as plain function calls (no Prefect): the physical limit."""

    def drive(case_number: str) -> None:
        as_of = now()
        while True:
            step = next_step(case_number, as_of)
            if step.action in (Action.WAIT, Action.DONE):
                return
            carry_out(case_number, step, as_of, run=lambda task, *args: task.fn(*args))

    segments: list[float] = []
    started = time.perf_counter()
    number = intake.open_case(
        actor=console_actor(), form=case_form(serial), as_of=now(), start=False
    ).case_number
    drive(number)
    segments.append(time.perf_counter() - started)
    for agency, outcome, forward_to in (
        (FRONT_DESK, "forwarded", ARCHIVE_ROOM),
        (ARCHIVE_ROOM, "received", None),
    ):
        started = time.perf_counter()
        answers.record_answer(
            actor=console_actor(),
            case_number=number,
            agency=agency,
            outcome=outcome,
            forward_to=forward_to,
            as_of=now(),
        )
        drive(number)
        segments.append(time.perf_counter() - started)
    return segments


SEGMENTS = ("open → waiting", "answer (forwarded) → next request, waiting", "answer → closed")


def overhead(stack: Stack, *, trials: int, warm_up: bool = True) -> list[Figure]:
    """The three ways side by side, `trials` times each, alternating; without `warm_up` (the
    smoke run) the first product case, which says how many task runs the bare flow makes, is
    also the first trial."""
    stack.use_job_template(bench_job_template(sys.executable, PROJECT_DIR))
    stack._prefect("--no-prompt", "deploy", "--all", "--prefect-file", "bench/prefect.yaml")
    serial = 5000
    products: list[Trial] = []
    bares: list[Trial] = []
    colds: list[Trial] = []
    plain_segments: list[list[float]] = []
    first, warm = product_case(serial, stack)  # the first run pays for cold caches everywhere
    run_id = flow_run_of(warm)
    assert run_id is not None
    per_execution = _task_runs_per_execution(run_id)
    if warm_up:
        bare_case(serial, per_execution, warm=True, stack=stack)
        bare_case(serial, per_execution, warm=False, stack=stack)
    else:
        products.append(first)
    for n in range(trials):
        bares.append(bare_case(serial + n, per_execution, warm=True, stack=stack))
        colds.append(bare_case(serial + 50 + n, per_execution, warm=False, stack=stack))
        if len(products) < trials:
            products.append(product_case(serial + 100 + n, stack)[0])
        with private_database("bench-plain.db"):
            plain_segments.append(plain_case(serial + 200 + n))
    reads = 50
    read_s = timed_reads(run_id, reads) / reads
    figures = [
        Figure("orchestration", "Prefect API: read one flow run", read_s, "s",
               f"mean of {reads}; the reconciler reads each open case's run every minute"),
        Figure("orchestration", "10,000 open cases read one call at a time (what a round "
               "without batching would cost)", 10_000 * 3 * read_s, "s",
               "3 reads a waiting case × the call above; the real round is under capacity"),
    ]  # fmt: skip
    for i, what in enumerate(SEGMENTS):
        product = median([t.segments[i] for t in products])
        bare = median([t.segments[i] for t in bares])
        cold = median([t.segments[i] for t in colds])
        plain = median([s[i] for s in plain_segments])
        ratio = product / bare
        product_run = median([t.handed_over[i] for t in products])
        bare_run = median([t.handed_over[i] for t in bares])
        task_runs = per_execution[min(i, len(per_execution) - 1)]
        figures += [
            Figure("orchestration", f"{what}: Casework on the stack", product, "s",
                   f"median of {trials}, Prefect's state times; engines started warm"),
            Figure("orchestration", f"{what}: bare Prefect flow", bare, "s",
                   f"{task_runs} task runs, same worker, engines started warm"),
            Figure("orchestration", f"{what}: bare Prefect flow, engines started cold", cold,
                   "s", f"{task_runs} task runs, same worker, `python -m prefect.engine`"),
            Figure("orchestration", f"{what}: plain function calls", plain, "s", "no Prefect"),
            Figure("orchestration", f"{what}: Casework ÷ bare Prefect", ratio, "×",
                   "both started warm", "≤ 1.2×", ratio <= 1.2),
            Figure("orchestration", f"{what}: Casework ÷ bare Prefect started cold",
                   product / cold, "×", "what the run starter gives beyond Prefect's default"),
            Figure("orchestration", f"{what}: from the worker's hand-over, Casework − bare "
                   "Prefect", product_run - bare_run, "s",
                   f"Pending → settled, medians {product_run:.2f} s − {bare_run:.2f} s: "
                   "the run's own work, without the wait for the worker's poll"),
        ]  # fmt: skip
    return figures
