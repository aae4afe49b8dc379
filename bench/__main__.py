"""`make bench` (`python -m bench`): Casework's benchmark on a private local stack.

python -m bench                      # the full run: prints the table, writes bench/results.json
python -m bench --smoke              # a few of everything (CI runs this; its figures mean little)
python -m bench --only startup,output
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from stack.ports import free_port as _free_port

if TYPE_CHECKING:
    from bench.figures import Figure
    from stack.postgres import PostgresServer


# Before anything reads settings or imports Prefect: a private home, private ports.
os.environ["CASEWORK_HOME"] = tempfile.mkdtemp(prefix="casework-bench-")
os.environ["CASEWORK_PREFECT_PORT"] = str(_free_port())
os.environ["CASEWORK_SMTP_PORT"] = str(_free_port())
os.environ["CASEWORK_WEB_PORT"] = str(_free_port())
for _key in [k for k in os.environ if k.startswith("PREFECT_") and "DATABASE" not in k]:
    del os.environ[_key]

SECTIONS = ("startup", "output", "volume", "city", "orchestration", "capacity", "scale-out")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="a few of everything (CI)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=",".join(SECTIONS))
    parser.add_argument("--postgres", choices=("auto", "yes", "no"), default="auto",
                        help="also run the city on a private PostgreSQL server (auto: if installed)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="bench/results.json (smoke: test-artifacts/)")
    args = parser.parse_args(argv)
    from casework.settings import PROJECT_DIR

    if args.json is None:
        smoke_json = PROJECT_DIR / "test-artifacts" / "bench-smoke.json"
        args.json = smoke_json if args.smoke else PROJECT_DIR / "bench" / "results.json"
    chosen = set(args.only.split(","))
    smoke = args.smoke

    from casework.clock import now
    from casework.prefect_env import apply_prefect_env
    from casework.settings import get_settings

    apply_prefect_env(get_settings())
    from bench import figures as figs
    from bench.figures import Figure, private_database, rss_mib, use_database

    home = get_settings().home
    results: list[Figure] = []
    as_of = now()
    started = time.monotonic()

    failed: list[str] = []

    def section(name: str, fill: object) -> None:
        """Run one part; a failure is printed and shown in the table, and the rest still runs."""
        if name in chosen:
            print(f"· {name} …", file=sys.stderr, flush=True)
            began = time.monotonic()
            try:
                results.extend(fill())  # type: ignore[operator]
                print(f"  {name}: {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
            except Exception as exc:
                traceback.print_exc()
                failed.append(name)
                results.append(
                    Figure(name, f"failed: {type(exc).__name__}", None, "", str(exc)[:80])
                )

    from bench import output, volume

    use_database(f"sqlite:///{home / 'bench-main.db'}")
    (first_case,) = volume.seed_open_cases(1, as_of)
    from bench import startup

    section("startup", lambda: startup.measure(first_case, trials=1 if smoke else 5))
    stack = None
    try:
        if chosen & {"output", "orchestration", "capacity"}:
            from stack.processes import Stack

            use_database(None)
            stack = Stack(get_settings())
            stack.up()
            idle_rss = _orchestration_idle(stack, settle=1 if smoke else 5)
        with private_database("bench-output.db"):
            section("output", lambda: output.mail(50 if smoke else 1000, as_of)
                    + output.letters(3 if smoke else 30, as_of))  # fmt: skip
        if "orchestration" in chosen and stack is not None:
            from bench import orchestration, throughput

            section("orchestration", lambda: orchestration.overhead(
                stack, trials=1 if smoke else 8, warm_up=not smoke))  # fmt: skip
            section("orchestration", lambda: throughput.clerk_latency(trials=1 if smoke else 10))
            # The smoke run starts the second worker (the code path), not the comparison.
            for workers in (2,) if smoke else (1, 2):
                section("orchestration", lambda w=workers: throughput.throughput(
                    stack, cases=2 if smoke else 50, workers=w, serial=8000 + 100 * w))  # fmt: skip
            results.append(
                Figure("throughput", "worker RSS idle", idle_rss, "MiB", "before any case")
            )
            results.append(
                Figure("throughput", "run starter RSS", rss_mib(stack.pid("run-starter") or 0),
                       "MiB", "Prefect, the flows and WeasyPrint imported; every engine forked "
                       "from it shares these pages until it writes them")
            )  # fmt: skip
        if stack is not None:
            from bench import suspended

            section("capacity", lambda: suspended.reconciler_at_scale(
                stack, 50 if smoke else 10_000, trials=1 if smoke else 3,
                idle_watch=2 if smoke else 60))  # fmt: skip
    finally:
        if stack is not None:
            stack.down()
    use_database(f"sqlite:///{home / 'bench-volume.db'}")
    section(
        "volume", lambda: volume.capacity(300 if smoke else 10_000, as_of, trials=1 if smoke else 3)
    )
    cases, per_case = (2_000, 10) if smoke else (100_000, 10)
    use_database(f"sqlite:///{home / 'bench-city.db'}")
    section(
        "city",
        lambda: volume.city(cases, per_case, as_of, label="SQLite", trials=1 if smoke else 3),
    )
    if chosen & {"city", "scale-out"} and args.postgres != "no":
        server = _postgres(required=args.postgres == "yes")
        if server is not None:
            try:
                use_database(server.new_database())
                section("city", lambda: volume.city(cases, per_case, as_of, label="PostgreSQL",
                                                    trials=1 if smoke else 3))  # fmt: skip
                section("scale-out", lambda: _throughput_on_postgres(server, smoke))
            finally:
                use_database(None)
                server.stop()
    print(figs.table(results))
    print(f"\n{time.monotonic() - started:.0f} s; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; figures in {args.json}")  # fmt: skip
    figs.write_json(results, args.json, {"smoke": smoke, "cores": os.cpu_count(), "as_of": as_of})
    return 1 if failed else 0


def _orchestration_idle(stack: object, *, settle: float) -> float | None:
    from bench.throughput import idle_worker_rss

    time.sleep(settle)
    return idle_worker_rss(stack)  # type: ignore[arg-type]


def _throughput_on_postgres(server: PostgresServer, smoke: bool) -> list[Figure]:
    """A district's set-up on one machine: Prefect's server and the case database on PostgreSQL,
    cases closed per minute with one worker and with two."""
    from bench import throughput
    from bench.figures import Figure, use_database
    from casework.settings import get_settings
    from stack.processes import Stack

    os.environ["CASEWORK_PREFECT_DATABASE_URL"] = server.new_prefect_database()
    use_database(server.new_database())
    stack = Stack(get_settings())
    figures: list[Figure] = []
    ratios: list[Figure] = []
    try:
        stack.up()
        # Both workers on both cores (one machine), then each on a core of its own (workers on
        # machines of their own: what a second worker adds when it brings its own CPU).
        for core_each, how in ((False, "same 2 cores"), (True, "a core each")):
            closed = []
            for workers in (1, 2):
                found = throughput.throughput(
                    stack, cases=2 if smoke else 24, workers=workers, label="PostgreSQL",
                    serial=9000 + 100 * workers + 1000 * core_each, core_each=core_each,
                )  # fmt: skip
                figures += found
                closed += [f.value for f in found if f.what.endswith("closed per minute")]
            one, two = closed
            ratio = two / one if one and two else None
            ratios.append(
                Figure("scale-out", f"PostgreSQL: 2 workers ÷ 1 worker ({how}), cases closed "
                       "per minute", ratio, "×", how, "≥ 1.6×", ratio is not None and ratio >= 1.6)
            )  # fmt: skip
    finally:
        stack.down()
        os.environ.pop("CASEWORK_PREFECT_DATABASE_URL")
        use_database(None)
    return [*figures, *ratios]


def _postgres(*, required: bool) -> PostgresServer | None:
    from stack.postgres import PostgresMissing, PostgresServer

    try:
        return PostgresServer.start(_free_port())
    except PostgresMissing:
        if required:
            raise
        print("PostgreSQL is not installed: the city runs on SQLite only", file=sys.stderr)
        return None


if __name__ == "__main__":
    sys.exit(main())
