"""What an agency or the applicant said or did, as staff record it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class AnswerOutcome(StrEnum):
    RECEIVED = "received"  # the office has it in hand
    POSTED = "posted"  # the agency has sent it by post: the case waits for it to arrive
    FORWARDED = "forwarded"
    NO_RECORD = "no-record"
    NEEDS_INFO = "needs-info"
    REFUSED = "refused"


class AnswerChannel(StrEnum):
    """How the answer reached the office (kept in the contact log)."""

    PHONE = "phone"
    EMAIL = "email"
    POST = "post"
    VISIT = "visit"
    WEB = "web"  # the agency's own answer on its reply page


class Answer(BaseModel):
    """An agency's answer to a request of this case."""

    agency: str
    outcome: AnswerOutcome
    material: str | None = None
    forward_to: str | None = None
    note: str = Field(default="", max_length=2000)
    via: AnswerChannel = AnswerChannel.PHONE
    tracking: str | None = None  # of what the agency posted
    answered_by: str | None = None  # the person at the agency, as they gave their name


class TripReason(StrEnum):
    """Why the applicant had to come (or was reached): every trip is counted with one."""

    INTAKE = "intake"
    MATERIAL_MISSING = "material-missing"
    SIGNATURE = "signature"
    APPOINTMENT = "appointment"
    COLLECT = "collect"
    OTHER = "other"
