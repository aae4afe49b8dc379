"""Helpers for tests: intake data, database reset, a recording SMTP handler."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import ssl
import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cli.stories import synthetic_id_number


def document_text(path: str | Path) -> str:
    """What a filed letter says: a PDF read back with poppler's pdftotext, lines joined."""
    path = Path(path)
    assert path.suffix == ".pdf", f"letters are filed as PDF, got {path.name}"
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    return text.replace("\n", "")


def reset_database() -> None:
    """Forget cached settings, engines and migrations so the next use reads the environment."""
    from models.db import forget_cached_state

    forget_cached_state()


def shen_intake(cremation_date: date, *, email: str | None = "shen.family@example.com") -> Any:
    from models.intake import ApplicantIn, CaseIntake

    return CaseIntake(
        actor="staff",
        playbook="recover-cremation-certificate",
        applicant=ApplicantIn(
            name="沈桂兰",
            id_number=synthetic_id_number(date(1950, 3, 8)),
            phone="13800001234",
            email=email,
        ),
        fields={"deceased_name": "王建国", "cremation_date": cremation_date.isoformat()},
    )


class RecordingHandler:
    """aiosmtpd handler that keeps every accepted message, parsed, with its envelope recipients.

    `script` lists answers for the next DATA commands (e.g. three "451 …" then the default
    "250 OK"); only messages answered 250 are kept. `kill_on_accept` is a process id to SIGKILL
    once the next message is kept, before the 250 goes back: the sender dies between send and mark
    (after `kill_after` more messages have been answered 250, if set).
    """

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.script: list[str] = []
        self.data_commands = 0
        self.kill_on_accept: int | None = None
        self.kill_after = 0
        self.sessions: list[Any] = []
        self.over_tls: list[bool] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_commands += 1
        answer = self.script.pop(0) if self.script else "250 OK"
        if answer.startswith("250"):
            raw = envelope.original_content or envelope.content
            message = message_from_bytes(raw, policy=policy.default)
            message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
            self.messages.append(message)
            self.sessions.append(session)
            self.over_tls.append(server.transport.get_extra_info("ssl_object") is not None)
            if self.kill_on_accept is not None and self.kill_after:
                self.kill_after -= 1
            elif self.kill_on_accept is not None:
                os.kill(self.kill_on_accept, signal.SIGKILL)
                self.kill_on_accept = None
        return answer


def case_with_a_request(as_of: datetime, *, by_post: bool = False) -> tuple[str, int]:
    """Ms. Shen's case, notified, with its request to the crematorium sent (by post when the
    crematorium has no email): the case number and the request's contact id."""
    from sqlmodel import select

    from casework.planning import plan_next_step
    from casework.playbook import get_playbook
    from models import intake, lookups
    from models.db import session_scope
    from models.tables import Agency, Contact, ContactKind
    from tasks.send import notify_applicant, send_request

    with session_scope() as session:
        number = intake.open_case(
            session=session, intake=shen_intake(date(2017, 6, 1)), as_of=as_of
        ).number
        if by_post:
            crematorium = session.exec(
                select(Agency).where(Agency.slug == "crematorium-front-desk")
            ).one()
            crematorium.email = None
            session.add(crematorium)
    notify_applicant.fn(number, as_of)
    with session_scope() as session:
        view = lookups.case_view(session=session, case_number=number)
    send_request.fn(number, plan_next_step(view, get_playbook(view.playbook), as_of), as_of)
    with session_scope() as session:
        case_id = lookups.get_case(session, number).id
        request = session.exec(
            select(Contact).where(Contact.case_id == case_id, Contact.kind == ContactKind.REQUEST)
        ).one()
    assert request.id is not None
    return number, request.id


def queue_notice(as_of: datetime, deceased: str = "王建国") -> str:
    """Open a case and queue its notice without sending it (the relay is what we test)."""
    from models import intake, outgoing
    from models.db import session_scope
    from tasks.render import file_letter, render_for_case

    case_intake = shen_intake(date(2017, 6, 1))
    case_intake.fields["deceased_name"] = deceased
    with session_scope() as session:
        number = intake.open_case(session=session, intake=case_intake, as_of=as_of).number
    template = "common/notice.txt.j2"
    message = render_for_case(template, number, as_of)
    with session_scope() as session:
        contact = outgoing.record_notice(
            session=session, case_number=number, message=message, as_of=as_of
        )
    file_letter(number, contact, message, as_of, template)
    return number


@dataclass
class Certificates:
    ca_file: Path
    cert_file: Path
    key_file: Path
    server_context: ssl.SSLContext


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_certificates(folder: Path) -> Certificates:
    """A private CA and a certificate for 127.0.0.1 signed by it, as an office's own mail
    servers might have; the files are written to `folder`."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Casework test CA"))
        .issuer_name(_name("Casework test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "relay.pem", folder / "relay.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return Certificates(ca_file, cert_file, key_file, context)


WINDOW_PASSWORD = "window-2026-pass"
# (username, name, role, office): two street offices of one district.
WINDOW_STAFF = [
    ("xuchang", "徐畅", "clerk", "taoranting"),
    ("wangmin", "王敏", "manager", "taoranting"),
    ("zhangli", "张丽", "clerk", "tianqiao"),
]


def window_staff(as_of: datetime) -> None:
    """Two street offices of Xicheng and their workbench accounts (password WINDOW_PASSWORD).

    Idempotent: the session's stack has one case database for every module an xdist worker
    runs, so whichever browser module comes first makes the staff and the others find them."""
    from usecases import accounts

    if accounts.who(WINDOW_STAFF[0][0]) is not None:
        return
    accounts.add_office(
        code="taoranting",
        name="陶然亭街道",
        district="西城区",
        address="北京市西城区陶然亭路1号",
        phone="010-63500000",
        supervision_phone="010-63500099",
    )
    accounts.add_office(
        code="tianqiao",
        name="天桥街道",
        district="西城区",
        address="北京市西城区天桥南大街2号",
        phone="010-63010000",
    )
    for username, name, role, office in WINDOW_STAFF:
        accounts.add_user(
            username=username,
            display_name=name,
            role=role,
            office=office,
            password=WINDOW_PASSWORD,
            as_of=as_of,
        )
