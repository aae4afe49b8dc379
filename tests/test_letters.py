"""Printed letters: every template of every playbook laid out as an A4 PDF with Chinese text."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from casework.playbook import all_playbooks, get_playbook
from casework.printing import render_pdf
from casework.samples import sample_context
from casework.templating import LANGUAGES, render_message, variant
from tasks.render import document_name
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


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_letter_of_every_playbook_prints_on_one_page(tmp_path: Path, lang: str) -> None:
    long_notices = []
    for slug, playbook in all_playbooks().items():
        context = {**sample_context(playbook), "lang": lang}
        for kind, template in playbook.templates.model_dump().items():
            material = context["route"][-1]
            path = _print(tmp_path, f"{slug}-{kind}", template, {**context, "material": material})
            text = document_text(path)
            # Letterhead, case number and date come from the shared layout, in the letter's
            # language (letters to agencies and staff have no English variant: Chinese).
            in_english = variant(template, lang) != template
            assert context["office"]["name"] in text
            if in_english:
                assert "Case number: HC-2026-0000" in text and "23 November 2026" in text
            else:
                assert "案件编号：HC-2026-0000" in text and "2026年11月23日" in text
            fonts = subprocess.run(
                ["pdffonts", str(path)], capture_output=True, check=True, text=True
            ).stdout
            assert any(f in fonts for f in CJK_FONTS), f"{slug}/{kind}: no CJK font\n{fonts}"
            pages = _pages(path)
            if kind == "notice" and pages > 1:
                long_notices.append((slug, pages))
                footer = f"Page{pages}of{pages}" if in_english else f"第{pages}页/共{pages}页"
                assert footer in text.replace(" ", "")
            else:
                assert pages == 1, f"{slug}/{kind} ({lang}) takes {pages} pages"
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


def test_a_letter_is_filed_once_dated_the_day_it_was_recorded(
    fresh_db: Path, smtp_server: list
) -> None:
    from casework.clock import start_of_office_day
    from models import intake, outgoing, views
    from models.db import session_scope
    from tasks.render import render_for_case
    from tasks.send import notify_applicant
    from tests.factories import shen_intake

    day = start_of_office_day(date(2026, 11, 16))
    week_later = day + timedelta(days=7)

    def notice_path(number: str) -> str | None:
        with session_scope() as session:
            detail = views.case_detail(session=session, case_number=number)
        return next(c.document for c in detail.contacts if c.kind == "notice")

    # Normal re-run a week later: the letter already filed is kept as it was.
    with session_scope() as session:
        number = intake.open_case(
            session=session, intake=shen_intake(date(2017, 6, 1)), as_of=day
        ).number
    notify_applicant.fn(number, day)
    filed = notice_path(number)
    assert filed is not None and Path(filed).name == "notice.pdf"
    notify_applicant.fn(number, week_later)
    assert notice_path(number) == filed and "2026年11月16日" in document_text(filed)

    # A crash after the notice was recorded (and emailed) but before it was filed: the re-run
    # files it dated the day it was recorded, not the day of the re-run.
    with session_scope() as session:
        second = intake.open_case(
            session=session, intake=shen_intake(date(2017, 6, 1)), as_of=day
        ).number
    message = render_for_case("recover-cremation-certificate/notice.txt.j2", second, day)
    with session_scope() as session:
        outgoing.record_notice(session=session, case_number=second, message=message, as_of=day)
    assert notice_path(second) is None
    notify_applicant.fn(second, week_later)
    recovered = notice_path(second)
    assert recovered is not None
    assert "2026年11月16日" in document_text(recovered)
    assert "2026年11月23日" not in document_text(recovered)


def test_letters_are_filed_in_the_letters_folder_when_one_is_set(
    fresh_db: Path, smtp_server: list, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casework.clock import start_of_office_day
    from models import intake
    from models.db import forget_cached_state, session_scope
    from tasks.send import notify_applicant
    from tests.factories import shen_intake

    shared = tmp_path / "printer-share"
    monkeypatch.setenv("CASEWORK_LETTERS_FOLDER", str(shared))
    forget_cached_state()
    day = start_of_office_day(date(2026, 11, 16))
    with session_scope() as session:
        number = intake.open_case(
            session=session, intake=shen_intake(date(2017, 6, 1)), as_of=day
        ).number
    notify_applicant.fn(number, day)
    assert (shared / number / "notice.pdf").is_file()
    assert not (tmp_path / "letters").exists()


def test_a_run_prints_its_letters_behind_it_and_has_each_on_file_before_it_goes_on(
    fresh_db: Path, smtp_server: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import tasks.render
    from casework.clock import start_of_office_day
    from models import intake, views
    from models.db import session_scope
    from tasks.render import letters_filed, letters_printed_behind
    from tasks.send import notify_applicant
    from tests.factories import shen_intake

    day = start_of_office_day(date(2026, 11, 16))
    printing = threading.Event()
    may_print = threading.Event()
    real_file_document = tasks.render.file_document
    printed_on: list[str] = []

    def held_printer(case_number: str, name: str, message: object) -> str:
        printed_on.append(threading.current_thread().name)
        printing.set()
        assert may_print.wait(10)
        return real_file_document(case_number, name, message)  # type: ignore[arg-type]

    monkeypatch.setattr(tasks.render, "file_document", held_printer)

    def opened() -> str:
        with session_scope() as session:
            return intake.open_case(
                session=session, intake=shen_intake(date(2017, 6, 1)), as_of=day
            ).number

    def notice(number: str) -> str | None:
        with session_scope() as session:
            detail = views.case_detail(session=session, case_number=number)
        return next(c.document for c in detail.contacts if c.kind == "notice")

    number = opened()
    with letters_printed_behind():
        notify_applicant.fn(number, day)
        # The notice is emailed and the task is done while its PDF is still being made.
        assert printing.wait(30) and notice(number) is None
        assert len(smtp_server) == 1
        may_print.set()
        assert letters_filed() == 1
        filed = notice(number)
        assert filed is not None and "2026年11月16日" in document_text(filed)
        assert letters_filed() == 0
    assert printed_on and printed_on[0].startswith("printer")

    # Leaving the block files what is still queued.
    second = opened()
    with letters_printed_behind():
        notify_applicant.fn(second, day)
    assert notice(second) is not None

    # A letter that cannot be filed stops the run at its next wait, and stays recorded unfiled
    # for the case's next run to file; outside the block a letter is filed before the call ends.
    def disk_full(case_number: str, name: str, message: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tasks.render, "file_document", disk_full)
    third = opened()
    with pytest.raises(OSError, match="No space"), letters_printed_behind():
        notify_applicant.fn(third, day)
        letters_filed()
    assert notice(third) is None
    monkeypatch.setattr(tasks.render, "file_document", real_file_document)
    notify_applicant.fn(third, day)
    assert notice(third) is not None


PRINT_FROM_FOUR_THREADS = """
import threading
from casework.printing import render_pdf
from casework.samples import sample_context, LANGUAGES, all_playbooks, render_message
playbook = all_playbooks()["recover-cremation-certificate"]
context = {**sample_context(playbook), "lang": LANGUAGES[0], "material": playbook.materials[0]}
html = [render_message(n, context).printable for n in (playbook.templates.notice,
                                                        playbook.templates.request)]
sizes = []
def prints(i):
    for k in range(4):
        sizes.append(len(render_pdf(html[(i + k) % 2])))
threads = [threading.Thread(target=prints, args=(i,)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(len(sizes), len(set(sizes)))
"""


def test_threads_of_one_process_print_at_once_with_its_one_font_configuration() -> None:
    # The web server's threads and a case run's printer share the process's fonts: Pango used
    # from two threads at once aborts the process (glibc: "realloc(): invalid next size").
    import sys

    done = subprocess.run(
        [sys.executable, "-c", PRINT_FROM_FOUR_THREADS], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["16", "2"]  # 16 letters, the two kinds each the same size


def _shen_letter() -> str:
    playbook = get_playbook("recover-cremation-certificate")
    context = {**sample_context(playbook), "material": playbook.materials[0]}
    return render_message(playbook.templates.request, context).printable


def test_letters_are_printed_with_harfbuzzs_subsetter(caplog: pytest.LogCaptureFixture) -> None:
    # With fontTools instead, the Chinese font's subset takes ~1 s a letter, not 0.05 s: a case
    # run waits for its letters before it waits for an answer. `make printing` installs it.
    from casework import printing

    printing._check_subsetting.cache_clear()
    render_pdf(_shen_letter())
    assert printing._check_subsetting() is True
    assert not [r for r in caplog.records if r.levelname == "WARNING"], caplog.text


def test_without_the_subsetter_the_office_is_told_once_what_to_install(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from weasyprint.pdf import fonts

    from casework import printing

    monkeypatch.setattr(fonts, "harfbuzz_subset", None)
    printing._check_subsetting.cache_clear()
    try:
        letters = [render_pdf(_shen_letter()) for _ in range(2)]
    finally:
        printing._check_subsetting.cache_clear()
        logging.getLogger("weasyprint").removeFilter(printing._ONLY_OUR_NOTICE)
    assert all(letter.startswith(b"%PDF") for letter in letters)  # slow, but printed
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1, warnings  # not WeasyPrint's, once per font per letter
    assert "apt-get install libharfbuzz-subset0" in warnings[0]


def test_make_printing_installs_the_packages_printing_names() -> None:
    makefile = (Path(__file__).parents[1] / "Makefile").read_text()
    line = next(line for line in makefile.splitlines() if line.startswith("PRINT_PACKAGES :="))
    from casework.printing import DEBIAN_PACKAGES

    assert sorted(line.split(":=")[1].split()) == sorted(DEBIAN_PACKAGES)


def test_letter_file_names_come_from_their_unique_keys() -> None:
    assert document_name("notice:HC-2026-0001") == "notice"
    assert (
        document_name("request:HC-2026-0001:cremation-certificate:crematorium-front-desk:2")
        == "request-cremation-certificate-crematorium-front-desk-2"
    )
    assert document_name("reminder:HC-2026-0001:17:1") == "reminder-17-1"


def test_an_english_case_writes_to_the_applicant_in_english_and_to_agencies_in_chinese(
    fresh_db: Path, smtp_server: list
) -> None:
    from casework.clock import start_of_office_day
    from casework.planning import plan_next_step
    from models import intake, lookups, views
    from models.db import session_scope
    from tasks.send import notify_applicant, send_request
    from tests.factories import shen_intake

    day = start_of_office_day(date(2026, 11, 16))
    case_intake = shen_intake(date(2017, 6, 1)).model_copy(update={"letter_lang": "en"})
    with session_scope() as session:
        number = intake.open_case(session=session, intake=case_intake, as_of=day).number
    notify_applicant.fn(number, day)
    with session_scope() as session:
        view = lookups.case_view(session=session, case_number=number)
    send_request.fn(number, plan_next_step(view, get_playbook(view.playbook), day), day)
    notice_email, request_email = smtp_server
    assert notice_email["Subject"].startswith(f"[{number}] One-time notification")
    assert 'lang="en"' in notice_email.get_body(preferencelist=("html",)).get_content()
    assert request_email["Subject"] == f"[{number}] 关于协助查询火化记录并补办火化证明的函"

    with session_scope() as session:
        detail = views.case_detail(session=session, case_number=number)
    notice, request = (
        next(c for c in detail.contacts if c.kind == k) for k in ("notice", "request")
    )
    english = document_text(notice.document or "")
    assert f"Case number: {number}" in english and "16 November 2026" in english
    assert "Dear 沈桂兰" in english and "Page 1 of 1" in english
    assert "案件编号" not in english
    chinese = document_text(request.document or "")
    assert f"案件编号：{number}" in chinese and "2026年11月16日" in chinese


def test_an_unknown_letter_language_is_refused_at_intake(fresh_db: Path) -> None:
    from typer.testing import CliRunner

    from cli.main import app
    from cli.stories import synthetic_id_number

    result = CliRunner().invoke(
        app,
        [
            "open", "temporary-assistance", "--no-start", "--name", "李某",
            "--id-number", synthetic_id_number(date(1960, 1, 1)), "--phone", "13800001234",
            "--field", "hardship=突发重病", "--letter-lang", "fr",
        ],
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.output.strip() == "信函语言无效：fr（zh 中文 / en 英文）"
    from sqlmodel import func, select

    from models.db import session_scope
    from models.tables import Case

    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(Case)).one() == 0
