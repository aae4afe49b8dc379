"""The local SMTP server of the embedded stack: keeps every message it receives in a Maildir."""

from __future__ import annotations

import argparse
import mailbox
import signal
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class MaildirHandler:
    """aiosmtpd handler: store the raw message, envelope recipients included, then answer 250."""

    def __init__(self, directory: Path) -> None:
        self.maildir = mailbox.Maildir(directory, create=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        message["X-Received-Ns"] = str(time.time_ns())
        self.maildir.add(message.as_bytes())
        return "250 Message accepted for delivery"


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
    args = parser.parse_args()
    controller = Controller(MaildirHandler(args.maildir), hostname=args.host, port=args.port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
