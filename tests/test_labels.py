"""`casework show` prints words, never codes; a field's error names the field in words."""

from __future__ import annotations

import re
from datetime import date

import pytest
from typer.testing import CliRunner

from casework.clock import start_of_office_day
from cli.main import app
from tests.factories import case_with_a_request

# A code as it would leak: a lowercase word joined by - or _ (waiting_agency, no-record, …).
JOINED_CODE = re.compile(r"(?<![\w./@+-])[a-z]+(?:[-_][a-z0-9]+)+(?![\w.@/-])")
runner = CliRunner()


def _show(case_number: str, *options: str) -> str:
    result = runner.invoke(app, [*options, "show", case_number])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.flow
def test_show_speaks_chinese_without_a_single_code(fresh_db: object, smtp_server: list) -> None:
    day = start_of_office_day(date(2026, 11, 16))
    case_number, _ = case_with_a_request(day)
    answered = runner.invoke(
        app,
        [
            "reply", case_number, "--agency", "crematorium-front-desk", "--outcome", "forwarded",
            "--forward-to", "crematorium-archive-room", "--note", "前台无记录",
        ],
    )  # fmt: skip
    assert answered.exit_code == 0, answered.output
    assert "殡仪馆" in answered.output and "转其他单位" in answered.output
    assert "forwarded" not in answered.output
    visited = runner.invoke(app, ["visit", case_number, "--reason", "signature"])
    assert visited.exit_code == 0, visited.output

    shown = _show(case_number)
    lines = [line for line in shown.splitlines() if "/" not in line and "@" not in line]
    leaks = sorted({m for line in lines for m in JOINED_CODE.findall(line)})
    assert leaks == [], shown
    for word in ("等单位答复", "转其他单位", "发函", "签字", "受理", "申请人到窗口", "系统"):
        assert word in shown, (word, shown)
    for code in ("waiting_agency", "pending", "requested", "outbound", "case-opened"):
        assert code not in shown

    english = _show(case_number, "--lang", "en")
    assert "Materials:" in english and "Audit trail:" in english
    assert "waiting for an agency" in english and "forwarded" in english
    assert "材料：" not in english and "审计记录" not in english


@pytest.mark.flow
def test_a_field_error_names_the_field_in_words(fresh_db: object) -> None:
    result = runner.invoke(
        app,
        [
            "open", "recover-cremation-certificate", "--name", "沈桂兰",
            "--id-number", "110102195003080023", "--phone", "13800001234", "--no-start",
            "--field", "deceased_name=王建国", "--field", "cremation_date=2016-13-40",
        ],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "火化日期" in result.output and "cremation_date" not in result.output
