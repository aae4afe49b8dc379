"""Which task carries out each step the planner decides (the case flow's dispatch, in one place)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from casework.planning import Action, Step
from tasks.record import complete_service, mark_urgent
from tasks.send import (
    close_case,
    confirm_appointment,
    escalate_case,
    notify_applicant,
    remind_staff,
    send_reminder,
    send_request,
)

RunTask = Callable[..., Any]


def _as_task_run(task: Any, *args: Any) -> Any:
    return task(*args)


def carry_out(
    case_number: str, step: Step, as_of: datetime, *, run: RunTask = _as_task_run
) -> None:
    """Run the task for an acting step (not WAIT or DONE, which the flow handles itself).

    `run` calls the task: as a task run inside the flow; tests pass one that calls its function.
    """
    match step.action:
        case Action.NOTIFY:
            run(notify_applicant, case_number, as_of)
        case Action.MARK_URGENT:
            run(mark_urgent, case_number, step.urgent, as_of)
        case Action.COMPLETE_SERVICE:
            run(complete_service, case_number, step.service or "", as_of)
        case Action.CONFIRM_APPOINTMENT:
            run(confirm_appointment, case_number, step, as_of)
        case Action.REMIND_STAFF:
            run(remind_staff, case_number, step, as_of)
        case Action.REQUEST:
            run(send_request, case_number, step, as_of)
        case Action.REMIND:
            run(send_reminder, case_number, step, as_of)
        case Action.ESCALATE:
            run(escalate_case, case_number, step, as_of)
        case Action.CLOSE:
            run(close_case, case_number, as_of)
        case _:
            raise ValueError(f"{step.action} is not carried out by a task")
