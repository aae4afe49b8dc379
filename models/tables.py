"""The case database: SQLModel tables and their status enums."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
    false,
)
from sqlmodel import AutoString, Field, SQLModel

from models.access_tables import RateEvent, WebSession
from models.columns import EncryptedText, UTCDateTime, _ts

__all__ = ["EncryptedText", "RateEvent", "UTCDateTime", "WebSession"]


class CaseStatus(StrEnum):
    OPEN = "open"
    WAITING_AGENCY = "waiting_agency"
    WAITING_APPLICANT = "waiting_applicant"
    ESCALATED = "escalated"
    CLOSED = "closed"  # every material in: done
    WITHDRAWN = "withdrawn"  # 已终止: a manager stopped it; ended, but not resolved

    @property
    def ended(self) -> bool:
        return self in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN)


class MaterialStatus(StrEnum):
    PENDING = "pending"
    REQUESTED = "requested"
    WAITING_APPLICANT = "waiting_applicant"
    # The agency says it has sent the document by post: the case waits for it to arrive.
    IN_POST = "in-post"
    COLLECTED = "collected"
    UNOBTAINABLE = "unobtainable"
    WAIVED = "waived"  # a manager decided the case can do without it, with a reason


# A material the case has in hand, or can do without (a manager waived it): nothing more to get.
MATERIAL_DONE = (MaterialStatus.COLLECTED, MaterialStatus.WAIVED)


class Channel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    LETTER = "letter"
    POST = "post"
    VISIT = "visit"
    WINDOW = "window"
    HOME_VISIT = "home-visit"
    WEB = "web"


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class ContactKind(StrEnum):
    NOTICE = "notice"
    REQUEST = "request"
    REMINDER = "reminder"
    REPLY = "reply"
    ESCALATION = "escalation"
    VISIT = "visit"
    CLOSING = "closing"
    APPOINTMENT = "appointment"
    APPOINTMENT_CONFIRMATION = "appointment-confirmation"
    STAFF_REMINDER = "staff-reminder"
    RECEIPT = "receipt"
    INBOUND_EMAIL = "inbound-email"
    AMENDED_NOTICE = "amended-notice"  # 二次告知: what the one-time notification left out
    EXTENSION_NOTICE = "extension-notice"  # 延期告知
    # An agency's answer that came after its request was answered another way (by phone, say)
    # and says something else: kept for the clerk to look at, never dropped.
    LATE_ANSWER = "late-answer"
    WITHDRAWAL_NOTICE = "withdrawal-notice"  # the case was withdrawn: the request is too


class EventKind(StrEnum):
    """What an audit row records (CaseEvent.kind)."""

    CASE_OPENED = "case-opened"
    STATUS_CHANGED = "status-changed"
    APPLICANT_NOTIFIED = "applicant-notified"
    REQUEST_SENT = "request-sent"
    REMINDER_SENT = "reminder-sent"
    ESCALATED = "escalated"
    REPLY_RECORDED = "reply-recorded"
    APPLICANT_VISITED = "applicant-visited"
    MATERIALS_RECEIVED = "materials-received"
    APPOINTMENT_BOOKED = "appointment-booked"
    APPOINTMENT_CONFIRMED = "appointment-confirmation"
    STAFF_REMINDED = "staff-reminder"
    FLOW_RUN_LINKED = "flow-run-linked"
    MARKED_URGENT = "marked-urgent"
    URGENCY_CLEARED = "urgency-cleared"
    SERVICE_COMPLETED = "service-completed"
    CASE_CLOSED = "case-closed"
    CASE_WITHDRAWN = "case-withdrawn"
    EMAIL_RECEIVED = "email-received"
    LETTER_POSTED = "letter-posted"
    PERSONAL_DATA_SHOWN = "personal-data-shown"
    PERSON_LOOKED_UP = "person-looked-up"  # found by a search for her ID, phone or name
    LATE_ANSWER = "late-answer"
    LATE_ANSWER_SEEN = "late-answer-seen"
    MATERIAL_ARRIVED = "material-arrived"
    LETTER_PRINTED = "letter-printed"
    REQUEST_WITHDRAWN = "request-withdrawn"  # an agency told its request is withdrawn
    MATERIAL_ADDED = "material-added"  # the route changed: a material the case now needs
    AGENCY_ADDED = "agency-added"  # …an agency added to a material's chain
    MATERIAL_WAIVED = "material-waived"
    HANDED_OVER = "handed-over"
    CASE_TYPE_MOVED = "case-type-moved"  # moved to a newer version of its case type
    DOCUMENT_ATTACHED = "document-attached"
    PERSONAL_DATA_PURGED = "personal-data-purged"
    FORM_ANSWER_REFUSED = "form-answer-refused"
    RUN_REDRIVEN = "run-redriven"
    RESUMED_IN_PREFECT_VIEW = "resumed-in-prefect-view"  # a manager's Resume, through the proxy
    NOTE_ADDED = "note-added"
    CLOCK_PAUSED = "clock-paused"
    CLOCK_RESUMED = "clock-resumed"
    TIME_LIMIT_EXTENDED = "time-limit-extended"
    SECOND_NOTICE = "second-notice"
    RATED = "rated"
    FOLLOW_UP_CALLED = "follow-up-called"
    RECTIFICATION_OVERDUE = "rectification-overdue"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Applicant(SQLModel, table=True):
    """The citizen; personal data lives only in this table of the case database."""

    id: int | None = Field(default=None, primary_key=True)
    name: str
    id_number: str = Field(sa_type=EncryptedText)
    id_number_hash: str = Field(default="", index=True)
    phone: str = Field(sa_type=EncryptedText)
    # Keyed hashes for the workbench's search by phone or full name (casework.crypto.lookup_hash
    # of the normalised value): found without a scan, and without keeping a second clear copy.
    phone_hash: str = Field(default="", index=True, sa_column_kwargs={"server_default": ""})
    name_hash: str = Field(default="", index=True, sa_column_kwargs={"server_default": ""})
    email: str | None = None
    address: str | None = None


class Case(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True)
    playbook: str = Field(index=True)
    status: CaseStatus = Field(default=CaseStatus.OPEN, index=True, sa_type=AutoString)
    applicant_id: int = Field(foreign_key="applicant.id")
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Indexed for the month's report, which reads only the month's cases.
    opened_at: datetime = _ts(index=True)
    closed_at: datetime | None = _ts(nullable=True, index=True)
    promised_by: date
    deadline_date: date | None = None
    urgent: bool = False
    escalated_at: datetime | None = _ts(nullable=True)
    escalation_reason: str | None = None
    outside_remit: bool = False
    wait_generation: int = 0
    flow_run_id: str | None = None
    purged_at: datetime | None = _ts(nullable=True)
    # The language of letters to the applicant (agencies and staff always get Chinese).
    letter_lang: str = Field(default="zh", sa_column_kwargs={"server_default": "zh"})
    # The street office that took the case (None: the office of a single-office install) and
    # the account of the clerk who took it (首问责任人); cases from the CLI name no account.
    office_code: str | None = Field(default=None, index=True)
    taken_by: str | None = None
    # The intake form's one-time key: the same form submitted twice opens one case.
    intake_key: str | None = Field(default=None, unique=True)
    # 限时办结: the limit fixed at intake (playbook, or the office's override) and the working
    # days added by approved extensions. None on cases opened before the clock existed.
    time_limit_days: int | None = None
    extension_days: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The version of its case type the case was opened on (models/case_types.py): its rules
    # stay those of that version, whatever is edited later, until a manager moves it.
    playbook_version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    # The clerk working the case now (letters sign with them); taken_by stays 首问责任人.
    handled_by: str | None = None
    # A general case (通用疑难事项): its short title and the citizen's problem in her words.
    title: str | None = None
    problem: str | None = Field(default=None, sa_type=EncryptedText)


class CaseNumberCounter(SQLModel, table=True):
    """Last case number handed out per year, so numbers never repeat."""

    year: int = Field(primary_key=True)
    last: int = 0


class Agency(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    department: str | None = None  # the desk inside it (档案室, 人事处)
    office_hours: str | None = None
    notes: str | None = None  # what the office has learnt (ask for 王科长; closed Wednesdays)
    # An agency added for one case only (a private employer found via 114, the person filling
    # a role such as "the deceased's former employer"): that case's lists show it, the
    # district's directory does not.
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    # A role a case type names (原单位人事部门): no channels of its own, each case names the
    # agency that fills it.
    role: bool = False
    # How quickly it answers, learnt from its answers: the working days a reminder waits for
    # it (None: the case type's interval). See casework/follow_up.py.
    answers_within_days: int | None = None


class Document(SQLModel, table=True):
    """A scan, photo or PDF kept with one material of a case: encrypted like the rest of the
    applicant's data, never sent to Prefect, purged with the case."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    material_slug: str
    filename: str = Field(sa_type=EncryptedText)
    media_type: str
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # Fernet token
    received_via: str  # window, post, email, home-visit, web (an agency's reply page)
    created_at: datetime = _ts()
    created_by: str


class CaseTypeVersion(SQLModel, table=True):
    """One version of a case type, as written (the playbook's YAML): a case keeps the version it
    was opened on. Case types written as files (playbooks/) are stored here too, a new version
    each time their file changes; office-written ones are edited on the workbench."""

    __table_args__ = (UniqueConstraint("slug", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(index=True)
    version: int
    document: str = Field(sa_column=Column(Text, nullable=False))  # the YAML
    digest: str  # sha256 of the document: a file unchanged is not a new version
    source: str  # "file" or "office"
    created_at: datetime = _ts()
    created_by: str


class CaseMaterial(SQLModel, table=True):
    __tablename__ = "material"
    __table_args__ = (UniqueConstraint("case_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    slug: str
    name: str
    position: int
    obtained_by: str
    status: MaterialStatus = Field(default=MaterialStatus.PENDING, sa_type=AutoString)
    agency_slug: str | None = None
    tried_agencies: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str | None = None
    collected_at: datetime | None = _ts(nullable=True)
    # The agencies to ask, in order: the case type's at intake, or the clerk's; the route a
    # case changes on the way (an agency added, a forward) changes here, not in the case type.
    chain: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # What the request letter asks for, in the clerk's words (a general case's material).
    asks: str | None = Field(default=None, sa_type=EncryptedText)
    waived_reason: str | None = None


class Contact(SQLModel, table=True):
    """One call, letter, email, visit or reply between the office and someone outside it."""

    # A city's contacts run to millions: the reports count them by month and by agency.
    __table_args__ = (Index("ix_contact_kind_agency_slug", "kind", "agency_slug"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    kind: ContactKind = Field(sa_type=AutoString)
    channel: Channel = Field(sa_type=AutoString)
    direction: Direction = Field(sa_type=AutoString)
    agency_slug: str | None = None
    material_slug: str | None = None
    in_reply_to: int | None = Field(default=None, foreign_key="contact.id", index=True)
    outcome: str | None = None
    note: str | None = None
    dedupe_key: str | None = Field(default=None, unique=True)
    occurred_at: datetime = _ts(index=True)
    answered_at: datetime | None = _ts(nullable=True)
    scheduled_at: datetime | None = _ts(nullable=True)
    trip: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    document_path: str | None = None
    # Who wrote this row: an account's username, or "agency-link", "prefect-ui", "system"…
    recorded_by: str | None = None

    @property
    def tracking_number(self) -> str | None:
        """Of a letter by post, once staff posted it (see models/postal.py)."""
        return (self.details or {}).get("tracking_number")

    @property
    def posted_at(self) -> datetime | None:
        posted = (self.details or {}).get("posted_at")
        return datetime.fromisoformat(posted) if posted else None

    @property
    def printed_at(self) -> datetime | None:
        printed = (self.details or {}).get("printed_at")
        return datetime.fromisoformat(printed) if printed else None

    @property
    def awaiting_posting(self) -> bool:
        """A printed letter by post that has not left the office yet."""
        return (
            self.channel == Channel.POST
            and self.direction == Direction.OUTBOUND
            and self.tracking_number is None
        )

    @property
    def left_office_at(self) -> datetime:
        """When the other side could first have it: posting time for a letter, else recorded."""
        return self.posted_at or self.occurred_at


class OutboxMessage(SQLModel, table=True):
    """An email to send; written with the change that causes it, sent by the relay."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    dedupe_key: str = Field(unique=True, index=True)
    message_id: str = Field(unique=True)
    to_address: str
    subject: str
    body_text: str
    body_html: str | None = None
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, index=True, sa_type=AutoString)
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)
    # A relay claims a row before sending; a claim older than the lease means the relay died
    # between sending and marking, so the message is sent again, flagged, with the same ID.
    claimed_at: datetime | None = _ts(nullable=True)
    next_attempt_at: datetime | None = _ts(nullable=True)
    resent: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class CaseEvent(SQLModel, table=True):
    """The audit trail: one row per state change, written in the same transaction."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    occurred_at: datetime = _ts()
    kind: str
    from_status: str | None = None
    to_status: str | None = None
    detail: str = ""
    actor: str = "system"


class Office(SQLModel, table=True):
    """A street office (街道办事处) with its window; several belong to one district."""

    code: str = Field(primary_key=True)
    name: str
    district: str
    address: str = Field(default="", sa_column_kwargs={"server_default": ""})
    phone: str  # the window's phone: "请致电…" in every letter, email and page
    supervision_phone: str = Field(default="", sa_column_kwargs={"server_default": ""})
    # Where citizens and agencies open the workbench (status links, reply links, QR codes);
    # None: the install's CASEWORK_WEB_PUBLIC_URL.
    public_url: str | None = None


class Role(StrEnum):
    CLERK = "clerk"
    MANAGER = "manager"
    DISTRICT = "district"


class Account(SQLModel, table=True):
    """A person who signs in to the workbench; every action they take names them."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True)
    display_name: str
    role: Role = Field(sa_type=AutoString)
    office_code: str = Field(foreign_key="office.code")
    password_hash: str
    created_at: datetime = _ts()
    disabled: bool = False


class ReplyLink(SQLModel, table=True):
    """The link (and short code, for paper) by which an agency answers one request itself."""

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", unique=True)
    code: str = Field(unique=True, index=True)
    expires_at: datetime = _ts()
    used_at: datetime | None = _ts(nullable=True)


class ClockPause(SQLModel, table=True):
    """补正: the time-limit clock stands still while the office waits for the citizen."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    material_slug: str
    started_at: datetime = _ts()
    ended_at: datetime | None = _ts(nullable=True)


class SecondNotice(SQLModel, table=True):
    """二次告知: the citizen was asked for something the one-time notification did not list."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    item: str
    reason: str
    occurred_at: datetime = _ts()
    actor: str
    # The material the citizen now has to bring (waiting on her, the clock paused meanwhile).
    material_slug: str | None = None


class Rating(SQLModel, table=True):
    """好差评: the citizen's rating of a closed case, and the follow-up a bad one requires."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", unique=True)
    level: int  # 5 非常满意 … 1 非常不满意
    comment: str | None = None
    channel: str  # window, phone, status-page
    rated_at: datetime = _ts()
    recorded_by: str
    rectify_by: date | None = None  # set for 不满意 / 非常不满意
    followed_up_at: datetime | None = _ts(nullable=True)
    follow_up_note: str | None = None
    followed_up_by: str | None = None
    overdue_flagged_at: datetime | None = _ts(nullable=True)
