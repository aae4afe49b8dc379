"""What comes in: agencies' answers, the applicant's visits and hand-ins, appointments booked."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from casework.answers import Answer, AnswerOutcome, TripReason
from casework.clock import office_time
from casework.crash_points import crash_point
from casework.errors import UserError
from casework.messages import label, message
from casework.planning import EscalationReason
from models import directory
from models.lookups import agency_name, get_agency, get_case, material_of
from models.office_rules import pause_clock, resume_clock
from models.tables import (
    Case,
    CaseMaterial,
    Channel,
    Contact,
    ContactKind,
    Direction,
    EventKind,
    MaterialStatus,
)
from models.transitions import advance_wait, record_event, refresh_status


def _awaited_request(session: Session, case: Case, answer: Answer) -> Contact:
    """The open request this reply answers; a reply nobody is waiting for is refused."""
    query = select(Contact).where(
        Contact.case_id == case.id,
        Contact.kind == ContactKind.REQUEST,
        Contact.agency_slug == answer.agency,
        col(Contact.answered_at).is_(None),
    )
    if answer.material:
        query = query.where(Contact.material_slug == answer.material)
    candidates = list(session.exec(query.order_by(col(Contact.id))))
    if not candidates:
        answered = session.exec(
            select(Contact)
            .where(
                Contact.case_id == case.id,
                Contact.kind == ContactKind.REQUEST,
                Contact.agency_slug == answer.agency,
                col(Contact.answered_at).is_not(None),
            )
            .order_by(col(Contact.answered_at).desc())
        ).first()
        if answered is not None and answered.answered_at is not None:
            raise UserError(
                "already_answered",
                agency=agency_name(session, answer.agency),
                at=office_time(answered.answered_at),
                outcome=label("outcome", answered.outcome or ""),
            )
        raise UserError("not_waiting", case=case.number, agency=agency_name(session, answer.agency))
    if len(candidates) > 1 and not answer.material:
        raise UserError(
            "which_material",
            case=case.number,
            materials="、".join(
                material_of(session, case, c.material_slug or "").name for c in candidates
            ),
        )
    return candidates[0]


def _silence_escalated(session: Session, request: Contact) -> bool:
    """Whether the case was escalated for this request's silence (not another's)."""
    return (
        session.exec(
            select(Contact).where(
                Contact.kind == ContactKind.ESCALATION,
                Contact.in_reply_to == request.id,
                Contact.outcome == str(EscalationReason.NO_ANSWER),
            )
        ).first()
        is not None
    )


def record_form_answer(
    *, session: Session, case_number: str, generation: int, answer: Answer, as_of: datetime
) -> str:
    """An answer typed into the Resume form while the run waited under `generation`.

    Reading the input and recording the answer commit together. An answer that cannot be
    recorded (the request was answered meanwhile at the window, a mistyped agency) is not
    dropped in silence: the refusal and its reason go into the audit trail. Returns
    "recorded", "refused: <reason>" or "already-read" (an earlier execution recorded it).
    """
    case = get_case(session, case_number, lock=True)
    if not advance_wait(session, case, generation):
        return "already-read"
    try:
        with session.begin_nested():
            record_answer(
                session=session,
                case_number=case_number,
                answer=answer,
                as_of=as_of,
                actor="prefect-ui",
            )
    except UserError as exc:
        reason = message(exc.code, "zh", **exc.params)
        record_event(
            session,
            case,
            EventKind.FORM_ANSWER_REFUSED,
            as_of,
            detail=f"{agency_name(session, answer.agency)}：{label('outcome', answer.outcome)}——{reason}",
            actor="prefect-ui",
        )
        return f"refused: {reason}"
    return "recorded"


def _next_untried_agency(material: CaseMaterial) -> str | None:
    """The next agency of the material's own chain that has not been asked yet."""
    return next((slug for slug in material.chain if slug not in material.tried_agencies), None)


def extend_chain(material: CaseMaterial, agency: str, *, after: str | None) -> bool:
    """Put an agency into a material's chain (after `after`, else at its end), unless it is
    there already; whether the route changed."""
    if agency in material.chain:
        return False
    chain = list(material.chain)
    chain.insert(chain.index(after) + 1 if after in chain else len(chain), agency)
    material.chain = chain  # a new list, so the JSON column is seen as changed
    return True


def record_answer(
    *,
    session: Session,
    case_number: str,
    answer: Answer,
    as_of: datetime,
    actor: str,
) -> Contact:
    """Record an agency's answer and what follows from it.

    The case row is locked first, so of two answers to one request the second sees the first
    and is refused ("already answered"), never written over it.
    """
    case = get_case(session, case_number, lock=True)
    if case.closed_at is not None:
        raise UserError("case_closed", case=case_number)
    get_agency(session, answer.agency)
    request = _awaited_request(session, case, answer)
    material_slug = request.material_slug
    assert material_slug is not None and case.id is not None and request.id is not None
    if as_of < request.occurred_at:
        raise UserError(
            "answer_before_request", agency=answer.agency, sent=office_time(request.occurred_at)
        )
    material = material_of(session, case, material_slug)

    if answer.outcome == AnswerOutcome.FORWARDED:
        if not answer.forward_to:
            raise UserError("forward_to_missing")
        if answer.forward_to == answer.agency:
            raise UserError("forward_to_same", agency=answer.agency)
        directory.agency_for_case(session, case, answer.forward_to)

    request.answered_at = as_of
    request.outcome = str(answer.outcome)
    session.add(request)
    contact = Contact(
        case_id=case.id,
        kind=ContactKind.REPLY,
        channel=Channel(str(answer.via)),
        direction=Direction.INBOUND,
        agency_slug=answer.agency,
        material_slug=material_slug,
        in_reply_to=request.id,
        outcome=str(answer.outcome),
        note=answer.note or None,
        occurred_at=as_of,
        recorded_by=actor,
        details=_answer_details(answer),
    )
    session.add(contact)

    if answer.outcome == AnswerOutcome.RECEIVED:
        material.status = MaterialStatus.COLLECTED
        material.collected_at = as_of
    elif answer.outcome == AnswerOutcome.POSTED:
        material.status = MaterialStatus.IN_POST  # collected when it arrives
    elif answer.outcome == AnswerOutcome.FORWARDED:
        material.status = MaterialStatus.PENDING
        material.agency_slug = answer.forward_to
        assert answer.forward_to is not None
        extend_chain(material, answer.forward_to, after=answer.agency)  # the route learnt
    elif answer.outcome == AnswerOutcome.NO_RECORD:
        material.status = MaterialStatus.PENDING
        material.agency_slug = _next_untried_agency(material)
    elif answer.outcome == AnswerOutcome.NEEDS_INFO:
        material.status = MaterialStatus.WAITING_APPLICANT
        material.note = answer.note or None
        pause_clock(session, case, material_slug, as_of, actor)  # 补正 stops the 限时办结 clock
    elif answer.outcome == AnswerOutcome.REFUSED:
        material.status = MaterialStatus.UNOBTAINABLE  # the planner escalates it next
        material.note = answer.note or None
    session.add(material)
    session.flush()
    directory.learn_answer_time(session, answer.agency)  # chasing follows how it answers
    if case.escalation_reason == EscalationReason.NO_ANSWER and _silence_escalated(
        session, request
    ):
        case.escalated_at = None  # the silence that was escalated has been broken
        case.escalation_reason = None
    session.add(case)
    record_event(
        session,
        case,
        EventKind.REPLY_RECORDED,
        as_of,
        detail=f"{agency_name(session, answer.agency)}：{label('outcome', answer.outcome)}（{material.name}）"
        + (f" → {agency_name(session, answer.forward_to)}" if answer.forward_to else ""),
        actor=actor,
    )
    refresh_status(session, case, as_of, actor)
    session.flush()
    crash_point("answer-before-commit", case_number)  # written, not yet committed
    return contact


def _answer_details(answer: Answer) -> dict[str, str] | None:
    details = {
        key: value
        for key, value in (
            ("tracking_number", answer.tracking),
            ("answered_by", answer.answered_by),
        )
        if value
    }
    return details or None


def confirm_arrival(
    *, session: Session, case_number: str, material_slug: str, as_of: datetime, actor: str
) -> CaseMaterial:
    """What an agency posted has arrived: the material is in."""
    case = get_case(session, case_number, lock=True)
    if case.closed_at is not None:
        raise UserError("case_closed", case=case_number)
    material = material_of(session, case, material_slug)
    if material.status != MaterialStatus.IN_POST:
        raise UserError("not_in_post", material=material.name)
    material.status = MaterialStatus.COLLECTED
    material.collected_at = as_of
    session.add(material)
    record_event(
        session, case, EventKind.MATERIAL_ARRIVED, as_of, detail=material.name, actor=actor
    )
    refresh_status(session, case, as_of, actor)
    return material


def record_visit(
    *,
    session: Session,
    case_number: str,
    reason: TripReason,
    brought: list[str],
    as_of: datetime,
    channel: Channel = Channel.WINDOW,
    note: str | None = None,
    actor: str,
) -> Contact:
    """The applicant came to the window (a trip) or sent or handed over materials without one.

    Only a window visit counts as a trip; materials taken in by post, on a home visit or by
    email cost the applicant nothing.
    """
    case = get_case(session, case_number, lock=True)
    if case.closed_at is not None:
        raise UserError("case_closed", case=case_number)
    materials = [material_of(session, case, slug) for slug in brought]
    for material in materials:
        if material.status not in (MaterialStatus.WAITING_APPLICANT, MaterialStatus.IN_POST):
            raise UserError("not_waiting_applicant", material=material.name)
    trip = channel == Channel.WINDOW
    assert case.id is not None
    contact = Contact(
        case_id=case.id,
        kind=ContactKind.VISIT if trip else ContactKind.RECEIPT,
        channel=channel,
        direction=Direction.INBOUND,
        outcome=str(reason),
        note=note or (("带来：" + "、".join(m.name for m in materials)) if materials else None),
        occurred_at=as_of,
        trip=trip,
        recorded_by=actor,
    )
    session.add(contact)
    resume_clock(session, case, [m.slug for m in materials], as_of, actor)
    for material in materials:
        if material.obtained_by == "office" and material.status != MaterialStatus.IN_POST:
            # The agency asked for something only the applicant has: ask the same agency again.
            material.status = MaterialStatus.PENDING
        else:
            material.status = MaterialStatus.COLLECTED
            material.collected_at = as_of
        session.add(material)
    record_event(
        session,
        case,
        EventKind.APPLICANT_VISITED if trip else EventKind.MATERIALS_RECEIVED,
        as_of,
        detail=f"{label('outcome', reason)}：{'、'.join(m.name for m in materials)}"
        if materials
        else label("outcome", reason),
        actor=actor,
    )
    refresh_status(session, case, as_of, actor)
    return contact


def record_appointment(
    *,
    session: Session,
    case_number: str,
    agency: str,
    at: datetime,
    material: str | None,
    escort: str | None,
    pickup: bool,
    applicant_attends: bool,
    as_of: datetime,
    actor: str,
) -> Contact:
    """Book an appointment with an agency; if the applicant attends it is a trip (reason
    appointment)."""
    case = get_case(session, case_number, lock=True)
    if case.closed_at is not None:
        raise UserError("case_closed", case=case_number)
    get_agency(session, agency)
    if material is not None:
        material_of(session, case, material)
    if at <= as_of:
        raise UserError("appointment_in_past", at=at)
    assert case.id is not None
    contact = Contact(
        case_id=case.id,
        kind=ContactKind.APPOINTMENT,
        channel=Channel.VISIT,
        direction=Direction.OUTBOUND,
        agency_slug=agency,
        material_slug=material,
        outcome=str(TripReason.APPOINTMENT) if applicant_attends else None,
        note=f"陪同：{escort}" if escort else None,
        occurred_at=as_of,
        scheduled_at=at,
        trip=applicant_attends,
        details={"escort": escort, "pickup": pickup, "applicant_attends": applicant_attends},
        recorded_by=actor,
    )
    session.add(contact)
    record_event(
        session,
        case,
        EventKind.APPOINTMENT_BOOKED,
        as_of,
        detail=f"{agency_name(session, agency)} {office_time(at)}",
        actor=actor,
    )
    return contact
