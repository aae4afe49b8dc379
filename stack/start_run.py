"""What the worker runs for each flow run: hand the run to the warm run starter, or start cold.

The worker's command for a Casework deployment is `python -S stack/start_run.py` (prefect.yaml).
This file is the whole client and uses the standard library only, so it starts in milliseconds.
It sends its arguments, environment, working directory and standard streams to the run starter
(stack/run_starter.py), which forks Prefect's engine from a process that has imported Prefect
and the flows already; it then stands in for that engine towards the worker:

- its exit status is the engine's (a signal death is died again, the same way);
- SIGTERM and SIGINT (the worker cancelling the run) are passed on to the engine;
- when it dies, the engine dies too (the engine watches the connection), and it dies with the
  worker (PR_SET_PDEATHSIG), as an engine started by the worker itself would.

Without a run starter (not configured, not running, or holding code older than the checkout)
it becomes `python -m prefect.engine` itself: slower, never wrong.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
from typing import NoReturn

SOCKET_ENV = "CASEWORK_RUN_STARTER"


def main() -> None:
    worker = os.getppid()
    path = os.environ.get(SOCKET_ENV)
    conn = _connect(path) if path else None
    if conn is None:
        _start_cold()
    assert conn is not None
    _die_with_parent(worker)
    request = {
        "argv": sys.argv[1:],
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "cpus": sorted(os.sched_getaffinity(0)),  # the worker's CPUs are the run's
    }
    try:
        socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
        messages = conn.makefile("rb")
        first = json.loads(messages.readline() or b"{}")
    except (OSError, ValueError):
        first = {}
    if "pid" not in first:  # refused (stale code) or the starter died before it forked
        conn.close()
        _start_cold()
    pid = int(first["pid"])
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: _pass_on(pid, signum))
    try:
        outcome = json.loads(messages.readline() or b"{}")
    except (OSError, ValueError):
        outcome = {}
    if "signal" in outcome:
        signum = int(outcome["signal"])
        with contextlib.suppress(OSError, ValueError):  # SIGKILL has no handler to reset
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    sys.exit(int(outcome.get("exit", 1)))


def _connect(path: str) -> socket.socket | None:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        return None
    return conn


def _start_cold() -> NoReturn:
    os.execv(sys.executable, [sys.executable, "-m", "prefect.engine", *sys.argv[1:]])


def _pass_on(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _die_with_parent(worker: int) -> None:
    """SIGKILL this process when the worker that started it dies (Linux; elsewhere a no-op)."""
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != worker:  # the worker died before prctl took effect
        os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    main()
