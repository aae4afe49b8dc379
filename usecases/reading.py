"""What staff read, scoped to what the person may see: a case in full, the list of cases, a
search for a person's cases, the letters on file, agencies' emails."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from sqlmodel import col, select

from casework import validation
from casework.clock import office_date
from casework.errors import UserError
from casework.safe_files import read_inside
from casework.search import classify
from casework.settings import get_settings
from casework.workdays import working_days_between
from gateways.maildir import read_mailbox
from models import applicants, case_types, inbound, lookups, views
from models.accounts import Actor, list_accounts, visible_case, visible_cases
from models.db import read_scope, session_scope
from models.directory import agencies_for_case
from models.tables import Case, EventKind
from models.transitions import record_event
from models.views import CaseDetail, CaseSummary, ClockRow, RatingRow

__all__ = ["CaseDetail", "CaseSummary", "ClockRow", "RatingRow"]

Scope = Literal["mine", "office"]
# The order of a list: escalated, then overdue, then open before ended, newest first within.
_ENDED = ("closed", "withdrawn")


class Waiting(BaseModel):
    """One agency a case waits on, as the clerk's list shows it."""

    agency_name: str
    material_name: str
    since: date
    working_days: int


class CaseList(BaseModel):
    """A list of cases as the clerk asked for it, and what its filters may offer."""

    rows: list[CaseSummary]
    waiting: dict[str, list[Waiting]]
    types: list[tuple[str, str]]  # (case type, its title) among the cases in scope
    statuses: list[str]
    clerks: list[tuple[str, str]]  # (username, display name) of the first-contact clerks


def _in_order(rows: list[CaseSummary]) -> list[CaseSummary]:
    return sorted(rows, key=lambda r: (r.status != "escalated", not r.overdue, r.status in _ENDED))


def list_cases(
    *,
    actor: Actor,
    as_of: datetime,
    scope: Scope = "office",
    overdue_only: bool = False,
    case_type: str = "",
    status: str = "",
    clerk: str = "",
) -> CaseList:
    """The cases this person may see: their own (as first-contact clerk) or their office's
    (district: the district's), filtered, the escalated and overdue first."""
    today = office_date(as_of)
    with read_scope() as session:
        where = visible_cases(session, actor)
        if scope == "mine" and not actor.console:
            where = where & (col(Case.taken_by) == actor.username)
        every = views.case_summaries(
            session=session, today=today, where=where, overdue_only=overdue_only
        )
    rows = [
        r
        for r in every
        if (not case_type or r.playbook == case_type)
        and (not status or r.status == status)
        and (not clerk or r.taken_by == clerk)
    ]
    return CaseList(
        rows=_in_order(rows),
        waiting=waiting_on(rows=rows, as_of=as_of),
        types=sorted({(r.playbook, r.playbook_title) for r in every}),
        statuses=sorted({r.status for r in every}),
        clerks=sorted({(r.taken_by, r.taken_by_name or r.taken_by) for r in every if r.taken_by}),
    )


def waiting_on(*, rows: list[CaseSummary], as_of: datetime) -> dict[str, list[Waiting]]:
    """For each open case of `rows` (already scoped): whose answer it awaits, since when."""
    today = office_date(as_of)
    found: dict[str, list[Waiting]] = {}
    with read_scope() as session:
        for row in rows:
            if row.status in _ENDED:
                continue
            view = lookups.case_view(session=session, case_number=row.case_number)
            found[row.case_number] = [
                Waiting(
                    agency_name=lookups.agency_name(session, m.open_request.agency_slug),
                    material_name=m.name,
                    since=office_date(m.open_request.sent_at),
                    working_days=working_days_between(office_date(m.open_request.sent_at), today),
                )
                for m in view.materials
                if m.open_request is not None
            ]
    return found


def search(*, actor: Actor, text: str, as_of: datetime) -> list[CaseSummary]:
    """A person's cases by resident ID, phone or full name (by keyed hash, never a scan);
    each case found records who looked the person up, and by what."""
    query = classify(text, today=office_date(as_of))
    with session_scope() as session:
        where = visible_cases(session, actor)
        found = applicants.cases_found(session=session, query=query, where=where)
        for case in found:
            record_event(
                session,
                case,
                EventKind.PERSON_LOOKED_UP,
                as_of,
                detail=query.kind,
                actor=actor.username,
            )
        numbers = [c.number for c in found]
    if not numbers:
        return []
    with read_scope() as session:
        condition = col(Case.number).in_(numbers)
        return _in_order(
            views.case_summaries(session=session, today=office_date(as_of), where=condition)
        )


def find_cases(*, actor: Actor, id_number: str, as_of: datetime) -> list[str]:
    """The case numbers of the person with this resident ID (looked up by its keyed hash)."""
    number = validation.resident_id(id_number, today=office_date(as_of))
    return [row.case_number for row in reversed(search(actor=actor, text=number, as_of=as_of))]


def show_case(*, actor: Actor, case_number: str, as_of: datetime) -> CaseDetail:
    """The case with personal data masked."""
    with read_scope() as session:
        visible_case(session, actor, case_number)
        return views.case_detail(session=session, case_number=case_number, as_of=as_of)


def reveal(
    *, actor: Actor, case_number: str, reason: str, as_of: datetime
) -> dict[str, str | None]:
    """The applicant's details in clear, for a reason written into the audit trail."""
    text = validation.free_text(reason, field="查看理由", max_length=200)
    assert text is not None
    with session_scope() as session:
        visible_case(session, actor, case_number)
        return views.reveal_applicant(
            session=session, case_number=case_number, reason=text, as_of=as_of, actor=actor.username
        )


def awaited_agencies(*, actor: Actor, case_number: str) -> list[tuple[str, str, str]]:
    """(agency, agency name, material) for every request the case waits on."""
    with read_scope() as session:
        visible_case(session, actor, case_number)
        view = lookups.case_view(session=session, case_number=case_number)
        return [
            (m.agency_slug, lookups.agency_name(session, m.agency_slug), m.slug)
            for m in view.materials
            if m.open_request is not None and m.agency_slug
        ]


def letter(
    *, actor: Actor, case_number: str, contact_id: int, as_of: datetime
) -> tuple[str, bytes]:
    """The filed letter of one contact of the case, to view and print: its file name and
    bytes, read only from where the case database says it was filed, inside the letters
    folder, and never through a link. A letter names the citizen in full: audited."""
    with session_scope() as session:
        case = visible_case(session, actor, case_number)
        found = views.document_of(session=session, case_number=case_number, contact_id=contact_id)
        if found is None:
            raise UserError("no_letter", case=case_number)
        try:
            content = read_inside(get_settings().letters_dir, Path(found))
        except UserError as exc:
            if exc.code == "file_missing":
                raise UserError("no_letter", case=case_number) from None
            raise
        record_event(
            session,
            case,
            EventKind.PERSONAL_DATA_SHOWN,
            as_of,
            detail="查看信函",
            actor=actor.username,
        )
    return Path(found).name, content


def notice_pdf(*, actor: Actor, case_number: str, as_of: datetime) -> bytes:
    """The one-time notification as PDF, printed at the window while the citizen is there
    (the case's run files the same letter in the case folder a few seconds later)."""
    from casework.printing import render_pdf
    from tasks.render import playbook_of, render_for_case, status_page_extras

    with session_scope() as session:
        case = visible_case(session, actor, case_number)
        record_event(
            session,
            case,
            EventKind.PERSONAL_DATA_SHOWN,
            as_of,
            detail="打印一次性告知书",
            actor=actor.username,
        )
    template = playbook_of(case_number).templates.notice
    message = render_for_case(template, case_number, as_of, **status_page_extras(case_number))
    return render_pdf(message.printable)


def inbound_emails() -> list[inbound.InboundEmailRow]:
    with read_scope() as session:
        return inbound.inbound_emails(session=session)


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


def check_visible(*, actor: Actor, case_number: str) -> None:
    """UserError("unknown_case") unless the case exists and the person may see it."""
    with read_scope() as session:
        visible_case(session, actor, case_number)


class CasePage(BaseModel):
    """Everything the case page shows and offers, read once."""

    case: CaseDetail
    awaited: list[tuple[str, str, str]]  # (agency, its name, material) of each open request
    agencies: list[tuple[str, str]]  # to forward to or book with: this case's first, then all
    bringable: list[tuple[str, str]]  # (material, name) the citizen may bring or send now
    arriving: list[tuple[str, str]]  # (material, name) in the post from an agency
    status_url: str
    letters_to_post: list[tuple[int, str]]  # (letter, to whom) printed and not yet posted
    # The route changed on the way: materials still to get (for adding an agency, waiving,
    # attaching), the roles waiting for an agency to be named, the colleagues it may be
    # handed to, and the newer version of its case type it may be moved to.
    open_materials: list[tuple[str, str]] = []
    office_materials: list[tuple[str, str]] = []
    roles: list[tuple[str, str]] = []
    colleagues: list[tuple[str, str]] = []
    newest_version: int | None = None


def case_page(*, actor: Actor, case_number: str, as_of: datetime) -> CasePage:
    """The case page's content for this person (who must be allowed to see the case)."""
    from casework.links import status_token
    from models.offices import office_card
    from models.postal import letters_to_post

    with read_scope() as session:
        case = visible_case(session, actor, case_number)
        detail = views.case_detail(session=session, case_number=case_number, as_of=as_of)
        view = lookups.case_view(session=session, case_number=case_number)
        awaited = [
            (m.agency_slug, lookups.agency_name(session, m.agency_slug), m.slug)
            for m in view.materials
            if m.open_request is not None and m.agency_slug
        ]
        directory = [(a.slug, a.name) for a in agencies_for_case(session, case)]
        own = {m.agency for m in detail.materials if m.agency} | {
            slug for m in detail.materials for slug in m.tried
        }
        base = office_card(session, case).public_url
        posting = [
            (x.letter_id, x.agency_name or lookups.agency_name(session, x.agency))
            for x in letters_to_post(session=session, case_number=case_number)
        ]
        office = case.office_code or get_settings().office_code
        colleagues = [
            (a.username, a.display_name)
            for a in list_accounts(session=session, office_code=office)
            if not a.disabled and a.username != case.handled_by and a.role != "district"
        ]
        newest = case_types.newest_version(session, case.playbook)
    still_open = [m for m in detail.materials if m.status not in ("collected", "waived")]
    return CasePage(
        open_materials=[(m.slug, m.name) for m in still_open],
        office_materials=[(m.slug, m.name) for m in still_open if m.obtained_by == "office"],
        roles=sorted(
            {(m.agency or "", m.awaiting_agency) for m in still_open if m.awaiting_agency}
        ),
        colleagues=colleagues,
        newest_version=newest if newest > detail.playbook_version else None,
        case=detail,
        awaited=awaited,
        agencies=[a for a in directory if a[0] in own] + [a for a in directory if a[0] not in own],
        bringable=[(m.slug, m.name) for m in detail.materials if m.status == "waiting_applicant"],
        arriving=[(m.slug, m.name) for m in detail.materials if m.status == "in-post"],
        status_url=f"{base}/s/{case_number}/{status_token(case_number)}",
        letters_to_post=posting,
    )


class LetterToPrint(BaseModel):
    """A letter in the print queue: printed and posted by hand, then recorded here."""

    case_number: str
    letter_id: int
    kind: str
    recipient: str | None  # the agency's name; None: the applicant
    written_on: date
    printed: bool
    has_document: bool


def print_queue(*, actor: Actor, as_of: datetime) -> list[LetterToPrint]:
    """The letters by post still in the office, of the cases this person may see, oldest
    first: to print, post, and record with their tracking numbers."""
    from models.postal import letters_to_post

    with read_scope() as session:
        visible = set(session.exec(select(Case.number).where(visible_cases(session, actor))))
        rows = []
        for letter in letters_to_post(session=session):
            if letter.case_number not in visible:
                continue
            rows.append(
                LetterToPrint(
                    case_number=letter.case_number,
                    letter_id=letter.letter_id,
                    kind=letter.kind,
                    recipient=lookups.agency_name(session, letter.agency)
                    if letter.agency
                    else None,
                    written_on=office_date(letter.written_at),
                    printed=letter.printed_at is not None,
                    has_document=letter.document is not None,
                )
            )
    return rows
