"""Case types and their versions: listed, exported and imported as YAML, written by the office
(a general case's route saved as a type, then edited: each save a new version), previewed
before saving, and a running case moved to its type's newest version (managers, audited)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from casework import validation
from casework.errors import UserError
from casework.playbook import Playbook, PlaybookError, UnknownPlaybook, parse_playbook
from models import case_types
from models.accounts import Actor, require_manager, visible_case
from models.db import read_scope, session_scope
from models.tables import EventKind
from models.transitions import record_event
from usecases.runs import RunNudge, wake_case_run


class CaseTypeSaved(BaseModel):
    slug: str
    title: str
    version: int
    new: bool  # False: the text was the newest version's already


def list_types(*, as_of: datetime) -> list[case_types.CaseTypeRow]:
    with session_scope() as session:  # syncs an edited file first
        return case_types.rows(session, as_of)


def export(slug: str, version: int | None = None) -> tuple[str, int]:
    """A case type's YAML at a version (the newest when none is given), and that version."""
    try:
        with session_scope() as session:
            return case_types.document_of(session, validation.slug(slug, field="事项"), version)
    except UnknownPlaybook:
        if version is None:
            raise UserError("unknown_playbook", slug=slug[:40]) from None
        raise UserError("unknown_case_type_version", slug=slug[:40], version=version) from None


def save(*, actor: Actor, document: str, as_of: datetime) -> CaseTypeSaved:
    """A case type the office wrote, imported or edited (managers): checked as a playbook file
    would be; a new version when its text changed. Open for intake at once."""
    require_manager(actor)
    if len(document) > 100_000:
        raise UserError("case_type_too_long")
    with session_scope() as session:
        slug, version, new = case_types.save_office_type(
            session, document, actor=actor.username, as_of=as_of
        )
        title = case_types.version_of(session, slug, version).title
    return CaseTypeSaved(slug=slug, title=title, version=version, new=new)


def save_route(
    *, actor: Actor, case_number: str, slug: str, title: str, as_of: datetime
) -> CaseTypeSaved:
    """A case's route saved as a new case type (managers): "save this case as a type"."""
    require_manager(actor)
    code = validation.slug(slug, field="事项代码")
    name = validation.free_text(title, field="事项名称", max_length=40) or ""
    with session_scope() as session:
        case = visible_case(session, actor, case_number)
        if case_types.exists(session, code):
            raise UserError("case_type_exists", slug=code)
        document = case_types.route_document(session, case, slug=code, title=name)
        slug_, version, new = case_types.save_office_type(
            session, document, actor=actor.username, as_of=as_of
        )
    return CaseTypeSaved(slug=slug_, title=name, version=version, new=new)


class Preview(BaseModel):
    """What a case type's letters will say, rendered with a made-up case."""

    notice: str
    request: str | None  # None: the type obtains nothing from agencies


def preview(document: str) -> Preview:
    """Check a case type's YAML and render its one-time notice and a request letter with a
    made-up case (nothing is saved)."""
    from casework.samples import sample_context  # Jinja and the letters: this page only
    from casework.templating import render_message

    try:
        playbook = parse_playbook(document, "case type")
    except PlaybookError as exc:
        raise UserError("case_type_invalid", detail=str(exc)) from None
    context = sample_context(playbook)
    notice = render_message(playbook.templates.notice, context).text
    asked = next((m for m in playbook.materials if m.agencies), None)
    request = None
    if asked is not None:
        agency = playbook.agency(asked.agencies[0])
        request = render_message(
            playbook.templates.request, {**context, "material": asked, "agency": agency}
        ).text
    return Preview(notice=notice, request=request)


def new_type_document(title: str = "新的事项类型") -> str:
    """A starting point for a case type written from nothing (the editor's template)."""
    with read_scope() as session:
        return case_types.starter_document(session, title)


class CaseMoved(BaseModel):
    case_number: str
    from_version: int
    to_version: int
    run: RunNudge | None = None


def move_case(*, actor: Actor, case_number: str, as_of: datetime) -> CaseMoved:
    """Move a running case to its type's newest version (managers): audited, and its run
    follows the new rules from its next step."""
    require_manager(actor)
    with session_scope() as session:
        case = visible_case(session, actor, case_number, lock=True)
        if case.closed_at is not None:
            raise UserError("case_closed", case=case_number)
        before, after = case_types.move_case(session, case, as_of=as_of, actor=actor.username)
        record_event(
            session,
            case,
            EventKind.CASE_TYPE_MOVED,
            as_of,
            detail=f"第{before}版 → 第{after}版",
            actor=actor.username,
        )
    return CaseMoved(
        case_number=case_number,
        from_version=before,
        to_version=after,
        run=wake_case_run(case_number),
    )


def playbook_at(slug: str, version: int) -> Playbook:
    with read_scope() as session:
        return case_types.version_of(session, slug, version)


def is_built_in(slug: str) -> bool:
    """Whether the case type comes with the system (a file): the office saves a copy instead."""
    return case_types.is_file_type(slug)
