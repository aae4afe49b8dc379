"""Signing in and out, and the header's language link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from casework.errors import UserError
from casework.messages import message
from casework.settings import get_settings
from usecases import accounts
from web.deps import CsrfChecked
from web.limits import LOGIN_FAILURES, client_of
from web.pages import error_words, lang_of, render
from web.sessions import COOKIE, Session
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
    keys = (f"user:{username.strip().lower()}", f"ip:{client_of(request)}")
    target = _local(next)
    if LOGIN_FAILURES.blocked(*keys):
        error = message("login_too_many", lang_of(request), minutes=15)
        return render(request, "login.html.j2", status=429, next=target, error=error)
    try:
        person = accounts.sign_in(username=username, password=password)
    except UserError as exc:
        LOGIN_FAILURES.failed(*keys)
        error = error_words(exc, request)
        return render(request, "login.html.j2", status=401, next=target, error=error)
    session = Session.signed_in(person.username, get_settings().web_session_hours)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, session.cookie(), httponly=True, samesite="strict", path="/")
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
def logout(_session: CsrfChecked) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
