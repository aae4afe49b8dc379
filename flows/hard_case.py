"""The case flow: one Prefect flow run per hard case, from intake to the last material."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from casework.clock import now
from casework.crash_points import crash_point
from casework.planning import Action
from gateways.resume_form import CaseInput, FormOutcome, wait_for_answer
from gateways.run_logs import install_log_masking
from tasks.publish import publish_case_view
from tasks.record import (
    case_ended_as,
    claim_case,
    next_step,
    read_answer,
    record_form_answer,
    record_wake,
)
from tasks.render import file_missing_letters, letters_filed, letters_printed_behind
from tasks.report import describe_wait
from tasks.send import relay_outbox
from tasks.steps import carry_out

install_log_masking()

MAX_STEPS_PER_EXECUTION = 200


@flow(name="hard-case", flow_run_name="case-{case_number}", log_prints=False)
def hard_case(case_number: str) -> str:
    """Work one hard case until every material is collected.

    Opens with the one-time notification to the applicant, then asks the agencies named in the
    case's playbook for each material in turn (for a bundle, service by service, each shared
    material once): a request letter by email or post, reminders when an agency stays silent
    past the follow-up interval (working days), a manager's escalation after the last reminder
    or when the statutory deadline has passed. Appointments are confirmed to the applicant and
    the escorting staff are reminded the working day before. While it waits for an answer the
    run is Suspended with no process; the answer comes from the Resume form in the Prefect UI
    or from `casework reply`. The run's tags and artifacts (materials checklist, contact log,
    progress, deadlines) show where the case stands; its task runs are what was done (letters,
    answers recorded, the view published), while reading and deciding are plain calls. A
    letter's printable copy (PDF) is made on a background thread while the run goes on, and is
    on file before the run waits or ends. Every
    decision is read from the case database, so re-running from the top after a resume repeats
    nothing already done.
    """
    logger = get_run_logger()
    as_of = now()
    run_id = str(flow_run.get_id())
    if not claim_case(case_number, run_id, as_of):
        logger.info("Case %s is worked by a newer run: this one stops", case_number)
        return "superseded"
    with letters_printed_behind():  # a letter's PDF is made while the run goes on
        if filed := file_missing_letters(case_number):
            logger.info("Filed %d letter(s) recorded before the last run stopped", filed)
        # Resumed, the run reads what woke it before planning: planned first, it would send
        # the next letter, then find the answer at its suspend and plan once more for nothing.
        if (woken := read_answer(case_number, run_id)) is not None:
            as_of = take_answer(case_number, *woken)
        for _ in range(MAX_STEPS_PER_EXECUTION):
            step = next_step(case_number, as_of)
            match step.action:
                case Action.DONE:
                    relay_outbox.fn(case_number)  # a withdrawal's notices to agencies, say
                    publish_case_view(case_number, run_id, as_of)
                    letters_filed()
                    ended = case_ended_as(case_number)
                    logger.info("Case %s has ended: %s", case_number, ended)
                    return ended
                case Action.WAIT:
                    relay_outbox.fn(case_number)  # letters staff wrote meanwhile (an extension)
                    publish_case_view(case_number, run_id, as_of)
                    letters_filed()  # every letter is on file before the run waits
                    crash_point("before-suspend", case_number)
                    answer = wait_for_answer(
                        description=describe_wait(case_number), key=step.wait_key
                    )
                    as_of = take_answer(case_number, step.generation, answer)
                case _:
                    carry_out(case_number, step, as_of)
    raise RuntimeError(f"case {case_number}: no progress after {MAX_STEPS_PER_EXECUTION} steps")


def take_answer(case_number: str, generation: int, answer: CaseInput) -> datetime:
    """Record the answer (or the wake-up) the run waited for under `generation`; the time to
    work the case as of from then on."""
    crash_point("after-resume", case_number)
    as_of = max(now(), answer.as_of) if answer.as_of else now()
    if answer.outcome is FormOutcome.RECHECK:
        record_wake(case_number, generation)
    else:
        record_form_answer(case_number, generation, answer.to_answer(), as_of)
    return as_of
