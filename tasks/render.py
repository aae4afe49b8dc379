"""Rendering letters and notices for a case, and filing the printable copy in its folder."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casework.clock import office_date
from casework.planning import EscalationReason
from casework.playbook import get_playbook
from casework.rendering import RenderedMessage, render_message
from casework.settings import get_settings
from models.cases import letter_context
from models.db import session_scope

ESCALATION_TEXT = {
    EscalationReason.NO_ANSWER: "单位多次催办仍未答复",
    EscalationReason.DEADLINE_PASSED: "已超过法定时限，无法继续补办",
    EscalationReason.NO_BODY_LEFT: "所有可联系的单位均无记录",
    EscalationReason.REFUSED: "单位拒绝办理",
}


def case_context(number: str, as_of: datetime, **extra: Any) -> dict[str, Any]:
    """Everything a case template may use: the case, its playbook, the office, today."""
    settings = get_settings()
    with session_scope() as session:
        context = letter_context(session=session, number=number)
    playbook = get_playbook(context["case"]["playbook"])
    context.update(
        playbook=playbook,
        agency_names={a.slug: a.name for a in playbook.agencies},
        office={
            "name": settings.office_name,
            "address": settings.office_address,
            "phone": settings.office_phone,
            "clerk": settings.office_clerk,
        },
        today=office_date(as_of),
    )
    context.update(extra)
    return context


def render_for_case(
    template_name: str, number: str, as_of: datetime, **extra: Any
) -> RenderedMessage:
    return render_message(template_name, case_context(number, as_of, **extra))


def file_document(number: str, name: str, message: RenderedMessage) -> str:
    """Write the printable copy to the case folder (same content on a re-run) and return its path."""
    folder = get_settings().letters_dir / number
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(message.text, encoding="utf-8")
    return str(path)


def escalation_text(reason: EscalationReason) -> str:
    return ESCALATION_TEXT[reason]


def document_name(kind: str, *parts: object) -> str:
    return "-".join([kind, *(str(p) for p in parts if p is not None)]) + ".txt"
