"""An attack on the office's mailbox (issue 37): a message from x@evil.cn to a case's reply
address was filed as the agency's answer, and `casework inbox` printed neither its sender nor
its subject's terminal escapes safely. Sent here through the stack's real SMTP server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from casework.senders import dkim_passes_for, sender_is_agencys
from cli.main import app
from models.db import session_scope
from models.views import case_detail
from stack.mailserver import MaildirHandler
from stack.ports import free_port
from tests.factories import case_with_a_request
from tests.workbench import DAY

pytestmark = pytest.mark.flow


@pytest.fixture
def listener(fresh_db: Path, smtp_server: list) -> Iterator[int]:
    port = free_port()
    handler = MaildirHandler(fresh_db.parent / "mailbox", fresh_db.parent / "unmatched")
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _send(port: int, sender: str, to: str, subject: str, attach: bool = False) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message.set_content("已找到记录，见附件。")
    if attach:
        message.add_attachment(b"%PDF-1.4 forged", maintype="application", subtype="pdf")
    asyncio.run(aiosmtplib.send(message, hostname="127.0.0.1", port=port))


def test_mail_from_a_stranger_to_a_reply_address_is_not_the_agencys_answer(
    listener: int, smtp_server: list
) -> None:
    number, _ = case_with_a_request(DAY)
    request = smtp_server[-1]
    reply_to, agency = str(request["Reply-To"]), str(request["To"])
    _send(listener, "x@evil.cn", reply_to, f"Re: [{number}] 已找到\x1b[2J\x1b]0;owned\x07", True)
    _send(listener, agency, reply_to, f"Re: [{number}] 已找到火化记录")
    with session_scope() as session:
        detail = case_detail(session=session, case_number=number)
    inbound = [c for c in detail.contacts if c.kind == "inbound-email"]
    assert [(c.sender, c.sender_verified, c.agency) for c in inbound] == [
        ("x@evil.cn", False, None),
        (agency.lower(), True, "crematorium-front-desk"),
    ]
    assert not any(d for m in detail.materials for d in m.documents)  # the forged scan: not kept
    said = [e.detail for e in detail.events if "未确认为其答复" in e.detail]
    assert len(said) == 1 and "x@evil.cn" in said[0]
    listed = CliRunner().invoke(app, ["inbox"])
    assert listed.exit_code == 0
    assert "x@evil.cn" in listed.output and "发件人未经确认" in listed.output
    assert "\x1b" not in listed.output and "\x07" not in listed.output
    assert "已找到[2J]0;owned" in listed.output


@pytest.mark.unit
def test_only_the_offices_own_server_vouches_for_a_domain() -> None:
    agency = ["Archive@Crematorium.example"]
    ours = "mx.street-office.example"
    stamped = [f"{ours}; dkim=pass header.d=crematorium.example header.s=s1; spf=pass"]
    forged = ["evil.example; dkim=pass header.d=crematorium.example"]
    cases = [
        ("archive@crematorium.example", [], "", True),  # the listed address itself
        ("clerk2@crematorium.example", [], ours, False),  # same domain, no stamp
        ("clerk2@crematorium.example", stamped, ours, True),  # same domain, our stamp
        ("clerk2@crematorium.example", forged, ours, False),  # a stamp by someone else
        ("clerk2@crematorium.example", stamped, "", False),  # no server configured
        ("x@evil.cn", stamped, ours, False),  # our stamp, another domain
        ("", stamped, ours, False),
    ]
    for sender, results, authserv, expected in cases:
        got = sender_is_agencys(
            sender=sender,
            agency_addresses=agency,
            authentication_results=results,
            authserv_id=authserv,
        )
        assert got is expected, (sender, results, authserv)
    failed = [f"{ours}; dkim=fail header.d=crematorium.example"]
    assert not dkim_passes_for(failed, ours, "crematorium.example")
    longer = [f"{ours}; dkim=pass header.d=crematorium.example.evil.cn"]
    assert not dkim_passes_for(longer, ours, "crematorium.example")
