"""The agencies the office contacts: listed, and added on the way (an employer found via 114)."""

from __future__ import annotations

from pydantic import BaseModel

from casework import validation
from models import intake, lookups
from models.db import session_scope


class AgencyRow(BaseModel):
    slug: str
    name: str
    email: str | None
    phone: str | None
    address: str | None


def add_agency(
    *,
    slug: str,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    address: str | None = None,
) -> AgencyRow:
    """Add an agency no playbook knows; without an email it is written to by post."""
    row = AgencyRow(
        slug=validation.slug(slug, field="单位代码"),
        name=validation.free_text(name, field="单位名称", max_length=100) or "",
        email=validation.email(email) if email else None,
        phone=validation.phone(phone) if phone else None,
        address=validation.free_text(address, field="地址", max_length=200, required=False),
    )
    with session_scope() as session:
        intake.add_agency(session=session, **row.model_dump())
    return row


def list_agencies() -> list[AgencyRow]:
    with session_scope() as session:
        return [
            AgencyRow.model_validate(a, from_attributes=True)
            for a in lookups.list_agencies(session)
        ]
