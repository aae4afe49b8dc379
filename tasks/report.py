"""Tasks that tell people where a case stands (the Resume form's text, later the artifacts)."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from casework.clock import office_date
from casework.playbook import get_playbook
from models import cases
from models.db import session_scope


@task(cache_policy=NO_CACHE)
def describe_wait(number: str) -> str:
    """Markdown for the Resume form: whose answer is awaited, for what, since when."""
    with session_scope() as session:
        view = cases.case_view(session=session, number=number)
    playbook = get_playbook(view.playbook)
    names = {a.slug: a.name for a in playbook.agencies}
    lines = [f"### 案件 {number}：{playbook.title}", ""]
    waiting = False
    for material in view.materials:
        request = material.open_request
        if request is not None:
            waiting = True
            lines.append(
                f"- 等待 **{names.get(request.agency_slug, request.agency_slug)}** "
                f"(`{request.agency_slug}`) 就 **{material.name}** (`{material.slug}`) 的答复，"
                f"{office_date(request.sent_at)} 发函，已催办 {request.reminders} 次"
                + ("，**已上报主管**" if request.escalated else "")
            )
        elif material.status == "waiting_applicant":
            waiting = True
            lines.append(f"- 等待申请人补充 **{material.name}** (`{material.slug}`)")
    if not waiting:
        lines.append("- 暂无待答复事项")
    if view.urgent:
        lines.append(f"\n**紧急**：法定时限 {view.deadline_date}")
    if view.escalation_reasons:
        lines.append("\n已上报主管：" + "、".join(view.escalation_reasons))
    lines.append(
        "\n在下方选择答复结果并填写单位代码（如 `crematorium-archive-room`）；"
        "转办时填写转往单位。选 `recheck` 只让案件重新检查，不记录答复。"
    )
    return "\n".join(lines)
