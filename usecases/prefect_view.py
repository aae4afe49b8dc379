"""Prefect's UI for managers, through the workbench: watching runs and resuming a waiting one,
nothing else. A manager never holds Prefect's password; each request she makes is passed on
with the stack's, once this policy allows it, and a Resume is audited under her name on the
case it wakes (and only for a case she may see)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from casework.errors import UserError
from gateways import prefect_view
from gateways.prefect_view import Answer
from models.accounts import Actor, require_manager, visible_case
from models.db import session_scope
from models.tables import EventKind
from models.transitions import record_event

# Reads the UI makes with POST: filters, counts, histories, pages, and its own helpers (the
# Resume form's schema check among them).
_READS = re.compile(
    r"^api/(?:[\w-]+/)*(?:filter|count|history|paginate|lateness|next)$|^api/ui/[\w/-]+$"
)
_RESUME = re.compile(
    r"^api/flow_runs/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/resume$"
)
# Reads that would show what managers must not see: block documents (credentials), variables,
# the server's administration.
_SECRET_READS = re.compile(
    r"^api/(?:block_documents|block_capabilities|variables|admin/(?!version$|settings$))"
)


class Verdict(StrEnum):
    PASS = "pass"
    RESUME = "resume"
    REFUSE = "refuse"


def decide(method: str, path: str) -> tuple[Verdict, str | None]:
    """What the view does with a request: pass it on, treat it as a Resume of a run, or
    refuse it. Everything not named here is refused: creating runs or deployments, job
    variables, work pools, blocks, variables, automations, any PATCH, PUT or DELETE."""
    if "/../" in f"/{path}/" or "//" in path or _SECRET_READS.match(path):
        return Verdict.REFUSE, None
    if method in ("GET", "HEAD"):
        return Verdict.PASS, None
    if method == "POST":
        if resumed := _RESUME.match(path):
            return Verdict.RESUME, resumed.group(1)
        if _READS.match(path):
            return Verdict.PASS, None
    return Verdict.REFUSE, None


def pass_on(
    *,
    actor: Actor,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    as_of: datetime,
) -> Answer:
    """Prefect's answer to a manager's request, or UserError("prefect_view_refused")."""
    require_manager(actor)
    verdict, run_id = decide(method, path)
    if verdict is Verdict.REFUSE:
        raise UserError("prefect_view_refused")
    if verdict is Verdict.PASS:
        return prefect_view.forward(
            method=method, path=path, query=query, headers=headers, body=body
        )
    assert run_id is not None
    number = prefect_view.case_number_of_run(run_id)
    if number is None:
        raise UserError("prefect_view_refused")
    with session_scope() as session:
        visible_case(session, actor, number)  # another office's case: the same "no such case"
    answer = prefect_view.forward(method=method, path=path, query=query, headers=headers, body=body)
    if answer.status < 300:
        with session_scope() as session:
            case = visible_case(session, actor, number)
            record_event(
                session,
                case,
                EventKind.RESUMED_IN_PREFECT_VIEW,
                as_of,
                detail="主管在流程视图中提交了恢复答复",
                actor=actor.username,
            )
    return answer
