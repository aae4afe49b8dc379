"""How the fault lab accounts for an email that arrived twice: which kill, of which process,
explains it (`resend_causes`), and when a kill's processes were gone (`watch_deaths`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.waiting import eventually, process_gone

# A sender marks an email sent in milliseconds after the server's 250: a random kill of the
# process that sent the first copy, this soon after it arrived, can have landed in between, and
# the copy sent again (flagged) is the one the design allows.
ACCEPTED_TO_MARK_SECONDS = 2.0
# How long the harness watches a killed run's processes go: a warm engine dies when it sees
# its client gone, a moment after the client's SIGKILL.
DEATH_WATCH_SECONDS = 5.0

# Kills that can leave a message accepted and not marked sent: of a run's processes (at random,
# or with the worker), or of the sender aimed at right after the server took its message.
SENDER_KILLS = ("flow run", "worker's run", "smtp accepted")


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


def stack_clock(moment: float | None) -> str:
    """A wall-clock moment as the stack's logs write it (UTC, milliseconds)."""
    if moment is None:
        return "?"
    return datetime.fromtimestamp(moment, UTC).strftime("%H:%M:%S.%f")[:-3]


def resend_told(copies: list[Received], cause: Kill | None) -> dict[str, Any]:
    return {
        "message": copies[0].message_id,
        "copies": [
            f"{stack_clock(m.at)} from pid {m.sender_pid} (EHLO {stack_clock(m.connected_at)})"
            + (", flagged" if m.resend else "")
            for m in copies
        ],
        "kill": f"{cause.what} at {stack_clock(cause.at)} {cause.flow_run_id or ''}".strip()
        if cause
        else None,
    }


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


def last_gone(pids: tuple[int, ...], gone: dict[int, float]) -> float | None:
    """When the last of a kill's processes went; None if one outlived the watch."""
    return max(gone[p] for p in pids) if pids and all(p in gone for p in pids) else None
