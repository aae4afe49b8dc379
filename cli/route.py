"""`casework need`, `waive`, `hand-over`, `assign`, `attach`: a case's route changed on the way."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from casework.clock import now
from casework.errors import UserError
from cli.app import CaseNumber, JsonOption, actor, app, emit_json, report_run, say, user_errors
from usecases import documents, route
from usecases.office_rules import record_second_notice


@app.command()
@user_errors
def need(
    case_number: CaseNumber,
    material: Annotated[str, typer.Option("--material", help="新增材料的名称")],
    agency: Annotated[
        str | None,
        typer.Option("--agency", help="由窗口代为取得：单位代码，按顺序联系，逗号分隔"),
    ] = None,
    ask: Annotated[
        str | None, typer.Option("--ask", help="协查函中请单位协助的内容（可不填）")
    ] = None,
    from_applicant: Annotated[
        bool, typer.Option("--from-applicant", help="由申请人本人提供（二次告知）")
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="二次告知的原因（--from-applicant 时必填）")
    ] = None,
    as_json: JsonOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="不提示流程状态")] = False,
) -> None:
    """案件新增一项材料：由窗口向单位取得，或请申请人补充（二次告知）。"""
    if from_applicant == bool(agency):
        raise UserError("need_one_way")
    if from_applicant:
        noticed = record_second_notice(
            actor=actor(), case_number=case_number, item=material, reason=reason or "", as_of=now()
        )
        if as_json:
            emit_json(noticed.model_dump(mode="json"))
            return
        say("material_needed_from_applicant", name=noticed.item, material=noticed.material)
        return
    changed = route.need(
        actor=actor(),
        case_number=case_number,
        material=material,
        agencies=[code for code in (agency or "").split(",") if code.strip()],
        asks=ask,
        as_of=now(),
    )
    if as_json:
        emit_json(changed.model_dump(mode="json"))
        return
    say("material_needed", name=changed.material_name, material=changed.material)
    report_run(changed.run, quiet=quiet)


@app.command()
@user_errors
def waive(
    case_number: CaseNumber,
    material: Annotated[str, typer.Option("--material", help="材料名称（或代码）")],
    reason: Annotated[str, typer.Option("--reason", help="免收理由（记入审计）")],
    quiet: Annotated[bool, typer.Option("--quiet", help="不提示流程状态")] = False,
) -> None:
    """免收一项材料（负责人），写明理由。"""
    changed = route.waive(
        actor=actor(), case_number=case_number, material=material, reason=reason, as_of=now()
    )
    say("material_waived", name=changed.material_name)
    report_run(changed.run, quiet=quiet)


@app.command("hand-over")
@user_errors
def hand_over(
    case_number: CaseNumber,
    to: Annotated[str, typer.Option("--to", help="接手同事的用户名（同一窗口）")],
) -> None:
    """把案件交给同事承办（轮值）：首问责任人不变，此后的函件以承办人署名。"""
    handed = route.hand_over(actor=actor(), case_number=case_number, to=to, as_of=now())
    say("handed_over", case=handed.case_number, before=handed.from_name, after=handed.to_name)


@app.command()
@user_errors
def assign(
    case_number: CaseNumber,
    role: Annotated[str, typer.Option("--role", help="待指定的单位（名称，见 show）")],
    agency: Annotated[str, typer.Option("--agency", help="本案的该单位：单位代码")],
    quiet: Annotated[bool, typer.Option("--quiet", help="不提示流程状态")] = False,
) -> None:
    """为案件指定角色所指的单位（如逝者生前工作单位），等待它的函件随即发出。"""
    filled = route.fill_role(
        actor=actor(), case_number=case_number, role=role, agency=agency, as_of=now()
    )
    say("role_filled", role=filled.role_name, agency=filled.agency_name)
    report_run(filled.run, quiet=quiet)


@app.command()
@user_errors
def attach(
    case_number: CaseNumber,
    file: Annotated[Path, typer.Argument(help="扫描件、照片或 PDF 文件")],
    material: Annotated[str, typer.Option("--material", help="材料名称（或代码）")],
    via: Annotated[
        str,
        typer.Option(
            "--via",
            help="收到方式：window 窗口 / post 邮寄 / email 邮件 / home-visit 上门 / web 单位网上答复",
        ),
    ] = "window",
    as_json: JsonOption = False,
) -> None:
    """把材料的扫描件、照片或 PDF 留存在案件中（加密保存）。"""
    if not file.is_file():
        raise UserError("no_such_file", path=str(file)[:200])
    attached = documents.attach(
        actor=actor(),
        case_number=case_number,
        material=material,
        filename=file.name,
        content=file.read_bytes(),
        received_via=via,
        as_of=now(),
    )
    if as_json:
        emit_json(attached.model_dump(mode="json"))
        return
    say("document_attached", kind=attached.kind, size=attached.size)
