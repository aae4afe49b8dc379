"""Street offices and the workbench's accounts: added and changed at the command line, signed in
on the web; and who the command line acts as."""

from __future__ import annotations

from datetime import datetime

from casework import validation
from casework.errors import UserError
from casework.passwords import MIN_LENGTH
from models import accounts, offices, web_access
from models.accounts import AccountRow, Actor
from models.db import read_scope, session_scope
from models.offices import OfficeRow
from models.tables import Role

__all__ = ["AccountRow", "Actor", "OfficeRow"]

# What `casework office add/edit` may set, with the label its errors name.
OFFICE_FIELDS = {
    "name": "街道名称",
    "district": "所属区",
    "address": "地址",
    "phone": "窗口电话",
    "supervision_phone": "监督电话",
    "public_url": "对外地址",
}


def _office_value(field: str, value: str) -> str | None:
    if field in ("phone", "supervision_phone"):
        return validation.phone(value)
    if field == "public_url":
        return validation.public_url(value) if value.strip() else None
    limit = {"name": 100, "district": 50, "address": 200}[field]
    return validation.free_text(value, field=OFFICE_FIELDS[field], max_length=limit)


def add_office(
    *,
    code: str,
    name: str,
    district: str,
    address: str,
    phone: str,
    supervision_phone: str | None = None,
    public_url: str | None = None,
) -> OfficeRow:
    """A street office: its window's phone signs every letter; the supervision phone (the
    window's, unless given) is printed for citizens to complain to."""
    values = {
        "name": _office_value("name", name),
        "district": _office_value("district", district),
        "address": _office_value("address", address),
        "phone": _office_value("phone", phone),
        "supervision_phone": _office_value("supervision_phone", supervision_phone or phone),
        "public_url": _office_value("public_url", public_url or ""),
    }
    with session_scope() as session:
        return offices.add_office(
            session=session,
            code=validation.slug(code, field="街道代码"),
            name=values["name"] or "",
            district=values["district"] or "",
            address=values["address"] or "",
            phone=values["phone"] or "",
            supervision_phone=values["supervision_phone"] or "",
            public_url=values["public_url"],
        )


def edit_office(*, code: str, changes: dict[str, str | None]) -> OfficeRow:
    """Change what is given (None: leave it); an empty public address goes back to the
    install's default."""
    given = {field: value for field, value in changes.items() if value is not None}
    unknown = set(given) - set(OFFICE_FIELDS)
    if unknown:
        raise UserError(
            "unknown_field", key=", ".join(sorted(unknown)), known=", ".join(OFFICE_FIELDS)
        )
    if not given:
        raise UserError("nothing_to_change")
    values = {
        field: _office_value(field, value) for field, value in given.items() if value is not None
    }
    with session_scope() as session:
        return offices.edit_office(
            session=session, code=validation.slug(code, field="街道代码"), changes=values
        )


def list_offices() -> list[OfficeRow]:
    with read_scope() as session:
        return offices.list_offices(session=session)


def add_user(
    *, username: str, display_name: str, role: str, office: str, password: str, as_of: datetime
) -> Actor:
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


def disable_user(*, username: str, as_of: datetime) -> int:
    """Nobody signs in as the account any more; its open sessions end now (how many)."""
    name = validation.slug(username, field="用户名")
    with session_scope() as session:
        accounts.set_disabled(session=session, username=name, disabled=True)
        return web_access.end_sessions_of(
            session=session, username=name, as_of=as_of, why="disabled"
        )


def enable_user(*, username: str) -> bool:
    """The account may sign in again (with the password it had); whether it was disabled."""
    name = validation.slug(username, field="用户名")
    with session_scope() as session:
        return accounts.set_disabled(session=session, username=name, disabled=False)


def reset_password(*, username: str, password: str, as_of: datetime) -> int:
    """A new password; every session signed in with the old one ends now (how many)."""
    if len(password) < MIN_LENGTH:
        raise UserError("password_short", length=MIN_LENGTH)
    name = validation.slug(username, field="用户名")
    with session_scope() as session:
        accounts.set_password(session=session, username=name, password=password)
        return web_access.end_sessions_of(
            session=session, username=name, as_of=as_of, why="password-reset"
        )


def list_users(*, office: str | None = None) -> list[AccountRow]:
    code = validation.slug(office, field="街道代码") if office else None
    with read_scope() as session:
        return accounts.list_accounts(session=session, office_code=code)


def sign_in(*, username: str, password: str) -> Actor:
    """The account, or UserError("login_failed") whichever of the two was wrong."""
    with session_scope() as session:
        found = accounts.authenticate(
            session=session, username=username.strip()[:64], password=password[:256]
        )
    if found is None:
        raise UserError("login_failed")
    return found


def who(username: str) -> Actor | None:
    """The account behind a session (None once disabled or removed)."""
    with read_scope() as session:
        return accounts.actor_of(session=session, username=username)


def console_actor() -> Actor:
    """The command line run on the server without --as."""
    return accounts.console_actor()


def command_line_actor(username: str | None) -> Actor:
    """Who the command line acts as: the account named by --as (or CASEWORK_USER), audited
    under its name; without one, the console (every case, the install's office)."""
    if not username:
        return accounts.console_actor()
    name = validation.slug(username, field="用户名")
    found = who(name)
    if found is None:
        raise UserError("no_such_user", username=name)
    return found


def default_public_url() -> str:
    """The address an office with none of its own is reached at (the install's)."""
    return offices.public_url_of(None)


def install_office_name() -> str:
    """The name of the install's own office (its row once added, else the settings')."""
    from casework.settings import get_settings

    with read_scope() as session:
        office = offices.office_of(session, None)
        return office.name if office else get_settings().office_name
