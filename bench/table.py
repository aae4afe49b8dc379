"""`python -m bench.table`: docs/benchmarks.md's table, made from bench/results.json (the latest
full run), written between its markers; `--check` says whether the page is up to date."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.figures import Figure, table
from casework.settings import PROJECT_DIR

RESULTS = PROJECT_DIR / "bench" / "results.json"
PAGE = PROJECT_DIR / "docs" / "benchmarks.md"
START, END = "<!-- table from bench/results.json -->", "<!-- end of table -->"


def results_table(path: Path = RESULTS) -> str:
    data = json.loads(path.read_text())
    context = data["context"]
    figures = [Figure(**f) for f in data["figures"]]
    when = str(context.get("as_of", ""))[:10]
    head = f"{len(figures)} figures, {context.get('cores')} cores, run of {when}."
    return f"{head}\n\n{table(figures)}"


def page_with_table(page: str, made: str) -> str:
    before, _, rest = page.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n{made}\n{END}{after}"


def main(argv: list[str]) -> int:
    page = PAGE.read_text()
    wanted = page_with_table(page, results_table())
    if "--check" in argv:
        return 0 if wanted == page else 1
    PAGE.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
