"""The mail seam: turns outbox rows into MIME messages and hands them to an SMTP server."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

import aiosmtplib

from casework.clock import now
from casework.settings import Settings
from casework.templating import one_line
from models.inbound import reply_address
from models.outbox import OutgoingEmail


@dataclass(frozen=True)
class Delivery:
    outbox_id: int
    delivered: bool
    error: str | None = None
    permanent: bool = False


# Called with each result as soon as it is known, so the relay can mark an email sent before
# the next is sent: a relay killed mid-batch then leaves at most one sent email unmarked.
OnResult = Callable[[Delivery], None]


class Mailer(Protocol):
    async def deliver(
        self, emails: list[OutgoingEmail], on_result: OnResult | None = None
    ) -> list[Delivery]: ...


class _HeaderClasses(HeaderRegistry):
    """The standard library's header registry, each header class made once: its own makes a new
    class on every header set (a fifth of the relay's time per message)."""

    @functools.cache  # noqa: B019 (one registry, for the life of the process)
    def __getitem__(self, name: str) -> type[BaseHeader]:
        return super().__getitem__(name)


_POLICY = policy.default.clone(header_factory=_HeaderClasses())


def build_message(email: OutgoingEmail, *, sender: str) -> EmailMessage:
    """A UTF-8 MIME message with the outbox row's fixed Message-ID."""
    message = EmailMessage(policy=_POLICY)
    message["From"] = sender
    message["To"] = one_line(email.to_address)
    message["Subject"] = one_line(email.subject)
    message["Message-ID"] = email.message_id
    if email.case_number and email.contact_id:
        # Answers to this address find their case and the contact they answer.
        message["Reply-To"] = reply_address(sender, email.case_number, email.contact_id)
    message["Date"] = format_datetime(now())
    if email.resend:
        # The relay died after sending and before marking: this may be a duplicate.
        message["X-Casework-Resend"] = "yes"
    message.set_content(email.body_text, charset="utf-8")
    if email.body_html:
        message.add_alternative(email.body_html, subtype="html", charset="utf-8")
    return message


class SmtpMailer:
    """Sends a batch over one SMTP connection; 5xx and refused recipients are permanent."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_tls,
            start_tls=s.smtp_starttls,
            cert_bundle=str(s.smtp_ca_file) if s.smtp_ca_file else None,
            timeout=s.smtp_timeout_seconds,
        )

    async def deliver(
        self, emails: list[OutgoingEmail], on_result: OnResult | None = None
    ) -> list[Delivery]:
        if not emails:
            return []
        results: list[Delivery] = []
        report = on_result or (lambda _result: None)
        client = self._client()
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            results = [Delivery(e.id, False, f"connect: {exc}") for e in emails]
            for result in results:
                report(result)
            return results
        try:
            for email in emails:
                results.append(await self._send_one(client, email))
                report(results[-1])
        finally:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
        return results

    async def _send_one(self, client: aiosmtplib.SMTP, email: OutgoingEmail) -> Delivery:
        message = build_message(email, sender=self.settings.mail_from)
        try:
            refused, _response = await client.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return Delivery(email.id, False, f"refused: {exc}", permanent=True)
        except aiosmtplib.SMTPResponseException as exc:
            return Delivery(email.id, False, f"{exc.code} {exc.message}", permanent=exc.code >= 500)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Delivery(email.id, False, str(exc))
        if refused:
            return Delivery(email.id, False, f"refused: {refused}", permanent=True)
        return Delivery(email.id, True)


def deliver_now(
    mailer: Mailer, emails: list[OutgoingEmail], on_result: OnResult | None = None
) -> list[Delivery]:
    """Run the async mailer from synchronous task code."""
    return asyncio.run(mailer.deliver(emails, on_result))
