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
    name: str,
    email: str | None = None,
    phone: str | None = None,
    address: str | None = None,
) -> AgencyRow:
    """Add an agency no playbook knows (its code is generated); without an email it is
    written to by post."""
    checked_name = validation.free_text(name, field="单位名称", max_length=100) or ""
    checked_email = validation.email(email) if email else None
    checked_phone = validation.phone(phone) if phone else None
    checked_address = validation.free_text(address, field="地址", max_length=200, required=False)
    with session_scope() as session:
        agency = intake.add_agency(
            session=session,
            name=checked_name,
            email=checked_email,
            phone=checked_phone,
            address=checked_address,
        )
        return AgencyRow.model_validate(agency, from_attributes=True)


def list_agencies() -> list[AgencyRow]:
    with session_scope() as session:
        return [
            AgencyRow.model_validate(a, from_attributes=True)
            for a in lookups.list_agencies(session)
        ]
