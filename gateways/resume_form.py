"""The Resume form a suspended case shows in the Prefect UI (and the CLI fills in the same way)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from prefect import get_run_logger
from prefect.input import RunInput
from pydantic import Field, field_validator

from casework.answers import Answer, AnswerChannel, AnswerOutcome
from casework.clock import OFFICE_TZ


class FormOutcome(StrEnum):
    RECEIVED = "received"
    FORWARDED = "forwarded"
    NO_RECORD = "no-record"
    NEEDS_INFO = "needs-info"
    REFUSED = "refused"
    RECHECK = "recheck"


class CaseInput(RunInput):
    """An agency's answer, or `recheck` to make the case look at its database again.

    No free text: what is typed here is kept in Prefect's database, which holds no personal
    data; a note goes to the case database with `casework reply --note`.
    """

    outcome: FormOutcome = Field(
        title="答复结果 outcome",
        description="received 已取得材料 / forwarded 转其他单位 / no-record 无记录 / "
        "needs-info 需申请人补充 / refused 拒绝 / recheck 仅重新检查案件",
    )
    # Plain strings (not Optional) so the UI shows simple text boxes; empty means "not given".
    agency: str = Field(default="", max_length=64, title="答复单位 agency (slug)")
    material: str = Field(default="", max_length=64, title="材料 material (slug)，可留空")
    forward_to: str = Field(
        default="", max_length=64, title="转往单位 forward to (slug)，转办时填写"
    )
    via: AnswerChannel = Field(
        default=AnswerChannel.PHONE,
        title="答复方式 via",
        description="phone 电话 / email 邮件 / post 信函 / visit 来访",
    )
    as_of: datetime | None = Field(default=None, title="按此时间处理 as of（一般留空）")

    @field_validator("as_of")
    @classmethod
    def _office_time_if_naive(cls, value: datetime | None) -> datetime | None:
        # The UI's date picker may send a time without a zone: it means office (Beijing) time.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=OFFICE_TZ)
        return value

    def to_answer(self) -> Answer:
        return Answer(
            agency=self.agency or "",
            outcome=AnswerOutcome(self.outcome.value),
            material=self.material or None,
            forward_to=self.forward_to or None,
            via=self.via,
        )


def wait_for_answer(*, description: str, key: str) -> CaseInput:
    """Suspend the case run under `key` until an answer or a wake-up comes, and return it.

    Prefect refuses a second suspend under a key already used and hands back the input stored
    under it; when none is stored (the run was resumed without one, or a wake-up was cleared
    as stale meanwhile) it fails building an empty form. Nothing was answered then: the run
    rechecks the case database instead of failing and being re-driven.
    """
    from prefect.flow_runs import suspend_flow_run
    from pydantic import ValidationError

    try:
        answer = suspend_flow_run(
            wait_for_input=CaseInput.with_initial_data(description=description), key=key
        )
    except ValidationError as exc:
        if any(error.get("input") != {} for error in exc.errors()):
            raise  # an answer was stored that this form cannot read: not to be passed over
        get_run_logger().warning("Resumed without an answer: the case is read again")
        return CaseInput(outcome=FormOutcome.RECHECK)
    assert isinstance(answer, CaseInput)
    return answer
