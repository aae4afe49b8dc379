"""The print queue: the letters to print and post today, each ticked as printed, and posted
with its tracking number."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from casework.errors import UserError
from usecases import answers, reading
from usecases.accounts import Actor
from web.deps import CsrfChecked, CurrentPerson, RecordId
from web.pages import error_words, now_of, render, words_for

router = APIRouter(prefix="/print")


def queue_page(
    request: Request,
    person: Actor,
    *,
    done: str | None = None,
    failed: tuple[str, UserError] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "print_queue.html.j2",
        status=status,
        viewer=person,
        letters=reading.print_queue(actor=person, as_of=now_of(request)),
        done=done,
        error_on=failed[0] if failed else None,
        error=error_words(failed[1], request) if failed else None,
    )


@router.get("", response_class=HTMLResponse)
def print_queue(request: Request, person: CurrentPerson, done: str | None = None) -> Response:
    return queue_page(request, person, done=done)


@router.post("/{case_number}/{letter}/printed")
def printed(
    request: Request,
    _csrf: CsrfChecked,
    person: CurrentPerson,
    case_number: str,
    letter: RecordId,
    undo: Annotated[str, Form()] = "",
) -> Response:
    try:
        answers.mark_printed(
            actor=person,
            case_number=case_number,
            letter_id=letter,
            printed=undo != "1",
            as_of=now_of(request),
        )
    except UserError as exc:
        return queue_page(request, person, failed=(str(letter), exc), status=400)
    done = (
        words_for(request)("已标记为已打印") if undo != "1" else words_for(request)("已改为未打印")
    )
    return RedirectResponse(f"/print?done={quote(done)}", status_code=303)
