"""What every process pays before it does anything: imports, and the CLI's read commands."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.figures import Figure, median, timed
from casework.settings import PROJECT_DIR


def _python(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, check=True, env=os.environ)


def _casework(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=PROJECT_DIR,
        env=os.environ,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"casework {' '.join(args)}: {done.stderr.decode()[-500:]}")


def measure(case_number: str, *, trials: int) -> list[Figure]:
    """Import times side by side (interleaved, median), then each read command's wall time."""
    imports = {"prefect": [], "flows.hard_case": [], "cli.main": []}  # type: dict[str, list[float]]
    for _ in range(trials):
        for module, samples in imports.items():
            samples.append(timed(lambda m=module: _python(f"import {m}")))  # type: ignore[misc]
    floor = median(imports["prefect"])
    flow = median(imports["flows.hard_case"])
    figures = [
        Figure("startup", "import prefect (a flow process's floor)", floor, "s", "median"),
        Figure("startup", "import flows.hard_case (every case-run process)", flow, "s", "median"),
        Figure(
            "startup",
            "case flow import ÷ prefect import",
            flow / floor,
            "×",
            "what each resume pays beyond Prefect",
        ),
        Figure("startup", "import cli.main", median(imports["cli.main"]), "s", "median"),
    ]
    commands = {
        f"casework show {case_number}": ("show", case_number),
        "casework cases": ("cases",),
        "casework cases --overdue": ("cases", "--overdue"),
        "casework board": ("board",),
    }
    for what, args in commands.items():
        took = median([timed(lambda a=args: _casework(*a)) for _ in range(trials)])  # type: ignore[misc]
        figures.append(
            Figure("startup", what, took, "s", "wall time, median", "≤ 1 s", took <= 1.0)
        )
    return figures
