"""Tasks that tell people where a case stands (the Resume form's text, later the artifacts)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from casework.clock import office_date
from casework.figures import MonthlyReport
from casework.messages import label
from casework.settings import get_settings
from models import case_types, lookups
from models.db import session_scope

DAILY_BOARD_KEY = "casework-daily-board"
MONTHLY_REPORT_KEY = "casework-monthly-report"


def describe_wait(case_number: str) -> str:
    """Markdown for the Resume form: whose answer is awaited, for what, since when."""
    with session_scope() as session:
        view = lookups.case_view(session=session, case_number=case_number)
        playbook = case_types.version_of(session, view.playbook, view.playbook_version)
        # Prefect's UI: an agency added on the way by its code (its name may be a person's).
        names = lookups.shareable_agency_names(session)
    lines = [f"### 案件 {case_number}：{playbook.title}", ""]
    waiting = False
    for place, material in enumerate(view.materials, start=1):
        name = case_types.shareable_material_name(playbook, material.slug, material.name, place)
        request = material.open_request
        if request is not None:
            waiting = True
            lines.append(
                f"- 等待 **{names.get(request.agency_slug, request.agency_slug)}** "
                f"(`{request.agency_slug}`) 就 **{name}** (`{material.slug}`) 的答复，"
                f"{office_date(request.sent_at)} 发函，已催办 {request.reminders} 次"
                + ("，**已上报主管**" if request.escalated else "")
            )
        elif material.status == "waiting_applicant":
            waiting = True
            lines.append(f"- 等待申请人补充 **{name}** (`{material.slug}`)")
    if not waiting:
        lines.append("- 暂无待答复事项")
    if view.urgent:
        lines.append(f"\n**紧急**：法定时限 {view.deadline_date}")
    if view.escalation_reasons:
        lines.append(
            "\n已上报主管：" + "、".join(label("outcome", r) for r in view.escalation_reasons)
        )
    lines.append(
        "\n在下方选择答复结果并填写单位代码（如 `crematorium-archive-room`）；"
        "转办时填写转往单位。选 `recheck` 只让案件重新检查，不记录答复。"
    )
    return "\n".join(lines)


@task(cache_policy=NO_CACHE)
def publish_daily_board(as_of: datetime) -> str:
    """Publish the morning board as the `casework-daily-board` markdown artifact."""
    from prefect.artifacts import create_markdown_artifact

    from casework.report_formats import daily_board_markdown
    from models.board import daily_board

    with session_scope() as session:
        board = daily_board(session=session, today=office_date(as_of))
    markdown = daily_board_markdown(board)
    create_markdown_artifact(markdown, key=DAILY_BOARD_KEY, description=f"每日看板 {board.today}")
    return markdown


@task(cache_policy=NO_CACHE)
def publish_monthly_report(month: str) -> str:
    """Write the month's report files and publish it as the `casework-monthly-report` artifact."""
    from prefect.artifacts import create_markdown_artifact

    from casework.report_formats import monthly_markdown

    report, files = write_monthly_report(month)
    markdown = monthly_markdown(report)
    if files:
        markdown += "\n文件：\n" + "\n".join(f"- `{path}`" for path in files) + "\n"
    create_markdown_artifact(markdown, key=MONTHLY_REPORT_KEY, description=f"月度报告 {month}")
    return markdown


def write_monthly_report(month: str) -> tuple[MonthlyReport, list[Path]]:
    """The month's figures, plus CSV, XLSX and the weekly chart in <home>/reports/<month>/."""
    from casework.report_formats import monthly_csv, monthly_xlsx, weekly_chart
    from models.reports import monthly_report

    with session_scope() as session:
        report = monthly_report(session=session, month=month)
    if report.empty:
        return report, []
    folder = get_settings().home / "reports" / month
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"casework-{month}.csv"
    csv_path.write_text(monthly_csv(report), encoding="utf-8-sig")
    files = [
        csv_path,
        monthly_xlsx(report, folder / f"casework-{month}.xlsx"),
        weekly_chart(report, folder / f"casework-{month}-weekly.png"),
    ]
    return report, files
