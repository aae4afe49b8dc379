"""Case types and their versions in the case database. A case keeps the version it was opened on,
so editing a case type (or its file) never changes a case in flight; moving a case to a newer
version is a manager's explicit, audited act.

The case types written as files (playbooks/*.yaml) are kept here too: each time a file changes,
its new text becomes the type's next version (the seed types are version 1). Office-written
types live only here; every save of one is a new version. Both export as the same YAML."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache

import yaml
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from casework.actors import SYSTEM
from casework.clock import now
from casework.errors import UserError
from casework.playbook import (
    Material,
    ObtainedBy,
    Playbook,
    PlaybookError,
    UnknownPlaybook,
    parse_playbook,
)
from casework.settings import get_settings
from models import directory
from models.read_only import reads_only
from models.tables import Agency, Case, CaseMaterial, CaseTypeVersion, MaterialStatus

FILE, OFFICE = "file", "office"


class CaseTypeRow(BaseModel):
    """A case type as the list of types shows it: its current version."""

    slug: str
    title: str
    version: int
    source: str
    general: bool


def digest_of(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


@lru_cache(maxsize=256)
def _parsed(digest: str, document: str, name: str) -> Playbook:
    """A version's case type, parsed once per process (a version never changes)."""
    return parse_playbook(document, name)


def _latest(session: Session, slug: str, source: str | None = None) -> CaseTypeVersion | None:
    query = select(CaseTypeVersion).where(CaseTypeVersion.slug == slug)
    if source is not None:
        query = query.where(CaseTypeVersion.source == source)
    return session.exec(query.order_by(col(CaseTypeVersion.version).desc())).first()


def _file_documents() -> dict[str, str]:
    directory = get_settings().playbooks_dir
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.yaml"))}


_synced: set[tuple[str, str, str]] = set()  # (database, slug, digest) known to be stored


def files_changed(session: Session) -> bool:
    """Whether a case type file's text differs from its type's newest stored file version."""
    database = get_settings().db_url
    for slug, document in _file_documents().items():
        digest = digest_of(document)
        if (database, slug, digest) in _synced:
            continue
        latest = _latest(session, slug, FILE)
        if latest is None or latest.digest != digest:
            return True
        _synced.add((database, slug, digest))
    return False


def sync_files(session: Session, as_of: datetime) -> None:
    """Store each case type file's text as its type's next version when it changed since the
    last one stored (once per process and file text). A session that only reads stores
    nothing: every process syncs as it first opens the database (models.db.migrate), and an
    intake syncs again, so an edited file is the version new cases open on."""
    if reads_only(session):
        return
    database = get_settings().db_url
    for slug, document in _file_documents().items():
        digest = digest_of(document)
        if (database, slug, digest) in _synced:
            continue
        latest = _latest(session, slug, FILE)
        if latest is None or latest.digest != digest:
            # An invalid file is refused, not stored.
            playbook = _parsed(digest, document, f"{slug}.yaml")
            _store(session, slug, document, FILE, SYSTEM, as_of)
            directory.seed(session, playbook)
        _synced.add((database, slug, digest))


def _store(
    session: Session, slug: str, document: str, source: str, actor: str, as_of: datetime
) -> int:
    newest = _latest(session, slug)
    version = (newest.version if newest else 0) + 1
    try:
        with session.begin_nested():  # another process may store the same file at once
            session.add(
                CaseTypeVersion(
                    slug=slug,
                    version=version,
                    document=document,
                    digest=digest_of(document),
                    source=source,
                    created_at=as_of,
                    created_by=actor,
                )
            )
    except IntegrityError:
        stored = _latest(session, slug)
        assert stored is not None
        return stored.version
    return version


# (database, slug, version) → the version's digest and text: a version never changes once
# stored, so a list of 10,000 cases reads each of its versions once, not once a case.
_versions: dict[tuple[str, str, int], tuple[str, str]] = {}


def version_of(session: Session, slug: str, version: int) -> Playbook:
    """The case type as it was at `version`."""
    key = (get_settings().db_url, slug, version)
    if key in _versions:
        digest, document = _versions[key]
        return _parsed(digest, document, f"{slug} v{version}")
    row = session.exec(
        select(CaseTypeVersion).where(
            CaseTypeVersion.slug == slug, CaseTypeVersion.version == version
        )
    ).first()
    if row is None:
        sync_files(session, now())
        row = session.exec(
            select(CaseTypeVersion).where(
                CaseTypeVersion.slug == slug, CaseTypeVersion.version == version
            )
        ).first()
    if row is None:
        raise UnknownPlaybook(slug)
    _versions[key] = (row.digest, row.document)
    return _parsed(row.digest, row.document, f"{slug} v{version}")


def current(session: Session, slug: str, as_of: datetime) -> tuple[Playbook, int]:
    """The case type's newest version (files synced first), and its number."""
    sync_files(session, as_of)
    latest = _latest(session, slug)
    if latest is None:
        raise UnknownPlaybook(slug)
    return _parsed(latest.digest, latest.document, f"{slug} v{latest.version}"), latest.version


def playbook_of_case(session: Session, case: Case) -> Playbook:
    """The rules a case follows: its type at the version it was opened on (or moved to)."""
    return version_of(session, case.playbook, case.playbook_version)


def all_current(session: Session, as_of: datetime) -> dict[str, tuple[Playbook, int]]:
    """Every case type at its newest version, by slug."""
    sync_files(session, as_of)
    newest = (
        select(CaseTypeVersion.slug, func.max(CaseTypeVersion.version))
        .group_by(col(CaseTypeVersion.slug))
        .subquery()
    )
    rows = session.exec(
        select(CaseTypeVersion).join(
            newest,
            (col(CaseTypeVersion.slug) == newest.c.slug)
            & (col(CaseTypeVersion.version) == newest.c[1]),
        )
    ).all()
    return {
        r.slug: (_parsed(r.digest, r.document, f"{r.slug} v{r.version}"), r.version)
        for r in sorted(rows, key=lambda r: r.slug)
    }


def save(session: Session, document: str, *, actor: str, as_of: datetime) -> tuple[str, int, bool]:
    """An office's case type (new, or a new version of one): checked as a playbook file would
    be. Returns (slug, version, whether it was new); a text identical to the newest version
    is not a new version."""
    try:
        playbook = parse_playbook(document, "case type")
    except PlaybookError as exc:
        raise UserError("case_type_invalid", detail=str(exc)) from None
    sync_files(session, as_of)
    latest = _latest(session, playbook.slug)
    if latest is not None and latest.digest == digest_of(document):
        return playbook.slug, latest.version, False
    version = _store(session, playbook.slug, document, OFFICE, actor, as_of)
    directory.seed(session, playbook)
    return playbook.slug, version, True


def document_of(session: Session, slug: str, version: int | None = None) -> tuple[str, int]:
    """The YAML of a case type's version (the newest when none is given)."""
    if version is None:
        sync_files(session, now())
        row = _latest(session, slug)
    else:
        row = session.exec(
            select(CaseTypeVersion).where(
                CaseTypeVersion.slug == slug, CaseTypeVersion.version == version
            )
        ).first()
    if row is None:
        raise UnknownPlaybook(slug)
    return row.document, row.version


def rows(session: Session, as_of: datetime) -> list[CaseTypeRow]:
    sources = {
        slug: source
        for slug, source in session.exec(
            select(CaseTypeVersion.slug, CaseTypeVersion.source).order_by(
                col(CaseTypeVersion.version)
            )
        )
    }
    return [
        CaseTypeRow(
            slug=slug,
            title=playbook.title,
            version=version,
            source=sources.get(slug, FILE),
            general=playbook.general,
        )
        for slug, (playbook, version) in all_current(session, as_of).items()
    ]


def case_title(session: Session, case: Case) -> str:
    """What a case is called on pages and in reports: a general case's own title, else its
    type's (at the case's version)."""
    return case.title or playbook_of_case(session, case).title


def forget() -> None:
    """Forget the versions read and files synced (a test or the bench switched databases)."""
    _versions.clear()
    _synced.clear()


def material_spec(playbook: Playbook, row: CaseMaterial) -> Material:
    """One of a case's materials as its letters describe it: what its case type says of it
    (the applicant's part, what it requires), with the case's own name, chain of agencies and
    the clerk's words — the route the case took, not the type's."""
    spec = playbook.material(row.slug)
    base = spec if spec is not None else Material(slug=row.slug, name=row.name)
    return base.model_copy(
        update={
            "name": row.name,
            "obtained_by": ObtainedBy(row.obtained_by),
            "agencies": list(row.chain),
            "how": row.asks or base.how,
        }
    )


def shareable_material_name(playbook: Playbook, slug: str, name: str, place: int) -> str:
    """A material's name fit for what leaves the case database (Prefect's forms, artifacts and
    the board it publishes): a case type's own material by its name; one the clerk named (a
    general case's, a second notice's) by its place in the case, as its name may be a
    person's ("孙满仓的服役证明")."""
    return name if playbook.material(slug) is not None else f"材料{place}"


def route_of(session: Session, case: Case) -> list[Material]:
    """Every material of the case, in order, as material_spec describes it."""
    playbook = playbook_of_case(session, case)
    rows_ = session.exec(
        select(CaseMaterial)
        .where(CaseMaterial.case_id == case.id)
        .order_by(col(CaseMaterial.position))
    )
    return [material_spec(playbook, row) for row in rows_]


def is_file_type(slug: str) -> bool:
    """Whether the case type is written as a file (playbooks/): the office cannot edit it on
    the workbench (it saves a copy under a new code instead)."""
    return (get_settings().playbooks_dir / f"{slug}.yaml").is_file()


def save_office_type(
    session: Session, document: str, *, actor: str, as_of: datetime
) -> tuple[str, int, bool]:
    """A case type the office writes (new, or a new version): as `save`, but never one of the
    types written as files."""
    try:
        playbook = parse_playbook(document, "case type")
    except PlaybookError as exc:
        raise UserError("case_type_invalid", detail=str(exc)) from None
    if is_file_type(playbook.slug):
        raise UserError("case_type_is_a_file", slug=playbook.slug)
    if playbook.general:
        raise UserError("case_type_general", slug=playbook.slug)
    for agency in playbook.agencies:  # a directory entry it names must be that agency
        row = session.exec(select(Agency).where(Agency.slug == agency.slug)).first()
        if row is not None and (row.case_id is not None or row.role != agency.role):
            raise UserError("case_type_agency_clash", agency=agency.slug)
    return save(session, document, actor=actor, as_of=as_of)


def route_document(session: Session, case: Case, *, slug: str, title: str) -> str:
    """A case's route as a new case type's YAML: its materials in order (waived ones left
    out), each asked of the same chain of agencies. A directory agency
    stays itself; an agency the case added for itself (a private employer) becomes a role,
    which each case of the new type fills with its own."""
    playbook = playbook_of_case(session, case)
    rows_ = session.exec(
        select(CaseMaterial)
        .where(CaseMaterial.case_id == case.id)
        .order_by(col(CaseMaterial.position))
    ).all()
    agencies: dict[str, dict[str, object]] = {}
    roles: dict[str, str] = {}  # the case's own agency → the role standing for it
    materials: list[dict[str, object]] = []
    for row in rows_:
        if row.status == MaterialStatus.WAIVED:
            continue
        chain = []
        for code in row.chain:
            agency = session.exec(select(Agency).where(Agency.slug == code)).one()
            if agency.case_id is not None or agency.role:
                if code not in roles:
                    roles[code] = f"{slug}-agency-{len(roles) + 1}"
                    agencies[roles[code]] = {
                        "slug": roles[code],
                        "name": f"每案指定的单位{len(roles)}" if not agency.role else agency.name,
                        "role": True,
                    }
                chain.append(roles[code])
                continue
            agencies.setdefault(code, _directory_entry(agency))
            chain.append(code)
        spec = material_spec(playbook, row)
        material: dict[str, object] = {
            "slug": f"material-{len(materials) + 1}",
            "name": row.name,
            "obtained_by": str(spec.obtained_by),
        }
        if chain:
            material["agencies"] = chain
        # The clerk's words asked for this citizen's record (a name, a year): the type's
        # letters ask in general terms until a manager writes its own words.
        materials.append(material)
    document = {
        "slug": slug,
        "title": title,
        "summary": f"由“{case_title(session, case)}”的办理路径保存而来。",
        "tier": str(playbook.tier),
        "promised_working_days": case.time_limit_days or playbook.promised_working_days,
        "follow_up": playbook.follow_up.model_dump(exclude_none=True),
        "agencies": list(agencies.values()),
        "materials": materials,
        "templates": {"notice": "general/notice.txt.j2", "request": "general/request.txt.j2"},
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def _directory_entry(agency: Agency) -> dict[str, object]:
    entry = {
        "slug": agency.slug,
        "name": agency.name,
        "email": agency.email,
        "phone": agency.phone,
        "address": agency.address,
        "department": agency.department,
        "office_hours": agency.office_hours,
    }
    return {k: v for k, v in entry.items() if v}


def move_case(session: Session, case: Case, *, as_of: datetime, actor: str) -> tuple[int, int]:
    """Move a running case to its type's newest version (a manager's explicit act): its rules
    (intervals, wording, deadline) become the new version's; its own route stays, and each
    material the new version adds joins it. (from, to) versions."""
    newest, version = current(session, case.playbook, as_of)
    if version <= case.playbook_version:
        raise UserError("case_type_newest", version=case.playbook_version)
    missing = [f.label for f in newest.fields if f.required and f.key not in case.fields]
    if missing:
        raise UserError("case_type_needs_fields", fields="、".join(missing))
    have = {
        m.slug for m in session.exec(select(CaseMaterial).where(CaseMaterial.case_id == case.id))
    }
    position = len(have)
    for spec in newest.materials:
        if spec.slug in have:
            continue
        session.add(
            CaseMaterial(
                case_id=case.id or 0,
                slug=spec.slug,
                name=spec.name,
                position=position,
                obtained_by=str(spec.obtained_by),
                status=MaterialStatus.PENDING
                if spec.obtained_by is ObtainedBy.OFFICE
                else MaterialStatus.WAITING_APPLICANT,
                agency_slug=spec.agencies[0] if spec.agencies else None,
                chain=list(spec.agencies),
            )
        )
        position += 1
    before = case.playbook_version
    case.playbook_version = version
    session.add(case)
    return before, version


def exists(session: Session, slug: str) -> bool:
    return _latest(session, slug) is not None or is_file_type(slug)


def starter_document(session: Session, title: str) -> str:
    """A new case type's first text: one material asked of one agency, one the citizen
    brings, the general type's chasing; the office changes every part."""
    general = version_of(session, "general", _latest_version(session, "general"))
    document = {
        "slug": "new-case-type",
        "title": title,
        "summary": "（一句话说明这类事项：群众的诉求，窗口代为办理什么。）",
        "tier": "hard",
        "promised_working_days": general.promised_working_days,
        "follow_up": general.follow_up.model_dump(exclude_none=True),
        "fields": [{"key": "subject_name", "label": "当事人姓名", "personal": True}],
        "agencies": [{"slug": "agency-to-ask", "name": "要联系的单位", "role": True}],
        "materials": [
            {
                "slug": "material-1",
                "name": "由窗口代为取得的材料",
                "agencies": ["agency-to-ask"],
                "how": "（请单位协助的内容，将写入协查函。）",
            },
            {"slug": "material-2", "name": "请申请人本人准备的材料", "obtained_by": "applicant"},
        ],
        "notice_wording": "",
        "request_wording": "",
        "templates": {"notice": "general/notice.txt.j2", "request": "general/request.txt.j2"},
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def newest_version(session: Session, slug: str) -> int:
    """The number of the case type's newest version (as stored: a read syncs nothing)."""
    return _latest_version(session, slug)


def _latest_version(session: Session, slug: str) -> int:
    latest = _latest(session, slug)
    if latest is None:
        raise UnknownPlaybook(slug)
    return latest.version
