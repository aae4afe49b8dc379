"""Workbench accounts, the person acting (an account or the command line), and which cases
each may see."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, or_, select

from casework.errors import UserError
from casework.passwords import DUMMY_HASH, hash_password, password_matches
from casework.settings import get_settings
from models.lookups import get_case
from models.tables import Account, Case, Office, Role

# The audit trail's name for the command line run on the server without --as.
CONSOLE = "console"


class Actor(BaseModel):
    """Who acts: enough to scope and sign every action, no password hash. A workbench account,
    or the command line on the server (`console`: sees every case, as the database does)."""

    username: str
    display_name: str
    role: Role
    office_code: str
    office_name: str
    district: str
    console: bool = False

    @property
    def manages(self) -> bool:
        return self.role is not Role.CLERK


def console_actor() -> Actor:
    """The command line without --as: the install's office, every case, a manager's rights
    (whoever runs it on the server reads the database anyway)."""
    settings = get_settings()
    return Actor(
        username=CONSOLE,
        display_name="命令行",
        role=Role.MANAGER,
        office_code=settings.office_code,
        office_name=settings.office_name,
        district="",
        console=True,
    )


def add_account(
    *,
    session: Session,
    username: str,
    display_name: str,
    role: Role,
    office_code: str,
    password: str,
    as_of: datetime,
) -> Actor:
    if session.get(Office, office_code) is None:
        raise UserError("office_unknown", office=office_code)
    if username == CONSOLE:
        raise UserError("account_exists", username=username)
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
    return _actor(session, account)


class AccountRow(BaseModel):
    username: str
    display_name: str
    role: Role
    office_code: str
    disabled: bool


def list_accounts(*, session: Session, office_code: str | None = None) -> list[AccountRow]:
    query = select(Account).order_by(col(Account.office_code), col(Account.username))
    if office_code:
        query = query.where(Account.office_code == office_code)
    return [
        AccountRow(
            username=a.username,
            display_name=a.display_name,
            role=a.role,
            office_code=a.office_code,
            disabled=a.disabled,
        )
        for a in session.exec(query)
    ]


def _account(session: Session, username: str) -> Account:
    account = session.exec(select(Account).where(Account.username == username)).first()
    if account is None:
        raise UserError("no_such_user", username=username)
    return account


def set_disabled(*, session: Session, username: str, disabled: bool) -> bool:
    """Disables or enables the account; whether that changed anything."""
    account = _account(session, username)
    changed = account.disabled != disabled
    account.disabled = disabled
    session.add(account)
    return changed


def set_password(*, session: Session, username: str, password: str) -> None:
    account = _account(session, username)
    account.password_hash = hash_password(password)
    session.add(account)


def _actor(session: Session, account: Account) -> Actor:
    office = session.get(Office, account.office_code)
    assert office is not None
    return Actor(
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        office_code=office.code,
        office_name=office.name,
        district=office.district,
    )


def authenticate(*, session: Session, username: str, password: str) -> Actor | None:
    """The account if the password matches (same work whether or not the name exists)."""
    account = session.exec(select(Account).where(Account.username == username)).first()
    if account is None or account.disabled:
        password_matches(DUMMY_HASH, password)
        return None
    return _actor(session, account) if password_matches(account.password_hash, password) else None


def actor_of(*, session: Session, username: str) -> Actor | None:
    """The account behind a session or `--as` (None once disabled or removed)."""
    account = session.exec(select(Account).where(Account.username == username)).first()
    return None if account is None or account.disabled else _actor(session, account)


def display_names(session: Session) -> dict[str, str]:
    """Every account's display name by username: the audit trail and lists show people so."""
    return {a.username: a.display_name for a in session.exec(select(Account))}


def visible_cases(session: Session, actor: Actor) -> ColumnElement[bool]:
    """The condition on Case rows this person may see: their office's (cases opened at the
    command line belong to the install's office), their district's, or (console) all."""
    if actor.console:
        return true()
    if actor.role is Role.DISTRICT:
        offices = [
            o.code for o in session.exec(select(Office).where(Office.district == actor.district))
        ]
    else:
        offices = [actor.office_code]
    condition = col(Case.office_code).in_(offices)
    if get_settings().office_code in offices:
        return or_(condition, col(Case.office_code).is_(None))
    return condition


def visible_case(session: Session, actor: Actor, case_number: str, *, lock: bool = False) -> Case:
    """The case, if this person may see it; otherwise the same error as for a case that does
    not exist, so nobody can probe across offices."""
    case = get_case(session, case_number, lock=lock)
    if actor.console:
        return case
    seen = session.exec(
        select(Case.id).where(Case.id == case.id, visible_cases(session, actor))
    ).first()
    if seen is None:
        raise UserError("unknown_case", case=case_number[:20])
    return case


def require_manager(actor: Actor) -> None:
    if not actor.manages:
        raise UserError("managers_only")
