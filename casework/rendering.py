"""The one Jinja2 environment: letters, emails and notices from templates/."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel

from casework.clock import chinese_date
from casework.masking import mask_name
from casework.settings import get_settings


class RenderedMessage(BaseModel):
    """A message ready for the outbox or the printer: subject, plain text and HTML."""

    subject: str
    text: str
    html: str | None = None


@lru_cache
def _environment(templates_dir: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        # HTML is escaped; plain-text letters are not (an "&" in a name must stay an "&").
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=True, default=False
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cn_date"] = chinese_date
    env.filters["mask_name"] = mask_name
    return env


def environment() -> Environment:
    return _environment(get_settings().templates_dir)


HTML_LAYOUT = "common/email.html.j2"
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """Collapse line breaks so text can go into a mail header without injecting another."""
    return _LINE_BREAKS.sub(" ", text).strip()


def render_message(template_name: str, context: dict[str, Any]) -> RenderedMessage:
    """Render a template with a `subject` block and a body (the whole template)."""
    template = environment().get_template(template_name)
    body = template.render(context)
    if "subject" in template.blocks:
        subject_context = template.new_context(context)
        subject = "".join(template.blocks["subject"](subject_context))
    else:
        subject = ""
    html = (
        environment()
        .get_template(HTML_LAYOUT)
        .render(subject=one_line(subject), paragraphs=[p for p in body.split("\n\n") if p.strip()])
    )
    return RenderedMessage(subject=one_line(subject), text=body, html=html)
