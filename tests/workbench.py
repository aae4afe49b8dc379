"""The workbench in a test (Starlette's TestClient over the real app, a real case database and
SMTP server): the office's day set by the test, and the few steps every page test takes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import select

from casework.clock import now, start_of_office_day
from models.db import session_scope
from models.tables import CaseEvent, Contact, ContactKind
from tests.factories import WINDOW_PASSWORD as PASSWORD
from tests.factories import window_staff

DAY = start_of_office_day(date(2026, 11, 16))
OFFICE_CLOCK: list[datetime] = []  # the workbench's "now" in a test; set by `open_workbench`


@contextmanager
def open_workbench() -> Iterator[Any]:
    """The workbench of two street offices (tests.factories.window_staff) on DAY, an hour after
    opening, whatever the calendar says; OFFICE_CLOCK[0] moves its clock."""
    from fastapi.testclient import TestClient

    from web import app as web_app

    window_staff(DAY)
    OFFICE_CLOCK[:] = [DAY + timedelta(hours=1)]
    web_app.app.state.clock = lambda: OFFICE_CLOCK[0]
    try:
        with TestClient(web_app.app, base_url="http://127.0.0.1") as test_client:
            yield test_client
    finally:
        web_app.app.state.clock = now


def client_at(address: str, *, base_url: str = "http://127.0.0.1") -> Any:
    """Another browser on the open workbench, connecting from `address`."""
    from fastapi.testclient import TestClient

    from web import app as web_app

    return TestClient(web_app.app, base_url=base_url, client=(address, 50000))


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def sign_in(client: Any, username: str) -> None:
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": token, "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def replies(case_number: str) -> list[tuple[str | None, str | None, str]]:
    """The agencies' answers recorded on the case: (agency, outcome, channel)."""
    from models.lookups import get_case

    with session_scope() as session:
        case = get_case(session, case_number)
        return [
            (c.agency_slug, c.outcome, c.channel)
            for c in session.exec(
                select(Contact).where(Contact.case_id == case.id, Contact.kind == ContactKind.REPLY)
            )
        ]


def events() -> list[CaseEvent]:
    with session_scope() as session:
        return list(session.exec(select(CaseEvent)))
