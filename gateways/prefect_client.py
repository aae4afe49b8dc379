"""The client seam to Prefect's API: one shared client per round of work, and a case's flow
run started, re-driven, cancelled, waited for."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from casework.clock import now
from casework.settings import get_settings
from models import lifecycle
from models.db import session_scope

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.objects import FlowRun


# Prefect is imported inside each function that talks to it: the CLI and the workbench load these
# modules for every command, and importing Prefect's client costs more than a read command.

CASE_FLOW = "hard-case"

_shared_client: ContextVar[SyncPrefectClient | None] = ContextVar("shared_client", default=None)


@contextlib.contextmanager
def one_client() -> Iterator[None]:
    """Every call to Prefect inside shares one client: making one costs about 30 ms (its HTTP
    transport and TLS context), which a reconciler round over thousands of cases paid for
    each suspended run it looked into."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        token = _shared_client.set(client)
        try:
            yield
        finally:
            _shared_client.reset(token)


@contextlib.contextmanager
def client(*, own: bool = False) -> Iterator[SyncPrefectClient]:
    """The client one_client() shares, else (or if `own`) a new one for this call."""
    shared = None if own else _shared_client.get()
    if shared is not None:
        yield shared
        return
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as made:
        yield made


# The deployment an office-written case type's runs go under: they need no deployment of their
# own (a new type is open for intake at once), and each run's tags still name its case type.
SHARED_DEPLOYMENT = "general"


def deployment_name(playbook: str) -> str:
    """Each case type written as a file has its own deployment of the case flow, named by its
    slug (prefect.yaml); one the office wrote runs under the general one."""
    deployed = (get_settings().playbooks_dir / f"{playbook}.yaml").is_file()
    return f"{CASE_FLOW}/{playbook if deployed else SHARED_DEPLOYMENT}"


def start_case_flow(case_number: str, playbook: str) -> str:
    """Create the case's flow run (at most one per case) and record its id on the case."""
    from prefect.deployments import run_deployment

    flow_run: FlowRun = run_deployment(  # type: ignore[assignment, call-arg]
        deployment_name(playbook),
        parameters={"case_number": case_number},
        flow_run_name=f"case-{case_number}",
        timeout=0,
        tags=[playbook],
        idempotency_key=f"case-{case_number}",
        as_subflow=False,
        _sync=True,  # also when an event loop runs in this thread (e.g. a browser driver)
    )
    with session_scope() as session:
        lifecycle.set_flow_run(
            session=session, case_number=case_number, flow_run_id=str(flow_run.id), as_of=now()
        )
    return str(flow_run.id)


def cancel_flow_run(flow_run_id: str) -> None:
    """Stop a run that will not move again, so a re-driven run never works beside it."""
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Cancelled

    with client() as prefect:
        try:
            prefect.set_flow_run_state(UUID(flow_run_id), Cancelled(), force=True)
        except ObjectNotFound:
            return


def redrive_case_flow(case_number: str, playbook: str, attempt: int) -> str:
    """A new flow run for a case whose run died: it re-reads the case database from the top."""
    from prefect.deployments import run_deployment

    flow_run: FlowRun = run_deployment(  # type: ignore[assignment, call-arg]
        deployment_name(playbook),
        parameters={"case_number": case_number},
        flow_run_name=f"case-{case_number}",
        timeout=0,
        tags=[playbook, "re-driven"],
        idempotency_key=f"case-{case_number}-redrive-{attempt}",
        as_subflow=False,
        _sync=True,
    )
    return str(flow_run.id)


def wait_until_settled(flow_run_id: str, *, after: datetime, timeout: float = 120) -> str:
    """Block until the run is suspended or finished in a state entered after `after`."""

    deadline = time.monotonic() + timeout
    with client() as prefect:
        while True:
            run = prefect.read_flow_run(UUID(flow_run_id))
            state = run.state
            if (
                state is not None
                and (state.is_paused() or state.is_final())
                and state.timestamp is not None
                and state.timestamp > after
            ):
                return str(state.name)
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"flow run {flow_run_id} still {state.name if state else '?'} after {timeout}s"
                )
            time.sleep(0.3)
