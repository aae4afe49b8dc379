"""Street offices and workbench accounts, and which cases an account may see."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, or_, select

from casework.errors import UserError
from casework.passwords import DUMMY_HASH, hash_password, password_matches
from casework.settings import get_settings
from models.tables import Account, Case, Office, Role


class AccountView(BaseModel):
    """Who is signed in: enough to scope and sign every action, no password hash."""

    username: str
    display_name: str
    role: Role
    office_code: str
    office_name: str
    office_phone: str
    district: str


def add_office(*, session: Session, code: str, name: str, district: str, phone: str) -> Office:
    if session.get(Office, code) is not None:
        raise UserError("office_exists", office=code)
    office = Office(code=code, name=name, district=district, phone=phone)
    session.add(office)
    return office


def add_account(
    *,
    session: Session,
    username: str,
    display_name: str,
    role: Role,
    office_code: str,
    password: str,
    as_of: datetime,
) -> AccountView:
    if session.get(Office, office_code) is None:
        raise UserError("office_unknown", office=office_code)
    if session.exec(select(Account).where(Account.username == username)).first() is not None:
        raise UserError("account_exists", username=username)
    account = Account(
        username=username,
        display_name=display_name,
        role=role,
        office_code=office_code,
        password_hash=hash_password(password),
        created_at=as_of,
    )
    session.add(account)
    session.flush()
    return _view(session, account)


def _view(session: Session, account: Account) -> AccountView:
    office = session.get(Office, account.office_code)
    assert office is not None
    return AccountView(
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        office_code=office.code,
        office_name=office.name,
        office_phone=office.phone,
        district=office.district,
    )


def authenticate(*, session: Session, username: str, password: str) -> AccountView | None:
    """The account if the password matches (same work whether or not the name exists)."""
    account = session.exec(select(Account).where(Account.username == username)).first()
    if account is None or account.disabled:
        password_matches(DUMMY_HASH, password)
        return None
    return _view(session, account) if password_matches(account.password_hash, password) else None


def account_view(*, session: Session, username: str) -> AccountView | None:
    account = session.exec(select(Account).where(Account.username == username)).first()
    return None if account is None or account.disabled else _view(session, account)


def visible_cases(
    session: Session, viewer: AccountView, default_office: str
) -> ColumnElement[bool]:
    """The condition on Case rows this account may see: its office's (cases opened at the
    CLI belong to the default office), or its whole district's."""
    if viewer.role is Role.DISTRICT:
        offices = [
            o.code for o in session.exec(select(Office).where(Office.district == viewer.district))
        ]
    else:
        offices = [viewer.office_code]
    condition = col(Case.office_code).in_(offices)
    if default_office in offices:
        return or_(condition, col(Case.office_code).is_(None))
    return condition


def may_see(session: Session, viewer: AccountView, case_number: str, default_office: str) -> bool:
    return (
        session.exec(
            select(Case.id).where(
                Case.number == case_number, visible_cases(session, viewer, default_office)
            )
        ).first()
        is not None
    )


class FirstContact(BaseModel):
    """Who answers for a case to the citizen: the clerk who took it (首问责任人, by name) and
    the office's phone."""

    clerk: str
    office_name: str
    office_phone: str


def first_contact(session: Session, case: Case) -> FirstContact:
    """The case's clerk and office; a case opened at the CLI falls back to the settings."""
    settings = get_settings()
    clerk = settings.office_clerk
    if case.taken_by:
        account = account_view(session=session, username=case.taken_by)
        clerk = account.display_name if account else clerk
    office = session.get(Office, case.office_code) if case.office_code else None
    if office is None:
        return FirstContact(
            clerk=clerk, office_name=settings.office_name, office_phone=settings.office_phone
        )
    return FirstContact(clerk=clerk, office_name=office.name, office_phone=office.phone)
