"""The figures managers read: the daily board and the monthly report (filled in by models/)."""

from __future__ import annotations

from datetime import date

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

    @property
    def empty(self) -> bool:
        return self.cases_opened == 0 and self.cases_closed == 0 and self.people_served == 0
