"""A case through the real stack, against the framework's floor and the physical limit.

Three ways to carry one of Ms. Shen's cases (open → request the front desk; "forwarded" →
request the archive room; "received" → closed): the product on the running stack; a bare
Prefect flow on the same server and worker with the same suspends and the same number of task
runs in each execution; and the same business steps as plain function calls in this process.
Runs alternate (bare, product, bare, product …) so a noisy machine hurts both alike, and each
timed action starts at a random point of the worker's polling second (`_wait_to_act`).
"""

from __future__ import annotations

import email
import os
import random
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.sorting import TaskRunSort
from prefect.deployments import run_deployment

from bench.figures import (
    Figure,
    machine_cpu_seconds,
    median,
    p95,
    private_database,
    process_cpu_seconds,
    rss_mib,
)
from casework.clock import now
from casework.planning import Action
from casework.settings import PROJECT_DIR, get_settings
from models import lookups
from models.db import read_scope, session_scope
from stack.processes import Stack
from tasks.record import next_step
from tasks.steps import carry_out
from usecases import answers, intake, reading
from usecases.accounts import console_actor
from usecases.runs import flow_run_of

PLAYBOOK = "recover-cremation-certificate"
FRONT_DESK = "crematorium-front-desk"
ARCHIVE_ROOM = "crematorium-archive-room"


def _form(serial: int) -> intake.IntakeForm:
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


def _settled(flow_run_id: str, after: float, *, final: bool, timeout: float = 300) -> float:
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
    opened = intake.open_case(actor=console_actor(), form=_form(serial), as_of=now())
    run_id = flow_run_of(opened.case_number)
    assert run_id is not None
    waiting = _settled(run_id, started, final=False)
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
        segments.append(_settled(run_id, started, final=final) - started)
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
    segments = [_settled(run_id, started, final=False) - started]
    for execution in range(len(per_execution) - 1):
        _wait_to_act(stack)
        started = time.time()
        starts.append(started)
        _resume_bare(run_id)
        last = execution == len(per_execution) - 2
        segments.append(_settled(run_id, started, final=last) - started)
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
        actor=console_actor(), form=_form(serial), as_of=now(), start=False
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


# ---------------------------------------------------------------- what a clerk feels


def clerk_latency(*, trials: int) -> list[Figure]:
    """As the workbench and the CLI do it, in this process, on the running stack: intake (the
    case's run started) → the notice printed; an answer recorded (its run woken) → visible on
    the case page. Each case's run is left to settle before the next, so runs do not pile up."""
    printable, visible = [], []
    for n in range(trials):
        started = time.perf_counter()
        opened = intake.open_case(actor=console_actor(), form=_form(7000 + n), as_of=now())
        reading.notice_pdf(actor=console_actor(), case_number=opened.case_number, as_of=now())
        printable.append(time.perf_counter() - started)
        run_id = flow_run_of(opened.case_number)
        assert run_id is not None
        _settled(run_id, 0, final=False)
        answered_at = time.time()
        started = time.perf_counter()
        answers.record_answer(
            actor=console_actor(),
            case_number=opened.case_number,
            agency=FRONT_DESK,
            outcome="no-record",
            as_of=now(),
        )
        detail = reading.show_case(
            actor=console_actor(), case_number=opened.case_number, as_of=now()
        )
        assert any(c.outcome == "no-record" for c in detail.contacts)
        visible.append(time.perf_counter() - started)
        _settled(run_id, answered_at, final=False)  # the archive room asked in turn
    seen = median(visible)
    return [
        Figure("latency", "intake → 一次性告知书 printable (PDF)", median(printable), "s",
               f"median of {trials}: open (run started) + the notice as PDF"),
        Figure("latency", "answer recorded → visible on the case page", seen, "s",
               f"median of {trials}: answer (run woken) + the case page's data", "≤ 0.3 s",
               seen <= 0.3),
    ]  # fmt: skip


def _requests_received(mailbox: Path, address: str) -> dict[str, list[float]]:
    """Case number → when the mail server filed each request to `address` for it. The mailbox
    is the bench's whole run: case numbers start again in each case database, so the same
    number's earlier cases are in it too."""
    found: dict[str, list[float]] = {}
    for path in [*(mailbox / "new").glob("*"), *(mailbox / "cur").glob("*")]:
        with open(path, "rb") as handle:
            headers = email.message_from_binary_file(handle)
        if headers.get("To") != address:
            continue
        reply_to = str(headers.get("Reply-To", ""))
        number = reply_to.split("+", 1)[-1].split(".c", 1)[0]
        found.setdefault(number, []).append(path.stat().st_mtime)
    return found


def _first_after(moments: list[float], start: float) -> float | None:
    return min((moment for moment in moments if moment >= start), default=None)


def throughput(
    stack: Stack,
    *,
    cases: int,
    workers: int,
    serial: int,
    label: str = "",
    core_each: bool = False,
) -> list[Figure]:
    """`cases` cases opened at once and each answered as soon as it waits (forwarded, then
    received), with `workers` workers on the pool: cases closed per minute, and each answer
    "forwarded" → the archive room's request at the SMTP server (median, p95). An answer is
    given once the case's run has suspended, as an agency's answer comes long after the letter:
    given while the run was still finishing, it would be read by that run at once and its
    latency would say nothing about a resume. With `core_each`, each worker and the case runs
    it starts are confined to a core of their own, as workers on machines of their own would
    be (Prefect's server, the databases and the clerks keep every core)."""
    extra = [_start_worker(stack, n) for n in range(1, workers)]
    main_worker = stack.pid("worker")
    assert main_worker is not None
    if core_each:
        for core, pid in enumerate([main_worker, *(process.pid for process in extra)]):
            os.sched_setaffinity(pid, {core % (os.cpu_count() or 1)})
    watched = {"server": stack.pid("prefect-server"), "runs": stack.pid("run-starter")}
    try:
        cpu_before = _cpu_snapshot(watched)
        started = time.time()
        numbers = [
            intake.open_case(actor=console_actor(), form=_form(serial + n), as_of=now()).case_number
            for n in range(cases)
        ]
        answered_at = _answer_each_when_it_waits(numbers, deadline=time.monotonic() + 60 * 30)
        deadline = time.monotonic() + 60 * 10
        closed_at = _wait_closed(numbers, deadline)
        cpu = _cpu_used(cpu_before, _cpu_snapshot(watched))
        pids = [stack.pid("worker"), *(process.pid for process in extra)]
        rss = [r for r in (rss_mib(p) for p in pids if p) if r]
    finally:
        for process in extra:
            _stop(process)
        os.sched_setaffinity(main_worker, range(os.cpu_count() or 1))
    minutes = (max(closed_at.values()) - started) / 60
    with session_scope() as session:
        address = lookups.get_agency(session, ARCHIVE_ROOM).email or ""
    arrived = _requests_received(get_settings().mailbox_dir, address)
    firsts = {
        n: _first_after(arrived.get(n, []), answered_at[n]) for n in numbers if n in answered_at
    }
    waits = [first - answered_at[n] for n, first in firsts.items() if first is not None]
    where = f"{label}: " if label else ""
    label = f"{workers} worker{'s' if workers > 1 else ''}{', a core each' if core_each else ''}"
    return [
        Figure("throughput", f"{where}{cases} cases at once, {label}: closed per minute",
               len(closed_at) / minutes, "cases/min", "open → forwarded → received → closed"),
        Figure("latency", f"{where}answer → next request at the SMTP server ({label}, {cases} at once)",
               median(waits), "s", f"median of {len(waits)}; p95 {p95(waits):.1f} s", ""),
        Figure("throughput", f"{where}worker RSS while {cases} cases run ({label})", max(rss), "MiB",
               "largest worker process"),
        Figure("throughput", f"{where}machine CPU busy while {cases} cases run ({label})",
               100 * cpu["busy"] / cpu["all"], "% of all cores",
               f"{os.cpu_count()} cores, /proc/stat, open of the first → close of the last"),
        Figure("throughput", f"{where}CPU per closed case ({label})", cpu["busy"] / len(closed_at),
               "core-s", f"all the machine's work: the case runs {cpu['runs'] / cpu['busy']:.0%}, "
               f"Prefect's server {cpu['server'] / cpu['busy']:.0%}, the rest (databases, "
               "workers, the bench's clerks) the remainder"),
    ]  # fmt: skip


def _cpu_snapshot(pids: dict[str, int | None]) -> dict[str, float]:
    """Core-seconds used so far: by the machine (busy and all), and by each process named (with
    the children it has reaped: the run starter's ended engines)."""
    busy, every = machine_cpu_seconds()
    used = {name: (process_cpu_seconds(pid) if pid else None) or 0.0 for name, pid in pids.items()}
    return {"busy": busy, "all": every, **used}


def _cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in before}


def _answer_each_when_it_waits(numbers: list[str], *, deadline: float) -> dict[str, float]:
    """The office: twice a second, every case whose run is suspended waiting for an agency is
    answered (the front desk forwards, the archive room sends the certificate), several
    answers at once; when each "forwarded" was given. A case with no run, or a run that ended,
    is looked up again every round: the reconciler starts the run the server was too busy to
    start at intake (2026-12-06: two of fifty, and the office waited for them for ever), and
    replaces one that crashed."""
    from gateways.run_health import read_runs

    answered_at: dict[str, float] = {}
    given: set[tuple[str, str]] = set()
    runs: dict[str, str | None] = dict.fromkeys(numbers)
    states: dict[str, FlowRun] = {}
    with ThreadPoolExecutor(max_workers=8) as clerks:
        pending: list[Future[None]] = []
        while len(given) < 2 * len(numbers):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{2 * len(numbers) - len(given)} answers never given")
            for done in [f for f in pending if f.done()]:
                done.result()  # re-raises a clerk's error
                pending.remove(done)
            runs = {n: flow_run_of(n) if _gone(states, r) else r for n, r in runs.items()}
            states = read_runs([r for r in runs.values() if r is not None])
            for number, run_id in runs.items():
                run = states.get(run_id or "")
                if run is None or run.state is None or not run.state.is_paused():
                    continue
                agency = awaited_agency(number)
                if agency is None or (number, agency) in given:
                    continue
                given.add((number, agency))
                forwarded = agency == FRONT_DESK
                if forwarded:
                    answered_at[number] = time.time()
                pending.append(clerks.submit(_answer, number, agency, forwarded))
            time.sleep(0.5)
        for future in pending:
            future.result()
    return answered_at


def _gone(states: dict[str, FlowRun], run_id: str | None) -> bool:
    """No run, or one that ended: the case may have another by now."""
    if run_id is None:
        return True
    run = states.get(run_id)
    return run is not None and run.state is not None and run.state.is_final()


def _answer(number: str, agency: str, forwarded: bool) -> None:
    answers.record_answer(
        actor=console_actor(),
        case_number=number,
        agency=agency,
        outcome="forwarded" if forwarded else "received",
        forward_to=ARCHIVE_ROOM if forwarded else None,
        as_of=now(),
    )


def awaited_agency(case_number: str) -> str | None:
    """The agency whose answer the case waits for (its request sent), if any."""
    with read_scope() as session:
        view = lookups.case_view(session=session, case_number=case_number)
    for material in view.materials:
        if material.open_request is not None:
            return material.agency_slug
    return None


def _wait_closed(numbers: list[str], deadline: float) -> dict[str, float]:
    closed: dict[str, float] = {}
    while len(closed) < len(numbers) and time.monotonic() < deadline:
        with read_scope() as session:
            for number in numbers:
                case = lookups.get_case(session, number)
                if case.closed_at is not None:
                    closed[number] = case.closed_at.astimezone(UTC).timestamp()
        time.sleep(0.5)
    if len(closed) < len(numbers):
        raise TimeoutError(f"{len(numbers) - len(closed)} cases did not close in time")
    return closed


def _start_worker(stack: Stack, n: int) -> subprocess.Popen[bytes]:
    log = open(stack.logs_dir / f"bench-worker-{n}.log", "ab")  # noqa: SIM115 (the child's)
    return subprocess.Popen(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool",
         get_settings().work_pool, "--type", "process", "--name", f"bench-worker-{n}"],
        cwd=PROJECT_DIR, env=stack._env(), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


def idle_worker_rss(stack: Stack) -> float | None:
    pid = stack.pid("worker")
    return rss_mib(pid) if pid else None
