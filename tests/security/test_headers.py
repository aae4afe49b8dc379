"""The browser's protections on every answer (issue 37): before, no page, PDF or reveal page
carried a CSP, X-Frame-Options, nosniff, Referrer-Policy or Cache-Control, so a status link's
token could leak through the Referer and a page with a full name could be cached or framed."""

from __future__ import annotations

from typing import Any

import pytest

from casework.links import status_token
from tests.factories import case_with_a_request
from tests.workbench import DAY, csrf_of, sign_in

pytestmark = pytest.mark.flow


def _protected(answer: Any, *, page: bool) -> None:
    headers = answer.headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    if page:
        assert "default-src 'none'" in policy and "script-src 'nonce-" in policy
        assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


def test_every_kind_of_answer_carries_the_browsers_protections(client: Any) -> None:
    number, request_id = case_with_a_request(DAY)
    _protected(client.get("/login"), page=True)
    _protected(client.get(f"/s/{number}/{status_token(number)}"), page=True)
    _protected(client.get("/r/NOPE0-NOPE0"), page=True)
    sign_in(client, "xuchang")
    case_page = client.get(f"/cases/{number}")
    _protected(case_page, page=True)
    _protected(client.get(f"/cases/{number}/letters/{request_id}"), page=False)
    _protected(client.get(f"/cases/{number}/receipt.pdf"), page=False)
    revealed = client.post(
        f"/cases/{number}/reveal", data={"csrf": csrf_of(case_page.text), "reason": "核对身份"}
    )
    assert revealed.status_code == 200
    _protected(revealed, page=True)


def test_the_intake_pages_own_script_runs_under_its_nonce(client: Any) -> None:
    sign_in(client, "xuchang")
    form = client.get("/intake/recover-cremation-certificate")
    nonce = form.headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in form.text
    assert form.text.count("<script") == 1
    other = client.get("/intake/recover-cremation-certificate")
    assert nonce not in other.headers["content-security-policy"]  # a new one each time


def test_printing_the_notice_or_the_receipt_is_audited(client: Any) -> None:
    from sqlmodel import select

    from models.db import session_scope
    from models.tables import CaseEvent, EventKind

    number, request_id = case_with_a_request(DAY)
    sign_in(client, "xuchang")
    assert client.get(f"/cases/{number}/notice.pdf").status_code == 200
    assert client.get(f"/cases/{number}/receipt.pdf").status_code == 200
    assert client.get(f"/cases/{number}/letters/{request_id}").status_code == 200
    with session_scope() as session:
        shown = session.exec(
            select(CaseEvent).where(CaseEvent.kind == EventKind.PERSONAL_DATA_SHOWN)
        ).all()
    assert [(e.detail, e.actor) for e in shown] == [
        ("打印一次性告知书", "xuchang"),
        ("打印首问回执", "xuchang"),
        ("查看信函", "xuchang"),
    ]
