"""The `casework` command's shared parts: the Typer app, language, one-line errors, JSON."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError

from casework.clock import now, office_date, start_of_office_day
from casework.errors import UserError
from casework.messages import label, message
from casework.playbook import PlaybookError, UnknownPlaybook
from casework.prefect_env import apply_prefect_env
from casework.senders import printable
from casework.settings import Settings, get_settings
from usecases import accounts
from usecases.accounts import Actor


def _settings_or_exit() -> Settings:
    """The settings, or one line naming each mistyped CASEWORK_* variable and exit code 2."""
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
    acting_as: str | None = None  # --as / CASEWORK_USER: the account the command acts as


state = _State()

JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON（供脚本使用）")]
CaseNumber = Annotated[str, typer.Argument(help="案件编号，如 HC-2026-0001")]


@app.callback()
def _main(
    lang: Annotated[
        str | None, typer.Option("--lang", help="zh 或 en（默认 CASEWORK_LANG）")
    ] = None,
    acting_as: Annotated[
        str | None,
        typer.Option(
            "--as",
            envvar="CASEWORK_USER",
            help="以哪个工作台账号办理（记入审计、受理时为首问责任人）；不填为“命令行”",
        ),
    ] = None,
) -> None:
    chosen = lang or get_settings().lang
    state.lang = "en" if chosen.lower().startswith("en") else "zh"
    state.acting_as = acting_as


def actor() -> Actor:
    """The person this command acts for: the --as account, or the command line itself."""
    return accounts.command_line_actor(state.acting_as)


def echo(text: str, *, err: bool = False) -> None:
    """A line for the terminal: subjects, names and notes come from outside (an email's
    subject, a form), so no control character reaches the clerk's terminal."""
    typer.echo(printable(text), err=err)


def say(code: str, **params: object) -> None:
    echo(message(code, state.lang, **params))


def warn(code: str, **params: object) -> None:
    """A line to stderr that does not end the command (a warning to read first)."""
    echo(message(code, state.lang, **params), err=True)


def fail(code: str, **params: object) -> None:
    echo(message(code, state.lang, **params), err=True)
    raise typer.Exit(2)


def words(group: str, code: object) -> str:
    """A code as the person reads it, in their language."""
    return label(group, code, state.lang)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """A user's mistake becomes one line in their language and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
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
    """`--as-of YYYY-MM-DD` as the start of that office day (never before now), else now."""
    if value is None:
        return now()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise UserError("as_of_format", value=value) from None
    return max(now(), start_of_office_day(day))


def parse_answer_date(value: str | None) -> datetime:
    """`--as-of YYYY-MM-DD` for something that happened: a past day is back-filled (09:00 that
    day, as the audit trail will show); today or a later day is as `parse_as_of`."""
    if value is None:
        return now()
    moment = parse_as_of(value)
    day = date.fromisoformat(value)
    if day < office_date(now()):
        return start_of_office_day(day)
    return moment


def report_run(run: Any, *, quiet: bool, starting: bool = False) -> None:
    """Say what happened to the case's flow run (started, woken, or left to the sweep)."""
    if quiet or run is None:
        return
    reason = "stack_down" if run.stack_down else "prefect_busy" if run.busy else None
    if reason and starting:
        say("flow_not_started", reason=message(reason, state.lang))
    elif reason:
        say("flow_not_woken", reason=message(reason, state.lang))
    elif run.started:
        say("flow_started", url=run.flow_run_url)
    elif run.woken:
        say("flow_woken")
    else:
        say("flow_not_woken", reason=message("not_suspended", state.lang))
