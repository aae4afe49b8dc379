"""The framework's floor: a flow with a case's suspends and task runs and no business in them."""

from __future__ import annotations

from uuid import UUID

import httpx
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput
from prefect.input.run_input import keyset_from_base_key
from prefect.runtime import flow_run


class Answer(RunInput):
    outcome: str = "received"


@task(cache_policy=NO_CACHE)
def step(execution: int, number: int) -> int:
    """One task run that does nothing."""
    return execution * 1000 + number


def _answered(key: str) -> bool:
    response_key = keyset_from_base_key(f"suspended-{key}")["response"]
    with get_client(sync_client=True) as client:
        try:
            client.read_flow_run_input(UUID(str(flow_run.get_id())), response_key)
        except httpx.HTTPStatusError:
            return False
    return True


@flow(name="bench-bare-case", flow_run_name="bare-{label}", log_prints=False)
def bare_case(label: str, per_execution: list[int]) -> str:
    """The benchmark's bare flow: execution e runs per_execution[e] task runs, then suspends
    for an answer (every execution but the last) as the case flow does between answers."""
    execution = 0
    while execution < len(per_execution) - 1 and _answered(f"wait-{execution}"):
        execution += 1
    for number in range(per_execution[execution]):
        step(execution, number)
    if execution < len(per_execution) - 1:
        suspend_flow_run(wait_for_input=Answer, key=f"wait-{execution}")
    return "done"
