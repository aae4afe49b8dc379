"""Tasks that reach outside the office: notices, requests, reminders, escalations, the relay."""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.events import emit_event

from casework.clock import now, office_date
from casework.planning import EscalationReason, Step
from casework.playbook import get_playbook
from casework.settings import get_settings
from models import cases, outbox
from models.db import session_scope
from tasks.logs import task_logger
from tasks.mailer import Delivery, SmtpMailer, deliver_now
from tasks.render import escalation_text, file_letter, render_for_case

# Idempotency lives in the case database (dedupe keys), not in Prefect's result cache, so a
# re-run after a resume or a crash re-executes these tasks (NO_CACHE) and they find their work
# done.


def _playbook_of(number: str) -> str:
    with session_scope() as session:
        return cases.get_case(session, number).playbook


def relay_pending(number: str | None = None, as_of: datetime | None = None) -> list[Delivery]:
    """Claim what the outbox has due (for one case, or all), send it, and mark each result."""
    moment = as_of or now()
    with session_scope() as session:
        emails = outbox.claim_due_emails(session=session, as_of=moment, number=number)
    results = deliver_now(SmtpMailer(get_settings()), emails)
    for result in results:
        with session_scope() as session:
            if result.delivered:
                outbox.mark_email_sent(session=session, outbox_id=result.outbox_id, as_of=now())
            else:
                outbox.mark_email_failed(
                    session=session,
                    outbox_id=result.outbox_id,
                    error=result.error or "unknown",
                    permanent=result.permanent,
                    as_of=moment,
                )
    return results


@task(cache_policy=NO_CACHE)
def relay_outbox(number: str | None = None) -> int:
    """Send pending outbox emails; returns how many went out."""
    results = relay_pending(number)
    failed = [r for r in results if not r.delivered]
    if failed:
        task_logger().warning(
            "%d email(s) not delivered yet (kept in the outbox): %s",
            len(failed),
            "; ".join(f"#{r.outbox_id} {r.error}" for r in failed),
        )
    return len(results) - len(failed)


@task(cache_policy=NO_CACHE, task_run_name="notify-applicant-{number}")
def notify_applicant(number: str, as_of: datetime) -> None:
    """Render the one-time notification, file it for printing and email it if we can."""
    template = get_playbook(_playbook_of(number)).templates.notice
    message = render_for_case(template, number, as_of)
    with session_scope() as session:
        contact = cases.record_notice(session=session, number=number, message=message, as_of=as_of)
    file_letter(number, contact, message, as_of, template)
    relay_outbox.fn(number)


@task(cache_policy=NO_CACHE, task_run_name="send-request-{step.material}-{step.agency}")
def send_request(number: str, step: Step, as_of: datetime) -> None:
    """Write the request letter to the agency and send it."""
    assert step.material and step.agency
    playbook = get_playbook(_playbook_of(number))
    material = playbook.material(step.material)
    with session_scope() as session:
        agency = cases.get_agency(session, step.agency)
    extra = {"agency": agency, "material": material}
    message = render_for_case(playbook.templates.request, number, as_of, **extra)
    with session_scope() as session:
        contact = cases.record_request(
            session=session,
            number=number,
            material=step.material,
            agency=step.agency,
            message=message,
            as_of=as_of,
        )
    file_letter(number, contact, message, as_of, playbook.templates.request, **extra)
    relay_outbox.fn(number)


@task(cache_policy=NO_CACHE, task_run_name="send-reminder-{step.agency}-{step.reminder_number}")
def send_reminder(number: str, step: Step, as_of: datetime) -> None:
    """Remind an agency that has not answered within the follow-up interval."""
    assert step.request_id is not None and step.reminder_number and step.agency
    playbook = get_playbook(_playbook_of(number))
    with session_scope() as session:
        agency = cases.get_agency(session, step.agency)
        view = cases.case_view(session=session, number=number)
    request = next(m.open_request for m in view.materials if m.slug == step.material)
    assert request is not None
    extra = {
        "agency": agency,
        "material": playbook.material(step.material or ""),
        "reminder_number": step.reminder_number,
        "requested_on": office_date(request.sent_at),
    }
    message = render_for_case(playbook.templates.reminder, number, as_of, **extra)
    with session_scope() as session:
        contact = cases.record_reminder(
            session=session,
            number=number,
            request_id=step.request_id,
            reminder_number=step.reminder_number,
            message=message,
            as_of=as_of,
        )
    file_letter(number, contact, message, as_of, playbook.templates.reminder, **extra)
    relay_outbox.fn(number)


@task(cache_policy=NO_CACHE, task_run_name="escalate-{step.reason}")
def escalate_case(number: str, step: Step, as_of: datetime) -> None:
    """Hand the case to a manager with a memo saying why."""
    assert step.reason is not None
    reason = EscalationReason(step.reason)
    playbook = get_playbook(_playbook_of(number))
    agency = None
    if step.agency:
        with session_scope() as session:
            agency = cases.get_agency(session, step.agency)
    message = render_for_case(
        playbook.templates.escalation,
        number,
        as_of,
        reason_text=escalation_text(reason),
        material=playbook.material(step.material) if step.material else None,
        agency=agency,
    )
    with session_scope() as session:
        cases.record_escalation(
            session=session,
            number=number,
            reason=reason,
            material=step.material,
            request_id=step.request_id,
            manager_email=get_settings().manager_email,
            message=message,
            as_of=as_of,
        )
    task_logger().warning("Case %s escalated to a manager: %s", number, reason)
    # Managers' automations listen for this (prefect.yaml refreshes the daily board on it).
    if TaskRunContext.get() is not None:  # not when the logic runs outside Prefect (tests)
        emit_event(
            event="casework.case.escalated",
            resource={
                "prefect.resource.id": f"casework.case.{number}",
                "prefect.resource.name": number,
            },
            payload={"reason": str(reason), "playbook": playbook.slug},
        )
    relay_outbox.fn(number)


@task(cache_policy=NO_CACHE, task_run_name="close-case-{number}")
def close_case(number: str, as_of: datetime) -> None:
    """Every material is in: close the case and tell the applicant."""
    template = get_playbook(_playbook_of(number)).templates.closing
    message = render_for_case(template, number, as_of)
    with session_scope() as session:
        contact = cases.close_case(session=session, number=number, message=message, as_of=as_of)
    file_letter(number, contact, message, as_of, template)
    relay_outbox.fn(number)


def _appointment_context(number: str, appointment_id: int) -> dict[str, object]:
    from casework.clock import office_time

    with session_scope() as session:
        details = cases.appointment_details(
            session=session, number=number, appointment_id=appointment_id
        )
        agency = cases.get_agency(session, str(details["agency"]))
    playbook = get_playbook(_playbook_of(number))
    material = playbook.material(str(details["material"])) if details["material"] else None
    return {
        "agency": agency,
        "material": material,
        "appointment": {
            "at": office_time(details["scheduled_at"]),
            "escort": details["escort"],
            "pickup": details["pickup"],
        },
    }


@task(cache_policy=NO_CACHE, task_run_name="confirm-appointment-{step.agency}")
def confirm_appointment(number: str, step: Step, as_of: datetime) -> None:
    """Tell the applicant when and where the appointment is, and who will accompany her."""
    assert step.appointment_id is not None
    playbook = get_playbook(_playbook_of(number))
    extra = _appointment_context(number, step.appointment_id)
    message = render_for_case(playbook.templates.appointment, number, as_of, **extra)
    with session_scope() as session:
        to_address = cases.applicant_email(session=session, number=number)
        contact = cases.record_appointment_notice(
            session=session,
            number=number,
            appointment_id=step.appointment_id,
            kind=cases.ContactKind.APPOINTMENT_CONFIRMATION,
            to_address=to_address,
            message=message,
            as_of=as_of,
        )
    file_letter(number, contact, message, as_of, playbook.templates.appointment, **extra)
    relay_outbox.fn(number)


@task(cache_policy=NO_CACHE, task_run_name="remind-staff-{step.agency}")
def remind_staff(number: str, step: Step, as_of: datetime) -> None:
    """The working day before an appointment, remind the staff member who escorts."""
    assert step.appointment_id is not None
    playbook = get_playbook(_playbook_of(number))
    extra = _appointment_context(number, step.appointment_id)
    message = render_for_case(playbook.templates.staff_reminder, number, as_of, **extra)
    with session_scope() as session:
        cases.record_appointment_notice(
            session=session,
            number=number,
            appointment_id=step.appointment_id,
            kind=cases.ContactKind.STAFF_REMINDER,
            to_address=get_settings().staff_email,
            message=message,
            as_of=as_of,
        )
    relay_outbox.fn(number)
