"""The fault lab's mail server: a real SMTP server that refuses, stalls or answers 421/451/550 on
cue, and notes which process sent each message."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller

from tests.faults.accounting import Kill, Received
from tests.faults.processes import flow_run_processes


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
