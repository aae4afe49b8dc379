"""The office's routines: the sweep by hand, the outbox relay, the mailbox, the board, the
monthly report, retention and key rotation."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel
from sqlmodel import select

from casework.clock import now, office_date
from casework.errors import UserError
from casework.figures import DailyBoard, MonthlyReport
from casework.settings import get_settings
from gateways import maildir, stack_health
from gateways.imap import MailboxPoll, poll_mailbox
from models import applicants, documents, reports, retention
from models import board as boards
from models.accounts import Actor, require_manager, visible_cases
from models.db import read_scope, session_scope
from models.tables import Case
from usecases import runs

if TYPE_CHECKING:
    from tasks.chase import SweepReport

# The routines that run tasks import them when called: `casework board` and the other read
# commands load this module too, and the tasks bring Prefect with them.


class RelayCounts(BaseModel):
    sent: int
    retry: int
    failed: int


class PurgeResult(BaseModel):
    dry_run: bool
    retention_days: int
    cases: list[str]


def chase(*, as_of: datetime, wait: bool = False) -> SweepReport:
    """Wake every case with a chase due at `as_of`, start missing runs, relay the outbox;
    with `wait`, return once each woken run has settled again."""
    if not stack_health.api_healthy(get_settings()):
        raise UserError("stack_down")
    from tasks.chase import sweep

    started_at = now()
    report = sweep(as_of)
    if wait:
        for case_number in [*report.woken, *report.started]:
            runs.wait_until_settled(case_number, after=started_at)
    return report


def reconcile(*, as_of: datetime) -> SweepReport:
    """Re-drive open cases whose flow run died (the every-minute deployment does it too)."""
    if not stack_health.api_healthy(get_settings()):
        raise UserError("stack_down")
    from tasks.chase import reconcile as reconcile_runs

    return reconcile_runs(as_of)


def relay(*, as_of: datetime) -> RelayCounts:
    """Send what the outbox has due now (after a mail outage, say)."""
    from tasks.send import relay_pending

    results = relay_pending(as_of=as_of)
    return RelayCounts(
        sent=sum(r.delivered for r in results),
        retry=sum(not r.delivered and not r.permanent for r in results),
        failed=sum(r.permanent for r in results),
    )


def fetch_mailbox() -> MailboxPoll:
    """Fetch unread replies from the office's IMAP mailbox and file them on their cases."""
    return poll_mailbox(get_settings())


def daily_board(*, actor: Actor, as_of: datetime) -> DailyBoard:
    """The daily board over the cases this manager (or district, or the console) sees."""
    require_manager(actor)
    with read_scope() as session:
        if actor.console:
            return boards.daily_board(session=session, today=office_date(as_of), shareable=False)
        where = visible_cases(session, actor)
        board = boards.daily_board(
            session=session, today=office_date(as_of), where=where, shareable=False
        )
        visible = set(session.exec(select(Case.number).where(where)))
    return board.model_copy(
        update={
            "letters_to_post": [p for p in board.letters_to_post if p.case_number in visible],
            "rectifications": [r for r in board.rectifications if r.case_number in visible],
            "late_answers": [a for a in board.late_answers if a.case_number in visible],
        }
    )


def monthly_report(*, month: str) -> tuple[MonthlyReport, list[Path]]:
    """The month's figures, and the CSV, XLSX and chart files written for it."""
    try:
        reports.month_bounds(month)
    except ValueError:
        raise UserError("bad_month", value=month) from None
    from tasks.report import write_monthly_report

    return write_monthly_report(month)


def purge(*, as_of: datetime, dry_run: bool) -> PurgeResult:
    """Anonymise cases closed longer ago than the retention period, one transaction each."""
    settings = get_settings()
    with session_scope() as session:
        due = retention.due_for_purge(
            session=session, as_of=as_of, retention_days=settings.retention_days
        )
    if not dry_run:
        for case_number in due:
            with session_scope() as session:
                retention.purge_case(
                    session=session,
                    case_number=case_number,
                    letters_dir=settings.letters_dir,
                    as_of=as_of,
                )
            # The install's own mail: what the local server received, replies kept unmatched.
            for folder in (settings.mailbox_dir, settings.home / "unmatched"):
                maildir.forget_case(folder, case_number)
    return PurgeResult(dry_run=dry_run, retention_days=settings.retention_days, cases=due)


def rotate_keys() -> int:
    """Re-encrypt every resident ID and phone (and every kept document) under the newest data
    key; how many applicants."""
    with session_scope() as session:
        documents.rotate_encryption(session)
        return applicants.rotate_encryption(session=session)


def public_url_warning(*, actor: Actor) -> str | None:
    """The address printed on this office's letters and QR codes, when only this machine can
    open it (127.0.0.1, localhost): a manager should set the office's public address."""
    from casework.validation import is_loopback_url
    from models.offices import office_of, public_url_of

    with read_scope() as session:
        url = public_url_of(office_of(session, actor.office_code))
    return url if is_loopback_url(url) else None


def loopback_public_urls() -> list[tuple[str, str]]:
    """(office name, address) of every office whose letters print an address only this
    machine can open; the install's own when no office is added yet."""
    from casework.validation import is_loopback_url
    from models.offices import list_offices, public_url_of

    with read_scope() as session:
        rows = list_offices(session=session)
    if not rows:
        url = public_url_of(None)
        return [(get_settings().office_name, url)] if is_loopback_url(url) else []
    return [
        (row.name, row.public_url or public_url_of(None))
        for row in rows
        if is_loopback_url(row.public_url or public_url_of(None))
    ]
