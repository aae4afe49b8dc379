"""Whether the stack's Prefect server answers, and when its scheduled work last ran and runs next."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import httpx
from pydantic import BaseModel

from casework.prefect_env import prefect_auth_string
from casework.settings import Settings
from gateways.prefect_client import client

if TYPE_CHECKING:
    pass


# Prefect is imported inside each function that talks to it: the CLI and the workbench load these
# modules for every command, and importing Prefect's client costs more than a read command.


def api_healthy(settings: Settings) -> bool:
    """True when the Prefect server answers its health check (with the stack's password)."""
    user, _, password = prefect_auth_string(settings).partition(":")
    url = settings.prefect_api_url
    # Over plain http there is no certificate to check, and loading certifi's 150 costs 25 ms.
    verify = url.startswith("https://")
    try:
        response = httpx.get(f"{url}/health", timeout=2, auth=(user, password), verify=verify)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


class ScheduledWork(BaseModel):
    """A scheduled deployment's last finished run and next planned one, as Prefect records them."""

    deployment: str
    last_run_at: datetime | None = None
    last_state: str | None = None
    next_run_at: datetime | None = None


def scheduled_work(deployment: str) -> ScheduledWork:
    """When `flow/deployment` last ran (to a final state) and when it runs next."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.exceptions import ObjectNotFound

    work = ScheduledWork(deployment=deployment)
    with client() as prefect:
        try:
            found = prefect.read_deployment_by_name(deployment)
        except ObjectNotFound:
            return work
        by_deployment = DeploymentFilter(id=DeploymentFilterId(any_=[found.id]))
        final = [StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED]
        last = prefect.read_flow_runs(
            deployment_filter=by_deployment,
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=final))
            ),
            sort=FlowRunSort.END_TIME_DESC,
            limit=1,
        )
        upcoming = prefect.read_flow_runs(
            deployment_filter=by_deployment,
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            limit=1,
        )
    if last:
        work.last_run_at = last[0].end_time
        work.last_state = last[0].state_name
    if upcoming:
        work.next_run_at = upcoming[0].expected_start_time
    return work
