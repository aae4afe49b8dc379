"""A case run resumed with no answer stored rechecks its case; a stored answer is never dropped."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import ValidationError

import gateways.resume_form as resume_form
from gateways.resume_form import CaseInput, FormOutcome, wait_for_answer

pytestmark = pytest.mark.unit


def _error(data: dict[str, Any]) -> ValidationError:
    try:
        CaseInput.model_validate(data)
    except ValidationError as exc:
        return exc
    raise AssertionError(f"{data} is a valid answer")


@pytest.fixture
def suspend(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What the next suspend does: return an answer or raise what Prefect's load raised."""
    outcome: list[Any] = []

    def fake_suspend(**_kwargs: Any) -> Any:
        if isinstance(outcome[0], Exception):
            raise outcome[0]
        return outcome[0]

    monkeypatch.setattr("prefect.flow_runs.suspend_flow_run", fake_suspend)
    monkeypatch.setattr(resume_form, "get_run_logger", lambda: logging.getLogger("test"))
    return outcome


def test_an_answer_is_returned_as_given(suspend: list[Any]) -> None:
    suspend.append(CaseInput(outcome=FormOutcome.RECEIVED))
    assert wait_for_answer(description="…", key="wait-1").outcome is FormOutcome.RECEIVED


def test_no_input_stored_is_a_recheck(suspend: list[Any]) -> None:
    suspend.append(_error({}))  # Prefect built the form from nothing
    assert wait_for_answer(description="…", key="wait-1").outcome is FormOutcome.RECHECK


def test_an_unreadable_answer_is_not_passed_over(suspend: list[Any]) -> None:
    suspend.append(_error({"outcome": "maybe"}))
    with pytest.raises(ValidationError):
        wait_for_answer(description="…", key="wait-1")
