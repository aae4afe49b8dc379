"""The workbench: window staff's pages, the agencies' reply pages and the citizens' status pages,
rendered on the server. One router per area (web/routers/); what a route needs (the person, a
manager, the CSRF token, a visible case) comes from web/deps.py; every action goes through the
application layer, signed with the person's name. A user's mistake is a page in Chinese, never a
traceback, and never an HTTP 500."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from casework.clock import now
from web.deps import CaseNotFound, CsrfFailed, NotAManager, NotSignedIn
from web.pages import error_page, error_words, words_for
from web.routers import (
    agencies,
    board,
    case_actions,
    case_route,
    case_type_pages,
    cases,
    citizens,
    directory,
    intake,
    prefect_view,
    print_queue,
    signin,
)

app = FastAPI(title="Casework 工作台", docs_url=None, redoc_url=None, openapi_url=None)
# The workbench's clock: every page and action reads the time from it, so a test can set the
# office's day (`app.state.clock = lambda: day`) instead of living on the real calendar.
app.state.clock = now
# Sessions and attempt counts live on the wall clock: an hour idle is an hour, whatever day a
# test has set the office to (a test of idle time moves this one).
app.state.wall_clock = now
# How a slowed answer waits (a test of many failed sign-ins counts the waits instead).
app.state.pause = time.sleep
for area in (
    signin,
    cases,
    case_actions,
    case_route,
    print_queue,
    intake,
    board,
    agencies,
    directory,
    case_type_pages,
    citizens,
    prefect_view,
):
    app.include_router(area.router)


@app.middleware("http")
async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Every answer carries the browser's protections: no framing, no sniffing, no Referer (a
    status link's token must not leak to another site), nothing cached (pages and PDFs name
    people), and a CSP under which only this page's own script (by its nonce) runs."""
    nonce = secrets.token_urlsafe(16)
    request.state.csp_nonce = nonce
    response = await call_next(request)
    page = response.headers.get("content-type", "").startswith("text/html")
    policy = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        if page
        # A PDF under default-src 'none' is refused by Chrome's own viewer: framing is what
        # matters there.
        else "frame-ancestors 'none'"
    )
    for header, value in (
        ("Content-Security-Policy", policy),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ):
        response.headers.setdefault(header, value)
    return response


@app.exception_handler(NotSignedIn)
async def _to_login(request: Request, exc: NotSignedIn) -> Response:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


@app.exception_handler(CsrfFailed)
async def _forged(request: Request, exc: CsrfFailed) -> Response:
    _ = words_for(request)
    return error_page(
        request,
        status=403,
        title=_("请求无效"),
        text=_("页面已过期或请求来源不明，未做任何记录。请刷新页面后重试。"),
    )


@app.exception_handler(NotAManager)
async def _managers_only(request: Request, exc: NotAManager) -> Response:
    _ = words_for(request)
    return error_page(
        request, status=403, title=_("仅限主管"), text=_("这项操作只有主管可以办理，未做任何记录。")
    )


@app.exception_handler(CaseNotFound)
async def _no_case(request: Request, exc: CaseNotFound) -> Response:
    return error_page(
        request,
        status=404,
        title=words_for(request)("找不到案件"),
        text=error_words(exc.error, request),
    )


@app.exception_handler(HTTPException)
async def _http_error(request: Request, exc: HTTPException) -> Response:
    """404 and 405 as a page in the person's language, not a JSON body."""
    _ = words_for(request)
    if exc.status_code == 404:
        return error_page(
            request,
            status=404,
            title=_("找不到页面"),
            text=_("没有这个页面，请检查地址。"),
            back="/",
        )
    return error_page(
        request, status=exc.status_code, title=_("请求无效"), text=_("无法处理这个请求。")
    )


@app.exception_handler(RequestValidationError)
async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
    """A typed address that does not fit the route (a letter number too large, say): 404."""
    _ = words_for(request)
    return error_page(
        request, status=404, title=_("找不到页面"), text=_("没有这个页面，请检查地址。"), back="/"
    )
