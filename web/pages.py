"""Rendering a page: one template per page from templates/web/, the person's language, the
session's CSRF token and cookie; a user's mistake in words beside the form it came from."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from casework.clock import office_date
from casework.errors import UserError
from casework.messages import label, page_message
from casework.settings import get_settings
from casework.templating import environment
from usecases import accounts, office, web_access
from usecases.accounts import Actor
from web.sessions import COOKIE, Session, set_session_cookie
from web.words import LANG_COOKIE, LANGUAGES, translator


def now_of(request: Request) -> datetime:
    """The current instant by the workbench's clock (a test sets the office's day)."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


_UNSEEN = object()


def wall_clock_of(request: Request) -> datetime:
    """The real time, for sessions and attempt counts (the office's day may be a test's)."""
    clock: Callable[[], datetime] = request.app.state.wall_clock
    return clock()


def session_of(request: Request) -> Session | None:
    """The request's session (looked up once per request: the page and its checks share it)."""
    found = getattr(request.state, "casework_session", _UNSEEN)
    if found is _UNSEEN:
        found = Session.from_cookie(request.cookies.get(COOKIE), wall_clock_of(request))
        request.state.casework_session = found
    return found  # type: ignore[return-value]


def lang_of(request: Request) -> str:
    """Chinese unless the person chose English with the link in the header."""
    chosen = request.cookies.get(LANG_COOKIE, "zh")
    return chosen if chosen in LANGUAGES else "zh"


def words_for(request: Request) -> Callable[..., str]:
    """`_` for this request: a page's phrase in the person's language."""
    return translator(lang_of(request))


def error_words(exc: UserError, request: Request) -> str:
    """A user's mistake in words, in the page's language: the CLI's catalogue, except where
    the CLI's wording names an option to type."""
    return page_message(exc.code, lang_of(request), **exc.params)


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    session: Session | None = None,
    viewer: Actor | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page, with the session cookie renewed (a new anonymous one where there is none)."""
    settings = get_settings()
    session = session or session_of(request) or Session.anonymous(settings.web_session_hours)
    if viewer is None and session.username:
        viewer = accounts.who(session.username)
    lang = lang_of(request)
    moment = now_of(request)
    # The header names the person's office; an agency's or a citizen's page, the case's.
    office_name = context.pop("office_name", None) or (
        viewer.office_name if viewer else accounts.install_office_name()
    )
    html = (
        environment()
        .get_template(f"web/{template}")
        .render(
            csrf=session.csrf,
            viewer=viewer,
            office_name=office_name,
            label=lambda group, code: label(group, code, lang),
            lang=lang,
            _=translator(lang),
            colon=": " if lang == "en" else "：",
            percent=lambda share: "—" if share is None else f"{share * 100:.0f}%",
            here=request.url.path,
            csp_nonce=getattr(request.state, "csp_nonce", ""),
            today=office_date(moment),
            # A manager is told, on every page, when letters print an address nobody can open.
            public_url_warning=office.public_url_warning(actor=viewer)
            if viewer is not None and viewer.manages
            else None,
            # … and of her people's accounts that someone is guessing passwords for.
            accounts_under_attack=web_access.accounts_under_attack(
                actor=viewer, as_of=wall_clock_of(request)
            )
            if viewer is not None and viewer.manages
            else {},
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status)
    set_session_cookie(response, request, session)
    return response


def error_page(
    request: Request, *, status: int, title: str, text: str, back: str | None = None
) -> HTMLResponse:
    """A page that says what went wrong and that nothing was recorded."""
    return render(request, "error.html.j2", status=status, title=title, text=text, back=back)
