"""Replies that land at the office's mail provider: fetched over IMAP from a real Dovecot."""

from __future__ import annotations

import imaplib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casework.clock import start_of_office_day
from casework.settings import get_settings
from cli.main import app
from gateways.maildir import read_mailbox
from models.db import session_scope
from models.inbound import reply_address
from models.views import case_detail
from tests.conftest import _free_port
from tests.factories import Certificates, case_with_a_request

pytestmark = pytest.mark.flow
DAY = start_of_office_day(date(2026, 11, 16))
OFFICE = "xxt-window@street-office.example"
USER, PASSWORD = "xxt-window", "mailbox-secret-42"

DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Mailbox:
    """The office's mailbox on a real IMAP server, as a mail provider would keep it."""

    port: int
    tls: ssl.SSLContext | None = None

    def _client(self) -> imaplib.IMAP4:
        client = (
            imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=self.tls)
            if self.tls
            else imaplib.IMAP4("127.0.0.1", self.port)
        )
        client.login(USER, PASSWORD)
        client.select("INBOX")
        return client

    def deliver(self, to: str, subject: str, message_id: str) -> None:
        message = EmailMessage()
        message["From"] = "front-desk@crematorium.example"
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = message_id
        message.set_content("已查到火化记录。")
        client = self._client()
        client.append("INBOX", "", imaplib.Time2Internaldate(time.time()), message.as_bytes())
        client.logout()

    def deliver_raw(self, raw: bytes) -> None:
        client = self._client()
        client.append("INBOX", "", imaplib.Time2Internaldate(time.time()), raw)
        client.logout()

    def flagged(self) -> int:
        client = self._client()
        _status, found = client.uid("SEARCH", "FLAGGED")
        client.logout()
        return len(found[0].split())

    def unread(self) -> int:
        client = self._client()
        _status, found = client.uid("SEARCH", "UNSEEN")
        client.logout()
        return len(found[0].split())

    def mark_all_unread(self) -> None:
        client = self._client()
        client.store("1:*", "-FLAGS", "(\\Seen)")
        client.logout()


@pytest.fixture
def office_mailbox(
    request: pytest.FixtureRequest,
    fresh_db: Path,
    smtp_server: list,
    certificates: Certificates,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Mailbox]:
    """Dovecot on a free port with one mailbox; Casework configured to poll it. Plain IMAP by
    default; `imaps` (indirect parameter) serves TLS with a certificate of a private CA."""
    imaps = getattr(request, "param", "imap") == "imaps"
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not Path(dovecot).exists():
        pytest.fail("dovecot is missing: `make test-packages` installs dovecot-imapd (as root)")
    # Dovecot keeps mail as the unprivileged user `nobody`, which must reach the folder.
    root = Path(tempfile.mkdtemp(prefix="casework-imap-"))
    root.chmod(0o755)
    (root / "home").mkdir(mode=0o777)
    (root / "home").chmod(0o777)
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    port = _free_port()
    tls = (
        f"ssl = required\nssl_cert = <{certificates.cert_file}\nssl_key = <{certificates.key_file}"
        if imaps
        else "ssl = no"
    )
    (root / "dovecot.conf").write_text(
        DOVECOT_CONF.format(
            root=root, ssl=tls, imap_port=0 if imaps else port, imaps_port=port if imaps else 0
        )
    )
    server = subprocess.Popen([dovecot, "-F", "-c", str(root / "dovecot.conf")])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, (root / "dovecot.log").read_text()
                assert time.monotonic() < deadline, "dovecot did not start"
                time.sleep(0.1)
        for name, value in {
            "CASEWORK_IMAP_HOST": "127.0.0.1",
            "CASEWORK_IMAP_PORT": str(port),
            "CASEWORK_IMAP_USERNAME": USER,
            "CASEWORK_IMAP_PASSWORD": PASSWORD,
            "CASEWORK_IMAP_TLS": str(imaps),
            "CASEWORK_IMAP_CA_FILE": str(certificates.ca_file),
        }.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        client_tls = ssl.create_default_context(cafile=str(certificates.ca_file))
        yield Mailbox(port, client_tls if imaps else None)
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(root, ignore_errors=True)
        get_settings.cache_clear()


def _poll(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["poll-mailbox", *args])
    if result.exit_code == 1 and result.exception:
        raise result.exception
    return result.exit_code, [line for line in result.output.splitlines() if line.strip()]


def _inbound(number: str) -> list[tuple[str | None, str | None]]:
    with session_scope() as session:
        detail = case_detail(session=session, case_number=number)
    return [(c.agency, c.note) for c in detail.contacts if c.kind == "inbound-email"]


def test_replies_in_the_office_mailbox_are_filed_once(office_mailbox: Mailbox) -> None:
    number, request = case_with_a_request(DAY)
    office_mailbox.deliver(
        reply_address(OFFICE, number, request), f"回复：[{number}] 协查函", "<r1@crematorium>"
    )
    office_mailbox.deliver(OFFICE, "咨询丧葬费政策", "<q1@someone>")

    code, out = _poll()
    assert code == 0
    assert out == [f"收取邮箱：新邮件 2 封，归入案件 1 封（{number}），找不到案件 1 封"]
    assert _inbound(number) == [("crematorium-front-desk", f"回复：[{number}] 协查函")]
    unmatched = read_mailbox(get_settings().home / "unmatched")
    assert [str(m["Subject"]) for m in unmatched] == ["咨询丧葬费政策"]
    assert office_mailbox.unread() == 0  # marked read once filed

    # As if a poller had died after filing and before marking: fetched again, filed once.
    office_mailbox.mark_all_unread()
    code, out = _poll()
    assert code == 0 and "新邮件 2 封" in out[0]
    assert len(_inbound(number)) == 1
    assert len(read_mailbox(get_settings().home / "unmatched")) == 1


def test_malformed_or_id_less_mail_is_filed_once_and_never_dropped(
    office_mailbox: Mailbox,
) -> None:
    number, _request = case_with_a_request(DAY)
    office_mailbox.deliver_raw(b"From: x@y.example\r\nTo: a@[\r\nSubject: broken\r\n\r\n?\r\n")
    office_mailbox.deliver_raw(  # no Message-ID at all, an encoded subject with the case tag
        f"From: front-desk@crematorium.example\r\nTo: {OFFICE}\r\n"
        f"Subject: =?utf-8?b?5Zue5aSN?= [{number}]\r\n\r\nok\r\n".encode()
    )
    code, out = _poll()
    assert (code, out) == (
        0,
        [f"收取邮箱：新邮件 2 封，归入案件 1 封（{number}），找不到案件 1 封"],
    )
    office_mailbox.mark_all_unread()
    assert _poll()[0] == 0
    assert _inbound(number) == [(None, f"回复 [{number}]")]
    unmatched = read_mailbox(get_settings().home / "unmatched")
    assert [str(m["Subject"]) for m in unmatched] == ["broken"]


def test_a_mailbox_that_refuses_the_login_keeps_its_mail(
    office_mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    office_mailbox.deliver(OFFICE, "[HC-2026-0001] 回复", "<r2@crematorium>")
    monkeypatch.setenv("CASEWORK_IMAP_PASSWORD", "wrong-" + PASSWORD)
    get_settings.cache_clear()
    code, out = _poll()
    assert code == 2 and len(out) == 1
    assert out[0].startswith(f"无法收取邮箱 127.0.0.1:{office_mailbox.port}：")
    assert "AUTHENTICATIONFAILED" in out[0] and PASSWORD not in out[0]
    assert office_mailbox.unread() == 1


@pytest.mark.parametrize("office_mailbox", ["imaps"], indirect=True)
def test_a_mailbox_over_tls_trusts_the_configured_ca_only(
    office_mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    office_mailbox.deliver(OFFICE, "没有案件编号的来信", "<q3@someone>")
    assert _poll() == (0, ["收取邮箱：新邮件 1 封，归入案件 0 封，找不到案件 1 封"])
    office_mailbox.deliver(OFFICE, "又一封来信", "<q4@someone>")
    monkeypatch.delenv("CASEWORK_IMAP_CA_FILE")  # only the system's CAs: ours is unknown there
    get_settings.cache_clear()
    code, out = _poll()
    assert code == 2 and "CERTIFICATE_VERIFY_FAILED" in out[0]
    assert office_mailbox.unread() == 1


def test_the_sweep_fetches_the_mailbox(office_mailbox: Mailbox) -> None:
    from tasks.chase import sweep

    office_mailbox.deliver(OFFICE, "没有案件编号的来信", "<q2@someone>")
    assert sweep(DAY).replies_fetched == 1
    assert office_mailbox.unread() == 0


def test_without_a_mailbox_configured_polling_says_so(fresh_db: Path) -> None:
    assert os.environ.get("CASEWORK_IMAP_HOST") is None
    code, out = _poll()
    assert code == 2 and out[0].startswith("没有配置单位邮箱")
