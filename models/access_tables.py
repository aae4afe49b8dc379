"""The workbench's access records: a row per signed-in session, a row per counted attempt."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.columns import _ts


class WebSession(SQLModel, table=True):
    """One signed-in session. The cookie holds a random token; only its SHA-256 is kept, so
    the table read by someone else opens no session. Ended at sign-out, a password change,
    a disabled account, or idle time; an ended row stays as the record of when and why."""

    token_hash: str = Field(primary_key=True)
    username: str = Field(index=True)
    csrf: str
    address: str  # the client's address at sign-in (the account's usual places)
    created_at: datetime = _ts()
    last_seen_at: datetime = _ts()
    ended_at: datetime | None = _ts(nullable=True)
    ended_why: str | None = None  # signed-out, password-reset, disabled, idle, expired


class RateEvent(SQLModel, table=True):
    """One counted attempt (a failed sign-in, a reply code that opened nothing), kept in the
    case database so every workbench process counts the same and a restart forgets nothing."""

    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(index=True)  # what was counted: sign-in-address, sign-in-account…
    key: str = Field(index=True)  # whom it is counted against: an address, an account
    at: datetime = _ts(index=True)
