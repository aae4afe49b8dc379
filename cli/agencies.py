"""`casework agency add|list`: the agencies the office contacts."""

from __future__ import annotations

from typing import Annotated

import typer

from casework.messages import message
from cli.app import JsonOption, app, emit_json, say, state, user_errors
from usecases import agencies

agency_app = typer.Typer(help="单位：查看、临时添加（如通过114查到的工作单位）。")
app.add_typer(agency_app, name="agency")


@agency_app.command("add")
@user_errors
def agency_add(
    name: Annotated[str, typer.Option("--name", help="单位名称（代码自动生成）")],
    email: Annotated[str | None, typer.Option("--email")] = None,
    phone: Annotated[str | None, typer.Option("--phone")] = None,
    address: Annotated[str | None, typer.Option("--address")] = None,
    as_json: JsonOption = False,
) -> str:
    """临时添加一个单位（没有邮箱的单位用邮寄信函联系）；打印生成的单位代码。"""
    added = agencies.add_agency(name=name, email=email, phone=phone, address=address)
    if as_json:
        emit_json(added.model_dump())
    else:
        say("agency_added", name=added.name, agency=added.slug)
    return added.slug


@agency_app.command("list")
@user_errors
def agency_list(as_json: JsonOption = False) -> None:
    """列出单位。"""
    rows = agencies.list_agencies()
    if as_json:
        emit_json([r.model_dump() for r in rows])
        return
    for row in rows:
        by_post = message("agency_by_post", state.lang)
        say("agency_row", slug=row.slug, name=row.name, email=row.email or by_post)
