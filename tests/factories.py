"""Helpers for tests: intake data, database reset, a recording SMTP handler."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from casework.stories import synthetic_id_number


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
    from casework.crypto import _ciphers
    from casework.playbook import _load_all
    from casework.rendering import _environment
    from casework.settings import get_settings
    from models import db

    get_settings.cache_clear()
    db.engine_for.cache_clear()
    db._migrated.clear()
    _load_all.cache_clear()
    _environment.cache_clear()
    _ciphers.cache_clear()


def shen_intake(cremation_date: date, *, email: str | None = "shen.family@example.com") -> Any:
    from models.cases import ApplicantIn, CaseIntake

    return CaseIntake(
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
    once the next message is kept, before the 250 goes back: the sender dies between send and mark.
    """

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.script: list[str] = []
        self.data_commands = 0
        self.kill_on_accept: int | None = None
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
            if self.kill_on_accept is not None:
                os.kill(self.kill_on_accept, signal.SIGKILL)
                self.kill_on_accept = None
        return answer


def queue_notice(as_of: datetime, deceased: str = "王建国") -> str:
    """Open a case and queue its notice without sending it (the relay is what we test)."""
    from models import cases
    from models.db import session_scope
    from tasks.render import file_letter, render_for_case

    intake = shen_intake(date(2017, 6, 1))
    intake.fields["deceased_name"] = deceased
    with session_scope() as session:
        number = cases.open_case(session=session, intake=intake, as_of=as_of).number
    message = render_for_case("common/notice.txt.j2", number, as_of)
    with session_scope() as session:
        contact = cases.record_notice(session=session, number=number, message=message, as_of=as_of)
    file_letter(number, contact, message, as_of, lambda at: message)
    return number
