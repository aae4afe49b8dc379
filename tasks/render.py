"""Rendering letters and notices for a case, and filing the printable copy in its folder."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from casework.clock import office_date, office_time
from casework.links import qr_data_uri, rating_code, reply_code, status_token
from casework.messages import label
from casework.planning import EscalationReason
from casework.playbook import Material, Playbook
from casework.printing import PrintingUnavailable, render_pdf
from casework.safe_files import is_file_inside, make_folder_inside, write_inside
from casework.samples import office_context
from casework.settings import get_settings
from casework.templating import RenderedMessage, render_message
from models import case_types, keys, lookups
from models.db import session_scope
from models.keys import document_name
from models.lookups import letter_context
from models.office_rules import case_clock
from models.offices import office_card
from models.outgoing import attach_document
from models.tables import Contact, ContactKind


def case_context(case_number: str, as_of: datetime, **extra: Any) -> dict[str, Any]:
    """Everything a case template may use: the case (its promised date as the 限时办结 clock
    has it on `as_of`), its playbook, its office and handling clerk, today."""
    with session_scope() as session:
        context = letter_context(session=session, case_number=case_number)
        case = lookups.get_case(session, case_number)
        card = office_card(session, case)
        context["case"]["promised_by"] = case_clock(session, case, as_of).due_on
        playbook = case_types.playbook_of_case(session, case)
        route = case_types.route_of(session, case)
        context["case"]["title"] = case.title or playbook.title
        names = {a.slug: a.name for a in lookups.list_agencies(session)}
    context.update(office_context(playbook, office_date(as_of)))
    # The case's own route: its materials and the agencies it asks, as they stand now.
    context["route"] = route
    context["agency_names"] = names
    context["office"] = card.model_dump()
    context.update(extra)
    return context


def _public_url(case_number: str) -> str:
    with session_scope() as session:
        return office_card(session, lookups.get_case(session, case_number)).public_url


def status_page_extras(case_number: str) -> dict[str, Any]:
    """The citizen's status page for a notice: its address at the case's office, and a QR
    code for the paper."""
    url = f"{_public_url(case_number)}/s/{case_number}/{status_token(case_number)}"
    return {"status_page": {"url": url}, "status_qr": qr_data_uri(url)}


def closing_extras(case_number: str) -> dict[str, Any]:
    """The closing letter's invitation to rate: the status page, and the code only she gets."""
    return {**status_page_extras(case_number), "rating_code": rating_code(case_number)}


def reply_link_extras(case_number: str, code: str) -> dict[str, Any]:
    """The agency's reply page for a request letter: the link and the code typed from paper."""
    page = f"{_public_url(case_number)}/r"
    return {"reply_link": {"code": code, "url": f"{page}/{code}", "page": page}}


def render_for_case(
    template_name: str, case_number: str, as_of: datetime, **extra: Any
) -> RenderedMessage:
    return render_message(template_name, case_context(case_number, as_of, **extra))


def file_document(case_number: str, name: str, message: RenderedMessage) -> str:
    """File the printable letter (PDF) in the case folder and return its path.

    The first copy filed is the one kept: a re-run on a later day must not change the date on a
    letter that has already gone out. Without Pango the letter is filed as text, with a warning.
    """
    root = get_settings().letters_dir
    folder = make_folder_inside(root, root / case_number)
    for existing in (folder / f"{name}.pdf", folder / f"{name}.txt"):
        if is_file_inside(root, existing):  # a link planted in its place is written over
            return str(existing)
    try:
        path, data = folder / f"{name}.pdf", render_pdf(message.printable)
    except PrintingUnavailable as exc:
        _warn_once(str(exc))
        path, data = folder / f"{name}.txt", message.text.encode("utf-8")
    return str(write_inside(root, path, data))


@lru_cache
def _warn_once(reason: str) -> None:
    logging.getLogger("casework.printing").warning("Letters filed as text: %s", reason)


def escalation_text(reason: EscalationReason) -> str:
    return label("outcome", reason)


class _Printer:
    """One background thread that files letters in the order they were recorded."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="printer")
        self._queued: list[Future[None]] = []

    def queue(self, job: Callable[[], None]) -> None:
        self._queued.append(self._thread.submit(job))

    def wait(self) -> int:
        queued, self._queued = self._queued, []
        for job in queued:
            job.result()
        return len(queued)

    def close(self) -> None:
        self._thread.shutdown(wait=True)


_printer: ContextVar[_Printer | None] = ContextVar("casework_printer", default=None)


@contextmanager
def letters_printed_behind() -> Iterator[None]:
    """Within, a recorded letter's printable copy is filed by a background thread while the case
    run goes on to its next step (a letter's PDF is ~0.1 s of CPU, much of it spent while the
    run waits on Prefect's server). `letters_filed()` waits for them; leaving waits too.

    A process killed before a letter is filed leaves it recorded but unfiled, as a kill between
    recording and filing always could: the case's next run files it (`file_missing_letters`).
    """
    printer = _Printer()
    token = _printer.set(printer)
    try:
        yield
        printer.wait()
    finally:
        _printer.reset(token)
        printer.close()


def letters_filed() -> int:
    """Wait until every letter queued to the printer is filed (raise if one failed); how many."""
    printer = _printer.get()
    return printer.wait() if printer is not None else 0


def file_letter(
    case_number: str,
    contact: Contact | None,
    message: RenderedMessage,
    as_of: datetime,
    template_name: str,
    **extra: Any,
) -> None:
    """File the printable copy of a recorded outgoing letter, once, dated as it was recorded.

    `message` is the letter as rendered from `template_name` and `extra` at `as_of`. A re-run
    after a crash between recording and filing renders it again as of the day it was recorded,
    so the paper copy shows the date the email went out with. Inside `letters_printed_behind`
    the PDF is made and filed on the printer's thread.
    """
    if contact is None or contact.document_path is not None or contact.dedupe_key is None:
        return
    assert contact.id is not None
    if contact.occurred_at != as_of:
        message = render_for_case(template_name, case_number, contact.occurred_at, **extra)
    contact_id, name = contact.id, document_name(contact.dedupe_key)

    def file_it() -> None:
        path = file_document(case_number, name, message)
        with session_scope() as session:
            attach_document(session=session, contact_id=contact_id, path=path)

    printer = _printer.get()
    if printer is None:
        file_it()
    else:
        printer.queue(file_it)


def playbook_of(case_number: str) -> Playbook:
    """The rules the case follows: its type at its version."""
    with session_scope() as session:
        return case_types.playbook_of_case(session, lookups.get_case(session, case_number))


def material_spec(case_number: str, slug: str | None) -> Material | None:
    """One material of the case as its letters describe it (the case's own route)."""
    if not slug:
        return None
    with session_scope() as session:
        case = lookups.get_case(session, case_number)
        row = lookups.material_of(session, case, slug)
        return case_types.material_spec(case_types.playbook_of_case(session, case), row)


def appointment_context(case_number: str, appointment_id: int) -> dict[str, object]:
    with session_scope() as session:
        details = lookups.appointment_details(
            session=session, case_number=case_number, appointment_id=appointment_id
        )
        agency = lookups.get_agency(session, str(details["agency"]))
    material = material_spec(case_number, str(details["material"]) if details["material"] else None)
    return {
        "agency": agency,
        "material": material,
        "appointment": {
            "at": office_time(details["scheduled_at"]),
            "escort": details["escort"],
            "pickup": details["pickup"],
        },
    }


# Letters filed for printing (the staff reminder and the escalation memo are emails only).
FILED_KINDS = (
    ContactKind.NOTICE,
    ContactKind.AMENDED_NOTICE,
    ContactKind.EXTENSION_NOTICE,
    ContactKind.REQUEST,
    ContactKind.REMINDER,
    ContactKind.CLOSING,
    ContactKind.APPOINTMENT_CONFIRMATION,
)


def _letter_inputs(case_number: str, contact: Contact) -> tuple[str, dict[str, Any]]:
    """The template and extra context a recorded letter was rendered from."""
    playbook = playbook_of(case_number)
    templates = playbook.templates
    written = dict(contact.details or {})
    if "template" in written:  # an extension notice or an amended notice: kept with the contact
        template = str(written.pop("template"))
        for key in ("old_due_on", "new_due_on"):
            if key in written:
                written[key] = date.fromisoformat(str(written[key]))
        return template, written
    if contact.kind == ContactKind.NOTICE:
        return templates.notice, status_page_extras(case_number)
    if contact.kind == ContactKind.CLOSING:
        return templates.closing, closing_extras(case_number)
    if contact.kind == ContactKind.APPOINTMENT_CONFIRMATION:
        assert contact.in_reply_to is not None
        return templates.appointment, appointment_context(case_number, contact.in_reply_to)
    with session_scope() as session:
        agency = lookups.get_agency(session, contact.agency_slug or "")
        request = session.get(Contact, contact.in_reply_to) if contact.in_reply_to else None
    extra: dict[str, Any] = {
        "agency": agency,
        "material": material_spec(case_number, contact.material_slug),
    }
    if contact.kind == ContactKind.REQUEST:
        assert contact.dedupe_key is not None
        return templates.request, {
            **extra,
            **reply_link_extras(case_number, reply_code(contact.dedupe_key)),
        }
    assert contact.dedupe_key is not None and request is not None
    extra["reminder_number"] = keys.reminder_number(contact.dedupe_key)
    extra["requested_on"] = office_date(request.left_office_at)
    return templates.reminder, extra


def file_missing_letters(case_number: str) -> int:
    """File the printable copy of any letter recorded but not filed (a crash in between)."""
    with session_scope() as session:
        missing = lookups.unfiled_letters(
            session=session, case_number=case_number, kinds=FILED_KINDS
        )
    for contact in missing:
        template, extra = _letter_inputs(case_number, contact)
        message = render_for_case(template, case_number, contact.occurred_at, **extra)
        file_letter(case_number, contact, message, contact.occurred_at, template, **extra)
    return len(missing)
