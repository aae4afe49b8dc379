"""A case none of the seed types covers, through the workbench in a real browser (chromium,
1366×768) on the real stack: a clerk takes it in as a general case (a resident needs proof of
her late father's military service); the veterans' bureau answers on its reply page that it
needs a document from her, which becomes a tracked material; the document is kept when she
brings it; a new agency is added on the case page and the request forwarded to it; it answers
with a scan attached, and the case closes. A manager saves the route as a case type and edits it
(version 2) while a case opened on version 1 runs to its end on version 1, and a new case opens
on version 2, with no restart. Screenshots go to test-artifacts/screenshots/any-case-*.png."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest
from sqlmodel import col, select

from casework.clock import now
from casework.settings import get_settings
from cli.stories import synthetic_id_number
from gateways.maildir import read_mailbox
from gateways.prefect_client import wait_until_settled
from models.db import session_scope
from models.lookups import get_case
from models.tables import Case, Contact, ContactKind, Document, ReplyLink
from tests.conftest import SCREENSHOTS
from tests.factories import WINDOW_PASSWORD as PASSWORD
from tests.factories import window_staff
from usecases import agencies
from usecases.accounts import console_actor

pytestmark = pytest.mark.integration
VIEWPORT = {"width": 1366, "height": 768}
SCAN = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"any-case-{name}.png"), full_page=True)


def _settle(number: str, since: Any) -> str:
    deadline = time.monotonic() + 60
    while True:
        with session_scope() as session:
            run_id = get_case(session, number).flow_run_id
        if run_id or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert run_id
    return wait_until_settled(run_id, after=since, timeout=180)


def _reply_code(number: str, agency: str) -> str:
    """The reply code of the newest request to `agency` on the case."""
    with session_scope() as session:
        case = get_case(session, number)
        request = session.exec(
            select(Contact)
            .where(
                Contact.case_id == case.id,
                Contact.kind == ContactKind.REQUEST,
                Contact.agency_slug == agency,
            )
            .order_by(col(Contact.id).desc())
        ).first()
        assert request is not None
        return session.exec(select(ReplyLink).where(ReplyLink.contact_id == request.id)).one().code


def _mail_to(address: str) -> list[Any]:
    return [m for m in read_mailbox(get_settings().mailbox_dir) if m["X-Envelope-To"] == address]


def _sign_in(browser: Any, username: str) -> Any:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    deadline = time.monotonic() + 60
    while True:  # the workbench starts beside the Prefect server
        try:
            page.goto(f"{get_settings().web_url}/login")
            break
        except Exception:
            assert time.monotonic() < deadline, "the workbench never answered"
            time.sleep(1)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    return page


def _agency_answers(browser: Any, number: str, agency: str, outcome: str, **more: Any) -> None:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(f"{get_settings().web_url}/r/{_reply_code(number, agency)}")
    page.get_by_label(outcome).check()
    if "needs" in more:
        page.get_by_label("需要申请人补充什么").fill(more["needs"])
    if "scan" in more:
        page.get_by_label("附上材料的扫描件、照片或 PDF（可不附）").set_input_files(more["scan"])
    if "shot" in more:
        _shot(page, more["shot"])
    page.get_by_role("button", name="提交答复").click()
    page.get_by_text("已收到您的答复").wait_for()
    page.context.close()


def _take_in(clerk: Any, slug_title: str, *, name: str, born: date, serial: str) -> str:
    web = get_settings().web_url
    clerk.goto(f"{web}/intake")
    clerk.get_by_role("link", name=slug_title).click()
    clerk.get_by_role("textbox", name="姓名", exact=True).fill(name)
    clerk.get_by_label("公民身份号码（18位）").fill(synthetic_id_number(born, serial))
    clerk.get_by_label("联系电话").fill("13800002222")
    for box in clerk.get_by_role("checkbox").all():  # everything she is to bring, brought today
        box.check()
    clerk.get_by_role("button", name="受理并打印一次性告知书").click()
    clerk.get_by_text("案件已受理").wait_for()
    return str(clerk.url.split("/cases/")[1].split("?")[0])


def test_a_case_no_seed_type_covers_from_intake_to_a_versioned_case_type(
    stack: object, browser: Any, tmp_path: Any
) -> None:
    web = get_settings().web_url
    window_staff(now())
    veterans = agencies.add_agency(
        actor=console_actor(),
        form=agencies.AgencyForm(
            name="西城区退役军人事务局", department="优抚科", email="yfk@veterans.example"
        ),
        distinct=True,  # the stack is shared: another module's test may have added one alike
    ).slug
    scan = tmp_path / "死亡证明.pdf"
    scan.write_bytes(SCAN)

    # 受理: none of the types fits; the clerk writes the route herself.
    clerk = _sign_in(browser, "xuchang")
    clerk.get_by_role("link", name="受理", exact=True).click()
    _shot(clerk, "intake-choice")
    clerk.get_by_role("link", name="其他疑难事项").click()
    clerk.get_by_role("textbox", name="姓名", exact=True).fill("王秀英")
    clerk.get_by_label("公民身份号码（18位）").fill(synthetic_id_number(date(1960, 3, 15), "024"))
    clerk.get_by_label("联系电话").fill("13800001111")
    clerk.get_by_label("事项标题（简短，不写姓名，如：为已故父亲开具服役证明）").fill(
        "为已故父亲开具服役证明"
    )
    clerk.get_by_label("群众诉求（用她的话记下）").fill(
        "父亲五十年代在部队服役，现在办理遗属抚恤需要服役证明，家里的原件找不到了。"
    )
    clerk.locator("#need_name_1").fill("服役证明")
    clerk.locator("#need_agency_1_1").select_option(label="西城区退役军人事务局")
    clerk.locator("#need_ask_1").fill("请查询其1951年至1956年的服役记录并出具证明。")
    clerk.locator("#bring_1").fill("申请人与父亲的亲属关系证明")
    _shot(clerk, "intake-general")
    opened_at = now()
    clerk.get_by_role("button", name="受理并打印一次性告知书").click()
    clerk.get_by_text("案件已受理").wait_for()
    number = clerk.url.split("/cases/")[1].split("?")[0]
    assert "为已故父亲开具服役证明" in clerk.content()
    assert _settle(number, opened_at) == "Suspended"
    (request,) = _mail_to("yfk@veterans.example")
    assert (
        "请查询其1951年至1956年的服役记录并出具证明。"
        in request.get_body(preferencelist=("plain",)).get_content()
    )

    # The bureau answers on its reply page: it needs her father's death certificate.
    answered_at = now()
    _agency_answers(
        browser, number, veterans, "需要申请人补充材料", needs="申请人父亲的死亡证明", shot="reply"
    )
    assert _settle(number, answered_at) == "Suspended"
    clerk.goto(f"{web}/cases/{number}")
    clerk.get_by_text("办理路径有变化").click()
    clerk.get_by_label("材料名称").fill("父亲的死亡证明")
    clerk.get_by_label("请申请人补充（二次告知）").check()
    clerk.get_by_label("告知书未列明的原因（请申请人补充时）").fill("退役军人事务局开具证明时要求")
    clerk.get_by_role("button", name="新增材料").click()
    clerk.get_by_text("已记录").wait_for()
    assert "父亲的死亡证明" in clerk.locator("#h-materials + table").inner_text()
    _shot(clerk, "second-notice")

    # She brings it the next day: taken in, its scan kept with it.
    clerk.get_by_label("父亲的死亡证明", exact=True).check()
    clerk.get_by_label("申请人与父亲的亲属关系证明", exact=True).check()
    clerk.get_by_label("服役证明", exact=True).check()  # the bureau's request goes again, with it
    brought_at = now()
    clerk.get_by_role("button", name="记录", exact=True).click()
    clerk.get_by_text("已记录").wait_for()
    clerk.get_by_label("留存电子件（扫描件、照片或 PDF）").select_option(label="父亲的死亡证明")
    clerk.locator("input[type=file][name=file]").set_input_files(str(scan))
    clerk.get_by_role("button", name="留存").click()
    clerk.get_by_text("已留存：PDF").wait_for()
    assert _settle(number, brought_at) == "Suspended"

    # The bureau phones: its records went to the unit's archive. Added on the case page, asked.
    clerk.goto(f"{web}/cases/{number}")
    clerk.get_by_text("办理路径有变化").click()
    clerk.get_by_label("单位名称").fill("某部队原单位档案室")
    clerk.get_by_label("电子邮箱（没有则邮寄）").fill("archive@unit.example")
    clerk.get_by_role("button", name="添加单位").click()
    clerk.get_by_text("已添加单位").wait_for()
    clerk.get_by_label("答复结果").select_option(label="转其他单位")
    clerk.get_by_label("转往单位（答复为“转其他单位”时选择）").select_option(
        label="某部队原单位档案室"
    )
    forwarded_at = now()
    clerk.get_by_role("button", name="记录答复").click()
    clerk.get_by_text("已记录").wait_for()
    _shot(clerk, "case-forwarded")
    assert _settle(number, forwarded_at) == "Suspended"
    assert len(_mail_to("archive@unit.example")) == 1

    # The archive answers with the proof, a scan attached; the case closes.
    archive = next(
        a.slug
        for a in agencies.agencies_for_case(actor=console_actor(), case_number=number)
        if a.name == "某部队原单位档案室"
    )
    received_at = now()
    _agency_answers(browser, number, archive, "已找到，材料已交给窗口工作人员", scan=str(scan))
    assert _settle(number, received_at) == "Completed"
    clerk.reload()
    assert "已办结" in clerk.content()
    assert clerk.get_by_role("link", name="电子件：PDF").count() == 2
    _shot(clerk, "case-closed")
    with session_scope() as session:
        case = get_case(session, number)
        kept = session.exec(select(Document).where(Document.case_id == case.id)).all()
    assert sorted((d.material_slug, d.received_via) for d in kept) == [
        ("extra-1", "window"),
        ("need-1", "web"),
    ]

    # A manager saves the route as a case type; it opens for intake at once.
    manager = _sign_in(browser, "wangmin")
    manager.goto(f"{web}/cases/{number}")
    manager.get_by_label("事项类型名称").fill("为已故亲属开具服役证明")
    manager.get_by_label("代码（小写英文和连字符，如 veteran-service-proof）").fill(
        "veteran-service-proof"
    )
    manager.get_by_role("button", name="保存为事项类型").click()
    manager.get_by_text("已保存").wait_for()
    document = manager.get_by_label("事项类型（YAML）").input_value()
    assert "某部队原单位档案室" not in document  # the case's own agency: a role now
    assert "王秀英" not in document

    v1_opened_at = now()
    on_v1 = _take_in(
        clerk, "为已故亲属开具服役证明", name="李建国", born=date(1962, 5, 1), serial="031"
    )
    with session_scope() as session:
        assert get_case(session, on_v1).playbook_version == 1
    assert _settle(on_v1, v1_opened_at) == "Suspended"

    # Version 2: the office's own words in every request letter; previewed, then saved.
    manager.goto(f"{web}/case-types/veteran-service-proof")
    edited = (
        manager.get_by_label("事项类型（YAML）")
        .input_value()
        .replace("title: 为已故亲属开具服役证明", "title: 为已故亲属开具服役证明（第二版）")
    ) + "request_wording: 如需申请人补充材料，请一次性来函告知。\n"
    manager.get_by_label("事项类型（YAML）").fill(edited)
    manager.get_by_role("button", name="预览告知书和协查函").click()
    manager.get_by_text("协查函（示例）").wait_for()
    assert "如需申请人补充材料，请一次性来函告知。" in manager.content()
    _shot(manager, "case-type-preview")
    manager.get_by_role("button", name="保存为新版本").click()
    manager.get_by_text("第2版").first.wait_for()
    _shot(manager, "case-type-v2")
    manager.goto(f"{web}/case-types")
    _shot(manager, "case-types")

    # The case opened on version 1 runs to its end on version 1.
    received_at = now()
    _agency_answers(browser, on_v1, veterans, "已找到，材料已交给窗口工作人员")
    assert _settle(on_v1, received_at) == "Completed"
    with session_scope() as session:
        assert get_case(session, on_v1).playbook_version == 1

    # A new case opens on version 2 (no restart), and its letter carries version 2's words.
    v2_opened_at = now()
    on_v2 = _take_in(
        clerk, "为已故亲属开具服役证明（第二版）", name="赵四", born=date(1963, 6, 2), serial="045"
    )
    with session_scope() as session:
        assert get_case(session, on_v2).playbook_version == 2
    assert _settle(on_v2, v2_opened_at) == "Suspended"
    letters = {
        m["Subject"]: m.get_body(preferencelist=("plain",)).get_content()
        for m in _mail_to("yfk@veterans.example")
    }
    worded = {
        subject.split("]")[0][1:]: "请一次性来函告知" in text for subject, text in letters.items()
    }
    assert worded[on_v1] is False and worded[on_v2] is True
    clerk.goto(f"{web}/cases/{on_v2}")
    assert "第2版" in clerk.content()
    _shot(clerk, "case-on-v2")
    # No deployment of its own was made: its run goes under the general one, and Prefect's UI
    # still tells its case type by the run's tag.
    from tests.test_managers_view import run_named

    assert "veteran-service-proof" in run_named(f"case-{on_v2}").tags

    # The directory: everyone reads it; the case's own agency is not in it.
    clerk.goto(f"{web}/directory")
    assert "西城区退役军人事务局" in clerk.content()
    assert "某部队原单位档案室" not in clerk.content()
    _shot(clerk, "directory")
    with session_scope() as session:
        assert session.exec(select(Case).where(Case.number == on_v2)).one().playbook == (
            "veteran-service-proof"
        )
