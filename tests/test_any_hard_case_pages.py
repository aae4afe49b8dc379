"""Any hard case on the workbench, over HTTP (the real app, case database and SMTP server): the
general intake form and its mistakes beside their fields, the route panel's forms, a document
kept and opened (never run in the browser), the directory for everyone and for managers, and
the case-type editor's preview and refusals. Each mistake writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlmodel import func, select

from cli.stories import synthetic_id_number
from models.db import session_scope
from models.tables import Agency, Case, CaseTypeVersion, Document
from tests.workbench import csrf_of, open_workbench, sign_in

pytestmark = pytest.mark.flow
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def client(fresh_db: object, smtp_server: list) -> Iterator[Any]:
    with open_workbench() as test_client:
        yield test_client


def count(model: type) -> int:
    with session_scope() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _general_form(page: str, **more: str) -> dict[str, str]:
    return {
        "csrf": csrf_of(page),
        "name": "王秀英",
        "id_number": synthetic_id_number(date(1960, 3, 15), "024"),
        "phone": "13800001111",
        "title": "为已故父亲开具服役证明",
        "problem": "办理遗属抚恤需要父亲的服役证明",
        "tier": "hard",
        **more,
    }


def _veterans(client: Any) -> str:
    sign_in(client, "wangmin")
    page = client.get("/directory").text
    added = client.post(
        "/directory",
        data={
            "csrf": csrf_of(page),
            "name": "西城区退役军人事务局",
            "department": "优抚科",
            "email": "yfk@veterans.example",
            "office_hours": "周一至周五",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    with session_scope() as session:
        return session.exec(select(Agency).where(Agency.name == "西城区退役军人事务局")).one().slug


def test_a_general_case_through_the_form(client: Any) -> None:
    veterans = _veterans(client)
    sign_in(client, "xuchang")
    choice = client.get("/intake").text
    assert "其他疑难事项" in choice
    page = client.get("/intake/general").text
    assert "事项标题" in page and "西城区退役军人事务局" in page
    # No material at all; a material with no agency; an unknown agency: said, nothing written.
    for rows, said in [
        ({}, "请至少写一项材料"),
        ({"need_name_1": "服役证明"}, "请写明联系哪些单位"),
        ({"need_name_1": "服役证明", "need_agency_1_1": "agency-404"}, "找不到单位"),
        (
            {"need_name_1": "服役证明", "need_agency_1_1": veterans, "bring_1": "服役证明"},
            "材料重复",
        ),
    ]:
        refused = client.post("/intake/general", data=_general_form(page, **rows))
        assert refused.status_code == 400 and said in refused.text, (rows, refused.text[-3000:])
        assert 'value="为已故父亲开具服役证明"' in refused.text  # what she typed is still there
    assert count(Case) == 0
    opened = client.post(
        "/intake/general",
        data=_general_form(
            page,
            need_name_1="服役证明",
            need_agency_1_1=veterans,
            need_ask_1="请查询服役记录",
            need_name_2="部队档案",
            need_new_2="某部队档案室",
            need_new_email_2="archive@unit.example",
            bring_1="亲属关系证明",
        ),
        follow_redirects=False,
    )
    assert opened.status_code == 303, opened.text[-2000:]
    number = opened.headers["location"].split("/cases/")[1].split("?")[0]
    case_page = client.get(f"/cases/{number}").text
    for shown in (
        "为已故父亲开具服役证明",
        "办理遗属抚恤需要父亲的服役证明",
        "第1版",
        "办理路径有变化",
    ):
        assert shown in case_page, shown
    with session_scope() as session:
        archive = session.exec(select(Agency).where(Agency.name == "某部队档案室")).one()
    assert archive.case_id is not None  # added for this case on the spot, not to the directory
    assert "某部队档案室" not in client.get("/directory").text


def test_the_route_panel_and_documents(client: Any) -> None:
    veterans = _veterans(client)
    sign_in(client, "xuchang")
    page = client.get("/intake/general").text
    opened = client.post(
        "/intake/general",
        data=_general_form(
            page, need_name_1="服役证明", need_agency_1_1=veterans, bring_1="亲属关系证明"
        ),
        follow_redirects=False,
    )
    number = opened.headers["location"].split("/cases/")[1].split("?")[0]
    case_page = client.get(f"/cases/{number}").text
    token = csrf_of(case_page)
    # An agency written like the directory's: refused with the entry named, a tick offered.
    near = client.post(
        f"/cases/{number}/agencies", data={"csrf": token, "name": "西城区 退役军人事务局（优抚科）"}
    )
    assert near.status_code == 400 and "相近" in near.text and "确是另一个单位" in near.text
    added = client.post(
        f"/cases/{number}/agencies",
        data={
            "csrf": token,
            "name": "某部队档案室",
            "email": "a@unit.example",
            "material": "need-1",
        },
    )
    assert (
        added.status_code == 200 and "已添加单位某部队档案室，并联系其办理：服役证明" in added.text
    )
    assert "西城区退役军人事务局 → 某部队档案室" in added.text  # the order asked
    need = client.post(
        f"/cases/{number}/need",
        data={"csrf": token, "name": "死亡证明", "source": "applicant", "reason": "单位要求"},
    )
    assert need.status_code == 200 and "新增材料（请申请人补充）：死亡证明" in need.text
    # A clerk may not waive; the page offers her no waiver, the address refuses her.
    assert "免收材料（主管）" not in need.text
    refused = client.post(
        f"/cases/{number}/waive", data={"csrf": token, "material": "need-2", "reason": "x"}
    )
    assert refused.status_code == 403
    handed = client.post(f"/cases/{number}/hand-over", data={"csrf": token, "to": "wangmin"})
    assert "已交给王敏承办" in handed.text and "承办人：王敏" in handed.text
    # Documents: a Word file and an empty one refused beside the form; a PDF kept and opened.
    for name, content, said in [
        ("letter.docx", b"PK\x03\x04word", "只能留存"),
        ("empty.pdf", b"", "文件是空的"),
    ]:
        bad = client.post(
            f"/cases/{number}/documents",
            data={"csrf": token, "material": "need-2", "via": "window"},
            files={"file": (name, content, "application/pdf")},
        )
        assert bad.status_code == 400 and said in bad.text
    assert count(Document) == 0
    kept = client.post(
        f"/cases/{number}/documents",
        data={"csrf": token, "material": "need-2", "via": "window"},
        files={"file": ("亲属关系证明.pdf", PDF, "application/pdf")},
    )
    assert kept.status_code == 200 and "已留存：PDF" in kept.text
    with session_scope() as session:
        document = session.exec(select(Document)).one()
    link = f"/cases/{number}/documents/{document.id}"
    assert link in kept.text
    shown = client.get(link)
    assert shown.status_code == 200 and shown.content == PDF
    assert shown.headers["content-type"] == "application/pdf"
    assert shown.headers["content-security-policy"] == "sandbox"
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"/cases/{number}/documents/{(document.id or 0) + 1}").status_code == 404
    # Another office's clerk sees neither the case nor its document.
    sign_in(client, "zhangli")
    assert client.get(link).status_code == 404


def test_the_directory_and_the_case_type_editor_are_the_managers(client: Any) -> None:
    veterans = _veterans(client)
    directory = client.get("/directory").text
    assert "修改" in directory and "原单位人事部门" in directory and "每案指定具体单位" in directory
    near = client.post(
        "/directory", data={"csrf": csrf_of(directory), "name": "西城区退役军人事物局"}
    )
    assert near.status_code == 400 and "相近" in near.text
    edit = client.get(f"/directory/{veterans}").text
    assert 'value="yfk@veterans.example"' in edit
    edited = client.post(
        f"/directory/{veterans}",
        data={"csrf": csrf_of(edit), "name": "西城区退役军人事务局", "notes": "找李科长"},
        follow_redirects=True,
    )
    assert "找李科长" in edited.text
    # The editor: a preview of the letters, a refusal said beside the text, nothing stored.
    new = client.get("/case-types/new").text
    assert "编写新的事项类型" in new
    document = new.split('name="document"')[1].split(">", 1)[1].split("</textarea>")[0]
    import html

    text = html.unescape(document)
    preview = client.post(
        "/case-types", data={"csrf": csrf_of(new), "document": text, "action": "preview"}
    )
    assert preview.status_code == 200 and "协查函（示例）" in preview.text
    before = count(CaseTypeVersion)
    for broken, said in [
        (text.replace("slug: new-case-type", "slug: archive-custody-proof"), "随系统提供"),
        (text.replace("title:", "titel:"), "事项类型有误"),
        ("- just a list", "事项类型有误"),
    ]:
        refused = client.post(
            "/case-types", data={"csrf": csrf_of(new), "document": broken, "action": "save"}
        )
        assert refused.status_code == 400 and said in refused.text, refused.text[-1500:]
    assert count(CaseTypeVersion) == before
    saved = client.post(
        "/case-types",
        data={"csrf": csrf_of(new), "document": text, "action": "save"},
        follow_redirects=True,
    )
    assert "第1版" in saved.text and count(CaseTypeVersion) == before + 1
    assert "新的事项类型" in client.get("/intake").text  # open for intake at once
    # A clerk reads the directory but may not change it, nor edit case types.
    sign_in(client, "xuchang")
    assert client.get("/directory").status_code == 200
    assert client.get(f"/directory/{veterans}").status_code == 403
    assert client.get("/case-types").status_code == 403
