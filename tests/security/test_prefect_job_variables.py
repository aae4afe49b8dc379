"""An attack through Prefect's API (issue 37): with Prefect's password, `create_flow_run` with
`{"job_variables": {"command": "sh -c …"}}` made the worker run the chosen command as the
stack's user. The casework pool's template now fixes the command, folder and environment:
the API refuses a run that tries to choose them, and the worker would not use them anyway."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from casework.prefect_env import prefect_auth_string
from casework.settings import PROJECT_DIR, get_settings
from stack.job_template import locked_job_template


def _api() -> httpx.Client:
    user, _, password = prefect_auth_string(get_settings()).partition(":")
    client = httpx.Client(
        base_url=get_settings().prefect_api_url, auth=(user, password), timeout=30
    )
    token = client.get("/csrf-token", params={"client": "casework-test"}).json()["token"]
    client.headers.update({"Prefect-Csrf-Token": token, "Prefect-Csrf-Client": "casework-test"})
    return client


@pytest.mark.integration
def test_a_run_cannot_choose_the_workers_command_even_with_prefects_password(
    stack: object, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    api = _api()
    try:
        deployment = api.get("/deployments/name/daily-board/every-morning").json()
        pool = api.get(f"/work_pools/{deployment['work_pool_name']}").json()
        fixed = pool["base_job_template"]["job_configuration"]
        assert fixed["command"].endswith("stack/start_run.py") and fixed["env"] == {}
        for chosen in (
            {"command": f"sh -c 'touch {marker}'"},
            {"env": {"PYTHONSTARTUP": str(marker), "LD_PRELOAD": str(marker)}},
            {"working_dir": "/tmp"},
            {"env.LD_PRELOAD": str(marker)},
        ):
            created = api.post(
                f"/deployments/{deployment['id']}/create_flow_run",
                json={"job_variables": chosen},
            )
            assert created.status_code == 422, (chosen, created.text)
        # A run that chooses nothing is created as ever.
        plain = api.post(f"/deployments/{deployment['id']}/create_flow_run", json={})
        assert plain.status_code == 201, plain.text
        api.delete(f"/flow_runs/{plain.json()['id']}")
    finally:
        api.close()
    assert not marker.exists()


@pytest.mark.unit
def test_the_worker_takes_its_command_from_the_template_whatever_the_values() -> None:
    from prefect.workers.process import ProcessJobConfiguration

    template = locked_job_template(sys.executable, PROJECT_DIR)
    chosen = {"command": "sh -c evil", "working_dir": "/tmp", "stream_output": False}
    built: Any = asyncio.run(ProcessJobConfiguration.from_template_and_values(template, chosen))
    assert built.command == f"{sys.executable} -S {PROJECT_DIR}/stack/start_run.py"
    assert str(built.working_dir) == str(PROJECT_DIR) and built.stream_output is True
    assert set(template["variables"]["properties"]) == {"name", "labels"}
    assert template["variables"]["additionalProperties"] is False
