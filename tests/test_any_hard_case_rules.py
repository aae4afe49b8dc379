"""The pure rules behind any hard case, branch by branch: how long an agency usually takes to
answer and how that sets its reminder interval, when two agency names are one agency, what
kind of file a document is, and what a case type may say about roles and chasing."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import ValidationError

from casework.agency_names import near_duplicate, normalised
from casework.clock import start_of_office_day
from casework.documents import media_type_of, size_words
from casework.follow_up import FEWEST_ANSWERS, LATEST_ANSWERS, usual_answer_days
from casework.planning import (
    Action,
    CaseView,
    MaterialView,
    OpenRequest,
    plan_next_step,
    reminder_interval,
)
from casework.playbook import Agency, FollowUp, get_playbook

pytestmark = pytest.mark.unit
GENERAL = get_playbook("general")  # interval 3, urgent 1: bounds 1 … 6 working days
MONDAY = date(2026, 11, 16)  # no public holiday in the weeks after it


def _request(agency_interval: int | None) -> OpenRequest:
    sent = start_of_office_day(MONDAY)
    return OpenRequest(
        contact_id=1,
        agency_slug="agency-001",
        sent_at=sent,
        last_chased_at=sent,
        reminders=0,
        escalated=False,
        agency_interval=agency_interval,
    )


# How long an agency usually takes ------------------------------------------------------------


def test_an_agency_is_not_judged_on_fewer_answers_than_the_fewest() -> None:
    assert FEWEST_ANSWERS == 3
    assert usual_answer_days([]) is None
    assert usual_answer_days([9, 9]) is None
    assert usual_answer_days([9, 9, 9]) == 9


def test_the_median_is_rounded_up_and_never_below_one_day() -> None:
    assert usual_answer_days([2, 3, 2, 3]) == 3  # median 2.5: given 3
    assert usual_answer_days([1, 2, 9]) == 2  # one slow answer does not set it
    assert usual_answer_days([0, 0, 0]) == 1  # answered the same day: still one day


def test_only_the_latest_answers_count() -> None:
    old_and_slow = [10] * 30
    recent_and_fast = [1] * LATEST_ANSWERS
    assert usual_answer_days(old_and_slow + recent_and_fast) == 1
    assert usual_answer_days(recent_and_fast + old_and_slow) == 10


# The reminder interval --------------------------------------------------------------------------


def test_without_a_usual_time_the_case_types_interval_applies() -> None:
    assert reminder_interval(_request(None), GENERAL, urgent=False) == 3


def test_an_agencys_usual_time_sets_the_interval_within_the_bounds() -> None:
    assert GENERAL.follow_up.bounds == (1, 6)
    assert reminder_interval(_request(2), GENERAL, urgent=False) == 2  # faster: shorter
    assert reminder_interval(_request(5), GENERAL, urgent=False) == 5  # slower: longer
    assert reminder_interval(_request(6), GENERAL, urgent=False) == 6  # the longest allowed
    assert reminder_interval(_request(15), GENERAL, urgent=False) == 6  # never longer
    assert reminder_interval(_request(1), GENERAL, urgent=False) == 1  # the shortest allowed


def test_an_urgent_case_is_chased_on_the_urgent_interval_whatever_the_agency() -> None:
    assert reminder_interval(_request(5), GENERAL, urgent=True) == 1
    assert reminder_interval(_request(None), GENERAL, urgent=True) == 1


def test_a_case_type_may_set_its_own_bounds() -> None:
    chasing = FollowUp(
        interval_working_days=4,
        urgent_interval_working_days=1,
        reminders_before_escalation=2,
        shortest_interval_working_days=2,
        longest_interval_working_days=10,
    )
    assert chasing.bounds == (2, 10)
    book = GENERAL.model_copy(update={"follow_up": chasing})
    assert reminder_interval(_request(1), book, urgent=False) == 2
    assert reminder_interval(_request(9), book, urgent=False) == 9
    assert reminder_interval(_request(12), book, urgent=False) == 10
    # A longest bound below the shortest is read as the shortest.
    inverted = chasing.model_copy(update={"longest_interval_working_days": 1})
    assert inverted.bounds == (2, 2)


def _waiting_on(agency_interval: int | None) -> CaseView:
    return CaseView(
        case_number="HC-2026-0001",
        playbook="general",
        status="waiting_agency",
        notified=True,
        urgent=False,
        deadline_date=None,
        escalation_reasons=[],
        wait_generation=1,
        materials=[
            MaterialView(
                slug="need-1",
                name="服役证明",
                obtained_by="office",
                status="requested",
                agency_slug="agency-001",
                open_request=_request(agency_interval),
            )
        ],
    )


def _day(n: int) -> datetime:
    return start_of_office_day(date(2026, 11, 16 + n))  # Mon + n (n ≤ 4 stays in the week)


def test_the_planner_reminds_a_fast_agency_sooner_and_a_slow_one_later() -> None:
    fast, usual, slow = _waiting_on(1), _waiting_on(None), _waiting_on(4)
    assert plan_next_step(fast, GENERAL, _day(1)).action is Action.REMIND
    assert plan_next_step(usual, GENERAL, _day(2)).action is Action.WAIT
    assert plan_next_step(usual, GENERAL, _day(3)).action is Action.REMIND
    assert plan_next_step(slow, GENERAL, _day(3)).action is Action.WAIT
    assert plan_next_step(slow, GENERAL, _day(4)).action is Action.REMIND


def test_a_material_whose_agency_is_a_role_not_yet_named_sends_nothing() -> None:
    waiting = _waiting_on(None)
    unnamed = waiting.materials[0].model_copy(
        update={"status": "pending", "open_request": None, "awaiting_agency": True}
    )
    step = plan_next_step(waiting.model_copy(update={"materials": [unnamed]}), GENERAL, _day(0))
    assert step.action is Action.WAIT
    named = unnamed.model_copy(update={"awaiting_agency": False})
    step = plan_next_step(waiting.model_copy(update={"materials": [named]}), GENERAL, _day(0))
    assert (step.action, step.agency) == (Action.REQUEST, "agency-001")


def test_a_waived_material_counts_as_done() -> None:
    waiting = _waiting_on(None)
    waived = waiting.materials[0].model_copy(update={"status": "waived", "open_request": None})
    step = plan_next_step(waiting.model_copy(update={"materials": [waived]}), GENERAL, _day(0))
    assert step.action is Action.CLOSE


# Agency names -----------------------------------------------------------------------------------


def test_a_name_is_compared_without_width_spaces_punctuation_or_its_bracketed_desk() -> None:
    assert normalised("西城区 公共就业和人才服务中心（档案室）") == "西城区公共就业和人才服务中心"
    assert normalised("ＡＢＣ Bank, Ltd.") == "abcbankltd"


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        # Equal once normalised.
        ("西城区公共就业和人才服务中心", "西城区 公共就业和人才服务中心（档案室）", True),
        # One inside the other, long enough to say so.
        ("西城区民政局", "北京市西城区民政局", True),
        # Inside, but too short to mean one agency.
        ("民政局", "西城区民政局社会救助科", False),
        # Alike but for one character (a typo).
        ("西城区退役军人事务局", "西城区退役军人事物局", True),
        # Another district's bureau: different agencies.
        ("西城区民政局", "东城区民政局", False),
        ("北京市档案馆", "北京市西城区档案馆", False),
        # Nothing left after normalising compares only with nothing.
        ("（）", "·", True),
        ("（）", "西城区民政局", False),
    ],
)
def test_near_duplicate_names(one: str, other: str, same: bool) -> None:
    assert near_duplicate(one, other) is same
    assert near_duplicate(other, one) is same


# Documents ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "kind"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00", "image/png"),
        (b"II*\x00\x08", "image/tiff"),
        (b"MM\x00*\x00", "image/tiff"),
        (b"PK\x03\x04word/", None),  # a Word file: not a copy of a document
        (b"<html><script>", None),
        (b"%PD", None),  # too short to be a PDF
        (b"", None),
    ],
)
def test_a_documents_kind_is_told_by_its_first_bytes(start: bytes, kind: str | None) -> None:
    assert media_type_of(start) == kind


def test_sizes_read_in_bytes_kilobytes_or_megabytes() -> None:
    assert size_words(1023) == "1023 字节"
    assert size_words(1024) == "1 KB"
    assert size_words(1024 * 1024 - 1) == "1024 KB"
    assert size_words(3 * 1024 * 1024 + 400 * 1024) == "3.4 MB"


# Case types -----------------------------------------------------------------------------------


def test_a_role_has_no_channels_of_its_own() -> None:
    assert Agency(slug="former-employer-hr", name="原单位人事部门", role=True).role
    for channel in ("email", "phone", "address"):
        value = "hr@employer.example" if channel == "email" else "010-60004001"
        with pytest.raises(ValidationError, match="a role is filled per case"):
            Agency(slug="former-employer-hr", name="原单位人事部门", role=True, **{channel: value})


def test_only_a_general_case_type_may_list_no_materials() -> None:
    data = GENERAL.model_dump()
    assert GENERAL.general and GENERAL.materials == []
    with pytest.raises(ValidationError, match="lists its materials"):
        type(GENERAL).model_validate({**data, "general": False})
