"""`casework demo`: the seed stories end to end on the embedded local stack."""

from __future__ import annotations

from typing import Annotated

import typer

from casework.clock import now
from casework.messages import label
from casework.playbook import get_playbook
from casework.settings import get_settings
from cli import local_stack, office, reading
from cli.app import app, user_errors
from cli.stories import STORIES, Driver, today_at_office
from usecases.accounts import console_actor
from usecases.reading import show_case


def run_demo(*, only: list[str] | None = None) -> None:
    settings = get_settings()
    typer.secho("▶ 启动本地服务（Prefect 服务器、工作进程、邮件服务器）", bold=True)
    local_stack.up()
    driver = Driver()
    today = today_at_office()
    case_numbers = [STORIES[slug](driver, today) for slug in (only or list(STORIES))]

    if len(case_numbers) == 1:
        typer.secho("\n▶ 案件全貌", bold=True)
        reading.show(case_number=case_numbers[0])
    typer.secho("\n▶ 汇总", bold=True)
    for case_number in case_numbers:
        d = show_case(actor=console_actor(), case_number=case_number, as_of=now())
        collected = sum(1 for m in d.materials if m.status == "collected")
        typer.echo(
            f"  {d.case_number}  {d.playbook_title}  {label('case_status', d.status)}"
            f"  材料 {collected}/{len(d.materials)}"
            f"  往来 {len(d.contacts):2}  邮件 {len(d.emails):2}  跑动 {d.trips} 次"
        )
    closed = [
        n
        for n in case_numbers
        if show_case(actor=console_actor(), case_number=n, as_of=now()).closed_at
    ]
    if closed:
        typer.secho("\n▶ 办结回访：群众评价（好差评，电话记录）", bold=True)
        for case_number in closed:
            driver.rate(case_number, "非常满意", "")
    typer.secho(f"\n▶ 本月报告（{today:%Y-%m}）", bold=True)
    office.report(month=f"{today:%Y-%m}")
    typer.secho("\n▶ 本地邮箱收到的邮件", bold=True)
    reading.mailbox()
    typer.echo(
        f"\n在浏览器打开 Prefect 界面查看案件流程（case-<编号>）：{settings.prefect_ui_url}\n"
        f"文书（可打印）：{settings.letters_dir}\n"
        f"邮件（Maildir）：{settings.mailbox_dir}\n"
        "查看单个案件：casework show <编号>；停止本地服务：casework down"
    )


@app.command()
@user_errors
def demo(
    only: Annotated[
        list[str] | None, typer.Option("--only", help="只演示这些案件类型，可多次")
    ] = None,
) -> None:
    """演示：六个真实故事（沈女士补办火化证明等）在本地服务上完整跑一遍。"""
    for slug in only or []:
        get_playbook(slug)
    run_demo(only=only)
