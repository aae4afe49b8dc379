"""The fault scenarios: each opens its own cases, does its damage, lets the stack heal itself
without help, and returns a tally (see lab.Tally for what each column counts)."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from functools import partial

from casework.clock import now
from casework.errors import UserError
from tests.faults.lab import ARCHIVE_EMAIL, ARCHIVE_ROOM, FRONT_DESK, LEASE_SECONDS, Lab, Tally
from tests.waiting import wait_for
from usecases import answers, office
from usecases.accounts import console_actor

# How long the stack gets to put things right after the last fault: two reconciler rounds
# for a re-drive, the short lease for a claim a killed relay left, and the mail retries.
SETTLE_SECONDS = 300
# The longest the mail server stays away waiting for the cases' first sends to fail.
OUTAGE_SECONDS = 120
# How long a case run gets to reach an armed kill point. Not a target: under 100 kills a run's
# start can be slow (seen: a resumed run began 128 s after its resume, behind two of the 60 s
# SQLite lock waits Prefect's server had before stack/prefect_server.py bounded them).
STEP_SECONDS = 300


def _finish(lab: Lab, scenario: str, cases: list[str], *, trials: int, since: float) -> Tally:
    """Drive the cases to their end (answering what is awaited), let the stack settle, count."""
    lab.drive(cases, until=time.time() + SETTLE_SECONDS)
    lab.settle(cases, timeout=SETTLE_SECONDS)
    lab.outbox_settled(cases, timeout=LEASE_SECONDS + 150)
    return lab.tally(scenario, cases, trials=trials, since=since)


def random_kills(lab: Lab, *, cases: int, kills: int, worker_share: float = 0.3) -> Tally:
    """SIGKILLs of flow-run processes (cases', the reconciler's, the sweep's) and of the worker
    at random moments while cases are opened, answered (at the window and through the Resume
    form) and chased by the sweep; a new wave of cases is opened whenever every case of the
    last one is closed before the kills are done."""
    since = time.time()
    opened: list[str] = []
    done = threading.Event()
    count = 0
    dice = random.Random(lab.rng.random())

    def killer() -> None:
        nonlocal count
        last_worker_kill = 0.0
        while not done.is_set() and count < kills:
            time.sleep(dice.uniform(0.5, 4))
            # A worker takes seconds of CPU to start, and its runs more: killed back to back,
            # nothing else runs.
            if (
                dice.random() < worker_share
                and time.time() - last_worker_kill > 60
                and lab.kill_worker()
            ):
                last_worker_kill = time.time()
                time.sleep(dice.uniform(0.5, 3))
                lab.revive()
                count += 1
            elif lab.kill_a_run() is not None:
                count += 1

    thread = threading.Thread(target=killer, name="killer", daemon=True)
    thread.start()
    deadline = time.time() + 90 * 60
    waves = 0
    while thread.is_alive() and time.time() < deadline:
        waves += 1
        wave = [lab.open_case() for _ in range(cases)]
        opened += wave
        while lab.drive(wave, until=time.time() + 20) and time.time() < deadline:
            # The sweep, as a clerk's `casework chase`; refused while the server is too busy
            # to answer its health check, and tried again later.
            with contextlib.suppress(UserError):
                office.chase(as_of=now())
    done.set()
    thread.join()
    lab.revive()
    scenario = f"random SIGKILLs (worker, case runs, reconciler) over {len(opened)} cases"
    return _finish(lab, scenario, opened, trials=count, since=since)


def targeted_kills(lab: Lab, *, rounds: int = 1) -> list[Tally]:
    """A kill at each dangerous moment, each on cases of its own; the stack then heals them
    all at once (one wait, not six) and each moment is tallied on its own cases."""
    groups: list[tuple[str, list[str], float]] = []
    for moment, scenario in (
        ("connect", "kill after the outbox commit, before SMTP"),
        ("data", "kill during SMTP DATA"),
        ("accepted", "kill after the server's 250, before the sent mark"),
    ):
        since = time.time()
        cases = []
        for _ in range(rounds):  # one at a time: the kill hits the case's next message
            cases.append(lab.open_case())  # its run sends the notice seconds later
            lab.mail.kill_at.append((moment, cases[-1]))
            wait_for(
                lambda: not lab.mail.kill_at,
                seconds=STEP_SECONDS,
                what=f"no mail reached the {moment} kill",
            )
        groups.append((scenario, cases, since))

    since = time.time()
    suspending = []
    for _ in range(rounds):
        case_number = lab.open_case()
        suspending.append((case_number, lab.arm("before-suspend", case_number)))
    resuming = [lab.open_case() for _ in range(rounds)]
    committing = [lab.open_case() for _ in range(rounds)]
    for case_number, fired in suspending:
        wait_for(fired.exists, seconds=STEP_SECONDS, what="the case run never reached its suspend")
        lab.crashed_at_point(fired, case_number)
    groups.append(("kill while suspending", [c for c, _ in suspending], since))

    since = time.time()
    lab.settle(resuming + committing, timeout=SETTLE_SECONDS)
    for case_number in resuming:
        fired = lab.arm("after-resume", case_number)
        wait_for(partial(lab.answer, case_number, via_form=True), seconds=60, what="no form answer")
        wait_for(fired.exists, seconds=STEP_SECONDS, what="the resumed run never read its input")
        lab.crashed_at_point(fired, case_number)
    groups.append(("kill after resuming, before the form answer is recorded", resuming, since))
    since = time.time()
    for case_number in committing:
        lab.answer_in_a_killed_process(case_number)
    groups.append(("kill mid-transaction in the case database (casework reply)", committing, since))
    return _finish_all(lab, groups, trials=rounds)


def _finish_all(
    lab: Lab, groups: list[tuple[str, list[str], float]], *, trials: int
) -> list[Tally]:
    """_finish for several groups of cases at once, each tallied on its own."""
    every = [c for _, cases, _ in groups for c in cases]
    lab.drive(every, until=time.time() + SETTLE_SECONDS)
    lab.settle(every, timeout=SETTLE_SECONDS)
    lab.outbox_settled(every, timeout=LEASE_SECONDS + 150)
    return [
        lab.tally(scenario, cases, trials=trials, since=since) for scenario, cases, since in groups
    ]


def mail_server_faults(lab: Lab, *, cases: int = 1) -> list[Tally]:
    """The mail server away, then answering 421/451 for a stretch, then refusing one address."""
    groups: list[tuple[str, list[str], float]] = []
    since = time.time()
    lab.mail.stop()
    opened = [lab.open_case() for _ in range(cases)]
    # Away until every case's notice or first request has failed to connect (a fixed outage
    # either ends before a slow run's first send, proving nothing, or waits for no reason).
    felt = lab.sends_failed(opened, timeout=OUTAGE_SECONDS)
    lab.mail.start()
    groups.append(("mail server refusing connections until each case's first email failed",
                   opened, since))  # fmt: skip
    since = time.time()
    lab.mail.script = ["421 4.3.2 Service not available"] * 2 + ["451 4.3.0 Try again later"] * 3
    opened = [lab.open_case() for _ in range(cases)]
    groups.append(("mail server answering 421/451 for a stretch", opened, since))
    tallies = _finish_all(lab, groups, trials=cases)
    if not felt:
        tallies[0].problems.append(f"no email failed in {OUTAGE_SECONDS} s without a server")

    since = time.time()
    lab.mail.refuse = {ARCHIVE_EMAIL}
    opened = [lab.open_case() for _ in range(cases)]
    tally = _finish(
        lab, "mail server refusing one address (550)", opened, trials=cases, since=since
    )
    lab.mail.refuse = set()
    if tally.refused < cases:  # each case's request to the archive room must fail for good
        tally.problems.append(f"only {tally.refused} of {cases} requests refused")
        tally.undelivered += cases - tally.refused
    tallies.append(tally)
    return tallies


def server_restarts(lab: Lab, *, rounds: int = 1, cases: int = 3) -> Tally:
    """The Prefect server SIGKILLed with case runs in flight, and started again."""
    since = time.time()
    opened: list[str] = []
    for _ in range(rounds):
        opened += [lab.open_case() for _ in range(cases)]
        time.sleep(lab.rng.uniform(2, 8))  # the runs are starting or working
        lab.kill_server()
        time.sleep(1)
        lab.revive()
    return _finish(lab, "Prefect server killed and restarted", opened, trials=rounds, since=since)


def starter_restarts(lab: Lab, *, rounds: int = 1, cases: int = 3) -> Tally:
    """The run starter SIGKILLed with engines it forked in flight, and started again."""
    since = time.time()
    opened: list[str] = []
    for _ in range(rounds):
        opened += [lab.open_case() for _ in range(cases)]
        assert lab.kill_starter() > 0
        time.sleep(1)
        lab.revive()
    return _finish(lab, "run starter killed and restarted", opened, trials=rounds, since=since)


def racing_answers(lab: Lab, *, rounds: int = 1) -> Tally:
    """Two answers to one request at the same moment: two clerks, or a clerk and a manager's
    Resume form. One is recorded; the other is refused where its author sees it (the clerk's
    screen, or the case's audit trail for the form), never written over the first."""
    since = time.time()
    opened = [lab.open_case() for _ in range(2 * rounds)]
    lab.settle(opened, timeout=SETTLE_SECONDS)
    refused_at_window: dict[str, int] = {c: 0 for c in opened}
    for index, case_number in enumerate(opened):
        barrier = threading.Barrier(2)

        def at_window(
            outcome: str,
            forward_to: str | None,
            c: str = case_number,
            b: threading.Barrier = barrier,
        ) -> None:
            b.wait()
            try:
                answers.record_answer(
                    actor=console_actor(),
                    case_number=c,
                    agency=FRONT_DESK,
                    outcome=outcome,
                    forward_to=forward_to,
                    as_of=now(),
                )
            except UserError:
                refused_at_window[c] += 1

        def in_the_form(c: str = case_number, b: threading.Barrier = barrier) -> None:
            b.wait()
            if not lab.form_answer(c, FRONT_DESK, "no-record"):
                refused_at_window[c] += 1  # Prefect said the run was not waiting: seen at once

        rival = in_the_form if index % 2 else (lambda: at_window("no-record", None))
        threads = [
            threading.Thread(target=at_window, args=("forwarded", ARCHIVE_ROOM)),
            threading.Thread(target=rival),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    tally = _finish(
        lab, "two answers racing for one request", opened, trials=len(opened), since=since
    )
    for case_number in opened:
        recorded = lab.replies_from(case_number, FRONT_DESK)
        seen = refused_at_window[case_number] + lab.refused_form_answers(case_number)
        if recorded != 1 or seen != 1:
            tally.lost += 1
            tally.problems.append(f"{case_number}: {recorded} recorded, {seen} refusals shown")
    return tally
