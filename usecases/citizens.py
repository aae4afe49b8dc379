"""The citizen's status page behind her notice's QR code: where her case stands, in words, with
nothing personal beyond her masked name."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlmodel import select

from casework.clock import office_date
from casework.errors import UserError
from casework.links import status_token_matches
from casework.masking import mask_name
from casework.planning import plan_next_step
from models import case_types, lookups
from models import office_rules as office_rules_model
from models.db import read_scope
from models.offices import office_card
from models.tables import (
    MATERIAL_DONE,
    Applicant,
    CaseEvent,
    CaseStatus,
    EventKind,
    MaterialStatus,
)

# The planner's steps the page has words for (the "next_step" labels).
SAID_STEPS = ("notify", "request", "remind", "escalate", "close", "wait")


class ToBring(BaseModel):
    """Something she must bring or send: what, and why it is asked for."""

    name: str
    why: str | None


class CitizenStatus(BaseModel):
    """What the status page says."""

    case_number: str
    title: str
    applicant: str  # masked: 沈**
    opened_on: date
    promised_by: date | None  # the clock's date; None once withdrawn
    state: str  # open, closed, withdrawn
    next_step: str  # a code of the "next_step" labels
    collected: list[str]
    awaited: list[str]
    in_post: list[str]
    to_bring: list[ToBring]
    clock_paused: bool
    after_closing: str | None  # what she does next, as the closing letter says it
    withdrawn_reason: str | None
    clerk: str
    office_name: str
    office_address: str
    office_phone: str
    supervision_phone: str
    rated: bool = False

    @property
    def may_rate(self) -> bool:
        return self.state == CaseStatus.CLOSED and not self.rated


def citizen_status(*, case_number: str, token: str, as_of: datetime) -> CitizenStatus:
    """The status page; the same error for a wrong case or a wrong token."""
    if not status_token_matches(case_number, token):
        raise UserError("status_link_unknown")
    with read_scope() as session:
        case = lookups.get_case(session, case_number)
        applicant = session.get(Applicant, case.applicant_id)
        view = lookups.case_view(session=session, case_number=case_number)
        card = office_card(session, case)
        counted = office_rules_model.case_clock(session, case, as_of)
        rated = office_rules_model.rating_of(session, case) is not None
        reason = None
        if case.status == CaseStatus.WITHDRAWN:
            withdrawal = session.exec(
                select(CaseEvent).where(
                    CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.CASE_WITHDRAWN
                )
            ).first()
            reason = withdrawal.detail if withdrawal else None
        notes = {m.slug: m.note for m in lookups.materials_of(session, case)}
        playbook = case_types.playbook_of_case(session, case)
        title = case_types.case_title(session, case)
    waiting_on_her = [m for m in view.materials if m.status == MaterialStatus.WAITING_APPLICANT]
    if case.status == CaseStatus.WITHDRAWN:
        next_step = "withdrawn"
    elif case.closed_at is not None:
        next_step = "done"
    elif waiting_on_her:
        next_step = "bring"
    else:
        action = str(plan_next_step(view, playbook, as_of).action)
        # A passing step (marking urgent, confirming an appointment…) reads as waiting.
        next_step = action if action in SAID_STEPS else "wait"
    return CitizenStatus(
        case_number=case_number,
        title=title,
        applicant=mask_name(applicant.name if applicant else ""),
        opened_on=office_date(case.opened_at),
        promised_by=None if case.status == CaseStatus.WITHDRAWN else counted.due_on,
        state=str(case.status) if CaseStatus(case.status).ended else "open",
        next_step=next_step,
        collected=[m.name for m in view.materials if m.status == MaterialStatus.COLLECTED],
        awaited=[
            m.name
            for m in view.materials
            if m.status not in (*MATERIAL_DONE, MaterialStatus.IN_POST)
        ],
        in_post=[m.name for m in view.materials if m.status == MaterialStatus.IN_POST],
        to_bring=[ToBring(name=m.name, why=notes.get(m.slug)) for m in waiting_on_her],
        clock_paused=counted.paused_now,
        after_closing=playbook.next_step_after_closing(card.address)
        if case.status == CaseStatus.CLOSED
        else None,
        withdrawn_reason=reason,
        clerk=card.clerk,
        office_name=card.name,
        office_address=card.address,
        office_phone=card.phone,
        supervision_phone=card.supervision_phone,
        rated=rated,
    )
