"""Tasks that reach outside the office: notices, requests, reminders, escalations, the relay."""

from __future__ import annotations

from datetime import datetime, timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.events import emit_event

from casework.clock import now, office_date
from casework.planning import EscalationReason, Step
from casework.settings import get_settings
from gateways.run_logs import task_logger
from gateways.smtp import Delivery, SmtpMailer, deliver_now
from models import lifecycle, lookups, outbox, outgoing, tables
from models.db import session_scope
from tasks.render import (
    appointment_context,
    closing_extras,
    escalation_text,
    file_letter,
    material_spec,
    playbook_of,
    render_for_case,
    reply_link_extras,
    status_page_extras,
)

# Idempotency lives in the case database (dedupe keys), not in Prefect's result cache, so a
# re-run after a resume or a crash re-executes these tasks (NO_CACHE) and they find their work
# done.


def relay_pending(case_number: str | None = None, as_of: datetime | None = None) -> list[Delivery]:
    """Claim what the outbox has due (for one case, or all), send it, and mark each result."""
    moment = as_of or now()
    settings = get_settings()
    with session_scope() as session:
        emails = outbox.claim_due_emails(
            session=session,
            as_of=moment,
            case_number=case_number,
            lease=timedelta(seconds=settings.outbox_lease_seconds),
        )
    if not emails:
        return []
    # Each result is marked before the next email goes, in its own commit (not flushed to disk:
    # a mark lost to a power cut only re-sends that email, flagged).
    with session_scope(durable=False) as session:

        def mark(result: Delivery) -> None:
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
            session.commit()

        return deliver_now(SmtpMailer(settings), emails, mark)


@task(cache_policy=NO_CACHE)
def relay_outbox(case_number: str | None = None) -> int:
    """Send pending outbox emails; returns how many went out."""
    results = relay_pending(case_number)
    failed = [r for r in results if not r.delivered]
    if failed:
        task_logger().warning(
            "%d email(s) not delivered yet (kept in the outbox): %s",
            len(failed),
            "; ".join(f"#{r.outbox_id} {r.error}" for r in failed),
        )
    return len(results) - len(failed)


@task(cache_policy=NO_CACHE, task_run_name="notify-applicant-{case_number}")
def notify_applicant(case_number: str, as_of: datetime) -> None:
    """Render the one-time notification, file it for printing and email it if we can."""
    template = playbook_of(case_number).templates.notice
    extra = status_page_extras(case_number)
    message = render_for_case(template, case_number, as_of, **extra)
    with session_scope() as session:
        contact = outgoing.record_notice(
            session=session, case_number=case_number, message=message, as_of=as_of
        )
    relay_outbox.fn(case_number)
    file_letter(case_number, contact, message, as_of, template, **extra)


@task(cache_policy=NO_CACHE, task_run_name="send-request-{step.material}-{step.agency}")
def send_request(case_number: str, step: Step, as_of: datetime) -> None:
    """Write the request letter to the agency and send it."""
    assert step.material and step.agency
    playbook = playbook_of(case_number)
    material = material_spec(case_number, step.material)
    with session_scope() as session:
        agency = lookups.get_agency(session, step.agency)
        code = outgoing.next_reply_code(
            session=session, case_number=case_number, material=step.material, agency=step.agency
        )
    extra = {"agency": agency, "material": material, **reply_link_extras(case_number, code)}
    message = render_for_case(playbook.templates.request, case_number, as_of, **extra)
    with session_scope() as session:
        contact = outgoing.record_request(
            session=session,
            case_number=case_number,
            material=step.material,
            agency=step.agency,
            message=message,
            as_of=as_of,
        )
    if contact is None:
        task_logger().info(
            "Request to %s not sent: an answer changed the case since it was planned", step.agency
        )
        return
    relay_outbox.fn(case_number)
    file_letter(case_number, contact, message, as_of, playbook.templates.request, **extra)


@task(cache_policy=NO_CACHE, task_run_name="send-reminder-{step.agency}-{step.reminder_number}")
def send_reminder(case_number: str, step: Step, as_of: datetime) -> None:
    """Remind an agency that has not answered within the follow-up interval."""
    assert step.request_id is not None and step.reminder_number and step.agency
    playbook = playbook_of(case_number)
    with session_scope() as session:
        agency = lookups.get_agency(session, step.agency)
        view = lookups.case_view(session=session, case_number=case_number)
    request = next(m.open_request for m in view.materials if m.slug == step.material)
    if request is None or request.contact_id != step.request_id:
        return  # answered since the reminder was planned: nothing to remind
    extra = {
        "agency": agency,
        "material": material_spec(case_number, step.material),
        "reminder_number": step.reminder_number,
        "requested_on": office_date(request.sent_at),
    }
    message = render_for_case(playbook.templates.reminder, case_number, as_of, **extra)
    with session_scope() as session:
        contact = outgoing.record_reminder(
            session=session,
            case_number=case_number,
            request_id=step.request_id,
            reminder_number=step.reminder_number,
            message=message,
            as_of=as_of,
        )
    relay_outbox.fn(case_number)
    file_letter(case_number, contact, message, as_of, playbook.templates.reminder, **extra)


@task(cache_policy=NO_CACHE, task_run_name="escalate-{step.reason}")
def escalate_case(case_number: str, step: Step, as_of: datetime) -> None:
    """Hand the case to a manager with a memo saying why."""
    assert step.reason is not None
    reason = EscalationReason(step.reason)
    playbook = playbook_of(case_number)
    agency = None
    if step.agency:
        with session_scope() as session:
            agency = lookups.get_agency(session, step.agency)
    message = render_for_case(
        playbook.templates.escalation,
        case_number,
        as_of,
        reason_text=escalation_text(reason),
        material=material_spec(case_number, step.material),
        agency=agency,
    )
    with session_scope() as session:
        outgoing.record_escalation(
            session=session,
            case_number=case_number,
            reason=reason,
            material=step.material,
            request_id=step.request_id,
            manager_email=get_settings().manager_email,
            message=message,
            as_of=as_of,
        )
    task_logger().warning("Case %s escalated to a manager: %s", case_number, reason)
    # Managers' automations listen for this (prefect.yaml refreshes the daily board on it).
    if TaskRunContext.get() is not None:  # not when the logic runs outside Prefect (tests)
        emit_event(
            event="casework.case.escalated",
            resource={
                "prefect.resource.id": f"casework.case.{case_number}",
                "prefect.resource.name": case_number,
            },
            payload={"reason": str(reason), "playbook": playbook.slug},
        )
    relay_outbox.fn(case_number)


@task(cache_policy=NO_CACHE, task_run_name="close-case-{case_number}")
def close_case(case_number: str, as_of: datetime) -> None:
    """Every material is in: close the case and tell the applicant."""
    template = playbook_of(case_number).templates.closing
    message = render_for_case(template, case_number, as_of, **closing_extras(case_number))
    with session_scope() as session:
        contact = lifecycle.close_case(
            session=session, case_number=case_number, message=message, as_of=as_of
        )
    relay_outbox.fn(case_number)
    file_letter(case_number, contact, message, as_of, template)


@task(cache_policy=NO_CACHE, task_run_name="confirm-appointment-{step.agency}")
def confirm_appointment(case_number: str, step: Step, as_of: datetime) -> None:
    """Tell the applicant when and where the appointment is, and who will accompany her."""
    assert step.appointment_id is not None
    playbook = playbook_of(case_number)
    extra = appointment_context(case_number, step.appointment_id)
    message = render_for_case(playbook.templates.appointment, case_number, as_of, **extra)
    with session_scope() as session:
        to_address = lookups.applicant_email(session=session, case_number=case_number)
        contact = outgoing.record_appointment_notice(
            session=session,
            case_number=case_number,
            appointment_id=step.appointment_id,
            kind=tables.ContactKind.APPOINTMENT_CONFIRMATION,
            to_address=to_address,
            message=message,
            as_of=as_of,
        )
    relay_outbox.fn(case_number)
    file_letter(case_number, contact, message, as_of, playbook.templates.appointment, **extra)


@task(cache_policy=NO_CACHE, task_run_name="remind-staff-{step.agency}")
def remind_staff(case_number: str, step: Step, as_of: datetime) -> None:
    """The working day before an appointment, remind the staff member who escorts."""
    assert step.appointment_id is not None
    playbook = playbook_of(case_number)
    extra = appointment_context(case_number, step.appointment_id)
    message = render_for_case(playbook.templates.staff_reminder, case_number, as_of, **extra)
    with session_scope() as session:
        outgoing.record_appointment_notice(
            session=session,
            case_number=case_number,
            appointment_id=step.appointment_id,
            kind=tables.ContactKind.STAFF_REMINDER,
            to_address=get_settings().staff_email,
            message=message,
            as_of=as_of,
        )
    relay_outbox.fn(case_number)
