"""A clerk's day on the workbench, over HTTP: 我的案件 is hers and the office's is a filter; the
search finds a person's cases by ID, phone or name (only her office's, each look audited); the
print queue prints and posts letters by post; a document an agency posted waits for its
arrival; intake warns before opening; and no address a person can type gives an HTTP 500."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlmodel import select

from casework.planning import Action
from cli.stories import synthetic_id_number
from models.db import session_scope
from models.lookups import get_case
from models.tables import CaseMaterial, Contact, ContactKind
from tests.factories import case_with_a_request
from tests.test_case_records import _run_until_wait
from tests.workbench import DAY, csrf_of, events, open_workbench, sign_in
from usecases import intake
from usecases.accounts import who

pytestmark = pytest.mark.flow
FORM = "/intake/recover-cremation-certificate"


@pytest.fixture
def client(fresh_db: object, smtp_server: list) -> Iterator[Any]:
    with open_workbench() as test_client:
        yield test_client


def _open_as(username: str, name: str, born: date, phone: str) -> str:
    """A case taken in by this account (its office's, it the first-contact clerk)."""
    person = who(username)
    assert person is not None
    return intake.open_case(
        actor=person,
        form=intake.IntakeForm(
            playbook="recover-cremation-certificate",
            name=name,
            id_number=synthetic_id_number(born),
            phone=phone,
            fields={"deceased_name": "王建国", "cremation_date": "2017-06-01"},
        ),
        as_of=DAY,
        start=False,
    ).case_number


def test_my_cases_are_hers_and_the_office_is_a_filter(client: Any) -> None:
    hers = _open_as("xuchang", "刘岩", date(1955, 4, 12), "13911112222")
    colleague = _open_as("wangmin", "张秀英", date(1948, 9, 30), "13622223333")
    sign_in(client, "xuchang")
    mine = client.get("/").text
    assert "我的案件（1 件）" in mine and hers in mine and colleague not in mine
    office = client.get("/?scope=office").text
    assert hers in office and colleague in office
    # People by name: the clerk filter offers 徐畅 and 王敏, never their usernames as text.
    assert ">徐畅</option>" in office and ">王敏</option>" in office
    assert ">xuchang<" not in office and ">wangmin<" not in office
    only = client.get("/?scope=office&clerk=wangmin").text
    assert colleague in only and hers not in only


def test_the_search_finds_a_persons_cases_in_her_office_only_and_audits_each_look(
    client: Any,
) -> None:
    born = date(1955, 4, 12)
    ours = _open_as("xuchang", "刘岩", born, "13911112222")
    theirs = _open_as("zhangli", "刘岩", born, "13911112222")  # the same person, another office
    other = _open_as("xuchang", "刘岩松", date(1960, 1, 1), "13700001111")
    sign_in(client, "xuchang")
    for typed in ("刘岩", " 刘 岩 ", synthetic_id_number(born), "139 1111 2222", "+8613911112222"):
        found = client.get("/search", params={"q": typed})
        assert found.status_code == 200, typed
        assert ours in found.text and theirs not in found.text and other not in found.text, typed
        assert "找到 1 件" in found.text
    wrong = client.get("/search", params={"q": "1391111"})  # a phone too short
    assert wrong.status_code == 400 and "电话号码无效" in wrong.text
    looks = [(e.actor, e.detail) for e in events() if e.kind == "person-looked-up"]
    assert len(looks) == 5 and {a for a, _ in looks} == {"xuchang"}
    assert {d for _, d in looks} == {"name", "id_number", "phone"}
    with session_scope() as session:  # each look is on her office's case, none on the other's
        ours_id = get_case(session, ours).id
    assert {e.case_id for e in events() if e.kind == "person-looked-up"} == {ours_id}


def test_the_print_queue_prints_and_posts_the_letters_by_post(client: Any) -> None:
    number, request_id = case_with_a_request(DAY, by_post=True)
    sign_in(client, "xuchang")
    queue = client.get("/print").text
    assert "待打印寄出的信函（1 封）" in queue and "殡仪馆业务大厅（前台）" in queue
    assert f"/cases/{number}/letters/{request_id}" in queue  # opens the letter to print
    printed = client.post(f"/print/{number}/{request_id}/printed", data={"csrf": csrf_of(queue)})
    assert printed.status_code == 200 and "✔ 已打印" in printed.text
    bad = client.post(
        f"/cases/{number}/posting",
        data={"csrf": csrf_of(queue), "letter": str(request_id), "tracking": "12", "back": "print"},
    )
    assert bad.status_code == 400 and "邮件单号无效" in bad.text
    assert "待打印寄出的信函（1 封）" in bad.text  # still there, the mistake beside it
    posted = client.post(
        f"/cases/{number}/posting",
        data={
            "csrf": csrf_of(queue),
            "letter": str(request_id),
            "tracking": "EA123456789CN",
            "back": "print",
        },
    )
    assert posted.status_code == 200 and "没有待寄出的信函" in posted.text
    assert "致殡仪馆业务大厅（前台）的信函已寄出：EA123456789CN" in posted.text
    audit = {(e.kind, e.actor) for e in events()}
    assert {("letter-printed", "xuchang"), ("letter-posted", "xuchang")} <= audit


def test_a_document_the_agency_posted_waits_for_its_arrival(client: Any) -> None:
    number, _ = case_with_a_request(DAY)
    sign_in(client, "xuchang")
    page = client.get(f"/cases/{number}").text
    answered = client.post(
        f"/cases/{number}/answer",
        data={
            "csrf": csrf_of(page),
            "agency": "crematorium-front-desk",
            "outcome": "posted",
            "tracking": "sf 1234 5678 9012",
            "via": "phone",
        },
    )
    assert answered.status_code == 200 and "单位已寄出，等待送达" in answered.text
    assert "SF123456789012" in answered.text  # its tracking number, as the post office writes it
    assert _run_until_wait(number, DAY)[-1] is Action.WAIT  # not closed: it is in the post
    arrived = client.post(
        f"/cases/{number}/arrived",
        data={"csrf": csrf_of(answered.text), "material": "cremation-certificate"},
    )
    assert arrived.status_code == 200 and "已收到寄来的材料" in arrived.text
    assert _run_until_wait(number, DAY)[-1] in (Action.WAIT, Action.DONE)
    with session_scope() as session:
        case = get_case(session, number)
        material = session.exec(select(CaseMaterial).where(CaseMaterial.case_id == case.id)).one()
        closing = session.exec(
            select(Contact).where(Contact.case_id == case.id, Contact.kind == ContactKind.CLOSING)
        ).first()
    assert material.status == "collected" and case.status == "closed" and closing is not None
    again = client.post(
        f"/cases/{number}/arrived",
        data={"csrf": csrf_of(arrived.text), "material": "cremation-certificate"},
    )
    assert again.status_code == 400  # closed: nothing more to record


def _intake(client: Any, **fields: str) -> Any:
    form = client.get(FORM).text
    key = re.search(r'name="intake_key" value="([^"]+)"', form)
    assert key
    data = {
        "csrf": csrf_of(form),
        "intake_key": key.group(1),
        "name": "王淑芬",
        "id_number": synthetic_id_number(date(1951, 6, 1)),
        "phone": "13733334444",
        "field_deceased_name": "赵大勇",
        "field_cremation_date": "2020-02-02",
        **fields,
    }
    return client.post(FORM, data=data, follow_redirects=False), data


def _cases() -> int:
    from models.tables import Case

    with session_scope() as session:
        return len(session.exec(select(Case)).all())


def test_intake_warns_and_refuses_before_anything_is_sent(client: Any) -> None:
    sign_in(client, "xuchang")
    form = client.get(FORM).text
    # What she can bring today: never the certificate the office is to obtain for her.
    assert "火化证明（补办件或火化记录证明）" not in form
    assert client.get("/intake/no-such-type").status_code == 404
    assert "没有这类事项" in client.get("/intake/no-such-type").text

    typo, _ = _intake(client, field_cremation_date="0715-12-10")
    assert typo.status_code == 400 and "不早于1900年" in typo.text and _cases() == 0
    assert re.search(r'id="field_cremation_date-error" role="alert"\s*>火化日期', typo.text)

    first, _ = _intake(client)
    assert first.status_code == 303 and _cases() == 1
    number = first.headers["location"].split("/")[2].split("?")[0]
    again, data = _intake(client)
    assert again.status_code == 409 and _cases() == 1  # warned; nothing written
    assert "此人已有同类案件在办" in again.text and f'href="/cases/{number}"' in again.text
    assert 'name="confirmed"' in again.text and 'value="赵大勇"' in again.text  # kept as typed
    confirmed = client.post(FORM, data={**data, "confirmed": "on"}, follow_redirects=False)
    assert confirmed.status_code == 303 and _cases() == 2

    late, data = _intake(
        client,
        id_number=synthetic_id_number(date(1949, 2, 2)),
        field_cremation_date="2015-03-01",  # over ten years ago: the reissue limit has passed
    )
    assert late.status_code == 409 and "火化证明补办时限（火化之日起10年）已于" in late.text
    assert "立即上报主管" in late.text and _cases() == 2


URLS = [
    "/cases/%00",
    "/cases/HC-2026-0001%00",
    "/cases/HC-2026-0001/letters/99999999999999999999999",
    "/cases/HC-2026-0001/letters/-1",
    "/cases/HC-2026-0001/letters/abc",
    "/cases/" + "9" * 500,
    "/intake/..%2f..%2fetc",
    "/intake/%F0%9F%98%80",
    "/r/%00",
    "/r/" + "A" * 300,
    "/s/HC-2026-0001/%00",
    "/s/%00/%00",
    "/print/HC-2026-0001/1/printed",  # a form's address typed (GET): 405, as a page
    "/lang/%00?next=%00",
    "/search?q=%00",
    "/search?q=" + "刘" * 400,
    "/?scope=%00&type=%00&status=%00&clerk=%00",
    "/no-such-page",
    "/board",
]


def test_no_address_a_person_can_type_gives_a_server_error(client: Any) -> None:
    case_with_a_request(DAY)
    for signed_in in (False, True):
        if signed_in:
            sign_in(client, "xuchang")
        for url in URLS:
            answer = client.get(url)
            assert answer.status_code < 500, (url, answer.status_code, answer.text[:300])
            if answer.status_code >= 400:
                assert "<html" in answer.text and "Traceback" not in answer.text, url


def test_a_manager_is_told_when_letters_print_an_address_nobody_can_open(client: Any) -> None:
    from usecases import accounts

    warning = "只有本机能打开"
    sign_in(client, "xuchang")
    assert warning not in client.get("/").text  # a clerk cannot change it: not hers to read
    client.cookies.clear()
    sign_in(client, "wangmin")
    for page in ("/", "/board", "/print"):
        assert warning in client.get(page).text, page
    accounts.edit_office(code="taoranting", changes={"public_url": "https://xxt.example.gov.cn"})
    assert warning not in client.get("/board").text
    accounts.edit_office(code="taoranting", changes={"public_url": ""})  # back to the default
    assert warning in client.get("/board").text
