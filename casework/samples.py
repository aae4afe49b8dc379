"""Made-up cases of each playbook: to check every template renders before a letter needs it,
and to warm a process's printer before its first real letter."""

from __future__ import annotations

from datetime import date
from typing import Any

from jinja2 import TemplateError

from casework.links import qr_data_uri
from casework.playbook import (
    Agency,
    FieldKind,
    Material,
    Playbook,
    PlaybookError,
    all_playbooks,
)
from casework.printing import render_pdf
from casework.settings import get_settings
from casework.templating import LANGUAGES, render_message, variant


def office_context(playbook: Playbook, today: date) -> dict[str, Any]:
    """What every template of a playbook may use besides the case: the playbook, the office,
    today."""
    settings = get_settings()
    return {
        "playbook": playbook,
        "agency_names": {a.slug: a.name for a in playbook.agencies},
        "field_labels": {f.key: f.label for f in playbook.fields},
        "office": {
            "name": settings.office_name,
            "address": settings.office_address,
            "phone": settings.office_phone,
            "supervision_phone": settings.office_phone,
            "clerk": "示例经办人",
            "first_contact": "示例经办人",
            "public_url": settings.web_url,
        },
        "today": today,
    }


# A general case type lists no materials: its letters are checked with one the clerk wrote.
SAMPLE_AGENCY = Agency(slug="sample-agency", name="示例单位", email="office@agency.example")
SAMPLE_MATERIAL = Material(
    slug="need-1",
    name="示例材料",
    agencies=[],
    how="请协助出具示例材料。",
)


def sample_context(playbook: Playbook) -> dict[str, Any]:
    """A made-up case of this type, with every variable any template may use."""
    today = date(2026, 11, 23)
    start = date(2016, 12, 10)
    fields = {
        f.key: start.isoformat() if f.kind is FieldKind.DATE else f"示例{f.label}"
        for f in playbook.fields
    }
    context: dict[str, Any] = {
        "case": {
            "number": "HC-2026-0000",
            "opened_on": today,
            "promised_by": today,
            "deadline_date": playbook.deadline.last_day(start) if playbook.deadline else None,
            "urgent": True,
            "fields": fields,
            "status": "open",
            "playbook": playbook.slug,
            "title": "示例疑难事项" if playbook.general else playbook.title,
        },
        "applicant": {"name": "示例申请人", "has_email": True},
        "materials": [
            {"slug": m.slug, "name": m.name, "status": "collected", "agency": None, "documents": 1}
            for m in playbook.materials or [SAMPLE_MATERIAL]
        ],
        "route": playbook.materials or [SAMPLE_MATERIAL],
        "agency": playbook.agencies[0] if playbook.agencies else SAMPLE_AGENCY,
        "reminder_number": 1,
        "requested_on": today,
        "reason_text": "示例原因",
        "appointment": {"at": "2026-12-01 09:30", "escort": "张军", "pickup": True},
        "reply_link": {
            "code": "7KQ2M-XD94R",
            "url": "http://127.0.0.1:8090/r/7KQ2M-XD94R",
            "page": "http://127.0.0.1:8090/r",
        },
        "status_page": {"url": "http://127.0.0.1:8090/s/HC-2026-0000/b_V53C1lnVHJTxisRDlC4g"},
    }
    context.update(office_context(playbook, today))
    context["status_qr"] = qr_data_uri(context["status_page"]["url"])
    return context


def render_playbook_samples() -> dict[str, list[str]]:
    """Render every template every playbook names, in every language it has, for every
    material: errors surface here rather than in a letter."""
    rendered: dict[str, list[str]] = {}
    for slug, playbook in all_playbooks().items():
        context = sample_context(playbook)
        names: set[str] = set()
        for name in set(playbook.templates.model_dump().values()):
            for lang in LANGUAGES:
                names.add(variant(name, lang))
                for material in playbook.materials or [SAMPLE_MATERIAL]:
                    try:
                        render_message(name, {**context, "lang": lang, "material": material})
                    except TemplateError as exc:  # StrictUndefined: missing variables fail here
                        raise PlaybookError(
                            f"playbooks/{slug}.yaml: 模板 {variant(name, lang)}：{exc}"
                        ) from exc
        rendered[slug] = sorted(names)
    return rendered


def print_sample_letters() -> None:
    """Print (and throw away) one playbook's sample notice and request: what a process does
    before its first letters so that those print at full speed (its fonts loaded, the common
    glyphs shaped; any playbook's letters gain)."""
    playbook = next(iter(all_playbooks().values()))
    context = {
        **sample_context(playbook),
        "lang": LANGUAGES[0],
        "material": (playbook.materials or [SAMPLE_MATERIAL])[0],
    }
    for name in (playbook.templates.notice, playbook.templates.request):
        render_pdf(render_message(name, context).printable)
