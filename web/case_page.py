"""The case page, built one way for its GET and for every action's error path: a mistake is
shown beside the form it came from, with what the person typed still in it."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from casework.errors import UserError
from usecases import reading
from usecases.accounts import Actor
from web.pages import error_words, now_of, render

# The answers a clerk records at the window (an agency's own page offers fewer).
WINDOW_OUTCOMES = ("received", "posted", "forwarded", "no-record", "needs-info", "refused")


def case_page(
    request: Request,
    person: Actor,
    case_number: str,
    *,
    status: int = 200,
    done: str | None = None,
    opened: bool = False,
    failed: tuple[str, UserError] | None = None,
    form: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The page; `failed`: (the form it came from, the mistake), shown beside that form."""
    page = reading.case_page(actor=person, case_number=case_number, as_of=now_of(request))
    return render(
        request,
        "case.html.j2",
        status=status,
        viewer=person,
        page=page,
        case=page.case,
        outcomes=WINDOW_OUTCOMES,
        done=done,
        opened=opened,
        error_in=failed[0] if failed else None,
        error=error_words(failed[1], request) if failed else None,
        form=form or {},
    )
