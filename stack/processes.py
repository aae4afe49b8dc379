"""The embedded local stack: Prefect server (SQLite), a process worker, and an SMTP server."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from casework.errors import UserError
from casework.prefect_env import prefect_env
from casework.settings import PROJECT_DIR, Settings
from gateways.stack_health import api_healthy
from stack.job_template import locked_job_template

SERVICES = ("prefect-server", "mail-server", "run-starter", "worker", "workbench")


class StackError(UserError):
    """A service of the local stack would not start; its log says why."""

    def __init__(self, service: str, log: Path) -> None:
        super().__init__("service_failed", service=service, log=log)


@dataclass
class ServiceStatus:
    name: str
    pid: int | None
    running: bool


@dataclass
class LoggedError:
    """An ERROR record of a service log: its first line, and whether the database was locked
    (Prefect's SQLite answered "database is locked" after its wait: the request was refused and
    its client retries; a stack that logs many wants PostgreSQL)."""

    line: str
    locked: bool


# A record of Prefect's log starts "HH:MM:SS.mmm | LEVEL"; the lines after it (a traceback)
# belong to it.
_RECORD = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \| ")


def logged_errors(text: str) -> list[LoggedError]:
    """The ERROR records of a Prefect log's text."""
    found: list[LoggedError] = []
    current: list[str] | None = None
    for line in [*text.splitlines(), "00:00:00.000 | END"]:
        if _RECORD.match(line):
            if current is not None:
                body = "\n".join(current)
                found.append(LoggedError(current[0].strip(), "database is locked" in body))
            current = [line] if " ERROR " in line else None
        elif current is not None:
            current.append(line)
    return found


class Stack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.run_dir = settings.home / "run"
        self.logs_dir = settings.logs_dir
        # Set for the services started from now on (the fault harness passes its crash points).
        self.extra_env: dict[str, str] = {}

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(prefect_env(self.settings))
        # Workers' runs start warm from the run starter (stack/start_run.py).
        env["CASEWORK_RUN_STARTER"] = str(self.run_starter_socket)
        env.update(self.extra_env)
        return env

    def _pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def _pid(self, name: str) -> int | None:
        path = self._pid_file(name)
        if not path.exists():
            return None
        try:
            pid = int(path.read_text().strip())
        except ValueError:
            return None
        return pid if process_alive(pid) else None

    def _spawn(self, name: str, args: list[str], extra_env: dict[str, str] | None = None) -> int:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.logs_dir / f"{name}.log", "ab")  # noqa: SIM115 (owned by the child)
        process = subprocess.Popen(
            args,
            cwd=PROJECT_DIR,
            env={**self._env(), **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            umask=0o077,  # the services' files (logs, databases, letters) are the install's
        )
        self._pid_file(name).write_text(str(process.pid))
        return process.pid

    def _prefect(self, *args: str, timeout: float = 300) -> None:
        log_path = self.logs_dir / "prefect-cli.log"
        with open(log_path, "ab") as log:
            done = subprocess.run(
                [sys.executable, "-m", "prefect", *args],
                cwd=PROJECT_DIR,
                env=self._env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
                umask=0o077,
            )
        if done.returncode != 0:
            raise StackError(f"prefect {' '.join(args[:2])}", log_path)

    def api_healthy(self) -> bool:
        return api_healthy(self.settings)

    def up(self, *, timeout: float = 120) -> None:
        """Start whatever is not running yet, deploy the flows, and wait until the API answers."""
        self._start_services(timeout=timeout)
        self.use_job_template(locked_job_template(sys.executable, PROJECT_DIR))
        self._prefect("--no-prompt", "deploy", "--all")
        self._start_apps()

    def use_job_template(self, template: dict[str, object]) -> None:
        """The work pool (re)made with this job template (stack/job_template.py)."""
        path = self.run_dir / "job-template.json"
        path.write_text(json.dumps(template))
        pool = self.settings.work_pool
        self._prefect(
            "work-pool", "create", pool, "--type", "process",
            "--base-job-template", str(path), "--overwrite",
        )  # fmt: skip

    def revive(self, *, timeout: float = 120, mail_server: bool = True) -> None:
        """Restart whichever service died, as a supervisor would; the deployments are kept in
        Prefect's database, so nothing is deployed again."""
        self._start_services(timeout=timeout, mail_server=mail_server)
        self._start_apps()

    def stop_service(self, name: str) -> None:
        """Stop one service (its process group), e.g. the mail server for an outage."""
        pid = self._pid(name)
        if pid is not None:
            _stop_group(pid, 20)
        self._pid_file(name).unlink(missing_ok=True)

    def pid(self, name: str) -> int | None:
        """The running service's process id, or None."""
        return self._pid(name)

    def _start_services(self, *, timeout: float, mail_server: bool = True) -> None:
        s = self.settings
        (s.home / "prefect").mkdir(parents=True, exist_ok=True)
        if mail_server and self._pid("mail-server") is None:
            self._spawn(
                "mail-server",
                [
                    sys.executable,
                    "-m",
                    "stack.mailserver",
                    "--host",
                    s.smtp_host,
                    "--port",
                    str(s.smtp_port),
                    "--maildir",
                    str(s.mailbox_dir),
                    "--unmatched",
                    str(s.home / "unmatched"),
                ],
            )
        if self._pid("prefect-server") is None:
            self._spawn(
                "prefect-server",
                [
                    sys.executable,
                    "-m",
                    "stack.prefect_server",
                    "--host",
                    s.prefect_host,
                    "--port",
                    str(s.prefect_port),
                ],
            )
        deadline = time.monotonic() + timeout
        while not self.api_healthy():
            if self._pid("prefect-server") is None or time.monotonic() > deadline:
                raise StackError("prefect-server", self.logs_dir / "prefect-server.log")
            time.sleep(0.5)

    @property
    def run_starter_socket(self) -> Path:
        return self.run_dir / "run-starter.sock"

    def _start_apps(self) -> None:
        s = self.settings
        if self._pid("workbench") is None:
            self._spawn("workbench", [sys.executable, "-m", "web"])
        if self._pid("run-starter") is None:
            self.run_starter_socket.unlink(missing_ok=True)
            self._spawn(
                "run-starter",
                [
                    sys.executable,
                    "-m",
                    "stack.run_starter",
                    "--socket",
                    str(self.run_starter_socket),
                ],
            )
        if self._pid("worker") is None:
            self._spawn(
                "worker",
                [
                    sys.executable,
                    "-m",
                    "prefect",
                    "worker",
                    "start",
                    "--pool",
                    s.work_pool,
                    "--type",
                    "process",
                ],
                # On SQLite a busy Prefect server answers 503 for a minute at a time; the worker
                # (and the case runs it starts) retries for about two minutes, not thirty
                # seconds, before it gives a run up as Crashed and the reconciler re-drives it.
                extra_env={"PREFECT_CLIENT_MAX_RETRIES": "7"},
            )
        # Runs claimed before the starter is ready start cold (slower, not wrong): wait for it.
        deadline = time.monotonic() + 60
        while not self.run_starter_socket.exists() and time.monotonic() < deadline:
            if self._pid("run-starter") is None:
                raise StackError("run-starter", self.logs_dir / "run-starter.log")
            time.sleep(0.2)

    def down(self, *, timeout: float = 20) -> None:
        """Stop every service of the stack (their whole process groups)."""
        for name in reversed(SERVICES):
            pid = self._pid(name)
            if pid is not None:
                _stop_group(pid, timeout)
            self._pid_file(name).unlink(missing_ok=True)

    def server_log_size(self) -> int:
        path = self.logs_dir / "prefect-server.log"
        return path.stat().st_size if path.exists() else 0

    def service_errors(self, *, tail_bytes: int = 256_000, since: int | None = None) -> list[str]:
        """ERROR lines near the end of the Prefect server's log (its scheduler and other
        background services fail there and nowhere else); `since`: from that byte offset."""
        return [e.line for e in self.logged_errors(tail_bytes=tail_bytes, since=since)]

    def logged_errors(
        self, *, tail_bytes: int = 256_000, since: int | None = None
    ) -> list[LoggedError]:
        """The ERROR records near the end of the Prefect server's log, each with its traceback
        read for whether Prefect's SQLite file was locked."""
        path = self.logs_dir / "prefect-server.log"
        if not path.exists():
            return []
        with open(path, "rb") as log:
            start = path.stat().st_size - tail_bytes if since is None else since
            log.seek(max(0, start))
            text = log.read().decode("utf-8", errors="replace")
        return logged_errors(text)

    def status(self) -> list[ServiceStatus]:
        result = []
        for name in SERVICES:
            pid = self._pid(name)
            result.append(ServiceStatus(name=name, pid=pid, running=pid is not None))
        return result


def process_alive(pid: int) -> bool:
    """Whether the process runs: there, and not a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours is not alive for our purposes. The state follows the command
    # name, which is in parentheses and may hold spaces.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _stop_group(pid: int, timeout: float) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
