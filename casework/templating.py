"""The one Jinja2 environment: letters, emails and notices from templates/."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from pydantic import BaseModel

from casework.clock import OFFICE_TZ, chinese_date, office_date
from casework.masking import mask_name
from casework.settings import get_settings


class RenderedMessage(BaseModel):
    """A message ready for the outbox or the printer: subject, plain text, HTML, print layout."""

    subject: str
    text: str
    html: str | None = None
    # The letter laid out for paper (letterhead, title, signature): WeasyPrint makes the PDF.
    printable: str


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
    env.filters["letter_date"] = _letter_date
    env.filters["office_time"] = _office_moment
    env.filters["mask_name"] = mask_name
    return env


LANGUAGES = ("zh", "en")
# What the shared layouts print around a letter, in the letter's language.
LAYOUT_LABELS = {
    "zh": {
        "html_lang": "zh-CN",
        "address": "地址：",
        "phone": "电话：",
        "case_number": "案件编号：",
        "seal": "（盖章）",
        "track": "扫码查询办理进度",
        "officer": "经办人：",
        "quote_case": "回函请注明案件编号",
    },
    "en": {
        "html_lang": "en",
        "address": "Address: ",
        "phone": "Tel: ",
        "case_number": "Case number: ",
        "seal": "(seal)",
        "track": "Scan to track your case",
        "officer": "Case officer: ",
        "quote_case": "Please quote case number",
    },
}
_MONTHS = "January February March April May June July August September October November December"


def written_date(day: date, lang: str = "zh") -> str:
    """A date the way a letter or page in `lang` writes it: 2026年11月23日 or 23 November 2026;
    an instant is dated at the office (Beijing time), never in UTC."""
    if isinstance(day, datetime):
        day = office_date(day)
    if lang == "en":
        return f"{day.day} {_MONTHS.split()[day.month - 1]} {day.year}"
    return chinese_date(day)


def written_time(moment: datetime, lang: str = "zh") -> str:
    """An instant at the office, with its time of day: 2026年11月23日 09:05."""
    local = moment.astimezone(OFFICE_TZ)
    return f"{written_date(local.date(), lang)} {local:%H:%M}"


@pass_context
def _letter_date(context: Context, day: date) -> str:
    return written_date(day, context.get("lang", "zh"))


@pass_context
def _office_moment(context: Context, moment: datetime) -> str:
    return written_time(moment, context.get("lang", "zh"))


def environment() -> Environment:
    return _environment(get_settings().templates_dir)


HTML_LAYOUT = "common/email.html.j2"
PRINT_LAYOUT = "common/letter.html.j2"
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\x85\u2028\u2029]+")
# Subjects start with the case tag ("[HC-2026-0001] …") so replies find their case; on paper
# the case number sits in the letterhead instead.
_CASE_TAG = re.compile(r"^\[[^\]]*\]\s*")


def one_line(text: str) -> str:
    """Collapse line breaks so text can go into a mail header without injecting another."""
    return _LINE_BREAKS.sub(" ", text).strip()


def _paragraphs(text: str) -> list[str]:
    return [p.strip("\n") for p in text.split("\n\n") if p.strip()]


def variant(template_name: str, lang: str) -> str:
    """The template in the letter's language when one exists (notice.en.txt.j2), else the
    Chinese one: letters to agencies and staff are Chinese whatever the applicant reads."""
    if lang == "zh":
        return template_name
    stem, dot, extension = template_name.partition(".")
    candidate = f"{stem}.{lang}{dot}{extension}"
    try:
        environment().get_template(candidate)
    except TemplateNotFound:
        return template_name
    return candidate


def render_message(template_name: str, context: dict[str, Any]) -> RenderedMessage:
    """Render a template with a `subject` block and a body (the whole template).

    A template that extends a letter layout also has a `body` block: that is what the printed
    letter shows under its own letterhead. `lang` in the context picks the language variant.
    """
    env = environment()
    name = variant(template_name, context.get("lang", "zh"))
    lang = "zh" if name == template_name else context["lang"]
    context = {**context, "lang": lang, "labels": LAYOUT_LABELS[lang]}
    template = env.get_template(name)
    text = template.render(context)
    blocks = template.new_context(context)
    subject = (
        one_line("".join(template.blocks["subject"](blocks)))
        if "subject" in template.blocks
        else ""
    )
    body = "".join(template.blocks["body"](blocks)) if "body" in template.blocks else text
    html = env.get_template(HTML_LAYOUT).render(
        subject=subject, paragraphs=_paragraphs(text), labels=context["labels"]
    )
    printable = env.get_template(PRINT_LAYOUT).render(
        context, title=_CASE_TAG.sub("", subject), paragraphs=_paragraphs(body)
    )
    return RenderedMessage(subject=subject, text=text, html=html, printable=printable)
