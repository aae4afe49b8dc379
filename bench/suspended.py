"""Capacity in Prefect: open cases each with a suspended flow run on the real stack, and the
reconciler's real every-minute round over them (the sweep runs the same round)."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from bench.figures import Figure, cpu_share, median, private_database, rss_mib, timed
from bench.volume import PLAYBOOK, seed_open_cases
from casework.clock import now
from casework.planning import wait_key_for
from gateways.prefect_client import deployment_name
from models import lifecycle
from models.db import session_scope
from stack.processes import Stack
from tasks.chase import STALE_INPUT_LOOKBACK, reconcile

# Short enough that the server's own writes, queued behind one, wait less than its 5 s bound,
# with a pause after each in which they get the lock: 200 back to back (3 s each) kept the
# server's services waiting past it, and they logged "database is locked" 31 times.
RUNS_PER_TRANSACTION = 50
PAUSE_BETWEEN_TRANSACTIONS = 0.1

# Cases wait on agencies for weeks: their runs suspended at any moment of the past month.
WAITING_FOR = timedelta(days=30)


def _create_suspended_runs(case_numbers: list[str], as_of: datetime) -> dict[str, str]:
    """A suspended run of the case flow's deployment for each case, as a case run is while it
    waits for an agency (created in that state: nothing runs); the run ids by case number.
    Through Prefect's own server functions in this process, 50 a transaction, into the stack's
    database: its API creates about 5 runs a second here, 10,000 would take half an hour."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(deployment_name(PLAYBOOK))
    return asyncio.run(_insert_runs(case_numbers, deployment.id, deployment.flow_id, as_of))


async def _insert_runs(
    case_numbers: list[str], deployment_id: UUID, flow_id: UUID, as_of: datetime
) -> dict[str, str]:
    from prefect.server import models, schemas
    from prefect.server.database import provide_database_interface

    rng = random.Random(11)
    db = provide_database_interface()
    create_flow_run: Any = models.flow_runs.create_flow_run  # typed loosely by its decorator
    runs: dict[str, str] = {}
    for start in range(0, len(case_numbers), RUNS_PER_TRANSACTION):
        # IMMEDIATE on SQLite: the running server writes too, and a deferred transaction that
        # read before one of its writes is refused at once (the full-size run died so).
        async with db.session_context(begin_transaction=True, with_for_update=True) as session:
            for number in case_numbers[start : start + RUNS_PER_TRANSACTION]:
                state: Any = schemas.states.Suspended(
                    pause_key=wait_key_for(1), timestamp=as_of - WAITING_FOR * rng.random()
                )
                run = await create_flow_run(
                    session=session,
                    flow_run=schemas.core.FlowRun(
                        flow_id=flow_id,
                        deployment_id=deployment_id,
                        name=f"case-{number}",
                        parameters={"case_number": number},
                        tags=[PLAYBOOK, "bench"],
                        state=state,
                    ),
                )
                runs[number] = str(run.id)
        await asyncio.sleep(PAUSE_BETWEEN_TRANSACTIONS)
    return runs


def reconciler_at_scale(
    stack: Stack, count: int, *, trials: int, idle_watch: float
) -> list[Figure]:
    """`count` open cases with suspended runs: the reconciler's round, worker and server RSS,
    and the server's CPU over `idle_watch` seconds with nothing asked of it (a minute sees
    every periodic service of its own at least once)."""
    as_of = now()
    worker, server = stack.pid("worker"), stack.pid("prefect-server")
    worker_idle = rss_mib(worker) if worker else None
    server_before = rss_mib(server) if server else None
    with private_database("bench-suspended.db"):
        numbers = seed_open_cases(count, as_of)
        runs: dict[str, str] = {}
        seed_s = timed(lambda: runs.update(_create_suspended_runs(numbers, as_of)))
        with session_scope() as session:
            for number, run_id in runs.items():
                lifecycle.set_flow_run(
                    session=session, case_number=number, flow_run_id=run_id, as_of=as_of
                )
        reports = []
        round_s = median([timed(lambda: reports.append(reconcile(now()))) for _ in range(trials)])
        moved = sum(len(r.woken) + len(r.redriven) + len(r.started) for r in reports)
    if moved:
        raise RuntimeError(f"the reconciler moved {moved} case(s) that had nothing due")
    worker_after = rss_mib(worker) if worker else None
    server_after = rss_mib(server) if server else None
    server_idle_cpu = cpu_share(server, idle_watch) if server else None
    recent = STALE_INPUT_LOOKBACK / WAITING_FOR
    figures = [
        Figure("capacity", f"seed {count:,} suspended case runs in Prefect", count / seed_s,
               "runs/s", f"Prefect's server functions in process, {RUNS_PER_TRANSACTION} a transaction"),
        Figure("capacity", f"reconciler round, {count:,} open cases with suspended runs",
               round_s, "s", f"median of {trials}; runs read 200 a request, 3 requests at once, every "
               f"open case planned meanwhile, "
               f"stored input read for the {recent:.1%} suspended in the last "
               f"{STALE_INPUT_LOOKBACK.total_seconds() / 3600:g} h", "≤ 10 s",
               round_s <= 10),
    ]  # fmt: skip
    if worker_idle and worker_after:
        growth = worker_after / worker_idle - 1
        figures.append(
            Figure("capacity", f"worker RSS with {count:,} suspended runs", worker_after, "MiB",
                   f"{growth:+.0%} on idle ({worker_idle:.0f} MiB)", "within 10%",
                   abs(growth) <= 0.10)
        )  # fmt: skip
    if server_before and server_after:
        figures.append(
            Figure("capacity", f"Prefect server RSS with {count:,} suspended runs", server_after,
                   "MiB", f"{server_before:.0f} MiB before they were created")
        )  # fmt: skip
    if server_idle_cpu is not None:
        figures.append(
            Figure("capacity", f"Prefect server CPU, idle, {count:,} suspended runs",
                   100 * server_idle_cpu, "% of a core",
                   f"over {idle_watch:g} s with nothing asked of it (its own services)")
        )  # fmt: skip
    return figures
