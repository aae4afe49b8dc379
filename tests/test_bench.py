"""The benchmark runs end to end (a smoke run, as CI does it): every section yields figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from casework.settings import PROJECT_DIR

pytestmark = pytest.mark.integration


def test_the_smoke_bench_measures_every_section(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEWORK_", "PREFECT_"))}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--postgres", "no", "--json", str(out)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text())["figures"]
    sections = {f["section"] for f in figures}
    assert sections == {
        "startup",
        "output",
        "volume",
        "city",
        "orchestration",
        "latency",
        "throughput",
        "capacity",
    }
    measured = {f["what"]: f["value"] for f in figures}
    assert all(value is not None for value in measured.values()), measured
    # Every figure but a difference between two ways (Casework − bare) is a time, rate or size.
    assert all(value > 0 for what, value in measured.items() if " − " not in what), measured
    ratio = next(v for k, v in measured.items() if k.startswith("open → waiting: Casework ÷"))
    assert 0.2 < ratio < 20  # both sides were timed on the same stack, whatever the machine
    # The reconciler's real round ran over the suspended runs it seeded (and moved none).
    assert any(k.startswith("reconciler round, 50 open cases") for k in measured)
    assert "| section | what | figure |" in done.stdout
