"""The case as managers see it in the Prefect UI: run tags and keyed artifacts, masked."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from prefect import task
from prefect.artifacts import Artifact, MarkdownArtifact, ProgressArtifact, TableArtifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactCreate
from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey
from prefect.context import FlowRunContext
from prefect.utilities.context import get_task_and_flow_run_ids
from pydantic import BaseModel

from casework.clock import office_date, office_time
from casework.messages import label
from models import case_types, lookups, views
from models.db import session_scope


class CaseBoard(BaseModel):
    """Everything published about one case; contains no personal data beyond a masked name."""

    case_number: str
    tags: list[str]
    checklist: list[dict[str, str]]
    contacts: list[dict[str, str]]
    progress: float
    deadline_markdown: str


def build_case_board(case_number: str, as_of: datetime) -> CaseBoard:
    """Read the case and shape what the UI shows."""
    today = office_date(as_of)
    with session_scope() as session:
        detail = views.case_detail(session=session, case_number=case_number, as_of=as_of)
        overdue = views.case_overdue(session=session, case_number=case_number, today=today)
        agency_names = lookups.shareable_agency_names(session)
        playbook = case_types.playbook_of_case(session, lookups.get_case(session, case_number))
    contacted = sorted({c.agency for c in detail.contacts if c.agency})
    tags = [detail.playbook, *(f"agency:{slug}" for slug in contacted)]
    flags = {
        "urgent": detail.urgent and not detail.ended,
        "overdue": overdue,
        "escalated": detail.status == "escalated",
        "outside-remit": detail.outside_remit,
        "closed": detail.status == "closed",
        "withdrawn": detail.status == "withdrawn",
    }
    tags += [flag for flag, on in flags.items() if on]
    checklist = [
        {
            "材料": case_types.shareable_material_name(playbook, m.slug, m.name, index),
            "状态": label("material_status", m.status),
            "由谁取得": "窗口代办" if m.obtained_by == "office" else "申请人提供",
            "出具单位": agency_names.get(m.agency or "", m.agency or "—"),
            "已联系": "、".join(agency_names.get(a, a) for a in m.tried) or "—",
        }
        for index, m in enumerate(detail.materials, start=1)
    ]
    contacts = [
        {
            "时间": office_time(c.occurred_at),
            "方式": label("channel", c.channel),
            "对象": agency_names.get(
                c.agency or "", label("party", "manager" if c.kind == "escalation" else "applicant")
            ),
            "事项": label("contact_kind", c.kind),
            "结果": label("outcome", c.outcome) if c.outcome else "",
        }
        for c in detail.contacts
    ]
    collected = sum(1 for m in detail.materials if m.status == "collected")
    lines = [
        f"### 案件 {detail.case_number}：{playbook.title}",
        "",
        f"申请人：{detail.applicant_name}",
    ]
    if detail.deadline_date and playbook.deadline:
        left = (detail.deadline_date - today).days
        lines.append(
            f"- **{playbook.deadline.name}**：{detail.deadline_date}"
            + (f"（还有 {left} 天）" if left >= 0 else f"（已超过 {-left} 天）")
        )
    promised_left = (detail.promised_by - today).days
    lines.append(
        f"- 承诺办结：{detail.promised_by}"
        + (
            f"（还有 {promised_left} 天）"
            if promised_left >= 0
            else f"（已逾期 {-promised_left} 天）"
        )
    )
    lines.append(f"- 跑动次数：{detail.trips}")
    if detail.services:
        lines.append(
            "- 服务顺序："
            + " → ".join(f"{s['name']}{' ✓' if s['completed'] else ''}" for s in detail.services)
        )
    return CaseBoard(
        case_number=detail.case_number,
        tags=tags,
        checklist=checklist,
        contacts=contacts,
        progress=round(100 * collected / len(detail.materials), 1) if detail.materials else 0.0,
        deadline_markdown="\n".join(lines),
    )


def _digest(data: Any) -> str:
    return hashlib.sha256(
        json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
    ).hexdigest()[:16]


def artifact_key(case_number: str, part: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes: hc-2026-0001-checklist."""
    return f"{case_number.lower()}-{part}"


def case_artifacts(board: CaseBoard) -> dict[str, Artifact]:
    """The case's four keyed artifacts, each described with a digest of what it shows."""
    number = board.case_number

    def described(part: str, title: str, data: Any) -> dict[str, str]:
        digest = _digest(data)
        return {
            "key": artifact_key(number, part),
            "description": f"{title} · {number} · digest {digest}",
        }

    return {
        "checklist": TableArtifact(
            table=board.checklist, **described("checklist", "材料清单", board.checklist)
        ),
        "contacts": TableArtifact(
            table=board.contacts, **described("contacts", "往来记录", board.contacts)
        ),
        "progress": ProgressArtifact(
            progress=board.progress, **described("progress", "材料收齐进度（%）", board.progress)
        ),
        "deadline": MarkdownArtifact(
            markdown=board.deadline_markdown,
            **described("deadline", "时限", board.deadline_markdown),
        ),
    }


# Tags this process set on a run since it started: the run's context holds those it started with.
_tags_set: dict[str, list[str]] = {}


def _tags_known(flow_run_id: str) -> list[str] | None:
    if flow_run_id in _tags_set:
        return _tags_set[flow_run_id]
    context = FlowRunContext.get()
    run = context.flow_run if context is not None else None
    return list(run.tags) if run is not None and str(run.id) == flow_run_id else None


@task(cache_policy=NO_CACHE, task_run_name="publish-case-view-{case_number}")
def publish_case_view(case_number: str, flow_run_id: str, as_of: datetime) -> list[str]:
    """Refresh the run's tags and the case's artifacts; publish only what changed."""
    board = build_case_board(case_number, as_of)
    artifacts = case_artifacts(board)
    run_id = UUID(flow_run_id)
    # One client for every call (each of Prefect's artifact functions opens its own).
    with get_client(sync_client=True) as client:
        tagged = _tags_known(flow_run_id)
        if tagged is None:
            tagged = client.read_flow_run(run_id).tags
        if sorted(tagged) != sorted(board.tags):
            client.update_flow_run(run_id, tags=board.tags)
            _tags_set[flow_run_id] = board.tags
        latest = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(
                key=ArtifactCollectionFilterKey(any_=[a.key for a in artifacts.values() if a.key])
            )
        )
        published = {a.key: a.description for a in latest}
        changed = [p for p, a in artifacts.items() if published.get(a.key or "") != a.description]
        task_run_id, own_run_id = get_task_and_flow_run_ids()
        for part in changed:
            artifact = artifacts[part]
            client.create_artifact(
                ArtifactCreate(
                    type=artifact.type,
                    key=artifact.key,
                    description=artifact.description,
                    task_run_id=task_run_id,
                    flow_run_id=own_run_id,
                    data=artifact.format(_sync=True),  # type: ignore[call-arg]
                )
            )
    return changed
