"""Emails that come back: each finds its case by the reply address or the subject's case tag."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from casework.actors import SYSTEM
from casework.errors import UserError
from casework.messages import message
from casework.senders import sender_is_agencys
from casework.settings import get_settings
from casework.templating import one_line
from models import documents
from models.keys import inbound_key
from models.tables import (
    Agency,
    Case,
    Channel,
    Contact,
    ContactKind,
    Direction,
    EventKind,
    OutboxMessage,
)
from models.transitions import record_event

_TOKEN = re.compile(r"\+(HC-\d{4}-\d{4})\.c(\d+)@", re.IGNORECASE)
_TAG = re.compile(r"\[(HC-\d{4}-\d{4})\]", re.IGNORECASE)


def reply_address(office_address: str, case_number: str, contact_id: int) -> str:
    """xxt-window+HC-2026-0001.c12@street-office.example: the case and the contact answered."""
    local, _, domain = office_address.partition("@")
    return f"{local.split('+')[0]}+{case_number}.c{contact_id}@{domain}"


def is_for_office(recipient: str, office_address: str) -> bool:
    """Mail to the office's address, with or without a +token."""
    local, _, domain = recipient.strip("<> ").lower().partition("@")
    office_local, _, office_domain = office_address.lower().partition("@")
    return domain == office_domain and local.split("+")[0] == office_local.split("+")[0]


def file_inbound_email(
    *,
    session: Session,
    recipients: list[str],
    subject: str,
    as_of: datetime,
    message_key: str | None = None,
    attachments: list[tuple[str, bytes]] | None = None,
    sender: str = "",
    authentication_results: list[str] | None = None,
) -> str | None:
    """Put an email on its case as an inbound contact to classify; None if it matches no case.

    `message_key` (from the Message-ID) files a message once however often it is fetched: a
    mailbox poller that died before marking a message read fetches it again. Its attachments
    (scans, photos, PDFs) are kept with the material its request was about, when the reply
    address says which; one of another kind or too large is left in the mailbox, and said so.

    A reply address names the request, but anyone can write to it: the message is the
    agency's (and its attachments kept) only when `sender` is one of the agency's addresses
    (casework.senders); otherwise it is filed as from an unverified sender, for the clerk.
    """
    key = inbound_key(message_key) if message_key else None
    if key is not None:
        filed = session.exec(select(Contact).where(Contact.dedupe_key == key)).first()
        if filed is not None:
            case = session.get(Case, filed.case_id)
            return case.number if case else None
    number: str | None = None
    answered: Contact | None = None
    for recipient in recipients:
        found = _TOKEN.search(recipient)
        if found:
            number, contact_id = found.group(1).upper(), int(found.group(2))
            answered = session.get(Contact, contact_id)
            break
    if number is None:
        tag = _TAG.search(subject or "")
        number = tag.group(1).upper() if tag else None
    if number is None:
        return None
    case = session.exec(select(Case).where(Case.number == number)).first()
    if case is None or case.id is None:
        return None
    if answered is not None and answered.case_id != case.id:
        answered = None
    verified = answered is not None and sender_is_agencys(
        sender=sender,
        agency_addresses=_addresses_of(session, answered),
        authentication_results=authentication_results or [],
        authserv_id=get_settings().mail_authserv_id,
    )
    claimed = answered
    if not verified:
        answered = None
    session.add(
        Contact(
            case_id=case.id,
            kind=ContactKind.INBOUND_EMAIL,
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            agency_slug=answered.agency_slug if answered else None,
            material_slug=answered.material_slug if answered else None,
            in_reply_to=answered.id if answered else None,
            note=one_line(subject or "")[:200],
            occurred_at=as_of,
            dedupe_key=key,
            details={"sender": sender[:200], "sender_verified": verified},
        )
    )
    detail = "待分类：用 casework reply 记录答复"
    if claimed is not None and not verified:
        detail = (
            f"发件人 {sender or '（无）'} 不是所答复单位登记的邮箱，未确认为其答复：请电话核实后"
            "再用 casework reply 记录"
        )
    record_event(session, case, EventKind.EMAIL_RECEIVED, as_of, detail=detail, actor=SYSTEM)
    material = answered.material_slug if answered is not None else None
    for filename, content in attachments or []:
        if claimed is not None and not verified:
            _left_in_mailbox(
                session, case, as_of, "发件人未经确认，邮件附件未留存：核实后从邮箱中取出"
            )
            break
        if material is None:
            _left_in_mailbox(session, case, as_of, "邮件附件未能对应到材料，请从邮箱中取出留存")
            break
        try:
            documents.attach(
                session=session,
                case_number=case.number,
                material_slug=material,
                filename=filename,
                content=content,
                received_via="email",
                as_of=as_of,
                actor=SYSTEM,
            )
        except UserError as exc:
            why = message(exc.code, "zh", **exc.params)
            _left_in_mailbox(session, case, as_of, f"邮件附件未留存（{why}），请从邮箱中查看")
    return case.number


def _addresses_of(session: Session, contact: Contact) -> list[str]:
    """The addresses the agency answering `contact` is known by: the directory's, and the
    one the request was sent to."""
    agency = session.exec(select(Agency).where(Agency.slug == contact.agency_slug)).first()
    known = [agency.email] if agency is not None and agency.email else []
    sent_to = session.exec(
        select(OutboxMessage.to_address).where(OutboxMessage.contact_id == contact.id)
    ).all()
    return [*known, *sent_to]


def _left_in_mailbox(session: Session, case: Case, as_of: datetime, why: str) -> None:
    record_event(session, case, EventKind.NOTE_ADDED, as_of, detail=why, actor=SYSTEM)


class InboundEmailRow(BaseModel):
    case_number: str
    received_at: datetime
    agency: str | None
    in_reply_to: int | None
    subject: str | None
    sender: str
    sender_verified: bool


def inbound_emails(*, session: Session) -> list[InboundEmailRow]:
    """Agencies' emails filed on cases, newest first (to classify with `casework reply`)."""
    found = session.exec(
        select(Contact, Case.number)
        .join(Case, col(Case.id) == col(Contact.case_id))
        .where(Contact.kind == ContactKind.INBOUND_EMAIL)
        .order_by(col(Contact.id).desc())
    ).all()
    return [
        InboundEmailRow(
            case_number=number,
            received_at=contact.occurred_at,
            agency=contact.agency_slug,
            in_reply_to=contact.in_reply_to,
            subject=contact.note,
            sender=str((contact.details or {}).get("sender") or ""),
            sender_verified=bool((contact.details or {}).get("sender_verified")),
        )
        for contact, number in found
    ]
