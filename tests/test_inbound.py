"""Replies by email find their case (reply address or case tag); the rest is kept unmatched."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from casework.clock import start_of_office_day
from cli.main import app
from gateways.maildir import read_mailbox
from models.db import session_scope
from models.views import case_detail
from stack.mailserver import MaildirHandler
from stack.ports import free_port
from tests.factories import case_with_a_request

pytestmark = pytest.mark.flow
DAY = start_of_office_day(date(2026, 11, 16))
OFFICE = "xxt-window@street-office.example"


@pytest.fixture
def listener(fresh_db: Path, smtp_server: list) -> Iterator[tuple[int, Path]]:
    """The stack's SMTP server (Maildir + reply filing) on a free port."""
    port = free_port()
    unmatched = fresh_db.parent / "unmatched"
    controller = Controller(
        MaildirHandler(fresh_db.parent / "mailbox", unmatched), hostname="127.0.0.1", port=port
    )
    controller.start()
    try:
        yield port, unmatched
    finally:
        controller.stop()


def _send(port: int, to: str, subject: str, sender: str = "archive@crematorium.example") -> None:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content("已找到记录。")
    asyncio.run(aiosmtplib.send(message, hostname="127.0.0.1", port=port))


def test_replies_land_on_their_case_and_strays_are_kept(
    listener: tuple[int, Path], smtp_server: list
) -> None:
    port, unmatched = listener
    number, _request = case_with_a_request(DAY)
    request = smtp_server[-1]
    reply_to = str(request["Reply-To"])
    assert reply_to.startswith(f"xxt-window+{number}.c") and reply_to.endswith(
        "@street-office.example"
    )

    # From the address the request went to: the agency's own.
    agency = str(request["To"])
    _send(port, reply_to, f"Re: [{number}] 关于协助查询火化记录并补办火化证明的函", agency)
    _send(port, OFFICE, f"回复：[{number}] 补充说明")  # no token, but the case tag
    _send(port, OFFICE, "请问你们的地址？")  # nothing to go on
    _send(port, OFFICE, "Re: [HC-2026-9999] 不存在的案件")

    with session_scope() as session:
        detail = case_detail(session=session, case_number=number)
    inbound = [c for c in detail.contacts if c.kind == "inbound-email"]
    assert [(c.agency, c.note) for c in inbound] == [
        ("crematorium-front-desk", f"Re: [{number}] 关于协助查询火化记录并补办火化证明的函"),
        (None, f"回复：[{number}] 补充说明"),
    ]
    assert detail.events[-1].kind == "email-received"
    stray = [str(m["Subject"]) for m in read_mailbox(unmatched)]
    assert stray == ["请问你们的地址？", "Re: [HC-2026-9999] 不存在的案件"]
    listed = CliRunner().invoke(app, ["inbox", "--unmatched", "--json"])
    assert listed.exit_code == 0 and "不存在的案件" in listed.stdout
