"""`casework up`, `down`, `status`: the embedded local stack."""

from __future__ import annotations

import typer

from casework.messages import message
from casework.settings import get_settings
from cli.app import JsonOption, app, emit_json, say, state, user_errors
from stack.processes import Stack


@app.command()
@user_errors
def up() -> None:
    """启动本地服务：Prefect 服务器、工作进程、本地邮件服务器。"""
    settings = get_settings()
    Stack(settings).up()
    say("stack_up", ui=settings.prefect_ui_url)
    say("ui_password", path=settings.home / "secrets" / "prefect-auth")
    typer.echo(f"SMTP: {settings.smtp_host}:{settings.smtp_port} → {settings.mailbox_dir}")


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
    if as_json:
        emit_json(
            {
                "services": {s.name: {"running": s.running, "pid": s.pid} for s in services},
                "prefect_api": healthy,
                "ui": settings.prefect_ui_url,
                "home": str(settings.home),
            }
        )
        return
    for s in services:
        running = message("status_running" if s.running else "status_stopped", state.lang)
        typer.echo(f"{s.name:15} {running}  {s.pid or ''}")
    api = message("status_api_ok" if healthy else "status_api_down", state.lang)
    say("status_api", state=api, url=settings.prefect_ui_url)
    say("status_home", home=settings.home)
