"""The bench's own logic: what a process and the machine have used, read from /proc; which
cases its office looks up again."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any
from uuid import uuid4

import pytest
from prefect.client.schemas.objects import FlowRun, State
from prefect.states import Cancelled, Completed, Crashed, Failed, Pending, Running, Suspended

from bench.figures import machine_cpu_seconds, process_cpu_seconds
from bench.throughput import _gone

pytestmark = pytest.mark.unit

SPIN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5:\n    pass\n"


def test_a_process_counts_the_cpu_of_the_children_it_has_reaped() -> None:
    mine = process_cpu_seconds(os.getpid())
    mine_alone = process_cpu_seconds(os.getpid(), children=False)
    busy, every = machine_cpu_seconds()
    subprocess.run([sys.executable, "-c", SPIN], check=True)  # reaped: its half second is ours
    mine_after = process_cpu_seconds(os.getpid())
    mine_alone_after = process_cpu_seconds(os.getpid(), children=False)
    busy_after, every_after = machine_cpu_seconds()
    assert mine is not None and mine_after is not None
    assert 0.45 <= mine_after - mine < 3
    assert mine_alone is not None and mine_alone_after is not None
    assert mine_alone_after - mine_alone < 0.45  # without its children: only the waiting
    assert busy_after - busy >= 0.45
    assert every_after - every >= busy_after - busy  # idle time is in the whole, not the busy


def test_a_process_that_is_gone_has_no_figure() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert process_cpu_seconds(child.pid) is None


def test_the_office_looks_again_for_a_case_with_no_run_or_one_that_ended() -> None:
    states_of: dict[str, State[Any]] = {
        "waiting": Suspended(),
        "running": Running(),
        "pending": Pending(),
        "crashed": Crashed(),
        "failed": Failed(),
        "cancelled": Cancelled(),
        "closed": Completed(),
    }
    runs = {name: FlowRun(flow_id=uuid4(), state=state) for name, state in states_of.items()}
    looked_again = {name for name in runs if _gone(runs, name)}
    assert looked_again == {"crashed", "failed", "cancelled", "closed"}
    assert _gone(runs, None)  # the server was too busy to start it at intake
    assert not _gone(runs, "not read yet")  # its state comes with the next round
