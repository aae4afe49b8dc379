"""Documents kept with a case's materials: attached by staff (at the window, from the post, on
a home visit) or by an agency (its emailed attachment, its reply page), listed on the case
page and the closing letter, opened by staff who may see the case."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from casework import validation
from casework.errors import UserError
from models import documents
from models.accounts import Actor, visible_case
from models.db import read_scope, session_scope
from models.documents import DocumentListed

# How a document reached the office.
VIA = ("window", "post", "email", "home-visit", "web")


class Attached(BaseModel):
    case_number: str
    material: str
    document_id: int
    kind: str
    size: str


def attach(
    *,
    actor: Actor,
    case_number: str,
    material: str,
    filename: str,
    content: bytes,
    as_of: datetime,
    received_via: str = "window",
) -> Attached:
    """Keep a scan, photo or PDF with one of the case's materials (its kind and size checked:
    a file refused keeps nothing)."""
    if received_via not in VIA:
        raise UserError(
            "bad_choice", field="收到方式", value=received_via[:20], choices="/".join(VIA)
        )
    slug = validation.code_or_name(material, field="材料")
    with session_scope() as session:
        visible_case(session, actor, case_number, lock=True)
        document = documents.attach(
            session=session,
            case_number=case_number,
            material_slug=slug,
            filename=filename,
            content=content,
            received_via=received_via,
            as_of=as_of,
            actor=actor.username,
        )
        listed = next(
            d
            for d in documents.documents_of(session, visible_case(session, actor, case_number))
            if d.id == document.id
        )
    return Attached(
        case_number=case_number,
        material=slug,
        document_id=listed.id,
        kind=listed.kind,
        size=listed.size,
    )


def list_documents(*, actor: Actor, case_number: str) -> list[DocumentListed]:
    with read_scope() as session:
        return documents.documents_of(session, visible_case(session, actor, case_number))


class OpenedDocument(BaseModel):
    filename: str
    media_type: str
    content: bytes


def open_document(*, actor: Actor, case_number: str, document_id: int) -> OpenedDocument:
    """A kept document's content, for staff who may see its case."""
    with read_scope() as session:
        case = visible_case(session, actor, case_number)
        document, content = documents.content_of(session, case, document_id)
        return OpenedDocument(
            filename=document.filename, media_type=document.media_type, content=content
        )
