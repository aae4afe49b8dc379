"""What staff read: one case in full, the list of cases, a person's cases, agencies' emails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casework import validation
from casework.clock import office_date
from casework.settings import get_settings
from gateways.maildir import read_mailbox
from models import applicants, views
from models.db import read_scope, session_scope
from models.views import CaseDetail, ClockRow, RatingRow

__all__ = ["CaseDetail", "ClockRow", "RatingRow"]


def show_case(
    *, case_number: str, as_of: datetime, full_reason: str | None = None
) -> tuple[CaseDetail, dict[str, str | None] | None]:
    """The case with personal data masked; unmasked too when a reason is given (audited)."""
    if full_reason is None:
        with read_scope() as session:
            return views.case_detail(session=session, case_number=case_number, as_of=as_of), None
    reason = validation.free_text(full_reason, field="查看理由", max_length=200)
    assert reason is not None
    with session_scope() as session:  # the look at personal data is audited
        revealed = views.reveal_applicant(
            session=session, case_number=case_number, reason=reason, as_of=as_of
        )
        detail = views.case_detail(session=session, case_number=case_number, as_of=as_of)
    return detail, revealed


def list_cases(*, as_of: datetime, overdue_only: bool = False) -> list[views.CaseSummary]:
    with read_scope() as session:
        return views.case_summaries(
            session=session, today=office_date(as_of), overdue_only=overdue_only
        )


def find_cases(*, id_number: str, as_of: datetime) -> list[str]:
    """The case numbers of the person with this resident ID (looked up by its keyed hash)."""
    number = validation.resident_id(id_number, today=office_date(as_of))
    with read_scope() as session:
        return applicants.cases_of_person(session=session, id_number=number)


def inbound_emails() -> list[views.InboundEmailRow]:
    with read_scope() as session:
        return views.inbound_emails(session=session)


def unmatched_emails() -> list[dict[str, str]]:
    """Replies to the office that match no case (kept, never dropped)."""
    return [
        {"from": str(m["From"]), "to": str(m["X-Envelope-To"]), "subject": str(m["Subject"])}
        for m in read_mailbox(get_settings().home / "unmatched")
    ]


def local_mailbox() -> list[dict[str, Any]]:
    """What the stack's own SMTP server received (the demo's and the tests' outbox view)."""
    return [
        {"to": m["To"], "subject": m["Subject"], "date": m["Date"]}
        for m in read_mailbox(get_settings().mailbox_dir)
    ]


def notice_pdf(*, case_number: str, as_of: datetime) -> bytes:
    """The one-time notification as PDF, printed at the window while the citizen is there
    (the case's run files the same letter in the case folder a few seconds later)."""
    from casework.printing import render_pdf
    from tasks.render import playbook_of, render_for_case, status_page_extras

    template = playbook_of(case_number).templates.notice
    message = render_for_case(template, case_number, as_of, **status_page_extras(case_number))
    return render_pdf(message.printable)
