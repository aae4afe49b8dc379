"""Waiting in tests for what another process does: poll until true, or fail naming it."""

from __future__ import annotations

import time
from collections.abc import Callable

from stack.processes import process_alive


def eventually(check: Callable[[], object], *, seconds: float, every: float = 0.05) -> bool:
    """Whether `check` came true within `seconds`, asked every `every` seconds."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def wait_for(check: Callable[[], object], *, seconds: float, what: str, every: float = 0.5) -> None:
    """Poll `check` until it is true; fail with `what` after `seconds`."""
    if not eventually(check, seconds=seconds, every=every):
        raise AssertionError(f"{what} (not seen within {seconds:.0f} s)")


def process_gone(pid: int) -> bool:
    """Whether the process has ended: no longer there, or a zombie nobody has reaped."""
    return not process_alive(pid)
