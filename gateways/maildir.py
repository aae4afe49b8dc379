"""Mail kept on this machine: Maildirs read back, and replies to the office filed on their case."""

from __future__ import annotations

import hashlib
import mailbox
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from casework.clock import now
from casework.senders import sender_address
from models.db import session_scope
from models.inbound import file_inbound_email


def file_reply(message: Any, recipients: list[str], unmatched: Path | None) -> str | None:
    """File a reply to the office on its case (once per message); keep it unmatched otherwise.

    Returns the case number, or None when the message matches no case.
    """

    def file() -> str | None:
        with session_scope() as db:
            return file_inbound_email(
                session=db,
                recipients=recipients,
                subject=str(message["Subject"] or ""),
                as_of=now(),
                message_key=message_key(message),
                attachments=attachments_of(message),
                sender=sender_address(str(message["From"] or "")),
                authentication_results=[
                    str(h) for h in message.get_all("Authentication-Results") or []
                ],
            )

    try:
        number = file()
    except IntegrityError:  # another poller filed the same message a moment ago
        number = file()
    if number is None and unmatched is not None:
        keep_unmatched(unmatched, message)
    return number


def attachments_of(message: Any) -> list[tuple[str, bytes]]:
    """Each attached file of a message (its name and bytes); none for a message in the old
    email API, which the pollers never hand over."""
    if not hasattr(message, "iter_attachments"):
        return []
    found = []
    for part in message.iter_attachments():
        content = part.get_payload(decode=True)
        if isinstance(content, bytes):
            found.append((str(part.get_filename() or ""), content))
    return found


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


def forget_case(directory: Path, case_number: str) -> int:
    """Deletes from a Maildir of this install every message about the case (its number in the
    subject, or in a reply address it was sent to); how many. Retention reaches mail too."""
    if not directory.is_dir():
        return 0
    box = mailbox.Maildir(directory, create=False)
    about = [
        key
        for key, found in box.iteritems()
        if case_number
        in " ".join(str(found.get(h, "")) for h in ("Subject", "To", "X-Envelope-To", "Cc"))
    ]
    for key in about:
        box.discard(key)
    return len(about)


def read_mailbox(directory: Path) -> list[Any]:
    """Every message in the Maildir, oldest first, parsed with the modern email policy."""
    box = mailbox.Maildir(directory, create=True)
    messages = [message_from_bytes(msg.as_bytes(), policy=policy.default) for msg in box]
    messages.sort(key=lambda m: int(m.get("X-Received-Ns", "0")))
    return messages
