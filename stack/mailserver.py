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

from casework.settings import get_settings
from gateways.maildir import file_reply
from models.inbound import is_for_office


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
        recipients = list(envelope.rcpt_tos)
        # Trace fields go on top, as a mail server adds its Received: lines, and the message is
        # kept byte for byte: parsing and re-serialising every one cost the server half its rate.
        trace = f"X-Envelope-To: {', '.join(recipients)}\r\nX-Received-Ns: {time.time_ns()}\r\n"
        kept = trace.encode() + raw
        self.maildir.add(kept)
        office = get_settings().mail_from
        if self.unmatched is not None and any(is_for_office(r, office) for r in recipients):
            file_reply(message_from_bytes(kept, policy=policy.default), recipients, self.unmatched)
        return "250 Message accepted for delivery"


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
