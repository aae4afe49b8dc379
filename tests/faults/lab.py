"""The fault lab: the real local stack, a mail server that fails on cue, real SIGKILLs, and a
tally of what was lost, stalled, sent twice or never sent.

Everything here acts as the office and its machine would: cases are opened and answered
through the application layer (and the Resume form's API, as a manager in the Prefect UI),
processes are killed with SIGKILL at random or at named crash points (casework.crash_points),
the mail server goes away or answers 421/451/550. Nothing in the product is called to help:
after the faults the lab only waits, and the stack's own every-minute reconciler must put
every case back on its feet.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from itertools import pairwise
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import httpx
from aiosmtpd.controller import Controller
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.responses import SetStateStatus
from prefect.exceptions import ObjectNotFound
from sqlmodel import col, select

from bench.orchestration import awaited_agency
from casework.clock import now
from casework.crash_points import FAULTS_DIR_ENV
from casework.errors import UserError
from casework.planning import Action, EscalationReason, plan_next_step
from casework.playbook import get_playbook
from casework.settings import PROJECT_DIR, get_settings
from cli.stories import synthetic_id_number
from models import lookups
from models.db import session_scope
from models.tables import (
    Case,
    CaseEvent,
    Contact,
    ContactKind,
    EventKind,
    OutboxMessage,
    OutboxStatus,
)
from stack.processes import Stack
from stack.run_starter import started_engines
from tests.waiting import eventually, process_gone, wait_for
from usecases import answers, intake
from usecases.accounts import console_actor

PLAYBOOK = "recover-cremation-certificate"
FRONT_DESK = "crematorium-front-desk"
ARCHIVE_ROOM = "crematorium-archive-room"
ARCHIVE_EMAIL = "archive@crematorium.example"
# A claim a killed relay left behind is taken back after this long (production: 10 minutes);
# shortened so a trial ends in minutes. The logic is the same, only the wait is shorter.
LEASE_SECONDS = 45
# Kills of one case's runs in a day: the reconciler escalates a case after three re-drives
# (by design: a case that keeps crashing goes to a manager), so random kills stop short of it.
KILLS_PER_CASE = 2
# The reconciler's and the sweep's runs take seconds to start on two cores; killed whenever one
# is seen, none would ever finish and nothing could heal (a live-lock of the harness's making,
# seen in the first long run). One such kill per this many seconds leaves the every-minute
# reconciler a run in between.
SERVICE_KILL_GAP_SECONDS = 150
# A sender marks an email sent in milliseconds after the server's 250: a random kill of the
# process that sent the first copy, this soon after it arrived, can have landed in between, and
# the copy sent again (flagged) is the one the design allows.
ACCEPTED_TO_MARK_SECONDS = 2.0
# How long the harness watches a killed run's processes go: a warm engine dies when it sees
# its client gone, a moment after the client's SIGKILL.
DEATH_WATCH_SECONDS = 5.0


@dataclass
class Received:
    message_id: str
    to: str
    resend: bool
    at: float = field(default_factory=time.time)  # when the server answered 250
    sender_pid: int | None = None  # the process that held the client's end of the connection
    connected_at: float | None = None  # when it said EHLO (it was alive then)


@dataclass
class Kill:
    what: str
    at: float  # wall clock (time.time()), to compare with the audit trail's timestamps
    case_number: str | None = None
    flow_run_id: str | None = None
    # The processes this kill took down: a copy one of them had sent, accepted and not yet
    # marked, goes again. The case alone cannot say whose copy it was: the reconciler's run
    # relays every case's outbox and has no case.
    pids: tuple[int, ...] = ()
    # When the last of them was seen gone (None: not watched, or alive after the watch). A
    # message its sender had written before it died can be accepted after the kill.
    gone: float | None = None


@dataclass
class Answer:
    case_number: str
    agency: str
    outcome: str
    via_form: bool


@dataclass
class Tally:
    scenario: str
    trials: int = 0
    lost: int = 0  # cases missing from the database, or answers given and not recorded
    stalled: int = 0  # open cases not waiting quietly (with nothing due) at the end
    duplicates: int = 0  # copies of one Message-ID at the mail server beyond the first
    flagged: int = 0  # of those, copies marked X-Casework-Resend
    undelivered: int = 0  # outbox rows not sent at the end, or "sent" but never received
    refused: int = 0  # rows failed for good (550): shown to staff, not retried
    # Cases re-driven three times in a day and escalated to a manager instead (by design: the
    # harness aims at most two kills at a case, but a worker's kill can add a third).
    handed_over: int = 0
    allowed_duplicates: int = 0  # copies a kill of their sender explains (`resend_causes`)
    redrive_seconds: list[float] = field(default_factory=list)
    # Re-drives with no kill of the case's run since its last one: the run died on its own.
    unprovoked: int = 0
    # Each re-drive: the case, when, the reconciler's reason, the kill it answers (if any).
    redrive_log: list[dict[str, Any]] = field(default_factory=list)
    # Each message that arrived more than once: its copies and the kill that explains them.
    resend_log: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            self.lost == 0
            and self.stalled == 0
            and self.undelivered == 0
            and self.duplicates <= self.allowed_duplicates
            and self.duplicates == self.flagged
            and all(s <= 120 for s in self.redrive_seconds)
            and not self.problems  # each one, counted above or not, fails the row
        )

    def row(self) -> dict[str, Any]:
        times = self.redrive_seconds
        return {
            "scenario": self.scenario,
            "trials": self.trials,
            "lost": self.lost,
            "stalled": self.stalled,
            "duplicates": f"{self.duplicates} ({self.flagged} flagged)",
            "undelivered": self.undelivered,
            "refused_550": self.refused,
            "handed_to_manager": self.handed_over,
            "redrive_median_s": round(statistics.median(times), 1) if times else None,
            "redrive_max_s": round(max(times), 1) if times else None,
            "redrives": len(times) + self.unprovoked,
            "unprovoked_redrives": self.unprovoked,
            "passed": self.passed,
        }


class MisbehavingMail:
    """A real SMTP server (aiosmtpd) that keeps what it accepts and fails on cue: answers from
    `script` for the next DATA commands, 550 for addresses in `refuse`, and SIGKILL of the run
    sending for the case a kill is aimed at, at its next "connect" (the outbox row is claimed
    and committed, nothing sent), "data" (during DATA) or "accepted" (kept, 250 not yet read,
    sent mark not yet written)."""

    def __init__(self, host: str, port: int, case_of_run: Callable[[str], str | None]) -> None:
        self.host, self.port = host, port
        self.case_of_run = case_of_run
        self.messages: list[Received] = []
        self.script: list[str] = []
        self.refuse: set[str] = set()
        # (moment, case number): a kill is aimed at one case's run, and another case's mail
        # passes, or a kill would count against a row that did not ask for it (it did, in the
        # long run of 6b72422, and a short run found the 250 row without its kill).
        self.kill_at: list[tuple[str, str]] = []
        self.kills: list[Kill] = []
        self._controller: Controller | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _take(self, session: Any, moment: str) -> bool:
        """Kill the sender if the next kill is aimed at this moment and at its case."""
        with self._lock:
            if not self.kill_at or self.kill_at[0][0] != moment:
                return False
            aimed = self.kill_at[0][1]
        pid = self._sender(session)
        if pid is None or pid == os.getpid():
            return False
        flow_run_id = flow_run_processes().get(pid)
        if flow_run_id is None or self.case_of_run(flow_run_id) != aimed:
            return False  # the reconciler's relay, or another case's run
        with self._lock:
            if self.kill_at[:1] != [(moment, aimed)]:
                return False
            self.kill_at.pop(0)
        os.kill(pid, signal.SIGKILL)
        self.kills.append(Kill(f"smtp {moment}", time.time(), aimed, flow_run_id, (pid,)))
        return True

    def _sender(self, session: Any) -> int | None:
        """The client's process, looked up once a connection, at its EHLO: the client waits
        for the answer, so it is alive (by DATA it may have died, its message in the pipe)."""
        if not hasattr(session, "sender_pid"):
            session.connected_at = time.time()
            session.sender_pid = peer_pid(session.peer[1])
        return cast("int | None", session.sender_pid)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self._sender(session)
        self._take(session, "connect")
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self._take(session, "data"):
            return "451 4.3.0 Sender went away"
        with self._lock:
            answer = self.script.pop(0) if self.script else "250 OK"
        if answer.startswith("250"):
            raw = envelope.original_content or envelope.content
            message = message_from_bytes(raw, policy=policy.default)
            self.messages.append(
                Received(
                    message_id=str(message["Message-ID"]),
                    to=", ".join(envelope.rcpt_tos),
                    resend=message["X-Casework-Resend"] == "yes",
                    sender_pid=self._sender(session),
                    connected_at=session.connected_at,
                )
            )
            self._take(session, "accepted")
        return answer


# Kills that can leave a message accepted and not marked sent: of a run's processes (at random,
# or with the worker), or of the sender aimed at right after the server took its message.
SENDER_KILLS = ("flow run", "worker's run", "smtp accepted")


def resend_causes(
    received: list[Received], kills: list[Kill]
) -> list[tuple[list[Received], Kill | None]]:
    """Each message that arrived more than once, its copies in order of arrival, and the kill
    that explains one copy again: the process that sent the first (a case's run or the
    reconciler's) killed after it connected and before it could mark the copy sent, so it went
    again, flagged. None when no kill does, or when a copy after the first is not flagged."""
    copies: dict[str, list[Received]] = {}
    for message in sorted(received, key=lambda m: m.at):
        copies.setdefault(message.message_id, []).append(message)
    causes: list[tuple[list[Received], Kill | None]] = []
    for found in copies.values():
        if len(found) < 2:
            continue
        first = found[0]
        cause = None
        if all(copy.resend for copy in found[1:]) and first.sender_pid is not None:
            cause = next(
                (
                    k
                    for k in kills
                    if k.what in SENDER_KILLS
                    and first.sender_pid in k.pids
                    and first.connected_at is not None
                    and first.connected_at <= (k.gone or k.at)
                    and k.at <= first.at + ACCEPTED_TO_MARK_SECONDS
                ),
                None,
            )
        causes.append((found, cause))
    return causes


def _clock(moment: float | None) -> str:
    """A wall-clock moment as the stack's logs write it (UTC, milliseconds)."""
    if moment is None:
        return "?"
    return datetime.fromtimestamp(moment, UTC).strftime("%H:%M:%S.%f")[:-3]


def _resend_told(copies: list[Received], cause: Kill | None) -> dict[str, Any]:
    return {
        "message": copies[0].message_id,
        "copies": [
            f"{_clock(m.at)} from pid {m.sender_pid} (EHLO {_clock(m.connected_at)})"
            + (", flagged" if m.resend else "")
            for m in copies
        ],
        "kill": f"{cause.what} at {_clock(cause.at)} {cause.flow_run_id or ''}".strip()
        if cause
        else None,
    }


def peer_pid(port: int) -> int | None:
    """The process holding the local TCP socket on `port` (the SMTP client's end)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{parts[9]}]")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return int(proc.name)
        except OSError:
            continue
    return None


def watch_deaths(pids: set[int], timeout: float = DEATH_WATCH_SECONDS) -> dict[int, float]:
    """When each of these processes was first seen gone (dead or a zombie), watched every few
    milliseconds for up to `timeout` seconds; one still alive then is left out."""
    gone: dict[int, float] = {}

    def all_gone() -> bool:
        for pid in pids - gone.keys():
            if process_gone(pid):
                gone[pid] = time.time()
        return gone.keys() >= pids

    eventually(all_gone, seconds=timeout, every=0.005)
    return gone


def _last_gone(pids: tuple[int, ...], gone: dict[int, float]) -> float | None:
    """When the last of a kill's processes went; None if one outlived the watch."""
    return max(gone[p] for p in pids) if pids and all(p in gone for p in pids) else None


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
    return found | _warm_engines()


def _warm_engines() -> dict[int, str]:
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


def _as_epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class Lab:
    """Drives cases on the running stack, injects faults, and counts what went wrong."""

    def __init__(self, stack: Stack, workdir: Path, seed: int = 20261124) -> None:
        self.stack = stack
        self.settings = get_settings()
        self.faults_dir = workdir / "crash-points"
        self.faults_dir.mkdir(parents=True, exist_ok=True)
        self.mail = MisbehavingMail(
            self.settings.smtp_host, self.settings.smtp_port, self.case_of_run
        )
        self.rng = random.Random(seed)
        self.tallies: list[Tally] = []  # what the scenarios counted, for the report
        self.serial = 0
        self.kills: list[Kill] = []
        self.kills_by_case: Counter[str] = Counter()
        self.last_service_kill = 0.0
        self.answers: list[Answer] = []

    # -- the stack ------------------------------------------------------------------------

    def __enter__(self) -> Lab:
        """Take over the stack: this lab's mail server instead of the stack's, and a worker
        that carries the crash points and the short lease."""
        self.stack.stop_service("mail-server")
        self.mail.start()
        self.stack.extra_env = {
            FAULTS_DIR_ENV: str(self.faults_dir),
            "CASEWORK_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        }
        self.stack.stop_service("worker")
        self.stack.revive(mail_server=False)
        return self

    def __exit__(self, *exc: object) -> None:
        self.mail.stop()
        self.stack.extra_env = {}
        self.stack.stop_service("worker")
        self.stack.revive()

    def kill_worker(self) -> bool:
        """SIGKILL the worker, as the OOM killer would. Its runs in flight die with it (their
        output pipe breaks), so they count against their cases' kills; False (no kill) when
        one of those cases has had its share."""
        pid = self.stack.pid("worker")
        # Its runs in flight: those with a process, and those it claimed and has not started.
        processes = flow_run_processes()
        runs = set(processes.values()) | pending_runs()
        in_flight = {r: c for r in runs if (c := self.case_of_run(r))}
        if pid is None or any(self.kills_by_case[c] >= KILLS_PER_CASE for c in in_flight.values()):
            return False
        os.kill(pid, signal.SIGKILL)
        moment = time.time()
        gone = watch_deaths({pid, *processes})
        self.kills.append(Kill("worker", moment, pids=(pid,), gone=gone.get(pid)))
        # A run the worker claimed between the look above and the kill never starts either
        # (seen in a long run: five cases opened a second before, re-driven as if nothing had
        # hit them). Nothing else claims runs until the lab revives the worker.
        for flow_run_id in pending_runs() - runs:
            runs.add(flow_run_id)
            if case_number := self.case_of_run(flow_run_id):
                in_flight[flow_run_id] = case_number
        for case_number in in_flight.values():
            self.kills_by_case[case_number] += 1
        # Every run dies with the worker: the cases' and the reconciler's, which relays mail.
        for flow_run_id in runs:
            pids = tuple(p for p, r in processes.items() if r == flow_run_id)
            kill = Kill("worker's run", moment, in_flight.get(flow_run_id), flow_run_id, pids)
            kill.gone = _last_gone(pids, gone)
            self.kills.append(kill)
        return True

    def kill_server(self) -> None:
        """SIGKILL the Prefect server (its whole process group) with runs in flight."""
        pid = self.stack.pid("prefect-server")
        if pid is not None:
            os.killpg(pid, signal.SIGKILL)
            self.kills.append(Kill(what="prefect server", at=time.time()))

    def kill_starter(self) -> int:
        """SIGKILL the run starter (its process group) as soon as engines it forked are running
        (they live on, each in a session of its own); how many were."""
        engines: dict[int, str] = {}

        def running() -> bool:
            engines.update(_warm_engines())
            return bool(engines)

        # What was seen running is what the kill counts: a second look could come after they ended.
        wait_for(running, seconds=120, what="no engine running to kill the starter under")
        pid = self.stack.pid("run-starter")
        if pid is not None:
            os.killpg(pid, signal.SIGKILL)
            self.kills.append(Kill(what="run starter", at=time.time()))
        return len(engines)

    def revive(self) -> None:
        """What a supervisor (systemd, `casework up`) does: restart whatever died."""
        self.stack.revive(mail_server=False)

    def kill_a_run(self) -> Kill | None:
        """SIGKILL one flow-run process picked at random (a case's or the reconciler's)."""
        running = flow_run_processes()
        self.rng.shuffle(pids := list(running))
        for pid in pids:
            flow_run_id = running[pid]
            case_number = self.case_of_run(flow_run_id)
            if case_number is not None and self.kills_by_case[case_number] >= KILLS_PER_CASE:
                continue
            if case_number is None and time.time() - self.last_service_kill < (
                SERVICE_KILL_GAP_SECONDS
            ):
                continue
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            # The run's other process (a warm engine's client, or the engine) dies with it.
            taken = tuple(p for p, r in running.items() if r == flow_run_id)
            kill = Kill("flow run", time.time(), case_number, flow_run_id, taken)
            kill.gone = _last_gone(taken, watch_deaths(set(taken)))
            if case_number is not None:
                self.kills_by_case[case_number] += 1
            else:
                self.last_service_kill = kill.at
            self.kills.append(kill)
            return kill
        return None

    def arm(self, point: str, case_number: str | None = None) -> Path:
        """Arm a crash point for the stack's processes (and the CLI processes the lab starts)."""
        name = f"{point}@{case_number}" if case_number else point
        armed = self.faults_dir / f"{name}.armed"
        armed.touch()
        return armed.with_suffix(".fired")

    # -- the office's work ----------------------------------------------------------------

    def open_case(self, *, email: str | None = None) -> str:
        self.serial += 1
        form = intake.IntakeForm(
            playbook=PLAYBOOK,
            name="沈桂兰",
            id_number=synthetic_id_number(date(1950, 3, 1), serial=f"{self.serial % 1000:03d}"),
            phone="13800001234",
            email=email or f"applicant{self.serial}@family.example",
            fields={"deceased_name": "王建国", "cremation_date": "2017-06-01"},
        )
        return intake.open_case(actor=console_actor(), form=form, as_of=now()).case_number

    def awaited(self, case_number: str) -> str | None:
        """The agency whose answer the case waits for (its request sent), if any."""
        return awaited_agency(case_number)

    def answer(self, case_number: str, *, via_form: bool = False) -> bool:
        """Give the awaited agency's answer (front desk: forwarded; archive room: received)
        at the window or through the Resume form; False if nothing is awaited yet."""
        agency = self.awaited(case_number)
        if agency is None:
            return False
        outcome = "forwarded" if agency == FRONT_DESK else "received"
        forward_to = ARCHIVE_ROOM if agency == FRONT_DESK else None
        if via_form:
            if not self.form_answer(case_number, agency, outcome, forward_to):
                return False
        else:
            try:
                answers.record_answer(
                    actor=console_actor(),
                    case_number=case_number,
                    agency=agency,
                    outcome=outcome,
                    forward_to=forward_to,
                    as_of=now(),
                )
            except UserError:
                return False
        self.answers.append(Answer(case_number, agency, outcome, via_form))
        return True

    def form_answer(
        self, case_number: str, agency: str, outcome: str, forward_to: str | None = None
    ) -> bool:
        """A manager's answer in the Prefect UI's Resume form (its API); False if the run was
        not waiting (the UI would say so)."""
        run_id = self.run_of(case_number)
        try:
            if run_id is None or run_state(run_id) != "Suspended":
                return False
        except httpx.HTTPStatusError:  # the UI would not load the run just now
            return False
        run_input: dict[str, str] = {"outcome": outcome, "agency": agency}
        if forward_to:
            run_input["forward_to"] = forward_to
        with get_client(sync_client=True) as client:
            try:
                response = client.resume_flow_run(UUID(run_id), run_input=run_input)
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code == 409:  # resumed by another a moment earlier
                    return False
                if exc.response.status_code >= 500:
                    # The server, overloaded (SQLite locked), failed the click after the
                    # client's retries: the UI shows the error and nothing is counted as given.
                    # Input it kept anyway is a stale input the reconciler records.
                    return False
                raise
        # ABORT: resumed a moment before by someone else; the UI shows its reason.
        return response.status == SetStateStatus.ACCEPT

    def answer_in_a_killed_process(self, case_number: str) -> Answer | None:
        """`casework reply` killed mid-transaction (crash point), then typed again by the clerk."""
        agency = self.awaited(case_number)
        if agency is None:
            return None
        fired = self.arm("answer-before-commit", case_number)
        args = ["reply", case_number, "--agency", agency, "--outcome"]
        args += (
            ["forwarded", "--forward-to", ARCHIVE_ROOM] if agency == FRONT_DESK else ["received"]
        )
        env = dict(os.environ, **{FAULTS_DIR_ENV: str(self.faults_dir)})
        first = subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            check=False,
            timeout=120,
        )
        if first.returncode != -signal.SIGKILL or not fired.exists():
            raise AssertionError(f"the reply was not killed mid-transaction: {first.returncode}")
        self.kills.append(Kill("casework reply mid-transaction", time.time(), case_number))
        again = subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            check=False,
            timeout=120,
        )
        if again.returncode != 0:
            raise AssertionError(again.stderr.decode(errors="replace"))
        answer = Answer(case_number, agency, args[5], via_form=False)
        self.answers.append(answer)
        return answer

    # -- reading the outcome --------------------------------------------------------------

    def run_of(self, case_number: str) -> str | None:
        with session_scope() as session:
            return lookups.flow_run_of(session=session, case_number=case_number)

    def case_of_run(self, flow_run_id: str) -> str | None:
        """The case a flow run works (case runs are named "case-<number>"), or None."""
        with get_client(sync_client=True) as client:
            try:
                name = client.read_flow_run(UUID(flow_run_id)).name
            except ObjectNotFound:
                return None
        return name.removeprefix("case-") if name.startswith("case-") else None

    def crashed_at_point(self, fired: Path, case_number: str) -> None:
        """Note a crash point's kill (the dying process wrote the moment into the file)."""
        moment = float(fired.read_text().split()[0])
        self.kills.append(Kill(f"crash point {fired.stem}", moment, case_number))

    def problem(self, case_number: str) -> str | None:
        """Why the case is not at rest: None when closed, or suspended with nothing due."""
        with session_scope() as session:
            if session.exec(select(Case).where(Case.number == case_number)).first() is None:
                return "lost"
            view = lookups.case_view(session=session, case_number=case_number)
            run_id = lookups.flow_run_of(session=session, case_number=case_number)
        if view.status == "closed" or handed_over(view.escalation_reasons):
            return None  # done, or with a manager by design (see Tally.handed_over)
        if run_id is None:
            return "no run"
        state = run_state(run_id)
        if state != "Suspended":
            return f"run {state}"
        step = plan_next_step(view, get_playbook(view.playbook), now())
        if step.action is not Action.WAIT:
            return f"{step.action} due"
        return None

    def drive(self, cases: list[str], *, until: float, form_share: float = 0.3) -> list[str]:
        """Answer whatever is awaited until every case is closed (or time runs out); returns
        the cases still open."""
        open_cases = list(cases)
        while open_cases and time.time() < until:
            for case_number in list(open_cases):
                if self.problem(case_number) is None:
                    with session_scope() as session:
                        view = lookups.case_view(session=session, case_number=case_number)
                    if view.status == "closed" or handed_over(view.escalation_reasons):
                        open_cases.remove(case_number)
                        continue
                    self.answer(case_number, via_form=self.rng.random() < form_share)
            time.sleep(1)
        return open_cases

    def settle(self, cases: list[str], *, timeout: float) -> dict[str, str]:
        """Wait (doing nothing) until every case is at rest; returns those that never were."""
        deadline = time.time() + timeout
        while True:
            problems = {c: p for c in cases if (p := self.problem(c)) is not None}
            if not problems or time.time() > deadline:
                return problems
            time.sleep(3)

    def outbox_settled(self, cases: list[str], *, timeout: float) -> None:
        """Wait until no email of these cases is pending or claimed (retries run meanwhile)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            rows = self._outbox(cases)
            if all(r.status not in (OutboxStatus.PENDING, OutboxStatus.SENDING) for r in rows):
                return
            time.sleep(3)

    def sends_failed(self, cases: list[str], *, timeout: float) -> bool:
        """Wait until an email of each of these cases has failed to go; False if one never did."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len({r.case_id for r in self._outbox(cases) if r.last_error}) == len(cases):
                return True
            time.sleep(1)
        return False

    def _outbox(self, cases: list[str]) -> list[OutboxMessage]:
        with session_scope() as session:
            ids = [
                c.id for c in session.exec(select(Case).where(col(Case.number).in_(cases))).all()
            ]
            return list(
                session.exec(select(OutboxMessage).where(col(OutboxMessage.case_id).in_(ids)))
            )

    def tally(self, scenario: str, cases: list[str], *, trials: int, since: float) -> Tally:
        """Count what was lost, stalled, sent twice or not at all for these cases."""
        tally = Tally(scenario=scenario, trials=trials)
        for case_number in cases:
            with session_scope() as session:
                reasons = lookups.case_view(
                    session=session, case_number=case_number
                ).escalation_reasons
            tally.handed_over += handed_over(reasons)
            problem = self.problem(case_number)
            if problem == "lost":
                tally.lost += 1
            elif problem is not None:
                tally.stalled += 1
                tally.problems.append(f"{case_number}: {problem}")
        tally.lost += self._lost_answers(cases)
        rows = self._outbox(cases)
        ids = {r.message_id for r in rows}
        received = Counter(m.message_id for m in self.mail.messages if m.message_id in ids)
        for row in rows:
            if row.status == OutboxStatus.FAILED:
                tally.refused += 1
            elif row.status != OutboxStatus.SENT or received[row.message_id] == 0:
                tally.undelivered += 1
                tally.problems.append(f"{row.message_id}: {row.status}, {row.last_error}")
        tally.duplicates = sum(n - 1 for n in received.values())
        tally.flagged = sum(1 for m in self.mail.messages if m.message_id in ids and m.resend)
        tally.flagged = min(tally.flagged, tally.duplicates)
        arrived = [m for m in self.mail.messages if m.at >= since and m.message_id in ids]
        causes = resend_causes(arrived, [*self.kills, *self.mail.kills])
        tally.allowed_duplicates = sum(1 for _, cause in causes if cause is not None)
        tally.resend_log = [_resend_told(copies, cause) for copies, cause in causes]
        if tally.duplicates > tally.allowed_duplicates:
            tally.problems += [
                f"{r['message']} sent again unexplained: {r['copies']}; kills within 10 s: "
                + "; ".join(
                    f"{k.what} at {_clock(k.at)}, pids {k.pids}, gone {_clock(k.gone)}"
                    for k in [*self.kills, *self.mail.kills]
                    if abs(k.at - copies[0].at) <= 10
                )
                for r, (copies, cause) in zip(tally.resend_log, causes, strict=True)
                if cause is None
            ]
        tally.redrive_log = self._redrive_log(cases, since)
        tally.redrive_seconds = [r["seconds"] for r in tally.redrive_log if r["kill"]]
        tally.unprovoked = sum(1 for r in tally.redrive_log if not r["kill"])
        return tally

    def replies_from(self, case_number: str, agency: str) -> int:
        """How many answers from this agency the case database holds."""
        with session_scope() as session:
            return sum(1 for a, _ in _replies(session, case_number, distinct=False) if a == agency)

    def refused_form_answers(self, case_number: str) -> int:
        """Form answers refused in the case's audit trail (where the manager sees them)."""
        with session_scope() as session:
            case = session.exec(select(Case).where(Case.number == case_number)).one()
            return len(
                session.exec(
                    select(CaseEvent).where(
                        CaseEvent.case_id == case.id,
                        CaseEvent.kind == EventKind.FORM_ANSWER_REFUSED,
                    )
                ).all()
            )

    def _lost_answers(self, cases: list[str]) -> int:
        lost = 0
        with session_scope() as session:
            for answer in [a for a in self.answers if a.case_number in cases]:
                if (answer.agency, answer.outcome) not in _replies(session, answer.case_number):
                    lost += 1
        return lost

    def _redrive_log(self, cases: list[str], since: float) -> list[dict[str, Any]]:
        """Each re-drive of these cases (the audit trail's time and reason) with the kill it
        answers: the first kill of the case's run since the case's previous re-drive, and the
        seconds from it; none when no kill came between (the run died on its own)."""
        deaths_of: dict[str | None, list[Kill]] = {}
        for kill in [*self.kills, *self.mail.kills]:
            # The worker's runs are counted one by one ("worker's run"); a killed `casework
            # reply` is no run.
            if kill.at < since or kill.what == "worker" or kill.what.startswith("casework reply"):
                continue
            case_number = kill.case_number
            if case_number is None and kill.flow_run_id is not None:
                case_number = self.case_of_run(kill.flow_run_id)
            deaths_of.setdefault(case_number, []).append(kill)
        # A restart of the server or of the run starter may crash any run in flight.
        server_deaths = [
            k for k in self.kills if k.what in ("prefect server", "run starter") and k.at >= since
        ]
        log: list[dict[str, Any]] = []
        with session_scope() as session:
            for case_number in cases:
                case = session.exec(select(Case).where(Case.number == case_number)).one()
                events = session.exec(
                    select(CaseEvent).where(
                        CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.RUN_REDRIVEN
                    )
                ).all()
                redrives = sorted((_as_epoch(e.occurred_at), e.detail) for e in events)
                deaths = sorted(deaths_of.get(case_number, []) + server_deaths, key=lambda k: k.at)
                previous = since
                for redriven, detail in redrives:
                    cause = [d for d in deaths if previous < d.at <= redriven]
                    log.append(
                        {
                            "case": case_number,
                            "at": datetime.fromtimestamp(redriven, UTC).isoformat(),
                            "why": detail,
                            "kill": f"{cause[0].what} {cause[0].flow_run_id or ''}".strip()
                            if cause
                            else None,
                            "seconds": round(redriven - cause[0].at, 1) if cause else None,
                        }
                    )
                    previous = redriven
        return log


def _replies(session: Any, case_number: str, *, distinct: bool = True) -> Any:
    case = session.exec(select(Case).where(Case.number == case_number)).one()
    found = [
        (c.agency_slug, c.outcome)
        for c in session.exec(
            select(Contact).where(Contact.case_id == case.id, Contact.kind == ContactKind.REPLY)
        )
    ]
    return set(found) if distinct else found
