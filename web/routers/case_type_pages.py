"""Case types on the workbench (managers): the list with each type's current version, and the
editor: a type's YAML (the same text `casework playbook export` gives), checked and previewed
as its one-time notice and a request letter before it is saved as a new version. A new type
is open for intake as soon as it is saved."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from casework.errors import UserError
from usecases import case_types
from web.deps import CsrfChecked, Manager
from web.pages import error_words, now_of, render, words_for

router = APIRouter(prefix="/case-types")
Text = Annotated[str, Form()]


@router.get("", response_class=HTMLResponse)
def case_type_list(request: Request, person: Manager, done: str | None = None) -> Response:
    return render(
        request,
        "case_types.html.j2",
        viewer=person,
        rows=case_types.list_types(as_of=now_of(request)),
        done=done,
    )


def _editor(
    request: Request,
    person: Manager,
    *,
    slug: str | None,
    document: str,
    version: int | None = None,
    title: str | None = None,
    built_in: bool = False,
    status: int = 200,
    error: str | None = None,
    preview: case_types.Preview | None = None,
    done: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "case_type_editor.html.j2",
        status=status,
        viewer=person,
        slug=slug,
        title=title,
        version=version,
        built_in=built_in,
        document=document,
        error=error,
        preview=preview,
        done=done,
    )


@router.get("/new", response_class=HTMLResponse)
def new(request: Request, person: Manager) -> Response:
    return _editor(request, person, slug=None, document=case_types.new_type_document())


@router.get("/{slug}", response_class=HTMLResponse)
def edit(request: Request, person: Manager, slug: str, done: str | None = None) -> Response:
    try:
        document, version = case_types.export(slug)
    except UserError:
        return RedirectResponse("/case-types", status_code=303)
    return _editor(
        request,
        person,
        slug=slug,
        document=document,
        version=version,
        title=case_types.playbook_at(slug, version).title,
        built_in=case_types.is_built_in(slug),
        done=done,
    )


@router.post("")
def save_or_preview(
    request: Request,
    _csrf: CsrfChecked,
    person: Manager,
    document: Text = "",
    action: Text = "preview",
    slug: Text = "",
) -> Response:
    """Preview the letters of the text typed, or save it as the type's next version."""
    try:
        if action == "save":
            saved = case_types.save(actor=person, document=document, as_of=now_of(request))
            done = (
                words_for(request)("{title}（第{n}版）", title=saved.title, n=saved.version)
                if saved.new
                else words_for(request)(
                    "{title}（第{n}版，未改动）", title=saved.title, n=saved.version
                )
            )
            return RedirectResponse(f"/case-types/{saved.slug}?done={quote(done)}", status_code=303)
        shown = case_types.preview(document)
    except UserError as exc:
        return _editor(
            request,
            person,
            slug=slug or None,
            document=document,
            status=400,
            error=error_words(exc, request),
        )
    return _editor(request, person, slug=slug or None, document=document, preview=shown)
