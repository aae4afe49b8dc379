"""The case page, built one way for its GET and for every action's error path: a mistake is
shown beside the form it came from, with what the person typed still in it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from casework.errors import UserError
from usecases import reading
from usecases.accounts import Actor
from web.deps import CsrfChecked, CurrentPerson, VisibleCase
from web.pages import error_words, lang_of, now_of, render, words_for

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


@dataclass
class CaseAction:
    """A form posted on a case page: its CSRF token checked, the person signed in and allowed
    to see the case. `respond` runs the action and answers with the case page."""

    request: Request
    person: Actor
    case_number: str

    @property
    def as_of(self) -> datetime:
        return now_of(self.request)

    @property
    def lang(self) -> str:
        return lang_of(self.request)

    def words(self, phrase: str, **fields: object) -> str:
        return words_for(self.request)(phrase, **fields)

    def back_to(self, path: str, done: str) -> Response:
        return RedirectResponse(f"{path}?done={quote(done)}", status_code=303)

    def respond(self, section: str, form: dict[str, Any], act: Callable[[], str]) -> Response:
        """Run the action; back to the case page with what was done, or with the mistake
        beside the form `section` and what was typed in it (nothing recorded)."""
        try:
            done = act()
        except UserError as exc:
            return case_page(
                self.request,
                self.person,
                self.case_number,
                status=400,
                failed=(section, exc),
                form=form,
            )
        return self.back_to(f"/cases/{self.case_number}", done)


def on_case(
    request: Request, _csrf: CsrfChecked, person: CurrentPerson, case_number: VisibleCase
) -> CaseAction:
    return CaseAction(request=request, person=person, case_number=case_number)


OnCase = Annotated[CaseAction, Depends(on_case)]
