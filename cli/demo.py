"""`casework demo`: the seed stories end to end on the embedded local stack."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from casework.clock import now
from casework.messages import label
from casework.playbook import get_playbook
from casework.settings import get_settings
from cli import local_stack, office, reading
from cli.app import app, state, user_errors
from cli.stories import STORIES, Driver, today_at_office
from usecases import accounts
from usecases.accounts import console_actor
from usecases.reading import show_case

# The demo's office and people, added when the office has none of its own: the stories are
# taken in by its clerk, and the workbench can be looked at with these accounts afterwards.
DEMO_CLERK = ("xuchang", "徐畅", "clerk")
DEMO_MANAGER = ("wangmin", "王敏", "manager")


def demo_office() -> str | None:
    """Add the install's office and a clerk and a manager for the demo, if the office has no
    accounts yet; their password (written to secrets/demo-password), or None."""
    settings = get_settings()
    offices = {row.code: row for row in accounts.list_offices()}
    if settings.office_code not in offices:
        accounts.add_office(
            code=settings.office_code,
            name=settings.office_name,
            district="西城区",
            address=settings.office_address,
            phone=settings.office_phone,
        )
    elif offices[settings.office_code].accounts:
        return None
    password = secrets.token_urlsafe(9)
    for username, name, role in (DEMO_CLERK, DEMO_MANAGER):
        accounts.add_user(
            username=username,
            display_name=name,
            role=role,
            office=settings.office_code,
            password=password,
            as_of=now(),
        )
    path = settings.home / "secrets" / "demo-password"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def run_demo(*, only: list[str] | None = None) -> None:
    settings = get_settings()
    typer.secho("▶ 启动本地服务（Prefect 服务器、工作进程、邮件服务器）", bold=True)
    local_stack.up()
    password = demo_office()
    state.acting_as = DEMO_CLERK[0]  # the stories are taken in and worked by the demo's clerk
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
        f"\n主管在工作台登录后打开流程视图查看案件流程（case-<编号>）：{settings.run_view_url}\n"
        f"文书（可打印）：{settings.letters_dir}\n"
        f"邮件（Maildir）：{settings.mailbox_dir}\n"
        "查看单个案件：casework show <编号>；停止本地服务：casework down"
    )
    if password:
        typer.echo(
            f"工作台 {settings.web_url}：窗口 {DEMO_CLERK[0]}（{DEMO_CLERK[1]}）、"
            f"主管 {DEMO_MANAGER[0]}（{DEMO_MANAGER[1]}），密码 {password}"
            f"（见 {settings.home / 'secrets' / 'demo-password'}）"
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
