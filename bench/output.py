"""What goes out: emails per second to a local SMTP server, PDF letters per second."""

from __future__ import annotations

from datetime import datetime

from bench.figures import Figure, timed
from bench.volume import seed_open_cases
from casework.printing import render_pdf
from casework.settings import get_settings
from gateways.smtp import SmtpMailer, deliver_now
from models import lookups, outbox
from models.db import session_scope
from models.outbox import OutgoingEmail
from tasks.render import render_for_case
from tasks.send import relay_pending


def _queue(case_number: str, count: int, tag: str, as_of: datetime) -> None:
    letter = render_for_case("common/closing.txt.j2", case_number, as_of)
    with session_scope() as session:
        case = lookups.get_case(session, case_number)
        for n in range(count):
            outbox.queue_email(
                session, case, None, f"bench-{tag}-{n}", f"agency{n}@example.org", letter, as_of
            )


def mail(count: int, as_of: datetime) -> list[Figure]:
    """The relay's rate (one connection for the batch, each row marked sent), and the same
    messages one connection each, to show what reusing the connection is worth."""
    (case_number,) = seed_open_cases(1, as_of)
    _queue(case_number, count, "relay", as_of)
    sent: list[int] = []
    seconds = timed(lambda: sent.append(sum(r.delivered for r in relay_pending(as_of=as_of))))
    if sent[0] < count:  # the seeded case's own request goes out with them
        raise RuntimeError(f"the relay sent {sent[0]} of {count}")
    rate = sent[0] / seconds
    emails = [
        OutgoingEmail(
            id=n, message_id=f"<bench-{n}@casework>", to_address=f"agency{n}@example.org",
            subject="协查函", body_text="正文" * 200, body_html=None, attempts=0,
        )
        for n in range(min(count, 100))
    ]  # fmt: skip
    mailer = SmtpMailer(get_settings())
    one_each = len(emails) / timed(lambda: [deliver_now(mailer, [e]) for e in emails])
    reused = len(emails) / timed(lambda: deliver_now(mailer, emails))
    return [
        Figure(
            "output", f"emails through the relay ({count})", rate, "msg/s",
            "outbox claimed, sent on one connection, each marked sent", "≥ 200 msg/s", rate >= 200,
        ),
        Figure("output", "SMTP only, one connection for all", reused, "msg/s", "no database"),
        Figure("output", "SMTP only, a connection per message", one_each, "msg/s", "no database"),
    ]  # fmt: skip


def letters(count: int, as_of: datetime) -> list[Figure]:
    """PDF letters per second (WeasyPrint, CJK font embedded), after one to warm the fonts."""
    (case_number,) = seed_open_cases(1, as_of)
    letter = render_for_case("common/closing.txt.j2", case_number, as_of)
    render_pdf(letter.printable)
    seconds = timed(lambda: [render_pdf(letter.printable) for _ in range(count)])
    return [
        Figure("output", f"PDF letters ({count})", count / seconds, "letters/s", "A4, one page")
    ]
