"""`casework agency add|edit|list`: the district's agency directory."""

from __future__ import annotations

from typing import Annotated

import typer

from casework.messages import message
from cli.app import JsonOption, actor, app, emit_json, say, state, user_errors
from usecases import agencies

agency_app = typer.Typer(
    help="单位名录：查看、添加、修改；或为一个案件临时添加（如通过114查到的单位）。"
)
app.add_typer(agency_app, name="agency")

Text = Annotated[str | None, typer.Option()]


@agency_app.command("add")
@user_errors
def agency_add(
    name: Annotated[str, typer.Option("--name", help="单位名称（代码自动生成）")],
    department: Annotated[str | None, typer.Option("--department", help="部门，如 档案室")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    phone: Annotated[str | None, typer.Option("--phone")] = None,
    address: Annotated[str | None, typer.Option("--address", help="邮寄地址")] = None,
    hours: Annotated[str | None, typer.Option("--hours", help="办公时间")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="备注")] = None,
    case: Annotated[
        str | None, typer.Option("--case", help="只为这个案件添加（不进入单位名录）")
    ] = None,
    distinct: Annotated[
        bool, typer.Option("--distinct", help="名称与已有单位相近，但确是另一个单位")
    ] = False,
    as_json: JsonOption = False,
) -> str:
    """添加一个单位（名录由负责人维护；--case 为一个案件添加）；打印生成的单位代码。"""
    form = agencies.AgencyForm(
        name=name,
        department=department,
        email=email,
        phone=phone,
        address=address,
        office_hours=hours,
        notes=notes,
    )
    added = agencies.add_agency(actor=actor(), form=form, case_number=case, distinct=distinct)
    if as_json:
        emit_json(added.model_dump())
    else:
        say("agency_added", name=added.name, agency=added.slug)
    return added.slug


@agency_app.command("edit")
@user_errors
def agency_edit(
    code: Annotated[str, typer.Argument(help="单位代码")],
    name: Text = None,
    department: Text = None,
    email: Text = None,
    phone: Text = None,
    address: Text = None,
    hours: Annotated[str | None, typer.Option("--hours")] = None,
    notes: Text = None,
    distinct: Annotated[bool, typer.Option("--distinct")] = False,
) -> None:
    """修改名录中的单位（负责人）：只改写明的项，写空值 "" 清除。"""
    form = agencies.AgencyForm(
        name=name,
        department=department,
        email=email,
        phone=phone,
        address=address,
        office_hours=hours,
        notes=notes,
    )
    edited = agencies.edit_agency(actor=actor(), slug=code, form=form, distinct=distinct)
    say("agency_edited", name=edited.name, agency=edited.slug)


@agency_app.command("list")
@user_errors
def agency_list(as_json: JsonOption = False) -> None:
    """列出单位名录，含各单位通常的答复用时。"""
    rows = agencies.list_agencies()
    if as_json:
        emit_json([r.model_dump() for r in rows])
        return
    for row in rows:
        if row.role:
            channel = message("agency_is_role", state.lang)
        else:
            channel = row.email or message("agency_by_post", state.lang)
        usual = (
            message("agency_usual_days", state.lang, days=row.answers_within_days)
            if row.answers_within_days
            else ""
        )
        say("agency_row", slug=row.slug, name=row.name, email=channel, usual=usual)
