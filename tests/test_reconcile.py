"""A case's flow-run process killed with SIGKILL: the scheduled reconciler re-drives the case
within two minutes, and the case carries on as if nothing happened (real stack, real kill)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from prefect.client.orchestration import get_client
from sqlmodel import select

from casework.clock import now
from cli.stories import synthetic_id_number
from models.db import session_scope
from models.tables import CaseEvent, EventKind
from stack.processes import Stack
from usecases import intake, reading, runs
from usecases.accounts import console_actor

pytestmark = pytest.mark.integration


def _state(flow_run_id: str) -> str:
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(flow_run_id)).state
    return str(state.name) if state else "?"


def _process_of(flow_run_id: str) -> int | None:
    """The PID of the process executing this flow run (the worker passes its id in the env)."""
    needle = f"PREFECT__FLOW_RUN_ID={flow_run_id}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if needle in (proc / "environ").read_bytes():
                return int(proc.name)
        except OSError:
            continue
    return None


def test_a_killed_case_run_is_redriven_within_two_minutes(stack: Stack) -> None:
    opened = intake.open_case(
        actor=console_actor(),
        form=intake.IntakeForm(
            playbook="recover-cremation-certificate",
            name="沈桂兰",
            id_number=synthetic_id_number(now().date().replace(year=1950)),
            phone="13800001234",
            fields={"deceased_name": "王建国", "cremation_date": "2017-06-01"},
        ),
        as_of=now(),
    )
    case_number = opened.case_number
    first_run = runs.flow_run_of(case_number)
    assert first_run is not None
    deadline = time.monotonic() + 90
    pid = None
    while pid is None and time.monotonic() < deadline:
        pid = _process_of(first_run)
        time.sleep(0.1)
    assert pid is not None, f"no process for {first_run} ({_state(first_run)})"
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()

    # Nobody calls anything now: the every-minute reconciler has to notice and re-drive.
    while runs.flow_run_of(case_number) == first_run:
        assert time.monotonic() - killed_at < 150, f"not re-driven ({_state(first_run)})"
        time.sleep(2)
    redriven_after = time.monotonic() - killed_at
    second_run = runs.flow_run_of(case_number)
    assert second_run is not None
    runs.wait_until_settled(case_number, after=now().replace(year=2000), timeout=120)
    assert _state(first_run) == "Crashed"
    assert _state(second_run) == "Suspended"
    detail = reading.show_case(actor=console_actor(), case_number=case_number, as_of=now())
    assert detail.status == "waiting_agency"
    assert [c.kind for c in detail.contacts].count("request") == 1  # sent once, not twice
    with session_scope() as session:
        redrives = session.exec(
            select(CaseEvent).where(CaseEvent.kind == EventKind.RUN_REDRIVEN)
        ).all()
    assert len([e for e in redrives if second_run in e.detail]) == 1
    assert redriven_after < 120 + 10  # two minutes, give or take the poll


def _suspended_under(flow_run_id: str, key: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(UUID(flow_run_id)).state
        if state and state.is_paused() and state.state_details.pause_key == key:
            return
        assert time.monotonic() < deadline, f"run never suspended under {key}"
        time.sleep(0.5)


def _opened_and_waiting(serial: str) -> tuple[str, str]:
    """A case of Ms. Shen's opened, its run suspended waiting on the front desk: (number, run)."""
    number = intake.open_case(
        actor=console_actor(),
        form=intake.IntakeForm(
            playbook="recover-cremation-certificate",
            name="沈桂兰",
            id_number=synthetic_id_number(now().date().replace(year=1950), serial=serial),
            phone="13800001234",
            fields={"deceased_name": "王建国", "cremation_date": "2017-06-01"},
            confirmed=True,  # the same made-up person across this module's cases
        ),
        as_of=now(),
    ).case_number
    run = runs.flow_run_of(number)
    assert run is not None
    _suspended_under(run, "case-wait-0")
    return number, run


def _suspended_again_now(run: str) -> None:
    """The run's suspension entered again this instant (as a run back from Cancelled, or one
    that has just proposed Suspended)."""
    with get_client(sync_client=True) as client:
        suspended = client.read_flow_run(UUID(run)).state
        assert suspended is not None
        again = suspended.model_copy(update={"id": uuid4(), "timestamp": datetime.now(UTC)})
        client.set_flow_run_state(UUID(run), again, force=True)


def _answered_by_phone(number: str) -> None:
    from casework.answers import Answer, AnswerOutcome
    from models import incoming

    with session_scope() as session:
        incoming.record_answer(
            actor="staff",
            session=session,
            case_number=number,
            answer=Answer(agency="crematorium-front-desk", outcome=AnswerOutcome.RECEIVED),
            as_of=now(),
        )


def _closed_soon(number: str, why_not: str, meanwhile: Callable[[], object] = list) -> None:
    deadline = time.monotonic() + 120
    while (
        reading.show_case(actor=console_actor(), case_number=number, as_of=now()).status != "closed"
    ):
        assert time.monotonic() < deadline, why_not
        meanwhile()
        time.sleep(1)


def test_a_run_suspended_over_an_old_input_or_without_its_schema_is_still_woken(
    stack: Stack,
) -> None:
    """A run that came back from Cancelled suspends again under a key that already holds an
    input (Prefect resets its pause keys): every resume then got 409 and the case stalled,
    as the long fault run found. A stale wake-up is cleared and the run resumed; a stale form
    answer is recorded by the reconciler first."""
    from gateways.run_inputs import wake_case_flow
    from tasks.chase import reconcile

    def leave_input(run: str, value: str) -> None:
        """An input under the key, and the run suspended again after it (as a run back from
        Cancelled does): an input stored after the suspension would be a wake-up on its way."""
        with get_client(sync_client=True) as client:
            client.create_flow_run_input(UUID(run), "suspended-case-wait-0-response", value)
        time.sleep(0.05)  # the suspension strictly after the input
        _suspended_again_now(run)

    # A stale wake-up: the answer comes by phone, and waking the run still works.
    number, run = _opened_and_waiting("101")
    leave_input(run, '{"outcome": "recheck"}')
    _answered_by_phone(number)
    assert wake_case_flow(run) is True
    _closed_soon(number, "the woken run never closed the case")

    # Killed between proposing Suspended and saving its form's schema: every resume was
    # rejected ("Run input schema not found"). The wake saves the schema and resumes.
    number, run = _opened_and_waiting("103")
    with get_client(sync_client=True) as client:
        client.delete_flow_run_input(UUID(run), "suspended-case-wait-0-schema")
    _answered_by_phone(number)
    assert wake_case_flow(run) is True
    _closed_soon(number, "the run woken without its schema never closed")

    # A stale form answer: not thrown away by a wake, recorded by the reconciler.
    number, run = _opened_and_waiting("102")
    leave_input(run, '{"outcome": "received", "agency": "crematorium-front-desk"}')
    assert wake_case_flow(run) is False
    reconcile(now())
    detail = reading.show_case(actor=console_actor(), case_number=number, as_of=now())
    assert [c.outcome for c in detail.contacts if c.kind == "reply"] == ["received"]
    _closed_soon(number, "the reconciler never woke the run", lambda: reconcile(now()))

    # An input stored after the run suspended is a wake-up on its way (Prefect stores it, then
    # resumes the run): never taken for stale, so never cleared from under the resume.
    from gateways.run_inputs import stale_wake_input

    number, run = _opened_and_waiting("104")
    with get_client(sync_client=True) as client:
        client.create_flow_run_input(
            UUID(run), "suspended-case-wait-0-response", '{"outcome": "recheck"}'
        )
    assert stale_wake_input(run) is None


def test_a_wake_between_a_runs_suspension_and_its_form_save_leaves_the_save_to_the_run(
    stack: Stack,
) -> None:
    """Prefect proposes Suspended, then saves the run's form. A clerk's wake in between was
    rejected ("schema not found"), saved the form itself, and the run's own save then met
    "already exists": the run failed and waited a minute for a re-drive (the bench's fifty
    cases at once, p95 44-67 s). The wake now gives a run that has just suspended time to
    save its form, and resumes it after."""
    from gateways.resume_form import CaseInput
    from gateways.run_inputs import wake_case_flow

    number, run = _opened_and_waiting("105")
    with get_client(sync_client=True) as client:
        client.delete_flow_run_input(UUID(run), "suspended-case-wait-0-schema")
    _suspended_again_now(run)  # it has just proposed Suspended, its form not saved yet
    saved: list[BaseException | None] = []

    def run_saves_its_form_a_second_later() -> None:
        time.sleep(1)
        try:
            from prefect.input.run_input import keyset_from_base_key

            CaseInput.save(keyset_from_base_key("suspended-case-wait-0"), flow_run_id=UUID(run))
            saved.append(None)
        except BaseException as exc:  # the run's failure is what is tested
            saved.append(exc)

    runs_save = threading.Thread(target=run_saves_its_form_a_second_later)
    runs_save.start()
    _answered_by_phone(number)
    woken = wake_case_flow(run)
    runs_save.join()
    assert saved == [None], f"the run's own save of its form failed: {saved}"
    assert woken is True
    _closed_soon(number, "the woken run never closed the case")


def test_an_answer_saved_as_the_run_is_about_to_suspend_wakes_it_once_it_has(
    stack: Stack,
) -> None:
    """A run reads the case, then takes about a second to suspend. An answer saved in that
    second was refused its wake-up (the run was not paused yet) and the case slept until the
    reconciler's next round, up to a minute: the bench saw 28 s and 55 s from an answer to the
    next request. The clerk's save now waits for the suspension, then wakes the run."""
    from prefect.states import Running

    from usecases import answers

    number, run = _opened_and_waiting("104")
    with get_client(sync_client=True) as client:
        paused = client.read_flow_run(UUID(run)).state
        assert paused is not None and paused.is_paused()
        client.set_flow_run_state(UUID(run), Running(), force=True)  # still working

    def suspends_in_two_seconds() -> None:
        time.sleep(2)
        again = paused.model_copy(update={"id": uuid4(), "timestamp": datetime.now(UTC)})
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(UUID(run), again, force=True)

    suspension = threading.Thread(target=suspends_in_two_seconds)
    suspension.start()
    saved_at = time.monotonic()
    recorded = answers.record_answer(
        actor=console_actor(),
        case_number=number,
        agency="crematorium-front-desk",
        outcome="received",
        as_of=now(),
    )
    waited = time.monotonic() - saved_at
    suspension.join()
    assert recorded.run is not None and recorded.run.woken, recorded.run
    assert 1.5 < waited < runs.WAIT_FOR_SUSPENSION_SECONDS, waited
    deadline = time.monotonic() + 60
    while (
        reading.show_case(actor=console_actor(), case_number=number, as_of=now()).status != "closed"
    ):
        assert time.monotonic() < deadline, "the woken run never closed the case"
        time.sleep(1)


def test_a_second_run_of_a_case_stops_before_working_it(stack: Stack) -> None:
    """A run that starts while the case's own run lives (a worker slow to submit a run the
    reconciler already replaced, or a re-drive made by a round that read an old death) claims
    nothing and does nothing: one run works a case, never two."""
    from gateways.prefect_client import redrive_case_flow

    number, own = _opened_and_waiting("105")
    extra = redrive_case_flow(number, "recover-cremation-certificate", attempt=99)
    deadline = time.monotonic() + 120
    while _state(extra) not in ("Completed", "Failed", "Crashed"):
        assert time.monotonic() < deadline, f"the extra run never finished ({_state(extra)})"
        time.sleep(1)
    assert _state(extra) == "Completed"
    assert runs.flow_run_of(number) == own  # the case stays with its own run
    assert _state(own) == "Suspended"
    detail = reading.show_case(actor=console_actor(), case_number=number, as_of=now())
    assert [c.kind for c in detail.contacts].count("request") == 1  # nothing sent twice
    with session_scope() as session:
        linked = session.exec(
            select(CaseEvent).where(CaseEvent.kind == EventKind.FLOW_RUN_LINKED)
        ).all()
    assert not [e for e in linked if extra in e.detail]
