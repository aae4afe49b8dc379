"""`casework reply`, `visit`, `receive`, `appoint`, `posted`, `withdraw`: feeding a case."""

from __future__ import annotations

from typing import Annotated

import typer

from casework.clock import now
from casework.errors import UserError
from cli.app import (
    CaseNumber,
    JsonOption,
    actor,
    app,
    emit_json,
    parse_answer_date,
    report_run,
    say,
    user_errors,
    words,
)
from usecases import answers


@app.command()
@user_errors
def reply(
    case_number: CaseNumber,
    agency: Annotated[str, typer.Option("--agency", help="答复单位代码")],
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome",
            help="received 已取得 / forwarded 转其他单位 / no-record 无记录 / "
            "needs-info 需申请人补充 / refused 拒绝",
        ),
    ],
    material: Annotated[str | None, typer.Option("--material", help="材料代码")] = None,
    forward_to: Annotated[str | None, typer.Option("--forward-to", help="转往单位代码")] = None,
    note: Annotated[str, typer.Option("--note", help="备注")] = "",
    via: Annotated[
        str,
        typer.Option("--via", help="答复方式：phone 电话 / email 邮件 / post 信函 / visit 来访"),
    ] = "phone",
    as_of: Annotated[str | None, typer.Option("--as-of", help="补录：答复日期 YYYY-MM-DD")] = None,
    as_json: JsonOption = False,
) -> None:
    """记录单位的答复，案件流程随即继续。"""
    recorded = answers.record_answer(
        actor=actor(),
        case_number=case_number,
        agency=agency,
        outcome=outcome,
        material=material,
        forward_to=forward_to,
        note=note,
        via=via,
        as_of=parse_answer_date(as_of),
    )
    if as_json:
        emit_json(
            {
                "case_number": recorded.case_number,
                "contact_id": recorded.contact_id,
                "flow_resumed": recorded.run.woken,
            }
        )
        return
    say("reply_recorded", agency=recorded.agency_name, outcome=words("outcome", recorded.outcome))
    report_run(recorded.run, quiet=False)


def _report_take_in(taken: answers.MaterialsTakenIn, as_json: bool) -> None:
    if as_json:
        emit_json(
            {
                "case_number": taken.case_number,
                "trips": taken.trips,
                "flow_resumed": bool(taken.run and taken.run.woken),
            }
        )
    elif taken.at_window:
        say("visit_recorded", trips=taken.trips)
    else:
        say("receipt_recorded", trips=taken.trips)


@app.command()
@user_errors
def visit(
    case_number: CaseNumber,
    reason: Annotated[
        str,
        typer.Option(
            help="来访原因：material-missing 补交材料 / signature 签字 / appointment 预约办理 / "
            "collect 领取 / other 其他"
        ),
    ] = "material-missing",
    brought: Annotated[
        list[str] | None, typer.Option("--brought", help="带来的材料代码，可多次")
    ] = None,
    note: Annotated[str | None, typer.Option(help="备注")] = None,
    as_json: JsonOption = False,
) -> None:
    """申请人来到窗口：记一次跑动，收下带来的材料。"""
    taken = answers.take_in(
        actor=actor(),
        case_number=case_number,
        brought=brought or [],
        reason=reason,
        channel="window",
        note=note,
        as_of=now(),
    )
    _report_take_in(taken, as_json)


@app.command()
@user_errors
def receive(
    case_number: CaseNumber,
    brought: Annotated[list[str], typer.Option("--brought", help="收到的材料代码，可多次")],
    via: Annotated[str, typer.Option(help="post 邮寄 / home-visit 上门 / email / phone")] = "post",
    note: Annotated[str | None, typer.Option(help="备注")] = None,
    as_json: JsonOption = False,
) -> None:
    """不用申请人跑腿就收到的材料（邮寄、上门、邮件）：不计跑动次数。"""
    if via == "window":  # a visit to the window is `casework visit`: it counts as a trip
        raise UserError("bad_via", value=via)
    taken = answers.take_in(
        actor=actor(),
        case_number=case_number,
        brought=brought,
        reason="other",
        channel=via,
        note=note,
        as_of=now(),
    )
    _report_take_in(taken, as_json)


@app.command()
@user_errors
def posted(
    case_number: CaseNumber,
    tracking: Annotated[str, typer.Option("--tracking", help="邮件单号（挂号信/EMS/快递）")],
    letter: Annotated[
        int | None, typer.Option("--letter", help="信函记录号（案件有多封待寄出时必填）")
    ] = None,
    posted_on: Annotated[
        str | None, typer.Option("--posted-on", help="补录：寄出日期 YYYY-MM-DD（默认今天）")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """打印的信函已寄出：登记邮件单号（记入往来记录和审计）。"""
    posting = answers.record_posting(
        actor=actor(),
        case_number=case_number,
        tracking=tracking,
        letter_id=letter,
        posted_on=posted_on,
        as_of=now(),
    )
    if as_json:
        emit_json(posting.model_dump(mode="json"))
        return
    say(
        "letter_posted",
        case=posting.case_number,
        letter=posting.letter_id,
        agency=posting.agency_name or posting.agency or "-",
        tracking=posting.tracking_number,
    )


@app.command()
@user_errors
def withdraw(
    case_number: CaseNumber,
    reason: Annotated[
        str, typer.Option("--reason", help="原因（如：已超过法定时限，经主任同意终止）")
    ],
    as_json: JsonOption = False,
) -> None:
    """终止一个无法或无需继续办理的案件（主管决定），记录原因；仍在等待答复的单位会收到
    撤回协查函，其答复链接随即停用。"""
    withdrawn = answers.withdraw_case(
        actor=actor(), case_number=case_number, reason=reason, as_of=now()
    )
    if as_json:
        emit_json(
            {
                "case_number": case_number,
                "status": "withdrawn",
                "agencies_told": withdrawn.agencies_told,
                "flow_resumed": bool(withdrawn.run and withdrawn.run.woken),
            }
        )
    elif withdrawn.already:
        say("already_withdrawn", case=case_number)
    else:
        say("withdrawn", case=case_number, agencies="、".join(withdrawn.agencies_told) or "—")


@app.command()
@user_errors
def appoint(
    case_number: CaseNumber,
    agency: Annotated[str, typer.Option("--agency", help="预约的单位代码")],
    at: Annotated[str, typer.Option("--at", help="预约时间 YYYY-MM-DD HH:MM（北京时间）")],
    material: Annotated[str | None, typer.Option("--material", help="为哪份材料")] = None,
    escort: Annotated[str | None, typer.Option("--escort", help="陪同的工作人员")] = None,
    pickup: Annotated[bool, typer.Option("--pickup", help="上门接送")] = False,
    applicant_attends: Annotated[bool, typer.Option(help="申请人本人到场（计一次跑动）")] = True,
    as_json: JsonOption = False,
) -> None:
    """预约单位办理时间（可安排工作人员陪同）；前一个工作日自动提醒陪同人员。"""
    booked = answers.book_appointment(
        actor=actor(),
        case_number=case_number,
        agency=agency,
        at=at,
        material=material,
        escort=escort,
        pickup=pickup,
        applicant_attends=applicant_attends,
        as_of=now(),
    )
    if as_json:
        emit_json(
            {
                "case_number": case_number,
                "appointment_id": booked.appointment_id,
                "flow_resumed": booked.run.woken,
            }
        )
    else:
        say("appointment_booked", agency=booked.agency_name, at=at)
