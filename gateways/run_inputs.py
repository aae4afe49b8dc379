"""The Resume form's inputs: waking a waiting case run, reading an answer it never read,
mending an input or a schema Prefect left behind."""

from __future__ import annotations

import contextlib
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

import httpx

from casework.clock import now
from gateways.prefect_client import client

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.objects import State
    from prefect.client.schemas.responses import SetStateStatus
    from prefect.input.run_input import Keyset, RunInput

    from gateways.resume_form import CaseInput


# Prefect is imported inside each function that talks to it: the CLI and the workbench load these
# modules for every command, and importing Prefect's client costs more than a read command.


def _wait_keyset(wait_key: str) -> Keyset:
    """Where Prefect keeps a suspended run's form: "suspended-<pause key>-schema|response"."""
    from prefect.input.run_input import keyset_from_base_key

    return keyset_from_base_key(f"suspended-{wait_key}")


def _form_answer(raw: str) -> CaseInput | None:
    """A stored input as a form answer; None if this version cannot read it (left alone)."""
    from gateways.resume_form import CaseInput

    try:
        return CaseInput.model_validate_json(raw)
    except ValueError:
        return None


def unread_form_answer(flow_run_id: str, wait_key: str) -> CaseInput | None:
    """The Resume-form answer (or wake-up) stored under the run's wait key, if any: what a
    resumed run was woken with, or what a run that died never read."""

    with client() as prefect:
        try:
            raw = prefect.read_flow_run_input(UUID(flow_run_id), _wait_keyset(wait_key)["response"])
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 404:  # no answer was given: nothing to carry
                return None
            raise
    return _form_answer(raw)


def wake_case_flow(
    flow_run_id: str, *, as_of: datetime | None = None, wait_for_pause: float = 0
) -> bool:
    """Resume a suspended case run so it re-reads the case database; False if it was not paused
    (or was resumed a moment before by someone else).

    `wait_for_pause`: a run still Running may have read the case database just before the
    change that wakes it, and be about to suspend (a second, seen in the bench when an answer
    follows the request at once). Resumed the moment it suspends, it reads the change; refused
    instead, it would sleep until the reconciler's next round, up to a minute later."""
    from prefect.client.schemas.responses import SetStateStatus

    run_input: dict[str, object] = {"outcome": "recheck"}
    if as_of is not None:
        run_input["as_of"] = as_of.isoformat()
    with client() as prefect:
        status = _resume(prefect, flow_run_id, run_input)
        if (
            status is not SetStateStatus.ACCEPT
            and wait_for_pause > 0
            and _suspends_within(prefect, flow_run_id, wait_for_pause)
        ):
            status = _resume(prefect, flow_run_id, run_input)
    # A run no longer paused gets ABORT, which Prefect's resume_flow_run() passes over in
    # silence: the status is the only sign that this wake did nothing.
    return status is SetStateStatus.ACCEPT


def _resume(
    prefect: SyncPrefectClient, flow_run_id: str, run_input: dict[str, object]
) -> SetStateStatus | None:
    """One resume of the run with this input; None when there was nothing to resume."""
    from prefect.client.schemas.responses import SetStateStatus
    from prefect.exceptions import ObjectNotFound

    from gateways.resume_form import FormOutcome

    for attempt in range(2):
        try:
            response = prefect.resume_flow_run(UUID(flow_run_id), run_input=run_input)
        except ObjectNotFound:
            return None
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 409:
                raise
            # The response key holds an input already. Mostly another resume stored it a
            # moment earlier, and the run is awake. But a run that came back from Cancelled
            # to Running has its pause keys reset by Prefect and suspends again under the
            # same key with that old input in place: no resume would ever be accepted. A
            # stale wake-up carries nothing; clear it and resume (a stale form answer is
            # left for the reconciler, which records it first).
            stale = stale_wake_input(flow_run_id)
            if attempt or stale is None or stale[1].outcome is not FormOutcome.RECHECK:
                return None
            discard_wake_input(flow_run_id, stale[0])
            continue
        if (
            response.status is SetStateStatus.REJECT
            and not attempt
            and restore_missing_schema(flow_run_id)
        ):
            continue
        return response.status
    return None


def _suspends_within(prefect: SyncPrefectClient, flow_run_id: str, seconds: float) -> bool:
    """Whether the run, if Running, is Paused within `seconds` (polled every 0.2 s)."""
    from prefect.client.schemas.objects import StateType

    deadline = time.monotonic() + seconds
    while True:
        state = prefect.read_flow_run(UUID(flow_run_id)).state
        if state is None or state.type is not StateType.RUNNING:
            return state is not None and state.is_paused()
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


# How long after proposing Suspended a live run may still be saving its form's schema.
SCHEMA_SAVE_GRACE = timedelta(seconds=5)


def restore_missing_schema(flow_run_id: str, form: type[RunInput] | None = None) -> bool:
    """A run killed (or left by a busy server) between proposing Suspended and saving its
    form's schema can never be resumed: Prefect rejects every resume with "Run input schema
    not found", as the long fault run found. Save the schema of `form` (a case's form unless
    told) as it would have; True if a resume is worth trying again (the schema is there now).

    A run that suspended moments ago is given until SCHEMA_SAVE_GRACE after its suspension to
    save the schema itself: saved from here first, the run's own save met "already exists"
    and the run failed (the bench's fifty cases at once lost a minute to a re-drive so)."""

    from gateways.resume_form import CaseInput

    with client() as prefect:
        run = prefect.read_flow_run(UUID(flow_run_id))
        state = run.state
        if state is None or not state.is_paused() or not state.state_details.run_input_keyset:
            return False
        keyset = _wait_keyset(str(state.state_details.pause_key))
        saved_by_run_until = (state.timestamp or now()) + SCHEMA_SAVE_GRACE
        while True:
            try:
                prefect.read_flow_run_input(UUID(flow_run_id), keyset["schema"])
                return True  # the run saved it meanwhile (or it was there all along)
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != 404:
                    raise
            if now() >= saved_by_run_until:
                break
            time.sleep(0.2)
    (form or CaseInput).save(keyset, flow_run_id=UUID(flow_run_id))
    return True


def stale_wake_input(
    flow_run_id: str, *, state: State | None = None
) -> tuple[str, CaseInput] | None:
    """The input stored under the key a suspended run waits on, when the run suspended after
    it was stored, so that no resume will ever read it: (pause key, input). One stored after
    the run suspended is a wake-up or an answer on its way (Prefect stores the input, then
    resumes the run), never stale. `state`: the run's state as read a moment ago, if it was
    (None: read it now; the reconciler passes the state its round read in bulk). Such a
    state serves: an input stored since it was read is newer than it, so on its way as
    above, and a run that suspended again since is judged by the next round's read."""
    from prefect.exceptions import ObjectNotFound

    with client() as prefect:
        if state is None:
            try:
                state = prefect.read_flow_run(UUID(flow_run_id)).state
            except ObjectNotFound:
                return None
        if state is None or not state.is_paused() or not state.state_details.pause_key:
            return None
        key = state.state_details.pause_key
        response_key = _wait_keyset(key)["response"]
        found = prefect.filter_flow_run_input(UUID(flow_run_id), response_key, 1, set())
    stored = next((i for i in found if i.key == response_key), None)
    if stored is None or stored.created is None or state.timestamp is None:
        return None
    if state.timestamp <= stored.created:
        return None  # stored after the run suspended: on its way to wake it
    answer = _form_answer(stored.value)
    return (key, answer) if answer is not None else None


def discard_wake_input(flow_run_id: str, wait_key: str) -> None:
    """Remove the input stored under a suspended run's key (after it has been recorded)."""
    from prefect.exceptions import ObjectNotFound

    key = _wait_keyset(wait_key)["response"]
    gone_already = contextlib.suppress(ObjectNotFound, httpx.HTTPStatusError)
    with client() as prefect, gone_already:
        prefect.delete_flow_run_input(UUID(flow_run_id), key)
