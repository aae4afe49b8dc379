"""Prefect only behind the workbench's sign-in (issue 37): managers watch runs and resume a
waiting one through /prefect/ with no password of Prefect's; a clerk, or anyone not signed
in, gets nothing; creating runs, deployments, work pools, blocks, variables and automations
is refused there whatever the request says."""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest

from casework.settings import get_settings
from cli.stories import Driver
from models.db import session_scope
from models.views import case_detail
from tests.factories import WINDOW_PASSWORD, window_staff
from usecases.prefect_view import Verdict, decide

RUN = "0f9c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f"


@pytest.mark.unit
def test_the_view_passes_reads_and_resumes_and_refuses_the_rest() -> None:
    cases = [
        ("GET", f"api/flow_runs/{RUN}", Verdict.PASS),
        ("GET", "prefect/assets/index.js", Verdict.PASS),
        ("POST", "api/flow_runs/filter", Verdict.PASS),
        ("POST", "api/task_runs/count", Verdict.PASS),
        ("POST", "api/ui/schemas/validate", Verdict.PASS),
        ("POST", "api/flow_runs/history", Verdict.PASS),
        ("POST", f"api/flow_runs/{RUN}/resume", Verdict.RESUME),
        ("POST", f"api/deployments/{RUN}/create_flow_run", Verdict.REFUSE),
        ("POST", "api/flow_runs/", Verdict.REFUSE),
        ("POST", f"api/flow_runs/{RUN}/set_state", Verdict.REFUSE),
        ("POST", "api/deployments/", Verdict.REFUSE),
        ("POST", "api/work_pools/", Verdict.REFUSE),
        ("PATCH", "api/work_pools/casework", Verdict.REFUSE),
        ("PATCH", f"api/deployments/{RUN}", Verdict.REFUSE),
        ("DELETE", f"api/flow_runs/{RUN}", Verdict.REFUSE),
        ("PUT", "api/variables/name/x", Verdict.REFUSE),
        ("POST", "api/variables/filter", Verdict.REFUSE),
        ("GET", "api/variables/name/x", Verdict.REFUSE),
        ("POST", "api/block_documents/filter", Verdict.REFUSE),
        ("GET", f"api/block_documents/{RUN}", Verdict.REFUSE),
        ("POST", "api/automations/", Verdict.REFUSE),
        ("GET", "api/admin/database", Verdict.REFUSE),
        ("GET", "api/admin/version", Verdict.PASS),
        ("POST", f"api/flow_runs/{RUN}/resume/../../deployments/x/create_flow_run", Verdict.REFUSE),
        ("POST", "api/ui/../deployments/x/create_flow_run", Verdict.REFUSE),
        ("POST", f"api/flow_runs/{RUN[:-1]}/resume", Verdict.REFUSE),
    ]
    for method, path, expected in cases:
        assert decide(method, path)[0] is expected, (method, path)
    assert decide("POST", f"api/flow_runs/{RUN}/resume")[1] == RUN


def _signed_in(web: str, username: str) -> httpx.Client:
    browser = httpx.Client(base_url=web, timeout=60)
    page = browser.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None
    signed = browser.post(
        "/login",
        data={"username": username, "password": WINDOW_PASSWORD, "csrf": token[1]},
    )
    assert signed.status_code in (200, 303), signed.text[:300]
    return browser


def _prefect_csrf(browser: httpx.Client) -> dict[str, str]:
    token = browser.get("/prefect/api/csrf-token", params={"client": "probe"})
    assert token.status_code == 200, token.text[:300]
    return {"Prefect-Csrf-Token": token.json()["token"], "Prefect-Csrf-Client": "probe"}


@pytest.mark.integration
def test_managers_watch_and_resume_through_the_workbench_and_nothing_else(
    stack: object,
) -> None:
    from casework.clock import now

    window_staff(now())
    web = get_settings().web_url
    number = Driver(echo=False).open(
        "recover-cremation-certificate",
        name="钱玉梅",  # not test_prefect_ui's person: the stack is shared
        born=date(1949, 2, 2),
        phone="13800006666",
        fields={"deceased_name": "吴国华", "cremation_date": date(2017, 6, 1).isoformat()},
    )
    with session_scope() as session:
        run_id = case_detail(session=session, case_number=number).flow_run_id
    assert run_id

    assert httpx.get(f"{web}/prefect/api/flow_runs/{run_id}", timeout=30).status_code == 303
    clerk = _signed_in(web, "xuchang")
    assert clerk.get(f"/prefect/api/flow_runs/{run_id}").status_code == 403

    manager = _signed_in(web, "wangmin")
    run = manager.get(f"/prefect/api/flow_runs/{run_id}")
    assert run.status_code == 200 and run.json()["name"] == f"case-{number}"
    settings = manager.get("/prefect/ui-settings").json()
    assert settings["auth"] is None and settings["api_url"] == f"{web}/prefect/api"
    csrf = _prefect_csrf(manager)
    runs = manager.post("/prefect/api/flow_runs/filter", json={}, headers=csrf)
    assert runs.status_code == 200 and any(r["id"] == run_id for r in runs.json())

    deployment = manager.get("/prefect/api/deployments/name/daily-board/every-morning").json()
    attack = manager.post(
        f"/prefect/api/deployments/{deployment['id']}/create_flow_run",
        json={"job_variables": {"command": "sh -c 'id > /tmp/owned'"}},
        headers=csrf,
    )
    assert attack.status_code == 403 and "流程视图只供查看" in attack.text
    for method, path in (
        ("PATCH", "/prefect/api/work_pools/casework"),
        ("POST", "/prefect/api/block_documents/filter"),
        ("POST", "/prefect/api/variables/"),
        ("POST", "/prefect/api/automations/"),
        ("DELETE", f"/prefect/api/flow_runs/{run_id}"),
    ):
        refused = manager.request(method, path, json={}, headers=csrf)
        assert refused.status_code == 403, (method, path, refused.status_code)
    # The header the browser sent is not what reaches Prefect: no password of its own needed,
    # and a wrong one given changes nothing.
    forged = manager.get(f"/prefect/api/flow_runs/{run_id}", headers={"Authorization": "x"})
    assert forged.status_code == 200
