"""Signed-in sessions kept as rows (so they can be ended) and attempts counted in the case
database (so every workbench process counts the same)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from models.tables import RateEvent, WebSession

# Attempts are kept a day: long enough for the manager's warning, short enough to stay small.
KEPT = timedelta(hours=24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class OpenSession:
    """What a request's session cookie stands for."""

    username: str
    csrf: str


def start_session(*, session: Session, username: str, address: str, as_of: datetime) -> str:
    """A new session for the account; its token (only the cookie holds it)."""
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=token_hash(token),
            username=username,
            # A new CSRF token at sign-in: a token seen before it is worth nothing after.
            csrf=secrets.token_urlsafe(24),
            address=address,
            created_at=as_of,
            last_seen_at=as_of,
        )
    )
    return token


def open_session(
    *, session: Session, token: str, as_of: datetime, idle: timedelta, longest: timedelta
) -> OpenSession | None:
    """The session the token opens, marked as seen; None (and the row ended) once idle too
    long or past its longest life. (Disabling an account ends its rows then and there, and
    the person behind a session is looked up anew on every page.)"""
    row = session.get(WebSession, token_hash(token))
    if row is None or row.ended_at is not None:
        return None
    why = (
        "expired"
        if as_of - row.created_at >= longest
        else "idle"
        if as_of - row.last_seen_at >= idle
        else None
    )
    if why is not None:
        row.ended_at, row.ended_why = as_of, why
        session.add(row)
        return None
    # One write a minute at most: a page's every asset does not write the database.
    if as_of - row.last_seen_at >= timedelta(minutes=1):
        row.last_seen_at = as_of
        session.add(row)
    return OpenSession(username=row.username, csrf=row.csrf)


def end_session(*, session: Session, token: str, as_of: datetime, why: str) -> None:
    row = session.get(WebSession, token_hash(token))
    if row is not None and row.ended_at is None:
        row.ended_at, row.ended_why = as_of, why
        session.add(row)


def end_sessions_of(*, session: Session, username: str, as_of: datetime, why: str) -> int:
    """Ends every open session of the account; how many there were."""
    result = session.exec(
        update(WebSession)
        .where(col(WebSession.username) == username, col(WebSession.ended_at).is_(None))
        .values(ended_at=as_of, ended_why=why)
    )
    return int(result.rowcount or 0)


def open_sessions_of(*, session: Session, username: str) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(WebSession)
            .where(WebSession.username == username, col(WebSession.ended_at).is_(None))
        ).one()
    )


def count_attempt(*, session: Session, bucket: str, key: str, as_of: datetime) -> None:
    """One more attempt counted against `key`; attempts older than a day are let go."""
    session.add(RateEvent(bucket=bucket, key=key[:200], at=as_of))
    session.exec(delete(RateEvent).where(col(RateEvent.at) < as_of - KEPT))


def attempts(*, session: Session, bucket: str, key: str, as_of: datetime, within: timedelta) -> int:
    """How many attempts were counted against `key` in the last `within`."""
    return int(
        session.exec(
            select(func.count())
            .select_from(RateEvent)
            .where(
                RateEvent.bucket == bucket,
                RateEvent.key == key[:200],
                col(RateEvent.at) > as_of - within,
            )
        ).one()
    )


def most_attempted(
    *, session: Session, bucket: str, keys: list[str], as_of: datetime, within: timedelta
) -> dict[str, int]:
    """Attempts per key among `keys` in the last `within` (keys with none left out)."""
    if not keys:
        return {}
    rows = session.exec(
        select(RateEvent.key, func.count())
        .where(
            RateEvent.bucket == bucket,
            col(RateEvent.key).in_(keys),
            col(RateEvent.at) > as_of - within,
        )
        .group_by(RateEvent.key)
    ).all()
    return {key: int(count) for key, count in rows}
