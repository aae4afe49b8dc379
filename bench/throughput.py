"""What a clerk feels (an answer visible, the notice printable) and how many cases the stack
closes a minute, with one worker or two: the bench's throughput sections."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC
from pathlib import Path

from prefect.client.schemas.objects import FlowRun

from bench.figures import (
    Figure,
    machine_cpu_seconds,
    median,
    p95,
    process_cpu_seconds,
    rss_mib,
)
from bench.orchestration import case_form, settled
from casework.clock import now
from casework.settings import PROJECT_DIR, get_settings
from models import lookups
from models.db import read_scope, session_scope
from stack.processes import Stack
from usecases import answers, intake, reading
from usecases.accounts import console_actor
from usecases.runs import flow_run_of

PLAYBOOK = "recover-cremation-certificate"
FRONT_DESK = "crematorium-front-desk"
ARCHIVE_ROOM = "crematorium-archive-room"


# ---------------------------------------------------------------- what a clerk feels


def clerk_latency(*, trials: int) -> list[Figure]:
    """As the workbench and the CLI do it, in this process, on the running stack: intake (the
    case's run started) → the notice printed; an answer recorded (its run woken) → visible on
    the case page. Each case's run is left to settle before the next, so runs do not pile up."""
    printable, visible = [], []
    for n in range(trials):
        started = time.perf_counter()
        opened = intake.open_case(actor=console_actor(), form=case_form(7000 + n), as_of=now())
        reading.notice_pdf(actor=console_actor(), case_number=opened.case_number, as_of=now())
        printable.append(time.perf_counter() - started)
        run_id = flow_run_of(opened.case_number)
        assert run_id is not None
        settled(run_id, 0, final=False)
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
        settled(run_id, answered_at, final=False)  # the archive room asked in turn
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
            intake.open_case(
                actor=console_actor(), form=case_form(serial + n), as_of=now()
            ).case_number
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
