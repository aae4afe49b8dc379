"""Reading a case: the rows by their names, the open requests, and the planner's snapshot."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from sqlmodel import Session, col, func, select

from casework.clock import office_date
from casework.errors import UserError
from casework.planning import (
    AppointmentView,
    CaseView,
    EscalationReason,
    MaterialView,
    OpenRequest,
)
from models.tables import (
    Agency,
    Applicant,
    Case,
    CaseEvent,
    CaseMaterial,
    ClockPause,
    Contact,
    ContactKind,
    Document,
    EventKind,
    MaterialStatus,
)

CASE_NUMBER = re.compile(r"^HC-[0-9]{4}-[0-9]{4,}$")

# Agencies added on the way get generated codes: agency-001, agency-002…
ADDED_AGENCY_PREFIX = "agency-"

# Escalations about one material (the others are about the case's silence or deadline).
MATERIAL_ESCALATIONS = (EscalationReason.NO_AGENCY_LEFT, EscalationReason.REFUSED)


def get_case(session: Session, case_number: str, *, lock: bool = False) -> Case:
    """The case by its number; `lock` holds its row until the transaction ends (PostgreSQL
    SELECT … FOR UPDATE; on SQLite every transaction already holds the write lock)."""
    if not CASE_NUMBER.match(case_number.strip()):  # also keeps NUL bytes away from PostgreSQL
        raise UserError("unknown_case", case=case_number[:40])
    query = select(Case).where(Case.number == case_number.strip())
    if lock:
        query = query.with_for_update()
    case = session.exec(query).first()
    if case is None:
        raise UserError("unknown_case", case=case_number)
    return case


def get_cases(session: Session, case_numbers: list[str]) -> list[Case]:
    """The cases with these numbers (those that exist), in a few queries."""
    cases: list[Case] = []
    for start in range(0, len(case_numbers), 500):
        chunk = case_numbers[start : start + 500]
        cases += session.exec(select(Case).where(col(Case.number).in_(chunk)))
    return cases


def case_numbers(session: Session, case_ids: set[int]) -> dict[int, str]:
    """Case id -> case number for these ids, in a few queries (get_cases the other way)."""
    ids = sorted(case_ids)
    numbers: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found = session.exec(select(Case.id, Case.number).where(col(Case.id).in_(chunk)))
        numbers.update((case_id or 0, number) for case_id, number in found)
    return numbers


def get_agency(session: Session, slug: str) -> Agency:
    agency = session.exec(select(Agency).where(Agency.slug == slug)).first()
    if agency is None:
        raise UserError("unknown_agency", agency=slug)
    return agency


def find_agency(session: Session, slug: str) -> Agency | None:
    return session.exec(select(Agency).where(Agency.slug == slug)).first()


def agency_name(session: Session, slug: str | None) -> str:
    """The agency's display name (its slug only if the agency is unknown)."""
    if not slug:
        return "-"
    agency = find_agency(session, slug)
    return agency.name if agency else slug


def shareable_agency_names(session: Session) -> dict[str, str]:
    """Agency names fit for what leaves the case database (Prefect's artifacts, the board):
    the directory's official bodies by name, an agency added for one case by its code only
    (its name may be a private person's, e.g. a sole trader)."""
    return {
        a.slug: a.name if a.case_id is None else f"本案添加的单位 {a.slug}"
        for a in session.exec(select(Agency))
    }


def list_agencies(session: Session) -> list[Agency]:
    return list(session.exec(select(Agency).order_by(col(Agency.slug))))


def applicant_of(session: Session, case: Case) -> Applicant:
    applicant = session.get(Applicant, case.applicant_id)
    assert applicant is not None
    return applicant


def materials_of(session: Session, case: Case) -> list[CaseMaterial]:
    return list(
        session.exec(
            select(CaseMaterial)
            .where(CaseMaterial.case_id == case.id)
            .order_by(col(CaseMaterial.position))
        )
    )


def material_of(session: Session, case: Case, slug: str) -> CaseMaterial:
    """One of the case's materials by its code, or by its name as staff typed it."""
    materials = session.exec(select(CaseMaterial).where(CaseMaterial.case_id == case.id)).all()
    found = next((m for m in materials if m.slug == slug), None) or next(
        (m for m in materials if m.name == slug.strip()), None
    )
    if found is None:
        raise UserError("unknown_material", case=case.number, material=slug[:60])
    return found


def contact_by_key(session: Session, dedupe_key: str) -> Contact | None:
    return session.exec(select(Contact).where(Contact.dedupe_key == dedupe_key)).first()


def open_request_of(session: Session, case: Case, material: CaseMaterial) -> OpenRequest | None:
    if material.status != MaterialStatus.REQUESTED:
        return None
    request = session.exec(
        select(Contact)
        .where(
            Contact.case_id == case.id,
            Contact.kind == ContactKind.REQUEST,
            Contact.material_slug == material.slug,
            col(Contact.answered_at).is_(None),
        )
        .order_by(col(Contact.id).desc())
    ).first()
    if request is None or request.id is None:
        return None
    follow_ups = list(
        session.exec(
            select(Contact).where(Contact.in_reply_to == request.id).order_by(col(Contact.id))
        )
    )
    return _open_request(request, follow_ups, agency_intervals(session))


def agency_intervals(session: Session) -> dict[str, int]:
    """How many working days each agency usually takes to answer, where it has been learnt."""
    return {
        slug: days
        for slug, days in session.exec(
            select(Agency.slug, Agency.answers_within_days).where(
                col(Agency.answers_within_days).is_not(None)
            )
        )
        if days is not None
    }


def _open_request(
    request: Contact, follow_ups: list[Contact], intervals: dict[str, int]
) -> OpenRequest:
    """The planner's view of an unanswered request and what followed it (in id order)."""
    assert request.id is not None
    reminders = [c for c in follow_ups if c.kind == ContactKind.REMINDER]
    escalated = any(c.kind == ContactKind.ESCALATION for c in follow_ups)
    # Letters by post count from the day they were posted; until then nobody can be chased.
    last = reminders[-1] if reminders else request
    return OpenRequest(
        contact_id=request.id,
        agency_slug=request.agency_slug or "",
        sent_at=request.left_office_at,
        last_chased_at=last.left_office_at,
        reminders=len(reminders),
        escalated=escalated,
        awaiting_posting=last.awaiting_posting,
        agency_interval=intervals.get(request.agency_slug or ""),
    )


class CaseRows:
    """Many cases' materials, open requests and clock pauses, read in a few queries: what the
    board needs for every open case, as materials_of and open_request_of give it for one."""

    def __init__(self, session: Session, cases: list[Case]) -> None:
        ids = [c.id for c in cases]
        self.materials: dict[int, list[CaseMaterial]] = {i or 0: [] for i in ids}
        self.pauses: dict[int, list[ClockPause]] = {i or 0: [] for i in ids}
        self.contacts: dict[int, list[Contact]] = {i or 0: [] for i in ids}  # in id order
        self._requests: dict[tuple[int, str], OpenRequest] = {}
        intervals = agency_intervals(session)
        # The roles a case type names (no channels): a material asking one waits for a clerk
        # to name the agency that fills it.
        self.roles = set(session.exec(select(Agency.slug).where(col(Agency.role))))
        for chunk in _chunks(ids):
            for material in session.exec(
                select(CaseMaterial)
                .where(col(CaseMaterial.case_id).in_(chunk))
                .order_by(col(CaseMaterial.position))
            ):
                self.materials[material.case_id].append(material)
            for pause in session.exec(select(ClockPause).where(col(ClockPause.case_id).in_(chunk))):
                self.pauses[pause.case_id].append(pause)
            # Every contact of these cases by the case_id index, sorted and sifted here: with
            # "kind = 'request'" in the query SQLite walks that index over the whole city.
            latest: dict[tuple[int, str], Contact] = {}
            follow_ups: dict[int, list[Contact]] = defaultdict(list)
            contacts = session.exec(select(Contact).where(col(Contact.case_id).in_(chunk)))
            for contact in sorted(contacts, key=lambda c: c.id or 0):
                self.contacts[contact.case_id].append(contact)
                if contact.kind == ContactKind.REQUEST and contact.answered_at is None:
                    latest[(contact.case_id, contact.material_slug or "")] = contact  # newest
                if contact.in_reply_to is not None:  # a request's follow-ups are in its case
                    follow_ups[contact.in_reply_to].append(contact)
            for key, request in latest.items():
                self._requests[key] = _open_request(request, follow_ups[request.id or 0], intervals)

    def open_request(self, case: Case, material: CaseMaterial) -> OpenRequest | None:
        """As open_request_of(session, case, material)."""
        if material.status != MaterialStatus.REQUESTED:
            return None
        return self._requests.get((case.id or 0, material.slug))


def _chunks(ids: list[int | None], size: int = 500) -> list[list[int | None]]:
    """Bound each IN (…) list: SQLite and PostgreSQL take many, but not unbounded, parameters."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def case_view(*, session: Session, case_number: str) -> CaseView:
    """The snapshot the planner decides on."""
    case = get_case(session, case_number)
    return case_views(session=session, cases=[case])[case.number]


def case_views(*, session: Session, cases: list[Case]) -> dict[str, CaseView]:
    """case_view for many cases in a few queries (the sweep plans every open case), by number."""
    rows = CaseRows(session, cases)
    completed: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks([c.id for c in cases]):
        for case_id, detail in session.exec(
            select(CaseEvent.case_id, CaseEvent.detail)
            .where(
                col(CaseEvent.case_id).in_(chunk),
                CaseEvent.kind == EventKind.SERVICE_COMPLETED,
            )
            .order_by(col(CaseEvent.id))
        ):
            completed[case_id].append(detail)
    return {case.number: _case_view(case, rows, completed[case.id or 0]) for case in cases}


def _case_view(case: Case, rows: CaseRows, completed_services: list[str]) -> CaseView:
    contacts = rows.contacts[case.id or 0]
    escalations = [c for c in contacts if c.kind == ContactKind.ESCALATION]
    escalation_reasons = sorted({c.outcome or "" for c in escalations})
    escalated_materials = {
        c.material_slug for c in escalations if c.outcome in MATERIAL_ESCALATIONS
    }
    materials = [
        MaterialView(
            slug=m.slug,
            name=m.name,
            obtained_by=m.obtained_by,
            status=str(m.status),
            agency_slug=m.agency_slug,
            open_request=rows.open_request(case, m),
            escalated=m.slug in escalated_materials,
            chain=list(m.chain),
            awaiting_agency=m.agency_slug in rows.roles,
        )
        for m in rows.materials[case.id or 0]
    ]
    follow_ups = {(c.in_reply_to, c.kind) for c in contacts if c.in_reply_to is not None}
    appointments = [
        AppointmentView(
            contact_id=c.id or 0,
            agency_slug=c.agency_slug or "",
            scheduled_at=c.scheduled_at,
            confirmed=(c.id, ContactKind.APPOINTMENT_CONFIRMATION) in follow_ups,
            staff_reminded=(c.id, ContactKind.STAFF_REMINDER) in follow_ups,
        )
        for c in contacts
        if c.kind == ContactKind.APPOINTMENT and c.scheduled_at is not None
    ]
    return CaseView(
        case_number=case.number,
        playbook=case.playbook,
        playbook_version=case.playbook_version,
        status=str(case.status),
        completed_services=completed_services,
        appointments=appointments,
        notified=any(c.kind == ContactKind.NOTICE for c in contacts),
        urgent=case.urgent,
        deadline_date=case.deadline_date,
        escalation_reasons=escalation_reasons,
        wait_generation=case.wait_generation,
        materials=materials,
    )


def letter_context(*, session: Session, case_number: str) -> dict[str, Any]:
    """Data templates may use for this case (the letter itself decides what it prints)."""
    case = get_case(session, case_number)
    applicant = applicant_of(session, case)
    kept = documents_per_material(session, case)
    return {
        "case": {
            "number": case.number,
            "opened_on": office_date(case.opened_at),
            "promised_by": case.promised_by,
            "deadline_date": case.deadline_date,
            "urgent": case.urgent,
            "fields": dict(case.fields),
            "status": str(case.status),
            "playbook": case.playbook,
            "title": case.title,  # a general case's own title (case_context: else its type's)
        },
        "applicant": {"name": applicant.name, "has_email": bool(applicant.email)},
        "lang": case.letter_lang,
        "materials": [
            {
                "slug": m.slug,
                "name": m.name,
                "status": str(m.status),
                "agency": m.agency_slug,
                "documents": kept.get(m.slug, 0),
            }
            for m in materials_of(session, case)
        ],
    }


def documents_per_material(session: Session, case: Case) -> dict[str, int]:
    """How many documents (scans, photos, PDFs) the office keeps of each material."""
    rows = session.exec(
        select(Document.material_slug, func.count())
        .where(Document.case_id == case.id)
        .group_by(col(Document.material_slug))
    )
    return {slug: count for slug, count in rows}


def applicant_email(*, session: Session, case_number: str) -> str | None:
    return applicant_of(session, get_case(session, case_number)).email


def appointment_details(
    *, session: Session, case_number: str, appointment_id: int
) -> dict[str, Any]:
    case = get_case(session, case_number)
    contact = session.get(Contact, appointment_id)
    if contact is None or contact.case_id != case.id or contact.kind != ContactKind.APPOINTMENT:
        raise UserError("unknown_request", case=case_number, request=appointment_id)
    assert contact.scheduled_at is not None
    details = dict(contact.details or {})
    return {
        "id": contact.id,
        "agency": contact.agency_slug,
        "material": contact.material_slug,
        "scheduled_at": contact.scheduled_at,
        "escort": details.get("escort"),
        "pickup": bool(details.get("pickup")),
    }


def unfiled_letters(
    *, session: Session, case_number: str, kinds: tuple[ContactKind, ...]
) -> list[Contact]:
    """Outgoing letters of these kinds recorded without their printable copy."""
    case = get_case(session, case_number)
    return list(
        session.exec(
            select(Contact)
            .where(
                Contact.case_id == case.id,
                col(Contact.kind).in_(kinds),
                col(Contact.dedupe_key).is_not(None),
                col(Contact.document_path).is_(None),
            )
            .order_by(col(Contact.id))
        )
    )


def flow_run_of(*, session: Session, case_number: str) -> str | None:
    return get_case(session, case_number).flow_run_id
