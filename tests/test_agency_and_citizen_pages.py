"""The pages without an account, over HTTP: an agency's reply link (open, answered by any
channel, expired, a later answer kept) and the citizen's status page; each way of getting them
wrong records nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlmodel import select

from casework.links import status_token
from models.db import session_scope
from models.tables import ReplyLink
from tests.factories import case_with_a_request
from tests.workbench import DAY, OFFICE_CLOCK, csrf_of, open_workbench, replies, sign_in

pytestmark = pytest.mark.flow


@pytest.fixture
def client(fresh_db: object, smtp_server: list) -> Iterator[Any]:
    with open_workbench() as test_client:
        yield test_client


def test_an_agency_answers_once_through_its_reply_link(client: Any, smtp_server: list) -> None:
    number, request_id = case_with_a_request(DAY)
    with session_scope() as session:
        link = session.exec(select(ReplyLink).where(ReplyLink.contact_id == request_id)).one()
        code = link.code
    letter = next(m for m in smtp_server if "front-desk@" in str(m["To"]))
    assert f"/r/{code}" in letter.get_body(("plain",)).get_content()  # the letter carries it

    assert client.get("/r/AAAAA-BBBBB").status_code == 404  # forged: a clear page
    page = client.get(f"/r/{code.lower().replace('-', ' ')}")  # typed from paper, loosely
    assert page.status_code == 200 and "火化证明" in page.text and "沈" not in page.text
    token = csrf_of(page.text)
    bad = client.post(f"/r/{code}", data={"outcome": "forwarded", "csrf": token})
    assert bad.status_code == 400 and "转往的单位名称" in bad.text and replies(number) == []
    done = client.post(
        f"/r/{code}",
        data={"outcome": "forwarded", "csrf": token, "forward_to": "crematorium-archive-room"},
    )
    assert done.status_code == 200 and "已收到您的答复" in done.text
    assert replies(number) == [("crematorium-front-desk", "forwarded", "web")]
    # The link is closed now: its page says who recorded what, when, and whom to call.
    closed = client.get(f"/r/{code}")
    assert (
        closed.status_code == 410 and "转其他单位" in closed.text and "单位网上答复" in closed.text
    )
    # The office's own phone (the case belongs to 陶然亭街道, which the office added).
    assert "2026年11月16日 10:00" in closed.text and "010-63500000" in closed.text
    # The same answer from a second tab records nothing new…
    same = client.post(
        f"/r/{code}",
        data={"outcome": "forwarded", "csrf": token, "forward_to": "crematorium-archive-room"},
    )
    assert same.status_code == 200 and "一致" in same.text
    # …a different one is kept for the clerk, never dropped, and never overwrites the first.
    again = client.post(
        f"/r/{code}", data={"outcome": "received", "csrf": token, "answered_by": "李科长"}
    )
    assert again.status_code == 200 and "经办人核对" in again.text
    assert len(replies(number)) == 1
    sign_in(client, "xuchang")
    page = client.get(f"/cases/{number}").text
    assert "单位另有答复，请核对" in page and "李科长" in page and "已取得材料" in page
    late_id = re.search(r"/late-answers/(\d+)/seen", page).group(1)  # type: ignore[union-attr]
    seen = client.post(f"/cases/{number}/late-answers/{late_id}/seen", data={"csrf": csrf_of(page)})
    assert seen.status_code == 200 and "单位另有答复，请核对" not in seen.text


def test_an_expired_link_records_nothing(client: Any) -> None:
    number, request_id = case_with_a_request(DAY)
    with session_scope() as session:
        link = session.exec(select(ReplyLink).where(ReplyLink.contact_id == request_id)).one()
        link.expires_at = datetime(2026, 11, 17, tzinfo=DAY.tzinfo)
        session.add(link)
        code = link.code
    assert client.get(f"/r/{code}").status_code == 200  # still open on DAY
    OFFICE_CLOCK[0] = datetime(2026, 11, 17, 0, 1, tzinfo=DAY.tzinfo)
    expired = client.get(f"/r/{code}")
    assert expired.status_code == 410 and "2026年11月17日 08:00过期" in expired.text
    assert "010-63500000" in expired.text
    token = csrf_of(client.get("/r").text)
    late = client.post(f"/r/{code}", data={"outcome": "received", "csrf": token})
    assert late.status_code == 410 and "过期" in late.text and replies(number) == []


def test_the_citizen_status_page_shows_progress_and_nothing_personal(client: Any) -> None:
    number, _ = case_with_a_request(DAY)
    page = client.get(f"/s/{number}/{status_token(number)}")
    assert page.status_code == 200
    assert "沈**" in page.text, page.text
    assert "火化证明" in page.text
    assert "无需您跑动" in page.text
    for personal in ("沈桂兰", "13800001234", "110102", "shen.family"):
        assert personal not in page.text
    assert client.get(f"/s/{number}/{status_token('HC-2026-9999')}").status_code == 404
