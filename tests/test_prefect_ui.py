"""The Prefect UI in a real browser (Debian's chromium), as managers reach it: through the
workbench's 流程视图, signed in as themselves, with no password of Prefect's. A manager answers
through Resume, and the audit trail names her."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment

from casework.clock import now
from casework.prefect_env import prefect_auth_string
from casework.settings import PROJECT_DIR, get_settings
from cli.stories import Driver
from gateways.prefect_client import wait_until_settled
from models.db import session_scope
from models.views import case_detail
from stack.processes import Stack
from tasks.publish import artifact_key
from tests.conftest import SCREENSHOTS
from tests.factories import WINDOW_PASSWORD, window_staff

pytestmark = pytest.mark.integration


def test_a_manager_resumes_a_suspended_case_from_the_ui(stack: Stack, browser: Any) -> None:
    number = Driver(echo=False).open(
        "recover-cremation-certificate",
        name="钱玉兰",
        born=date(1948, 7, 7),
        phone="13800007777",
        fields={"deceased_name": "吴国华", "cremation_date": date(2017, 6, 1).isoformat()},
    )
    with session_scope() as session:
        run_id = case_detail(session=session, case_number=number).flow_run_id
    assert run_id
    window_staff(now())
    web = get_settings().web_url
    ui = get_settings().run_view_url
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.goto(f"{web}/login")
    page.get_by_label("用户名").fill("wangmin")
    page.get_by_label("密码").fill(WINDOW_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.get_by_role("link", name="流程视图").click()
    page.wait_for_url(lambda url: "/prefect/" in url)
    page.goto(f"{ui}/runs/flow-run/{run_id}")
    page.get_by_text("Suspended").first.wait_for()
    page.screenshot(path=str(SCREENSHOTS / "case-suspended.png"))

    page.get_by_text("Artifacts", exact=True).first.click()
    page.get_by_text(artifact_key(number, "checklist")).first.wait_for()
    page.screenshot(path=str(SCREENSHOTS / "case-artifacts.png"))

    page.get_by_role("button", name="Resume").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("殡仪馆业务大厅（前台）").first.wait_for()  # whose answer is awaited
    dialog.locator("button.p-select-button__control").first.click()
    page.keyboard.press("ArrowDown")
    page.locator(".p-select-option", has_text="forwarded").first.click()
    dialog.locator("textarea").nth(0).fill("crematorium-front-desk")
    dialog.locator("textarea").nth(2).fill("crematorium-archive-room")
    dialog.locator("button.p-select-button__control").nth(1).click()  # how the answer came
    page.keyboard.press("ArrowDown")
    page.locator(".p-select-option", has_text="email").first.click()
    page.screenshot(path=str(SCREENSHOTS / "resume-form.png"))
    submitted = now()
    assert _submit_resume(page, stack) == "Flow run resumed"
    assert wait_until_settled(run_id, after=submitted) == "Suspended"

    with session_scope() as session:
        detail = case_detail(session=session, case_number=number)
    assert [(c.kind, c.channel, c.agency, c.outcome) for c in detail.contacts][-2:] == [
        ("reply", "email", "crematorium-front-desk", "forwarded"),
        ("request", "email", "crematorium-archive-room", None),
    ]
    assert any(
        e.kind == "reply-recorded" and e.actor == "主管（Prefect 界面）" for e in detail.events
    )
    # …and who she is: the Resume went through the workbench, under her name.
    assert any(e.kind == "resumed-in-prefect-view" and e.actor == "王敏" for e in detail.events)
    # The UI runs whole under the view's policy; only its analytics calls home are stopped.
    assert all("amplitude.com" in m for m in refused), refused

    board: FlowRun = run_deployment(  # type: ignore[assignment, call-arg]
        "daily-board/every-morning", timeout=120, as_subflow=False, _sync=True
    )
    assert board.state is not None and board.state.is_completed()
    with get_client(sync_client=True) as client:
        latest = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(
                key=ArtifactCollectionFilterKey(any_=["casework-daily-board"])
            )
        )
    page.goto(f"{ui}/artifacts/artifact/{latest[0].latest_id}")
    page.get_by_text("每日案件看板").first.wait_for()
    page.get_by_text("各单位答复情况").first.wait_for()
    page.screenshot(path=str(SCREENSHOTS / "daily-board.png"), full_page=True)
    page.close()
    assert all(
        (SCREENSHOTS / name).stat().st_size > 10_000
        for name in (
            "case-suspended.png",
            "case-artifacts.png",
            "resume-form.png",
        )
    )


def _submit_resume(page: Any, stack: Stack) -> str:
    """Submit the Resume dialog once, as a manager would, and return what the UI answered in
    its toast (the UI does not retry a refused resume: "Failed to resume flow run"), with the
    server's errors if it was anything but the resume."""
    log_offset = stack.server_log_size()
    page.get_by_role("dialog").get_by_role("button", name="Submit").click()
    toast = page.locator(".p-toast__card").first
    try:
        toast.wait_for(timeout=60_000)
    except PlaywrightTimeout:
        page.screenshot(path=str(SCREENSHOTS / "resume-no-toast.png"))
        return "no toast within 60 s (see resume-no-toast.png)"
    said = " ".join(toast.inner_text().split())  # its text, then its close button's
    if said.startswith("Flow run resumed"):
        return "Flow run resumed"
    return f"{said}; server errors: {[e.line for e in stack.logged_errors(since=log_offset)]}"


def test_screenshots_are_where_humans_look() -> None:
    assert Path(SCREENSHOTS).is_relative_to(PROJECT_DIR)


def test_the_api_refuses_clients_without_the_password(stack: object) -> None:
    import httpx

    api = get_settings().prefect_api_url
    url = f"{api}/deployments/name/hard-case/recover-cremation-certificate"
    user, _, password = prefect_auth_string(get_settings()).partition(":")
    assert httpx.get(url, timeout=10).status_code == 401
    assert httpx.get(url, auth=(user, password + "x"), timeout=10).status_code == 401
    assert httpx.get(url, auth=(user, password), timeout=10).status_code == 200
    # Writes also need a CSRF token, which Prefect's own clients fetch; a bare POST is refused.
    posted = httpx.post(f"{api}/flow_runs/filter", json={}, auth=(user, password), timeout=10)
    assert posted.status_code == 403
