"""A case's route changed on its page: a material it now needs (from agencies, or from the
citizen as a second notice), an agency added for the case or to a material's chain, a role
filled, a material waived (managers), the case handed to a colleague, moved to its type's
newest version or saved as a new case type (managers); and the documents kept with it."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, UploadFile
from fastapi.responses import RedirectResponse, Response

from casework.errors import UserError
from casework.settings import get_settings
from usecases import case_types, documents, route
from usecases.agencies import AgencyForm
from usecases.documents import open_document
from web.case_page import OnCase
from web.deps import CurrentPerson, Manager, RecordId, VisibleCase

router = APIRouter(prefix="/cases/{case_number}")
Text = Annotated[str, Form()]


@router.post("/need")
def need(
    on: OnCase,
    name: Text = "",
    source: Text = "office",
    agency_1: Text = "",
    agency_2: Text = "",
    agency_3: Text = "",
    ask: Text = "",
    reason: Text = "",
) -> Response:
    """A material the case now needs: asked of agencies in order, or of the citizen."""
    chain = [a for a in (agency_1, agency_2, agency_3) if a]

    def record() -> str:
        if source == "applicant":
            from usecases.office_rules import record_second_notice

            noticed = record_second_notice(
                actor=on.person,
                case_number=on.case_number,
                item=name,
                reason=reason,
                as_of=on.as_of,
            )
            return on.words("新增材料（请申请人补充）：{what}", what=noticed.item)
        if not chain:
            raise UserError("chain_empty", material=name[:60] or "—")
        changed = route.need(
            actor=on.person,
            case_number=on.case_number,
            material=name,
            agencies=chain,
            asks=ask or None,
            as_of=on.as_of,
        )
        return on.words("新增材料：{what}", what=changed.material_name)

    form = {
        "need_name": name,
        "need_source": source,
        "need_agencies": chain,
        "need_ask": ask,
        "need_reason": reason,
    }
    return on.respond("need", form, record)


@router.post("/agencies")
def add_agency(
    on: OnCase,
    name: Text = "",
    department: Text = "",
    email: Text = "",
    phone: Text = "",
    address: Text = "",
    material: Text = "",
    distinct: Text = "",
) -> Response:
    """An agency found on the way, added for this case (and asked for a material)."""
    typed = AgencyForm(name=name, department=department, email=email, phone=phone, address=address)

    def record() -> str:
        added = route.add_case_agency(
            actor=on.person,
            case_number=on.case_number,
            form=typed,
            material=material or None,
            as_of=on.as_of,
            distinct=distinct == "on",
        )
        if added.material_name:
            return on.words(
                "已添加单位{agency}，并联系其办理：{what}",
                agency=added.agency_name,
                what=added.material_name,
            )
        return on.words("已添加单位：{agency}", agency=added.agency_name)

    form = {f"new_{k}": v for k, v in typed.model_dump().items()} | {"new_material": material}
    return on.respond("agencies", form, record)


@router.post("/chain")
def add_to_chain(on: OnCase, material: Text = "", agency: Text = "") -> Response:
    """One more agency of the case's list to ask for a material, after the others."""

    def record() -> str:
        changed = route.add_agency_to_chain(
            actor=on.person,
            case_number=on.case_number,
            material=material,
            agency=agency,
            as_of=on.as_of,
        )
        return on.words("已增加联系单位：{what}", what=changed.material_name)

    return on.respond("chain", {"chain_material": material, "chain_agency": agency}, record)


@router.post("/assign")
def assign(on: OnCase, role: Text = "", agency: Text = "") -> Response:
    """The agency that fills a role of the case type for this case."""

    def record() -> str:
        filled = route.fill_role(
            actor=on.person, case_number=on.case_number, role=role, agency=agency, as_of=on.as_of
        )
        return on.words("已指定{role}：{agency}", role=filled.role_name, agency=filled.agency_name)

    return on.respond("assign", {"assign_agency": agency}, record)


@router.post("/waive")
def waive(on: OnCase, _manager: Manager, material: Text = "", reason: Text = "") -> Response:
    def record() -> str:
        changed = route.waive(
            actor=on.person,
            case_number=on.case_number,
            material=material,
            reason=reason,
            as_of=on.as_of,
        )
        return on.words("已免收：{what}", what=changed.material_name)

    return on.respond("waive", {"waive_material": material, "waive_reason": reason}, record)


@router.post("/hand-over")
def hand_over(on: OnCase, to: Text = "") -> Response:
    def record() -> str:
        handed = route.hand_over(actor=on.person, case_number=on.case_number, to=to, as_of=on.as_of)
        return on.words("已交给{name}承办", name=handed.to_name)

    return on.respond("hand-over", {}, record)


@router.post("/move")
def move(on: OnCase, _manager: Manager) -> Response:
    def record() -> str:
        moved = case_types.move_case(actor=on.person, case_number=on.case_number, as_of=on.as_of)
        return on.words("已改用第{n}版", n=moved.to_version)

    return on.respond("move", {}, record)


@router.post("/save-as-type")
def save_as_type(on: OnCase, _manager: Manager, slug: Text = "", title: Text = "") -> Response:
    try:
        saved = case_types.save_route(
            actor=on.person, case_number=on.case_number, slug=slug, title=title, as_of=on.as_of
        )
    except UserError as exc:
        from web.case_page import case_page

        return case_page(
            on.request,
            on.person,
            on.case_number,
            status=400,
            failed=("save-as-type", exc),
            form={"type_slug": slug, "type_title": title},
        )
    done = on.words("已保存为事项类型：{title}（第{n}版）", title=saved.title, n=saved.version)
    return RedirectResponse(f"/case-types/{saved.slug}?done={quote(done)}", status_code=303)


@router.post("/documents")
async def attach(
    on: OnCase, file: UploadFile, material: Text = "", via: Text = "window"
) -> Response:
    """A scan, photo or PDF kept with a material (read no further than the size limit)."""
    most = get_settings().document_max_mb * 1024 * 1024
    content = await file.read(most + 1)

    def record() -> str:
        attached = documents.attach(
            actor=on.person,
            case_number=on.case_number,
            material=material,
            filename=file.filename or "",
            content=content,
            received_via=via,
            as_of=on.as_of,
        )
        return on.words("已留存：{kind}，{size}", kind=attached.kind, size=attached.size)

    return on.respond("documents", {"doc_material": material, "doc_via": via}, record)


@router.get("/documents/{document_id}")
def document(person: CurrentPerson, case_number: VisibleCase, document_id: RecordId) -> Response:
    """A kept document, for staff who may see the case: shown in the browser, never run in it."""
    try:
        opened = open_document(actor=person, case_number=case_number, document_id=document_id)
    except UserError:
        return Response(status_code=404)
    return Response(
        opened.content,
        media_type=opened.media_type,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(opened.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, no-store",
        },
    )
