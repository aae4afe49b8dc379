"""`casework show`, `cases`, `find`, `inbox`, `mailbox`: reading cases, in the clerk's words."""

from __future__ import annotations

from typing import Annotated

import typer

from casework.clock import now, office_date, office_time
from casework.messages import message
from cli.app import (
    JsonOption,
    actor,
    app,
    echo,
    emit_json,
    fail,
    say,
    state,
    user_errors,
    words,
)
from usecases import reading
from usecases.reading import CaseDetail, ClockRow, RatingRow
from usecases.runs import run_url


def _line(code: str, **params: object) -> str:
    return message(code, state.lang, **params)


def _clock_line(c: ClockRow) -> str:
    """限时办结 in one line: used, paused, left (or over), due date, extension."""
    if c.state in ("met", "missed"):
        return _line(
            "show_clock_closed",
            state=words("clock_state", c.state),
            used=c.used,
            limit=c.limit,
            paused=c.paused,
        )
    left = _line("clock_left", days=c.left) if c.left >= 0 else _line("clock_over", days=-c.left)
    return _line(
        "show_clock",
        state=words("clock_state", c.state),
        limit=c.limit,
        used=c.used,
        paused=c.paused,
        left=left,
        due=c.due_on,
    ) + (_line("clock_extended", days=c.extension_days) if c.extension_days else "")


def _rating_line(r: RatingRow) -> str:
    follow = ""
    if r.rectify_by is not None:
        follow = (
            _line("rating_followed_up", note=r.follow_up_note or "")
            if r.followed_up_at
            else _line("rating_follow_up_due", due=r.rectify_by)
        )
    return _line("show_rating", words=r.words, comment=r.comment or "") + follow


def print_case(d: CaseDetail) -> None:
    """The case page on a terminal: every code shown as words."""
    echo(
        _line(
            "show_case",
            case=d.case_number,
            title=d.playbook_title,
            status=words("case_status", d.status),
            urgent=_line("show_urgent") if d.urgent else "",
        )
    )
    echo(
        _line(
            "show_type",
            type=d.type_title,
            version=d.playbook_version,
            first=d.taken_by or "—",
            handler=d.handled_by or "—",
        )
    )
    if d.problem:
        echo(_line("show_problem", problem=d.problem))
    echo(_line("show_applicant", name=d.applicant_name, phone=d.applicant_phone, trips=d.trips))
    echo(
        _line("show_dates", opened=office_date(d.opened_at), promised=d.promised_by)
        + (_line("show_deadline", deadline=d.deadline_date) if d.deadline_date else "")
        + (_line("show_closed", closed=office_date(d.closed_at)) if d.closed_at else "")
    )
    if d.clock is not None:
        echo(_clock_line(d.clock))
    for notice in d.second_notices:
        echo(_line("show_second_notice", notice=notice))
    if d.rating is not None:
        echo(_rating_line(d.rating))
    if d.escalation_reason and d.status == "escalated":
        echo(_line("show_escalated", reason=words("outcome", d.escalation_reason)))
    if d.outside_remit:
        echo(_line("show_outside_remit"))
    if d.services:
        order = " → ".join(f"{sv['name']}{'✓' if sv['completed'] else ''}" for sv in d.services)
        echo(_line("show_services", services=order))
    echo("\n" + _line("show_materials"))
    for m in d.materials:
        echo(
            _line(
                "show_material",
                name=m.name,
                status=words("material_status", m.status),
                agency=m.agency_name or "-",
                tried="、".join(m.tried_names) or "-",
            )
        )
        if m.awaiting_agency:
            echo(_line("show_material_role", role=m.awaiting_agency))
        if m.waived_reason:
            echo(_line("show_material_waived", reason=m.waived_reason))
        for doc in m.documents:
            echo(_line("show_material_document", kind=doc.kind, size=doc.size))
    echo("\n" + _line("show_contacts"))
    for c in d.contacts:
        party = c.agency_name or words(
            "party", "manager" if c.kind == "escalation" else "applicant"
        )
        posting = ""
        if c.channel == "post" and c.direction == "outbound":
            posting = (
                _line("show_tracking", tracking=c.tracking_number)
                if c.tracking_number
                else _line("show_to_post")
            )
        outcome = words("outcome", c.outcome) if c.outcome else ""
        echo(
            f"  #{c.id:<4} {office_time(c.occurred_at)}  {words('contact_kind', c.kind)}"
            f"  {words('channel', c.channel)} {words('direction', c.direction)}  {party}"
            + (f"  {c.material_name}" if c.material_name else "")
            + (f"  {outcome}" if outcome else "")
            + (f"  {c.note}" if c.note else "")
            + posting
        )
    echo("\n" + _line("show_events"))
    for e in d.events:
        change = (
            f"{words('case_status', e.from_status)}→{words('case_status', e.to_status)}  "
            if e.from_status != e.to_status
            else ""
        )
        detail = e.detail
        if e.kind == "service-completed":
            names = {sv["slug"]: sv["name"] for sv in d.services}
            detail = names.get(detail, detail)
        echo(
            f"  {office_time(e.occurred_at)}  {words('event', e.kind)}  {change}{detail}"
            f"（{words('actor', e.actor)}）"
        )
    if d.emails:
        echo("\n" + _line("show_emails"))
        for email in d.emails:
            echo(
                f"  {words('outbox_status', email['status'])}  {email['to']}  {email['subject']}"
                + (f"  ！{email['error']}" if email["status"] == "failed" else "")
            )
    docs = [c.document for c in d.contacts if c.document]
    if docs:
        echo("\n" + _line("show_documents"))
        for path in docs:
            echo(f"  {path}")
    if d.flow_run_id:
        echo("\n" + _line("show_run", url=run_url(d.flow_run_id)))


@app.command()
@user_errors
def show(
    case_number: Annotated[str, typer.Argument(help="案件编号")],
    full: Annotated[
        str | None,
        typer.Option("--full", help="显示未脱敏的个人信息，须写明理由（记入审计）"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """一个案件的全貌：材料、往来记录、审计记录、文书（个人信息脱敏）。"""
    if full is not None and not full.strip():
        fail("reason_needed")
    who = actor()
    revealed = None
    if full is not None:
        revealed = reading.reveal(actor=who, case_number=case_number, reason=full, as_of=now())
    detail = reading.show_case(actor=who, case_number=case_number, as_of=now())
    if as_json:
        emit_json(
            {**detail.model_dump(mode="json"), **({"applicant": revealed} if revealed else {})}
        )
        return
    if revealed:
        say("show_revealed", details="  ".join(v for v in revealed.values() if v))
    print_case(detail)


def _print_rows(rows: list[reading.CaseSummary], as_json: bool) -> None:
    if as_json:
        emit_json([r.model_dump(mode="json") for r in rows])
        return
    if not rows:
        say("no_cases")
    for r in rows:
        flags = " ".join(
            [_line("cases_row_urgent")] * r.urgent + [_line("cases_row_overdue")] * r.overdue
        )
        say(
            "cases_row",
            case=r.case_number,
            title=r.playbook_title,
            status=words("case_status", r.status),
            name=r.applicant_name,
            promised=r.promised_by,
            flags=flags,
        )


@app.command("cases")
@user_errors
def cases_(
    overdue: Annotated[bool, typer.Option("--overdue", help="只看逾期或该催办的")] = False,
    mine: Annotated[
        bool, typer.Option("--mine", help="只看 --as 账号作为首问责任人受理的")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """列出案件（申请人姓名已脱敏），上报和逾期的在前。"""
    found = reading.list_cases(
        actor=actor(), as_of=now(), overdue_only=overdue, scope="mine" if mine else "office"
    )
    _print_rows(found.rows, as_json)


@app.command()
@user_errors
def find(
    id_number: Annotated[str | None, typer.Option("--id-number", help="申请人身份证号")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="申请人电话")] = None,
    name: Annotated[str | None, typer.Option("--name", help="申请人姓名（全名）")] = None,
    as_json: JsonOption = False,
) -> None:
    """按身份证号、电话或姓名查找申请人的案件（库中只存加密后的号码和不可逆的检索值；
    每次查找记入所找到案件的审计记录）。"""
    given = [v for v in (id_number, phone, name) if v]
    if len(given) != 1:
        fail("find_one_of")
    rows = reading.search(actor=actor(), text=given[0], as_of=now())
    if as_json:
        emit_json([r.case_number for r in rows])
        return
    _print_rows(rows, as_json=False)


@app.command()
@user_errors
def inbox(
    unmatched: Annotated[bool, typer.Option("--unmatched", help="只看找不到案件的来信")] = False,
    as_json: JsonOption = False,
) -> None:
    """单位回信：已归入案件、待分类的来信；或找不到案件的来信（从不丢弃）。"""
    if unmatched:
        rows = reading.unmatched_emails()
        if as_json:
            emit_json(rows)
            return
        lines = ["  ".join(row.values()) for row in rows]
    else:
        filed = reading.inbound_emails()
        if as_json:
            emit_json([row.model_dump(mode="json") for row in filed])
            return
        lines = [
            "  ".join(
                str(v)
                for v in (
                    row.case_number,
                    office_time(row.received_at),
                    row.sender or "—",
                    "" if row.sender_verified else words("sender", "unverified"),
                    row.agency,
                    row.in_reply_to,
                    row.subject,
                )
                if v is not None and v != ""
            )
            for row in filed
        ]
    if not lines:
        say("no_cases")
    for line in lines:
        echo(line)


@app.command()
@user_errors
def mailbox(as_json: JsonOption = False) -> None:
    """本地邮件服务器收到的邮件（演示和测试用）。"""
    rows = reading.local_mailbox()
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        echo(f"{row['to']!s:36} {row['subject']}")
