"""The relay against a real SMTP server that wants TLS and a password, as an office relay does."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from casework.clock import start_of_office_day
from casework.settings import get_settings
from models.db import session_scope
from models.tables import OutboxMessage
from tasks.send import relay_pending
from tests.conftest import _free_port, serving
from tests.factories import Certificates, RecordingHandler, queue_notice

pytestmark = pytest.mark.flow
DAY = start_of_office_day(date(2026, 11, 16))
USER, PASSWORD = "xxt-window", "correct horse 电池 staple"


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
    # The relay logs the handshake our client breaks off as a session exception, traceback and
    # all, sometimes after the test: quiet until the relay has stopped (monkeypatch undoes last).
    monkeypatch.setattr(logging.getLogger("mail.log"), "disabled", True)
    queue_notice(DAY)
    (result,) = relay_pending(as_of=DAY)
    assert not result.delivered and not result.permanent
    assert "certificate" in (result.error or "").lower()
    assert secure_relay.messages == [] and _row().status == "pending"
