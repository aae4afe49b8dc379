"""What a route may ask for (FastAPI dependencies): the signed-in person, a manager, a form
that carries this session's CSRF token, a case the person may see. A route that takes one of
these never runs without it: the person is sent to sign in, or gets a 403 or a 404 page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Path, Request

from casework.errors import UserError
from usecases import accounts, reading
from usecases.accounts import Actor
from web.pages import session_of
from web.sessions import Session


class NotSignedIn(Exception):
    """No valid session: the page sends the person to sign in."""


class CsrfFailed(Exception):
    """A form without this session's token: refused with 403, nothing recorded."""


class NotAManager(Exception):
    """A manager's page or action asked for by a clerk: 403, nothing recorded."""


class CaseNotFound(Exception):
    """No such case, or another office's: the same 404, so nobody can probe across offices."""

    def __init__(self, error: UserError) -> None:
        super().__init__(error.code)
        self.error = error


def signed_in(request: Request) -> Actor:
    session = session_of(request)
    if session is None or session.username is None:
        raise NotSignedIn
    person = accounts.who(session.username)
    if person is None:
        raise NotSignedIn
    return person


CurrentPerson = Annotated[Actor, Depends(signed_in)]


def manager(person: CurrentPerson) -> Actor:
    if not person.manages:
        raise NotAManager
    return person


Manager = Annotated[Actor, Depends(manager)]


def csrf_checked(request: Request, csrf: Annotated[str, Form()] = "") -> Session:
    """The session, if the posted form carries its token."""
    session = session_of(request)
    if session is None or not session.csrf_ok(csrf):
        raise CsrfFailed
    return session


CsrfChecked = Annotated[Session, Depends(csrf_checked)]


def visible_case(case_number: str, person: CurrentPerson) -> str:
    """The case number of the path, once the person may see that case."""
    try:
        reading.check_visible(actor=person, case_number=case_number)
    except UserError as exc:
        raise CaseNotFound(exc) from None
    return case_number


VisibleCase = Annotated[str, Depends(visible_case)]

# A record's number in an address: what the databases can hold (a larger one typed is a 404).
RecordId = Annotated[int, Path(ge=1, le=2**63 - 1)]
