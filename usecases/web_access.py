"""Who may use the workbench, and how often anyone may try: signing in and out, sessions
that end, and counts of failed attempts that slow and then block an address, never an
account's owner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from casework.errors import UserError
from casework.senders import printable
from casework.settings import get_settings
from models import accounts, web_access
from models.accounts import Actor
from models.db import read_scope, session_scope
from models.web_access import OpenSession

WINDOW = timedelta(minutes=15)
# Failed sign-ins from one address (whichever accounts): answers slow from the first number
# and stop for WINDOW at the second. An office behind one address has room for its typos.
SLOW_AFTER, BLOCK_AFTER = 5, 20
# Failed sign-ins against one account from anywhere in a day: its manager is told. The
# account is never refused for it, so an attacker cannot lock its owner out.
FLAG_AFTER = 10
# Reply codes that opened nothing, from one address (links followed and answers posted).
CODES_BLOCK_AFTER = 20

SIGN_IN_ADDRESS, SIGN_IN_ACCOUNT, REPLY_CODE = "sign-in-address", "sign-in-account", "reply-code"


@dataclass(frozen=True)
class SignedIn:
    person: Actor
    token: str  # for the cookie only


def sign_in_delay(*, address: str, as_of: datetime) -> float:
    """Seconds to wait before answering a sign-in from this address (0 while it is fine)."""
    with read_scope() as session:
        failed = web_access.attempts(
            session=session, bucket=SIGN_IN_ADDRESS, key=address, as_of=as_of, within=WINDOW
        )
    return 0.0 if failed < SLOW_AFTER else float(min(5, failed - SLOW_AFTER + 1))


def sign_in(*, username: str, password: str, address: str, as_of: datetime) -> SignedIn:
    """A new session, or UserError: login_too_many for a blocked address, login_failed for a
    wrong name or password (the same for both)."""
    # A name with a control character is no account's (and PostgreSQL refuses a NUL byte):
    # it fails like a wrong password, counted under the name without them.
    name, token = printable(username).strip()[:64], ""
    typed_cleanly = name == username.strip()[:64]
    with session_scope() as session:
        failed = web_access.attempts(
            session=session, bucket=SIGN_IN_ADDRESS, key=address, as_of=as_of, within=WINDOW
        )
        if failed >= BLOCK_AFTER:
            raise UserError("login_too_many", minutes=int(WINDOW.total_seconds() // 60))
        found = (
            accounts.authenticate(session=session, username=name, password=password[:256])
            if typed_cleanly
            else None
        )
        if found is None:
            web_access.count_attempt(
                session=session, bucket=SIGN_IN_ADDRESS, key=address, as_of=as_of
            )
            web_access.count_attempt(
                session=session, bucket=SIGN_IN_ACCOUNT, key=name.lower(), as_of=as_of
            )
        else:
            token = web_access.start_session(
                session=session, username=found.username, address=address, as_of=as_of
            )
    if found is None:
        # Raised after the scope: the counts are committed with the failure they record.
        raise UserError("login_failed")
    return SignedIn(found, token)


def open_session(*, token: str, as_of: datetime) -> OpenSession | None:
    """The signed-in session behind a cookie, or None once it has ended."""
    settings = get_settings()
    with session_scope() as session:
        return web_access.open_session(
            session=session,
            token=token,
            as_of=as_of,
            idle=timedelta(minutes=settings.web_idle_minutes),
            longest=timedelta(hours=settings.web_session_hours),
        )


def sign_out(*, token: str, as_of: datetime) -> None:
    with session_scope() as session:
        web_access.end_session(session=session, token=token, as_of=as_of, why="signed-out")


def accounts_under_attack(*, actor: Actor, as_of: datetime) -> dict[str, int]:
    """Her office's accounts (the console's: every one) that failed sign-ins have been aimed
    at today, by display name, with how many."""
    office = None if actor.console else actor.office_code
    with read_scope() as session:
        people = {
            row.username: row.display_name
            for row in accounts.list_accounts(session=session, office_code=office)
        }
        counts = web_access.most_attempted(
            session=session,
            bucket=SIGN_IN_ACCOUNT,
            keys=list(people),
            as_of=as_of,
            within=web_access.KEPT,
        )
    return {people[name]: n for name, n in sorted(counts.items()) if n >= FLAG_AFTER}


def reply_codes_blocked(*, address: str, as_of: datetime) -> bool:
    """Whether this address has tried too many codes that opened nothing."""
    with read_scope() as session:
        missed = web_access.attempts(
            session=session, bucket=REPLY_CODE, key=address, as_of=as_of, within=WINDOW
        )
    return missed >= CODES_BLOCK_AFTER


def reply_code_missed(*, address: str, as_of: datetime) -> None:
    with session_scope() as session:
        web_access.count_attempt(session=session, bucket=REPLY_CODE, key=address, as_of=as_of)
