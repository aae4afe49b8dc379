"""A front end's change is saved even when Prefect's server fails the call that follows it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.flow

AS_OF = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _busy(*_args: object, **_kwargs: object) -> object:
    request = httpx.Request("POST", "http://127.0.0.1/api/deployments/x/create_flow_run")
    response = httpx.Response(503, request=request)
    raise httpx.HTTPStatusError("503 Service Unavailable", request=request, response=response)


def test_a_case_opened_while_prefect_answers_503_is_kept_for_the_reconciler(
    fresh_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.stories import synthetic_id_number
    from gateways import prefect_client, stack_health
    from models import lookups
    from models.db import session_scope
    from usecases import intake
    from usecases.accounts import console_actor

    monkeypatch.setattr(stack_health, "api_healthy", lambda _settings: True)
    monkeypatch.setattr(prefect_client, "start_case_flow", _busy)
    form = intake.IntakeForm(
        playbook="recover-cremation-certificate",
        name="沈桂兰",
        id_number=synthetic_id_number(datetime(1950, 3, 8).date()),
        phone="13800001234",
        fields={"deceased_name": "王建国", "cremation_date": "2017-06-01"},
    )
    opened = intake.open_case(actor=console_actor(), form=form, as_of=AS_OF)
    assert opened.run is not None and opened.run.busy and not opened.run.started
    with session_scope() as session:
        assert lookups.get_case(session, opened.case_number).flow_run_id is None  # to start


def test_an_answer_recorded_while_prefect_answers_503_is_kept_for_the_reconciler(
    fresh_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateways import run_inputs, stack_health
    from models import lookups
    from models.db import session_scope
    from models.tables import Contact
    from tests.factories import case_with_a_request
    from usecases import answers
    from usecases.accounts import console_actor

    number, _request = case_with_a_request(AS_OF)
    with session_scope() as session:
        lookups.get_case(session, number).flow_run_id = "00000000-0000-0000-0000-000000000001"
    monkeypatch.setattr(stack_health, "api_healthy", lambda _settings: True)
    monkeypatch.setattr(run_inputs, "wake_case_flow", _busy)
    recorded = answers.record_answer(
        actor=console_actor(),
        case_number=number,
        agency="crematorium-front-desk",
        outcome="no-record",
        as_of=AS_OF,
    )
    assert recorded.run.busy and not recorded.run.woken
    with session_scope() as session:
        answer = session.get(Contact, recorded.contact_id)
        assert answer is not None and answer.outcome == "no-record"  # the answer is in
