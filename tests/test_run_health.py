"""The reconciler's judgement of a case run's state: every branch, at and around each bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from prefect.states import (
    Cancelled,
    Completed,
    Crashed,
    Failed,
    Paused,
    Pending,
    Running,
    Scheduled,
    State,
    Suspended,
)

from gateways.run_health import (
    GONE_AFTER,
    STUCK_AFTER,
    STUCK_PENDING_AFTER,
    health_of,
    pid_of_this_attempt,
)

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _at(state, age: timedelta):  # type: ignore[no-untyped-def]
    state.timestamp = NOW - age
    return state


@pytest.mark.parametrize(
    ("state", "process", "pid_known", "expected"),
    [
        (None, None, False, "missing"),
        (_at(Crashed(), SECOND), None, True, "dead"),
        (_at(Failed(), SECOND), None, True, "dead"),
        (_at(Cancelled(), SECOND), None, True, "dead"),
        (_at(Completed(), SECOND), None, True, "dead"),  # finished while the case is open
        (_at(Suspended(), STUCK_AFTER * 10), None, False, "waiting"),  # as long as agencies take
        (_at(Paused(), STUCK_AFTER * 10), None, False, "waiting"),
        (_at(Scheduled(), STUCK_AFTER * 10), None, False, "ok"),  # the worker takes it when back
        # Pending with no process started yet: its worker died if this lasts.
        (_at(Pending(), STUCK_PENDING_AFTER - SECOND), None, False, "ok"),
        (_at(Pending(), STUCK_PENDING_AFTER + SECOND), None, False, "stuck"),
        (_at(Pending(name="Submitting"), STUCK_PENDING_AFTER + SECOND), None, False, "stuck"),
        # Pending with its process started (slow imports on a loaded machine): not stuck yet.
        (_at(Pending(), STUCK_PENDING_AFTER + SECOND), True, True, "ok"),
        (_at(Pending(), STUCK_PENDING_AFTER + SECOND), None, True, "ok"),  # elsewhere: unknown
        (_at(Pending(), STUCK_AFTER + SECOND), True, True, "stuck"),
        # A resumed run (its pid not yet this attempt's) whose new process is found: its engine
        # waits its turn in the run starter during a burst. Not stuck until the long bound.
        (_at(Pending(), STUCK_PENDING_AFTER + SECOND), True, False, "ok"),
        (_at(Pending(), STUCK_AFTER - SECOND), True, False, "ok"),
        (_at(Pending(), STUCK_AFTER + SECOND), True, False, "stuck"),
        # No process runs it: gone, once a new process has had time to start and be recorded
        # (a resumed run carries its old pid until the worker records the new one).
        (_at(Pending(), SECOND), False, True, "ok"),
        (_at(Pending(), STUCK_PENDING_AFTER - SECOND), False, True, "ok"),
        (_at(Pending(), STUCK_PENDING_AFTER + SECOND), False, True, "gone"),
        (_at(Pending(), STUCK_PENDING_AFTER + SECOND), False, False, "gone"),
        (_at(Running(), SECOND), False, True, "ok"),
        (_at(Running(), GONE_AFTER - SECOND), False, True, "ok"),
        (_at(Running(), GONE_AFTER + SECOND), False, True, "gone"),
        (_at(Running(), GONE_AFTER + SECOND), False, False, "gone"),  # pid never recorded
        (_at(Running(), STUCK_AFTER + SECOND), False, True, "gone"),
        (_at(Running(), STUCK_PENDING_AFTER + SECOND), None, False, "ok"),  # the longer bound
        (_at(Running(), STUCK_AFTER - SECOND), True, True, "ok"),
        (_at(Running(), STUCK_AFTER + SECOND), True, True, "stuck"),
        (_at(Running(), STUCK_AFTER + SECOND), None, True, "stuck"),
    ],
)
def test_each_state_is_judged_by_its_own_bound(
    state: object, process: bool | None, pid_known: bool, expected: str
) -> None:
    assert health_of(state, as_of=NOW, process=process, pid_known=pid_known) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("age", "claimer", "expected"),
    [
        # No worker from before it went Pending lives: its claimer died with it unstarted.
        (GONE_AFTER - SECOND, False, "ok"),
        (GONE_AFTER + SECOND, False, "gone"),
        # Its claimer may live, submitting it to a busy server (it says Crashed if it fails).
        (STUCK_PENDING_AFTER + SECOND, True, "ok"),
        (STUCK_AFTER - SECOND, True, "ok"),
        (STUCK_AFTER + SECOND, True, "gone"),
        # Not known: the one-minute bound.
        (STUCK_PENDING_AFTER - SECOND, None, "ok"),
        (STUCK_PENDING_AFTER + SECOND, None, "gone"),
    ],
)
def test_a_pending_run_without_a_process_waits_as_long_as_its_worker_may_live(
    age: timedelta, claimer: bool | None, expected: str
) -> None:
    state = _at(Pending(name="Submitting"), age)
    assert health_of(state, as_of=NOW, process=False, pid_known=False, claimer=claimer) == expected
    # Once its process had started (pid recorded) and is gone, its worker is no excuse.
    started = _at(Pending(), age)
    assert health_of(started, as_of=NOW, process=False, pid_known=True, claimer=claimer) == (
        "gone" if age > STUCK_PENDING_AFTER else "ok"
    )


@pytest.mark.parametrize(
    ("state", "pid", "resuming", "expected"),
    [
        (Pending(), None, False, False),  # not started yet
        (Pending(), None, True, False),
        (Pending(), "host:4242", False, True),  # its process started and recorded its pid
        # Resumed, not yet started again: the pid is of the process that suspended it.
        (Pending(), "host:4242", True, False),
        (Running(), "host:4242", False, True),
        (Running(), "host:4242", True, True),  # Prefect clears the mark as it runs
        (Scheduled(), "host:4242", True, True),
    ],
)
def test_a_resumed_runs_old_pid_is_not_taken_for_its_new_process(
    state: object, pid: str | None, resuming: bool, expected: bool
) -> None:
    from prefect.client.schemas.objects import FlowRun, FlowRunPolicy

    run = FlowRun(
        flow_id=uuid4(),
        state=state,
        infrastructure_pid=pid,
        empirical_policy=FlowRunPolicy(resuming=resuming),
    )
    assert pid_of_this_attempt(run) is expected


def test_a_worker_is_found_by_its_start_time_and_its_server() -> None:
    import os
    import subprocess
    import sys
    import time

    from prefect.settings import PREFECT_API_URL, temporary_settings

    from gateways.run_health import _worker_running_since

    # A server of this test's own: a test session's stack (and its worker) may be running.
    ours_url = "http://127.0.0.1:9/ours/api"
    script = "import time; time.sleep(30)"
    worker = [sys.executable, "-c", script, "prefect", "worker", "start"]
    ours = {**os.environ, "PREFECT_API_URL": ours_url}
    other = {**os.environ, "PREFECT_API_URL": "http://elsewhere:4200/api"}
    children = []
    with temporary_settings({PREFECT_API_URL: ours_url}):
        before = datetime.now(UTC) - timedelta(seconds=5)  # the clock ticks in 1/100 s
        assert _worker_running_since(datetime.now(UTC) + timedelta(hours=1)) is False
        try:
            children.append(subprocess.Popen(worker, env=other))
            time.sleep(1.5)  # exec'd: its own command line and environment show
            assert _worker_running_since(datetime.now(UTC)) is False  # another server's
            children.append(subprocess.Popen(worker, env=ours))
            time.sleep(1.5)
            assert _worker_running_since(before) is False  # started after it went Pending
            assert _worker_running_since(datetime.now(UTC)) is True
        finally:
            for child in children:
                child.kill()
                child.wait()
        assert _worker_running_since(datetime.now(UTC)) is False  # it died: nobody to submit


def test_pending_is_given_less_time_than_running() -> None:
    assert GONE_AFTER < STUCK_PENDING_AFTER < STUCK_AFTER
    # The reconciler runs every minute: a dead run's re-drive must fit in two minutes.
    assert STUCK_PENDING_AFTER + timedelta(minutes=1) <= timedelta(minutes=2)


def test_a_process_is_recognised_by_the_run_it_executes(tmp_path: object) -> None:
    import os
    import subprocess
    import sys
    import time

    from gateways.run_health import _any_process_runs, _process_runs

    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"],
        env={**os.environ, "PREFECT__FLOW_RUN_ID": "run-1"},
    )
    try:
        # Until it has exec'd, the child still shows its parent's environment.
        deadline = time.monotonic() + 10
        while not _process_runs(str(child.pid), "run-1") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _process_runs(str(child.pid), "run-1") is True
        assert _process_runs(str(child.pid), "run-2") is False  # a pid reused by another run
        # Found without its pid (a resumed run's recorded pid is the old process's).
        assert _any_process_runs("run-1") is True
        assert _any_process_runs("run-2") is False
    finally:
        child.kill()
        child.wait()
    assert _process_runs(str(child.pid), "run-1") is False  # gone
    assert _any_process_runs("run-1") is False


def test_calls_inside_one_client_share_it_and_calls_outside_make_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import contextlib
    from collections.abc import Iterator

    import prefect.client.orchestration as orchestration

    from gateways import prefect_client

    made: list[object] = []

    @contextlib.contextmanager
    def get_client(*, sync_client: bool) -> Iterator[object]:
        assert sync_client
        made.append(object())
        yield made[-1]

    monkeypatch.setattr(orchestration, "get_client", get_client)
    with (
        prefect_client.one_client(),
        prefect_client.client() as first,
        prefect_client.client() as second,
    ):
        pass
    assert first is second and made == [first]
    with prefect_client.client() as third, prefect_client.client() as fourth:
        pass
    assert third is not fourth and len(made) == 3  # the round's client is not kept after it


RUN_ID = "3f0c1a52-2d6e-4c1e-9a57-0d8f3b2f1e11"


class _InputsClient:
    """A Prefect client holding one stored input, counting the reads the code makes."""

    def __init__(self, stored_at: datetime, run_state: State) -> None:
        self.stored_at = stored_at
        self.run_state = run_state
        self.runs_read = 0
        self.inputs_read = 0

    def read_flow_run(self, _: object) -> object:
        self.runs_read += 1
        return type("Run", (), {"state": self.run_state})()

    def filter_flow_run_input(self, _: object, key: str, *__: object) -> list[object]:
        from prefect.client.schemas.objects import FlowRunInput

        self.inputs_read += 1
        stored = FlowRunInput.model_validate(
            {
                "flow_run_id": RUN_ID,
                "key": "suspended-case-wait-1-response",
                "value": '{"outcome": "received", "agency": "crematorium-front-desk"}',
                "created": self.stored_at,
            }
        )
        return [stored] if key == stored.key else []


@pytest.mark.parametrize("given", [True, False])
def test_a_stale_input_is_one_stored_before_the_run_suspended_read_with_the_state_given(
    monkeypatch: pytest.MonkeyPatch, given: bool
) -> None:
    """The reconciler passes the state its round read in bulk: the run is not read again (at
    10,000 open cases that was a request per recently suspended run, every minute)."""
    import contextlib
    from collections.abc import Iterator

    from gateways import run_inputs

    suspended_at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    paused: State = Suspended(pause_key="case-wait-1", timestamp=suspended_at)
    client = _InputsClient(suspended_at - timedelta(seconds=1), paused)

    @contextlib.contextmanager
    def fake_client() -> Iterator[object]:
        yield client

    monkeypatch.setattr(run_inputs, "client", fake_client)
    state = paused if given else None
    stale = run_inputs.stale_wake_input(RUN_ID, state=state)
    assert stale is not None and stale[0] == "case-wait-1", stale
    assert stale[1].outcome.value == "received"
    assert client.runs_read == (0 if given else 1)

    client.stored_at = suspended_at + timedelta(seconds=1)  # a wake-up on its way
    assert run_inputs.stale_wake_input(RUN_ID, state=state) is None
    client.stored_at = suspended_at  # stored in the instant it suspended: on its way too
    assert run_inputs.stale_wake_input(RUN_ID, state=state) is None

    inputs_read = client.inputs_read
    client.run_state = Running()
    assert run_inputs.stale_wake_input(RUN_ID, state=client.run_state if given else None) is None
    assert client.inputs_read == inputs_read  # a run not paused has no key to look under


def test_runs_are_read_a_page_at_a_time_every_page_once_and_a_missing_run_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import contextlib
    import threading
    from collections.abc import Iterator
    from types import SimpleNamespace
    from uuid import UUID

    from gateways import run_health

    ids = [str(uuid4()) for _ in range(7)]
    gone = ids[3]
    pages: list[list[str]] = []
    lock = threading.Lock()

    class PagesClient:
        def read_flow_runs(self, *, flow_run_filter: Any, limit: int) -> list[object]:
            asked = [str(i) for i in flow_run_filter.id.any_]
            assert limit == len(asked)
            with lock:
                pages.append(asked)
            return [SimpleNamespace(id=UUID(i)) for i in asked if i != gone]

    clients: list[tuple[bool, int]] = []  # (own client, thread)

    @contextlib.contextmanager
    def fake_client(*, own: bool = False) -> Iterator[object]:
        with lock:
            clients.append((own, threading.get_ident()))
        yield PagesClient()

    monkeypatch.setattr(run_health, "client", fake_client)
    runs = run_health.read_runs(ids, chunk=3)
    assert sorted(map(len, pages)) == [1, 3, 3]
    # Three lanes read at once, each with a client of its own (a CSRF token is one per client).
    assert [own for own, _ in clients] == [True] * 3
    assert sorted(i for page in pages for i in page) == sorted(ids)
    assert sorted(runs) == sorted(set(ids) - {gone})
    assert all(str(run.id) == run_id for run_id, run in runs.items())

    clients.clear()
    assert sorted(run_health.read_runs(ids[:5], chunk=3)) == sorted(set(ids[:5]) - {gone})
    assert [own for own, _ in clients] == [True, True]  # two pages: no client for a third lane
    clients.clear()
    assert sorted(run_health.read_runs(ids[:2], chunk=3)) == sorted(ids[:2])
    assert [own for own, _ in clients] == [False]  # one page: the round's client reads it
