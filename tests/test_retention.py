"""Retention: long-closed cases lose their personal data, keep their figures, with an audit row."""

from __future__ import annotations

import json
import mailbox
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from casework.answers import Answer, AnswerOutcome
from casework.clock import start_of_office_day
from cli.main import app
from gateways.maildir import read_mailbox
from models import incoming, intake, lookups
from models.db import session_scope
from models.reports import monthly_report
from models.tables import Applicant, OutboxMessage
from tests.factories import shen_intake
from tests.test_case_records import _run_until_wait

pytestmark = pytest.mark.flow
OPENED = start_of_office_day(date(2025, 3, 3))


def _closed_case() -> str:
    with session_scope() as session:
        number = intake.open_case(
            session=session, intake=shen_intake(date(2017, 6, 1)), as_of=OPENED
        ).number
    _run_until_wait(number, OPENED)
    with session_scope() as session:
        incoming.record_answer(
            actor="staff",
            session=session,
            case_number=number,
            answer=Answer(
                agency="crematorium-front-desk",
                outcome=AnswerOutcome.RECEIVED,
                note="家属沈桂兰电话13800001234已确认",
            ),
            as_of=OPENED,
        )
    _run_until_wait(number, OPENED)
    return number


def test_purge_dry_run_then_purge(fresh_db: Path, smtp_server: list) -> None:
    number = _closed_case()
    runner = CliRunner()
    too_early = runner.invoke(app, ["purge", "--dry-run", "--json", "--as-of", "2025-12-01"])
    assert json.loads(too_early.stdout)["cases"] == []
    dry = runner.invoke(app, ["purge", "--dry-run", "--json", "--as-of", "2026-11-23"])
    assert json.loads(dry.stdout) == {"dry_run": True, "cases": [number]}
    with session_scope() as session:
        assert session.get(Applicant, 1).name == "沈桂兰"  # type: ignore[union-attr]
    letters = fresh_db.parent / "letters" / number
    assert letters.is_dir()

    # The install's own Maildirs hold mail about the case, and mail about nothing of it.
    from casework.settings import get_settings

    home = get_settings()
    kept_mail = {
        home.mailbox_dir: [
            (f"[{number}] 一次性告知书", "shen.family@example.com"),
            ("其他", "x@y"),
        ],
        home.home / "unmatched": [("回复：材料", f"xxt-window+{number}.c9@street-office.example")],
    }
    for folder, messages in kept_mail.items():
        box = mailbox.Maildir(folder, create=True)
        for subject, to in messages:
            message = EmailMessage()
            message["Subject"], message["To"] = subject, to
            message.set_content("沈桂兰")
            box.add(message.as_bytes())

    done = runner.invoke(app, ["purge", "--json", "--as-of", "2026-11-23"])
    assert json.loads(done.stdout)["cases"] == [number]
    with session_scope() as session:
        applicant = session.get(Applicant, 1)
        assert applicant is not None
        assert (applicant.name, applicant.id_number, applicant.phone, applicant.email) == (
            "沈**",
            "",
            "",
            None,
        )
        case = lookups.get_case(session, number)
        assert case.fields["deceased_name"] == "[已按保存期限删除]"
        emails = list(session.exec(select(OutboxMessage)))
        assert all("沈桂兰" not in e.body_text for e in emails)
        assert "shen.family@example.com" not in [e.to_address for e in emails]
        report = monthly_report(session=session, month="2025-03")
    assert not letters.exists()
    left = {folder: [str(m["Subject"]) for m in read_mailbox(folder)] for folder in kept_mail}
    assert left == {home.mailbox_dir: ["其他"], home.home / "unmatched": []}
    from models.views import case_detail

    with session_scope() as session:
        detail = case_detail(session=session, case_number=number)
    assert detail.events[-1].kind == "personal-data-purged"
    assert all("13800001234" not in (c.note or "") for c in detail.contacts)
    assert (report.cases_closed, report.median_trips_per_closed_case) == (1, 1)  # figures stay
    again = runner.invoke(app, ["purge", "--json", "--as-of", "2027-11-23"])
    assert json.loads(again.stdout)["cases"] == []
