"""Crash points: named places where the fault harness may SIGKILL a process (failpoints).

Inactive unless CASEWORK_FAULTS_DIR is set, which only the fault harness does, for the stack
it starts. The harness arms a point by creating `<dir>/<name>.armed` (any case) or
`<dir>/<name>@<case number>.armed` (one case); the first process to reach the point renames
the file to `.fired` (a rename is atomic, so exactly one process wins), notes the moment in it
and kills itself with SIGKILL: no `finally`, no rollback, no flush, as a power cut would.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

FAULTS_DIR_ENV = "CASEWORK_FAULTS_DIR"


def crash_point(name: str, case_number: str | None = None) -> None:
    """Die here if the harness armed this point (for this case, or for any)."""
    folder = os.environ.get(FAULTS_DIR_ENV)
    if not folder:
        return
    candidates = [f"{name}@{case_number}", name] if case_number else [name]
    for candidate in candidates:
        armed = Path(folder) / f"{candidate}.armed"
        fired = armed.with_suffix(".fired")
        try:
            os.rename(armed, fired)
        except OSError:
            continue
        fired.write_text(f"{time.time()} {os.getpid()}\n")
        os.kill(os.getpid(), signal.SIGKILL)
