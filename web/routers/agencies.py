"""An agency's reply page (no account): the link or the short code from its letter opens the
request while it waits for an answer; afterwards the page says who recorded what, and when."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from casework.errors import UserError
from casework.settings import get_settings
from usecases import reply_links, web_access
from web.deps import CsrfChecked
from web.limits import client_of
from web.pages import error_page, error_words, now_of, render, wall_clock_of, words_for

router = APIRouter(prefix="/r")
Text = Annotated[str, Form()]


@router.get("", response_class=HTMLResponse)
def code_form(request: Request) -> Response:
    return render(request, "reply_code.html.j2", error=None)


@router.post("")
def code_typed(_csrf: CsrfChecked, code: Text = "") -> Response:
    return RedirectResponse(f"/r/{quote(code.strip()[:20])}", status_code=303)


def _refused(request: Request, exc: UserError, status: int) -> Response:
    return error_page(
        request, status=status, title=words_for(request)("无法答复"), text=error_words(exc, request)
    )


def _too_many(request: Request) -> Response | None:
    """The refusal for an address that has tried too many codes that opened nothing."""
    if not web_access.reply_codes_blocked(address=client_of(request), as_of=wall_clock_of(request)):
        return None
    minutes = int(web_access.WINDOW.total_seconds() // 60)
    return _refused(request, UserError("link_too_many", minutes=minutes), 429)


@router.get("/{code}", response_class=HTMLResponse)
def reply_page(request: Request, code: str) -> Response:
    if (refused := _too_many(request)) is not None:
        return refused
    try:
        page = reply_links.open_reply_page(code=code, as_of=now_of(request))
    except UserError as exc:
        web_access.reply_code_missed(address=client_of(request), as_of=wall_clock_of(request))
        return _refused(request, exc, 404)
    # A link that no longer takes an answer is gone (410), its page saying why and whom to call.
    return render(
        request,
        "reply.html.j2",
        status=410 if page.closed else 200,
        page=page,
        office_name=page.office_name,
        error=None,
        form={},
    )


@router.post("/{code}")
async def answer(
    request: Request,
    _csrf: CsrfChecked,
    code: str,
    file: UploadFile | None = None,
    outcome: Text = "",
    forward_to: Text = "",
    forward_name: Text = "",
    needs_what: Text = "",
    note: Text = "",
    tracking: Text = "",
    answered_by: Text = "",
) -> Response:
    form = {
        "outcome": outcome,
        "forward_name": forward_name,
        "needs_what": needs_what,
        "note": note,
        "tracking": tracking,
        "answered_by": answered_by,
    }
    # Answers are counted like page views: a code guessed by posting is still a code guessed.
    if (refused := _too_many(request)) is not None:
        return refused
    document = None
    if file is not None and file.filename:
        most = get_settings().document_max_mb * 1024 * 1024
        document = (file.filename, await file.read(most + 1))
    try:
        answered = reply_links.answer_on_reply_page(
            code=code,
            outcome=outcome,
            as_of=now_of(request),
            forward_to=forward_to or None,
            forward_name=forward_name or None,
            needs_what=needs_what or None,
            note=note or None,
            tracking=tracking or None,
            answered_by=answered_by or None,
            document=document,
        )
    except UserError as exc:
        if exc.code == "link_unknown":
            web_access.reply_code_missed(address=client_of(request), as_of=wall_clock_of(request))
        if exc.code.startswith("link_"):
            return _refused(request, exc, 404 if exc.code == "link_unknown" else 410)
        page = reply_links.open_reply_page(code=code, as_of=now_of(request))
        return render(
            request,
            "reply.html.j2",
            status=400,
            page=page,
            form=form,
            error=error_words(exc, request),
        )
    page = reply_links.open_reply_page(code=code, as_of=now_of(request))
    return render(request, "reply_done.html.j2", answered=answered, page=page, outcome=outcome)
