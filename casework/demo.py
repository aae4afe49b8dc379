"""`casework demo`: Ms. Shen's story (seed 004) end to end on the embedded local stack."""

from __future__ import annotations

from datetime import date, timedelta

import typer

from casework.clock import now, office_date
from casework.settings import get_settings
from casework.validation import id_check_digit
from casework.workdays import add_working_days

SLUG = "recover-cremation-certificate"


def synthetic_id_number(born: date, serial: str = "002") -> str:
    """A well-formed but invented resident ID (Xicheng district prefix 110102)."""
    first17 = f"110102{born:%Y%m%d}{serial}"
    return first17 + id_check_digit(first17)


def _step(text: str) -> None:
    typer.secho(f"\n▶ {text}", bold=True)


def run_demo(*, lang: str = "zh") -> None:
    from casework import cli
    from models.cases import case_detail
    from models.db import session_scope
    from tasks.orchestration import wait_until_settled

    settings = get_settings()
    _step("启动本地服务（Prefect 服务器、工作进程、邮件服务器）")
    cli.up()

    today = office_date(now())
    # Cremated ten years ago less 20 days: the reissue limit is close, as in the story.
    cremation_date = date(today.year - 10, today.month, min(today.day, 28)) + timedelta(days=20)
    _step("沈女士来到“悉心听”窗口：老伴的火化证明丢了十年，火葬场前台说不能补办")
    started = now()
    cli.open_(
        slug=SLUG,
        name="沈桂兰",
        id_number=synthetic_id_number(date(1950, 3, 8)),
        phone="13800001234",
        email="shen.family@example.com",
        field=[
            "deceased_name=王建国",
            f"cremation_date={cremation_date.isoformat()}",
            "crematorium=北京市某区殡仪馆",
        ],
    )
    with session_scope() as session:
        detail = case_detail(session=session, number=_latest_case())
    number = detail.number
    assert detail.flow_run_id, "the case flow did not start"
    run_id = detail.flow_run_id
    state = wait_until_settled(run_id, after=started)
    typer.echo(f"  流程状态：{state}（已发一次性告知书和给殡仪馆前台的协查函，等待答复）")

    _step("殡仪馆前台答复：这里查不到，转档案室")
    started = now()
    cli.reply(
        case=number,
        agency="crematorium-front-desk",
        outcome="forwarded",
        forward_to="crematorium-archive-room",
        note="前台无十年前的记录，请联系档案室",
    )
    typer.echo(f"  流程状态：{wait_until_settled(run_id, after=started)}（已向档案室发函）")

    due = add_working_days(today, 1)
    _step(f"档案室没有回音；案件临近10年时限（紧急），{due} 巡检时自动催办")
    started = now()
    cli.chase(as_of=due.isoformat(), wait=True)
    typer.echo(f"  流程状态：{wait_until_settled(run_id, after=started - timedelta(seconds=1))}")

    _step("档案室找到火化记录，出具火化证明")
    started = now()
    cli.reply(
        case=number,
        agency="crematorium-archive-room",
        outcome="received",
        note="已找到火化记录，补办件已寄出",
        as_of=due.isoformat(),
    )
    typer.echo(f"  流程状态：{wait_until_settled(run_id, after=started)}")

    _step("案件全貌")
    cli.show(case=number)
    _step("本地邮箱收到的邮件")
    cli.mailbox()
    typer.echo(
        f"\n在浏览器打开 Prefect 界面查看案件流程 case-{number}：{settings.prefect_ui_url}\n"
        f"文书（可打印）：{settings.letters_dir / number}\n"
        f"邮件（Maildir）：{settings.mailbox_dir}\n"
        "停止本地服务：casework down"
    )


def _latest_case() -> str:
    from sqlmodel import col, select

    from models.db import session_scope
    from models.tables import Case

    with session_scope() as session:
        case = session.exec(select(Case).order_by(col(Case.id).desc())).first()
        assert case is not None
        return case.number
