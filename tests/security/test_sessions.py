"""Attacks on the workbench's sessions (issue 37, ASVS V3): a cookie copied before sign-out,
an account disabled or its password reset while someone is signed in, a session left idle on
the window PC, a cookie that outlives the browser or travels over plain HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from casework.clock import now
from tests.workbench import client_at, csrf_of, sign_in

pytestmark = pytest.mark.flow


def _signed_in_page(cookie: str) -> int:
    """The status of the case list for a browser that holds only `cookie`."""
    thief = client_at("10.9.9.9")
    thief.cookies.set("casework_session", cookie)
    return int(thief.get("/", follow_redirects=False).status_code)


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(client: Any) -> None:
    sign_in(client, "xuchang")
    copied = client.cookies["casework_session"]
    assert _signed_in_page(copied) == 200  # the copy works while she is signed in…
    client.post("/logout", data={"csrf": csrf_of(client.get("/").text)})
    assert _signed_in_page(copied) == 303  # …and not after she signed out


def test_the_cookie_ends_with_the_browser_and_is_secure_over_https(client: Any) -> None:
    login = client.get("/login")
    assert "max-age" not in login.headers["set-cookie"].lower()
    assert "expires" not in login.headers["set-cookie"].lower()
    assert "secure" not in login.headers["set-cookie"].lower()  # plain HTTP: no Secure
    over_https = client_at("10.0.0.5", base_url="https://127.0.0.1")
    token = csrf_of(over_https.get("/login").text)
    from tests.factories import WINDOW_PASSWORD

    signed = over_https.post(
        "/login",
        data={"username": "xuchang", "password": WINDOW_PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "max-age" not in cookie


def test_disabling_an_account_or_resetting_its_password_ends_its_sessions(client: Any) -> None:
    from cli.main import app as cli

    sign_in(client, "xuchang")
    copied = client.cookies["casework_session"]
    disabled = CliRunner().invoke(cli, ["user", "disable", "xuchang"])
    assert disabled.exit_code == 0 and "结束了 1 个" in disabled.output, disabled.output
    assert _signed_in_page(copied) == 303
    enabled = CliRunner().invoke(cli, ["user", "enable", "xuchang"])
    assert enabled.exit_code == 0 and "已恢复账号 xuchang" in enabled.output
    assert _signed_in_page(copied) == 303  # enabling opens no session that had ended

    sign_in(client, "xuchang")
    again = client.cookies["casework_session"]
    reset = CliRunner().invoke(
        cli, ["user", "reset-password", "xuchang"], input="new-window-pass\nnew-window-pass\n"
    )
    assert reset.exit_code == 0 and "结束了 1 个" in reset.output, reset.output
    assert _signed_in_page(again) == 303
    fresh = client_at("10.0.0.5")
    token = csrf_of(fresh.get("/login").text)
    old = fresh.post(
        "/login", data={"username": "xuchang", "password": "window-2026-pass", "csrf": token}
    )
    assert old.status_code == 401
    new = fresh.post(
        "/login",
        data={"username": "xuchang", "password": "new-window-pass", "csrf": token},
        follow_redirects=False,
    )
    assert new.status_code == 303


def test_a_session_left_idle_ends(client: Any) -> None:
    from casework.settings import get_settings
    from web import app as web_app

    sign_in(client, "xuchang")
    idle = timedelta(minutes=get_settings().web_idle_minutes)
    start = now()
    try:
        web_app.app.state.wall_clock = lambda: start + idle - timedelta(minutes=1)
        assert client.get("/", follow_redirects=False).status_code == 200
        # Idle counts from the last page seen, not from sign-in.
        web_app.app.state.wall_clock = lambda: start + 2 * idle - timedelta(minutes=3)
        assert client.get("/", follow_redirects=False).status_code == 200
        web_app.app.state.wall_clock = lambda: start + 3 * idle
        assert client.get("/", follow_redirects=False).status_code == 303
    finally:
        web_app.app.state.wall_clock = now
