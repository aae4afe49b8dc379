"""Case-type playbooks: YAML data in playbooks/<slug>.yaml, validated by pydantic at load time."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from casework.settings import get_settings

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ObtainedBy(StrEnum):
    OFFICE = "office"
    APPLICANT = "applicant"


class FieldKind(StrEnum):
    TEXT = "text"
    DATE = "date"


class CaseField(_Strict):
    """A fact about the case that staff enter at intake (e.g. the cremation date)."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = False
    personal: bool = False


class Agency(_Strict):
    """An external agency the office contacts (its entry in the district's directory), or a
    role each case fills with its own (`role`: "the deceased's former employer")."""

    slug: str = Field(pattern=SLUG_PATTERN)
    name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    department: str | None = None
    office_hours: str | None = None
    role: bool = False

    @model_validator(mode="after")
    def _role_has_no_channels(self) -> Self:
        # One mailbox for "every employer in the city" is what a role must never be.
        if self.role and (self.email or self.phone or self.address):
            raise ValueError(f"agencies.{self.slug}: a role is filled per case, it has no channels")
        return self

    @field_validator("email")
    @classmethod
    def _deliverable(cls, value: str | None) -> str | None:
        # A letter to a malformed address would only fail at the relay, days later.
        if value is None:
            return None
        from casework.validation import InvalidInput, email

        try:
            return email(value)
        except InvalidInput:
            raise ValueError(f"not an email address: {value!r}") from None


class Material(_Strict):
    """A document the case needs, who issues it and how it is obtained."""

    slug: str = Field(pattern=SLUG_PATTERN)
    name: str
    obtained_by: ObtainedBy = ObtainedBy.OFFICE
    agencies: list[str] = Field(default_factory=list, description="Bodies to try, in order")
    how: str = ""
    applicant_brings: list[str] = Field(
        default_factory=list, description="What the applicant must provide for it"
    )
    requires: list[str] = Field(
        default_factory=list, description="Materials to collect before requesting this one"
    )
    appointment: bool = Field(
        default=False, description="Obtained at an appointment the applicant attends in person"
    )
    letter_fields: list[str] = Field(
        default_factory=list, description="Case fields a request letter for it may print"
    )


class Service(_Strict):
    """One service of a bundle: its materials and the services that must finish first."""

    slug: str = Field(pattern=SLUG_PATTERN)
    name: str
    materials: list[str] = Field(min_length=1)
    after: list[str] = Field(default_factory=list)


class TimeLimitTier(StrEnum):
    """The 悉心听 window's tiers of 限时办结 (general matters, hard ones, very complex ones)."""

    GENERAL = "general"
    HARD = "hard"
    COMPLEX = "complex"


class FollowUp(_Strict):
    """How requests are chased. An agency that has answered often enough is reminded after
    its own usual time, kept between the shortest and the longest interval."""

    interval_working_days: int = Field(ge=1)
    urgent_interval_working_days: int = Field(ge=1)
    reminders_before_escalation: int = Field(ge=0)
    shortest_interval_working_days: int | None = Field(default=None, ge=1)
    longest_interval_working_days: int | None = Field(default=None, ge=1)

    @property
    def bounds(self) -> tuple[int, int]:
        """The shortest and longest interval an agency's own time may set (by default the
        urgent interval and twice the usual one)."""
        shortest = self.shortest_interval_working_days or self.urgent_interval_working_days
        longest = self.longest_interval_working_days or 2 * self.interval_working_days
        return shortest, max(shortest, longest)


class Deadline(_Strict):
    """A statutory limit counted from a date field of the case."""

    name: str
    starts_from: str
    years: int = Field(default=0, ge=0)
    days: int = Field(default=0, ge=0)
    urgent_within_days: int = Field(default=30, ge=0)
    consequence: str = ""

    def last_day(self, start: date) -> date:
        """The last day on which the deadline is still met."""
        try:
            anniversary = start.replace(year=start.year + self.years)
        except ValueError:  # 29 February
            anniversary = start.replace(year=start.year + self.years, day=28)
        return date.fromordinal(anniversary.toordinal() + self.days)


class Templates(_Strict):
    """Template names under templates/, relative paths."""

    notice: str = "common/notice.txt.j2"
    request: str = "common/request.txt.j2"
    reminder: str = "common/reminder.txt.j2"
    escalation: str = "common/escalation.txt.j2"
    closing: str = "common/closing.txt.j2"
    appointment: str = "common/appointment.txt.j2"
    staff_reminder: str = "common/staff-reminder.txt.j2"


class Playbook(_Strict):
    """Everything the engine needs to know about one case type."""

    slug: str = Field(pattern=SLUG_PATTERN)
    title: str
    summary: str
    tier: TimeLimitTier = TimeLimitTier.HARD
    promised_working_days: int = Field(ge=1, description="限时办结: the limit in working days")
    outside_remit: bool = False
    follow_up: FollowUp
    deadline: Deadline | None = None
    fields: list[CaseField] = Field(default_factory=list)
    agencies: list[Agency] = Field(default_factory=list)
    materials: list[Material] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    templates: Templates = Field(default_factory=Templates)
    # A general case type: its materials and their agencies are the clerk's, case by case, so
    # it may list none (the general hard case, 通用疑难事项).
    general: bool = False
    # The office's own words for a case type it wrote: a paragraph the one-time notice adds,
    # and one each request letter adds (the general templates print them).
    notice_wording: str = ""
    request_wording: str = ""
    # What the citizen does once every material is in (the closing letter and her status page
    # say it); "{office_address}" stands for the office's address.
    after_closing: str = "请您携带身份证到{office_address}办理后续手续，我们已为您优先安排。"

    def time_limit(self, overrides: dict[str, int]) -> int:
        """限时办结 in working days: the office's override for this playbook, else for its tier,
        else the playbook's promise."""
        return overrides.get(self.slug, overrides.get(str(self.tier), self.promised_working_days))

    def next_step_after_closing(self, office_address: str) -> str:
        return self.after_closing.replace("{office_address}", office_address)

    @model_validator(mode="after")
    def _has_a_route(self) -> Self:
        if not self.materials and not self.general:
            raise ValueError("materials: a case type that is not general lists its materials")
        return self

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        agency_slugs = [a.slug for a in self.agencies]
        if len(set(agency_slugs)) != len(agency_slugs):
            raise ValueError("agencies: duplicate slug")
        material_slugs = [m.slug for m in self.materials]
        if len(set(material_slugs)) != len(material_slugs):
            raise ValueError("materials: duplicate slug")
        for material in self.materials:
            for slug in material.agencies:
                if slug not in agency_slugs:
                    raise ValueError(f"materials.{material.slug}.agencies: unknown agency {slug!r}")
            if material.obtained_by is ObtainedBy.OFFICE and not material.agencies:
                raise ValueError(f"materials.{material.slug}: office materials need an agency")
        for material in self.materials:
            for slug in material.requires:
                if slug not in material_slugs:
                    raise ValueError(f"materials.{material.slug}.requires: unknown {slug!r}")
            for key in material.letter_fields:
                if key not in {f.key for f in self.fields}:
                    raise ValueError(f"materials.{material.slug}.letter_fields: unknown {key!r}")
        _check_acyclic("materials.requires", {m.slug: m.requires for m in self.materials})
        self._check_services(material_slugs)
        field_keys = {f.key for f in self.fields}
        if self.deadline and self.deadline.starts_from not in field_keys:
            raise ValueError(
                f"deadline.starts_from: {self.deadline.starts_from!r} is not a field of this case"
            )
        if self.deadline:
            start_field = next(f for f in self.fields if f.key == self.deadline.starts_from)
            if start_field.kind is not FieldKind.DATE or not start_field.required:
                raise ValueError("deadline.starts_from: must name a required date field")
        return self

    def _check_services(self, material_slugs: list[str]) -> None:
        if not self.services:
            return
        service_slugs = [sv.slug for sv in self.services]
        if len(set(service_slugs)) != len(service_slugs):
            raise ValueError("services: duplicate slug")
        for service in self.services:
            for slug in service.materials:
                if slug not in material_slugs:
                    raise ValueError(f"services.{service.slug}.materials: unknown {slug!r}")
            for slug in service.after:
                if slug not in service_slugs:
                    raise ValueError(f"services.{service.slug}.after: unknown service {slug!r}")
        _check_acyclic("services.after", {sv.slug: sv.after for sv in self.services})
        used = {slug for sv in self.services for slug in sv.materials}
        for slug in material_slugs:
            if slug not in used:
                raise ValueError(f"materials.{slug}: not used by any service")

    def services_of(self, material: str) -> list[Service]:
        return [sv for sv in self.services if material in sv.materials]

    def agency(self, slug: str) -> Agency | None:
        return next((a for a in self.agencies if a.slug == slug), None)

    def material(self, slug: str) -> Material | None:
        return next((m for m in self.materials if m.slug == slug), None)


def _check_acyclic(where: str, edges: dict[str, list[str]]) -> None:
    """Refuse a dependency cycle, naming it (a → b → a)."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == "done":
            return
        if state.get(node) == "active":
            cycle = [*path[path.index(node) :], node]
            raise ValueError(f"{where}: cycle {' → '.join(cycle)}")
        state[node] = "active"
        for nxt in edges.get(node, []):
            visit(nxt, [*path, node])
        state[node] = "done"

    for start in edges:
        visit(start, [])


class PlaybookError(Exception):
    """A playbook file is unreadable or invalid; the message names the file and the key."""


class UnknownPlaybook(LookupError):
    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug


def _format_validation(path: Path, error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"{path.name}: {location}: {item['msg']}")
    return "\n".join(lines)


def parse_playbook(text: str, name: str) -> Playbook:
    """A case type from its YAML (a file's, or a version kept in the case database); `name` is
    what an error names (the file, or the case type)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlaybookError(f"{name}: not valid YAML: {exc}") from None
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as exc:
        raise PlaybookError(_format_validation(Path(name), exc)) from None
    templates_dir = get_settings().templates_dir
    for key, template in playbook.templates.model_dump().items():
        if not (templates_dir / template).is_file():
            raise PlaybookError(f"{name}: templates.{key}: no template {template!r}")
    return playbook


def load_playbook_file(path: Path) -> Playbook:
    """Read and validate one playbook file."""
    playbook = parse_playbook(path.read_text(encoding="utf-8"), path.name)
    if playbook.slug != path.stem:
        raise PlaybookError(f"{path.name}: slug: {playbook.slug!r} must match the file name")
    return playbook


@lru_cache
def _load_all(directory: Path) -> dict[str, Playbook]:
    return {p.stem: load_playbook_file(p) for p in sorted(directory.glob("*.yaml"))}


def all_playbooks() -> dict[str, Playbook]:
    """Every playbook, by slug."""
    return _load_all(get_settings().playbooks_dir)


def get_playbook(slug: str) -> Playbook:
    try:
        return all_playbooks()[slug]
    except KeyError:
        raise UnknownPlaybook(slug) from None
