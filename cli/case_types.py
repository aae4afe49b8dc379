"""`casework playbook save|export|import|move`: case types the office writes, with versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from casework.clock import now
from casework.errors import UserError
from cli.app import CaseNumber, JsonOption, actor, app, emit_json, report_run, say, user_errors
from usecases import case_types

playbook_app = typer.Typer(help="事项类型：由案件保存、导出、导入（每次修改为新版本）。")
app.add_typer(playbook_app, name="playbook")


def _saved(saved: case_types.CaseTypeSaved, as_json: bool) -> None:
    if as_json:
        emit_json(saved.model_dump())
    elif saved.new:
        say("case_type_saved", title=saved.title, slug=saved.slug, version=saved.version)
    else:
        say("case_type_unchanged", title=saved.title, version=saved.version)


@playbook_app.command("save")
@user_errors
def playbook_save(
    case_number: CaseNumber,
    slug: Annotated[str, typer.Option("--slug", help="新事项类型的代码（小写英文和连字符）")],
    title: Annotated[str, typer.Option("--title", help="新事项类型的名称")],
    as_json: JsonOption = False,
) -> None:
    """把一个案件的办理路径保存为新的事项类型（负责人），立即可受理。"""
    saved = case_types.save_route(
        actor=actor(), case_number=case_number, slug=slug, title=title, as_of=now()
    )
    _saved(saved, as_json)


@playbook_app.command("export")
@user_errors
def playbook_export(
    slug: Annotated[str, typer.Argument(help="事项类型代码")],
    version: Annotated[int | None, typer.Option("--version", help="版本号（默认最新）")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="写入文件（默认输出到屏幕）")] = None,
) -> None:
    """输出事项类型某一版本的 YAML（可编辑后用 playbook import 保存为新版本）。"""
    document, number = case_types.export(slug, version)
    if out is None:
        typer.echo(document, nl=False)
        return
    out.write_text(document, encoding="utf-8")
    say("case_type_exported", slug=slug, version=number, path=str(out))


@playbook_app.command("import")
@user_errors
def playbook_import(
    file: Annotated[Path, typer.Argument(help="事项类型的 YAML 文件")],
    as_json: JsonOption = False,
) -> None:
    """导入或修改本窗口的事项类型（负责人）：校验通过即为新版本，立即可受理。"""
    if not file.is_file():
        raise UserError("no_such_file", path=str(file)[:200])
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError("case_type_not_text") from None
    _saved(case_types.save(actor=actor(), document=text, as_of=now()), as_json)


@playbook_app.command("move")
@user_errors
def playbook_move(
    case_number: CaseNumber,
    quiet: Annotated[bool, typer.Option("--quiet", help="不提示流程状态")] = False,
) -> None:
    """把办理中的案件改用其事项类型的最新版本（负责人，记入审计）。"""
    moved = case_types.move_case(actor=actor(), case_number=case_number, as_of=now())
    say(
        "case_type_moved", case=moved.case_number, before=moved.from_version, after=moved.to_version
    )
    report_run(moved.run, quiet=quiet)
