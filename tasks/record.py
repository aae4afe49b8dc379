"""Reading and recording case state in the case database.

The flow's reads and decisions (claim the case, plan the next step, read what woke the run) are
plain calls: as task runs they were two in three of a case's, each a few events for Prefect's
server to record, and told a manager nothing the contacts and the answers do not. What the
case's people did (an answer recorded, a case marked urgent, a service completed) is a task run.
"""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from casework.answers import Answer
from casework.planning import Step, plan_next_step, wait_key_for
from gateways.resume_form import CaseInput
from gateways.run_health import run_has_ended
from gateways.run_inputs import unread_form_answer
from gateways.run_logs import task_logger
from models import case_types, incoming, lifecycle, lookups
from models.db import read_scope, session_scope


def next_step(case_number: str, as_of: datetime) -> Step:
    """Decide the case's next step from the case database."""
    with read_scope() as session:
        view = lookups.case_view(session=session, case_number=case_number)
        playbook = case_types.version_of(session, view.playbook, view.playbook_version)
    return plan_next_step(view, playbook, as_of)


@task(cache_policy=NO_CACHE)
def mark_urgent(case_number: str, urgent: bool, as_of: datetime) -> None:
    """Flag (or unflag) the case as urgent because its statutory deadline is near."""
    with session_scope() as session:
        lifecycle.mark_urgent(session=session, case_number=case_number, urgent=urgent, as_of=as_of)


@task(cache_policy=NO_CACHE, task_run_name="record-form-answer")
def record_form_answer(case_number: str, generation: int, answer: Answer, as_of: datetime) -> str:
    """Record an agency's answer given through the Resume form; says what happened."""
    with session_scope() as session:
        result = incoming.record_form_answer(
            session=session,
            case_number=case_number,
            generation=generation,
            answer=answer,
            as_of=as_of,
        )
    if result.startswith("refused"):
        # Where the manager who typed it looks: the run log (and the case's audit trail).
        task_logger().error("Resume-form answer not recorded: %s", result.removeprefix("refused: "))
    return result


def case_ended_as(case_number: str) -> str:
    """How the case ended: "closed" (every material in) or "withdrawn"."""
    with session_scope() as session:
        return str(lookups.get_case(session, case_number).status)


def read_answer(case_number: str, flow_run_id: str) -> tuple[int, CaseInput] | None:
    """The answer or wake-up the run was resumed with and has not recorded, by its generation."""
    with read_scope() as session:
        generation = lookups.get_case(session, case_number).wait_generation
    answer = unread_form_answer(flow_run_id, wait_key_for(generation))
    return None if answer is None else (generation, answer)


def record_wake(case_number: str, generation: int) -> None:
    """A wake-up (re-check) input was used up: wait under a fresh key next time."""
    with session_scope() as session:
        lifecycle.consume_wake(session=session, case_number=case_number, generation=generation)


def claim_case(case_number: str, flow_run_id: str, as_of: datetime) -> bool:
    """Make this run the one working the case; False if another live run works it."""
    for _ in range(3):  # another run may claim it between the read and the claim
        with session_scope() as session:
            linked = lookups.flow_run_of(session=session, case_number=case_number)
        # A run the reconciler gave up on may start late (a worker slow to submit it); its
        # successor, or a run that claimed the case before it, works the case alone.
        if linked not in (None, flow_run_id) and not run_has_ended(linked):
            return False
        with session_scope() as session:
            if lifecycle.claim_flow_run(
                session=session,
                case_number=case_number,
                flow_run_id=flow_run_id,
                replaces=linked,
                as_of=as_of,
            ):
                return True
    return False


@task(cache_policy=NO_CACHE, task_run_name="complete-service-{service}")
def complete_service(case_number: str, service: str, as_of: datetime) -> None:
    """A service of the bundle has every material: the services after it may start."""
    with session_scope() as session:
        lifecycle.record_service_completed(
            session=session, case_number=case_number, service=service, as_of=as_of
        )
