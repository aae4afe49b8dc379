"""Turning board and report figures into Markdown, CSV, XLSX and a weekly chart."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from casework.figures import DailyBoard, MonthlyReport, RuleFigures
from casework.messages import label


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def daily_board_markdown(board: DailyBoard) -> str:
    """The morning board: what is stuck, who never answers, which deadline is near."""
    lines = [f"# 每日案件看板 {board.today}", "", "## 在办案件（按类型和状态）", ""]
    if board.open_by_type_and_status:
        lines += ["| 案件类型 | 状态 | 件数 |", "|---|---|---|"]
        for playbook, statuses in board.open_by_type_and_status.items():
            for status, count in sorted(statuses.items()):
                title = board.playbook_titles.get(playbook, playbook)
                lines.append(f"| {title} | {label('case_status', status)} | {count} |")
    else:
        lines.append("暂无在办案件。")
    lines += ["", f"## 逾期案件：{len(board.overdue_cases)} 件", ""]
    lines += [f"- {number}" for number in board.overdue_cases] or ["无"]
    lines += ["", f"## 逾期未答复的联系：{len(board.overdue_contacts)} 项", ""]
    if board.overdue_contacts:
        lines += [
            "| 案件 | 单位 | 材料 | 发函日期 | 已催办 | 应答复日期 |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {c.case_number} | {c.agency_name} | {c.material_name} | {c.requested_on} | "
            f"{c.reminders} | "
            f"{c.due_on} |"
            for c in board.overdue_contacts
        ]
    else:
        lines.append("无")
    lines += ["", f"## 已上报主管：{len(board.escalations)} 件", ""]
    lines += [
        f"- {e.case_number}：{label('outcome', e.reason)}（{e.since} 起）"
        for e in board.escalations
    ] or ["无"]
    lines += ["", f"## 限时办结即将到期或已超时：{len(board.time_limits)} 件", ""]
    lines += [
        f"- {t.case_number}（{t.playbook_title}）：{label('clock_state', t.state)}，"
        + (f"剩余 {t.left} 个工作日" if t.left >= 0 else f"超出 {-t.left} 个工作日")
        + f"，应于 {t.due_on} 办结"
        for t in board.time_limits
    ] or ["无"]
    lines += [f"（另有 {board.paused_clocks} 件等待申请人补正，暂停计时）"]
    lines += ["", f"## 差评待整改回访：{len(board.rectifications)} 件", ""]
    lines += [
        f"- {r.case_number}：{r.level_words}，应于 {r.rectify_by} 前回访"
        + ("（已逾期）" if r.overdue else "")
        for r in board.rectifications
    ] or ["无"]
    lines += ["", f"本月二次告知：{board.second_notices_this_month} 次"]
    lines += ["", "## 本月至今", "", "| 指标 | 数值 |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in _rule_rows(board.month_to_date)]
    lines += ["", f"## 30天内到期的法定时限：{len(board.deadlines_next_30_days)} 件", ""]
    lines += [
        f"- {d.case_number}（{d.playbook_title}）：{d.deadline}，还有 {d.days_left} 天"
        for d in board.deadlines_next_30_days
    ] or ["无"]
    lines += ["", f"## 待打印寄出的信函：{len(board.letters_to_post)} 封", ""]
    lines += [
        f"- {x.case_number} 信函 #{x.letter} → {x.agency_name}（{x.written_on} 起草）"
        "：寄出后执行 casework posted"
        for x in board.letters_to_post
    ] or ["无"]
    lines += ["", "## 各单位答复情况", ""]
    if board.agencies:
        lines += [
            "| 单位 | 发函 | 已答复 | 答复用时中位数（天） | 从未答复占比 |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {a.name} | {a.requests} | {a.answered} | {_number(a.median_days_to_answer)} | "
            f"{_percent(a.share_never_answered)} |"
            for a in board.agencies
        ]
    else:
        lines.append("暂无发函记录。")
    return "\n".join(lines) + "\n"


def monthly_rows(report: MonthlyReport) -> list[tuple[str, str]]:
    """The report as (figure, value) rows, the same for every format."""
    rows = [
        ("月份", report.month),
        ("服务人数", str(report.people_served)),
        ("受理案件", str(report.cases_opened)),
        ("办结案件", str(report.cases_closed)),
        ("代为取得的材料", str(report.materials_obtained_for_citizens)),
        ("每案跑动次数（中位数）", _number(report.median_trips_per_closed_case)),
        ("办结用时中位数（天）", _number(report.median_days_to_close)),
        ("办结用时90分位（天）", _number(report.p90_days_to_close)),
        ("业务范围外协助办理", str(report.outside_remit_cases)),
    ]
    rows += _rule_rows(report.rules)
    for slug, figures in report.rules_by_type.items():
        title = report.playbook_titles.get(slug, slug)
        rows += [
            (f"{title}：按时办结率", _percent(figures.share_closed_within_limit)),
            (f"{title}：二次告知", str(figures.second_notices)),
            (f"{title}：二次告知率", _percent(figures.second_notice_rate)),
            (f"{title}：满意率", _percent(figures.satisfaction_rate)),
        ]
    rows += [
        (f"帮助办结：{report.playbook_titles.get(k, k)}", str(v))
        for k, v in report.households_helped_by_type.items()
    ]
    rows += [
        (f"完成服务：{report.service_names.get(k, k)}", str(v))
        for k, v in report.services_completed.items()
    ]
    return rows


def _rule_rows(f: RuleFigures) -> list[tuple[str, str]]:
    """限时办结, 一次性告知, 好差评 and the 12345 rates as report rows (the share of closed
    cases within 0-2 trips is among them)."""
    spread = "；".join(
        f"{k}次 {f.trips.get(k, 0)}" if k != "3+" else f"3次以上 {f.trips.get(k, 0)}"
        for k in ("0", "1", "2", "3+")
    )
    return [
        ("跑动次数分布（办结案件）", spread),
        ("跑动0-2次（目标内）占比", _percent(f.share_within_trip_goal)),
        ("办结用时中位数（工作日）", _number(f.median_working_days_to_close)),
        ("按时办结率（限时办结）", _percent(f.share_closed_within_limit)),
        ("二次告知（次）", str(f.second_notices)),
        ("二次告知率（办结案件）", _percent(f.second_notice_rate)),
        ("响应率（一个工作日内首次发函）", _percent(f.response_rate)),
        ("解决率（办结未终止）", _percent(f.resolution_rate)),
        ("群众评价（条）", str(f.ratings)),
        ("满意率（基本满意及以上）", _percent(f.satisfaction_rate)),
        ("回访率（差评已回访）", _percent(f.follow_up_rate)),
    ]


def monthly_markdown(report: MonthlyReport) -> str:
    lines = [f"# 月度报告 {report.month}", ""]
    if report.empty:
        return "\n".join([*lines, f"{report.month} 没有任何案件数据。", ""])
    lines += ["| 指标 | 数值 |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in monthly_rows(report)]
    lines += ["", "## 每周受理与办结", "", "| 周（起始日） | 受理 | 办结 |", "|---|---|---|"]
    lines += [f"| {week} | {opened} | {closed} |" for week, opened, closed in report.weekly]
    return "\n".join(lines) + "\n"


def monthly_csv(report: MonthlyReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["指标", "数值"])
    writer.writerows(monthly_rows(report))
    return buffer.getvalue()


def monthly_xlsx(report: MonthlyReport, path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "月度报告"
    sheet.append(["指标", "数值"])
    for row in monthly_rows(report):
        sheet.append(list(row))
    weeks = book.create_sheet("每周")
    weeks.append(["周（起始日）", "受理", "办结"])
    for week in report.weekly:
        weeks.append(list(week))
    book.save(path)
    return path


def weekly_chart(report: MonthlyReport, path: Path) -> Path:
    """Bar chart of cases opened and closed per week (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    weeks = [w for w, _, _ in report.weekly]
    opened = [o for _, o, _ in report.weekly]
    closed = [c for _, _, c in report.weekly]
    positions = range(len(weeks))
    figure, axes = plt.subplots(figsize=(7, 3.5), dpi=100)
    axes.bar([p - 0.2 for p in positions], opened, width=0.4, label="opened")
    axes.bar([p + 0.2 for p in positions], closed, width=0.4, label="closed")
    axes.set_xticks(list(positions), weeks, rotation=20)
    axes.set_title(f"Cases per week, {report.month}")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
