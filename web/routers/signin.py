"""Signing in and out, and the header's language link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from casework.errors import UserError
from usecases import web_access
from web.deps import CsrfChecked
from web.limits import client_of
from web.pages import error_words, render, wall_clock_of
from web.sessions import COOKIE, Session, set_session_cookie
from web.words import LANG_COOKIE, LANGUAGES

router = APIRouter()


def _local(target: str) -> str:
    """Only a path on this site: never an address elsewhere (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html.j2", next=_local(next), error=None)


@router.post("/login")
def login(
    request: Request,
    _session: CsrfChecked,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    target, address, as_of = _local(next), client_of(request), wall_clock_of(request)
    # Failures from this address slow every answer to it: guessing costs time, a typo little.
    request.app.state.pause(web_access.sign_in_delay(address=address, as_of=as_of))
    try:
        signed_in = web_access.sign_in(
            username=username, password=password, address=address, as_of=as_of
        )
    except UserError as exc:
        status = 429 if exc.code == "login_too_many" else 401
        error = error_words(exc, request)
        return render(request, "login.html.j2", status=status, next=target, error=error)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(
        response, request, Session(signed_in.person.username, "", token=signed_in.token)
    )
    return response


@router.get("/lang/{code}")
def choose_language(code: str, next: str = "/") -> Response:
    """The header's 中文 / English link: remembered in a cookie for a year."""
    response = RedirectResponse(_local(next), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", path="/", httponly=True
        )
    return response


@router.post("/logout")
def logout(request: Request, session: CsrfChecked) -> Response:
    if session.token is not None:
        web_access.sign_out(token=session.token, as_of=wall_clock_of(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
