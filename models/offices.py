"""Street offices as data: their names, addresses, phones and public address; and the office and
clerk every letter, email and page of a case is signed with."""

from __future__ import annotations

from pydantic import BaseModel
from sqlmodel import Session, col, select

from casework.errors import UserError
from casework.settings import get_settings
from models.tables import Account, Case, Office

# What letters say when no account took the case (a case opened at the command line).
WINDOW_STAFF = "窗口工作人员"


class OfficeRow(BaseModel):
    """One office as `casework office list` and the workbench show it."""

    code: str
    name: str
    district: str
    address: str
    phone: str
    supervision_phone: str
    public_url: str | None
    accounts: int = 0


def _row(office: Office, accounts: int = 0) -> OfficeRow:
    return OfficeRow(
        code=office.code,
        name=office.name,
        district=office.district,
        address=office.address,
        phone=office.phone,
        supervision_phone=office.supervision_phone,
        public_url=office.public_url,
        accounts=accounts,
    )


def add_office(
    *,
    session: Session,
    code: str,
    name: str,
    district: str,
    address: str,
    phone: str,
    supervision_phone: str,
    public_url: str | None,
) -> OfficeRow:
    if session.get(Office, code) is not None:
        raise UserError("office_exists", office=code)
    office = Office(
        code=code,
        name=name,
        district=district,
        address=address,
        phone=phone,
        supervision_phone=supervision_phone,
        public_url=public_url,
    )
    session.add(office)
    return _row(office)


def edit_office(*, session: Session, code: str, changes: dict[str, str | None]) -> OfficeRow:
    """Change the given fields of an office (a None public address: the install's default)."""
    office = session.get(Office, code, with_for_update=True)
    if office is None:
        raise UserError("office_unknown", office=code)
    for field, value in changes.items():
        setattr(office, field, value)
    session.add(office)
    return _row(office)


def list_offices(*, session: Session) -> list[OfficeRow]:
    counts: dict[str, int] = {}
    for account in session.exec(select(Account).where(col(Account.disabled).is_(False))):
        counts[account.office_code] = counts.get(account.office_code, 0) + 1
    return [
        _row(office, counts.get(office.code, 0))
        for office in session.exec(select(Office).order_by(col(Office.code)))
    ]


def office_of(session: Session, code: str | None) -> Office | None:
    """The office with this code; a case with none belongs to the install's office."""
    return session.get(Office, code or get_settings().office_code)


class OfficeCard(BaseModel):
    """Who signs a case's letters, emails and pages: its office (name, address, the window's
    phone, the supervision phone) and the clerk handling it, by display name."""

    code: str
    name: str
    district: str
    address: str
    phone: str
    supervision_phone: str
    public_url: str
    clerk: str  # the clerk handling the case now, by display name, or "窗口工作人员"
    first_contact: str  # 首问责任人: the clerk who took the case in


def public_url_of(office: Office | None) -> str:
    """Where citizens and agencies open this office's workbench pages."""
    if office is not None and office.public_url:
        return office.public_url.rstrip("/")
    return get_settings().web_url


def _display_name(session: Session, username: str | None) -> str | None:
    if not username:
        return None
    account = session.exec(select(Account).where(Account.username == username)).first()
    return account.display_name if account else None


def office_card(session: Session, case: Case) -> OfficeCard:
    """The case's office and clerk; an install with no office added yet signs with the
    settings (the demo's office)."""
    office = office_of(session, case.office_code)
    taker = _display_name(session, case.taken_by) or WINDOW_STAFF
    handler = _display_name(session, case.handled_by) or taker
    if office is None:
        settings = get_settings()
        return OfficeCard(
            code=settings.office_code,
            name=settings.office_name,
            district="",
            address=settings.office_address,
            phone=settings.office_phone,
            supervision_phone=settings.office_phone,
            public_url=public_url_of(None),
            clerk=handler,
            first_contact=taker,
        )
    return OfficeCard(
        code=office.code,
        name=office.name,
        district=office.district,
        address=office.address,
        phone=office.phone,
        supervision_phone=office.supervision_phone or office.phone,
        public_url=public_url_of(office),
        clerk=handler,
        first_contact=taker,
    )
