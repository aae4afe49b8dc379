"""`python -m tests.faults`: the fault harness on a private local stack, printed as a table.

.venv/bin/python -m tests.faults                 # the long run: 30 cases, 100+ kills
.venv/bin/python -m tests.faults --cases 4 --kills 10 --rounds 1   # about CI's size
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import tests.conftest  # noqa: F401  (first: a private home, ports and Prefect settings)

SCENARIOS = ("random", "targeted", "mail", "server", "race")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults", description=__doc__)
    parser.add_argument("--cases", type=int, default=30, help="cases under random kills")
    parser.add_argument("--kills", type=int, default=100, help="random SIGKILLs")
    parser.add_argument("--rounds", type=int, default=3, help="trials of each targeted fault")
    parser.add_argument("--only", default=",".join(SCENARIOS), help=",".join(SCENARIOS))
    parser.add_argument("--json", type=Path, default=Path("test-artifacts/faults.json"))
    args = parser.parse_args(argv)
    chosen = set(args.only.split(","))

    from casework.settings import get_settings
    from stack.processes import Stack
    from tests.factories import reset_database
    from tests.faults import report, scenarios
    from tests.faults.lab import Lab, Tally

    reset_database()
    stack = Stack(get_settings())
    started = time.monotonic()
    stack.up()
    tallies: list[Tally] = []
    try:
        with Lab(stack, Path(tempfile.mkdtemp(prefix="casework-faults-"))) as lab:
            if "random" in chosen:
                tallies.append(scenarios.random_kills(lab, cases=args.cases, kills=args.kills))
            if "targeted" in chosen:
                tallies += scenarios.targeted_kills(lab, rounds=args.rounds)
            if "mail" in chosen:
                tallies += scenarios.mail_server_faults(lab, cases=args.rounds)
            if "server" in chosen:
                tallies.append(scenarios.server_restarts(lab, rounds=args.rounds))
                tallies.append(scenarios.starter_restarts(lab, rounds=args.rounds))
            if "race" in chosen:
                tallies.append(scenarios.racing_answers(lab, rounds=args.rounds))
    finally:
        stack.down()
    print(report.table(tallies))
    print(f"\n{time.monotonic() - started:.0f} s on the real stack; logs in {stack.logs_dir}")
    if found := report.problems(tallies):
        print("\n" + found)
    report.write_json(tallies, args.json)
    return 0 if all(t.passed for t in tallies) else 1


if __name__ == "__main__":
    sys.exit(main())
