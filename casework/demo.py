"""`casework demo`: the seed stories end to end on the embedded local stack."""

from __future__ import annotations

import typer

from casework.settings import get_settings
from casework.stories import STORIES, Driver, today_at_office


def run_demo(*, only: list[str] | None = None) -> None:
    from casework import cli
    from models.db import session_scope
    from models.views import case_detail

    settings = get_settings()
    typer.secho("▶ 启动本地服务（Prefect 服务器、工作进程、邮件服务器）", bold=True)
    cli.up()
    driver = Driver()
    today = today_at_office()
    numbers = [STORIES[slug](driver, today) for slug in (only or list(STORIES))]

    if len(numbers) == 1:
        typer.secho("\n▶ 案件全貌", bold=True)
        cli.show(case=numbers[0])
    typer.secho("\n▶ 汇总", bold=True)
    for number in numbers:
        with session_scope() as session:
            d = case_detail(session=session, number=number)
        collected = sum(1 for m in d.materials if m.status == "collected")
        typer.echo(
            f"  {d.number}  {d.playbook:30} {d.status:8} 材料 {collected}/{len(d.materials)}"
            f"  往来 {len(d.contacts):2}  邮件 {len(d.emails):2}  跑动 {d.trips} 次"
        )
    typer.secho("\n▶ 本地邮箱收到的邮件", bold=True)
    cli.mailbox()
    typer.echo(
        f"\n在浏览器打开 Prefect 界面查看案件流程（case-<编号>）：{settings.prefect_ui_url}\n"
        f"文书（可打印）：{settings.letters_dir}\n"
        f"邮件（Maildir）：{settings.mailbox_dir}\n"
        "查看单个案件：casework show <编号>；停止本地服务：casework down"
    )
