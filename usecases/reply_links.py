"""An agency's own answer on its reply page (no account): shown, checked, recorded, and the
case's run woken, as if the clerk had typed it."""

from __future__ import annotations

from datetime import datetime

from casework import validation
from casework.actors import AGENCY_LINK
from casework.answers import Answer, AnswerChannel, AnswerOutcome
from casework.errors import UserError
from models import documents, reply_links
from models.db import read_scope, session_scope
from models.reply_links import LinkAnswer, LinkPage
from usecases.runs import wake_case_run

__all__ = ["LinkAnswer", "LinkPage"]

# What an agency may say on its page (refusals go through the office, by phone).
PAGE_OUTCOMES = (
    AnswerOutcome.RECEIVED,
    AnswerOutcome.POSTED,
    AnswerOutcome.NO_RECORD,
    AnswerOutcome.FORWARDED,
    AnswerOutcome.NEEDS_INFO,
)


def open_reply_page(*, code: str, as_of: datetime) -> LinkPage:
    """The request behind a code, and whether it still takes an answer; UserError (a 404
    page) for a code that does not exist."""
    with read_scope() as session:
        return reply_links.link_page(session=session, code=code, as_of=as_of)


def answer_on_reply_page(
    *,
    code: str,
    outcome: str,
    as_of: datetime,
    forward_to: str | None = None,
    forward_name: str | None = None,
    needs_what: str | None = None,
    note: str | None = None,
    tracking: str | None = None,
    answered_by: str | None = None,
    document: tuple[str, bytes] | None = None,
) -> LinkAnswer:
    """Record the agency's answer and use the link up; then wake the case's run. An answer
    to a request answered meanwhile is kept for the clerk (LinkAnswer.kind "kept")."""
    page = open_reply_page(code=code, as_of=as_of)
    if outcome not in [o.value for o in PAGE_OUTCOMES]:
        raise UserError("bad_outcome", value=outcome[:20], choices="/".join(PAGE_OUTCOMES))
    target = None
    new_agency = None
    if outcome == AnswerOutcome.FORWARDED:
        if forward_to and forward_to in [slug for slug, _ in page.forward_choices]:
            target = forward_to
        elif forward_name and forward_name.strip():
            new_agency = validation.free_text(forward_name, field="转至的单位名称", max_length=100)
        else:
            raise UserError("forward_name_missing")
    text = validation.free_text(note, field="备注", max_length=500, multiline=True, required=False)
    if outcome == AnswerOutcome.NEEDS_INFO:
        asked = validation.free_text(needs_what, field="需补充的材料", max_length=500)
        if not asked:
            raise UserError("needs_what_missing")
        text = asked if not text else f"{asked}（{text}）"
    answer = Answer(
        agency=page.agency,
        outcome=AnswerOutcome(outcome),
        material=page.material,
        forward_to=target,
        note=text or "",
        via=AnswerChannel.WEB,
        tracking=validation.tracking_number(tracking) if tracking else None,
        answered_by=validation.free_text(
            answered_by, field="答复人", max_length=40, required=False
        ),
    )
    with session_scope() as session:
        answered = reply_links.answer_by_link(
            session=session, code=code, answer=answer, forward_name=new_agency, as_of=as_of
        )
        if document is not None and answered.kind == "recorded":
            # Kept with the answer or not at all: a file refused records no answer either.
            documents.attach(
                session=session,
                case_number=page.case_number,
                material_slug=page.material,
                filename=document[0],
                content=document[1],
                received_via="web",
                as_of=as_of,
                actor=AGENCY_LINK,
            )
    if answered.kind == "recorded":
        wake_case_run(page.case_number, as_of=as_of)
    return answered
