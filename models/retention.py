"""Retention: personal data of long-closed cases is anonymised; the case's figures remain."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from casework.actors import SYSTEM
from casework.masking import mask_name
from models import documents
from models.case_types import playbook_of_case
from models.lookups import get_case
from models.tables import Applicant, Case, Contact, ContactKind, EventKind, OutboxMessage
from models.transitions import record_event

PURGED = "[已按保存期限删除]"
_FREE_TEXT_KINDS = (ContactKind.REPLY, ContactKind.VISIT, ContactKind.RECEIPT, ContactKind.CLOSING)


def due_for_purge(*, session: Session, as_of: datetime, retention_days: int) -> list[str]:
    """Closed cases past the retention period whose personal data is still there."""
    cutoff = as_of - timedelta(days=retention_days)
    query = (
        select(Case.number)
        .where(col(Case.closed_at).is_not(None), col(Case.closed_at) <= cutoff)
        .where(col(Case.purged_at).is_(None))
        .order_by(col(Case.id))
    )
    return list(session.exec(query))


def purge_case(*, session: Session, case_number: str, letters_dir: Path, as_of: datetime) -> None:
    """Anonymise one case: applicant, personal fields, free-text notes, emails, letters."""
    case = get_case(session, case_number)
    applicant = session.get(Applicant, case.applicant_id)
    assert applicant is not None and case.id is not None
    # Another case of the same person keeps its own applicant row: rows are per case.
    applicant_email = applicant.email
    applicant.name = mask_name(applicant.name)
    applicant.id_number = ""
    applicant.id_number_hash = ""
    applicant.phone_hash = ""
    applicant.name_hash = ""
    applicant.phone = ""
    applicant.email = None
    applicant.address = None
    session.add(applicant)
    personal = {f.key for f in playbook_of_case(session, case).fields if f.personal}
    case.fields = {k: (PURGED if k in personal else v) for k, v in case.fields.items()}
    case.purged_at = as_of
    session.add(case)
    for contact in session.exec(select(Contact).where(Contact.case_id == case.id)):
        if contact.kind in _FREE_TEXT_KINDS and contact.note:
            contact.note = PURGED
        contact.document_path = None
        session.add(contact)
    for email in session.exec(select(OutboxMessage).where(OutboxMessage.case_id == case.id)):
        email.body_text = PURGED
        email.body_html = None
        if applicant_email and email.to_address == applicant_email:
            email.to_address = PURGED
        session.add(email)
    documents.purge(session, case)
    shutil.rmtree(letters_dir / case_number, ignore_errors=True)
    record_event(
        session, case, EventKind.PERSONAL_DATA_PURGED, as_of, detail="保存期限已满", actor=SYSTEM
    )
