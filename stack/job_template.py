"""The casework work pool's job template: how the worker starts a run, fixed by the stack.

Prefect's process pool lets whoever creates a flow run choose its command, working folder and
environment through job variables, so anyone holding Prefect's password could make the worker
run any command as the stack's user, who can read every key. Here those are literals of the
template, not variables: a run cannot choose them, and the API refuses a run that tries."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from prefect.workers.process import ProcessWorker

# What a run may still set: its name and labels (they reach no shell and no environment).
CHOOSABLE = ("name", "labels")


def locked_job_template(python: str, project_dir: Path) -> dict[str, Any]:
    """The process pool's template with the command, folder and environment fixed.

    The command is the stack's run starter in this checkout (stack/start_run.py forks each run
    from a warm process; without one it execs `python -m prefect.engine`)."""
    template = copy.deepcopy(ProcessWorker.get_default_base_job_template())
    config = template["job_configuration"]
    config["command"] = f"{python} -S {project_dir}/stack/start_run.py"
    config["working_dir"] = str(project_dir)
    config["env"] = {}
    config["stream_output"] = True
    variables = template["variables"]
    variables["properties"] = {
        name: spec for name, spec in variables["properties"].items() if name in CHOOSABLE
    }
    variables["additionalProperties"] = False
    return template


def bench_job_template(python: str, project_dir: Path) -> dict[str, Any]:
    """The benchmark's pool, in its own throwaway home: the locked template, except that a
    deployment may choose the command (the bare flow is measured started cold, by Prefect's
    own `python -m prefect.engine`, beside the run starter). Never an office's."""
    template = locked_job_template(python, project_dir)
    command = ProcessWorker.get_default_base_job_template()["variables"]["properties"]["command"]
    template["variables"]["properties"]["command"] = {
        **command,
        "default": template["job_configuration"]["command"],
    }
    template["job_configuration"]["command"] = "{{ command }}"
    return template
