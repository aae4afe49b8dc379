"""Deciding a case's next step from a snapshot of the case database. Pure: no I/O."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel

from casework.clock import office_date
from casework.playbook import ObtainedBy, Playbook
from casework.workdays import add_working_days

_BEING_CHASED = ("pending", "requested")


class Action(StrEnum):
    NOTIFY = "notify"
    MARK_URGENT = "mark-urgent"
    COMPLETE_SERVICE = "complete-service"
    CONFIRM_APPOINTMENT = "confirm-appointment"
    REMIND_STAFF = "remind-staff"
    REQUEST = "request"
    REMIND = "remind"
    ESCALATE = "escalate"
    CLOSE = "close"
    WAIT = "wait"
    DONE = "done"


class EscalationReason(StrEnum):
    NO_ANSWER = "no-answer"
    DEADLINE_PASSED = "deadline-passed"
    NO_AGENCY_LEFT = "no-body-left"  # the stored value predates the name "agency"
    REFUSED = "refused"
    RUN_KEEPS_CRASHING = "run-keeps-crashing"


class OpenRequest(BaseModel):
    contact_id: int
    agency_slug: str
    sent_at: datetime
    last_chased_at: datetime
    reminders: int
    escalated: bool
    # The latest letter by post (request or reminder) is still in the office: the agency cannot
    # be chased for it (the daily board lists it to post); the clock starts when it is posted.
    awaiting_posting: bool = False
    # How many working days this agency usually takes to answer, learnt from its answers
    # (casework/follow_up.py); None: the case type's interval.
    agency_interval: int | None = None

    @property
    def chased(self) -> bool:
        """Reminders and escalation apply: the agency has it, and no manager has it yet."""
        return not self.escalated and not self.awaiting_posting


class MaterialView(BaseModel):
    slug: str
    name: str
    obtained_by: str
    status: str
    agency_slug: str | None
    open_request: OpenRequest | None = None
    escalated: bool = False
    chain: list[str] = []  # the agencies to ask, in order (the case's own route)
    # Its agency is a role the case has not filled yet (原单位人事部门: which employer?): no
    # letter can go until a clerk names the agency.
    awaiting_agency: bool = False


# A material the case has in hand, or can do without.
DONE_STATUSES = ("collected", "waived")


class AppointmentView(BaseModel):
    contact_id: int
    agency_slug: str
    scheduled_at: datetime
    confirmed: bool
    staff_reminded: bool


class CaseView(BaseModel):
    """What planning needs to know about a case, read in one transaction."""

    case_number: str
    playbook: str
    playbook_version: int = 1
    status: str
    notified: bool
    urgent: bool
    deadline_date: date | None
    escalation_reasons: list[str]
    wait_generation: int
    materials: list[MaterialView]
    completed_services: list[str] = []
    appointments: list[AppointmentView] = []


class Step(BaseModel):
    """The one next thing the case flow should do."""

    action: Action
    generation: int
    material: str | None = None
    agency: str | None = None
    request_id: int | None = None
    reminder_number: int | None = None
    reason: EscalationReason | None = None
    urgent: bool = False
    service: str | None = None
    appointment_id: int | None = None

    @property
    def wait_key(self) -> str:
        """Deterministic suspend key: a new one each time the case's waiting state changes."""
        return wait_key_for(self.generation)


WAIT_KEY_PREFIX = "case-wait-"


def wait_key_for(generation: int) -> str:
    """The key a case run suspends under while its waiting state is `generation`."""
    return f"{WAIT_KEY_PREFIX}{generation}"


def generation_of(wait_key: str) -> int | None:
    """The waiting state a suspend key stands for (None for a key that is not a case's)."""
    number = wait_key.removeprefix(WAIT_KEY_PREFIX)
    return int(number) if wait_key.startswith(WAIT_KEY_PREFIX) and number.isdigit() else None


def is_urgent(view: CaseView, playbook: Playbook, today: date) -> bool:
    """Near the statutory limit (but not past it) the case is urgent."""
    if view.deadline_date is None or playbook.deadline is None:
        return False
    days_left = (view.deadline_date - today).days
    return 0 <= days_left <= playbook.deadline.urgent_within_days


def is_ready(material: str, playbook: Playbook, collected: set[str], view: CaseView) -> bool:
    """A material may be requested once what it requires is in and one of its services is open."""
    spec = playbook.material(material)
    if spec is not None and not set(spec.requires) <= collected:
        return False
    services = playbook.services_of(material)
    if not services:
        return True
    return any(set(sv.after) <= set(view.completed_services) for sv in services)


def reminder_interval(request: OpenRequest, playbook: Playbook, *, urgent: bool) -> int:
    """The working days a reminder waits for: an urgent case's interval; else the agency's own
    usual time to answer when it has one, within the case type's bounds; else the type's."""
    follow_up = playbook.follow_up
    if urgent:
        return follow_up.urgent_interval_working_days
    if request.agency_interval is None:
        return follow_up.interval_working_days
    shortest, longest = follow_up.bounds
    return min(max(request.agency_interval, shortest), longest)


def reminder_due_on(request: OpenRequest, playbook: Playbook, *, urgent: bool) -> date:
    """The day a reminder (or escalation) falls due for an unanswered request."""
    interval = reminder_interval(request, playbook, urgent=urgent)
    return add_working_days(office_date(request.last_chased_at), interval)


def plan_next_step(view: CaseView, playbook: Playbook, as_of: datetime) -> Step:
    """Derive the next step; calling it again after the step is recorded gives the one after."""
    today = office_date(as_of)
    gen = view.wait_generation
    if view.status in ("closed", "withdrawn"):
        return Step(action=Action.DONE, generation=gen)
    if not view.notified:
        return Step(action=Action.NOTIFY, generation=gen)
    urgent = is_urgent(view, playbook, today)
    if urgent != view.urgent:
        return Step(action=Action.MARK_URGENT, generation=gen, urgent=urgent)

    past_deadline = view.deadline_date is not None and today > view.deadline_date
    if past_deadline and EscalationReason.DEADLINE_PASSED not in view.escalation_reasons:
        return Step(action=Action.ESCALATE, generation=gen, reason=EscalationReason.DEADLINE_PASSED)

    collected = {m.slug for m in view.materials if m.status in DONE_STATUSES}
    for service in playbook.services:
        if service.slug not in view.completed_services and set(service.materials) <= collected:
            return Step(action=Action.COMPLETE_SERVICE, generation=gen, service=service.slug)

    for appointment in view.appointments:
        if not appointment.confirmed:
            return Step(
                action=Action.CONFIRM_APPOINTMENT,
                generation=gen,
                agency=appointment.agency_slug,
                appointment_id=appointment.contact_id,
            )
        day = office_date(appointment.scheduled_at)
        if not appointment.staff_reminded and today < day and add_working_days(today, 1) >= day:
            return Step(
                action=Action.REMIND_STAFF,
                generation=gen,
                agency=appointment.agency_slug,
                appointment_id=appointment.contact_id,
            )

    for material in view.materials:
        if material.status == "unobtainable" and not material.escalated:
            # Only a refusal makes a material unobtainable without an escalation already sent.
            return Step(
                action=Action.ESCALATE,
                generation=gen,
                material=material.slug,
                agency=material.agency_slug,
                reason=EscalationReason.REFUSED,
            )
        if material.obtained_by != ObtainedBy.OFFICE or material.status not in _BEING_CHASED:
            continue
        if past_deadline:
            continue  # chasing a document that can no longer be issued is a dead end
        request = material.open_request
        if request is None and not is_ready(material.slug, playbook, collected, view):
            continue
        if request is None and material.awaiting_agency:
            continue
        if request is None:
            if material.agency_slug is None:
                return Step(
                    action=Action.ESCALATE,
                    generation=gen,
                    material=material.slug,
                    reason=EscalationReason.NO_AGENCY_LEFT,
                )
            return Step(
                action=Action.REQUEST,
                generation=gen,
                material=material.slug,
                agency=material.agency_slug,
            )
        if not request.chased or today < reminder_due_on(request, playbook, urgent=urgent):
            continue
        if request.reminders < playbook.follow_up.reminders_before_escalation:
            return Step(
                action=Action.REMIND,
                generation=gen,
                material=material.slug,
                agency=request.agency_slug,
                request_id=request.contact_id,
                reminder_number=request.reminders + 1,
            )
        return Step(
            action=Action.ESCALATE,
            generation=gen,
            material=material.slug,
            agency=request.agency_slug,
            request_id=request.contact_id,
            reason=EscalationReason.NO_ANSWER,
        )

    if all(m.status in DONE_STATUSES for m in view.materials):
        return Step(action=Action.CLOSE, generation=gen)
    return Step(action=Action.WAIT, generation=gen)
