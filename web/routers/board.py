"""看板: the daily board over the cases a manager (or a district) sees."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from usecases import office, runs
from web.deps import Manager
from web.pages import now_of, render

router = APIRouter()


@router.get("/board", response_class=HTMLResponse)
def board(request: Request, person: Manager) -> Response:
    figures = office.daily_board(actor=person, as_of=now_of(request))
    numbers = sorted(
        {e.case_number for e in figures.escalations}
        | {c.case_number for c in figures.overdue_contacts}
        | set(figures.overdue_cases)
    )
    return render(
        request,
        "board.html.j2",
        viewer=person,
        board=figures,
        runs=runs.run_links(numbers),
    )
