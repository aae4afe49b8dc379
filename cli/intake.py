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
    """列出所有案件类型。"""
    books = intake.playbooks()
    if as_json:
        emit_json(
            [
                {
                    "slug": b.slug,
                    "title": b.title,
                    "promised_working_days": b.promised_working_days,
                    "fields": [f.key for f in b.fields],
                    "materials": [m.slug for m in b.materials],
                    "agencies": [a.slug for a in b.agencies],
                }
                for b in books
            ]
        )
        return
    for book in books:
        say("playbook_row", slug=book.slug, title=book.title, days=book.promised_working_days)
        fields = "，".join(f"{f.key}{'*' if f.required else ''}（{f.label}）" for f in book.fields)
        say("playbook_fields", indent="", fields=fields)


@app.command("open")
@user_errors
def open_(
    slug: Annotated[str, typer.Argument(help="案件类型，如 recover-cremation-certificate")],
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
    """受理一个疑难案件，并启动它的流程。"""
    try:
        return _open(
            slug, name, id_number, phone, email, address, field, brought, letter_lang, start,
            confirm, as_json,
        )  # fmt: skip
    except intake.NeedsConfirmation as needs:
        for warning in needs.warnings:
            warn(
                warning.code,
                case=warning.case_number,
                deadline=warning.deadline,
                day=warning.last_day,
            )
        raise


def _open(
    slug: str,
    name: str,
    id_number: str,
    phone: str,
    email: str | None,
    address: str | None,
    field: list[str] | None,
    brought: list[str] | None,
    letter_lang: str,
    start: bool,
    confirm: bool,
    as_json: bool,
) -> str:
    opened = intake.open_case(
        actor=actor(),
        form=intake.IntakeForm(
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
        ),
        as_of=now(),
        start=False,  # the clerk sees the case number first; the run starts right after
    )
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
