"""The run starter: forks a warm Prefect engine for every flow run the worker starts.

A case run is a process of its own, and a new one for every step (each answer resumes the case
in a new process). Started cold, each spends about two seconds of CPU importing Prefect and the
case modules and another ~0.7 s on its first printed letter (WeasyPrint's fonts and style
sheets) before it does the case's work. This service does that once: it imports the engine and
every flow module, prints one letter, and then, for each request from `stack/start_run.py`,
forks a child that takes the request's arguments, environment, working directory and standard
streams and runs `python -m prefect.engine` in it.

Nothing about a run is decided here: the child is Prefect's own engine, with the worker's
environment; the settings both Prefect and Casework read from the environment are read again
after the fork (Prefect's logging is set up again only where what it is made from differs).
The starter holds no database connection, thread or event loop when it forks.

A child dies when its client (start_run.py) dies: SIGKILL of the client, of the worker, or the
worker's own kill all end the run as they would have ended a cold one. Code edited after the
starter imported it is never run: the starter refuses (the client starts cold) and says to
restart the stack.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import importlib.util
import json
import logging
import os
import re
import runpy
import selectors
import signal
import socket
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("casework.run_starter")

# Everything a flow run imports before it does its work: Prefect's engine and each entrypoint's
# module (prefect.yaml). Prefect loads the entrypoint file itself again, as a script, in the
# child; the modules it imports are these.
PRELOAD = (
    "prefect.flow_engine",
    "prefect._internal.metrics",
    "flows.hard_case",
    "flows.chase_due_cases",
    "flows.reconcile_case_runs",
    "flows.daily_board",
    "flows.monthly_report",
    # What an engine would otherwise import on its way, after the fork: Prefect's pull steps
    # and the modules they reach, the case database's driver, the notice's QR code.
    "prefect.deployments.steps",
    "prefect.utilities.visualization",
    "prefect.concurrency._asyncio",
    "anyio._backends._asyncio",
    "segno",
)
ENGINE = "prefect.engine"
# A forked engine's /proc environ is the starter's: its log is where its flow run is named.
STARTED = "flow run %s: engine started warm (pid %d)"
_STARTED = re.compile(r"flow run (\S+): engine started warm \(pid (\d+)\)")
# Engines at once: a burst (fifty answers in a minute) would otherwise run fifty engines side
# by side, each on a fiftieth of the CPU, and every case's next letter would wait for all of
# them; in turn, the first answered are done first. An engine also waits on the API and the
# databases, so a few more than the cores.
ENGINES_AT_ONCE = 2 * (os.cpu_count() or 1) + 2
# A run started before (resumed: it carries someone's answer, its case is half done) goes ahead
# of a run's first start, which waits at most this long for it: in a burst of new cases the
# answers to the first would otherwise wait behind every other case's first letters.
FIRST_START_PATIENCE_SECONDS = 20.0
REMEMBERED_RUNS = 100_000
REQUEST_TIMEOUT_SECONDS = 10
MAX_REQUEST_BYTES = 1 << 20


@dataclass
class Request:
    """What the client sends: the engine's arguments, the environment, the working directory."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    cpus: set[int]


@dataclass
class Waiting:
    """A request waiting its turn, its client connected."""

    conn: socket.socket
    body: Request
    fds: list[int]
    since: float = field(default_factory=time.monotonic)

    @property
    def flow_run(self) -> str:
        return self.body.env.get("PREFECT__FLOW_RUN_ID", "?")


@dataclass
class Child:
    pid: int
    conn: socket.socket
    flow_run: str
    since: float = field(default_factory=time.monotonic)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack.run_starter", description=__doc__)
    parser.add_argument("--socket", type=Path, required=True)
    parser.add_argument(
        "--engines",
        type=int,
        default=ENGINES_AT_ONCE,
        help=f"engines running at once, the rest wait their turn (default {ENGINES_AT_ONCE})",
    )
    args = parser.parse_args(argv)
    # Its own handler: Prefect configures the root logger when it is imported.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s.%(msecs)03d | %(levelname)-7s | %(name)s - %(message)s", "%H:%M:%S"
        )
    )
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    began = time.monotonic()
    sources = _preload()
    log.info(
        "ready in %.1f s: %d project files (modules, playbooks, templates) watched for edits",
        time.monotonic() - began,
        len(sources),
    )
    work = serve(args.socket, sources, engines=args.engines)
    # Only a forked child gets here: the starter's loop ended for it, and it becomes the engine.
    return work()


def _preload() -> dict[Path, float]:
    """Import what every run imports, warm the printer; the project's files and their times."""
    from casework.settings import PROJECT_DIR

    for name in PRELOAD:
        importlib.import_module(name)
    from casework.printing import PrintingUnavailable
    from casework.samples import print_sample_letters

    # An engine's first letter would otherwise load the fonts and shape its glyphs: 0.3 s in a
    # forked child against 0.15 s after two sample letters (0.1 s a letter from then on).
    with contextlib.suppress(PrintingUnavailable):  # letters are filed as text: nothing to warm
        print_sample_letters()
    data_files = _warm_caches()
    sources: dict[Path, float] = {}
    for module in list(sys.modules.values()):
        path = Path(getattr(module, "__file__", None) or "/")
        if path.is_relative_to(PROJECT_DIR) and ".venv" not in path.parts:
            sources[path] = path.stat().st_mtime
    sources.update((path, path.stat().st_mtime) for path in data_files)
    from casework.settings import get_settings

    get_settings.cache_clear()
    global _starter_logging
    _starter_logging = _logging_inputs()
    # What is imported now lives as long as every engine: out of the collector's sight, so an
    # engine's collections do not write (and so copy) the pages it shares with the starter.
    gc.collect()
    gc.freeze()
    return sources


def _warm_caches() -> list[Path]:
    """Do once what each engine's first step would: read and check the playbooks, compile the
    templates, configure the ORM's mappers and load the case database's dialect (a fifth of a
    second in the first query), without connecting to anything. The playbook and template
    files read, for the stale-code check: an engine must not run a playbook edited since."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import configure_mappers

    from casework.playbook import all_playbooks
    from casework.settings import get_settings
    from casework.templating import environment

    settings = get_settings()
    all_playbooks()
    templates = environment()
    for name in templates.list_templates(extensions=["j2"]):
        templates.get_template(name)
    configure_mappers()
    make_url(settings.db_url).get_dialect().import_dbapi()
    return [
        path
        for folder in (settings.playbooks_dir, settings.templates_dir)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]


def serve(path: Path, sources: dict[Path, float], *, engines: int) -> _EngineWork:
    """Accept requests until killed, running at most `engines` engines at once; the rest wait,
    resumed runs first (`_Starter.next_waiting`). Returns only in a forked child, with the
    engine to run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    umask = os.umask(0o177)  # only the office's own user may start runs, from the first moment
    try:
        listener.bind(str(path))
    finally:
        os.umask(umask)
    listener.listen(64)
    starter = _Starter(listener, sources)
    while True:
        for key, _ in starter.selector.select():
            if key.fileobj is listener:
                starter.accept()
            else:
                starter.reap(int(key.fd))
            while starter.waiting and len(starter.children) < engines:
                if work := starter.fork(starter.next_waiting()):
                    return work


class _Starter:
    """The starter's state: its listening socket, its running engines, the requests waiting."""

    def __init__(self, listener: socket.socket, sources: dict[Path, float]) -> None:
        self.listener, self.sources = listener, sources
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ)
        self.children: dict[int, Child] = {}  # by pidfd
        self.waiting: deque[Waiting] = deque()
        self.started: OrderedDict[str, None] = OrderedDict()  # flow runs forked, oldest first
        self.warned_stale = False

    def accept(self) -> None:
        conn, _ = self.listener.accept()
        request = _read_request(conn)
        if request is None:
            conn.close()
        elif _stale(self.sources):
            if not self.warned_stale:
                log.warning("project code changed since start: runs start cold until the "
                            "stack is restarted (casework down; casework up)")  # fmt: skip
                self.warned_stale = True
            self._refuse(conn, request[1], "stale")
        else:
            self.waiting.append(Waiting(conn, *request))

    def next_waiting(self) -> Waiting:
        """The oldest request for a run started before, unless a first start has waited its
        patience out; else the oldest request."""
        oldest = self.waiting[0]
        if (
            oldest.flow_run not in self.started
            and time.monotonic() - oldest.since < FIRST_START_PATIENCE_SECONDS
        ):
            for index, waiting in enumerate(self.waiting):
                if waiting.flow_run in self.started:
                    del self.waiting[index]
                    return waiting
        return self.waiting.popleft()

    def fork(self, waiting: Waiting) -> _EngineWork | None:
        """Start the engine for a request (its client still waiting); in the child, its work."""
        conn, body, fds = waiting.conn, waiting.body, waiting.fds
        if _hung_up(conn):  # the client died (killed, cancelled) while its request waited
            _close(fds)
            conn.close()
            return None
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as exc:  # out of processes or memory: this run starts cold
            log.warning("could not fork an engine (%s): the run starts cold", exc)
            self._refuse(conn, fds, "fork")
            return None
        if pid == 0:
            self.selector.close()
            self.listener.close()
            for other in self.children.values():
                other.conn.close()
            for pidfd in self.children:
                os.close(pidfd)
            for other_waiting in self.waiting:
                other_waiting.conn.close()
                _close(other_waiting.fds)
            return _EngineWork(body, fds, conn)
        _close(fds)
        flow_run = waiting.flow_run
        self.started[flow_run] = None
        self.started.move_to_end(flow_run)
        if len(self.started) > REMEMBERED_RUNS:
            self.started.popitem(last=False)
        pidfd = os.pidfd_open(pid)
        self.children[pidfd] = Child(pid, conn, flow_run)
        self.selector.register(pidfd, selectors.EVENT_READ)
        _send(conn, {"pid": pid})
        log.info(STARTED, flow_run, pid)
        return None

    def reap(self, pidfd: int) -> None:
        """An engine ended: tell its client how."""
        self.selector.unregister(pidfd)
        os.close(pidfd)
        child = self.children.pop(pidfd)
        _, status = os.waitpid(child.pid, 0)
        outcome = (
            {"signal": os.WTERMSIG(status)}
            if os.WIFSIGNALED(status)
            else {"exit": os.waitstatus_to_exitcode(status)}
        )
        lived = time.monotonic() - child.since
        if "signal" in outcome:
            log.info("flow run %s (pid %d) was killed by signal %d after %.1f s",
                     child.flow_run, child.pid, outcome["signal"], lived)  # fmt: skip
        else:
            log.info("flow run %s (pid %d) ended with exit code %d after %.1f s",
                     child.flow_run, child.pid, outcome["exit"], lived)  # fmt: skip
        _send(child.conn, outcome)
        child.conn.close()

    def _refuse(self, conn: socket.socket, fds: list[int], why: str) -> None:
        _close(fds)
        _send(conn, {"refused": why})
        conn.close()


def _hung_up(conn: socket.socket) -> bool:
    conn.setblocking(False)
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        conn.setblocking(True)


class _EngineWork:
    """In the forked child: become `python -m prefect.engine` for the client's request."""

    def __init__(self, body: Request, fds: list[int], conn: socket.socket) -> None:
        self.body, self.fds, self.conn = body, fds, conn

    def __call__(self) -> int:
        os.setsid()  # the client's fate is the run's, not the starter's process group's
        for target, fd in zip((0, 1, 2), self.fds, strict=True):
            os.dup2(fd, target)
        _close([fd for fd in self.fds if fd > 2])
        os.environ.clear()
        os.environ.update(self.body.env)
        os.chdir(self.body.cwd)
        with contextlib.suppress(OSError):  # CPUs the client may use and the starter may not
            os.sched_setaffinity(0, self.body.cpus)
        for sig in (signal.SIGTERM, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        log.handlers.clear()
        self.conn.setblocking(True)
        threading.Thread(target=_die_with_client, args=(self.conn,), daemon=True).start()
        _forget_cached_settings()
        spec = importlib.util.find_spec(ENGINE)
        assert spec is not None
        sys.argv = [str(spec.origin), *self.body.argv]
        sys.modules.pop(ENGINE, None)  # it runs as __main__, as `python -m` runs it
        try:
            runpy.run_module(ENGINE, run_name="__main__", alter_sys=True)
        except SystemExit as exit_:
            code = exit_.code
            if code is None or isinstance(code, int):
                return code or 0
            print(code, file=sys.stderr)
            return 1
        return 0


def started_engines(log_text: str) -> dict[int, str]:
    """pid → flow run id of every engine a starter's log says it forked (pids may be reused:
    a caller checks the process is still the starter's child)."""
    return {int(pid): run for run, pid in _STARTED.findall(log_text)}


def _forget_cached_settings() -> None:
    """Read Prefect's and Casework's settings again from this process's environment. Prefect's
    logging is set up again only if what it is made from differs from the starter's: setting
    it up is 0.08 s of every engine's start, and the worker's environment changes nothing of it
    (its copy of the settings differs in the client's retries and in how numbers are spelt)."""
    import prefect.context
    import prefect.logging.configuration

    from casework.settings import get_settings

    prefect.context.refresh_global_settings_context()
    if _starter_logging is None or _logging_inputs() != _starter_logging:
        prefect.logging.configuration.setup_logging(incremental=False)
    get_settings.cache_clear()


# What the starter's own logging was set up from (`_preload`), for its engines to compare.
_starter_logging: tuple[object, ...] | None = None


def _logging_inputs() -> tuple[object, ...] | None:
    """What Prefect's `setup_logging` makes this process's logging from: the logging settings
    (the file's path, levels, extra loggers), the file itself, and the environment variables
    that override the file's entries. None if Prefect's logging is not set up here yet."""
    from prefect.logging.configuration import PROCESS_LOGGING_CONFIG, to_envvar
    from prefect.settings import get_current_settings
    from prefect.utilities.collections import dict_to_flatdict

    if not PROCESS_LOGGING_CONFIG:
        return None
    settings = get_current_settings()
    path = settings.logging.config_path
    file = path.stat().st_mtime_ns if path.exists() else None
    entries: dict[tuple[str, ...], object] = dict_to_flatdict(PROCESS_LOGGING_CONFIG)
    overrides = tuple(
        os.environ.get(to_envvar("PREFECT_LOGGING_" + "_".join(key)).upper()) for key in entries
    )
    return (
        settings.logging.model_dump_json(),
        settings.server.logging_level,
        settings.internal.logging_level,
        file,
        overrides,
    )


def _die_with_client(conn: socket.socket) -> None:
    """The client never writes after its request: its end closing means it died."""
    try:
        while conn.recv(1):
            pass
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGKILL)


def _read_request(conn: socket.socket) -> tuple[Request, list[int]] | None:
    conn.settimeout(REQUEST_TIMEOUT_SECONDS)
    data, fds = b"", []
    try:
        while not data.endswith(b"\n") and len(data) < MAX_REQUEST_BYTES:
            chunk, got, _, _ = socket.recv_fds(conn, 65536, 3)
            fds += got
            if not chunk:
                break
            data += chunk
        raw = json.loads(data)
        body = Request(
            argv=[str(a) for a in raw["argv"]],
            env={str(k): str(v) for k, v in raw["env"].items()},
            cwd=str(raw["cwd"]),
            cpus={int(c) for c in raw["cpus"]},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        _close(fds)
        return None
    if len(fds) != 3:
        _close(fds)
        return None
    return body, fds


def _stale(sources: dict[Path, float]) -> bool:
    for path, mtime in sources.items():
        try:
            if path.stat().st_mtime != mtime:
                return True
        except OSError:
            return True
    return False


def _send(conn: socket.socket, message: Mapping[str, object]) -> None:
    with contextlib.suppress(OSError):  # the client died; its run (if any) dies with it
        conn.sendall(json.dumps(message).encode() + b"\n")


def _close(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


if __name__ == "__main__":
    sys.exit(main())
