"""Case-type playbooks: YAML data in playbooks/<slug>.yaml, validated by pydantic at load time."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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
    """An external body the office contacts."""

    slug: str = Field(pattern=SLUG_PATTERN)
    name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None


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


class FollowUp(_Strict):
    interval_working_days: int = Field(ge=1)
    urgent_interval_working_days: int = Field(ge=1)
    reminders_before_escalation: int = Field(ge=0)


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

    notice: str
    request: str
    reminder: str
    escalation: str
    closing: str


class Playbook(_Strict):
    """Everything the engine needs to know about one case type."""

    slug: str = Field(pattern=SLUG_PATTERN)
    title: str
    summary: str
    promised_working_days: int = Field(ge=1)
    outside_remit: bool = False
    follow_up: FollowUp
    deadline: Deadline | None = None
    fields: list[CaseField] = Field(default_factory=list)
    agencies: list[Agency]
    materials: list[Material] = Field(min_length=1)
    templates: Templates

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

    def agency(self, slug: str) -> Agency | None:
        return next((a for a in self.agencies if a.slug == slug), None)

    def material(self, slug: str) -> Material | None:
        return next((m for m in self.materials if m.slug == slug), None)


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


def load_playbook_file(path: Path) -> Playbook:
    """Read and validate one playbook file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PlaybookError(f"{path.name}: not valid YAML: {exc}") from None
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as exc:
        raise PlaybookError(_format_validation(path, exc)) from None
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
