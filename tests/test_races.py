"""Two people answer one request at the same moment, from two real processes: one answer is
recorded, the other is refused where its author sees it, and nothing is written over."""

from __future__ import annotations

import multiprocessing
from datetime import date
from multiprocessing.synchronize import Barrier

import pytest
from sqlmodel import col, select

from casework.answers import Answer, AnswerOutcome
from casework.clock import start_of_office_day
from casework.errors import UserError
from models import db, incoming, lookups
from models.db import session_scope
from models.tables import CaseEvent, CaseMaterial, Contact, ContactKind, EventKind
from tests.factories import case_with_a_request
from usecases.accounts import console_actor

pytestmark = pytest.mark.flow
DAY = start_of_office_day(date(2026, 11, 16))
ROUNDS = 12
CLERK = Answer(agency="crematorium-front-desk", outcome=AnswerOutcome.RECEIVED)
MANAGER = Answer(agency="crematorium-front-desk", outcome=AnswerOutcome.NO_RECORD)


def _clerk(cases: list[str], barrier: Barrier, results: multiprocessing.Queue) -> None:
    db.engine_for.cache_clear()  # a forked process opens its own connections
    for case_number in cases:
        barrier.wait()
        try:
            with session_scope() as session:
                incoming.record_answer(
                    actor="staff", session=session, case_number=case_number, answer=CLERK, as_of=DAY
                )
            results.put((case_number, "clerk", "recorded"))
        except UserError as exc:
            results.put((case_number, "clerk", exc.code))


def _manager(
    cases: list[tuple[str, int]], barrier: Barrier, results: multiprocessing.Queue
) -> None:
    db.engine_for.cache_clear()
    for case_number, generation in cases:
        barrier.wait()
        with session_scope() as session:
            outcome = incoming.record_form_answer(
                session=session,
                case_number=case_number,
                generation=generation,
                answer=MANAGER,
                as_of=DAY,
            )
        results.put((case_number, "manager", outcome.split(":")[0]))


def test_a_clerk_and_a_manager_answering_at_once_never_lose_or_overwrite(
    fresh_db: object, smtp_server: list
) -> None:
    cases = [case_with_a_request(DAY)[0] for _ in range(ROUNDS)]
    with session_scope() as session:
        waits = [
            (n, lookups.case_view(session=session, case_number=n).wait_generation) for n in cases
        ]
    db.engine_for.cache_clear()
    fork = multiprocessing.get_context("fork")
    barrier = fork.Barrier(2)
    results: multiprocessing.Queue = fork.Queue()
    workers = [
        fork.Process(target=_clerk, args=(cases, barrier, results)),
        fork.Process(target=_manager, args=(waits, barrier, results)),
    ]
    for worker in workers:
        worker.start()
    outcomes: dict[str, dict[str, str]] = {}
    for _ in range(2 * ROUNDS):
        case_number, who, what = results.get(timeout=120)
        outcomes.setdefault(case_number, {})[who] = what
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0

    winners = {"clerk": 0, "manager": 0}
    for case_number in cases:
        said = outcomes[case_number]
        recorded = [who for who, what in said.items() if what == "recorded"]
        assert len(recorded) == 1, (case_number, said)
        winner = recorded[0]
        winners[winner] += 1
        loser = "manager" if winner == "clerk" else "clerk"
        assert said[loser] == ("already_answered" if loser == "clerk" else "refused")
        with session_scope() as session:
            case = lookups.get_case(session, case_number)
            replies = session.exec(
                select(Contact).where(Contact.case_id == case.id, Contact.kind == ContactKind.REPLY)
            ).all()
            material = session.exec(
                select(CaseMaterial).where(
                    CaseMaterial.case_id == case.id, CaseMaterial.slug == "cremation-certificate"
                )
            ).one()
            refusals = session.exec(
                select(CaseEvent).where(
                    CaseEvent.case_id == case.id,
                    col(CaseEvent.kind) == EventKind.FORM_ANSWER_REFUSED,
                )
            ).all()
        assert len(replies) == 1, case_number
        assert replies[0].outcome == (CLERK if winner == "clerk" else MANAGER).outcome
        # The winner's answer decides the material: received → collected, no-record → next agency.
        assert material.status == ("collected" if winner == "clerk" else "pending")
        assert len(refusals) == (1 if loser == "manager" else 0)
    assert sum(winners.values()) == ROUNDS


def test_a_reader_neither_waits_for_nor_takes_the_write_lock(
    fresh_db: object, case_database: str, smtp_server: list
) -> None:
    import sqlite3
    import time

    from casework.settings import get_settings
    from models.db import read_scope
    from usecases.reading import list_cases

    if case_database != "sqlite":
        pytest.skip("SQLite's write lock: PostgreSQL readers never take one")
    number, _ = case_with_a_request(DAY)
    writer = sqlite3.connect(get_settings().db_url.removeprefix("sqlite:///"), timeout=1)
    writer.isolation_level = None
    writer.execute("BEGIN IMMEDIATE")  # a clerk's answer half-way through its transaction
    writer.execute("UPDATE \"case\" SET status = 'closed'")
    try:
        started = time.monotonic()
        listed = list_cases(actor=console_actor(), as_of=DAY)
        with read_scope() as session:
            status = lookups.get_case(session, number).status
        waited = time.monotonic() - started
        # …and while the reader's snapshot is open, the writer still commits.
        with read_scope() as session:
            lookups.get_case(session, number)
            writer.execute("COMMIT")
    finally:
        if writer.in_transaction:
            writer.execute("ROLLBACK")
        writer.close()
    assert waited < 2 and [c.case_number for c in listed.rows] == [number]
    assert status != "closed"  # the snapshot of what was committed, not the write in flight


FORWARDED = Answer(
    agency="crematorium-front-desk",
    outcome=AnswerOutcome.FORWARDED,
    forward_to="crematorium-archive-room",
)


def _forward(case_number: str) -> None:
    with session_scope() as session:
        incoming.record_answer(
            actor="staff", session=session, case_number=case_number, answer=FORWARDED, as_of=DAY
        )


def test_a_read_sees_one_snapshot_while_an_answer_commits(
    fresh_db: object, case_database: str, smtp_server: list
) -> None:
    # A run plans from several queries; an answer committed between two of them must not show
    # in the second but not the first (PostgreSQL's READ COMMITTED did: bench, 2026-12-05).
    from models.db import read_scope

    number, request_id = case_with_a_request(DAY)
    with read_scope() as session:
        case = lookups.get_case(session, number)
        material = session.exec(select(CaseMaterial).where(CaseMaterial.case_id == case.id)).one()
        _forward(number)  # another clerk, another connection, committed
        request = session.exec(select(Contact).where(Contact.id == request_id)).one()
        seen = (material.agency_slug, request.answered_at)
    assert seen == ("crematorium-front-desk", None)
    with read_scope() as session:  # the next read sees the answer
        assert session.exec(select(Contact).where(Contact.id == request_id)).one().answered_at


def test_a_request_planned_before_an_answer_is_not_sent_after_it(
    fresh_db: object, case_database: str, smtp_server: list
) -> None:
    # The run planned "ask the front desk" from a read taken before the front desk's answer
    # (forwarded to the archive room) was committed; the request must not go out again.
    from casework.planning import Action, Step, plan_next_step
    from casework.playbook import get_playbook
    from tasks.send import send_request

    number, request_id = case_with_a_request(DAY)
    stale = Step(
        action=Action.REQUEST,
        generation=0,
        material="cremation-certificate",
        agency="crematorium-front-desk",
    )
    _forward(number)
    send_request.fn(number, stale, DAY)
    with session_scope() as session:
        case = lookups.get_case(session, number)
        requests = session.exec(
            select(Contact).where(Contact.case_id == case.id, Contact.kind == ContactKind.REQUEST)
        ).all()
        material = session.exec(select(CaseMaterial).where(CaseMaterial.case_id == case.id)).one()
        view = lookups.case_view(session=session, case_number=number)
    assert [r.id for r in requests] == [request_id]
    assert material.agency_slug == "crematorium-archive-room"
    assert [m["X-Envelope-To"] for m in smtp_server].count("front-desk@crematorium.example") == 1
    step = plan_next_step(view, get_playbook(view.playbook), DAY)
    assert (step.action, step.agency) == (Action.REQUEST, "crematorium-archive-room")
