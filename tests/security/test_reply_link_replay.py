"""An attack on an agency's reply link (issue 37): one link replayed with `forward_name`
created five junk agencies (each added before the link was re-checked), and the answer said
whether a name was already known. Now an agency is added only with the answer the link
accepts, in the same transaction; a replay adds nothing and reads the same either way."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from models.db import session_scope
from models.tables import Agency, ReplyLink
from tests.factories import case_with_a_request
from tests.workbench import DAY, client_at, csrf_of

pytestmark = pytest.mark.flow


def _agencies() -> int:
    with session_scope() as session:
        return int(session.exec(select(func.count()).select_from(Agency)).one())


def test_a_replayed_link_adds_no_agency(client: Any) -> None:
    _number, request_id = case_with_a_request(DAY)
    with session_scope() as session:
        code = session.exec(select(ReplyLink.code).where(ReplyLink.contact_id == request_id)).one()
    before = _agencies()
    agency = client_at("10.7.7.7")
    token = csrf_of(agency.get(f"/r/{code}").text)
    answers = [
        agency.post(
            f"/r/{code}",
            data={"csrf": token, "outcome": "forwarded", "forward_name": f"某某单位{n}"},
        )
        for n in range(5)
    ]
    assert answers[0].status_code == 200
    assert all(a.status_code in (200, 410) for a in answers[1:])
    assert _agencies() == before + 1  # the one answer the link took
    # A replay naming a known body and one naming an unknown one read alike.
    known = agency.post(
        f"/r/{code}", data={"csrf": token, "outcome": "forwarded", "forward_name": "某某单位0"}
    )
    unknown = agency.post(
        f"/r/{code}", data={"csrf": token, "outcome": "forwarded", "forward_name": "从未有过的单位"}
    )
    assert known.status_code == unknown.status_code
    assert known.text.replace("某某单位0", "X") == unknown.text.replace("从未有过的单位", "X")
    assert _agencies() == before + 1
