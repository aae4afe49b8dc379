"""Any hard case, through the commands and use cases a window uses, on a real case database and
SMTP server (no Prefect: each step the run would take is carried out by its task): a general case
taken in with its own route, the route changed on the way, the agency directory, documents kept
with materials, case types the office writes and versions, chasing that follows each agency."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from casework.clock import start_of_office_day
from casework.errors import UserError
from casework.planning import Action, Step, plan_next_step
from casework.workdays import add_working_days
from cli.main import app
from cli.stories import synthetic_id_number
from models import case_types, lookups
from models.accounts import console_actor
from models.db import session_scope
from models.tables import Agency, Case, CaseEvent, CaseMaterial, Document
from tasks.steps import carry_out
from tests.factories import window_staff
from usecases import agencies, documents, route
from usecases import case_types as case_type_uses
from usecases.accounts import who

pytestmark = pytest.mark.flow
runner = CliRunner()
DAY = start_of_office_day(date(2026, 11, 16))  # a Monday; no holiday in the weeks after it
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def cli(*args: str, ok: bool = True) -> Any:
    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


def count(model: type) -> int:
    with session_scope() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def directory_agency(name: str, email: str, *more: str) -> str:
    return str(
        json.loads(cli("agency", "add", "--name", name, "--email", email, *more, "--json").stdout)[
            "slug"
        ]
    )


def opened(*args: str) -> str:
    """`casework open …`: the case number it printed."""
    # The same person's second case of a type asks to be confirmed: these are confirmed.
    shown = cli("open", *args, "--no-start", "--confirm", "--json").stdout
    return str(json.loads(shown)["case_number"])


def open_general(*needs: str, brings: tuple[str, ...] = (), **options: str) -> str:
    args = [
        "general", "--name", "王秀英", "--email", "wang.xiuying@example.com",
        "--id-number", synthetic_id_number(date(1960, 3, 15), "024"), "--phone", "13800001111",
        "--title", options.get("title", "为已故父亲开具服役证明"),
        "--problem", "父亲五十年代在部队服役，办理遗属抚恤需要服役证明，原件遗失。",
    ]  # fmt: skip
    for need in needs:
        args += ["--need", need]
    for item in brings:
        args += ["--brings", item]
    for name, text in options.items():
        if name == "ask":
            args += ["--ask", text]
    return opened(*args)


def act(number: str, as_of: datetime) -> Step:
    """What the case's run would do next on `as_of`: planned as the flow plans, carried out by
    the task the flow would run (its function, without Prefect)."""
    with session_scope() as session:
        view = lookups.case_view(session=session, case_number=number)
        playbook = case_types.playbook_of_case(session, lookups.get_case(session, number))
    step = plan_next_step(view, playbook, as_of)
    if step.action not in (Action.WAIT, Action.DONE):
        carry_out(number, step, as_of, run=lambda task, *args: task.fn(*args))
    return step


def run_until_waiting(number: str, as_of: datetime) -> list[Step]:
    steps = []
    while (step := act(number, as_of)).action not in (Action.WAIT, Action.DONE):
        steps.append(step)
    return steps


def body(message: Any) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_a_general_case_asks_each_agency_in_the_clerks_words(
    fresh_db: object, smtp_server: list
) -> None:
    veterans = directory_agency("西城区退役军人事务局", "yfk@veterans.example")
    archive = directory_agency("某部队档案室", "archive@unit.example")
    ask = "服役证明=请查询1951年至1956年的服役记录并出具证明。"
    number = open_general(f"服役证明={veterans},{archive}", brings=("亲属关系证明",), ask=ask)
    steps = run_until_waiting(number, DAY)
    assert [s.action for s in steps] == [Action.NOTIFY, Action.REQUEST]
    notice, request = smtp_server
    assert request["X-Envelope-To"] == "yfk@veterans.example"
    assert request["Subject"] == f"[{number}] 关于协助办理“服役证明”的函"
    letter = body(request)
    assert "请查询1951年至1956年的服役记录并出具证明。" in letter
    assert "为已故父亲开具服役证明" in letter and "/r/" in letter  # its title, its reply link
    told = body(notice)
    assert "服役证明" in told and "亲属关系证明" in told and "请您本人准备" in told
    assert "西城区退役军人事务局；如无记录再联系某部队档案室" in told
    # The first agency has no record: the second on the clerk's route is asked next.
    cli("reply", number, "--agency", veterans, "--outcome", "no-record")
    assert [s.agency for s in run_until_waiting(number, DAY)] == [archive]
    shown = cli("show", number, "--json").stdout
    shown = json.loads(shown)
    assert shown["playbook"] == "general" and shown["playbook_version"] == 1
    assert [m["chain"] for m in shown["materials"]] == [[veterans, archive], []]
    assert shown["problem"].startswith("父亲五十年代")


def test_a_general_case_with_a_mistake_is_refused_whole(fresh_db: object) -> None:
    veterans = directory_agency("西城区退役军人事务局", "yfk@veterans.example")
    base = [
        "open", "general", "--no-start", "--name", "王秀英",
        "--id-number", synthetic_id_number(date(1960, 3, 15), "024"), "--phone", "13800001111",
        "--title", "服役证明", "--problem", "需要服役证明",
    ]  # fmt: skip
    mistakes = {
        ("--need", "服役证明=agency-404"): "找不到单位：agency-404",
        ("--need", f"服役证明={veterans}", "--brings", "服役证明"): "材料重复：服役证明",
        ("--need", "服役证明="): "--need 的格式应为",
        ("--need", f"服役证明={veterans},{veterans}"): "重复",
        ("--need", f"服役证明={veterans}", "--tier", "urgent"): "urgent",
        ("--need", f"服役证明={veterans}", "--ask", "户口本=请出具"): "户口本",
        (): "至少",
    }
    for extra, said in mistakes.items():
        result = cli(*base, *extra, ok=False)
        assert result.exit_code == 2, (extra, result.output)
        assert said in result.output and "Traceback" not in result.output, (extra, result.output)
    assert count(Case) == 0 and count(CaseMaterial) == 0


def test_the_route_changes_on_the_way_and_the_run_picks_each_change_up(
    fresh_db: object, smtp_server: list
) -> None:
    window_staff(DAY)
    clerk, manager, other = who("xuchang"), who("wangmin"), who("zhangli")
    assert clerk and manager and other
    veterans = directory_agency("西城区退役军人事务局", "yfk@veterans.example")
    civil = directory_agency("西城区公安分局户籍科", "hukou@police.example")
    number = json.loads(cli(
        "--as", "xuchang", "open", "general", "--no-start", "--json", "--name", "王秀英",
        "--id-number", synthetic_id_number(date(1960, 3, 15), "024"), "--phone", "13800001111",
        "--title", "服役证明", "--problem", "需要服役证明", "--need", f"服役证明={veterans}",
    ).stdout)["case_number"]  # fmt: skip
    run_until_waiting(number, DAY)
    # A material the agency says it needs from another agency: asked at once.
    added = route.need(
        actor=clerk, case_number=number, material="户籍注销证明", agencies=[civil], as_of=DAY
    )
    assert added.material == "need-2"
    assert [(s.action, s.agency) for s in run_until_waiting(number, DAY)] == [
        (Action.REQUEST, civil)
    ]
    # Refused, nothing written: named twice, no agency, an unknown agency, a waiver by a clerk
    # or without a reason, a hand-over to another office's clerk.
    refusals = [
        lambda: route.need(
            actor=clerk, case_number=number, material="户籍注销证明", agencies=[civil], as_of=DAY
        ),
        lambda: route.need(actor=clerk, case_number=number, material="X", agencies=[], as_of=DAY),
        lambda: route.need(
            actor=clerk, case_number=number, material="X", agencies=["agency-404"], as_of=DAY
        ),
        lambda: route.waive(
            actor=clerk, case_number=number, material="need-2", reason="不需要", as_of=DAY
        ),
        lambda: route.waive(
            actor=manager, case_number=number, material="need-2", reason=" ", as_of=DAY
        ),
        lambda: route.hand_over(actor=clerk, case_number=number, to="zhangli", as_of=DAY),
    ]
    before = count(CaseEvent)
    codes = []
    for refused in refusals:
        with pytest.raises(UserError) as caught:
            refused()
        codes.append(caught.value.code)
    assert codes == [
        "material_twice",
        "chain_empty",
        "unknown_agency",
        "managers_only",
        "text_required",
        "other_office_colleague",
    ]
    assert count(CaseEvent) == before and count(CaseMaterial) == 2
    # A manager waives it by name; the clerk hands the case to her colleague, whose name the
    # next letter carries; the first-contact clerk stays.
    route.waive(
        actor=manager, case_number=number, material="户籍注销证明", reason="档案已载明", as_of=DAY
    )
    route.hand_over(actor=clerk, case_number=number, to="wangmin", as_of=DAY)
    later = start_of_office_day(add_working_days(DAY.date(), 3))
    assert [s.action for s in run_until_waiting(number, later)] == [Action.REMIND]
    assert "王敏" in body(smtp_server[-1])
    shown = json.loads(cli("show", number, "--json").stdout)
    assert (shown["taken_by"], shown["handled_by"]) == ("徐畅", "王敏")
    statuses = {m["name"]: m["status"] for m in shown["materials"]}
    assert statuses == {"服役证明": "requested", "户籍注销证明": "waived"}
    # The veterans' bureau answers with the proof: the waived material does not hold it up.
    cli("reply", number, "--agency", veterans, "--outcome", "received")
    assert [s.action for s in run_until_waiting(number, later)] == [Action.CLOSE]


def test_a_role_waits_for_the_agency_each_case_names(fresh_db: object, smtp_server: list) -> None:
    number = opened(
        "remote-medical-filing", "--name", "郑淑贞",
        "--id-number", synthetic_id_number(date(1945, 4, 18)), "--phone", "010-63000000",
        "--field", "destination_city=上海", "--field", "former_employer=某研究所",
        "--brought", "applicant-documents",
    )  # fmt: skip
    assert [s.action for s in run_until_waiting(number, DAY)] == [Action.NOTIFY]
    shown = cli("show", number).stdout
    assert "待指定单位：原单位人事部门" in shown
    employer = directory_agency("某研究所人事处", "hr@institute.example", "--case", number)
    cli("assign", number, "--role", "原单位人事部门", "--agency", employer, "--quiet")
    assert [(s.action, s.agency) for s in run_until_waiting(number, DAY)] == [
        (Action.REQUEST, employer)
    ]
    assert smtp_server[-1]["X-Envelope-To"] == "hr@institute.example"
    # Its own agency: the district's directory does not list it, another case cannot ask it,
    # and a role is never asked as if it were an agency.
    assert employer not in {a.slug for a in agencies.list_agencies()}
    veterans = directory_agency("西城区退役军人事务局", "yfk@veterans.example")
    other = open_general(f"服役证明={veterans}")
    for code, refusal in ((employer, "unknown_agency"), ("former-employer-hr", "role_is_not")):
        with pytest.raises(UserError) as caught:
            route.need(
                actor=console_actor(),
                case_number=other,
                material="另一份",
                agencies=[code],
                as_of=DAY,
            )
        assert caught.value.code.startswith(refusal)


def test_the_directory_refuses_an_agency_written_twice(fresh_db: object) -> None:
    first = directory_agency("西城区退役军人事务局", "yfk@veterans.example")
    again = cli("agency", "add", "--name", "西城区 退役军人事务局（优抚科）", ok=False)
    assert again.exit_code == 2
    assert f"西城区退役军人事务局（代码 {first}）" in again.output.replace("”", "").replace("“", "")
    typo = cli("agency", "add", "--name", "西城区退役军人事物局", ok=False)
    assert typo.exit_code == 2
    other = directory_agency("西城区退役军人事物局", "x@veterans.example", "--distinct")
    assert other != first
    cli("agency", "edit", first, "--hours", "周一至周五 9:00-17:00", "--department", "优抚科")
    listed = {a["slug"]: a for a in json.loads(cli("agency", "list", "--json").stdout)}
    assert listed[first]["office_hours"] == "周一至周五 9:00-17:00"
    assert listed["former-employer-hr"]["role"] is True
    role = cli("agency", "edit", "former-employer-hr", "--email", "hr@x.example", ok=False)
    assert role.exit_code == 2 and "每个案件指定" in role.output
    window_staff(DAY)
    clerk = who("xuchang")
    assert clerk is not None
    with pytest.raises(UserError) as caught:
        agencies.add_agency(actor=clerk, form=agencies.AgencyForm(name="某单位"))
    assert caught.value.code == "managers_only"


def test_documents_are_kept_encrypted_listed_on_the_closing_letter_and_purged(
    fresh_db: object, smtp_server: list, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    veterans = directory_agency("西城区退役军人事务局", "yfk@veterans.example")
    number = open_general(f"服役证明={veterans}", brings=("亲属关系证明",))
    run_until_waiting(number, DAY)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(PDF + b"SECRET-MARK" * 10)
    kept = json.loads(
        cli("attach", number, str(scan), "--material", "亲属关系证明", "--json").stdout
    )
    assert kept["kind"] == "PDF"
    # Refused, nothing kept: a Word file, an empty one, one over the limit, no such material.
    word = tmp_path / "letter.docx"
    word.write_bytes(b"PK\x03\x04word/document.xml")
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    monkeypatch.setenv("CASEWORK_DOCUMENT_MAX_MB", "1")
    from casework.settings import get_settings

    get_settings.cache_clear()
    big = tmp_path / "big.pdf"
    big.write_bytes(PDF + b"0" * (1024 * 1024))
    for path, material, said in [
        (word, "亲属关系证明", "只能留存"),
        (empty, "亲属关系证明", "空"),
        (big, "亲属关系证明", "超过上限 1 MB"),
        (scan, "户口本", "没有材料"),
        (tmp_path / "nothing.pdf", "亲属关系证明", "找不到文件"),
    ]:
        refused = cli("attach", number, str(path), "--material", material, ok=False)
        assert refused.exit_code == 2 and said in refused.output, refused.output
    assert count(Document) == 1
    with session_scope() as session:
        stored = session.exec(select(Document)).one()
        assert b"SECRET-MARK" not in stored.content  # encrypted at rest
    opened = documents.open_document(
        actor=console_actor(), case_number=number, document_id=kept["document_id"]
    )
    assert opened.content.endswith(b"SECRET-MARK") and opened.media_type == "application/pdf"
    # She brings it; the agency answers; the closing letter lists what the office keeps.
    cli("visit", number, "--brought", "need-2")
    cli("reply", number, "--agency", veterans, "--outcome", "received")
    assert [s.action for s in run_until_waiting(number, DAY)] == [Action.CLOSE]
    with session_scope() as session:
        context = lookups.letter_context(session=session, case_number=number)
    assert {m["name"]: m["documents"] for m in context["materials"]} == {
        "服役证明": 0,
        "亲属关系证明": 1,
    }
    from usecases.office import purge

    monkeypatch.setenv("CASEWORK_RETENTION_DAYS", "1")
    get_settings.cache_clear()
    purge(as_of=DAY + timedelta(days=30), dry_run=False)
    assert count(Document) == 0


def test_an_agencys_emailed_attachment_is_kept_with_the_material_it_answers(
    fresh_db: object, smtp_server: list
) -> None:
    from models.inbound import file_inbound_email, reply_address

    veterans = directory_agency("西城区退役军人事务局", "yfk@veterans.example")
    number = open_general(f"服役证明={veterans}")
    run_until_waiting(number, DAY)
    with session_scope() as session:
        case = lookups.get_case(session, number)
        need = lookups.material_of(session, case, "need-1")
        request = lookups.open_request_of(session, case, need)
        assert request is not None
        to = reply_address("xxt-window@street-office.example", number, request.contact_id)
        file_inbound_email(
            session=session,
            recipients=[to],
            subject=f"Re: [{number}] 服役证明",
            as_of=DAY,
            message_key="m1",
            attachments=[("证明.pdf", PDF), ("readme.exe", b"MZ\x90\x00")],
            sender="yfk@veterans.example",
        )
    with session_scope() as session:
        kept = session.exec(select(Document)).all()
        notes = [e.detail for e in session.exec(select(CaseEvent)) if "附件" in (e.detail or "")]
    assert [(d.material_slug, d.received_via) for d in kept] == [("need-1", "email")]
    assert len(notes) == 1 and "只能留存" in notes[0]


def test_case_types_the_office_writes_are_versioned_and_a_case_keeps_its_own(
    fresh_db: object, smtp_server: list, tmp_path: Path
) -> None:
    veterans = directory_agency("西城区退役军人事务局", "yfk@veterans.example")
    first = open_general(f"服役证明={veterans}", brings=("亲属关系证明",))
    cli("playbook", "save", first, "--slug", "veteran-service-proof", "--title", "开具服役证明")
    listed = cli("playbooks").stdout
    assert "开具服役证明（10 个工作日，第1版）" in listed
    on_v1 = opened(
        "veteran-service-proof", "--name", "李建国",
        "--id-number", synthetic_id_number(date(1962, 5, 1), "031"), "--phone", "13800002222",
    )  # fmt: skip
    document = cli("playbook", "export", "veteran-service-proof").stdout
    assert "西城区退役军人事务局" in document and "王秀英" not in document
    edited = tmp_path / "v2.yaml"
    edited.write_text(
        document.replace("title: 开具服役证明", "title: 开具服役证明（新）")
        + "request_wording: 如需申请人补充材料，请来函告知。\n",
        encoding="utf-8",
    )
    cli("playbook", "import", str(edited))
    assert "第2版" in cli("playbook", "import", str(edited)).stdout  # unchanged: no version 3
    on_v2 = opened(
        "veteran-service-proof", "--name", "赵四",
        "--id-number", synthetic_id_number(date(1963, 6, 2), "045"), "--phone", "13800003333",
    )  # fmt: skip
    for number in (on_v1, on_v2):
        run_until_waiting(number, DAY)
    requests = [m for m in smtp_server if m["X-Envelope-To"] == "yfk@veterans.example"]
    assert ["如需申请人补充材料" in body(m) for m in requests] == [False, True]
    shown = json.loads(cli("show", on_v1, "--json").stdout)
    assert (shown["playbook_version"], shown["playbook_title"]) == (1, "开具服役证明")
    # Moving the running case is a manager's explicit act, audited.
    cli("playbook", "move", on_v1, "--quiet")
    shown = json.loads(cli("show", on_v1, "--json").stdout)
    assert shown["playbook_version"] == 2
    assert any(e["kind"] == "case-type-moved" for e in shown["events"])
    assert cli("playbook", "move", on_v1, ok=False).exit_code == 2
    # The version-1 text is still there, as it was.
    assert (
        "如需申请人补充"
        not in cli("playbook", "export", "veteran-service-proof", "--version", "1").stdout
    )
    # A type that comes with the system, or fails its check, is refused; nothing is stored.
    before = json.loads(cli("playbooks", "--json").stdout)
    builtin = tmp_path / "builtin.yaml"
    builtin.write_text(cli("playbook", "export", "archive-custody-proof").stdout, encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(document.replace("agencies:\n  - agency", "agencies:\n  - nowhere"), "utf-8")
    for path, said in [(builtin, "随系统提供"), (broken, "事项类型有误")]:
        refused = cli("playbook", "import", str(path), ok=False)
        assert refused.exit_code == 2 and said in refused.output, refused.output
    assert json.loads(cli("playbooks", "--json").stdout) == before
    window_staff(DAY)
    clerk = who("xuchang")
    assert clerk is not None
    with pytest.raises(UserError) as caught:
        case_type_uses.save(actor=clerk, document=document, as_of=DAY)
    assert caught.value.code == "managers_only"


def test_chasing_follows_how_quickly_each_agency_answers(
    fresh_db: object, smtp_server: list
) -> None:
    """A slow agency's reminder interval lengthens and a fast one's shortens, learnt from their
    answers: three cases each answered in 1 (fast) and 5 (slow) working days."""
    fast = directory_agency("西城区退役军人事务局", "fast@veterans.example")
    slow = directory_agency("某部队档案室", "slow@unit.example")
    for answered_after, agency in ((1, fast), (5, slow)):
        for n in range(3):
            number = open_general(f"服役证明={agency}", title=f"服役证明{agency}{n}")
            run_until_waiting(number, DAY)
            day = add_working_days(DAY.date(), answered_after)
            cli(
                "reply",
                number,
                "--agency",
                agency,
                "--outcome",
                "received",
                "--as-of",
                day.isoformat(),
            )
    with session_scope() as session:
        learnt = {a.slug: a.answers_within_days for a in session.exec(select(Agency))}
    assert (learnt[fast], learnt[slow]) == (1, 5)
    listed = {a.slug: a.answers_within_days for a in agencies.list_agencies()}
    assert (listed[fast], listed[slow]) == (1, 5)
    # The type's interval is 3 working days: the fast agency is reminded after 1, the slow
    # one not before 5.
    waiting = {a: open_general(f"服役证明={a}", title=f"新{a}") for a in (fast, slow)}
    for number in waiting.values():
        run_until_waiting(number, DAY)

    def reminded(agency: str, after: int) -> bool:
        day = start_of_office_day(add_working_days(DAY.date(), after))
        return [s.action for s in run_until_waiting(waiting[agency], day)] == [Action.REMIND]

    assert reminded(fast, 1)
    assert not reminded(slow, 3) and not reminded(slow, 4) and reminded(slow, 5)
    reminders = [m["X-Envelope-To"] for m in smtp_server if "催办" in str(m["Subject"])]
    assert reminders == ["fast@veterans.example", "slow@unit.example"]


def test_what_prefect_is_shown_of_a_general_case_names_no_one(
    fresh_db: object, smtp_server: list
) -> None:
    """The board Prefect publishes and the Resume form's text show a general case by its type
    and a material the clerk named by its place; the workbench's board by their words."""
    from casework.report_formats import daily_board_markdown
    from models.board import daily_board
    from tasks.report import describe_wait

    veterans = directory_agency("西城区退役军人事务局", "yfk@veterans.example")
    number = opened(
        "general", "--name", "孙秀兰", "--id-number", synthetic_id_number(date(1958, 2, 2), "063"),
        "--phone", "13900007777", "--title", "为父亲孙满仓开具服役证明", "--problem", "需要证明",
        "--need", f"孙满仓的服役证明={veterans}", "--days", "2",
    )  # fmt: skip
    run_until_waiting(number, DAY)
    later = add_working_days(DAY.date(), 5)  # the reminder is due and the clock has run out
    with session_scope() as session:
        shared = daily_board_markdown(daily_board(session=session, today=later))
        staff = daily_board_markdown(daily_board(session=session, today=later, shareable=False))
    for text in (shared, describe_wait(number)):
        assert "孙满仓" not in text and "材料1" in text and "通用疑难事项" in text, text
    assert "为父亲孙满仓开具服役证明" in staff and "孙满仓的服役证明" in staff
