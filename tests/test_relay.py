"""The outbox relay against a real SMTP server: encoding, retries, failures, a dying relay."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import date, timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from sqlmodel import col, select

from casework.clock import now, office_date, start_of_office_day
from models import lookups, outbox
from models.db import session_scope
from models.tables import OutboxMessage
from tasks.send import notify_applicant, relay_pending
from tests.factories import RecordingHandler, queue_notice

pytestmark = pytest.mark.flow
DAY = start_of_office_day(date(2026, 11, 16))


def _row() -> OutboxMessage:
    with session_scope() as session:
        row = session.exec(select(OutboxMessage)).one()
        session.expunge(row)
        return row


def test_chinese_subject_and_body_arrive_in_both_parts_escaped(
    fresh_db: object, smtp_server: list
) -> None:
    number = queue_notice(DAY, deceased="<b>王</b>建国")
    notify_applicant.fn(number, DAY)
    (message,) = smtp_server
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == f"[{number}] 一次性告知书：补办火化证明（丧葬费补贴）"
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "沈桂兰" in plain and "沈桂兰" in html
    assert message["Message-ID"] == outbox.message_id_for(f"notice:{number}")

    # A case field holding HTML is printed as typed in the text part and escaped in HTML.
    from casework.planning import Action, plan_next_step
    from casework.playbook import get_playbook
    from tasks.send import send_request

    with session_scope() as session:
        view = lookups.case_view(session=session, case_number=number)
    step = plan_next_step(view, get_playbook(view.playbook), DAY)
    assert step.action is Action.REQUEST
    send_request.fn(number, step, DAY)
    request = smtp_server[-1]
    assert "<b>王</b>建国" in request.get_body(preferencelist=("plain",)).get_content()
    html = request.get_body(preferencelist=("html",)).get_content()
    assert "&lt;b&gt;王&lt;/b&gt;建国" in html and "<b>王</b>" not in html


def test_451_three_times_then_success_delivers_exactly_once(
    fresh_db: object, smtp_handler: RecordingHandler
) -> None:
    queue_notice(DAY)
    smtp_handler.script = ["451 4.3.0 try again later"] * 3
    moment = DAY
    for _ in range(3):
        relay_pending(as_of=moment)
        row = _row()
        assert (row.status, row.last_error[:3] if row.last_error else None) == ("pending", "451")
        assert relay_pending(as_of=moment) == []  # not due again before its retry time
        moment = row.next_attempt_at  # type: ignore[assignment]
    relay_pending(as_of=moment)
    row = _row()
    assert (row.status, row.attempts, row.resent) == ("sent", 4, False)
    assert smtp_handler.data_commands == 4 and len(smtp_handler.messages) == 1
    relay_pending(as_of=moment + timedelta(days=1))
    assert len(smtp_handler.messages) == 1


def test_550_fails_for_good_and_is_shown_to_staff(
    fresh_db: object, smtp_handler: RecordingHandler
) -> None:
    number = queue_notice(DAY)
    smtp_handler.script = ["550 5.1.1 no such mailbox"]
    relay_pending(as_of=DAY)
    relay_pending(as_of=DAY + timedelta(days=2))
    assert smtp_handler.data_commands == 1
    from models.views import case_detail

    with session_scope() as session:
        (email,) = case_detail(session=session, case_number=number).emails
    assert email["status"] == "failed" and email["error"].startswith("550")


def _relay_process(*args: str) -> subprocess.Popen[str]:
    """`casework relay` as its own process, as staff or the sweep would run it."""
    command = Path(sys.executable).with_name("casework")
    return subprocess.Popen(
        [str(command), "relay", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_a_relay_killed_between_send_and_mark_resends_once_flagged(
    fresh_db: object, smtp_handler: RecordingHandler
) -> None:
    queue_notice(DAY)
    relay = _relay_process()
    smtp_handler.kill_on_accept = relay.pid  # SIGKILL once the server has the message
    relay.communicate(timeout=60)
    assert relay.returncode == -signal.SIGKILL
    assert len(smtp_handler.messages) == 1 and _row().status == "sending"

    again = _relay_process()  # within the lease: the message may still be on its way
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert "已发送 0 封" in out and len(smtp_handler.messages) == 1

    tomorrow = (office_date(now()) + timedelta(days=1)).isoformat()  # past the 10-minute lease
    for _ in range(2):
        after_lease = _relay_process("--as-of", tomorrow)
        assert after_lease.communicate(timeout=60)[1] == "" and after_lease.returncode == 0
    first, second = smtp_handler.messages  # one flagged resend, then nothing more
    assert first["Message-ID"] == second["Message-ID"]
    assert first["X-Casework-Resend"] is None and second["X-Casework-Resend"] == "yes"
    row = _row()
    assert (row.status, row.resent, row.attempts) == ("sent", True, 2)


def test_a_relay_killed_mid_batch_leaves_only_the_email_in_flight_unmarked(
    fresh_db: object, smtp_handler: RecordingHandler
) -> None:
    for deceased in ("王建国", "李明", "赵强"):
        queue_notice(DAY, deceased)
    relay = _relay_process()
    smtp_handler.kill_on_accept = relay.pid
    smtp_handler.kill_after = 2  # the third message is kept, its 250 never reaches the relay
    relay.communicate(timeout=60)
    assert relay.returncode == -signal.SIGKILL
    assert len(smtp_handler.messages) == 3
    with session_scope() as session:
        statuses = [
            r.status for r in session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
        ]
    assert statuses == ["sent", "sent", "sending"]  # each marked before the next was sent

    tomorrow = (office_date(now()) + timedelta(days=1)).isoformat()  # past the lease
    after_lease = _relay_process("--as-of", tomorrow)
    assert after_lease.communicate(timeout=60)[1] == "" and after_lease.returncode == 0
    resent = [m for m in smtp_handler.messages if m["X-Casework-Resend"] == "yes"]
    assert len(smtp_handler.messages) == 4 and len(resent) == 1  # one duplicate, flagged
    assert resent[0]["Message-ID"] == smtp_handler.messages[2]["Message-ID"]


def test_two_relays_at_once_send_each_email_once(
    fresh_db: object, smtp_handler: RecordingHandler
) -> None:
    # The reconciler relays every minute and every case run relays its own mail: two relays
    # meet, and each claims the due rows in one statement that must not hand a row to both.
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from casework.templating import RenderedMessage

    number = queue_notice(DAY)
    with session_scope() as session:
        case = lookups.get_case(session, number)
        for n in range(29):
            message = RenderedMessage(subject=f"协查函 {n}", text="正文", printable="")
            outbox.queue_email(
                session, case, None, f"race-{n}", f"agency{n}@example.org", message, DAY
            )
    both_ready = threading.Barrier(2)

    def relay(_: int) -> list[int]:
        both_ready.wait()
        return [d.outbox_id for d in relay_pending(as_of=DAY) if d.delivered]

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(relay, range(2))
    assert not set(first) & set(second), "an email was claimed by both relays"
    assert len(first) + len(second) == 30
    ids = [m["Message-ID"] for m in smtp_handler.messages]
    assert len(ids) == 30 and len(set(ids)) == 30
    with session_scope() as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}
