"""The figures managers read: the daily board and the monthly report (filled in by models/)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

# ---------------------------------------------------------------- daily board


class OverdueContact(BaseModel):
    case_number: str
    agency: str
    agency_name: str
    material: str
    material_name: str
    requested_on: date
    reminders: int
    due_on: date


class Escalation(BaseModel):
    case_number: str
    reason: str
    since: date


class NearDeadline(BaseModel):
    case_number: str
    playbook: str
    playbook_title: str
    deadline: date
    days_left: int


class AgencyResponsiveness(BaseModel):
    agency: str
    name: str
    requests: int
    answered: int
    median_days_to_answer: float | None
    share_never_answered: float


class LetterToPost(BaseModel):
    case_number: str
    letter: int
    agency: str
    agency_name: str
    written_on: date


class LateAnswerFlag(BaseModel):
    """An agency's answer that came after its request was answered another way: to check."""

    case_number: str
    agency_name: str
    outcome: str
    at: datetime


class TimeLimitAlert(BaseModel):
    """An open case whose 限时办结 clock is about to run out, or has."""

    case_number: str
    playbook_title: str
    state: str  # due-soon or overdue (casework.time_limit.ClockState)
    left: int
    due_on: date


class RectificationDue(BaseModel):
    """A 不满意 rating still waiting for its follow-up call."""

    case_number: str
    level_words: str
    rectify_by: date
    overdue: bool


class RuleFigures(BaseModel):
    """The office's rules in figures, for one month (all case types, or one)."""

    cases_opened: int = 0
    cases_closed: int = 0
    trips: dict[str, int] = {}  # closed cases by trips: "0", "1", "2", "3+"
    share_within_trip_goal: float | None = None  # 0-2 trips
    median_working_days_to_close: float | None = None
    share_closed_within_limit: float | None = None
    second_notices: int = 0  # issued in the month
    second_notice_rate: float | None = None  # closed cases that needed one
    response_rate: float | None = None  # 响应率: first request within a working day of intake
    resolution_rate: float | None = None  # 解决率: closed as done, not withdrawn
    ratings: int = 0
    satisfaction_rate: float | None = None  # 满意率: 基本满意 or better
    follow_up_rate: float | None = None  # 回访率: bad ratings followed up


class DailyBoard(BaseModel):
    today: date
    open_by_type_and_status: dict[str, dict[str, int]]
    overdue_cases: list[str]
    overdue_contacts: list[OverdueContact]
    escalations: list[Escalation]
    deadlines_next_30_days: list[NearDeadline]
    agencies: list[AgencyResponsiveness]
    letters_to_post: list[LetterToPost] = []
    playbook_titles: dict[str, str] = {}
    time_limits: list[TimeLimitAlert] = []
    paused_clocks: int = 0
    rectifications: list[RectificationDue] = []
    second_notices_this_month: int = 0
    late_answers: list[LateAnswerFlag] = []
    month_to_date: RuleFigures = RuleFigures()  # the month's report figures so far


# ---------------------------------------------------------------- monthly report


class MonthlyReport(BaseModel):
    month: str
    people_served: int
    cases_opened: int
    cases_closed: int
    households_helped_by_type: dict[str, int]
    services_completed: dict[str, int]
    materials_obtained_for_citizens: int
    median_trips_per_closed_case: float | None
    share_closed_with_0_to_2_trips: float | None
    median_days_to_close: float | None
    p90_days_to_close: float | None
    outside_remit_cases: int
    weekly: list[tuple[str, int, int]]  # (week starting, opened, closed)
    playbook_titles: dict[str, str] = {}
    service_names: dict[str, str] = {}
    rules: RuleFigures = RuleFigures()
    rules_by_type: dict[str, RuleFigures] = {}

    @property
    def empty(self) -> bool:
        return self.cases_opened == 0 and self.cases_closed == 0 and self.people_served == 0
