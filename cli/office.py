"""`casework chase`, `relay`, `poll-mailbox`, `board`, `report`, `purge`, `rotate-keys`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from casework.clock import now, start_of_office_day
from casework.errors import UserError
from casework.messages import message
from casework.report_formats import (
    daily_board_markdown,
    monthly_csv,
    monthly_markdown,
    monthly_xlsx,
)
from cli.app import JsonOption, actor, app, emit_json, parse_as_of, say, state, user_errors
from usecases import office


@app.command()
@user_errors
def chase(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="按哪一天巡检 YYYY-MM-DD（默认今天）")
    ] = None,
    wait: Annotated[bool, typer.Option(help="等被唤醒的案件流程处理完")] = False,
    as_json: JsonOption = False,
) -> None:
    """巡检：到期未答复的发催办或上报，补启动缺失的流程，发送待发邮件。"""
    moment = parse_as_of(as_of)
    report = office.chase(as_of=moment, wait=wait)
    if as_json:
        emit_json(report.model_dump(mode="json"))
    else:
        say(
            "chase_done",
            as_of=moment.date(),
            woken=len(report.woken),
            started=len(report.started),
            sent=report.emails_sent,
        )


@app.command()
@user_errors
def reconcile(as_json: JsonOption = False) -> None:
    """对账：重新启动流程已中断的案件（每分钟也会自动执行）；反复中断的上报主管。"""
    report = office.reconcile(as_of=now())
    if as_json:
        emit_json(report.model_dump(mode="json"))
    else:
        say(
            "reconcile_done",
            redriven=len(report.redriven),
            cases="、".join(report.redriven) or "—",
            escalated=len(report.escalated),
        )


@app.command()
@user_errors
def relay(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="按哪一天计算重试时间 YYYY-MM-DD（默认现在）")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """立即发送外发邮件箱中到期的邮件（邮件服务器恢复后使用；巡检每15分钟也会发送）。"""
    counts = office.relay(as_of=parse_as_of(as_of))
    if as_json:
        emit_json(counts.model_dump())
    else:
        say("relay_done", **counts.model_dump())


@app.command("poll-mailbox")
@user_errors
def poll_mailbox(as_json: JsonOption = False) -> None:
    """收取单位邮箱（IMAP）中的未读回信并归入案件（巡检每15分钟也会收取）。"""
    report = office.fetch_mailbox()
    if as_json:
        emit_json(report.model_dump())
        return
    say(
        "mailbox_polled",
        fetched=report.fetched,
        filed=len(report.filed),
        cases=f"（{'、'.join(sorted(set(report.filed)))}）" if report.filed else "",
        unmatched=report.unmatched,
        failed=message("mailbox_failed", state.lang, count=report.failed) if report.failed else "",
    )


@app.command()
@user_errors
def board(as_json: JsonOption = False) -> None:
    """每日看板：在办、逾期、上报、30天内到期、各单位答复情况。"""
    figures = office.daily_board(actor=actor(), as_of=now())
    if as_json:
        emit_json(figures.model_dump(mode="json"))
    else:
        typer.echo(daily_board_markdown(figures))


@app.command()
@user_errors
def report(
    month: Annotated[str, typer.Option("--month", help="月份 YYYY-MM")],
    fmt: Annotated[str, typer.Option("--format", help="md / csv / xlsx")] = "md",
    output: Annotated[str | None, typer.Option("--output", help="写入文件（xlsx 必须）")] = None,
) -> None:
    """月度报告：服务人数、帮办户数、代取材料、跑动次数、办结用时、范围外协助，及每周图表。"""
    if fmt not in ("md", "csv", "xlsx"):
        raise UserError("bad_format", value=fmt)
    figures, files = office.monthly_report(month=month)
    if figures.empty:
        say("no_data", month=month)
        return
    if fmt == "xlsx":
        target = Path(output) if output else files[1]
        monthly_xlsx(figures, target)
        typer.echo(str(target))
    else:
        text = monthly_markdown(figures) if fmt == "md" else monthly_csv(figures)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            typer.echo(output)
        else:
            typer.echo(text)
    say("report_files", files=", ".join(str(f) for f in files))


@app.command()
@user_errors
def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只列出将被清除的案件")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="按哪一天计算 YYYY-MM-DD")] = None,
    as_json: JsonOption = False,
) -> None:
    """清除办结超过保存期限的案件中的个人信息（姓名脱敏，证件号、电话、邮件、文书删除）。"""
    try:
        moment = start_of_office_day(date.fromisoformat(as_of)) if as_of else now()
    except ValueError:
        raise UserError("as_of_format", value=as_of) from None
    result = office.purge(as_of=moment, dry_run=dry_run)
    if as_json:
        emit_json({"dry_run": dry_run, "cases": result.cases})
    else:
        say(
            "purge_dry_run" if dry_run else "purged",
            count=len(result.cases),
            days=result.retention_days,
            cases=", ".join(result.cases) or "—",
        )


@app.command("rotate-keys")
@user_errors
def rotate_keys() -> None:
    """用最新的数据密钥重新加密所有身份证号和电话（轮换密钥时使用）。"""
    say("keys_rotated", count=office.rotate_keys())
