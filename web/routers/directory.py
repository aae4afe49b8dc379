"""The district's agency directory on the workbench: everyone reads it (channels, hours,
notes, how quickly each agency answers); managers add and change entries. A name that is an
entry's written differently is refused with that entry named, unless the manager confirms."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from casework.errors import UserError
from usecases import agencies
from usecases.agencies import AgencyForm
from web.deps import CsrfChecked, CurrentPerson, Manager
from web.pages import error_words, render

router = APIRouter(prefix="/directory")
Text = Annotated[str, Form()]
FIELDS = ("name", "department", "email", "phone", "address", "office_hours", "notes")


def _page(
    request: Request,
    person: CurrentPerson,
    *,
    status: int = 200,
    editing: agencies.AgencyRow | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "directory.html.j2",
        status=status,
        viewer=person,
        rows=agencies.list_agencies(),
        editing=editing,
        error=error,
        form=form or {},
        done=done,
    )


@router.get("", response_class=HTMLResponse)
def directory(request: Request, person: CurrentPerson, done: str | None = None) -> Response:
    return _page(request, person, done=done)


def _typed(
    name: Text = "",
    department: Text = "",
    email: Text = "",
    phone: Text = "",
    address: Text = "",
    office_hours: Text = "",
    notes: Text = "",
) -> dict[str, str]:
    """A directory entry's fields as typed (shown again beside a mistake)."""
    return dict(
        name=name,
        department=department,
        email=email,
        phone=phone,
        address=address,
        office_hours=office_hours,
        notes=notes,
    )


Typed = Annotated[dict[str, str], Depends(_typed)]


@router.post("")
def add(
    request: Request,
    _csrf: CsrfChecked,
    person: Manager,
    typed: Typed,
    distinct: Text = "",
) -> Response:
    try:
        added = agencies.add_agency(
            actor=person, form=AgencyForm(**typed), distinct=distinct == "on"
        )
    except UserError as exc:
        return _page(
            request,
            person,
            status=400,
            error=error_words(exc, request),
            form=typed | {"near": "on" if exc.code == "agency_near_duplicate" else ""},
        )
    return RedirectResponse(f"/directory?done={quote(added.name)}#{added.slug}", status_code=303)


@router.get("/{slug}", response_class=HTMLResponse)
def edit_form(request: Request, person: Manager, slug: str) -> Response:
    row = _agency_or_none(slug)
    if row is None:
        return RedirectResponse("/directory", status_code=303)
    return _page(request, person, editing=row, form=row.model_dump(exclude_none=True))


def _agency_or_none(slug: str) -> agencies.AgencyRow | None:
    """The entry being edited, if the address names one (a typed address may name none)."""
    try:
        return agencies.get_agency(slug)
    except UserError:
        return None


@router.post("/{slug}")
def edit(
    request: Request,
    _csrf: CsrfChecked,
    person: Manager,
    slug: str,
    typed: Typed,
    distinct: Text = "",
) -> Response:
    try:
        row = agencies.get_agency(slug)
        if row.role:  # a role has no channels: its form never shows them
            typed = {k: typed[k] for k in ("name", "department", "notes")}
        edited = agencies.edit_agency(
            actor=person, slug=slug, form=AgencyForm(**typed), distinct=distinct == "on"
        )
    except UserError as exc:
        return _page(
            request,
            person,
            status=400,
            editing=_agency_or_none(slug),
            error=error_words(exc, request),
            form=typed | {"near": "on" if exc.code == "agency_near_duplicate" else ""},
        )
    return RedirectResponse(f"/directory?done={quote(edited.name)}#{edited.slug}", status_code=303)
