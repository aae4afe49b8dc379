"""An agency's own answer on its reply page (no account): shown, checked, recorded, and the
case's run woken, as if the clerk had typed it."""

from __future__ import annotations

from datetime import datetime

from casework import validation
from casework.errors import UserError
from casework.replies import Reply, ReplyChannel, ReplyOutcome
from models import reply_links
from models.db import session_scope
from models.reply_links import LinkPage
from usecases.agencies import add_agency
from usecases.answers import AnswerRecorded
from usecases.runs import wake_case_run

# What an agency may say on its page (refusals go through the office, by phone).
PAGE_OUTCOMES = (
    ReplyOutcome.RECEIVED,
    ReplyOutcome.NO_RECORD,
    ReplyOutcome.FORWARDED,
    ReplyOutcome.NEEDS_INFO,
)


def open_reply_page(*, code: str, as_of: datetime) -> LinkPage:
    """The request behind a code; UserError (shown as a page) when unknown, used or expired."""
    with session_scope() as session:
        return reply_links.link_page(session=session, code=code, as_of=as_of)


def answer_on_reply_page(
    *,
    code: str,
    outcome: str,
    as_of: datetime,
    forward_to: str | None = None,
    forward_name: str | None = None,
    needs_what: str | None = None,
) -> AnswerRecorded:
    """Record the agency's answer and use the link up; then wake the case's run."""
    page = open_reply_page(code=code, as_of=as_of)
    if outcome not in [o.value for o in PAGE_OUTCOMES]:
        raise UserError("bad_outcome", value=outcome[:20], choices="/".join(PAGE_OUTCOMES))
    note = None
    target = None
    if outcome == ReplyOutcome.FORWARDED:
        if forward_to and forward_to in [slug for slug, _ in page.forward_choices]:
            target = forward_to
        elif forward_name and forward_name.strip():
            target = add_agency(name=forward_name).slug  # a body no playbook names
        else:
            raise UserError("forward_name_missing")
    if outcome == ReplyOutcome.NEEDS_INFO:
        note = validation.free_text(needs_what, field="需补充的材料", max_length=500)
        if not note:
            raise UserError("needs_what_missing")
    reply = Reply(
        agency=page.agency,
        outcome=ReplyOutcome(outcome),
        material=page.material,
        forward_to=target,
        note=note or "",
        via=ReplyChannel.WEB,
    )
    with session_scope() as session:
        contact = reply_links.answer_by_link(session=session, code=code, reply=reply, as_of=as_of)
        assert contact.id is not None
        contact_id = contact.id
    return AnswerRecorded(
        case_number=page.case_number,
        contact_id=contact_id,
        agency=page.agency,
        agency_name=page.agency_name,
        outcome=reply.outcome,
        run=wake_case_run(page.case_number, as_of=as_of),
    )
