"""The workbench's pages. Every page is rendered on the server from templates/web/; every form
carries the session's CSRF token; every action goes through the application layer, signed
with the account's name. A user's mistake is a page in Chinese, never a traceback."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from casework.clock import now, office_date
from casework.errors import UserError
from casework.links import status_token
from casework.messages import fill, label, message
from casework.settings import get_settings
from casework.templating import environment
from usecases import accounts, reply_links, workbench
from usecases import agencies as agencies_usecases
from usecases import intake as intake_usecases
from usecases.accounts import AccountView
from web.sessions import COOKIE, RateLimit, Session
from web.words import LANG_COOKIE, LANGUAGES, PAGE_MESSAGES, translator

app = FastAPI(title="Casework 工作台", docs_url=None, redoc_url=None, openapi_url=None)
# The workbench's clock: every page and action reads the time from it, so a test can set the
# office's day (`app.state.clock = lambda: day`) instead of living on the real calendar.
app.state.clock = now
LOGIN_FAILURES = RateLimit(limit=5, window=15 * 60)
CODE_FAILURES = RateLimit(limit=10, window=15 * 60)
WINDOW_OUTCOMES = ("forwarded", "received", "no-record", "needs-info", "refused")


class NotSignedIn(Exception):
    """No valid session: the page sends the person to sign in."""


class CsrfFailed(Exception):
    """A form without this session's token: refused with 403, nothing recorded."""


def _now(request: Request) -> datetime:
    """The current instant by the workbench's clock."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


def _session(request: Request) -> Session | None:
    return Session.from_cookie(request.cookies.get(COOKIE))


def _lang(request: Request) -> str:
    """Chinese unless the person chose English with the link in the header."""
    chosen = request.cookies.get(LANG_COOKIE, "zh")
    return chosen if chosen in LANGUAGES else "zh"


def _t(request: Request) -> Callable[..., str]:
    return translator(_lang(request))


def _page(
    request: Request,
    template: str,
    *,
    status: int = 200,
    session: Session | None = None,
    **context: Any,
) -> HTMLResponse:
    settings = get_settings()
    session = session or _session(request) or Session.anonymous(settings.web_session_hours)
    viewer = accounts.who(session.username) if session.username else None
    lang = _lang(request)
    html = (
        environment()
        .get_template(f"web/{template}")
        .render(
            csrf=session.csrf,
            viewer=viewer,
            office_name=viewer.office_name if viewer else settings.office_name,
            label=lambda group, code: label(group, code, lang),
            lang=lang,
            _=translator(lang),
            colon=": " if lang == "en" else "：",
            percent=lambda share: "—" if share is None else f"{share * 100:.0f}%",
            here=request.url.path,
            today=office_date(_now(request)),
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status)
    response.set_cookie(
        COOKIE,
        session.cookie(),
        httponly=True,
        samesite="strict",
        path="/",
        max_age=int(settings.web_session_hours * 3600),
    )
    return response


def _viewer(request: Request) -> tuple[Session, AccountView]:
    session = _session(request)
    if session is None or session.username is None:
        raise NotSignedIn
    viewer = accounts.who(session.username)
    if viewer is None:
        raise NotSignedIn
    return session, viewer


def _check_csrf(request: Request, token: str) -> Session:
    session = _session(request)
    if session is None or not session.csrf_ok(token):
        raise CsrfFailed
    return session


@app.exception_handler(NotSignedIn)
async def _to_login(request: Request, exc: NotSignedIn) -> Response:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


@app.exception_handler(CsrfFailed)
async def _forged(request: Request, exc: CsrfFailed) -> Response:
    return _page(
        request,
        "error.html.j2",
        status=403,
        title=_t(request)("请求无效"),
        text=_t(request)("页面已过期或请求来源不明，未做任何记录。请刷新页面后重试。"),
    )


def _words(exc: UserError, request: Request) -> str:
    """A user's mistake in words, in the page's language: the CLI's catalogue, except where
    the CLI's wording names an option to type."""
    lang = _lang(request)
    if exc.code in PAGE_MESSAGES:
        zh, en = PAGE_MESSAGES[exc.code]
        return fill(en if lang == "en" else zh, **exc.params)
    return message(exc.code, lang, **exc.params)


def _no_case(request: Request, exc: UserError, session: Session | None = None) -> Response:
    """Not found, or another office's: the same 404, so nobody can probe across offices."""
    return _page(
        request,
        "error.html.j2",
        status=404,
        session=session,
        title=_t(request)("找不到案件"),
        text=_words(exc, request),
    )


def _agencies() -> list[tuple[str, str]]:
    return [(a.slug, a.name) for a in agencies_usecases.list_agencies()]


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


# -- signing in ------------------------------------------------------------------------------


@app.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    return _page(request, "login.html.j2", next=next if next.startswith("/") else "/", error=None)


@app.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf: str = Form(""),
    next: str = Form("/"),
) -> Response:
    _check_csrf(request, csrf)
    keys = (f"user:{username.strip().lower()}", f"ip:{_client(request)}")
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    if LOGIN_FAILURES.blocked(*keys):
        error = message("login_too_many", _lang(request), minutes=15)
        return _page(request, "login.html.j2", status=429, next=target, error=error)
    try:
        viewer = accounts.sign_in(username=username, password=password)
    except UserError as exc:
        LOGIN_FAILURES.failed(*keys)
        error = _words(exc, request)
        return _page(request, "login.html.j2", status=401, next=target, error=error)
    session = Session.signed_in(viewer.username, get_settings().web_session_hours)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, session.cookie(), httponly=True, samesite="strict", path="/")
    return response


@app.get("/lang/{code}")
def choose_language(code: str, next: str = "/") -> Response:
    """The header's 中文 / English link: remembered in a cookie for a year."""
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if code in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", path="/", httponly=True
        )
    return response


@app.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    _check_csrf(request, csrf)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# -- the clerk's pages ----------------------------------------------------------------------


@app.get("/", response_class=HTMLResponse)
def my_cases(request: Request) -> Response:
    session, viewer = _viewer(request)
    moment = _now(request)
    every = workbench.my_cases(viewer=viewer, as_of=moment)
    kind = request.query_params.get("type", "")
    status = request.query_params.get("status", "")
    clerk = request.query_params.get("clerk", "")
    rows = [
        r
        for r in every
        if (not kind or r.playbook == kind)
        and (not status or r.status == status)
        and (not clerk or r.taken_by == clerk)
    ]
    # Escalated and overdue first, then the newest.
    rows.sort(key=lambda r: (r.status != "escalated", not r.overdue, r.status == "closed"))
    return _page(
        request,
        "cases.html.j2",
        session=session,
        rows=rows,
        kind=kind,
        status_filter=status,
        clerk=clerk,
        clerks=sorted({r.taken_by for r in every if r.taken_by}),
        waiting=workbench.waiting_on(rows=every, as_of=moment),
        types=sorted({(r.playbook, r.playbook_title) for r in every}),
        statuses=sorted({r.status for r in every}),
    )


@app.get("/cases/{case_number}", response_class=HTMLResponse)
def case_page(
    request: Request, case_number: str, done: str | None = None, opened: str | None = None
) -> Response:
    session, viewer = _viewer(request)
    try:
        detail = workbench.case_page(viewer=viewer, case_number=case_number, as_of=_now(request))
    except UserError as exc:
        return _no_case(request, exc, session)
    awaited = workbench.awaited_agencies(viewer=viewer, case_number=case_number)
    settings = get_settings()
    return _page(
        request,
        "case.html.j2",
        session=session,
        case=detail,
        awaited=awaited,
        outcomes=WINDOW_OUTCOMES,
        agencies=_agencies(),
        done=done,
        opened=opened,
        error=None,
        form={},
        status_url=f"{settings.web_url}/s/{case_number}/{status_token(case_number)}",
    )


@app.post("/cases/{case_number}/answer")
def record_answer(
    request: Request,
    case_number: str,
    csrf: str = Form(""),
    agency: str = Form(""),
    outcome: str = Form(""),
    forward_to: str = Form(""),
    note: str = Form(""),
    via: str = Form("phone"),
) -> Response:
    _check_csrf(request, csrf)
    session, viewer = _viewer(request)
    try:
        recorded = workbench.record_answer(
            viewer=viewer,
            case_number=case_number,
            agency=agency,
            outcome=outcome,
            forward_to=forward_to or None,
            note=note or None,
            via=via,
            as_of=_now(request),
        )
    except UserError as exc:
        if exc.code == "unknown_case":
            return _no_case(request, exc, session)
        detail = workbench.case_page(viewer=viewer, case_number=case_number, as_of=_now(request))
        awaited = workbench.awaited_agencies(viewer=viewer, case_number=case_number)
        return _page(
            request,
            "case.html.j2",
            status=400,
            session=session,
            case=detail,
            awaited=awaited,
            outcomes=WINDOW_OUTCOMES,
            agencies=_agencies(),
            done=None,
            opened=None,
            error=_words(exc, request),
            form={"agency": agency, "outcome": outcome, "forward_to": forward_to, "note": note},
            status_url="",
        )
    outcome_words = label("outcome", recorded.outcome, _lang(request))
    done = f"{recorded.agency_name}：{outcome_words}"
    return RedirectResponse(f"/cases/{case_number}?done={quote(done)}", status_code=303)


def _case_action(request: Request, case_number: str, csrf: str, act: Any) -> Response:
    """Run one action of the case page; back to the page with what was done, or the error."""
    _check_csrf(request, csrf)
    session, viewer = _viewer(request)
    try:
        done = act(viewer)
    except UserError as exc:
        if exc.code == "unknown_case":
            return _no_case(request, exc, session)
        status = 403 if exc.code == "managers_only" else 400
        return _page(
            request,
            "error.html.j2",
            status=status,
            session=session,
            title=_t(request)("未能记录"),
            text=_words(exc, request),
            back=f"/cases/{case_number}",
        )
    if isinstance(done, Response):
        return done
    return RedirectResponse(f"/cases/{case_number}?done={quote(done)}", status_code=303)


@app.post("/cases/{case_number}/visit")
async def take_in(request: Request, case_number: str) -> Response:
    data = await request.form()
    # In a worker thread, as FastAPI runs the plain `def` routes: waking the case's run may
    # wait seconds for it to suspend, and the event loop serves every other clerk meanwhile.
    return await run_in_threadpool(
        _case_action,
        request,
        case_number,
        str(data.get("csrf", "")),
        lambda viewer: (
            workbench.take_in(
                viewer=viewer,
                case_number=case_number,
                brought=[str(v) for v in data.getlist("brought")],
                reason=str(data.get("reason", "material-missing")),
                channel=str(data.get("channel", "window")),
                note=str(data.get("note", "")) or None,
                as_of=_now(request),
            )
            and _t(request)("收到材料／来访")
        ),
    )


@app.post("/cases/{case_number}/note")
def add_note(
    request: Request, case_number: str, csrf: str = Form(""), text: str = Form("")
) -> Response:
    def note(viewer: AccountView) -> str:
        workbench.add_note(viewer=viewer, case_number=case_number, text=text, as_of=_now(request))
        return _t(request)("备注已记录")

    return _case_action(request, case_number, csrf, note)


@app.post("/cases/{case_number}/appointment")
def book_appointment(
    request: Request,
    case_number: str,
    csrf: str = Form(""),
    agency: str = Form(""),
    at: str = Form(""),
    escort: str = Form(""),
    pickup: str = Form(""),
) -> Response:
    def book(viewer: AccountView) -> str:
        booked = workbench.book_appointment(
            viewer=viewer,
            case_number=case_number,
            agency=agency,
            at=at,
            escort=escort,
            pickup=pickup == "on",
            as_of=_now(request),
        )
        at_words = f"{booked.at:%Y-%m-%d %H:%M}"
        return _t(request)("已预约：{agency} {at}", agency=booked.agency_name, at=at_words)

    return _case_action(request, case_number, csrf, book)


@app.get("/cases/{case_number}/letters/{contact_id}")
def letter(request: Request, case_number: str, contact_id: int) -> Response:
    session, viewer = _viewer(request)
    try:
        path = workbench.letter(viewer=viewer, case_number=case_number, contact_id=contact_id)
    except UserError as exc:
        return _page(
            request,
            "error.html.j2",
            status=404,
            session=session,
            title=_t(request)("找不到信函"),
            text=_words(exc, request),
        )
    media = "application/pdf" if path.suffix == ".pdf" else "text/plain; charset=utf-8"
    return Response(
        path.read_bytes(),
        media_type=media,
        headers={"Content-Disposition": f'inline; filename="{path.name}"'},
    )


@app.post("/cases/{case_number}/posting")
def record_posting(
    request: Request, case_number: str, csrf: str = Form(""), tracking: str = Form("")
) -> Response:
    return _case_action(
        request,
        case_number,
        csrf,
        lambda viewer: _t(request)(
            "信函已寄出：{tracking}",
            tracking=workbench.record_posting(
                viewer=viewer, case_number=case_number, tracking=tracking, as_of=_now(request)
            ),
        ),
    )


@app.post("/cases/{case_number}/withdraw")
def withdraw(
    request: Request, case_number: str, csrf: str = Form(""), reason: str = Form("")
) -> Response:
    def stop(viewer: AccountView) -> str:
        workbench.withdraw(
            viewer=viewer, case_number=case_number, reason=reason, as_of=_now(request)
        )
        return _t(request)("案件已终止办理")

    return _case_action(request, case_number, csrf, stop)


@app.post("/cases/{case_number}/reveal")
def reveal(
    request: Request, case_number: str, csrf: str = Form(""), reason: str = Form("")
) -> Response:
    def show(viewer: AccountView) -> Response:
        revealed = workbench.reveal(
            viewer=viewer, case_number=case_number, reason=reason, as_of=_now(request)
        )
        return _page(request, "revealed.html.j2", case_number=case_number, revealed=revealed)

    return _case_action(request, case_number, csrf, show)


@app.post("/cases/{case_number}/extend")
def extend(
    request: Request,
    case_number: str,
    csrf: str = Form(""),
    days: str = Form(""),
    reason: str = Form(""),
) -> Response:
    def approve(viewer: AccountView) -> str:
        done = workbench.extend(
            viewer=viewer, case_number=case_number, days=days, reason=reason, as_of=_now(request)
        )
        return _t(request)(
            "已延期{days}个工作日，应办结日改为{due}", days=done.days, due=done.due_on
        )

    return _case_action(request, case_number, csrf, approve)


@app.post("/cases/{case_number}/second-notice")
def second_notice(
    request: Request,
    case_number: str,
    csrf: str = Form(""),
    item: str = Form(""),
    reason: str = Form(""),
) -> Response:
    def notify(viewer: AccountView) -> str:
        done = workbench.second_notice(
            viewer=viewer, case_number=case_number, item=item, reason=reason, as_of=_now(request)
        )
        return _t(request)("已二次告知：{item}", item=done.item)

    return _case_action(request, case_number, csrf, notify)


@app.post("/cases/{case_number}/rating")
def rating(
    request: Request,
    case_number: str,
    csrf: str = Form(""),
    level: str = Form(""),
    comment: str = Form(""),
    channel: str = Form("window"),
) -> Response:
    def rate(viewer: AccountView) -> str:
        done = workbench.rate(
            viewer=viewer,
            case_number=case_number,
            level=level,
            comment=comment,
            channel=channel,
            as_of=_now(request),
        )
        return _t(request)("已记录评价：{words}", words=label("rating", done.level, _lang(request)))

    return _case_action(request, case_number, csrf, rate)


@app.post("/cases/{case_number}/follow-up")
def follow_up(
    request: Request, case_number: str, csrf: str = Form(""), note: str = Form("")
) -> Response:
    def call(viewer: AccountView) -> str:
        workbench.follow_up(viewer=viewer, case_number=case_number, note=note, as_of=_now(request))
        return _t(request)("已记录回访")

    return _case_action(request, case_number, csrf, call)


@app.get("/cases/{case_number}/receipt.pdf")
def receipt_pdf(request: Request, case_number: str) -> Response:
    return _printed(request, case_number, workbench.receipt_pdf, "receipt")


@app.get("/board", response_class=HTMLResponse)
def board(request: Request) -> Response:
    session, viewer = _viewer(request)
    try:
        figures = workbench.board(viewer=viewer, as_of=_now(request))
    except UserError as exc:
        return _page(
            request,
            "error.html.j2",
            status=403,
            session=session,
            title=_t(request)("看板"),
            text=_words(exc, request),
        )
    numbers = sorted(
        {e.case_number for e in figures.escalations}
        | {c.case_number for c in figures.overdue_contacts}
        | set(figures.overdue_cases)
    )
    return _page(
        request, "board.html.j2", session=session, board=figures, runs=workbench.run_links(numbers)
    )


def _printed(request: Request, case_number: str, print_it: Any, name: str) -> Response:
    """A letter printed now for the window (the notice, the receipt), shown in the browser."""
    _, viewer = _viewer(request)
    try:
        pdf = print_it(viewer=viewer, case_number=case_number, as_of=_now(request))
    except UserError as exc:
        return _no_case(request, exc)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{case_number}-{name}.pdf"'},
    )


@app.get("/cases/{case_number}/notice.pdf")
def notice_pdf(request: Request, case_number: str) -> Response:
    return _printed(request, case_number, workbench.notice_pdf, "notice")


@app.get("/intake", response_class=HTMLResponse)
def intake_choice(request: Request) -> Response:
    session, _ = _viewer(request)
    return _page(
        request,
        "intake_choice.html.j2",
        session=session,
        playbooks=[(p.slug, p.title) for p in intake_usecases.playbooks()],
    )


def _intake_page(
    request: Request,
    session: Session,
    slug: str,
    *,
    status: int = 200,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    try:
        spec = workbench.intake_spec(slug)
    except UserError as exc:
        return _page(
            request,
            "error.html.j2",
            status=404,
            session=session,
            title=_t(request)("没有这类事项"),
            text=_words(exc, request),
        )
    return _page(
        request,
        "intake.html.j2",
        status=status,
        session=session,
        spec=spec,
        error=error,
        errors=errors or {},
        form=form or {},
        intake_key=(form or {}).get("intake_key") or secrets.token_urlsafe(16),
    )


@app.get("/intake/{slug}", response_class=HTMLResponse)
def intake_form(request: Request, slug: str) -> Response:
    session, _ = _viewer(request)
    return _intake_page(request, session, slug)


# Which form field a validation error belongs next to (by the message's code).
FIELD_OF_ERROR = {
    "id_format": "id_number",
    "id_region": "id_number",
    "id_birthdate": "id_number",
    "id_check_digit": "id_number",
    "id_future": "id_number",
    "digits_ascii": "id_number",
    "phone": "phone",
    "email": "email",
    "name": "name",
}


@app.post("/intake/{slug}")
async def intake_submit(request: Request, slug: str) -> Response:
    data = await request.form()
    _check_csrf(request, str(data.get("csrf", "")))
    session, viewer = _viewer(request)
    values = {k: str(v) for k, v in data.items() if isinstance(v, str)}
    try:
        spec = workbench.intake_spec(slug)
        form = intake_usecases.IntakeForm(
            playbook=spec.playbook,
            name=values.get("name", ""),
            id_number=values.get("id_number", ""),
            phone=values.get("phone", ""),
            email=values.get("email") or None,
            address=values.get("address") or None,
            fields={
                f.key: values[f"field_{f.key}"]
                for f in spec.fields
                if values.get(f"field_{f.key}", "").strip()
            },
            brought=[str(v) for v in data.getlist("brought")],
            intake_key=values.get("intake_key") or None,
        )
        opened = workbench.open_case(viewer=viewer, form=form, as_of=_now(request))
    except UserError as exc:
        field = FIELD_OF_ERROR.get(exc.code) or (
            f"field_{exc.params['key']}" if "key" in exc.params else None
        )
        text = _words(exc, request)
        return _intake_page(
            request,
            session,
            slug,
            status=400,
            error=None if field else text,
            errors={field: text} if field else {},
            form=values,
        )
    return RedirectResponse(f"/cases/{opened.case_number}?opened=1", status_code=303)


# -- agencies' reply pages (no account) ------------------------------------------------------


@app.get("/r", response_class=HTMLResponse)
def reply_code_form(request: Request) -> Response:
    return _page(request, "reply_code.html.j2", error=None)


@app.post("/r")
def reply_code_typed(request: Request, code: str = Form(""), csrf: str = Form("")) -> Response:
    _check_csrf(request, csrf)
    return RedirectResponse(f"/r/{quote(code.strip()[:20])}", status_code=303)


def _link_error(request: Request, exc: UserError, status: int = 400) -> Response:
    return _page(
        request,
        "error.html.j2",
        status=status,
        title=_t(request)("无法答复"),
        text=_words(exc, request),
    )


@app.get("/r/{code}", response_class=HTMLResponse)
def reply_page(request: Request, code: str) -> Response:
    ip = f"ip:{_client(request)}"
    if CODE_FAILURES.blocked(ip):
        return _link_error(request, UserError("link_too_many", minutes=15), 429)
    try:
        page = reply_links.open_reply_page(code=code, as_of=_now(request))
    except UserError as exc:
        if exc.code == "link_unknown":
            CODE_FAILURES.failed(ip)
        return _link_error(request, exc, 404 if exc.code == "link_unknown" else 410)
    return _page(request, "reply.html.j2", page=page, error=None, form={})


@app.post("/r/{code}")
def reply_answer(
    request: Request,
    code: str,
    csrf: str = Form(""),
    outcome: str = Form(""),
    forward_to: str = Form(""),
    forward_name: str = Form(""),
    needs_what: str = Form(""),
) -> Response:
    _check_csrf(request, csrf)
    try:
        recorded = reply_links.answer_on_reply_page(
            code=code,
            outcome=outcome,
            as_of=_now(request),
            forward_to=forward_to or None,
            forward_name=forward_name or None,
            needs_what=needs_what or None,
        )
    except UserError as exc:
        if exc.code.startswith("link_"):
            return _link_error(request, exc, 410)
        page = reply_links.open_reply_page(code=code, as_of=_now(request))
        form = {"outcome": outcome, "forward_name": forward_name, "needs_what": needs_what}
        return _page(
            request, "reply.html.j2", status=400, page=page, form=form, error=_words(exc, request)
        )
    return _page(request, "reply_done.html.j2", recorded=recorded)


# -- the citizen's status page ---------------------------------------------------------------


@app.post("/s/{case_number}/{token}")
def citizen_rates(
    request: Request,
    case_number: str,
    token: str,
    csrf: str = Form(""),
    level: str = Form(""),
    comment: str = Form(""),
) -> Response:
    _check_csrf(request, csrf)
    try:
        workbench.citizen_rates(
            case_number=case_number, token=token, level=level, comment=comment, as_of=_now(request)
        )
    except UserError as exc:
        if exc.code == "status_link_unknown":
            return _page(
                request,
                "error.html.j2",
                status=404,
                title=_t(request)("查询链接无效"),
                text=_words(exc, request),
            )
        status = workbench.citizen_status(case_number=case_number, token=token, as_of=_now(request))
        return _page(
            request,
            "status.html.j2",
            status=400,
            status_view=status,
            error=_words(exc, request),
            thanked=False,
        )
    return RedirectResponse(f"/s/{case_number}/{token}?rated=1", status_code=303)


@app.get("/s/{case_number}/{token}", response_class=HTMLResponse)
def status_page(request: Request, case_number: str, token: str) -> Response:
    try:
        status = workbench.citizen_status(case_number=case_number, token=token, as_of=_now(request))
    except UserError as exc:
        return _page(
            request,
            "error.html.j2",
            status=404,
            title=_t(request)("查询链接无效"),
            text=_words(exc, request),
        )
    return _page(
        request,
        "status.html.j2",
        status_view=status,
        error=None,
        thanked=request.query_params.get("rated") == "1",
    )
