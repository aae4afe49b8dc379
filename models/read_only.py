"""Whether a session only reads (models.db.read_scope): such a session must never write."""

from __future__ import annotations

from sqlmodel import Session

READ_ONLY = "casework_read_only"  # an execution option: the session only reads (read_scope)


def reads_only(session: Session) -> bool:
    return bool(session.get_bind().get_execution_options().get(READ_ONLY))
