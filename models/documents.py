"""Documents kept with a case's materials: a scan, photo or PDF attached when the material
arrives (at the window, by post, in an agency's email, on its reply page). Encrypted like the
rest of the applicant's data, never sent to Prefect, deleted when the case is purged."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, col, delete, select

from casework.crypto import decrypt_bytes, encrypt_bytes, rotate_bytes
from casework.documents import KIND_WORDS, media_type_of, size_words
from casework.errors import UserError
from casework.settings import get_settings
from models.lookups import get_case, material_of
from models.tables import Case, Document, EventKind
from models.transitions import record_event

MAX_FILENAME = 120


class DocumentListed(BaseModel):
    """A kept document as pages list it (its content stays in the database until opened)."""

    id: int
    material_slug: str
    filename: str
    media_type: str
    kind: str  # what staff read: PDF, 照片（JPEG）
    size: str  # 12 KB
    received_via: str
    created_at: datetime
    created_by: str


def attach(
    *,
    session: Session,
    case_number: str,
    material_slug: str,
    filename: str,
    content: bytes,
    received_via: str,
    as_of: datetime,
    actor: str,
) -> Document:
    """Keep a document with one of the case's materials, after checking its size and kind."""
    case = get_case(session, case_number, lock=True)
    if case.purged_at is not None:
        raise UserError("case_purged", case=case_number)
    material = material_of(session, case, material_slug)
    most = get_settings().document_max_mb
    if len(content) > most * 1024 * 1024:
        raise UserError("document_too_large", size=size_words(len(content)), most=f"{most} MB")
    if not content:
        raise UserError("document_empty")
    media_type = media_type_of(content)
    if media_type is None:
        raise UserError("document_kind", kinds="PDF、JPEG、PNG、TIFF")
    assert case.id is not None
    document = Document(
        case_id=case.id,
        material_slug=material.slug,
        filename=(filename.strip() or "document")[-MAX_FILENAME:],
        media_type=media_type,
        size=len(content),
        content=encrypt_bytes(content),
        received_via=received_via,
        created_at=as_of,
        created_by=actor,
    )
    session.add(document)
    session.flush()
    # The name a file was given may be a person's: the audit names its kind and size.
    record_event(
        session,
        case,
        EventKind.DOCUMENT_ATTACHED,
        as_of,
        detail=f"{material.name}：{KIND_WORDS[media_type]}，{size_words(len(content))}",
        actor=actor,
    )
    return document


def documents_of(session: Session, case: Case) -> list[DocumentListed]:
    rows = session.exec(
        select(Document).where(Document.case_id == case.id).order_by(col(Document.id))
    )
    return [
        DocumentListed(
            id=d.id or 0,
            material_slug=d.material_slug,
            filename=d.filename,
            media_type=d.media_type,
            kind=KIND_WORDS.get(d.media_type, d.media_type),
            size=size_words(d.size),
            received_via=d.received_via,
            created_at=d.created_at,
            created_by=d.created_by,
        )
        for d in rows
    ]


def content_of(session: Session, case: Case, document_id: int) -> tuple[Document, bytes]:
    """A document of this case and its content (decrypted); UserError for any other id."""
    document = session.get(Document, document_id)
    if document is None or document.case_id != case.id:
        raise UserError("unknown_document", case=case.number)
    return document, decrypt_bytes(document.content)


def purge(session: Session, case: Case) -> int:
    """Delete every document of the case (its retention has run out); how many there were."""
    count = len(session.exec(select(Document.id).where(Document.case_id == case.id)).all())
    session.exec(delete(Document).where(col(Document.case_id) == case.id))
    return count


def rotate_encryption(session: Session) -> int:
    """Re-encrypt every document (and its file name) under the newest data key."""
    ids = list(session.exec(select(Document.id).order_by(col(Document.id))))
    for document_id in ids:  # one at a time: a scan may be megabytes
        document = session.get(Document, document_id)
        assert document is not None
        document.content = rotate_bytes(document.content)
        document.filename = str(document.filename)
        flag_modified(document, "filename")
        session.add(document)
        session.flush()
        session.expunge(document)
    return len(ids)
