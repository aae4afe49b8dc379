"""The bench's CPU accounting: what a process and the machine have used, read from /proc."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.figures import machine_cpu_seconds, process_cpu_seconds

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
