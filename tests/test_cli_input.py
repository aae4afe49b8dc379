"""Staff mistakes at the CLI: one line in their language, exit code 2, nothing written."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from casework.clock import now, office_date
from cli.main import app
from cli.stories import synthetic_id_number
from models.db import session_scope
from models.tables import Case, CaseEvent, Contact

pytestmark = pytest.mark.flow
runner = CliRunner()
GOOD_ID = synthetic_id_number(date(1950, 3, 8))
OPEN = [
    "open",
    "recover-cremation-certificate",
    "--no-start",
    "--name",
    "沈桂兰",
    "--phone",
    "13800001234",
    "--field",
    "deceased_name=王建国",
]


def rows() -> tuple[int, int, int]:
    with session_scope() as session:
        return tuple(  # type: ignore[return-value]
            int(session.exec(select(func.count()).select_from(m)).one())
            for m in (Case, Contact, CaseEvent)
        )


def run(*args: str) -> tuple[int, list[str]]:
    result = runner.invoke(app, list(args))
    return result.exit_code, [line for line in result.output.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            [
                "open",
                "no-such-type",
                "--name",
                "a",
                "--id-number",
                GOOD_ID,
                "--phone",
                "13800001234",
            ],
            "没有这种案件类型：no-such-type",
        ),
        (
            [
                *OPEN,
                "--id-number",
                GOOD_ID[:-1] + ("0" if GOOD_ID[-1] != "0" else "1"),
                "--field",
                "cremation_date=2017-01-01",
            ],
            "校验位不正确",
        ),
        (
            [*OPEN, "--id-number", "1101021950030800", "--field", "cremation_date=2017-01-01"],
            "应为18位",
        ),
        ([*OPEN, "--id-number", GOOD_ID, "--field", "cremation_date=2017-13-01"], "日期无效"),
        ([*OPEN, "--id-number", GOOD_ID, "--field", "cremation_date=2099-01-01"], "不能晚于今天"),
        # A year typed short is no date of a life: refused, not escalated at once.
        ([*OPEN, "--id-number", GOOD_ID, "--field", "cremation_date=0715-12-10"], "不早于1900年"),
        ([*OPEN, "--id-number", GOOD_ID, "--field", "cremation_date=1899-12-31"], "不早于1900年"),
        ([*OPEN, "--id-number", GOOD_ID], "缺少必填字段：cremation_date"),
        (
            [
                *OPEN,
                "--id-number",
                GOOD_ID,
                "--field",
                "cremation_date=2017-01-01",
                "--field",
                "colour=red",
            ],
            "此类案件没有字段：colour",
        ),
        (
            [
                *OPEN,
                "--id-number",
                GOOD_ID,
                "--field",
                "cremation_date=2017-01-01",
                "--email",
                "x@y\r\nBcc: z@w.cn",
            ],
            "电子邮箱地址无效",
        ),
        (
            [
                "reply",
                "HC-2026-9999",
                "--agency",
                "crematorium-front-desk",
                "--outcome",
                "received",
            ],
            "找不到案件：HC-2026-9999",
        ),
        (
            ["reply", "HC-2026-9999", "--agency", "crematorium-front-desk", "--outcome", "maybe"],
            "答复结果无效：maybe",
        ),
        (["show", "HC-2026-9999"], "找不到案件"),
        (["visit", "HC-2026-9999"], "找不到案件"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    fresh_db: object, args: list[str], expected: str
) -> None:
    before = rows()
    code, lines = run(*args)
    assert code == 2
    assert len(lines) == 1 and expected in lines[0], lines
    assert rows() == before


def test_intake_warns_of_the_same_persons_open_case_and_a_limit_passed(
    fresh_db: object,
) -> None:
    today = office_date(now())  # the office's day, as intake counts it (Beijing time)
    code, _ = run(*OPEN, "--id-number", GOOD_ID, "--field", "cremation_date=2017-01-01")
    assert code == 0
    # The same person and case type again: warned, nothing written until confirmed.
    before = rows()
    code, lines = run(*OPEN, "--id-number", GOOD_ID, "--field", "cremation_date=2017-01-01")
    assert code == 2 and rows() == before
    assert lines == [
        "此人已有同类案件在办：HC-2026-0001",
        "受理前请核对 1 项提示；核对后加 --confirm 再受理",
    ]
    # Another person whose limit (ten years from the cremation) ran out yesterday: warned too.
    other = synthetic_id_number(date(1952, 1, 2))
    past = today.replace(year=today.year - 10) - timedelta(days=1)
    code, lines = run(*OPEN, "--id-number", other, "--field", f"cremation_date={past}")
    assert code == 2 and rows() == before
    assert "火化证明补办时限（火化之日起10年）已于" in lines[0] and "立即上报主管" in lines[0]
    # The day before it runs out is no warning.
    on_time = today.replace(year=today.year - 10)
    code, _ = run(*OPEN, "--id-number", other, "--field", f"cremation_date={on_time}")
    assert code == 0
    # Confirmed, both open.
    code, _ = run(
        *OPEN, "--id-number", GOOD_ID, "--field", "cremation_date=2017-01-01", "--confirm"
    )
    assert code == 0
    with session_scope() as session:
        assert int(session.exec(select(func.count()).select_from(Case)).one()) == 3


def test_phone_is_checked(fresh_db: object) -> None:
    args = [a if a != "13800001234" else "12345" for a in OPEN]
    code, lines = run(*args, "--id-number", GOOD_ID, "--field", "cremation_date=2017-01-01")
    assert (code, len(lines)) == (2, 1) and "电话号码无效" in lines[0]
    assert rows() == (0, 0, 0)


def test_replies_the_case_is_not_waiting_for_are_refused(fresh_db: object) -> None:
    code, lines = run(*OPEN, "--id-number", GOOD_ID, "--field", "cremation_date=2017-01-01")
    assert code == 0, lines
    before = rows()
    for args, expected in [
        (["--agency", "crematorium-front-desk", "--outcome", "received"], "没有在等待"),
        (["--agency", "nowhere", "--outcome", "received"], "找不到单位：nowhere"),
    ]:
        code, lines = run("reply", "HC-2026-0001", *args)
        assert (code, len(lines)) == (2, 1) and expected in lines[0], lines
    assert rows() == before


def test_english_on_request(fresh_db: object) -> None:
    code, lines = run("--lang", "en", "show", "HC-2026-0042")
    assert (code, lines) == (2, ["No such case: HC-2026-0042"])


def test_playbooks_lists_the_cremation_case(fresh_db: object) -> None:
    result = runner.invoke(app, ["playbooks", "--json"])
    assert result.exit_code == 0
    assert "recover-cremation-certificate" in result.stdout


def test_unmasked_details_need_a_reason_that_is_audited(fresh_db: object) -> None:
    code, _ = run(*OPEN, "--id-number", GOOD_ID, "--field", "cremation_date=2017-01-01")
    assert code == 0
    code, lines = run("show", "HC-2026-0001")
    assert code == 0 and GOOD_ID not in "\n".join(lines) and "沈**" in "\n".join(lines)
    code, lines = run("show", "HC-2026-0001", "--full", " ")
    assert (code, len(lines)) == (2, 1) and "须写明理由" in lines[0]
    code, lines = run("show", "HC-2026-0001", "--full", "家属来电核对身份")
    assert code == 0 and GOOD_ID in lines[0] and "沈桂兰" in lines[0]
    result = runner.invoke(app, ["show", "HC-2026-0001", "--json"])
    events = [e for e in json.loads(result.stdout)["events"] if e["kind"] == "personal-data-shown"]
    # The reason, and who looked (the command line, run without --as), as people read them.
    assert [(e["detail"], e["actor"]) for e in events] == [("家属来电核对身份", "命令行")]


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        (
            {"CASEWORK_SMTP_TLS": "true", "CASEWORK_SMTP_STARTTLS": "true"},
            "设置有误：CASEWORK_SMTP_TLS and CASEWORK_SMTP_STARTTLS exclude each other",
        ),
        (
            {"CASEWORK_IMAP_HOST": "imap.example.com", "CASEWORK_IMAP_TLS": "false"},
            "设置有误：CASEWORK_IMAP_TLS=false is only for a mail server on this machine",
        ),
        (
            {"CASEWORK_SMTP_CA_FILE": "/no/such/ca.pem"},
            "设置有误：CASEWORK_SMTP_CA_FILE: no such file: /no/such/ca.pem",
        ),
        (
            {"CASEWORK_WORKER_POLL_SECONDS": "0"},
            "设置有误：CASEWORK_WORKER_POLL_SECONDS: Input should be greater than 0",
        ),
    ],
)
def test_a_mistyped_setting_is_one_line_not_a_traceback(
    environment: dict[str, str], expected: str
) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    command = Path(sys.executable).with_name("casework")
    result = subprocess.run(
        [str(command), "playbooks"],
        capture_output=True,
        text=True,
        env={**os.environ, **environment},
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (2, "", expected + "\n")
