"""The local SMTP server of the embedded stack: keeps every message it receives in a Maildir."""

from __future__ import annotations

import argparse
import hashlib
import mailbox
import signal
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class MaildirHandler:
    """aiosmtpd handler: keep every message; file replies to the office onto their case.

    Mail for the office's own address (a reply from an agency) is put on its case as an inbound
    contact to classify; one that matches no case is kept in the unmatched Maildir, never
    dropped. Everything else is what Casework sent, kept for the demo and the tests.
    """

    def __init__(self, directory: Path, unmatched: Path | None = None) -> None:
        self.maildir = mailbox.Maildir(directory, create=True)
        self.unmatched = unmatched

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        message["X-Received-Ns"] = str(time.time_ns())
        self.maildir.add(message.as_bytes())
        if self.unmatched is not None:
            self._file_reply(message, list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def _file_reply(self, message: Any, recipients: list[str]) -> None:
        from casework.settings import get_settings
        from models.inbound import is_for_office

        office = get_settings().mail_from
        if any(is_for_office(r, office) for r in recipients):
            file_reply(message, recipients, self.unmatched)


def file_reply(message: Any, recipients: list[str], unmatched: Path | None) -> str | None:
    """File a reply to the office on its case (once per message); keep it unmatched otherwise.

    Returns the case number, or None when the message matches no case.
    """
    from sqlalchemy.exc import IntegrityError

    from casework.clock import now
    from models.db import session_scope
    from models.inbound import file_inbound_email

    def file() -> str | None:
        with session_scope() as db:
            return file_inbound_email(
                session=db,
                recipients=recipients,
                subject=str(message["Subject"] or ""),
                as_of=now(),
                message_key=message_key(message),
            )

    try:
        number = file()
    except IntegrityError:  # another poller filed the same message a moment ago
        number = file()
    if number is None and unmatched is not None:
        keep_unmatched(unmatched, message)
    return number


def message_key(message: Any) -> str:
    """A stable key for a received message: its Message-ID with its sender and date (a sender
    picks its own Message-IDs, so the ID alone could hide another's message), else its bytes."""
    message_id = str(message["Message-ID"] or "").strip()
    if message_id:
        source = "\n".join([message_id, str(message["From"] or ""), str(message["Date"] or "")])
        return hashlib.sha256(source.encode()).hexdigest()[:32]
    return hashlib.sha256(message.as_bytes()).hexdigest()[:32]


def keep_unmatched(directory: Path, message: Any) -> None:
    """Keep a reply that matches no case in a Maildir, once (fetched twice, kept once)."""
    box = mailbox.Maildir(directory, create=True)
    name = message_key(message)
    if name in box:
        return
    # Named after the message, so a second copy is recognised (Maildir.add picks a new name);
    # written in tmp/ and moved to new/, as Maildir delivery does.
    partial = directory / "tmp" / name
    partial.write_bytes(message.as_bytes())
    partial.replace(directory / "new" / name)


def read_mailbox(directory: Path) -> list[Any]:
    """Every message in the Maildir, oldest first, parsed with the modern email policy."""
    box = mailbox.Maildir(directory, create=True)
    messages = [message_from_bytes(msg.as_bytes(), policy=policy.default) for msg in box]
    messages.sort(key=lambda m: int(m.get("X-Received-Ns", "0")))
    return messages


def main() -> None:
    parser = argparse.ArgumentParser(description="Casework local SMTP server (Maildir)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--maildir", type=Path, required=True)
    parser.add_argument("--unmatched", type=Path, help="Maildir for replies that match no case")
    args = parser.parse_args()
    handler = MaildirHandler(args.maildir, args.unmatched)
    controller = Controller(handler, hostname=args.host, port=args.port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
