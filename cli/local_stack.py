"""`casework up`, `down`, `status`: the embedded local stack."""

from __future__ import annotations

import typer

from casework.clock import now, office_time
from casework.messages import label, message
from casework.settings import get_settings
from cli.app import JsonOption, app, emit_json, say, state, user_errors
from stack.processes import Stack
from usecases import accounts, office, runs


@app.command()
@user_errors
def up() -> None:
    """启动本地服务：Prefect 服务器、工作进程、本地邮件服务器。"""
    settings = get_settings()
    Stack(settings).up()
    say("stack_up", ui=settings.run_view_url)
    say("workbench_at", url=settings.web_url)
    say("ui_password", path=settings.home / "secrets" / "prefect-auth")
    typer.echo(f"SMTP: {settings.smtp_host}:{settings.smtp_port} → {settings.mailbox_dir}")
    _warn_about_the_office()


def _warn_about_the_office() -> None:
    """What a new office must still do before letters and the workbench serve anyone."""
    if not accounts.list_offices():
        say("no_offices_yet")
    for name, url in office.loopback_public_urls():
        say("public_url_loopback", office=name, url=url)


@app.command()
def down() -> None:
    """停止本地服务。"""
    Stack(get_settings()).down()
    say("stack_down_done")


@app.command()
def status(as_json: JsonOption = False) -> None:
    """本地服务的运行情况。"""
    settings = get_settings()
    stack = Stack(settings)
    services = stack.status()
    healthy = stack.api_healthy()
    # Prefect's SQLite gives a write up after 5 s of lock (stack/prefect_server.py) and its
    # clients retry; a busy stack logs some every hour. Counted apart, not as a warning staff
    # would soon learn to ignore.
    logged = stack.logged_errors()
    errors = [e.line for e in logged if not e.locked]
    locked = sum(e.locked for e in logged)
    if as_json:
        sweep_json = runs.sweep_health(as_of=now()).model_dump(mode="json") if healthy else None
        emit_json(
            {
                "services": {s.name: {"running": s.running, "pid": s.pid} for s in services},
                "prefect_api": healthy,
                "sweep": sweep_json,
                "service_errors": errors[-5:],
                "prefect_database_locked": locked,
                "ui": settings.prefect_ui_url,
                "workbench": settings.web_url,
                "public_urls": {
                    row.code: row.public_url or accounts.default_public_url()
                    for row in accounts.list_offices()
                },
                "public_url_loopback": [url for _, url in office.loopback_public_urls()],
                "home": str(settings.home),
            }
        )
        return
    for s in services:
        running = message("status_running" if s.running else "status_stopped", state.lang)
        typer.echo(f"{label('service', s.name, state.lang):12} {running}  {s.pid or ''}")
    api = message("status_api_ok" if healthy else "status_api_down", state.lang)
    say("status_api", state=api, url=settings.prefect_ui_url)
    say("workbench_at", url=settings.web_url)
    if healthy:
        sweep = runs.sweep_health(as_of=now())
        never = message("status_never", state.lang)
        say(
            "status_sweep",
            last=office_time(sweep.work.last_run_at) if sweep.work.last_run_at else never,
            next=office_time(sweep.work.next_run_at) if sweep.work.next_run_at else never,
        )
        for problem in sweep.problems:
            say(problem)
    if errors:
        say(
            "service_errors",
            count=len(errors),
            last=errors[-1][:200],
            log=settings.logs_dir / "prefect-server.log",
        )
    if locked:
        say("prefect_database_locked", count=locked)
    _warn_about_the_office()
    say("status_home", home=settings.home)
