"""`casework office add` and `casework user add`: who may sign in to the workbench."""

from __future__ import annotations

from typing import Annotated

import typer

from casework.clock import now
from cli.app import app, say, user_errors
from usecases import accounts

office_app = typer.Typer(help="街道：工作台的各个街道（同属一个区）。")
user_app = typer.Typer(help="工作台账号：窗口工作人员、主管、区级。")
app.add_typer(office_app, name="office")
app.add_typer(user_app, name="user")


@office_app.command("add")
@user_errors
def office_add(
    code: Annotated[str, typer.Argument(help="街道代码，如 taoranting")],
    name: Annotated[str, typer.Option("--name", help="街道名称")],
    district: Annotated[str, typer.Option("--district", help="所属区")],
    phone: Annotated[str, typer.Option("--phone", help="监督电话（印在回执和查询页上）")],
) -> None:
    """添加一个街道。"""
    added = accounts.add_office(code=code, name=name, district=district, phone=phone)
    say("office_added", office=added, name=name)


@user_app.command("add")
@user_errors
def user_add(
    username: Annotated[str, typer.Argument(help="用户名（字母、数字、连字符）")],
    name: Annotated[str, typer.Option("--name", help="姓名（显示在回执和审计记录中）")],
    office: Annotated[str, typer.Option("--office", help="所属街道代码")],
    role: Annotated[
        str, typer.Option("--role", help="clerk 窗口 / manager 主管 / district 区级")
    ] = "clerk",
    password: Annotated[
        str, typer.Option("--password", prompt="密码", hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """添加一个工作台账号（密码以 Argon2id 散列保存）。"""
    added = accounts.add_user(
        username=username,
        display_name=name,
        role=role,
        office=office,
        password=password,
        as_of=now(),
    )
    say("user_added", username=added.username, name=added.display_name, office=added.office_name)
