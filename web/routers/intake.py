"""受理: choosing the case type, and its form (generated from the playbook). Every value is
checked again on the server, the error beside its field; warnings (the same person's open case
of this type, a statutory limit already passed) must be confirmed before the case opens."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from casework.errors import UserError
from usecases import agencies, intake
from usecases.accounts import Actor
from usecases.agencies import AgencyForm
from web.deps import CurrentPerson, csrf_checked
from web.pages import error_page, error_words, now_of, render, words_for

router = APIRouter(prefix="/intake")

# Which form field a validation error belongs next to (by the message's code).
FIELD_OF_ERROR = {
    "id_format": "id_number",
    "id_region": "id_number",
    "id_birthdate": "id_number",
    "id_check_digit": "id_number",
    "id_future": "id_number",
    "digits_ascii": "id_number",
    "phone": "phone",
    "email": "email",
    "name": "name",
    "no_materials": "need_name_1",
}


@router.get("", response_class=HTMLResponse)
def choose(request: Request, person: CurrentPerson) -> Response:
    return render(
        request,
        "intake_choice.html.j2",
        viewer=person,
        playbooks=[
            (t.playbook.slug, t.playbook.title, t.playbook.general)
            for t in intake.playbooks(as_of=now_of(request))
        ],
    )


def _form_page(
    request: Request,
    person: Actor,
    slug: str,
    *,
    status: int = 200,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    warnings: list[intake.IntakeWarning] | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    try:
        spec = intake.intake_spec(slug, as_of=now_of(request))
    except UserError as exc:
        return error_page(
            request,
            status=404,
            title=words_for(request)("没有这类事项"),
            text=error_words(exc, request),
            back="/intake",
        )
    values = form or {}
    return render(
        request,
        "intake.html.j2",
        status=status,
        viewer=person,
        spec=spec,
        directory=[(a.slug, a.name) for a in agencies.list_agencies() if not a.role],
        need_rows=max(3, len(values.get("needs", [])) + 1),
        bring_rows=max(3, len(values.get("brings", [])) + 1),
        error=error,
        errors=errors or {},
        warnings=warnings or [],
        form=values,
        brought=values.get("brought", []),
        intake_key=values.get("intake_key") or secrets.token_urlsafe(16),
    )


# A general case's rows as the form numbers them: need_name_1, need_agency_1_1…3, need_ask_1,
# need_new_1 (an agency the directory lacks, added for the case); bring_1…
MAX_ROWS = 20


def _route_rows(values: dict[str, Any]) -> tuple[list[intake.Need], list[str]]:
    needs = []
    for row in range(1, MAX_ROWS + 1):
        name = values.get(f"need_name_{row}", "").strip()
        chain = [values.get(f"need_agency_{row}_{n}", "") for n in (1, 2, 3)]
        new_name = values.get(f"need_new_{row}", "").strip()
        if not name and not any(chain) and not new_name:
            continue
        needs.append(
            intake.Need(
                name=name,
                agencies=[code for code in chain if code],
                asks=values.get(f"need_ask_{row}") or None,
                new_agency=AgencyForm(
                    name=new_name,
                    email=values.get(f"need_new_email_{row}", ""),
                    phone=values.get(f"need_new_phone_{row}", ""),
                    address=values.get(f"need_new_address_{row}", ""),
                )
                if new_name
                else None,
            )
        )
    brings = [
        values[f"bring_{row}"].strip()
        for row in range(1, MAX_ROWS + 1)
        if values.get(f"bring_{row}", "").strip()
    ]
    return needs, brings


@router.get("/{slug}", response_class=HTMLResponse)
def form(request: Request, person: CurrentPerson, slug: str) -> Response:
    return _form_page(request, person, slug)


@router.post("/{slug}")
async def submit(request: Request, person: CurrentPerson, slug: str) -> Response:
    data = await request.form()
    csrf_checked(request, str(data.get("csrf", "")))
    values: dict[str, Any] = {k: str(v) for k, v in data.items() if isinstance(v, str)}
    values["brought"] = [str(v) for v in data.getlist("brought")]
    needs, brings = _route_rows(values)
    values["needs"], values["brings"] = needs, brings
    try:
        spec = intake.intake_spec(slug, as_of=now_of(request))
        opened = intake.open_case(
            actor=person,
            form=intake.IntakeForm(
                playbook=spec.playbook,
                name=values.get("name", ""),
                id_number=values.get("id_number", ""),
                phone=values.get("phone", ""),
                email=values.get("email") or None,
                address=values.get("address") or None,
                fields={
                    f.key: values[f"field_{f.key}"]
                    for f in spec.fields
                    if values.get(f"field_{f.key}", "").strip()
                },
                brought=values["brought"],
                intake_key=values.get("intake_key") or None,
                confirmed=values.get("confirmed") == "on",
                title=values.get("title"),
                problem=values.get("problem"),
                needs=needs,
                brings=brings,
                tier=values.get("tier") or None,
                limit_days=values.get("limit_days") or None,
                roles={
                    code: values.get(f"role_{code}", "")
                    for code, _ in spec.roles
                    if values.get(f"role_{code}")
                },
            ),
            as_of=now_of(request),
        )
    except intake.NeedsConfirmation as exc:
        return _form_page(request, person, slug, status=409, warnings=exc.warnings, form=values)
    except UserError as exc:
        field = FIELD_OF_ERROR.get(exc.code) or (
            f"field_{exc.params['key']}" if "key" in exc.params else None
        )
        text = error_words(exc, request)
        return _form_page(
            request,
            person,
            slug,
            status=404 if exc.code == "unknown_playbook" else 400,
            error=None if field else text,
            errors={field: text} if field else {},
            form=values,
        )
    return RedirectResponse(f"/cases/{opened.case_number}?opened=1", status_code=303)
