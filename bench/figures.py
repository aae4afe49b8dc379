"""Rows of the benchmark's table: a figure, how it was measured, and its target."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    section: str
    what: str
    value: float | None
    unit: str
    note: str = ""
    target: str = ""
    met: bool | None = None
    samples: list[float] = field(default_factory=list)

    def shown(self) -> str:
        if self.value is None:
            return "—"
        if self.unit in ("×", "share"):
            return f"{self.value:.2f}{'×' if self.unit == '×' else ''}"
        if self.unit == "s":
            return f"{self.value:.3f} s" if self.value < 1 else f"{self.value:.2f} s"
        if self.unit == "core-s":
            return f"{self.value:.2f} core-s"
        if self.unit == "MiB":
            return f"{self.value:.0f} MiB"
        return f"{self.value:,.0f} {self.unit}"


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """`with stopwatch() as took:` … `took[0]` is the block's wall time in seconds."""
    took: list[float] = []
    started = time.perf_counter()
    try:
        yield took
    finally:
        took.append(time.perf_counter() - started)


def use_database(url: str | None, *, letters: Path | None = None) -> None:
    """Point this process's case database at `url` (None: the home's own SQLite file), and its
    letters at `letters` (None: the home's own folder)."""
    import os

    from models.db import forget_cached_state

    for name, value in (("CASEWORK_DATABASE_URL", url), ("CASEWORK_LETTERS_FOLDER", letters)):
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = str(value)
    forget_cached_state()


@contextmanager
def private_database(name: str) -> Iterator[None]:
    """A SQLite case database of the bench's own beside the stack's, for work no case run may
    see (the stack's reconciler would start runs for cases opened there without one). Its
    letters go to a folder of its own: its case numbers are the stack's too, and a case's
    letter already filed is never printed again."""
    from casework.settings import get_settings

    home = get_settings().home
    use_database(f"sqlite:///{home / name}", letters=home / f"{Path(name).stem}-letters")
    try:
        yield
    finally:
        use_database(None)


def rss_mib(pid: int) -> float | None:
    """A process's resident memory (Linux /proc), or None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_share(pid: int, seconds: float) -> float | None:
    """The share of one core a process uses over the next `seconds` (Linux /proc), or None."""
    before = process_cpu_seconds(pid, children=False)
    time.sleep(seconds)
    after = process_cpu_seconds(pid, children=False)
    return None if before is None or after is None else (after - before) / seconds


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, all) core-seconds this machine has spent since boot, every core counted (Linux
    /proc/stat: idle and I/O wait are not busy)."""
    import os

    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    every = sum(values[:8])  # user nice system idle iowait irq softirq steal (guest is in user)
    tick = os.sysconf("SC_CLK_TCK")
    return (every - idle) / tick, every / tick


def process_cpu_seconds(pid: int, *, children: bool = True) -> float | None:
    """Core-seconds a process has used, with those of its children it has waited for (a run
    starter's ended engines) unless `children` is false, or None when it is gone."""
    import os

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    used = fields[11:15] if children else fields[11:13]  # utime, stime, cutime, cstime
    return sum(int(f) for f in used) / os.sysconf("SC_CLK_TCK")


def table(figures: list[Figure]) -> str:
    """The figures as a Markdown table, one section after another."""
    lines = ["| section | what | figure | target | met | how |", "|---|---|---|---|---|---|"]
    for f in figures:
        met = "" if f.met is None else ("yes" if f.met else "**no**")
        lines.append(f"| {f.section} | {f.what} | {f.shown()} | {f.target} | {met} | {f.note} |")
    return "\n".join(lines)


def write_json(figures: list[Figure], path: Path, context: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"context": context, "figures": [asdict(f) for f in figures]}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
