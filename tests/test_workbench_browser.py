"""Ms. Shen's case through the workbench in a real browser (Debian's chromium, 1366×768) on
the real stack: a clerk takes it in through the form (a wrong ID first), prints the notice,
records the front desk's "forwarded"; the archive room answers through its reply link; the
case closes and its Prefect run with it; the citizen's status page shows each stage; a clerk
of another office cannot see it. Screenshots of every page go to test-artifacts/screenshots."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest
from sqlmodel import select

from casework.clock import now
from casework.links import status_token
from casework.settings import get_settings
from cli.stories import synthetic_id_number
from gateways.prefect_client import wait_until_settled
from models.db import session_scope
from models.lookups import get_case
from models.tables import Case, Contact, ContactKind, ReplyLink
from tests.conftest import SCREENSHOTS
from tests.factories import WINDOW_PASSWORD as PASSWORD
from tests.factories import window_staff

pytestmark = pytest.mark.integration
VIEWPORT = {"width": 1366, "height": 768}


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"workbench-{name}.png"), full_page=True)


def _settle(number: str, since: Any) -> str:
    with session_scope() as session:
        run_id = get_case(session, number).flow_run_id
    assert run_id
    return wait_until_settled(run_id, after=since, timeout=180)


def _archive_code(number: str) -> str:
    with session_scope() as session:
        case = get_case(session, number)
        request = session.exec(
            select(Contact).where(
                Contact.case_id == case.id,
                Contact.kind == ContactKind.REQUEST,
                Contact.agency_slug == "crematorium-archive-room",
            )
        ).one()
        return session.exec(select(ReplyLink).where(ReplyLink.contact_id == request.id)).one().code


def test_shens_case_through_the_workbench(stack: object, browser: Any) -> None:
    web = get_settings().web_url
    window_staff(now())
    with session_scope() as session:
        cases_before = len(session.exec(select(Case)).all())
    deadline = time.monotonic() + 60
    clerk = browser.new_page(viewport=VIEWPORT)
    while True:  # the workbench starts beside the Prefect server
        try:
            clerk.goto(f"{web}/login")
            break
        except Exception:
            assert time.monotonic() < deadline, "the workbench never answered"
            time.sleep(1)
    _shot(clerk, "login")
    clerk.get_by_label("用户名").fill("xuchang")
    clerk.get_by_label("密码").fill(PASSWORD)
    clerk.get_by_role("button", name="登录").click()
    clerk.get_by_role("link", name="受理", exact=True).click()
    _shot(clerk, "intake-choice")
    clerk.get_by_role("link", name="补办火化证明（丧葬费补贴）").click()

    # A wrong ID number: said by the field while typing, and again by the server; nothing written.
    clerk.get_by_role("textbox", name="姓名", exact=True).fill("沈桂兰")
    clerk.get_by_label("公民身份号码（18位）").fill("110102195003010021")
    clerk.get_by_label("联系电话").fill("13800001234")
    clerk.get_by_label("逝者姓名").fill("王建国")
    clerk.get_by_label("火化日期").fill("2017-06-01")
    clerk.get_by_label("联系电话").focus()
    assert "校验位" in clerk.locator("#id_number-error").inner_text()
    clerk.get_by_role("button", name="受理并打印一次性告知书").click()
    assert "校验位" in clerk.locator("#id_number-error").inner_text()
    _shot(clerk, "intake-wrong-id")
    with session_scope() as session:
        assert len(session.exec(select(Case)).all()) == cases_before  # nothing written

    clerk.get_by_label("公民身份号码（18位）").fill(synthetic_id_number(date(1950, 3, 1)))
    opened_at = now()
    clerk.get_by_role("button", name="受理并打印一次性告知书").click()
    clerk.get_by_text("案件已受理").wait_for()
    number = clerk.url.split("/cases/")[1].split("?")[0]
    _shot(clerk, "case-opened")
    notice = clerk.request.get(f"{web}/cases/{number}/notice.pdf")
    assert notice.ok and notice.body().startswith(b"%PDF")

    assert _settle(number, opened_at) == "Suspended"
    citizen = browser.new_page(viewport=VIEWPORT)
    status_url = f"{web}/s/{number}/{status_token(number)}"
    citizen.goto(status_url)
    assert "沈**" in citizen.content() and "沈桂兰" not in citizen.content()
    _shot(citizen, "status-waiting")

    # The front desk phones: the record is passed to the archive room.
    clerk.reload()
    clerk.get_by_label("答复结果").select_option(label="转其他单位")
    clerk.get_by_label("转往单位（答复为“转其他单位”时选择）").select_option(label="殡仪馆档案室")
    answered_at = now()
    clerk.get_by_role("button", name="记录答复").click()
    clerk.get_by_text("已记录").wait_for()
    _shot(clerk, "case-forwarded")
    assert _settle(number, answered_at) == "Suspended"

    # The archive room answers through the link in its letter, without an account.
    agency = browser.new_page(viewport=VIEWPORT)
    code = _archive_code(number)
    agency.goto(f"{web}/r/{code}")
    _shot(agency, "reply-page")
    agency.get_by_label("已找到，材料已交给窗口工作人员").check()
    received_at = now()
    agency.get_by_role("button", name="提交答复").click()
    agency.get_by_text("已收到您的答复").wait_for()
    _shot(agency, "reply-done")
    agency.goto(f"{web}/r/{code}")
    assert "无需再答复" in agency.content()  # closed: who recorded the answer, and when
    _shot(agency, "reply-used")

    assert _settle(number, received_at) == "Completed"
    clerk.reload()
    assert "已办结" in clerk.content()
    _shot(clerk, "case-closed")
    clerk.goto(f"{web}/")  # 我的案件: the cases she took in
    assert number in clerk.content()
    _shot(clerk, "my-cases")
    citizen.reload()
    assert "已办结" in citizen.content()
    _shot(citizen, "status-closed")
    citizen.get_by_label("非常满意").check()
    citizen.get_by_label("评价码（印在办结通知书上）").fill(_rating_code_in_her_letter(number))
    citizen.get_by_role("button", name="提交评价").click()
    citizen.get_by_text("感谢您的评价").wait_for()
    assert "请您评价本次服务" not in citizen.content()  # one rating per case
    _shot(citizen, "status-rated")
    clerk.goto(f"{web}/cases/{number}")
    assert "非常满意" in clerk.content() and "按时办结" in clerk.content()
    clerk.get_by_role("link", name="English").click()
    clerk.get_by_text("Citizen's rating").first.wait_for()
    assert "closed in time" in clerk.content() and "办理记录" not in clerk.content()
    _shot(clerk, "case-closed-english")
    clerk.get_by_role("link", name="中文").click()
    clerk.get_by_text("办理记录").wait_for()

    other = browser.new_context(viewport=VIEWPORT).new_page()
    other.goto(f"{web}/login")
    other.get_by_label("用户名").fill("zhangli")
    other.get_by_label("密码").fill(PASSWORD)
    other.get_by_role("button", name="登录").click()
    assert number not in other.content()
    response = other.goto(f"{web}/cases/{number}")
    assert response is not None and response.status == 404
    _shot(other, "other-office-404")


def _rating_code_in_her_letter(number: str) -> str:
    """The rating code as she reads it on her closing notice (the letter filed for the post)."""
    import re

    from tests.factories import document_text
    from tests.waiting import wait_for

    def filed() -> str | None:
        with session_scope() as session:
            return session.exec(
                select(Contact.document_path)
                .join(Case, Case.id == Contact.case_id)  # type: ignore[arg-type]
                .where(Case.number == number, Contact.kind == ContactKind.CLOSING)
            ).first()

    wait_for(filed, seconds=30, what="the closing notice filed")
    text = document_text(str(filed()))
    # pdftotext drops a hyphen that ends a line: the code may come back without it.
    found = re.search(r"评价码\s*([0-9A-Z]{4})-?([0-9A-Z]{4})", text)
    assert found, text
    return f"{found.group(1)}-{found.group(2)}"
