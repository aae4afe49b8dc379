"""`casework`: the window clerk's command line (Chinese by default, `--lang en` for English)."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, ParamSpec, TypeVar

import typer

from casework.errors import UserError
from casework.messages import message
from casework.settings import Settings, get_settings
from casework.stack import apply_prefect_env


def _settings_or_exit() -> Settings:
    """The settings, or one line naming each mistyped CASEWORK_* variable and exit code 2."""
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            ("CASEWORK_" + "_".join(str(p) for p in e["loc"]).upper() + ": " if e["loc"] else "")
            + str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        )
        lang = "en" if os.environ.get("CASEWORK_LANG", "").lower().startswith("en") else "zh"
        typer.echo(message("settings_invalid", lang, detail=problems), err=True)
        raise SystemExit(2) from None


# Prefect reads its settings when first imported: point it at the local stack before that.
apply_prefect_env(_settings_or_exit())

app = typer.Typer(
    help="Casework：“悉心听”窗口疑难案件的流程编排。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

P = ParamSpec("P")
R = TypeVar("R")


class _State:
    lang = "zh"


state = _State()

JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON（供脚本使用）")]


@app.callback()
def _main(
    lang: Annotated[
        str | None, typer.Option("--lang", help="zh 或 en（默认 CASEWORK_LANG）")
    ] = None,
) -> None:
    chosen = lang or get_settings().lang
    state.lang = "en" if chosen.lower().startswith("en") else "zh"


def say(code: str, **params: object) -> None:
    typer.echo(message(code, state.lang, **params))


def fail(code: str, **params: object) -> None:
    typer.echo(message(code, state.lang, **params), err=True)
    raise typer.Exit(2)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """A user's mistake becomes one line in their language and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from casework.playbook import PlaybookError, UnknownPlaybook

        try:
            return func(*args, **kwargs)
        except UserError as exc:
            fail(exc.code, **exc.params)
        except UnknownPlaybook as exc:
            fail("unknown_playbook", slug=exc.slug)
        except PlaybookError as exc:
            fail("playbook_invalid", detail=str(exc))
        raise AssertionError("unreachable")

    return wrapper


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def parse_as_of(value: str | None) -> datetime:
    from casework.clock import now, start_of_office_day

    if value is None:
        return now()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise UserError("as_of_format", value=value) from None
    return max(now(), start_of_office_day(day))


# ---------------------------------------------------------------- the local stack


@app.command()
@user_errors
def up() -> None:
    """启动本地服务：Prefect 服务器、工作进程、本地邮件服务器。"""
    from casework.stack import Stack

    settings = get_settings()
    Stack(settings).up()
    say("stack_up", ui=settings.prefect_ui_url)
    say("ui_password", path=settings.home / "secrets" / "prefect-auth")
    typer.echo(f"SMTP: {settings.smtp_host}:{settings.smtp_port} → {settings.mailbox_dir}")


@app.command()
def down() -> None:
    """停止本地服务。"""
    from casework.stack import Stack

    Stack(get_settings()).down()
    say("stack_down_done")


@app.command()
def status(as_json: JsonOption = False) -> None:
    """本地服务的运行情况。"""
    from casework.stack import Stack

    settings = get_settings()
    stack = Stack(settings)
    services = stack.status()
    data = {
        "services": {s.name: {"running": s.running, "pid": s.pid} for s in services},
        "prefect_api": stack.api_healthy(),
        "ui": settings.prefect_ui_url,
        "home": str(settings.home),
    }
    if as_json:
        emit_json(data)
        return
    for s in services:
        typer.echo(f"{s.name:15} {'运行中' if s.running else '未运行'}  {s.pid or ''}")
    typer.echo(
        f"Prefect API    {'正常' if data['prefect_api'] else '无响应'}  {settings.prefect_ui_url}"
    )
    typer.echo(f"数据目录        {settings.home}")


# ---------------------------------------------------------------- playbooks


@app.command()
@user_errors
def playbooks(as_json: JsonOption = False) -> None:
    """列出所有案件类型。"""
    from casework.playbook import all_playbooks

    books = all_playbooks()
    if as_json:
        emit_json(
            [
                {
                    "slug": b.slug,
                    "title": b.title,
                    "promised_working_days": b.promised_working_days,
                    "fields": [f.key for f in b.fields],
                    "materials": [m.slug for m in b.materials],
                    "agencies": [a.slug for a in b.agencies],
                }
                for b in books.values()
            ]
        )
        return
    for book in books.values():
        typer.echo(f"{book.slug:32} {book.title}（{book.promised_working_days} 个工作日）")
        fields = "，".join(f"{f.key}{'*' if f.required else ''}（{f.label}）" for f in book.fields)
        typer.echo(f"{'':32} 字段：{fields}")


# ---------------------------------------------------------------- intake and feeding a case


def _parse_fields(raw: list[str], slug: str, today: date) -> dict[str, str]:
    from casework.playbook import FieldKind, get_playbook
    from casework.validation import iso_date

    playbook = get_playbook(slug)
    known = {f.key: f for f in playbook.fields}
    values: dict[str, str] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError("field_format", value=item)
        if key not in known:
            raise UserError("unknown_field", key=key, known=", ".join(known))
        spec = known[key]
        if spec.kind is FieldKind.DATE:
            day = iso_date(value, field=key)
            if day > today:
                raise UserError("future_date", field=key, value=value)
            value = day.isoformat()
        elif not value.strip() or len(value) > 200 or any(ord(c) < 32 for c in value):
            raise UserError("field_format", value=item[:60])
        values[key] = value.strip()
    for spec in playbook.fields:
        if spec.required and spec.key not in values:
            raise UserError("missing_field", key=spec.key, label=spec.label)
    return values


@app.command("open")
@user_errors
def open_(
    slug: Annotated[str, typer.Argument(help="案件类型，如 recover-cremation-certificate")],
    name: Annotated[str, typer.Option("--name", help="申请人姓名")],
    id_number: Annotated[str, typer.Option("--id-number", help="申请人身份证号")],
    phone: Annotated[str, typer.Option("--phone", help="申请人电话")],
    email: Annotated[str | None, typer.Option("--email", help="申请人邮箱")] = None,
    address: Annotated[str | None, typer.Option("--address", help="申请人地址")] = None,
    field: Annotated[
        list[str] | None, typer.Option("--field", help="案件字段 KEY=VALUE，可多次")
    ] = None,
    brought: Annotated[
        list[str] | None, typer.Option("--brought", help="受理时已带来的材料代码，可多次")
    ] = None,
    letter_lang: Annotated[
        str, typer.Option("--letter-lang", help="给申请人的告知书和通知的语言：zh 或 en")
    ] = "zh",
    start: Annotated[bool, typer.Option(help="立即启动案件流程")] = True,
    as_json: JsonOption = False,
) -> None:
    """受理一个疑难案件，并启动它的流程。"""
    from casework import validation
    from casework.clock import now, office_date
    from casework.playbook import get_playbook
    from models.cases import ApplicantIn, CaseIntake, open_case
    from models.db import session_scope

    as_of = now()
    today = office_date(as_of)
    playbook = get_playbook(slug)
    intake = CaseIntake(
        playbook=playbook.slug,
        applicant=ApplicantIn(
            name=validation.person_name(name),
            id_number=validation.resident_id(id_number, today=today),
            phone=validation.phone(phone),
            email=validation.email(email) if email else None,
            address=address.strip() if address else None,
        ),
        fields=_parse_fields(field or [], playbook.slug, today),
        brought=brought or [],
        letter_lang=validation.letter_language(letter_lang),
    )
    with session_scope() as session:
        case = open_case(session=session, intake=intake, as_of=as_of)
    result: dict[str, Any] = {"case": case.number, "playbook": playbook.slug, "flow_run_id": None}
    if not as_json:
        say("opened", case=case.number, title=playbook.title, promised=case.promised_by)
    if start:
        result["flow_run_id"] = _start_flow(case.number, playbook.slug, quiet=as_json)
    if as_json:
        emit_json(result)


def _start_flow(number: str, playbook: str, *, quiet: bool) -> str | None:
    from casework.stack import Stack

    settings = get_settings()
    if not Stack(settings).api_healthy():
        if not quiet:
            say("flow_not_started", reason=message("stack_down", state.lang))
        return None
    from tasks.orchestration import start_case_flow

    flow_run_id = start_case_flow(number, playbook)
    if not quiet:
        say("flow_started", url=f"{settings.prefect_ui_url}/runs/flow-run/{flow_run_id}")
    return flow_run_id


def _wake(number: str, note: str, *, quiet: bool = False, as_of: datetime | None = None) -> bool:
    """Tell the case's flow run to re-read the case database."""
    from casework.stack import Stack
    from models.cases import get_case
    from models.db import session_scope

    with session_scope() as session:
        flow_run_id = get_case(session, number).flow_run_id
    if flow_run_id is None or not Stack(get_settings()).api_healthy():
        if not quiet:
            say("flow_not_woken", reason=message("stack_down", state.lang))
        return False
    from tasks.orchestration import wake_case_flow

    woken = wake_case_flow(flow_run_id, note=note, as_of=as_of)
    if not quiet:
        say("flow_woken") if woken else say("flow_not_woken", reason="not suspended")
    return woken


@app.command()
@user_errors
def reply(
    case: Annotated[str, typer.Argument(help="案件编号")],
    agency: Annotated[str, typer.Option("--agency", help="答复单位代码")],
    outcome: Annotated[
        str, typer.Option("--outcome", help="received/forwarded/no-record/needs-info/refused")
    ],
    material: Annotated[str | None, typer.Option("--material", help="材料代码")] = None,
    forward_to: Annotated[str | None, typer.Option("--forward-to", help="转往单位代码")] = None,
    note: Annotated[str, typer.Option("--note", help="备注")] = "",
    via: Annotated[str, typer.Option("--via", help="答复方式：phone/email/post/visit")] = "phone",
    as_of: Annotated[str | None, typer.Option("--as-of", help="补录：答复日期 YYYY-MM-DD")] = None,
    as_json: JsonOption = False,
) -> None:
    """记录单位的答复，案件流程随即继续。"""
    from casework.replies import Reply, ReplyChannel, ReplyOutcome
    from models.cases import record_reply
    from models.db import session_scope

    choices = [o.value for o in ReplyOutcome]
    if outcome not in choices:
        raise UserError("bad_outcome", value=outcome, choices="/".join(choices))
    if len(note) > 2000 or any(ord(c) < 32 and c not in "\n\t" for c in note):
        raise UserError("field_format", value="--note")
    vias = [v.value for v in ReplyChannel]
    if via not in vias:
        raise UserError("bad_reply_via", value=via, choices="/".join(vias))
    moment = parse_as_of(as_of)
    answer = Reply(
        via=ReplyChannel(via),
        agency=agency.strip(),
        outcome=ReplyOutcome(outcome),
        material=material,
        forward_to=forward_to,
        note=note,
    )
    with session_scope() as session:
        contact = record_reply(session=session, number=case, reply=answer, as_of=moment)
    assert contact is not None
    if not as_json:
        say("reply_recorded", agency=agency, outcome=outcome)
    woken = _wake(case, f"reply #{contact.id} recorded at the window", quiet=as_json, as_of=moment)
    if as_json:
        emit_json({"case": case, "contact_id": contact.id, "flow_resumed": woken})


def _trip_reason(value: str) -> Any:
    from models.cases import TripReason

    choices = [r.value for r in TripReason]
    if value not in choices:
        raise UserError("bad_reason", value=value, choices="/".join(choices))
    return TripReason(value)


def _take_in(
    case: str, reason: str, brought: list[str], channel: Any, note: str | None, as_json: bool
) -> None:
    from casework.clock import now
    from models.cases import record_visit
    from models.db import session_scope
    from models.views import case_detail

    if note is not None and (len(note) > 200 or any(ord(c) < 32 for c in note)):
        raise UserError("field_format", value="--note")
    with session_scope() as session:
        record_visit(
            session=session,
            number=case,
            reason=_trip_reason(reason),
            brought=brought,
            as_of=now(),
            channel=channel,
            note=note,
        )
        trips = case_detail(session=session, number=case).trips
    woken = _wake(case, "materials taken in", quiet=True) if brought else False
    if as_json:
        emit_json({"case": case, "trips": trips, "flow_resumed": woken})
    elif channel == "window":
        say("visit_recorded", trips=trips)
    else:
        say("receipt_recorded", trips=trips)


@app.command()
@user_errors
def visit(
    case: Annotated[str, typer.Argument(help="案件编号")],
    reason: Annotated[
        str,
        typer.Option(help="来访原因：material-missing/signature/appointment/collect/other"),
    ] = "material-missing",
    brought: Annotated[
        list[str] | None, typer.Option("--brought", help="带来的材料代码，可多次")
    ] = None,
    note: Annotated[str | None, typer.Option(help="备注")] = None,
    as_json: JsonOption = False,
) -> None:
    """申请人来到窗口：记一次跑动，收下带来的材料。"""
    _take_in(case, reason, brought or [], "window", note, as_json)


@app.command()
@user_errors
def receive(
    case: Annotated[str, typer.Argument(help="案件编号")],
    brought: Annotated[list[str], typer.Option("--brought", help="收到的材料代码，可多次")],
    via: Annotated[str, typer.Option(help="post 邮寄 / home-visit 上门 / email / phone")] = "post",
    note: Annotated[str | None, typer.Option(help="备注")] = None,
    as_json: JsonOption = False,
) -> None:
    """不用申请人跑腿就收到的材料（邮寄、上门、邮件）：不计跑动次数。"""
    if via not in ("post", "home-visit", "email", "phone"):
        raise UserError("bad_via", value=via)
    _take_in(case, "other", brought, via, note, as_json)


@app.command()
@user_errors
def posted(
    case: Annotated[str, typer.Argument(help="案件编号")],
    tracking: Annotated[str, typer.Option("--tracking", help="邮件单号（挂号信/EMS/快递）")],
    letter: Annotated[
        int | None, typer.Option("--letter", help="信函记录号（案件有多封待寄出时必填）")
    ] = None,
    posted_on: Annotated[
        str | None, typer.Option("--posted-on", help="补录：寄出日期 YYYY-MM-DD（默认今天）")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """打印的信函已寄出：登记邮件单号（记入往来记录和审计）。"""
    from casework import validation
    from casework.clock import now
    from models.db import session_scope
    from models.postal import record_posting

    tracking_number = validation.tracking_number(tracking)
    day = validation.iso_date(posted_on, field="--posted-on") if posted_on else None
    with session_scope() as session:
        posting = record_posting(
            session=session,
            number=case,
            tracking_number=tracking_number,
            letter_id=letter,
            posted_on=day,
            as_of=now(),
        )
    # The follow-up clock starts now: let the case run re-plan (and refresh what managers see).
    _wake(posting.case_number, "letter posted", quiet=True)
    if as_json:
        emit_json(posting.model_dump(mode="json"))
        return
    say(
        "letter_posted",
        case=posting.case_number,
        letter=posting.letter_id,
        agency=posting.agency or "-",
        tracking=tracking_number,
    )


@app.command()
@user_errors
def withdraw(
    case: Annotated[str, typer.Argument(help="案件编号")],
    reason: Annotated[
        str, typer.Option("--reason", help="原因（如：已超过法定时限，经主任同意终止）")
    ],
    as_json: JsonOption = False,
) -> None:
    """终止一个无法或无需继续办理的案件（主管决定），记录原因。"""
    from casework.clock import now
    from models.cases import withdraw_case
    from models.db import session_scope

    text = reason.strip()
    if not text or len(text) > 500 or any(ord(c) < 32 for c in text):
        raise UserError("field_format", value="--reason")
    with session_scope() as session:
        withdraw_case(session=session, number=case, reason=text, as_of=now())
    woken = _wake(case, "case withdrawn", quiet=True)
    if as_json:
        emit_json({"case": case, "status": "closed", "flow_resumed": woken})
    else:
        say("withdrawn", case=case)


@app.command()
@user_errors
def appoint(
    case: Annotated[str, typer.Argument(help="案件编号")],
    agency: Annotated[str, typer.Option("--agency", help="预约的单位代码")],
    at: Annotated[str, typer.Option("--at", help="预约时间 YYYY-MM-DD HH:MM（北京时间）")],
    material: Annotated[str | None, typer.Option("--material", help="为哪份材料")] = None,
    escort: Annotated[str | None, typer.Option("--escort", help="陪同的工作人员")] = None,
    pickup: Annotated[bool, typer.Option("--pickup", help="上门接送")] = False,
    applicant_attends: Annotated[bool, typer.Option(help="申请人本人到场（计一次跑动）")] = True,
    as_json: JsonOption = False,
) -> None:
    """预约单位办理时间（可安排工作人员陪同）；前一个工作日自动提醒陪同人员。"""
    from casework.clock import OFFICE_TZ, now
    from models.cases import record_appointment
    from models.db import session_scope

    try:
        moment = datetime.strptime(at.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=OFFICE_TZ)
    except ValueError:
        raise UserError("appointment_format", value=at) from None
    if escort is not None:
        from casework.validation import person_name

        escort = person_name(escort)
    with session_scope() as session:
        contact = record_appointment(
            session=session,
            number=case,
            agency=agency,
            at=moment,
            material=material,
            escort=escort,
            pickup=pickup,
            applicant_attends=applicant_attends,
            as_of=now(),
        )
    woken = _wake(case, f"appointment #{contact.id} booked", quiet=True)
    if as_json:
        emit_json({"case": case, "appointment_id": contact.id, "flow_resumed": woken})
    else:
        say("appointment_booked", agency=agency, at=at)


agency_app = typer.Typer(help="单位：查看、临时添加（如通过114查到的工作单位）。")
app.add_typer(agency_app, name="agency")


@agency_app.command("add")
@user_errors
def agency_add(
    slug: Annotated[str, typer.Argument(help="单位代码，如 employer-zhang-san")],
    name: Annotated[str, typer.Option("--name", help="单位名称")],
    email: Annotated[str | None, typer.Option("--email")] = None,
    phone: Annotated[str | None, typer.Option("--phone")] = None,
    address: Annotated[str | None, typer.Option("--address")] = None,
) -> None:
    """临时添加一个单位（没有邮箱的单位用邮寄信函联系）。"""
    from casework import validation
    from models.cases import add_agency
    from models.db import session_scope

    clean_name = name.strip()
    if not clean_name or len(clean_name) > 100 or any(ord(c) < 32 for c in clean_name):
        raise UserError("field_format", value="--name")
    with session_scope() as session:
        add_agency(
            session=session,
            slug=validation.slug(slug, field="agency"),
            name=clean_name,
            email=validation.email(email) if email else None,
            phone=validation.phone(phone) if phone else None,
            address=address.strip() if address else None,
        )
    say("agency_added", agency=slug)


@agency_app.command("list")
@user_errors
def agency_list(as_json: JsonOption = False) -> None:
    """列出单位。"""
    from sqlmodel import select

    from models.db import session_scope
    from models.tables import Agency

    with session_scope() as session:
        rows = [a.model_dump(exclude={"id"}) for a in session.exec(select(Agency))]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['slug']:32} {row['name']}  {row['email'] or '（邮寄）'}")


@app.command("check-playbooks")
@user_errors
def check_playbooks() -> None:
    """校验所有案件类型文件，并用示例数据渲染它们用到的每个模板。"""
    from tasks.render import render_playbook_samples

    for slug, names in render_playbook_samples().items():
        typer.echo(f"✓ {slug}: {len(names)} 个模板")


# ---------------------------------------------------------------- reading


@app.command()
@user_errors
def show(
    case: Annotated[str, typer.Argument(help="案件编号")],
    full: Annotated[
        str | None,
        typer.Option("--full", help="显示未脱敏的个人信息，须写明理由（记入审计）"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """一个案件的全貌：材料、往来记录、审计记录、文书（个人信息脱敏）。"""
    from casework.clock import now, office_date, office_time
    from models.db import session_scope
    from models.views import case_detail, reveal_applicant

    revealed: dict[str, str | None] | None = None
    with session_scope() as session:
        if full is not None:
            reason = full.strip()
            if not reason or len(reason) > 200 or any(ord(c) < 32 for c in reason):
                raise UserError("reason_needed")
            revealed = reveal_applicant(session=session, number=case, reason=reason, as_of=now())
        detail = case_detail(session=session, number=case)
    if as_json:
        emit_json(
            {**detail.model_dump(mode="json"), **({"applicant": revealed} if revealed else {})}
        )
        return
    if revealed:
        typer.echo("申请人（未脱敏，已记入审计）：" + "  ".join(v for v in revealed.values() if v))
    d = detail
    typer.echo(f"案件 {d.number}  [{d.playbook}]  状态：{d.status}{'  紧急' if d.urgent else ''}")
    typer.echo(f"申请人：{d.applicant_name}  {d.applicant_phone}   跑动次数：{d.trips}")
    typer.echo(
        f"受理：{office_date(d.opened_at)}  承诺办结：{d.promised_by}"
        + (f"  法定时限：{d.deadline_date}" if d.deadline_date else "")
        + (f"  办结：{office_date(d.closed_at)}" if d.closed_at else "")
    )
    if d.escalation_reason and d.status == "escalated":
        typer.echo(f"已上报主管：{d.escalation_reason}")
    if d.outside_remit:
        typer.echo("业务范围外协助办理")
    if d.services:
        typer.echo(
            "服务顺序："
            + " → ".join(f"{sv['name']}{'✓' if sv['completed'] else ''}" for sv in d.services)
        )
    typer.echo("\n材料：")
    for m in d.materials:
        typer.echo(
            f"  - {m.name} [{m.slug}]：{m.status}  当前单位：{m.agency or '-'}"
            f"  已联系：{', '.join(m.tried) or '-'}"
        )
    typer.echo("\n往来记录：")
    for c in d.contacts:
        party = c.agency or ("主管" if c.kind == "escalation" else "申请人")
        posting = ""
        if c.channel == "post" and c.direction == "outbound":
            posting = f"  邮寄单号 {c.tracking_number}" if c.tracking_number else "  待寄出"
        typer.echo(
            f"  #{c.id:<4} {office_time(c.occurred_at)} {c.kind:10} {c.channel:6} {c.direction:8} "
            f"{party:26} {c.outcome or '':10} {c.note or ''}{posting}"
        )
    typer.echo("\n审计记录：")
    for e in d.events:
        change = f"{e.from_status}→{e.to_status} " if e.from_status != e.to_status else ""
        typer.echo(f"  {office_time(e.occurred_at)} {e.kind:18} {change}{e.detail} ({e.actor})")
    if d.emails:
        typer.echo("\n邮件：")
        for email in d.emails:
            mark = {
                "sent": "已发送",
                "failed": "发送失败",
                "pending": "待发送",
                "sending": "发送中",
            }
            typer.echo(
                f"  {mark.get(email['status'], email['status'])}  {email['to']}  {email['subject']}"
                + (f"  ！{email['error']}" if email["status"] == "failed" else "")
            )
    docs = [c.document for c in d.contacts if c.document]
    if docs:
        typer.echo("\n文书：")
        for path in docs:
            typer.echo(f"  {path}")
    if d.flow_run_id:
        typer.echo(f"\nPrefect：{get_settings().prefect_ui_url}/runs/flow-run/{d.flow_run_id}")


@app.command("cases")
@user_errors
def cases_(
    overdue: Annotated[bool, typer.Option("--overdue", help="只看逾期或该催办的")] = False,
    as_json: JsonOption = False,
) -> None:
    """列出案件（申请人姓名已脱敏）。"""
    from casework.clock import now, office_date
    from models.db import session_scope
    from models.views import case_summaries

    with session_scope() as session:
        rows = case_summaries(session=session, today=office_date(now()), overdue_only=overdue)
    if as_json:
        emit_json([r.model_dump(mode="json") for r in rows])
        return
    if not rows:
        say("no_cases")
    for r in rows:
        flags = ("紧急 " if r.urgent else "") + ("逾期" if r.overdue else "")
        typer.echo(
            f"{r.number}  {r.playbook:32} {r.status:18} {r.applicant_name:6} "
            f"承诺 {r.promised_by}  {flags}"
        )


@app.command()
@user_errors
def inbox(
    unmatched: Annotated[bool, typer.Option("--unmatched", help="只看找不到案件的来信")] = False,
    as_json: JsonOption = False,
) -> None:
    """单位回信：已归入案件、待分类的来信；或找不到案件的来信（从不丢弃）。"""
    from sqlmodel import col, select

    from casework.clock import office_time
    from casework.mailserver import read_mailbox
    from models.db import session_scope
    from models.tables import Case, Contact, ContactKind

    rows: list[dict[str, Any]]
    if unmatched:
        rows = [
            {"from": str(m["From"]), "to": str(m["X-Envelope-To"]), "subject": str(m["Subject"])}
            for m in read_mailbox(get_settings().home / "unmatched")
        ]
    else:
        with session_scope() as session:
            found = session.exec(
                select(Contact, Case.number)
                .join(Case, col(Case.id) == col(Contact.case_id))
                .where(Contact.kind == ContactKind.INBOUND_EMAIL)
                .order_by(col(Contact.id).desc())
            ).all()
            rows = [
                {
                    "case": number,
                    "received": office_time(contact.occurred_at),
                    "agency": contact.agency_slug,
                    "in_reply_to": contact.in_reply_to,
                    "subject": contact.note,
                }
                for contact, number in found
            ]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        say("no_cases")
    for row in rows:
        typer.echo("  ".join(str(v) for v in row.values() if v is not None))


@app.command()
@user_errors
def mailbox(as_json: JsonOption = False) -> None:
    """本地邮件服务器收到的邮件（演示和测试用）。"""
    from casework.mailserver import read_mailbox

    messages = read_mailbox(get_settings().mailbox_dir)
    rows = [{"to": m["To"], "subject": m["Subject"], "date": m["Date"]} for m in messages]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['to']:36} {row['subject']}")


@app.command("poll-mailbox")
@user_errors
def poll_mailbox(as_json: JsonOption = False) -> None:
    """收取单位邮箱（IMAP）中的未读回信并归入案件（巡检每15分钟也会收取）。"""
    from tasks.inbox import poll_mailbox as poll

    report = poll(get_settings())
    if as_json:
        emit_json(report.model_dump())
        return
    say(
        "mailbox_polled",
        fetched=report.fetched,
        filed=len(report.filed),
        cases=f"（{'、'.join(sorted(set(report.filed)))}）" if report.filed else "",
        unmatched=report.unmatched,
        failed=message("mailbox_failed", state.lang, count=report.failed) if report.failed else "",
    )


@app.command()
@user_errors
def relay(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="按哪一天计算重试时间 YYYY-MM-DD（默认现在）")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """立即发送外发邮件箱中到期的邮件（邮件服务器恢复后使用；巡检每15分钟也会发送）。"""
    from tasks.send import relay_pending

    results = relay_pending(as_of=parse_as_of(as_of))
    counts = {
        "sent": sum(r.delivered for r in results),
        "retry": sum(not r.delivered and not r.permanent for r in results),
        "failed": sum(r.permanent for r in results),
    }
    if as_json:
        emit_json(counts)
    else:
        say("relay_done", **counts)


@app.command()
@user_errors
def chase(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="按哪一天巡检 YYYY-MM-DD（默认今天）")
    ] = None,
    wait: Annotated[bool, typer.Option(help="等被唤醒的案件流程处理完")] = False,
    as_json: JsonOption = False,
) -> None:
    """巡检：到期未答复的发催办或上报，补启动缺失的流程，发送待发邮件。"""
    from casework.clock import now
    from casework.stack import Stack

    moment = parse_as_of(as_of)
    if not Stack(get_settings()).api_healthy():
        raise UserError("stack_down")
    from models.cases import get_case
    from models.db import session_scope
    from tasks.chase import sweep
    from tasks.orchestration import wait_until_settled

    started_at = now()
    report = sweep(moment)
    if wait:
        for number in [*report.woken, *report.started]:
            with session_scope() as session:
                run_id = get_case(session, number).flow_run_id
            if run_id:
                wait_until_settled(run_id, after=started_at)
    if as_json:
        emit_json(report.model_dump(mode="json"))
    else:
        say(
            "chase_done",
            as_of=moment.date(),
            woken=len(report.woken),
            started=len(report.started),
            sent=report.emails_sent,
        )


@app.command()
@user_errors
def find(
    id_number: Annotated[str, typer.Option("--id-number", help="申请人身份证号")],
    as_json: JsonOption = False,
) -> None:
    """按身份证号查找申请人的案件（库中只存加密后的号码和不可逆的检索值）。"""
    from casework import validation
    from casework.clock import now, office_date
    from models.cases import cases_of_person
    from models.db import session_scope

    number = validation.resident_id(id_number, today=office_date(now()))
    with session_scope() as session:
        found = cases_of_person(session=session, id_number=number)
    if as_json:
        emit_json(found)
    elif not found:
        say("no_cases")
    else:
        typer.echo("\n".join(found))


@app.command()
@user_errors
def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只列出将被清除的案件")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="按哪一天计算 YYYY-MM-DD")] = None,
    as_json: JsonOption = False,
) -> None:
    """清除办结超过保存期限的案件中的个人信息（姓名脱敏，证件号、电话、邮件、文书删除）。"""
    from casework.clock import now, start_of_office_day
    from models.db import session_scope
    from models.retention import due_for_purge, purge_case

    settings = get_settings()
    try:
        moment = start_of_office_day(date.fromisoformat(as_of)) if as_of else now()
    except ValueError:
        raise UserError("as_of_format", value=as_of) from None
    with session_scope() as session:
        numbers = due_for_purge(
            session=session, as_of=moment, retention_days=settings.retention_days
        )
    if not dry_run:
        for number in numbers:
            with session_scope() as session:  # one case, one transaction
                purge_case(
                    session=session,
                    number=number,
                    letters_dir=settings.letters_dir,
                    as_of=moment,
                )
    if as_json:
        emit_json({"dry_run": dry_run, "cases": numbers})
    else:
        say(
            "purge_dry_run" if dry_run else "purged",
            count=len(numbers),
            days=settings.retention_days,
            cases=", ".join(numbers) or "—",
        )


@app.command("rotate-keys")
@user_errors
def rotate_keys() -> None:
    """用最新的数据密钥重新加密所有身份证号和电话（轮换密钥时使用）。"""
    from models.cases import rotate_encryption
    from models.db import session_scope

    with session_scope() as session:
        count = rotate_encryption(session=session)
    say("keys_rotated", count=count)


@app.command()
@user_errors
def board(as_json: JsonOption = False) -> None:
    """每日看板：在办、逾期、上报、30天内到期、各单位答复情况。"""
    from casework.clock import now, office_date
    from models.db import session_scope
    from models.reports import daily_board
    from tasks.reporting import daily_board_markdown

    with session_scope() as session:
        figures = daily_board(session=session, today=office_date(now()))
    if as_json:
        emit_json(figures.model_dump(mode="json"))
    else:
        typer.echo(daily_board_markdown(figures))


@app.command()
@user_errors
def report(
    month: Annotated[str, typer.Option("--month", help="月份 YYYY-MM")],
    fmt: Annotated[str, typer.Option("--format", help="md / csv / xlsx")] = "md",
    output: Annotated[str | None, typer.Option("--output", help="写入文件（xlsx 必须）")] = None,
) -> None:
    """月度报告：服务人数、帮办户数、代取材料、跑动次数、办结用时、范围外协助，及每周图表。"""
    from pathlib import Path

    from models.db import session_scope
    from models.reports import month_bounds, monthly_report
    from tasks.report import write_monthly_report
    from tasks.reporting import monthly_csv, monthly_markdown, monthly_xlsx

    try:
        month_bounds(month)
    except ValueError:
        raise UserError("bad_month", value=month) from None
    if fmt not in ("md", "csv", "xlsx"):
        raise UserError("bad_format", value=fmt)
    with session_scope() as session:
        figures = monthly_report(session=session, month=month)
    if figures.empty:
        say("no_data", month=month)
        return
    _, files = write_monthly_report(month)
    if fmt == "xlsx":
        target = Path(output) if output else files[1]
        monthly_xlsx(figures, target)
        typer.echo(str(target))
    else:
        text = monthly_markdown(figures) if fmt == "md" else monthly_csv(figures)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            typer.echo(output)
        else:
            typer.echo(text)
    say("report_files", files=", ".join(str(f) for f in files))


@app.command()
@user_errors
def demo(
    only: Annotated[
        list[str] | None, typer.Option("--only", help="只演示这些案件类型，可多次")
    ] = None,
) -> None:
    """演示：六个真实故事（沈女士补办火化证明等）在本地服务上完整跑一遍。"""
    from casework.demo import run_demo
    from casework.playbook import get_playbook

    for slug in only or []:
        get_playbook(slug)
    run_demo(only=only)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
