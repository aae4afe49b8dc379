"""The citizen's status page behind her notice's QR code, and her rating once the case is done."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from casework.errors import UserError
from usecases import citizens, office_rules
from web.deps import CsrfChecked
from web.pages import error_page, error_words, now_of, render, words_for

router = APIRouter(prefix="/s/{case_number}/{token}")


def _unknown(request: Request, exc: UserError) -> Response:
    return error_page(
        request,
        status=404,
        title=words_for(request)("查询链接无效"),
        text=error_words(exc, request),
    )


@router.get("", response_class=HTMLResponse)
def status_page(request: Request, case_number: str, token: str) -> Response:
    try:
        status = citizens.citizen_status(
            case_number=case_number, token=token, as_of=now_of(request)
        )
    except UserError as exc:
        return _unknown(request, exc)
    return render(
        request,
        "status.html.j2",
        status_view=status,
        office_name=status.office_name,
        error=None,
        thanked=request.query_params.get("rated") == "1",
    )


@router.post("")
def rate(
    request: Request,
    _csrf: CsrfChecked,
    case_number: str,
    token: str,
    level: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
) -> Response:
    try:
        status = citizens.citizen_status(
            case_number=case_number, token=token, as_of=now_of(request)
        )
    except UserError as exc:
        return _unknown(request, exc)
    try:
        if _csrf.username is not None:
            # A browser signed in to the workbench is staff's: her rating is hers to give.
            raise UserError("rating_by_staff")
        office_rules.citizen_rates(
            case_number=case_number,
            token=token,
            code=code,
            level=level,
            comment=comment,
            as_of=now_of(request),
        )
    except UserError as exc:
        return render(
            request,
            "status.html.j2",
            status=403 if exc.code == "rating_by_staff" else 400,
            status_view=status,
            office_name=status.office_name,
            error=error_words(exc, request),
            thanked=False,
        )
    return RedirectResponse(f"/s/{case_number}/{token}?rated=1", status_code=303)
