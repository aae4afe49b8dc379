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
        case_number="HC-2026-0001",
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
    assert (step.action, step.reason) == (Action.ESCALATE, EscalationReason.NO_AGENCY_LEFT)


def test_closes_when_everything_is_collected_and_then_is_done() -> None:
    material = view().materials[0].model_copy(update={"status": "collected"})
    assert plan_next_step(view(materials=[material]), BOOK, at(MONDAY)).action is Action.CLOSE
    assert plan_next_step(view(status="closed"), BOOK, at(MONDAY)).action is Action.DONE


def test_wait_key_follows_the_generation() -> None:
    step = plan_next_step(requested(), BOOK, at(MONDAY))
    assert step.wait_key == "case-wait-3"


BUNDLE = get_playbook("hardship-bundle")


def bundle_view(collected: set[str], completed: list[str]) -> CaseView:
    materials = [
        MaterialView(
            slug=m.slug,
            name=m.name,
            obtained_by=str(m.obtained_by),
            status="collected"
            if m.slug in collected
            else ("pending" if m.obtained_by == "office" else "waiting_applicant"),
            agency_slug=m.agencies[0] if m.agencies else None,
        )
        for m in BUNDLE.materials
    ]
    return view(
        playbook=BUNDLE.slug, deadline_date=None, materials=materials, completed_services=completed
    )


def test_bundle_starts_with_the_first_service_only() -> None:
    step = plan_next_step(bundle_view(set(), []), BUNDLE, at(MONDAY))
    assert (step.action, step.material) == (Action.REQUEST, "archive-transfer-receipt")


def test_bundle_completes_a_service_then_opens_the_next() -> None:
    step = plan_next_step(bundle_view({"archive-transfer-receipt"}, []), BUNDLE, at(MONDAY))
    assert (step.action, step.service) == (Action.COMPLETE_SERVICE, "archive-transfer")
    step = plan_next_step(
        bundle_view({"archive-transfer-receipt"}, ["archive-transfer"]), BUNDLE, at(MONDAY)
    )
    # The benefit approval waits for the applicant's documents; the bank can be asked now.
    assert (step.action, step.material) == (Action.REQUEST, "bank-account-proof")


def test_a_material_waits_for_what_it_requires() -> None:
    book = get_playbook("temporary-assistance")
    materials = [
        MaterialView(
            slug=m.slug,
            name=m.name,
            obtained_by=str(m.obtained_by),
            status="pending" if m.obtained_by == "office" else "waiting_applicant",
            agency_slug=m.agencies[0] if m.agencies else None,
        )
        for m in book.materials
    ]
    waiting = view(playbook=book.slug, deadline_date=None, materials=materials)
    assert plan_next_step(waiting, book, at(MONDAY)).action is Action.WAIT
    ready = [
        m.model_copy(update={"status": "collected"}) if m.obtained_by == "applicant" else m
        for m in materials
    ]
    step = plan_next_step(
        view(playbook=book.slug, deadline_date=None, materials=ready), book, at(MONDAY)
    )
    assert (step.action, step.material) == (Action.REQUEST, "assistance-payment")


def test_staff_are_reminded_the_working_day_before_an_appointment() -> None:
    from casework.planning import AppointmentView

    friday, monday = date(2026, 11, 20), date(2026, 11, 23)
    booked = AppointmentView(
        contact_id=9,
        agency_slug="crematorium-archive-room",
        scheduled_at=at(monday),
        confirmed=True,
        staff_reminded=False,
    )
    waiting = requested(sent=date(2026, 11, 19)).model_copy(update={"appointments": [booked]})
    assert plan_next_step(waiting, BOOK, at(date(2026, 11, 19))).action is Action.WAIT
    step = plan_next_step(waiting, BOOK, at(friday))
    assert (step.action, step.appointment_id) == (Action.REMIND_STAFF, 9)
    unconfirmed = view(appointments=[booked.model_copy(update={"confirmed": False})])
    assert plan_next_step(unconfirmed, BOOK, at(MONDAY)).action is Action.CONFIRM_APPOINTMENT


def test_a_wait_key_gives_back_its_generation_and_other_keys_none() -> None:
    from casework.planning import generation_of, wait_key_for

    assert [generation_of(wait_key_for(g)) for g in (0, 7, 12)] == [0, 7, 12]
    for other in ("3", "case-wait-", "case-wait-x", "7e1c-uuid", "other-case-wait-1"):
        assert generation_of(other) is None, other
