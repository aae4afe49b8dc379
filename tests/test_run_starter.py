"""The run starter forks warm engines that live and die as cold ones would (real processes,
real signals): the engine's exit status reaches the worker, the worker's SIGTERM reaches the
engine, a SIGKILL of the client kills the engine, and without a starter the client starts cold.

The engine here runs against an API that never answers (it hangs loading its flow run) or is
not there (it fails at once): no Prefect server is needed to see the process behaviour.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import pytest

from casework.settings import PROJECT_DIR
from stack.ports import free_port
from stack.run_starter import _stale, _warm_caches, started_engines
from tests.waiting import eventually, process_gone

CLIENT = [sys.executable, "-S", str(PROJECT_DIR / "stack" / "start_run.py")]


@pytest.mark.unit
def test_a_changed_or_removed_source_makes_the_starter_stale(tmp_path: Path) -> None:
    kept, edited, removed = (tmp_path / f"{n}.py" for n in ("kept", "edited", "removed"))
    for path in (kept, edited, removed):
        path.write_text("x = 1\n")
    sources = {p: p.stat().st_mtime for p in (kept, edited, removed)}
    assert not _stale(sources)
    assert not _stale({kept: sources[kept]})
    os.utime(edited, (sources[edited] + 5, sources[edited] + 5))
    assert _stale({kept: sources[kept], edited: sources[edited]})
    removed.unlink()
    assert _stale({kept: sources[kept], removed: sources[removed]})


@pytest.mark.unit
def test_the_playbooks_and_templates_warmed_for_engines_are_watched_for_edits() -> None:
    from casework.settings import get_settings

    settings = get_settings()
    watched = set(_warm_caches())
    playbooks = set(settings.playbooks_dir.glob("*.yaml"))
    templates = set(settings.templates_dir.rglob("*.j2"))
    assert playbooks and templates
    assert playbooks | templates <= watched


# As the starter: Prefect's logging set up, what it was made from noted, a handler of our own
# on the "prefect" logger. Then, as the starter forks an engine, one child for each case named
# on the command line (its environment changes, ";"-separated, on top of the worker's per-run
# variables; "edit-the-file" rewrites the office's logging file first): whether Prefect's
# logging was set up again (our handler gone) and the "prefect" logger's level, a line each.
_STARTER_FORKING_ENGINES = """
import json, logging, os, sys
import prefect.flow_engine
from stack import run_starter
run_starter._starter_logging = run_starter._logging_inputs()
own = logging.NullHandler()
logging.getLogger("prefect").addHandler(own)
for case in sys.argv[1:]:
    read, write = os.pipe()
    if os.fork() == 0:
        os.environ.update(PREFECT__FLOW_RUN_ID="5f0c", PREFECT_CLIENT_MAX_RETRIES="7")
        os.environ.update(dict(pair.split("=", 1) for pair in case.split(";") if "=" in pair))
        if case == "edit-the-file":
            office_file = os.path.join(os.environ["PREFECT_HOME"], "logging.yml")
            with open(office_file, "w") as file:
                file.write("version: 1\\nloggers:\\n  prefect:\\n    level: WARNING\\n")
            os.utime(office_file, ns=(0, 0))
        run_starter._forget_cached_settings()
        prefect = logging.getLogger("prefect")
        os.write(write, f"{own not in prefect.handlers} {logging.getLevelName(prefect.level)}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        print(json.dumps([case, answer.read()]))
    os.wait()
"""

# The environment each engine sees beyond the worker's per-run variables → whether it sets up
# Prefect's logging again, and the "prefect" logger's level after.
_LOGGING_CASES = {
    "": (False, "INFO"),
    "PREFECT_LOGGING_TO_API_BATCH_INTERVAL=2.0": (False, "INFO"),  # 2, as the worker spells it
    "PREFECT_LOGGING_LEVEL=DEBUG": (True, "DEBUG"),
    "PREFECT_LOGGING_LOGGERS_PREFECT_LEVEL=ERROR": (True, "ERROR"),  # overrides a file entry
    "PREFECT_SERVER_LOGGING_LEVEL=DEBUG": (True, "INFO"),
    "PREFECT_INTERNAL_LOGGING_LEVEL=DEBUG": (True, "INFO"),
    "PREFECT_LOGGING_EXTRA_LOGGERS=segno": (True, "INFO"),
    "PREFECT_LOGGING_CONFIG_PATH={config}": (True, "WARNING"),  # a file of the office's own
}
_EDITED_FILE_CASE = {"edit-the-file": (True, "WARNING")}


def _engines_forked(tmp_path: Path, cases: list[str], *, office_file: bool) -> dict[str, str]:
    tmp_path.mkdir()
    config = tmp_path / "logging.yml"
    config.write_text("version: 1\nloggers:\n  prefect:\n    level: WARNING\n", encoding="utf-8")
    home = tmp_path / "prefect"
    home.mkdir()
    if office_file:
        (home / "logging.yml").write_text(
            "version: 1\nloggers:\n  prefect:\n    level: INFO\n", encoding="utf-8"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(home)
    result = subprocess.run(
        [sys.executable, "-c", _STARTER_FORKING_ENGINES, *(c.format(config=config) for c in cases)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answers = dict(json.loads(line) for line in result.stdout.splitlines())
    return {case: answers[case.format(config=config)] for case in cases}


@pytest.mark.unit
def test_an_engine_sets_up_prefects_logging_again_only_if_what_it_is_made_from_changed(
    tmp_path: Path,
) -> None:
    seen = _engines_forked(tmp_path / "env", list(_LOGGING_CASES), office_file=False)
    seen |= _engines_forked(tmp_path / "file", list(_EDITED_FILE_CASE), office_file=True)
    expected = {case: f"{again} {level}" for case, (again, level) in _LOGGING_CASES.items()}
    expected |= {case: f"{again} {level}" for case, (again, level) in _EDITED_FILE_CASE.items()}
    assert seen == expected


@contextmanager
def _running_starter(folder: Path, *args: str) -> Iterator[tuple[Path, Path, int]]:
    """A real run starter on a private socket: (socket, its log, its pid)."""
    path, log_path = folder / "starter.sock", folder / "starter.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "stack.run_starter", "--socket", str(path), *args],
            cwd=PROJECT_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "ready in" not in log_path.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        yield path, log_path, process.pid
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, int]]:
    with _running_starter(tmp_path_factory.mktemp("starter")) as running:
        yield running


@pytest.fixture
def silent_api() -> Iterator[str]:
    """An API address that accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    server.settimeout(0.1)
    yield f"http://127.0.0.1:{server.getsockname()[1]}/api"
    server.close()
    for conn in held:
        conn.close()


def _client(
    starter_socket: Path | None, api_url: str, flow_run_id: str | None = None
) -> tuple[subprocess.Popen[str], str]:
    """What the worker starts for a flow run: the client, with the run's id in its env."""
    flow_run_id = flow_run_id or str(uuid4())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.pop("CASEWORK_RUN_STARTER", None)
    env |= {
        "PREFECT_API_URL": api_url,
        "PREFECT_CLIENT_MAX_RETRIES": "0",
        "PREFECT__FLOW_RUN_ID": flow_run_id,
    }
    if starter_socket is not None:
        env["CASEWORK_RUN_STARTER"] = str(starter_socket)
    process = subprocess.Popen(
        CLIENT,
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, flow_run_id


def _engine_of(log_path: Path, flow_run_id: str, timeout: float = 20) -> int:
    """The pid of the engine the starter forked for this flow run (its log says)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = started_engines(log_path.read_text())
        if found := [pid for pid, run in started.items() if run == flow_run_id]:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"the starter started no engine for {flow_run_id}")


def _catches(pid: int, signum: int, timeout: float = 10) -> bool:
    """Whether process `pid` has a handler for `signum` (its SigCgt mask)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status").read_text()
        caught = int(re.search(r"SigCgt:\s*([0-9a-f]+)", status).group(1), 16)  # type: ignore[union-attr]
        if caught & (1 << (signum - 1)):
            return True
        time.sleep(0.02)
    return False


def _gone(pid: int, timeout: float = 10) -> bool:
    return eventually(lambda: process_gone(pid), seconds=timeout)


def _logged(log_path: Path, text: str, timeout: float = 10) -> None:
    if not eventually(lambda: text in log_path.read_text(), seconds=timeout):
        raise AssertionError(f"not logged: {text!r}\n{log_path.read_text()}")


def _closed_port_api() -> str:
    return f"http://127.0.0.1:{free_port()}/api"


@pytest.mark.flow
def test_the_engines_failure_reaches_the_worker_as_it_would_from_a_cold_engine(
    starter: tuple[Path, Path, int],
) -> None:
    path, log_path, _ = starter
    warm, warm_run = _client(path, _closed_port_api())
    warm_output, _ = warm.communicate(timeout=60)
    cold, cold_run = _client(None, _closed_port_api())
    cold_output, _ = cold.communicate(timeout=60)
    assert (warm.returncode, cold.returncode) == (1, 1)
    for output, run in ((warm_output, warm_run), (cold_output, cold_run)):
        # The engine's own words, on the stream the worker reads.
        assert f"Execution of flow run '{run}' exited with unexpected exception" in output
    assert _engine_of(log_path, warm_run)
    assert cold_run not in log_path.read_text()


@pytest.mark.flow
@pytest.mark.parametrize(
    "sent",
    [
        # The worker (or the OOM killer) kills the client outright: the engine dies with it.
        signal.SIGKILL,
        # The worker cancels the run: the client passes SIGTERM on, and the engine's death by
        # it (not the client's death taking the engine with it, signal 9) comes back.
        signal.SIGTERM,
    ],
)
def test_a_signal_to_the_client_ends_its_engine_the_same_way(
    starter: tuple[Path, Path, int], silent_api: str, sent: signal.Signals
) -> None:
    path, log_path, _ = starter
    client, run = _client(path, silent_api)
    engine = _engine_of(log_path, run)
    assert not _gone(engine, timeout=1)  # it waits for an API that never answers
    if sent != signal.SIGKILL:
        assert _catches(client.pid, sent)
    client.send_signal(sent)
    assert client.wait(timeout=20) == -sent
    assert _gone(engine), "the engine outlived its client"
    # The starter logs the engine's end once it has reaped it, a moment after the pid is gone.
    _logged(log_path, f"flow run {run} (pid {engine}) was killed by signal {int(sent)}")


@pytest.mark.flow
def test_an_engine_killed_outright_is_a_client_killed_outright(
    starter: tuple[Path, Path, int], silent_api: str
) -> None:
    path, log_path, _ = starter
    client, run = _client(path, silent_api)
    os.kill(_engine_of(log_path, run), signal.SIGKILL)
    assert client.wait(timeout=20) == -signal.SIGKILL


@pytest.mark.flow
def test_a_run_beyond_the_engines_at_once_waits_its_turn(tmp_path: Path, silent_api: str) -> None:
    with _running_starter(tmp_path, "--engines", "1") as (path, log_path, _):
        first, first_run = _client(path, silent_api)
        first_engine = _engine_of(log_path, first_run)
        second, second_run = _client(path, _closed_port_api())
        cancelled, cancelled_run = _client(path, _closed_port_api())
        time.sleep(2)  # long enough for a started engine to fail against a closed port
        assert second.poll() is None and cancelled.poll() is None
        assert second_run not in log_path.read_text()
        cancelled.kill()  # the worker gives up on a run still waiting its turn
        cancelled.wait(timeout=10)
        os.kill(first_engine, signal.SIGKILL)
        assert first.wait(timeout=20) == -signal.SIGKILL
        assert second.wait(timeout=60) == 1  # its turn came: started, and failed as it should
        assert _engine_of(log_path, second_run)
        assert cancelled_run not in log_path.read_text()  # never started for a dead client


@pytest.mark.flow
def test_a_resumed_run_goes_ahead_of_a_first_start(tmp_path: Path, silent_api: str) -> None:
    with _running_starter(tmp_path, "--engines", "1") as (path, log_path, _):
        earlier, resumed_run = _client(path, _closed_port_api())
        assert earlier.wait(timeout=60) == 1  # started once, and ended (suspended, say)
        holding, holding_run = _client(path, silent_api)
        holding_engine = _engine_of(log_path, holding_run)
        new, new_run = _client(path, silent_api)  # a new case's first start, in line first
        time.sleep(1)
        resumed, _ = _client(path, _closed_port_api(), flow_run_id=resumed_run)
        time.sleep(1)
        os.kill(holding_engine, signal.SIGKILL)
        assert holding.wait(timeout=20) == -signal.SIGKILL
        assert resumed.wait(timeout=60) == 1  # it went first: started, and failed at once
        log_text = log_path.read_text()
        again = log_text.rindex(f"flow run {resumed_run}: engine started warm")
        assert log_text.count(f"flow run {resumed_run}: engine started warm") == 2
        os.kill(_engine_of(log_path, new_run), signal.SIGKILL)  # then the new case's turn
        assert new.wait(timeout=20) == -signal.SIGKILL
        assert log_path.read_text().index(f"flow run {new_run}: engine started warm") > again
