"""Printed letters: every template of every playbook laid out as an A4 PDF with Chinese text."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from casework.playbook import all_playbooks, get_playbook
from casework.printing import render_pdf
from casework.rendering import render_message
from tasks.render import document_name, file_document, sample_context
from tests.factories import document_text

pytestmark = pytest.mark.flow
CJK_FONTS = ("WenQuanYi", "NotoSerifCJK", "NotoSansCJK", "UMing")


def _pdf_info(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True)
    return dict(line.split(":", 1) for line in out.stdout.splitlines() if ":" in line)


def _pages(path: Path) -> int:
    return int(_pdf_info(path)["Pages"].strip())


def _print(tmp_path: Path, name: str, template: str, context: dict[str, object]) -> Path:
    message = render_message(template, context)
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(render_pdf(message.printable))
    return path


def test_every_letter_of_every_playbook_prints_in_chinese_on_one_page(tmp_path: Path) -> None:
    long_notices = []
    for slug, playbook in all_playbooks().items():
        context = sample_context(playbook)
        for kind, template in playbook.templates.model_dump().items():
            material = playbook.materials[-1]
            path = _print(tmp_path, f"{slug}-{kind}", template, {**context, "material": material})
            text = document_text(path)
            # Letterhead, case number and date in Chinese format come from the shared layout.
            assert context["office"]["name"] in text
            assert "案件编号：HC-2026-0000" in text and "2026年11月23日" in text
            fonts = subprocess.run(
                ["pdffonts", str(path)], capture_output=True, check=True, text=True
            ).stdout
            assert any(f in fonts for f in CJK_FONTS), f"{slug}/{kind}: no CJK font\n{fonts}"
            pages = _pages(path)
            if kind == "notice" and pages > 1:
                long_notices.append((slug, pages))
                assert f"第{pages}页/共{pages}页" in document_text(path).replace(" ", "")
            else:
                assert pages == 1, f"{slug}/{kind} takes {pages} pages"
    # Only the five-service bundle lists more materials than one page holds.
    assert long_notices == [("hardship-bundle", 2)]


def test_the_request_letter_says_what_the_agency_needs_and_how_to_answer(tmp_path: Path) -> None:
    playbook = get_playbook("recover-cremation-certificate")
    context = sample_context(playbook)
    crematorium = playbook.agencies[0]
    emailed = document_text(
        _print(tmp_path, "email", playbook.templates.request, {**context, "agency": crematorium})
    )
    assert "关于协助查询火化记录并补办火化证明的函" in emailed  # the title, without the [case] tag
    assert crematorium.name in emailed and "示例逝者姓名" in emailed
    assert "请回复本邮件" in emailed
    by_post = crematorium.model_copy(update={"email": None})
    posted = document_text(
        _print(tmp_path, "post", playbook.templates.request, {**context, "agency": by_post})
    )
    assert "请回复本邮件" not in posted
    assert "请将回函寄至" in posted and context["office"]["address"] in posted


def test_case_data_holding_html_is_printed_as_typed(tmp_path: Path) -> None:
    playbook = get_playbook("recover-cremation-certificate")
    context = sample_context(playbook)
    context["case"]["fields"]["deceased_name"] = '<b>王</b>&<img src="x">'
    message = render_message(
        playbook.templates.request, {**context, "agency": playbook.agencies[0]}
    )
    assert "<b>王</b>" not in message.printable and "&lt;b&gt;王&lt;/b&gt;" in message.printable
    path = tmp_path / "html.pdf"
    path.write_bytes(render_pdf(message.printable))
    assert '<b>王</b>&<img src="x">' in document_text(path)


def test_a_filed_letter_keeps_its_first_copy(fresh_db: Path) -> None:
    playbook = get_playbook("recover-cremation-certificate")
    first_day = sample_context(playbook)
    later = {**first_day, "today": date(2026, 11, 23) + timedelta(days=7)}
    name = document_name("request", "cremation-certificate", "crematorium-front-desk")
    agency = {"agency": playbook.agencies[0]}
    path = file_document(
        "HC-2026-0000", name, render_message(playbook.templates.request, {**first_day, **agency})
    )
    again = file_document(
        "HC-2026-0000", name, render_message(playbook.templates.request, {**later, **agency})
    )
    assert again == path and path.endswith(".pdf")
    # A re-run a week later does not re-date a letter that has already gone out.
    assert "2026年11月23日" in document_text(path) and "2026年11月30日" not in document_text(path)
    assert sorted(p.name for p in Path(path).parent.iterdir()) == [Path(path).name]
