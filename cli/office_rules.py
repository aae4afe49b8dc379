"""`casework extend`, `notice-again`, `rate`, `follow-up`, `receipt`: the office's own rules
(限时办结, 二次告知, 好差评 and 回访, 首问回执)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from casework.clock import now
from cli.app import CaseNumber, JsonOption, actor, app, emit_json, say, user_errors
from usecases import office_rules


@app.command()
@user_errors
def extend(
    case_number: CaseNumber,
    days: Annotated[int, typer.Option("--days", help="延长的工作日数")],
    reason: Annotated[str, typer.Option("--reason", help="延期理由（写入延期告知书）")],
    as_json: JsonOption = False,
) -> None:
    """延期办结：主管（casework --as 主管用户名 extend …）在时限届满前批准，写明理由，
    并向申请人发出延期告知书（写明原定和延期后的办结日）。"""
    done = office_rules.extend_time_limit(
        actor=actor(), case_number=case_number, days=days, reason=reason, as_of=now()
    )
    if as_json:
        emit_json(done.model_dump(mode="json"))
    else:
        say("extended", case=case_number, days=done.days, before=done.due_before, due=done.due_on)


@app.command("notice-again")
@user_errors
def notice_again(
    case_number: CaseNumber,
    item: Annotated[str, typer.Option("--item", help="一次性告知书未列明、需要补充的材料")],
    reason: Annotated[str, typer.Option("--reason", help="为什么一次性告知时没有列出")],
    as_json: JsonOption = False,
) -> None:
    """二次告知：向申请人要一次性告知书没有列出的材料，须写明原因；计入二次告知率。"""
    done = office_rules.record_second_notice(
        actor=actor(), case_number=case_number, item=item, reason=reason, as_of=now()
    )
    if as_json:
        emit_json(done.model_dump(mode="json"))
    else:
        say("second_notice_done", count=done.count, item=done.item)


@app.command()
@user_errors
def rate(
    case_number: CaseNumber,
    level: Annotated[
        str,
        typer.Option("--level", help="非常满意 / 满意 / 基本满意 / 不满意 / 非常不满意（或 5–1）"),
    ],
    comment: Annotated[str, typer.Option("--comment", help="群众的评价内容")] = "",
    via: Annotated[str, typer.Option("--via", help="window 窗口 / phone 电话")] = "window",
    as_json: JsonOption = False,
) -> None:
    """好差评：记录群众对已办结案件的评价；不满意的须限期整改并回访。"""
    done = office_rules.record_rating(
        actor=actor(),
        case_number=case_number,
        level=level,
        comment=comment or None,
        channel=via,
        as_of=now(),
    )
    if as_json:
        emit_json(done.model_dump(mode="json"))
    elif done.rectify_by is not None:
        say("rated_follow_up", words=done.words, due=done.rectify_by)
    else:
        say("rated", words=done.words)


@app.command("follow-up")
@user_errors
def follow_up(
    case_number: CaseNumber,
    note: Annotated[str, typer.Option("--note", help="回访情况及整改结果")],
) -> None:
    """回访：记录对差评群众的回访电话和整改结果。"""
    office_rules.record_follow_up(actor=actor(), case_number=case_number, note=note, as_of=now())
    say("followed_up", case=case_number)


@app.command()
@user_errors
def receipt(
    case_number: CaseNumber,
    out: Annotated[Path | None, typer.Option("--out", help="PDF 保存位置")] = None,
) -> None:
    """首问回执：打印给申请人留存的受理回执（PDF）。"""
    pdf = office_rules.receipt_pdf(actor=actor(), case_number=case_number, as_of=now())
    path = out or Path(f"{case_number}-receipt.pdf")
    path.write_bytes(pdf)
    say("receipt_written", path=path)
