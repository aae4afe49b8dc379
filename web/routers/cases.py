"""The clerk's reading pages: my cases, the search, the print queue, a case, its letters."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from casework.errors import UserError
from usecases import reading
from web.case_page import case_page
from web.deps import CurrentPerson, RecordId, VisibleCase
from web.pages import error_page, error_words, now_of, render, words_for

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def my_cases(
    request: Request,
    person: CurrentPerson,
    scope: str = "mine",
    type: str = "",
    status: str = "",
    clerk: str = "",
) -> Response:
    """The signed-in clerk's cases by default; the office's (a district's) as a filter."""
    chosen: reading.Scope = "office" if scope == "office" or person.role == "district" else "mine"
    found = reading.list_cases(
        actor=person,
        as_of=now_of(request),
        scope=chosen,
        case_type=type,
        status=status,
        clerk=clerk,
    )
    return render(
        request,
        "cases.html.j2",
        viewer=person,
        found=found,
        scope=chosen,
        kind=type,
        status_filter=status,
        clerk=clerk,
    )


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, person: CurrentPerson, q: str = "") -> Response:
    """A person's cases by resident ID, phone or full name."""
    rows: list[reading.CaseSummary] = []
    error = None
    if q.strip():
        try:
            rows = reading.search(actor=person, text=q[:64], as_of=now_of(request))
        except UserError as exc:
            error = error_words(exc, request)
    return render(
        request,
        "search.html.j2",
        status=400 if error else 200,
        viewer=person,
        q=q[:64],
        rows=rows,
        error=error,
        searched=bool(q.strip()) and error is None,
    )


@router.get("/cases/{case_number}", response_class=HTMLResponse)
def case(
    request: Request,
    person: CurrentPerson,
    case_number: VisibleCase,
    done: str | None = None,
    opened: str | None = None,
) -> Response:
    return case_page(request, person, case_number, done=done, opened=opened == "1")


@router.get("/cases/{case_number}/letters/{contact_id}")
def letter(
    request: Request, person: CurrentPerson, case_number: VisibleCase, contact_id: RecordId
) -> Response:
    try:
        name, content = reading.letter(
            actor=person, case_number=case_number, contact_id=contact_id, as_of=now_of(request)
        )
    except UserError as exc:
        return error_page(
            request,
            status=404,
            title=words_for(request)("找不到信函"),
            text=error_words(exc, request),
        )
    media = "application/pdf" if name.endswith(".pdf") else "text/plain; charset=utf-8"
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


def _pdf(pdf: bytes, name: str) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get("/cases/{case_number}/notice.pdf")
def notice_pdf(request: Request, person: CurrentPerson, case_number: VisibleCase) -> Response:
    """The one-time notification, printed at the window while the citizen is there."""
    pdf = reading.notice_pdf(actor=person, case_number=case_number, as_of=now_of(request))
    return _pdf(pdf, f"{case_number}-notice.pdf")


@router.get("/cases/{case_number}/receipt.pdf")
def receipt_pdf(request: Request, person: CurrentPerson, case_number: VisibleCase) -> Response:
    """首问回执, printed at intake for the citizen to keep."""
    from usecases import office_rules

    pdf = office_rules.receipt_pdf(actor=person, case_number=case_number, as_of=now_of(request))
    return _pdf(pdf, f"{case_number}-receipt.pdf")
