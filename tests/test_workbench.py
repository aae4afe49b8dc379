"""The workbench over HTTP (Starlette's TestClient, a real case database and SMTP server):
sign-in, office scoping, CSRF, an answer at the window, intake, a manager's board, extension
and withdrawal, the office's rules, English — and each way of getting it wrong, which records
nothing. The agencies' and citizens' pages: tests/test_agency_and_citizen_pages.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlmodel import select

from casework.links import rating_code, status_token
from models.db import session_scope
from models.tables import Contact, ContactKind, OutboxMessage, ReplyLink
from tests.factories import case_with_a_request
from tests.workbench import DAY, client_at, csrf_of, events, open_workbench, replies, sign_in

pytestmark = pytest.mark.flow


@pytest.fixture
def client(fresh_db: object, smtp_server: list) -> Iterator[Any]:
    with open_workbench() as test_client:
        yield test_client


def test_a_clerk_signs_in_sees_her_office_case_and_records_an_answer(client: Any) -> None:
    number, _ = case_with_a_request(DAY)
    assert client.get("/", follow_redirects=False).status_code == 303  # not signed in
    sign_in(client, "xuchang")
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
    assert replies(number) == []

    # A mistake comes back next to the form, in Chinese, and writes nothing.
    wrong = client.post(
        f"/cases/{number}/answer",
        data={
            "agency": "crematorium-front-desk",
            "outcome": "forwarded",
            "csrf": csrf_of(page.text),
        },
    )
    assert wrong.status_code == 400 and "转往" in wrong.text
    assert replies(number) == []

    done = client.post(
        f"/cases/{number}/answer",
        data={
            "agency": "crematorium-front-desk",
            "outcome": "forwarded",
            "forward_to": "crematorium-archive-room",
            "csrf": csrf_of(page.text),
        },
    )
    assert done.status_code == 200 and "已记录" in done.text
    assert replies(number) == [("crematorium-front-desk", "forwarded", "phone")]
    with session_scope() as session:
        from models.tables import CaseEvent

        actors = {e.actor for e in session.exec(select(CaseEvent)) if e.kind == "reply-recorded"}
    assert actors == {"xuchang"}  # the audit trail names the person


def test_a_clerk_of_another_office_cannot_see_the_case(client: Any) -> None:
    number, _ = case_with_a_request(DAY)
    sign_in(client, "zhangli")
    assert number not in client.get("/").text
    hidden = client.get(f"/cases/{number}")
    missing = client.get("/cases/HC-2026-9999")
    assert hidden.status_code == missing.status_code == 404
    assert "沈" not in hidden.text
    token = csrf_of(client.get("/").text)
    refused = client.post(
        f"/cases/{number}/answer",
        data={"agency": "crematorium-front-desk", "outcome": "received", "csrf": token},
    )
    assert refused.status_code == 404 and replies(number) == []


def _intake_data(page: str, **overrides: str) -> dict[str, str]:
    from cli.stories import synthetic_id_number

    data = {
        "csrf": csrf_of(page),
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
    sign_in(client, "xuchang")
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
    sign_in(client, "xuchang")
    assert client.get("/board").status_code == 403  # a clerk has no board
    page = client.get(f"/cases/{number}")
    refused = client.post(
        f"/cases/{number}/withdraw", data={"csrf": csrf_of(page.text), "reason": "x"}
    )
    assert refused.status_code == 403 and "只有主管" in refused.text
    shown = client.post(
        f"/cases/{number}/reveal", data={"csrf": csrf_of(page.text), "reason": "核对身份"}
    )
    assert shown.status_code == 200 and "沈桂兰" in shown.text
    with session_scope() as session:
        audit = [e for e in session.exec(select(CaseEvent)) if e.kind == "personal-data-shown"]
    assert [(e.detail, e.actor) for e in audit] == [("核对身份", "xuchang")]

    client.cookies.clear()
    sign_in(client, "wangmin")
    board = client.get("/board")
    assert board.status_code == 200 and "每日看板" in board.text
    page = client.get(f"/cases/{number}")
    asked = client.post(
        f"/cases/{number}/withdraw", data={"csrf": csrf_of(page.text), "reason": "申请人不再需要"}
    )
    # First a page that says what will follow: nothing is withdrawn yet.
    assert asked.status_code == 200 and "确认终止办理" in asked.text
    assert "殡仪馆业务大厅（前台）" in asked.text and "不能恢复" in asked.text
    assert "withdrawn" not in {e.kind for e in events()}
    confirm = {"csrf": csrf_of(asked.text), "reason": "申请人不再需要"}
    stopped = client.post(f"/cases/{number}/withdraw/confirm", data=confirm)
    twice = client.post(f"/cases/{number}/withdraw/confirm", data=confirm)  # a double submit
    assert stopped.status_code == twice.status_code == 200
    assert "已终止办理；已通知1个单位撤回协查" in stopped.text and "已终止" in stopped.text
    audit = events()
    assert [e.actor for e in audit if e.kind == "case-withdrawn"] == ["wangmin"]  # once
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


def test_notes_appointments_and_letters_from_the_case_page(client: Any) -> None:
    from models.tables import CaseEvent

    number, request_id = case_with_a_request(DAY)
    sign_in(client, "xuchang")
    page = client.get(f"/cases/{number}")
    token = csrf_of(page.text)
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
    sign_in(client, "zhangli")
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

    sign_in(client, "xuchang")
    page = client.get(f"/cases/{number}").text
    assert "Record an agency&#39;s answer" in page and "waiting for an agency" in page
    assert "记录单位答复" not in page and "waiting_agency" not in page
    mistake = client.post(
        f"/cases/{number}/answer",
        data={"csrf": csrf_of(page), "agency": "crematorium-front-desk", "outcome": "forwarded"},
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
    sign_in(client, "xuchang")
    page = client.get(f"/cases/{number}").text
    assert "限时办结" in page and "计时中" in page and "首问回执" in page
    assert "延期办结（主管）" not in page  # a clerk does not see the manager's form
    refused = client.post(
        f"/cases/{number}/extend", data={"csrf": csrf_of(page), "days": "5", "reason": "档案搬迁"}
    )
    assert refused.status_code == 403
    receipt = client.get(f"/cases/{number}/receipt.pdf")
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")

    noticed = client.post(
        f"/cases/{number}/second-notice",
        data={"csrf": csrf_of(page), "item": "户籍注销证明", "reason": "告知书漏列"},
    )
    assert noticed.status_code == 200 and "已二次告知：户籍注销证明" in noticed.text
    assert "二次告知：户籍注销证明（告知书漏列）" in noticed.text
    # She is told what to bring and where; the clock stands still until she does.
    status_url = f"/s/{number}/{status_token(number)}"
    status = client.get(status_url).text
    assert "需要您补充材料" in status and "户籍注销证明" in status and "告知书漏列" in status
    assert "北京市西城区陶然亭路1号" in status and "办理时限暂停计算" in status
    assert "无需您跑动" not in status

    client.post("/logout", data={"csrf": csrf_of(noticed.text)})
    sign_in(client, "wangmin")
    page = client.get(f"/cases/{number}").text
    empty = client.post(f"/cases/{number}/extend", data={"csrf": csrf_of(page), "days": "x"})
    assert empty.status_code == 400 and "1–60" in empty.text
    extended = client.post(
        f"/cases/{number}/extend", data={"csrf": csrf_of(page), "days": "5", "reason": "档案搬迁"}
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
        data={"csrf": csrf_of(page), "brought": "extra-1", "channel": "post", "reason": "other"},
    )
    assert brought.status_code == 200
    _run_until_wait(number, DAY)
    status = client.get(status_url).text
    assert "请您评价本次服务" in status and "案件已办结" in status
    assert "请您携带身份证到北京市西城区陶然亭路1号" in status  # what she does next
    # Her closing notice carries the rating code; no staff page does.
    with session_scope() as session:
        closing = session.exec(
            select(OutboxMessage.body_text)
            .join(Contact, Contact.id == OutboxMessage.contact_id)  # type: ignore[arg-type]
            .where(Contact.kind == ContactKind.CLOSING)
        ).one()
    code = rating_code(number)
    assert f"输入评价码 {code}" in closing
    assert code not in client.get(f"/cases/{number}").text
    # The workbench's browser (signed in as the manager) cannot give her rating…
    by_staff = client.post(status_url, data={"csrf": csrf_of(status), "level": "5", "code": code})
    assert (
        by_staff.status_code == 403
        and "工作人员登录工作台的浏览器不能提交群众评价" in by_staff.text
    )
    # …and on her own phone, the status link alone is not enough.
    phone = client_at("10.1.2.3")
    status = phone.get(status_url).text
    unsigned = phone.post(status_url, data={"csrf": csrf_of(status), "level": "5"})
    assert unsigned.status_code == 400 and "评价码不对" in unsigned.text
    bad = phone.post(status_url, data={"csrf": csrf_of(status), "level": "7", "code": code})
    assert bad.status_code == 400 and "评价无效" in bad.text
    rated = phone.post(
        status_url,
        data={"csrf": csrf_of(status), "level": "2", "comment": "跑了两次", "code": code.lower()},
    )
    assert rated.status_code == 200 and "感谢您的评价" in rated.text
    assert "请您评价本次服务" not in rated.text  # once
    page = client.get(f"/cases/{number}").text
    assert "不满意" in page and "整改回访" in page and "群众评价（好差评）" not in page
    assert "群众本人凭评价码提交" in page
    called = client.post(
        f"/cases/{number}/follow-up", data={"csrf": csrf_of(page), "note": "已致电说明情况"}
    )
    assert called.status_code == 200 and "已回访" in called.text
    with session_scope() as session:
        rating = session.exec(select(Rating)).one()
        kinds = [e.actor for e in session.exec(select(CaseEvent)) if e.kind == "rated"]
    assert (rating.level, rating.channel, rating.followed_up_by) == (2, "status-page", "wangmin")
    assert kinds == ["citizen"]
