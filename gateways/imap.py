"""The office's mailbox over IMAP: agencies' replies fetched, filed on their cases, marked read."""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses

from pydantic import BaseModel

from casework.errors import UserError
from casework.settings import Settings
from gateways.maildir import file_reply

log = logging.getLogger("casework.mailbox")

# Where a provider puts the address a message was delivered to, besides To and Cc.
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")


class FilingFailed(Exception):
    """A reply could not be kept here (disk, permissions): not the mailbox's fault."""


class MailboxPoll(BaseModel):
    fetched: int = 0
    filed: list[str] = []
    unmatched: int = 0
    failed: int = 0  # could not be filed: flagged in the mailbox for staff to read


def _connect(settings: Settings) -> imaplib.IMAP4:
    assert settings.imap_host is not None
    timeout = settings.smtp_timeout_seconds  # the same patience as with the SMTP relay
    if not settings.imap_tls:
        return imaplib.IMAP4(settings.imap_host, settings.imap_port, timeout=timeout)
    context = ssl.create_default_context(
        cafile=str(settings.imap_ca_file) if settings.imap_ca_file else None
    )
    return imaplib.IMAP4_SSL(
        settings.imap_host, settings.imap_port, ssl_context=context, timeout=timeout
    )


def _recipients(message: EmailMessage) -> list[str]:
    """The addresses the message was sent to; a header too broken to parse is passed over (the
    message can still find its case by the subject's tag, or is kept unmatched)."""
    values: list[str] = []
    for header in RECIPIENT_HEADERS:
        try:
            values += [str(v) for v in message.get_all(header, [])]
        except Exception:  # the email package raises assorted errors on malformed headers
            continue
    return [address for _name, address in getaddresses(values) if address]


def poll_mailbox(settings: Settings) -> MailboxPoll:
    """Fetch unread mail, file each message on its case (or keep it unmatched), mark it read.

    A message is marked read only after it is filed; filing is keyed by Message-ID, so a poller
    that dies in between files nothing twice when it fetches the message again. A mailbox that
    cannot be read is one clear error; its mail stays there for the next poll.
    """
    if not settings.imap_host:
        raise UserError("mailbox_not_configured")
    try:
        client = _connect(settings)
    except OSError as exc:
        raise _unreachable(settings, exc) from None
    try:
        return _file_unread(client, settings)
    except FilingFailed as exc:
        raise UserError("mailbox_not_filed", reason=str(exc)) from None
    except (imaplib.IMAP4.error, OSError, UnicodeEncodeError) as exc:
        raise _unreachable(settings, exc) from None
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


def _file_unread(client: imaplib.IMAP4, settings: Settings) -> MailboxPoll:
    password = settings.imap_password.get_secret_value() if settings.imap_password else ""
    client.login(settings.imap_username or "", password)
    status, _ = client.select(settings.imap_folder)
    if status != "OK":
        raise imaplib.IMAP4.error(f"no folder {settings.imap_folder}")
    report = MailboxPoll()
    status, found = client.uid("SEARCH", "UNSEEN")
    if status != "OK" or not found or not found[0]:
        return report
    for uid in found[0].decode().split():
        try:
            number = _file_one(client, uid, settings)
        except (imaplib.IMAP4.error, OSError, FilingFailed):
            raise  # the connection, the folder or our disk: stop; all unread is tried next time
        except Exception as exc:
            # One bad message must not block the rest: flagged for staff and marked read so the
            # next poll moves on. Only the UID is logged (a subject may carry personal data).
            client.uid("STORE", uid, "+FLAGS", "(\\Seen \\Flagged)")
            log.warning("Mailbox message UID %s not filed (%s); flagged", uid, type(exc).__name__)
            report.failed += 1
            continue
        report.fetched += 1
        if number is None:
            report.unmatched += 1
        else:
            report.filed.append(number)
    return report


def _file_one(client: imaplib.IMAP4, uid: str, settings: Settings) -> str | None:
    """Fetch one message without marking it, file it, then mark it read; its case or None."""
    status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
    raw = next((p[1] for p in parts or [] if isinstance(p, tuple)), None)
    if status != "OK" or raw is None:
        raise LookupError("message gone before it was fetched")
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    try:
        number = file_reply(message, _recipients(message), settings.home / "unmatched")
    except OSError as exc:  # our disk, not the mailbox: stop with nothing marked read
        raise FilingFailed(str(exc)) from exc
    client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    return number


def _unreachable(settings: Settings, exc: BaseException) -> UserError:
    # The server's own words for a refused login (bytes), the system's for a network/TLS error.
    detail = exc.args[0] if isinstance(exc, imaplib.IMAP4.error) and exc.args else exc
    reason = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
    return UserError(
        "mailbox_unreachable", host=f"{settings.imap_host}:{settings.imap_port}", reason=reason
    )
