"""Street offices and the workbench's accounts: added at the CLI, signed in on the web."""

from __future__ import annotations

from datetime import datetime

from casework import validation
from casework.errors import UserError
from casework.passwords import MIN_LENGTH
from models import accounts
from models.accounts import AccountView
from models.db import session_scope
from models.tables import Role


def add_office(*, code: str, name: str, district: str, phone: str) -> str:
    """A street office; its phone is the supervision number printed for citizens."""
    with session_scope() as session:
        office = accounts.add_office(
            session=session,
            code=validation.slug(code, field="街道代码"),
            name=validation.free_text(name, field="街道名称", max_length=100) or "",
            district=validation.free_text(district, field="所属区", max_length=50) or "",
            phone=validation.phone(phone),
        )
        return office.code


def add_user(
    *, username: str, display_name: str, role: str, office: str, password: str, as_of: datetime
) -> AccountView:
    """A workbench account (clerk, manager or district), its password hashed with Argon2id."""
    if role not in [r.value for r in Role]:
        raise UserError("bad_role", choices="/".join(r.value for r in Role))
    if len(password) < MIN_LENGTH:
        raise UserError("password_short", length=MIN_LENGTH)
    with session_scope() as session:
        return accounts.add_account(
            session=session,
            username=validation.slug(username, field="用户名"),
            display_name=validation.person_name(display_name),
            role=Role(role),
            office_code=validation.slug(office, field="街道代码"),
            password=password,
            as_of=as_of,
        )


def sign_in(*, username: str, password: str) -> AccountView:
    """The account, or UserError("login_failed") whichever of the two was wrong."""
    with session_scope() as session:
        found = accounts.authenticate(
            session=session, username=username.strip()[:64], password=password[:256]
        )
    if found is None:
        raise UserError("login_failed")
    return found


def who(username: str) -> AccountView | None:
    """The account behind a session (None once disabled or removed)."""
    with session_scope() as session:
        return accounts.account_view(session=session, username=username)
