"""`casework office add|edit|list` and `casework user add|list|disable|enable|reset-password`:
the street offices and who may sign in to the workbench."""

from __future__ import annotations

from typing import Annotated

import typer

from casework.clock import now
from cli.app import JsonOption, app, emit_json, say, user_errors, words
from usecases import accounts

office_app = typer.Typer(help="街道：名称、地址、电话和对外地址（信函、邮件、页面都以此署名）。")
user_app = typer.Typer(help="工作台账号：窗口工作人员、主管、区级。")
app.add_typer(office_app, name="office")
app.add_typer(user_app, name="user")

PublicUrl = Annotated[
    str | None,
    typer.Option(
        "--public-url",
        help="群众和单位打开工作台的地址，印在信函和二维码上（如 https://xxt.example.gov.cn）",
    ),
]

# Asked twice, hidden, in Chinese, when not given (a password typed on a command line stays
# in the shell's history).
Password = Annotated[
    str,
    typer.Option(
        "--password",
        prompt="密码（至少10个字符）",
        confirmation_prompt="再输入一次密码",
        hide_input=True,
        show_default=False,
        help="不给时提示输入两次",
    ),
]


@office_app.command("add")
@user_errors
def office_add(
    code: Annotated[str, typer.Argument(help="街道代码（小写字母、数字、连字符），如 taoranting")],
    name: Annotated[str, typer.Option("--name", help="街道名称，印在信函抬头")],
    district: Annotated[str, typer.Option("--district", help="所属区")],
    address: Annotated[str, typer.Option("--address", help="窗口地址")],
    phone: Annotated[str, typer.Option("--phone", help="窗口电话：信函、邮件、页面上的联系电话")],
    supervision_phone: Annotated[
        str | None,
        typer.Option("--supervision-phone", help="监督电话（印在回执和查询页上；默认同窗口电话）"),
    ] = None,
    public_url: PublicUrl = None,
) -> None:
    """添加一个街道。"""
    added = accounts.add_office(
        code=code,
        name=name,
        district=district,
        address=address,
        phone=phone,
        supervision_phone=supervision_phone,
        public_url=public_url,
    )
    say("office_added", office=added.code, name=added.name)


@office_app.command("edit")
@user_errors
def office_edit(
    code: Annotated[str, typer.Argument(help="街道代码")],
    name: Annotated[str | None, typer.Option("--name")] = None,
    district: Annotated[str | None, typer.Option("--district")] = None,
    address: Annotated[str | None, typer.Option("--address")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="窗口电话")] = None,
    supervision_phone: Annotated[str | None, typer.Option("--supervision-phone")] = None,
    public_url: PublicUrl = None,
) -> None:
    """修改街道的信息（只改给出的项；--public-url "" 恢复为本机默认地址）。"""
    changed = accounts.edit_office(
        code=code,
        changes={
            "name": name,
            "district": district,
            "address": address,
            "phone": phone,
            "supervision_phone": supervision_phone,
            "public_url": public_url,
        },
    )
    say("office_changed", office=changed.code, name=changed.name)


@office_app.command("list")
@user_errors
def office_list(as_json: JsonOption = False) -> None:
    """列出各街道及其电话、对外地址和账号数。"""
    rows = accounts.list_offices()
    if as_json:
        emit_json([r.model_dump() for r in rows])
        return
    if not rows:
        say("no_offices")
    for row in rows:
        say(
            "office_row",
            office=row.code,
            name=row.name,
            district=row.district,
            address=row.address,
            phone=row.phone,
            supervision_phone=row.supervision_phone,
            url=row.public_url or accounts.default_public_url(),
            accounts=row.accounts,
        )


@user_app.command("add")
@user_errors
def user_add(
    username: Annotated[str, typer.Argument(help="用户名（小写字母、数字、连字符），用于登录")],
    name: Annotated[str, typer.Option("--name", help="姓名（信函署名、页面和审计记录中显示）")],
    office: Annotated[str, typer.Option("--office", help="所属街道代码")],
    role: Annotated[
        str, typer.Option("--role", help="clerk 窗口 / manager 主管 / district 区级")
    ] = "clerk",
    password: Password = "",
) -> None:
    """添加一个工作台账号（密码以 Argon2id 散列保存；不给 --password 时提示输入两次）。"""
    added = accounts.add_user(
        username=username,
        display_name=name,
        role=role,
        office=office,
        password=password,
        as_of=now(),
    )
    say(
        "user_added",
        username=added.username,
        name=added.display_name,
        office=added.office_name,
        role=words("role", added.role),
    )


@user_app.command("list")
@user_errors
def user_list(
    office: Annotated[str | None, typer.Option("--office", help="只列这个街道的账号")] = None,
    as_json: JsonOption = False,
) -> None:
    """列出工作台账号。"""
    rows = accounts.list_users(office=office)
    if as_json:
        emit_json([r.model_dump(mode="json") for r in rows])
        return
    if not rows:
        say("no_users")
    for row in rows:
        say(
            "user_row",
            username=row.username,
            name=row.display_name,
            role=words("role", row.role),
            office=row.office_code,
            state=words("account_state", "disabled" if row.disabled else "active"),
        )


@user_app.command("disable")
@user_errors
def user_disable(
    username: Annotated[str, typer.Argument(help="用户名")],
) -> None:
    """停用账号：不能再登录，已登录的页面立即退出（记录保留，可用 enable 恢复）。"""
    ended = accounts.disable_user(username=username, as_of=now())
    say("user_disabled", username=username, sessions=ended)


@user_app.command("enable")
@user_errors
def user_enable(
    username: Annotated[str, typer.Argument(help="用户名")],
) -> None:
    """恢复停用的账号（用原来的密码登录）。"""
    changed = accounts.enable_user(username=username)
    say("user_enabled" if changed else "user_already_enabled", username=username)


@user_app.command("reset-password")
@user_errors
def user_reset_password(
    username: Annotated[str, typer.Argument(help="用户名")],
    password: Password = "",
) -> None:
    """重设密码（忘记密码、人员交接时）：用旧密码登录的页面立即退出。"""
    ended = accounts.reset_password(username=username, password=password, as_of=now())
    say("password_reset", username=username, sessions=ended)
