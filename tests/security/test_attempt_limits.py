"""Attacks on the workbench's attempt limits (issue 37, ASVS V2.2): guessing a clerk's password
to lock her out, one office's address locked out by its own typos, reply codes guessed by
following links or by posting answers, and counts that a restart or a second process forgets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories import WINDOW_PASSWORD, case_with_a_request
from tests.workbench import DAY, client_at, csrf_of, open_workbench, sign_in
from usecases import web_access

pytestmark = pytest.mark.flow


@pytest.fixture
def client(fresh_db: object, smtp_server: list) -> Iterator[Any]:
    from web import app as web_app

    waits: list[float] = []
    web_app.app.state.pause = waits.append  # the slowed answers, counted instead of waited
    try:
        with open_workbench() as test_client:
            test_client.waits = waits
            yield test_client
    finally:
        import time

        web_app.app.state.pause = time.sleep


def _sign_in(browser: Any, username: str, password: str) -> Any:
    token = csrf_of(browser.get("/login").text)
    return browser.post(
        "/login",
        data={"username": username, "password": password, "csrf": token},
        follow_redirects=False,
    )


def test_guessing_a_clerks_password_never_refuses_her_own(client: Any) -> None:
    attacker = client_at("203.0.113.66")
    for attempt in range(web_access.FLAG_AFTER + 2):
        assert _sign_in(attacker, "xuchang", f"guess-{attempt}").status_code == 401
    # She signs in from her window PC as ever…
    assert _sign_in(client_at("10.0.0.5"), "xuchang", WINDOW_PASSWORD).status_code == 303
    # …and her manager is told, in words, on her pages.
    sign_in(client, "wangmin")
    page = client.get("/").text
    assert "今天有人用徐畅的账号登录失败12次" in page, page[:2000]
    assert "xuchang" not in page.split("<main")[0]  # a person, never a username
    # A clerk is not shown the warning (it is her manager's to act on).
    clerk = client_at("10.0.0.6")
    assert _sign_in(clerk, "xuchang", WINDOW_PASSWORD).status_code == 303
    assert "登录失败" not in clerk.get("/").text


def test_an_offices_typos_slow_its_address_before_they_block_it(client: Any) -> None:
    office = client_at("10.0.0.1")  # every window PC behind one address
    for attempt in range(web_access.SLOW_AFTER):
        assert _sign_in(office, "xuchang", f"typo-{attempt}").status_code == 401
    # Five typos in, a colleague behind the same address still signs in (her answer slowed).
    assert _sign_in(office, "wangmin", WINDOW_PASSWORD).status_code == 303
    assert client.waits[-1] > 0 and client.waits[: web_access.SLOW_AFTER] == [0.0] * 5
    for attempt in range(web_access.BLOCK_AFTER - web_access.SLOW_AFTER):
        assert _sign_in(office, "zhangli", f"spray-{attempt}").status_code == 401
    blocked = _sign_in(office, "wangmin", WINDOW_PASSWORD)
    assert blocked.status_code == 429 and "15 分钟" in blocked.text
    # The block is the address's: another address is answered at once.
    assert _sign_in(client_at("10.0.0.2"), "wangmin", WINDOW_PASSWORD).status_code == 303
    assert max(client.waits) <= 5


def test_reply_codes_guessed_block_the_guessing_address_not_the_agencies(client: Any) -> None:
    from models.db import session_scope
    from models.tables import ReplyLink

    case_with_a_request(DAY)
    with session_scope() as session:
        from sqlmodel import select

        code = session.exec(select(ReplyLink.code)).one()
    guesser = client_at("198.51.100.9")
    token = csrf_of(guesser.get("/r").text)
    for attempt in range(web_access.CODES_BLOCK_AFTER // 2):
        assert guesser.get(f"/r/AAAAA-{attempt:05d}").status_code == 404
        posted = guesser.post(
            f"/r/BBBBB-{attempt:05d}", data={"csrf": token, "outcome": "received"}
        )
        assert posted.status_code == 404  # answers posted to guessed codes are counted too
    assert guesser.get(f"/r/{code}").status_code == 429  # the right code, from the guesser
    assert guesser.post(f"/r/{code}", data={"csrf": token, "outcome": "x"}).status_code == 429
    assert client_at("10.20.30.40").get(f"/r/{code}").status_code == 200  # the agency's own


def test_counts_are_kept_in_the_case_database_for_every_process(client: Any) -> None:
    from datetime import timedelta

    from casework.clock import now
    from models.db import read_scope
    from models.web_access import attempts

    for attempt in range(3):
        _sign_in(client_at("192.0.2.77"), "xuchang", f"nope-{attempt}")
    with read_scope() as session:
        counted = attempts(
            session=session,
            bucket=web_access.SIGN_IN_ADDRESS,
            key="192.0.2.77",
            as_of=now(),
            within=timedelta(minutes=15),
        )
    assert counted == 3
