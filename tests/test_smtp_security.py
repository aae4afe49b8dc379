"""The relay against a real SMTP server that wants TLS and a password, as an office relay does."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from casework.clock import start_of_office_day
from casework.settings import get_settings
from models.db import session_scope
from models.tables import OutboxMessage
from tasks.send import relay_pending
from tests.conftest import _free_port, serving
from tests.factories import RecordingHandler, queue_notice

pytestmark = pytest.mark.flow
DAY = start_of_office_day(date(2026, 11, 16))
USER, PASSWORD = "xxt-window", "correct horse 电池 staple"


@dataclass
class Certificates:
    ca_file: Path
    server_context: ssl.SSLContext


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A private CA and a certificate for 127.0.0.1 signed by it (as an office relay might have)."""
    folder = tmp_path_factory.mktemp("tls")
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
    return Certificates(ca_file, context)


def _authenticator(
    server: object, session: object, envelope: object, mechanism: str, auth_data: object
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@pytest.fixture(params=["starttls", "tls"])
def secure_relay(
    request: pytest.FixtureRequest,
    certificates: Certificates,
    fresh_db: object,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[RecordingHandler]:
    """A real aiosmtpd relay on 127.0.0.1: STARTTLS required on one, TLS from the start on the
    other; AUTH only over TLS. Casework is configured for it with the private CA."""
    handler = RecordingHandler()
    port = _free_port()
    if request.param == "starttls":
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            tls_context=certificates.server_context,
            require_starttls=True,
            auth_require_tls=True,
            authenticator=_authenticator,
        )
    else:
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            ssl_context=certificates.server_context,
            server_hostname="127.0.0.1",
            # aiosmtpd recognises TLS only after STARTTLS; this socket is TLS from the start.
            auth_require_tls=False,
            authenticator=_authenticator,
        )
    environment = {
        "CASEWORK_SMTP_PORT": str(port),
        "CASEWORK_SMTP_USERNAME": USER,
        "CASEWORK_SMTP_PASSWORD": PASSWORD,
        "CASEWORK_SMTP_CA_FILE": str(certificates.ca_file),
        "CASEWORK_SMTP_STARTTLS": str(request.param == "starttls"),
        "CASEWORK_SMTP_TLS": str(request.param == "tls"),
    }
    with serving(controller, monkeypatch, environment):
        yield handler


def _row() -> OutboxMessage:
    from sqlmodel import select

    with session_scope() as session:
        return session.exec(select(OutboxMessage)).one()


def test_mail_goes_out_encrypted_and_authenticated(secure_relay: RecordingHandler) -> None:
    queue_notice(DAY)
    (result,) = relay_pending(as_of=DAY)
    assert result.delivered, result.error
    (session,) = secure_relay.sessions
    assert secure_relay.over_tls == [True]  # the message travelled encrypted
    assert session.authenticated and session.auth_data.login == USER.encode()
    assert _row().status == "sent"


def test_a_wrong_password_keeps_the_mail_and_never_shows_the_password(
    secure_relay: RecordingHandler,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("CASEWORK_SMTP_PASSWORD", "wrong " + PASSWORD)
    get_settings.cache_clear()
    queue_notice(DAY)
    with caplog.at_level(logging.DEBUG):
        (result,) = relay_pending(as_of=DAY)
    row = _row()
    # A relay refusing our login is our configuration, not the recipient: retried, not failed.
    assert not result.delivered and not result.permanent
    assert row.status == "pending" and row.last_error and "535" in row.last_error
    assert secure_relay.messages == []
    assert PASSWORD not in (row.last_error or "") and PASSWORD not in caplog.text
    assert PASSWORD not in repr(get_settings())


def test_an_untrusted_certificate_is_refused(
    secure_relay: RecordingHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CASEWORK_SMTP_CA_FILE")  # only the system's CAs: ours is unknown there
    get_settings.cache_clear()
    queue_notice(DAY)
    (result,) = relay_pending(as_of=DAY)
    assert not result.delivered and not result.permanent
    assert "certificate" in (result.error or "").lower()
    assert secure_relay.messages == [] and _row().status == "pending"
