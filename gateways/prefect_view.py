"""Prefect's server as the workbench's proxy reaches it: one request passed on with the
stack's own password (which no person is told), and one flow run's case number read back."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import httpx

from casework.errors import UserError
from casework.prefect_env import prefect_auth_string
from casework.settings import get_settings

# Headers a browser's request may carry on to Prefect: its CSRF token, what it sends and
# accepts. Never its cookies (the workbench's session) or an Authorization of its own.
PASSED_ON = ("accept", "content-type", "prefect-csrf-token", "prefect-csrf-client")
# Headers of Prefect's answer worth keeping (the body arrives decoded, so no encoding).
KEPT = ("content-type", "cache-control", "etag", "last-modified", "location")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    content: bytes


def _authorization() -> str:
    return "Basic " + base64.b64encode(prefect_auth_string(get_settings()).encode()).decode()


def forward(*, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Answer:
    """Prefect's answer to the request, as the stack itself would ask it; UserError
    ("prefect_view_down") when Prefect's server does not answer."""
    sent = {k: v for k, v in headers.items() if k.lower() in PASSED_ON}
    sent["Authorization"] = _authorization()
    url = f"{get_settings().prefect_ui_url}/{path}" + (f"?{query}" if query else "")
    try:
        answer = httpx.request(method, url, headers=sent, content=body, timeout=60)
    except httpx.HTTPError:
        raise UserError("prefect_view_down") from None
    kept = {k: v for k, v in answer.headers.items() if k.lower() in KEPT}
    return Answer(answer.status_code, kept, answer.content)


def case_number_of_run(flow_run_id: str) -> str | None:
    """The case a flow run works on (its one parameter), or None for any other run."""
    try:
        answer = httpx.get(
            f"{get_settings().prefect_api_url}/flow_runs/{flow_run_id}",
            headers={"Authorization": _authorization()},
            timeout=30,
        )
    except httpx.HTTPError:
        raise UserError("prefect_view_down") from None
    if answer.status_code != 200:
        return None
    number = (answer.json().get("parameters") or {}).get("case_number")
    return str(number) if number else None
