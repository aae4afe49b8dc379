"""The fault harness's results as a Markdown table (the README's reliability section) and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from tests.faults.lab import Tally

HEADER = (
    "| scenario | trials | lost | stalled | duplicates (flagged) | undelivered | refused 550 "
    "| to a manager | re-drives | of them without a kill | re-drive median / max |"
)


def table(tallies: list[Tally]) -> str:
    lines = [HEADER, "|" + "---|" * 11]
    for tally in tallies:
        row = tally.row()
        redrive = (
            f"{row['redrive_median_s']} s / {row['redrive_max_s']} s"
            if tally.redrive_seconds
            else "—"
        )
        lines.append(
            f"| {tally.scenario} | {tally.trials} | {tally.lost} | {tally.stalled} "
            f"| {row['duplicates']} | {tally.undelivered} | {tally.refused} "
            f"| {tally.handed_over} | {row['redrives']} | {tally.unprovoked} | {redrive} |"
        )
    return "\n".join(lines)


def problems(tallies: list[Tally]) -> str:
    """What went wrong, case by case."""
    return "\n".join(f"{t.scenario}: {p}" for t in tallies for p in t.problems)


def write_json(tallies: list[Tally], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        dict(t.row(), problems=t.problems, redrive_log=t.redrive_log, resend_log=t.resend_log)
        for t in tallies
    ]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")


def check(kept: list[Tally], *tallies: Tally) -> None:
    """Keep the tallies for the report; fail on any scenario that did not pass."""
    kept.extend(tallies)
    failed = [t for t in tallies if not t.passed]
    assert not failed, table(failed) + "\n" + problems(failed)
