"""A new office's first week, as the README writes it, on a fresh home: every `casework …` line
of the README and of docs/ runs for real, in order, against a stack `casework up` started (a
`make …` line is checked with `make -n`: running the suite or the benchmark from inside the
suite is not a check); between the README's first day and the rest, a browser (Debian's
chromium, 1366×768) walks the workbench as a clerk and a manager would, with people and cases
the stories never used.

It fails on "No such command", a usage error or a non-zero exit; on any username, run id, code
or English word shown on a Chinese page; on two pages that disagree about a date; and on a
letter not signed by the handling clerk with the office's phone. Screenshots of every page go
to test-artifacts/screenshots/first-week-*.png (the status page also at 390×844)."""

from __future__ import annotations

import mailbox
import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from casework.clock import now, office_date
from casework.settings import PROJECT_DIR
from cli.stories import synthetic_id_number
from stack.ports import free_port
from tests.conftest import SCREENSHOTS
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
PASSWORD = "Taoranting-2026"
PUBLIC_HOST = "xxt.office.test"  # the office's public name; the browser maps it to this machine
# What a Chinese page must never show: an account's username, a run's id, a code.
USERNAMES = ("xuchang", "wangmin")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
JOINED_CODE = re.compile(r"(?<![\w./@+:-])[a-z]+(?:[-_][a-z0-9]+)+(?![\w.@/:-])")
ENGLISH_WORD = re.compile(r"\b(?:waiting|closed|withdrawn|pending|requested|received|forwarded)\b")
CN_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
CONTINUED = "\\"


def documented_commands(path: Path) -> list[str]:
    """The `casework …` and `make …` lines of a Markdown file's code blocks (a line ending in a
    backslash goes on), in order."""
    commands: list[str] = []
    inside = False
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("```"):
            inside = not inside
            continue
        if not inside:
            continue
        pending = " ".join(part for part in (pending, line.removesuffix(CONTINUED).strip()) if part)
        if line.endswith(CONTINUED):
            continue
        if pending.split(" ")[0] in ("casework", "make", ".venv/bin/casework"):
            commands.append(pending)
        pending = ""
    return commands


@dataclass
class Office:
    """A fresh home with its own ports, and the commands typed there."""

    home: Path
    env: dict[str, str]
    web_port: int
    cases: dict[str, str] = field(default_factory=dict)  # the documented number → the real one
    agencies: dict[str, str] = field(default_factory=dict)  # the documented code → the real one
    opened: int = 0  # cases the document being followed has opened (HC-2026-0001, -0002…)
    ran: list[str] = field(default_factory=list)

    def new_document(self) -> None:
        """A page's examples number their cases and agencies from one again."""
        self.opened = 0
        self.agencies.clear()

    @property
    def workbench(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def public_url(self) -> str:
        return f"http://{PUBLIC_HOST}:{self.web_port}"

    def filled(self, command: str) -> str:
        """The command with the README's examples made true here (the placeholder table)."""
        month = f"{office_date(now()):%Y-%m}"
        table = {
            "https://xxt.taoranting.example.gov.cn": self.public_url,
            "--month 2026-12": f"--month {month}",
            **self.cases,
            **self.agencies,
        }
        # In one pass: a real number may be another documented one (agency-002 for agency-001).
        written = re.compile("|".join(re.escape(w) for w in sorted(table, key=len, reverse=True)))
        return written.sub(lambda found: table[found.group(0)], command)

    def run(self, command: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Type one documented command, as written (placeholders filled)."""
        typed = self.filled(command)
        words = shlex.split(typed)
        if words[0] == "make":  # see the module's docstring
            words = ["make", "-n", "-C", str(PROJECT_DIR), *words[1:]]
        elif words[0] == ".venv/bin/casework":
            words[0] = "casework"
        prompt = f"{PASSWORD}\n{PASSWORD}\n" if " user add " in f" {typed} " else ""
        done = subprocess.run(
            words,
            cwd=self.home,
            env=self.env,
            input=prompt,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.ran.append(typed)
        said = done.stdout + done.stderr
        if check:
            assert "No such command" not in said and "Usage:" not in said, (typed, said)
            assert done.returncode == 0, (typed, said)
        if done.returncode == 0 and words[1:3] != ["--help"]:
            self._learn(command, done.stdout)
        return done

    def _learn(self, command: str, said: str) -> None:
        """Which real case or agency a documented `open` or `agency add` made."""
        if re.search(r"\bopen\s", command) and (number := re.search(r"HC-\d{4}-\d{4}", said)):
            self.opened += 1
            self.cases[f"HC-2026-{self.opened:04d}"] = number.group(0)
        if " agency add " in f" {command} " and (code := re.search(r"agency-\d{3}", said)):
            self.agencies[f"agency-{len(self.agencies) + 1:03d}"] = code.group(0)

    def case_json(self, number: str) -> dict[str, Any]:
        import json

        shown = self.run(f"casework show {number} --json")
        return dict(json.loads(shown.stdout))

    def wait_for_status(self, number: str, status: str) -> None:
        wait_for(
            lambda: self.case_json(number)["status"] == status,
            seconds=120,
            what=f"{number} {status}",
            every=1.0,
        )

    def wait_for_request(self, number: str, agency: str) -> None:
        """The case's run has written to `agency` and waits for its answer (as a clerk would
        only record an answer to a letter that went out)."""
        wait_for(
            lambda: any(
                c["kind"] == "request" and c["agency"] == agency and not c["outcome"]
                for c in self.case_json(number)["contacts"]
            ),
            seconds=120,
            what=f"{number}: a request to {agency}",
            every=1.0,
        )

    def mail(self) -> list[Any]:
        folder = mailbox.Maildir(self.home / ".casework" / "mailbox", create=False)
        return [message_from_bytes(m.as_bytes(), policy=policy.default) for m in folder]


@pytest.fixture(scope="module")
def office() -> Iterator[Office]:
    home = Path(tempfile.mkdtemp(prefix="casework-first-week-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEWORK_", "PREFECT_"))}
    web_port = free_port()
    env.update(
        CASEWORK_HOME=str(home / ".casework"),
        CASEWORK_PREFECT_PORT=str(free_port()),
        CASEWORK_SMTP_PORT=str(free_port()),
        CASEWORK_WEB_PORT=str(web_port),
        PATH=f"{PROJECT_DIR / '.venv' / 'bin'}:{env.get('PATH', '')}",
    )
    office = Office(home=home, env=env, web_port=web_port)
    try:
        yield office
    finally:
        subprocess.run(["casework", "down"], env=env, capture_output=True, timeout=120)


def _text(page: Any) -> str:
    return str(page.inner_text("body"))


def check_page(page: Any, name: str, *, viewport: dict[str, int] = DESKTOP) -> str:
    """Screenshot the page and read it as a Chinese reader would: words only."""
    page.set_viewport_size(viewport)
    page.screenshot(path=str(SCREENSHOTS / f"first-week-{name}.png"), full_page=True)
    text = _text(page)
    readable = [
        line
        for line in text.splitlines()
        if "http" not in line and "English" not in line  # the status link; the language switch
    ]
    body = "\n".join(readable)
    for username in USERNAMES:
        assert username not in body, (name, username)
    assert not UUID.search(text), (name, UUID.search(text))
    leaks = sorted(set(JOINED_CODE.findall(body)))
    assert leaks == [], (name, leaks)
    assert not ENGLISH_WORD.search(body), (name, ENGLISH_WORD.search(body))
    return text


def days_in(text: str) -> list[date]:
    return [date(int(y), int(m), int(d)) for y, m, d in CN_DATE.findall(text)]


def pdf_text(data: bytes, folder: Path, name: str) -> str:
    path = folder / f"{name}.pdf"
    path.write_bytes(data)
    found = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True)
    return found.stdout


def test_the_readme_first_week_works_as_written(office: Office, browser: Any) -> None:
    readme = documented_commands(PROJECT_DIR / "README.md")
    office.new_document()
    first_day = readme[: readme.index("casework status", readme.index("casework office list")) + 1]
    for command in first_day:
        done = office.run(command)
        if command == "casework status":
            said = done.stdout + done.stderr
            assert "只有本机能打开" in said and office.workbench in said  # the loopback warning
    edits = readme[len(first_day) : len(first_day) + 2]
    assert edits[0].startswith("casework office edit") and edits[1] == "casework status"
    for command in edits:
        said = office.run(command).stdout
    assert (
        "只有本机能打开" not in said
        and office.public_url in office.run("casework status --json").stdout
    )

    walk_the_workbench(office, browser)

    for command in readme[len(first_day) + 2 :]:
        if command == "casework down":
            continue  # at the module's end: the docs' commands use the same stack
        if " rate " in command:  # her rating waits for the case to close
            office.wait_for_status(office.cases["HC-2026-0001"], "closed")
        if " reply " in command:  # an answer to a letter that went out
            agency = re.search(r"--agency (\S+)", command)
            assert agency
            office.wait_for_request(office.cases["HC-2026-0001"], agency.group(1))
        office.run(command)
    assert office.opened >= 1
    shown = office.case_json(office.cases["HC-2026-0001"])
    assert shown["status"] == "closed" and shown["rating"]["level"] == 4
    assert [c["recorded_by"] for c in shown["contacts"] if c["kind"] == "reply"] == ["徐畅"] * 2


def walk_the_workbench(office: Office, browser: Any) -> None:
    """A clerk and a manager through the workbench: two intakes through the form, the notice
    and receipt printed, an answer by phone then the same agency's link, an extension, a
    withdrawal of the second case, the citizen's page."""
    # Letters print the office's public name; this browser opens the same pages on this machine.
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    wait_for(lambda: _opens(page, f"{office.workbench}/login"), seconds=60, what="the workbench")
    check_page(page, "login")
    _sign_in(page, "xuchang")
    check_page(page, "my-cases-empty")
    assert "没有案件" in _text(page)

    first = _take_in(page, office, "刘岩", date(1955, 4, 12), "13911112222", "刘德明", "2018-03-05")
    second = _take_in(
        page, office, "张秀英", date(1948, 9, 30), "13622223333", "李国华", "2019-11-20"
    )
    folder = Path(tempfile.mkdtemp(prefix="first-week-prints-"))  # the test's, not the home's

    # The notice and the receipt, printed at the window: signed by her clerk and the office.
    page.goto(f"{office.workbench}/cases/{first}")
    notice = pdf_text(
        page.request.get(f"{office.workbench}/cases/{first}/notice.pdf").body(), folder, "notice"
    )
    receipt = pdf_text(
        page.request.get(f"{office.workbench}/cases/{first}/receipt.pdf").body(), folder, "receipt"
    )
    for letter in (notice, receipt):
        assert "010-63500000" in letter and "陶然亭街道" in letter and "010-0000-0000" not in letter
    assert "首问责任人：徐畅" in receipt and "经办人：徐畅" in receipt
    assert "监督电话：010-63500099" in receipt
    assert office.public_url in notice.replace("\n", "") or PUBLIC_HOST in notice

    # The front desk calls back: forwarded to the archive room.
    _wait_for_request(page, office, first)
    check_page(page, "case-waiting")
    page.get_by_label("答复结果").select_option(label="转其他单位")
    page.get_by_label("转往单位（答复为“转其他单位”时选择）").select_option(label="殡仪馆档案室")
    page.get_by_label("备注", exact=True).first.fill("前台查无记录，转档案室")
    page.get_by_role("button", name="记录答复").click()
    answered = check_page(page, "case-answered")
    assert "已记录：殡仪馆业务大厅（前台）：转其他单位" in answered

    # The front desk's emailed link now says the answer is in, who recorded it and when.
    request_mail = next(
        m for m in office.mail() if "front-desk@" in str(m["To"]) and first in str(m["Subject"])
    )
    body = request_mail.get_body(("plain",)).get_content()
    assert "经办人：徐畅" in body and "010-63500000" in body and "窗口工作人员" not in body
    link = re.search(r"http://\S+/r/[0-9A-Z-]+", body)
    assert link and link.group(0).startswith(office.public_url), body
    agency = browser.new_context(viewport=DESKTOP).new_page()  # the agency's own browser
    agency.goto(link.group(0).replace(office.public_url, office.workbench))
    closed = check_page(agency, "reply-link-closed")
    assert "由徐畅记录答复：转其他单位" in closed and "010-63500000" in closed
    agency.context.close()

    # The manager extends the first case: every page then shows the one new date.
    _sign_out(page)
    _sign_in(page, "wangmin")
    page.goto(f"{office.workbench}/cases/{first}")
    before = _promised(_text(page))
    page.get_by_label("延长工作日数").fill("3")
    page.get_by_label("延期理由（写入延期告知书）").fill("档案室搬迁，查档暂停")
    page.get_by_role("button", name="批准延期").click()
    extended = check_page(page, "case-extended")
    after = _promised(extended)
    assert after > before and "含延期3个工作日" in extended
    extension_row = page.locator("tr", has_text="延期告知")
    letter_link = extension_row.get_by_role("link", name="查看信函").get_attribute("href")
    letter = pdf_text(
        page.request.get(f"{office.workbench}{letter_link}").body(), folder, "extension"
    )
    flat = re.sub(r"\s+", "", letter)
    assert f"原定于{before.year}年{before.month}月{before.day}日前办结" in flat
    assert f"预计于{after.year}年{after.month}月{after.day}日前办结" in flat
    assert "徐畅" in letter and "010-63500000" in letter  # signed by the case's clerk
    page.goto(f"{office.workbench}/?scope=office")
    check_page(page, "office-cases")
    row = str(page.locator("tr", has_text=first).inner_text())
    assert after in days_in(row) and before not in days_in(row)
    status_url = re.search(r"http://\S+/s/\S+", extended)
    assert status_url
    citizen = browser.new_context(viewport=PHONE).new_page()  # her phone
    citizen.goto(status_url.group(0).replace(office.public_url, office.workbench))
    status = check_page(citizen, "status-page-phone", viewport=PHONE)
    check_page(citizen, "status-page")
    assert (
        after in days_in(status)
        and "无需您跑动" in status
        and "刘*" in status
        and "刘岩" not in status
    )
    assert days_in(status)[0] == days_in(row)[0]  # the day of intake, the same everywhere

    # The board, the print queue, the search.
    page.goto(f"{office.workbench}/board")
    check_page(page, "board")
    page.goto(f"{office.workbench}/print")
    check_page(page, "print-queue")
    page.get_by_placeholder("身份证号／电话／姓名").fill("刘岩")
    page.get_by_role("button", name="查找").click()
    found = check_page(page, "search")
    assert first in found and second not in found

    # The second case is withdrawn, after a confirmation that says what follows.
    page.goto(f"{office.workbench}/cases/{second}")
    _wait_for_request(page, office, second)
    page.get_by_label("终止原因（申请人在查询页上看到）").fill("申请人已自行办妥")
    page.get_by_role("button", name="终止办理…").click()
    confirm = check_page(page, "withdraw-confirm")
    assert "殡仪馆业务大厅（前台）" in confirm and "不能恢复" in confirm
    page.get_by_role("button", name="确认终止办理").click()
    withdrawn = check_page(page, "case-withdrawn")
    assert "已终止" in withdrawn and "已办结" not in withdrawn
    assert "王敏" in withdrawn  # the audit trail names who withdrew it
    second_status = re.search(r"http://\S+/s/\S+", withdrawn)
    assert second_status
    citizen.goto(second_status.group(0).replace(office.public_url, office.workbench))
    ended = check_page(citizen, "status-withdrawn")
    assert "案件已终止办理" in ended and "申请人已自行办妥" in ended and "请您评价" not in ended
    citizen.context.close()
    context.close()

    # Everything the stack wrote in the home is the install's alone (issue 37: it was 644/755).
    opened = open_to_others(office.home)
    assert opened == [], "\n".join(opened)


def open_to_others(home: Path) -> list[str]:
    """Files and folders under `home` that its group or anyone else may read or enter."""
    found = []
    for folder, folders, files in os.walk(home):
        for name in [*folders, *files]:
            path = Path(folder) / name
            if not path.is_symlink() and path.lstat().st_mode & 0o077:
                found.append(f"{oct(path.lstat().st_mode & 0o777)} {path.relative_to(home)}")
    return found


def _opens(page: Any, url: str) -> bool:
    try:
        page.goto(url)
    except Exception:
        return False
    return True


def _sign_in(page: Any, username: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/(\?.*)?$"))


def _sign_out(page: Any) -> None:
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"/login"))


def _take_in(
    page: Any, office: Office, name: str, born: date, phone: str, deceased: str, cremated: str
) -> str:
    page.get_by_role("link", name="受理", exact=True).click()
    check_page(page, "intake-choice")
    page.get_by_role("link", name="补办火化证明（丧葬费补贴）").click()
    form = check_page(page, "intake-form")
    assert "火化证明（补办件或火化记录证明）" not in form  # not offered as brought today
    page.get_by_role("textbox", name="姓名", exact=True).fill(name)
    page.get_by_label("公民身份号码（18位）").fill(synthetic_id_number(born, "011"))
    page.get_by_label("联系电话").fill(phone)
    page.get_by_label("逝者姓名").fill(deceased)
    page.get_by_label("火化日期").fill(cremated)
    page.get_by_role("button", name="受理并打印一次性告知书").click()
    page.wait_for_url(re.compile(r"/cases/HC-"))
    opened = check_page(page, "case-opened")
    assert "案件已受理" in opened and "首问责任人：徐畅" in opened
    return str(re.search(r"HC-\d{4}-\d{4}", page.url).group(0))  # type: ignore[union-attr]


def _wait_for_request(page: Any, office: Office, number: str) -> None:
    """The case's run has sent its first request (the answer form lists the awaited agency)."""

    def asked() -> bool:
        page.goto(f"{office.workbench}/cases/{number}")
        return "答复单位（正在等待）" in _text(page)

    wait_for(asked, seconds=90, what=f"{number}: its first request", every=1.0)


def _promised(text: str) -> date:
    found = re.search(r"承诺办结：(\d{4})年(\d{1,2})月(\d{1,2})日", text)
    assert found, text[:400]
    return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))


def test_every_command_the_docs_show_runs(office: Office) -> None:
    for doc in sorted((PROJECT_DIR / "docs").glob("*.md")):
        commands = documented_commands(doc)
        office.new_document()
        if any("HC-2026-0001" in c for c in commands) and not any(
            re.search(r"\bopen\s", c) for c in commands
        ):
            # Each page's examples get a case of their own, open and waiting.
            opened = office.run(
                "casework --as xuchang open recover-cremation-certificate --name 王淑芬 "
                f"--id-number {synthetic_id_number(date(1951, 6, 1), '021')} "
                "--phone 13733334444 --field deceased_name=赵大勇 --field cremation_date=2020-02-02"
            )
            number = re.search(r"HC-\d{4}-\d{4}", opened.stdout)
            assert number
            office.cases["HC-2026-0001"] = number.group(0)
        for command in commands:
            office.run(command)
    assert sum(c.startswith("casework") for c in office.ran) > 40  # the pages' commands ran
