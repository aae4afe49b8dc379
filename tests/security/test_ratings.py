"""An attack on the citizen's rating (issue 37): staff see her status link on the case page,
and posting a rating to it was recorded as hers (channel status-page), after which she was
refused. Now her rating needs the code printed only on her closing notice, a browser signed
in to the workbench cannot post one, and a rating staff type in is shown as theirs."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from casework.answers import Answer, AnswerOutcome
from casework.links import rating_code, status_token
from models import incoming
from models.db import session_scope
from models.tables import Rating
from tests.factories import case_with_a_request
from tests.test_case_records import _run_until_wait
from tests.workbench import DAY, client_at, csrf_of, sign_in

pytestmark = pytest.mark.flow


def _closed_case() -> str:
    number, _ = case_with_a_request(DAY)
    with session_scope() as session:
        incoming.record_answer(
            actor="xuchang",
            session=session,
            case_number=number,
            answer=Answer(agency="crematorium-front-desk", outcome=AnswerOutcome.RECEIVED),
            as_of=DAY,
        )
    _run_until_wait(number, DAY)
    return number


def test_staff_cannot_rate_through_the_citizens_status_link(client: Any) -> None:
    number = _closed_case()
    sign_in(client, "xuchang")
    case_page = client.get(f"/cases/{number}").text
    status_url = f"/s/{number}/{status_token(number)}"
    assert status_url in case_page  # what the attack started from
    assert rating_code(number) not in case_page
    status = client.get(status_url).text
    for code in ("", "0000-0000", rating_code(number)):
        forged = client.post(status_url, data={"csrf": csrf_of(status), "level": "5", "code": code})
        assert forged.status_code in (400, 403)
    # A browser never signed in, without the code: still refused.
    stranger = client_at("10.3.3.3")
    page = stranger.get(status_url).text
    guessed = stranger.post(status_url, data={"csrf": csrf_of(page), "level": "5", "code": "x"})
    assert guessed.status_code == 400
    with session_scope() as session:
        assert session.exec(select(Rating)).first() is None
    # She rates herself, with her letter's code, from her phone.
    phone = client_at("10.4.4.4")
    page = phone.get(status_url).text
    hers = phone.post(
        status_url, data={"csrf": csrf_of(page), "level": "4", "code": rating_code(number)}
    )
    assert hers.status_code == 200 and "感谢您的评价" in hers.text


def test_a_rating_staff_type_in_is_shown_as_theirs(client: Any) -> None:
    number = _closed_case()
    sign_in(client, "xuchang")
    page = client.get(f"/cases/{number}").text
    typed = client.post(
        f"/cases/{number}/rating",
        data={"csrf": csrf_of(page), "level": "5", "channel": "phone"},
    )
    assert typed.status_code == 200
    assert "徐畅代录（电话）" in typed.text and "群众本人凭评价码提交" not in typed.text
    with session_scope() as session:
        rating = session.exec(select(Rating)).one()
    assert (rating.channel, rating.recorded_by) == ("phone", "xuchang")
