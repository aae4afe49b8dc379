"""`casework playbooks`, `open`, `check-playbooks`: the case types and intake at the window."""

from __future__ import annotations

from typing import Annotated

import typer

from casework.clock import now
from cli.app import JsonOption, actor, app, emit_json, report_run, say, user_errors, warn
from usecases import intake, runs


@app.command()
@user_errors
def playbooks(as_json: JsonOption = False) -> None:
    """列出所有案件类型及其当前版本。"""
    listed = intake.playbooks(as_of=now())
    if as_json:
        emit_json(
            [
                {
                    "slug": t.playbook.slug,
                    "title": t.playbook.title,
                    "version": t.version,
                    "general": t.playbook.general,
                    "promised_working_days": t.playbook.promised_working_days,
                    "fields": [f.key for f in t.playbook.fields],
                    "materials": [m.slug for m in t.playbook.materials],
                    "agencies": [a.slug for a in t.playbook.agencies],
                }
                for t in listed
            ]
        )
        return
    for t in listed:
        book = t.playbook
        say(
            "playbook_row",
            slug=book.slug,
            title=book.title,
            days=book.promised_working_days,
            version=t.version,
        )
        fields = "，".join(f"{f.key}{'*' if f.required else ''}（{f.label}）" for f in book.fields)
        if fields:
            say("playbook_fields", indent="", fields=fields)


@app.command("open")
@user_errors
def open_(
    slug: Annotated[
        str,
        typer.Argument(help="案件类型，如 recover-cremation-certificate；其他疑难事项用 general"),
    ],
    name: Annotated[str, typer.Option("--name", help="申请人姓名")],
    id_number: Annotated[str, typer.Option("--id-number", help="申请人身份证号")],
    phone: Annotated[str, typer.Option("--phone", help="申请人电话")],
    email: Annotated[str | None, typer.Option("--email", help="申请人邮箱")] = None,
    address: Annotated[str | None, typer.Option("--address", help="申请人地址")] = None,
    field: Annotated[
        list[str] | None, typer.Option("--field", help="案件字段 KEY=VALUE，可多次")
    ] = None,
    brought: Annotated[
        list[str] | None, typer.Option("--brought", help="受理时已带来的材料代码，可多次")
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="general：事项标题（简短）")] = None,
    problem: Annotated[
        str | None, typer.Option("--problem", help="general：群众的诉求（用她的话）")
    ] = None,
    need: Annotated[
        list[str] | None,
        typer.Option(
            "--need",
            help="general：由窗口代为取得的材料 “材料名=单位代码[,单位代码…]”（按顺序联系），可多次",
        ),
    ] = None,
    ask: Annotated[
        list[str] | None,
        typer.Option("--ask", help="general：协查函中请单位协助的内容 “材料名=内容”，可多次"),
    ] = None,
    brings: Annotated[
        list[str] | None, typer.Option("--brings", help="general：请申请人本人准备的材料，可多次")
    ] = None,
    tier: Annotated[
        str | None, typer.Option("--tier", help="general：general 一般 / hard 疑难 / complex 复杂")
    ] = None,
    days: Annotated[
        str | None, typer.Option("--days", help="general：办理时限（工作日；默认按分级）")
    ] = None,
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role", help="本案由哪个单位担任事项类型中的角色 “角色代码=单位代码”，可多次"
        ),
    ] = None,
    letter_lang: Annotated[
        str, typer.Option("--letter-lang", help="给申请人的告知书和通知的语言：zh 或 en")
    ] = "zh",
    start: Annotated[bool, typer.Option(help="立即启动案件流程")] = True,
    confirm: Annotated[
        bool,
        typer.Option(
            "--confirm", help="已核对提示（此人已有同类案件在办、法定时限已过），仍然受理"
        ),
    ] = False,
    as_json: JsonOption = False,
) -> str:
    """受理一个疑难案件，并启动它的流程。不属于任何已有类型的，用 general 写明诉求和材料。"""
    form = intake.IntakeForm(
        playbook=slug,
        name=name,
        id_number=id_number,
        phone=phone,
        email=email,
        address=address,
        fields=intake.parse_field_pairs(field or []),
        brought=brought or [],
        letter_lang=letter_lang,
        confirmed=confirm,
        title=title,
        problem=problem,
        needs=intake.parse_needs(need or [], intake.parse_field_pairs(ask or [])),
        brings=brings or [],
        tier=tier,
        limit_days=days,
        roles=intake.parse_field_pairs(role or []),
    )
    try:
        opened = intake.open_case(
            actor=actor(),
            form=form,
            as_of=now(),
            start=False,  # the clerk sees the case number first; the run starts right after
        )
    except intake.NeedsConfirmation as needs:
        for warning in needs.warnings:
            warn(
                warning.code,
                case=warning.case_number,
                deadline=warning.deadline,
                day=warning.last_day,
            )
        raise
    if not as_json:
        say("opened", case=opened.case_number, title=opened.title, promised=opened.promised_by)
    run = runs.start_case_run(opened.case_number, opened.playbook) if start else None
    if as_json:
        emit_json(
            {
                "case_number": opened.case_number,
                "playbook": opened.playbook,
                "flow_run_id": run.flow_run_id if run else None,
            }
        )
    else:
        report_run(run, quiet=False, starting=True)
    return opened.case_number


@app.command("check-playbooks")
@user_errors
def check_playbooks() -> None:
    """校验所有案件类型文件，并用示例数据渲染它们用到的每个模板。"""
    for slug, names in intake.check_playbooks().items():
        say("playbook_checked", slug=slug, count=len(names))
