"""流程视图: Prefect's UI under the workbench's sign-in, for managers (and district accounts).
Every request goes through usecases.prefect_view's policy; Prefect's password stays with the
stack. The UI is told (ui-settings) that its API is here and that it needs no password."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from casework.errors import UserError
from usecases import prefect_view
from web.deps import Manager
from web.pages import error_page, error_words, now_of, words_for

router = APIRouter(prefix="/prefect")
# Prefect's UI is a single-page app of its own scripts: it runs under its own policy (its
# assets from here, its API calls to here), still never framed.
UI_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("", methods=["GET"])
def view_root(person: Manager) -> Response:
    return Response(status_code=303, headers={"Location": "/prefect/"})


@router.api_route("/{path:path}", methods=METHODS)
async def view(request: Request, person: Manager, path: str) -> Response:
    # The UI's API calls come to /prefect/api/…; its pages and assets are served by Prefect
    # under /prefect/ (PREFECT_UI_SERVE_BASE).
    upstream = path if path.startswith("api/") else f"prefect/{path}"
    body = await request.body()
    try:
        answer = prefect_view.pass_on(
            actor=person,
            method=request.method,
            path=upstream,
            query=request.url.query,
            headers=dict(request.headers),
            body=body,
            as_of=now_of(request),
        )
    except UserError as exc:
        return error_page(
            request,
            status={"prefect_view_refused": 403, "prefect_view_down": 503}.get(exc.code, 404),
            title=words_for(request)("流程视图"),
            text=error_words(exc, request),
        )
    content = answer.content
    if upstream == "prefect/ui-settings" and answer.status == 200:
        content = _this_ui(request, content)
    headers = {k: v for k, v in answer.headers.items() if k.lower() != "content-type"}
    headers["Content-Security-Policy"] = UI_POLICY
    return Response(
        content,
        status_code=answer.status,
        media_type=answer.headers.get("content-type"),
        headers=headers,
    )


def _this_ui(request: Request, content: bytes) -> bytes:
    """The UI's settings, pointing it at this proxy and asking it for no password."""
    settings = json.loads(content)
    settings["api_url"] = f"{str(request.base_url).rstrip('/')}/prefect/api"
    settings["auth"] = None
    return json.dumps(settings).encode()
