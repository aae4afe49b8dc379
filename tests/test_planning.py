"""The planner decides every step from a snapshot; these walk it through time."""

from datetime import date, datetime

import pytest

from casework.clock import start_of_office_day
from casework.planning import (
    Action,
    CaseView,
    EscalationReason,
    MaterialView,
    OpenRequest,
    plan_next_step,
)
from casework.playbook import get_playbook

pytestmark = pytest.mark.unit
BOOK = get_playbook("recover-cremation-certificate")
MONDAY = date(2026, 11, 16)


def at(day: date) -> datetime:
    return start_of_office_day(day)


def view(**changes: object) -> CaseView:
    base = CaseView(
        number="HC-2026-0001",
        playbook=BOOK.slug,
        status="open",
        notified=True,
        urgent=False,
        deadline_date=date(2027, 6, 1),
        escalation_reasons=[],
        wait_generation=3,
        materials=[
            MaterialView(
                slug="cremation-certificate",
                name="火化证明",
                obtained_by="office",
                status="pending",
                agency_slug="crematorium-front-desk",
            )
        ],
    )
    return base.model_copy(update=changes)


def requested(reminders: int = 0, escalated: bool = False, sent: date = MONDAY) -> CaseView:
    request = OpenRequest(
        contact_id=7,
        agency_slug="crematorium-archive-room",
        sent_at=at(sent),
        last_chased_at=at(sent),
        reminders=reminders,
        escalated=escalated,
    )
    material = (
        view()
        .materials[0]
        .model_copy(
            update={
                "status": "requested",
                "open_request": request,
                "agency_slug": "crematorium-archive-room",
            }
        )
    )
    return view(materials=[material], status="waiting_agency")


def test_notify_comes_first() -> None:
    assert plan_next_step(view(notified=False), BOOK, at(MONDAY)).action is Action.NOTIFY


def test_request_goes_to_the_current_body() -> None:
    step = plan_next_step(view(), BOOK, at(MONDAY))
    assert (step.action, step.agency, step.material) == (
        Action.REQUEST,
        "crematorium-front-desk",
        "cremation-certificate",
    )


def test_waits_until_the_interval_has_passed_in_working_days() -> None:
    # Sent Monday 16 Nov; 3 working days later is Thursday 19 Nov.
    assert plan_next_step(requested(), BOOK, at(date(2026, 11, 18))).action is Action.WAIT
    step = plan_next_step(requested(), BOOK, at(date(2026, 11, 19)))
    assert (step.action, step.reminder_number, step.request_id) == (Action.REMIND, 1, 7)


def test_escalates_after_the_last_reminder() -> None:
    step = plan_next_step(requested(reminders=2), BOOK, at(date(2026, 11, 30)))
    assert step.action is Action.ESCALATE
    assert step.reason is EscalationReason.NO_ANSWER
    escalated = requested(reminders=2, escalated=True)
    assert plan_next_step(escalated, BOOK, at(date(2026, 12, 30))).action is Action.WAIT


def test_near_the_deadline_the_case_turns_urgent_and_is_chased_daily() -> None:
    near = requested().model_copy(update={"deadline_date": date(2026, 12, 10)})
    step = plan_next_step(near, BOOK, at(date(2026, 11, 17)))
    assert (step.action, step.urgent) == (Action.MARK_URGENT, True)
    urgent = near.model_copy(update={"urgent": True})
    assert plan_next_step(urgent, BOOK, at(date(2026, 11, 17))).action is Action.REMIND


def test_past_the_deadline_it_escalates_instead_of_chasing() -> None:
    late = requested().model_copy(update={"deadline_date": date(2026, 11, 20)})
    step = plan_next_step(late, BOOK, at(date(2026, 11, 30)))
    assert (step.action, step.reason) == (Action.ESCALATE, EscalationReason.DEADLINE_PASSED)
    told = late.model_copy(update={"escalation_reasons": ["deadline-passed"]})
    assert plan_next_step(told, BOOK, at(date(2026, 12, 30))).action is Action.WAIT


def test_no_body_left_escalates() -> None:
    material = view().materials[0].model_copy(update={"agency_slug": None})
    step = plan_next_step(view(materials=[material]), BOOK, at(MONDAY))
    assert (step.action, step.reason) == (Action.ESCALATE, EscalationReason.NO_BODY_LEFT)


def test_closes_when_everything_is_collected_and_then_is_done() -> None:
    material = view().materials[0].model_copy(update={"status": "collected"})
    assert plan_next_step(view(materials=[material]), BOOK, at(MONDAY)).action is Action.CLOSE
    assert plan_next_step(view(status="closed"), BOOK, at(MONDAY)).action is Action.DONE


def test_wait_key_follows_the_generation() -> None:
    step = plan_next_step(requested(), BOOK, at(MONDAY))
    assert step.wait_key == "case-wait-3"
