"""The workbench over HTTP (Starlette's TestClient, a real case database and SMTP server):
sign-in, office scoping, CSRF, an answer at the window, an agency's reply link, the citizen's
status page — and each way of getting it wrong, which records nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from casework.clock import now, start_of_office_day
from casework.links import status_token
from models.db import session_scope
from models.tables import Contact, ContactKind, OutboxMessage, ReplyLink
from tests.factories import WINDOW_PASSWORD as PASSWORD
from tests.factories import case_with_a_request, window_staff

pytestmark = pytest.mark.flow
DAY = start_of_office_day(date(2026, 11, 16))
OFFICE_CLOCK: list[datetime] = []  # the workbench's "now" in a test; set by `client`


@pytest.fixture
def client(fresh_db: object, smtp_server: list) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from web import app as web_app
    from web import limits

    limits.LOGIN_FAILURES._failures.clear()
    limits.CODE_FAILURES._failures.clear()
    window_staff(DAY)
    # The office's day is DAY, an hour after opening, whatever the calendar says.
    OFFICE_CLOCK[:] = [DAY + timedelta(hours=1)]
    web_app.app.state.clock = lambda: OFFICE_CLOCK[0]
    try:
        with TestClient(web_app.app, base_url="http://127.0.0.1") as test_client:
            yield test_client
    finally:
        web_app.app.state.clock = now


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def _sign_in(client: Any, username: str) -> None:
    token = _csrf(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": token, "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def _replies(case_number: str) -> list[tuple[str | None, str | None, str]]:
    from models.lookups import get_case

    with session_scope() as session:
        case = get_case(session, case_number)
        return [
            (c.agency_slug, c.outcome, c.channel)
            for c in session.exec(
                select(Contact).where(Contact.case_id == case.id, Contact.kind == ContactKind.REPLY)
            )
        ]


def test_a_clerk_signs_in_sees_her_office_case_and_records_an_answer(client: Any) -> None:
    number, _ = case_with_a_request(DAY)
    assert client.get("/", follow_redirects=False).status_code == 303  # not signed in
    _sign_in(client, "xuchang")
    # 我的案件 lists the cases she took in; a case opened at the command line is the office's.
    assert number not in client.get("/").text
    home = client.get("/?scope=office")
    assert number in home.text and "沈**" in home.text and "等单位答复" in home.text
    page = client.get(f"/cases/{number}")
    assert "殡仪馆业务大厅（前台）" in page.text and "waiting_agency" not in page.text

    # Without the page's token: refused, nothing recorded.
    forged = client.post(
        f"/cases/{number}/answer",
        data={
            "agency": "crematorium-front-desk",
            "outcome": "forwarded",
            "forward_to": "crematorium-archive-room",
            "csrf": "forged",
        },
    )
    assert forged.status_code == 403
    assert _replies(number) == []

    # A mistake comes back next to the form, in Chinese, and writes nothing.
    wrong = client.post(
        f"/cases/{number}/answer",
        data={"agency": "crematorium-front-desk", "outcome": "forwarded", "csrf": _csrf(page.text)},
    )
    assert wrong.status_code == 400 and "转往" in wrong.text
    assert _replies(number) == []

    done = client.post(
        f"/cases/{number}/answer",
        data={
            "agency": "crematorium-front-desk",
            "outcome": "forwarded",
            "forward_to": "crematorium-archive-room",
            "csrf": _csrf(page.text),
        },
    )
    assert done.status_code == 200 and "已记录" in done.text
    assert _replies(number) == [("crematorium-front-desk", "forwarded", "phone")]
    with session_scope() as session:
        from models.tables import CaseEvent

        actors = {e.actor for e in session.exec(select(CaseEvent)) if e.kind == "reply-recorded"}
    assert actors == {"xuchang"}  # the audit trail names the person


def test_a_clerk_of_another_office_cannot_see_the_case(client: Any) -> None:
    number, _ = case_with_a_request(DAY)
    _sign_in(client, "zhangli")
    assert number not in client.get("/").text
    hidden = client.get(f"/cases/{number}")
    missing = client.get("/cases/HC-2026-9999")
    assert hidden.status_code == missing.status_code == 404
    assert "沈" not in hidden.text
    token = _csrf(client.get("/").text)
    refused = client.post(
        f"/cases/{number}/answer",
        data={"agency": "crematorium-front-desk", "outcome": "received", "csrf": token},
    )
    assert refused.status_code == 404 and _replies(number) == []


def test_sign_in_is_refused_with_one_message_and_then_rate_limited(client: Any) -> None:
    for attempt in range(5):
        token = _csrf(client.get("/login").text)
        wrong = client.post(
            "/login", data={"username": "xuchang", "password": f"nope{attempt}", "csrf": token}
        )
        assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.text
    token = _csrf(client.get("/login").text)
    blocked = client.post(
        "/login", data={"username": "xuchang", "password": PASSWORD, "csrf": token}
    )
    assert blocked.status_code == 429 and "15 分钟" in blocked.text


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
    token = _csrf(page.text)
    bad = client.post(f"/r/{code}", data={"outcome": "forwarded", "csrf": token})
    assert bad.status_code == 400 and "转往的单位名称" in bad.text and _replies(number) == []
    done = client.post(
        f"/r/{code}",
        data={"outcome": "forwarded", "csrf": token, "forward_to": "crematorium-archive-room"},
    )
    assert done.status_code == 200 and "已收到您的答复" in done.text
    assert _replies(number) == [("crematorium-front-desk", "forwarded", "web")]
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
    assert len(_replies(number)) == 1
    _sign_in(client, "xuchang")
    page = client.get(f"/cases/{number}").text
    assert "单位另有答复，请核对" in page and "李科长" in page and "已取得材料" in page
    late_id = re.search(r"/late-answers/(\d+)/seen", page).group(1)  # type: ignore[union-attr]
    seen = client.post(f"/cases/{number}/late-answers/{late_id}/seen", data={"csrf": _csrf(page)})
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
    token = _csrf(client.get("/r").text)
    late = client.post(f"/r/{code}", data={"outcome": "received", "csrf": token})
    assert late.status_code == 410 and "过期" in late.text and _replies(number) == []


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


def _intake_data(page: str, **overrides: str) -> dict[str, str]:
    from cli.stories import synthetic_id_number

    data = {
        "csrf": _csrf(page),
        "intake_key": re.search(r'name="intake_key" value="([^"]+)"', page).group(1),  # type: ignore[union-attr]
        "name": "沈桂兰",
        "id_number": synthetic_id_number(date(1950, 3, 1)),
        "phone": "13800001234",
        "field_deceased_name": "王建国",
        "field_cremation_date": "2017-06-01",
    }
    data.update(overrides)
    return data


def _case_count() -> int:
    from models.tables import Case

    with session_scope() as session:
        return len(session.exec(select(Case)).all())


def test_intake_through_the_form_opens_one_case_and_prints_the_notice(client: Any) -> None:
    _sign_in(client, "xuchang")
    form = client.get("/intake/recover-cremation-certificate")
    assert form.status_code == 200 and "逝者姓名" in form.text and "火化日期" in form.text

    wrong_id = _intake_data(form.text, id_number="110102195003010021")
    refused = client.post("/intake/recover-cremation-certificate", data=wrong_id)
    assert refused.status_code == 400
    # The error sits by the ID field, and the rest of what was typed is kept.
    assert re.search(r'id="id_number-error" role="alert"\s*>身份证号码', refused.text)
    assert 'value="王建国"' in refused.text
    assert _case_count() == 0

    data = _intake_data(form.text)
    first = client.post("/intake/recover-cremation-certificate", data=data, follow_redirects=False)
    again = client.post("/intake/recover-cremation-certificate", data=data, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]  # a double submit: one case
    assert _case_count() == 1
    number = first.headers["location"].split("/")[2].split("?")[0]
    page = client.get(first.headers["location"])
    assert "案件已受理" in page.text and "打印一次性告知书" in page.text
    notice = client.get(f"/cases/{number}/notice.pdf")
    assert notice.status_code == 200 and notice.content.startswith(b"%PDF")
    with session_scope() as session:
        from models.lookups import get_case

        case = get_case(session, number)
        assert (case.office_code, case.taken_by) == ("taoranting", "xuchang")


def test_a_manager_sees_the_board_withdraws_and_every_look_at_personal_data_is_audited(
    client: Any,
) -> None:
    from models.tables import CaseEvent

    number, _ = case_with_a_request(DAY)
    _sign_in(client, "xuchang")
    assert client.get("/board").status_code == 403  # a clerk has no board
    page = client.get(f"/cases/{number}")
    refused = client.post(
        f"/cases/{number}/withdraw", data={"csrf": _csrf(page.text), "reason": "x"}
    )
    assert refused.status_code == 403 and "只有主管" in refused.text
    shown = client.post(
        f"/cases/{number}/reveal", data={"csrf": _csrf(page.text), "reason": "核对身份"}
    )
    assert shown.status_code == 200 and "沈桂兰" in shown.text
    with session_scope() as session:
        audit = [e for e in session.exec(select(CaseEvent)) if e.kind == "personal-data-shown"]
    assert [(e.detail, e.actor) for e in audit] == [("核对身份", "xuchang")]

    client.cookies.clear()
    _sign_in(client, "wangmin")
    board = client.get("/board")
    assert board.status_code == 200 and "每日看板" in board.text
    page = client.get(f"/cases/{number}")
    asked = client.post(
        f"/cases/{number}/withdraw", data={"csrf": _csrf(page.text), "reason": "申请人不再需要"}
    )
    # First a page that says what will follow: nothing is withdrawn yet.
    assert asked.status_code == 200 and "确认终止办理" in asked.text
    assert "殡仪馆业务大厅（前台）" in asked.text and "不能恢复" in asked.text
    assert "withdrawn" not in {e.kind for e in _events()}
    confirm = {"csrf": _csrf(asked.text), "reason": "申请人不再需要"}
    stopped = client.post(f"/cases/{number}/withdraw/confirm", data=confirm)
    twice = client.post(f"/cases/{number}/withdraw/confirm", data=confirm)  # a double submit
    assert stopped.status_code == twice.status_code == 200
    assert "已终止办理；已通知1个单位撤回协查" in stopped.text and "已终止" in stopped.text
    events = _events()
    assert [e.actor for e in events if e.kind == "case-withdrawn"] == ["wangmin"]  # once
    with session_scope() as session:
        notice = session.exec(
            select(Contact).where(Contact.kind == ContactKind.WITHDRAWAL_NOTICE)
        ).one()
        code = (
            session.exec(select(ReplyLink).where(ReplyLink.contact_id == notice.in_reply_to))
            .one()
            .code
        )
        queued = session.exec(select(OutboxMessage).where(OutboxMessage.contact_id == notice.id))
        mail = queued.one()
    assert notice.agency_slug == "crematorium-front-desk" and "撤回协查函" in mail.subject
    assert "无需再答复" in mail.body_text and "王敏" not in mail.body_text  # the case's clerk signs
    # The agency's link closes with the case; the citizen reads 已终止 and its reason, no rating.
    link = client.get(f"/r/{code}")
    assert link.status_code == 410 and "终止办理" in link.text
    status = client.get(f"/s/{number}/{status_token(number)}").text
    assert "案件已终止办理" in status and "申请人不再需要" in status
    assert "已办结" not in status and "请您评价本次服务" not in status


def _events() -> list[Any]:
    from models.tables import CaseEvent

    with session_scope() as session:
        return list(session.exec(select(CaseEvent)))


def test_notes_appointments_and_letters_from_the_case_page(client: Any) -> None:
    from models.tables import CaseEvent

    number, request_id = case_with_a_request(DAY)
    _sign_in(client, "xuchang")
    page = client.get(f"/cases/{number}")
    token = _csrf(page.text)
    assert f"/cases/{number}/letters/{request_id}" in page.text  # the request letter, filed
    letter = client.get(f"/cases/{number}/letters/{request_id}")
    assert letter.status_code == 200 and letter.content.startswith(b"%PDF")
    assert client.get(f"/cases/{number}/letters/999999").status_code == 404

    noted = client.post(f"/cases/{number}/note", data={"csrf": token, "text": "前台说下周回电"})
    assert noted.status_code == 200 and "前台说下周回电" in noted.text
    booked = client.post(
        f"/cases/{number}/appointment",
        data={
            "csrf": token,
            "agency": "crematorium-archive-room",
            "at": "2026-12-01T09:30",
            "escort": "张军",
            "pickup": "on",
        },
    )
    assert booked.status_code == 200 and "已预约：殡仪馆档案室 2026年12月1日 09:30" in booked.text
    bad = client.post(
        f"/cases/{number}/appointment",
        data={"csrf": token, "agency": "crematorium-archive-room", "at": "明天"},
    )
    assert bad.status_code == 400
    with session_scope() as session:
        events = [(e.kind, e.actor) for e in session.exec(select(CaseEvent))]
    assert ("note-added", "xuchang") in events and ("appointment-booked", "xuchang") in events

    client.cookies.clear()
    _sign_in(client, "zhangli")
    assert client.get(f"/cases/{number}/letters/{request_id}").status_code == 404


def test_english_is_one_click_away_and_remembered_on_every_page(client: Any) -> None:
    number, request_id = case_with_a_request(DAY)
    login = client.get("/login")
    assert '<html lang="zh-CN">' in login.text and "工作人员登录" in login.text
    assert 'href="/lang/en?next=/login"' in login.text
    switched = client.get("/lang/en?next=/login", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    login = client.get("/login")
    assert '<html lang="en">' in login.text and "Staff sign-in" in login.text
    assert "工作人员登录" not in login.text

    _sign_in(client, "xuchang")
    page = client.get(f"/cases/{number}").text
    assert "Record an agency&#39;s answer" in page and "waiting for an agency" in page
    assert "记录单位答复" not in page and "waiting_agency" not in page
    mistake = client.post(
        f"/cases/{number}/answer",
        data={"csrf": _csrf(page), "agency": "crematorium-front-desk", "outcome": "forwarded"},
    )
    assert mistake.status_code == 400 and "choose the body it was forwarded to" in mistake.text
    assert "转往" not in mistake.text  # the user's mistake is said in English too
    with session_scope() as session:
        code = session.exec(select(ReplyLink).where(ReplyLink.contact_id == request_id)).one().code
    assert "please answer our request" in client.get(f"/r/{code}").text
    status = client.get(f"/s/{number}/{status_token(number)}").text
    assert "you need not come in" in status and "无需您跑动" not in status

    # A language the workbench does not have, or a redirect off the site: Chinese, and home.
    assert (
        client.get("/lang/fr?next=//evil.example", follow_redirects=False).headers["location"]
        == "/"
    )
    client.get("/lang/zh?next=/")
    assert "我的案件" in client.get("/").text


def test_the_office_rules_from_the_case_page_and_the_citizen_rates_on_hers(client: Any) -> None:
    from casework.answers import Answer, AnswerOutcome
    from models import incoming
    from models.tables import CaseEvent, Rating
    from tests.test_case_records import _run_until_wait

    number, _ = case_with_a_request(DAY)
    _sign_in(client, "xuchang")
    page = client.get(f"/cases/{number}").text
    assert "限时办结" in page and "计时中" in page and "首问回执" in page
    assert "延期办结（主管）" not in page  # a clerk does not see the manager's form
    refused = client.post(
        f"/cases/{number}/extend", data={"csrf": _csrf(page), "days": "5", "reason": "档案搬迁"}
    )
    assert refused.status_code == 403
    receipt = client.get(f"/cases/{number}/receipt.pdf")
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")

    noticed = client.post(
        f"/cases/{number}/second-notice",
        data={"csrf": _csrf(page), "item": "户籍注销证明", "reason": "告知书漏列"},
    )
    assert noticed.status_code == 200 and "已二次告知：户籍注销证明" in noticed.text
    assert "二次告知：户籍注销证明（告知书漏列）" in noticed.text
    # She is told what to bring and where; the clock stands still until she does.
    status_url = f"/s/{number}/{status_token(number)}"
    status = client.get(status_url).text
    assert "需要您补充材料" in status and "户籍注销证明" in status and "告知书漏列" in status
    assert "北京市西城区陶然亭路1号" in status and "办理时限暂停计算" in status
    assert "无需您跑动" not in status

    client.post("/logout", data={"csrf": _csrf(noticed.text)})
    _sign_in(client, "wangmin")
    page = client.get(f"/cases/{number}").text
    empty = client.post(f"/cases/{number}/extend", data={"csrf": _csrf(page), "days": "x"})
    assert empty.status_code == 400 and "1–60" in empty.text
    extended = client.post(
        f"/cases/{number}/extend", data={"csrf": _csrf(page), "days": "5", "reason": "档案搬迁"}
    )
    assert extended.status_code == 200 and "已延期5个工作日" in extended.text
    assert "含延期5个工作日" in extended.text and "暂停计时" in extended.text

    with session_scope() as session:
        incoming.record_answer(
            actor="staff",
            session=session,
            case_number=number,
            answer=Answer(agency="crematorium-front-desk", outcome=AnswerOutcome.RECEIVED),
            as_of=DAY,
        )
    _run_until_wait(number, DAY)
    assert "请您评价本次服务" not in client.get(status_url).text  # she has not brought it yet
    page = client.get(f"/cases/{number}").text
    brought = client.post(
        f"/cases/{number}/visit",
        data={"csrf": _csrf(page), "brought": "extra-1", "channel": "post", "reason": "other"},
    )
    assert brought.status_code == 200
    _run_until_wait(number, DAY)
    status = client.get(status_url).text
    assert "请您评价本次服务" in status and "案件已办结" in status
    assert "请您携带身份证到北京市西城区陶然亭路1号" in status  # what she does next
    bad = client.post(status_url, data={"csrf": _csrf(status), "level": "7"})
    assert bad.status_code == 400 and "评价无效" in bad.text
    rated = client.post(
        status_url, data={"csrf": _csrf(status), "level": "2", "comment": "跑了两次"}
    )
    assert rated.status_code == 200 and "感谢您的评价" in rated.text
    assert "请您评价本次服务" not in rated.text  # once
    page = client.get(f"/cases/{number}").text
    assert "不满意" in page and "整改回访" in page and "群众评价（好差评）" not in page
    called = client.post(
        f"/cases/{number}/follow-up", data={"csrf": _csrf(page), "note": "已致电说明情况"}
    )
    assert called.status_code == 200 and "已回访" in called.text
    with session_scope() as session:
        rating = session.exec(select(Rating)).one()
        kinds = [e.actor for e in session.exec(select(CaseEvent)) if e.kind == "rated"]
    assert (rating.level, rating.channel, rating.followed_up_by) == (2, "status-page", "wangmin")
    assert kinds == ["citizen"]
