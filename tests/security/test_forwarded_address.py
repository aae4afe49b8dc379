"""An attack on whom failures are counted against (issue 37): the stack's own workbench process
(uvicorn) is sent rotating X-Forwarded-For headers by a local client. With no proxy configured
the header is not believed, so every failure is counted on the address that connected."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlmodel import select

from casework.settings import get_settings
from models.db import read_scope
from models.tables import RateEvent
from usecases.web_access import SIGN_IN_ADDRESS

pytestmark = pytest.mark.integration


def test_rotating_forwarded_for_headers_are_counted_on_the_real_address(stack: object) -> None:
    with httpx.Client(base_url=get_settings().web_url, timeout=30) as browser:
        for attempt in range(3):
            page = browser.get("/login").text
            token = re.search(r'name="csrf" value="([^"]+)"', page)
            assert token is not None
            answer = browser.post(
                "/login",
                data={"username": "nobody", "password": f"guess-{attempt}", "csrf": token[1]},
                headers={"X-Forwarded-For": f"203.0.113.{attempt + 1}"},
            )
            assert answer.status_code == 401
    with read_scope() as session:
        keys = set(
            session.exec(select(RateEvent.key).where(RateEvent.bucket == SIGN_IN_ADDRESS)).all()
        )
    assert keys == {"127.0.0.1"}
