"""Every seed story through the real stack: contacts, materials, trips and the final state."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from datetime import date
from typing import Any
from urllib.parse import quote

import pytest

from casework.clock import now
from casework.settings import get_settings
from cli.stories import (
    Driver,
    elderly_couple,
    li,
    shen,
    synthetic_id_number,
    tianqiao_father,
    today_at_office,
    zhao_brother,
    zheng,
)
from gateways.maildir import read_mailbox
from models.accounts import console_actor
from models.db import session_scope
from models.views import case_detail
from tests.factories import document_text
from usecases.agencies import agencies_for_case, list_agencies

pytestmark = pytest.mark.integration
DRIVER = Driver(echo=False)  # shared, so the last test knows every personal detail typed


def detail(number: str) -> Any:
    with session_scope() as session:
        return case_detail(session=session, case_number=number)


def mail_to(number: str) -> list[str]:
    return [
        m["X-Envelope-To"]
        for m in read_mailbox(get_settings().mailbox_dir)
        if f"[{number}]" in m["Subject"]
    ]


def kinds(d: Any) -> list[tuple[str, str | None, str | None]]:
    return [(c.kind, c.agency, c.outcome) for c in d.contacts]


def test_tianqiao_father_never_travels_and_the_employer_is_reached_by_post(stack: object) -> None:
    number = tianqiao_father(DRIVER, today_at_office())
    employer = next(
        a.slug
        for a in agencies_for_case(actor=console_actor(), case_number=number)
        if a.name == "某物流有限公司人事部"
    )
    assert employer.startswith("agency-")  # generated, never a person's name in pinyin
    # Found for this case on the way: this case's lists show it, the district's directory not.
    assert employer not in {a.slug for a in list_agencies()}
    d = detail(number)
    assert d.status == "closed"
    assert d.trips == 1  # the first visit, when he asked for help
    assert kinds(d) == [
        ("visit", None, "intake"),
        ("notice", None, None),
        ("request", "district-talent-service-centre", "forwarded"),
        ("reply", "district-talent-service-centre", "forwarded"),
        ("request", employer, "needs-info"),
        ("reply", employer, "needs-info"),
        ("receipt", None, "other"),
        ("request", employer, "received"),
        ("reply", employer, "received"),
        ("closing", None, None),
    ]
    employer_requests = [c for c in d.contacts if c.agency == employer and c.kind == "request"]
    assert {c.channel for c in employer_requests} == {"post"}
    employer_replies = [c for c in d.contacts if c.agency == employer and c.kind == "reply"]
    assert {c.channel for c in employer_replies} == {"post"}  # it answered by letter too
    # Two printed letters to post, each its own file (the second after the home visit).
    assert len({c.document for c in employer_requests if c.document}) == 2
    # Both were posted and their tracking numbers recorded, as the board asked.
    assert all(c.tracking_number for c in employer_requests)
    assert len({c.tracking_number for c in employer_requests}) == 2
    assert mail_to(number) == ["archive@talent-centre.example"]  # the employer has no email


def test_zhao_brother_assessment_is_an_escorted_appointment(stack: object) -> None:
    number = zhao_brother(DRIVER, today_at_office())
    d = detail(number)
    assert d.status == "closed"
    assert d.trips == 3  # intake, bringing documents, the assessment
    assert [m.status for m in d.materials] == ["collected"] * 4
    trip_reasons = [c.outcome for c in d.contacts if c.kind in ("visit", "appointment")]
    assert trip_reasons == ["intake", "material-missing", "appointment"]
    appointment = next(c for c in d.contacts if c.kind == "appointment")
    assert appointment.note == "陪同：张军"
    assert Counter(mail_to(number)) == Counter(
        {
            "zhao.family@example.com": 3,  # notice, appointment confirmation, closing
            "records@hospital.example": 1,
            "si@social-insurance.example": 1,
            "appraisal@assessment-centre.example": 1,
            "xxt-window-staff@street-office.example": 1,  # reminder the working day before
        }
    )
    # The assessment request waited for both the medical records and the application.
    order = [c.agency for c in d.contacts if c.kind == "request"]
    assert order.index("labour-capacity-assessment-centre") == 2


def test_elderly_couple_bundle_runs_in_order_with_one_pool_of_materials(stack: object) -> None:
    number = elderly_couple(DRIVER, today_at_office())
    d = detail(number)
    assert d.status == "closed"
    assert d.trips == 2
    completed = [e.detail for e in d.events if e.kind == "service-completed"]
    assert completed == [
        "archive-transfer",
        "unemployment-insurance",
        "medical-insurance",
        "low-income-certification",
        "expedited-reimbursement",
    ]
    requests = Counter(c.material for c in d.contacts if c.kind == "request")
    assert set(requests.values()) == {1}  # every material asked for exactly once
    assert requests["bank-account-proof"] == 1  # shared by two services, requested once
    assert mail_to(number).count("branch@bank.example") == 1
    visits_with_documents = [c for c in d.contacts if c.outcome == "material-missing"]
    assert len(visits_with_documents) == 1  # identity documents handed over once for 3 services


def test_zheng_outside_remit_is_picked_up_and_escorted(stack: object) -> None:
    number = zheng(DRIVER, today_at_office())
    d = detail(number)
    assert d.status == "closed"
    assert d.trips == 2  # the window (documents checked there and then) and the appointment
    with session_scope() as session:
        from models.lookups import get_case

        assert get_case(session, number).outside_remit is True
    appointment = next(c for c in d.contacts if c.kind == "appointment")
    assert appointment.note == "陪同：张思思"
    # "Her former employer" is a role: the request went to the one named for her case, never
    # to a mailbox shared by every employer in the city.
    request = next(c for c in d.contacts if c.kind == "request")
    assert request.agency_name == "某研究所人事处" and request.agency.startswith("agency-")
    assert not any("former-employer" in to for to in mail_to(number))
    assert "xxt-window-staff@street-office.example" in mail_to(number)


def test_li_tells_everything_once_two_trips_under_a_month(stack: object) -> None:
    number = li(DRIVER, today_at_office())
    d = detail(number)
    assert d.status == "closed"
    assert d.trips == 2
    assert (d.closed_at - d.opened_at).days < 30
    notice = next(c for c in d.contacts if c.kind == "notice")
    text = document_text(notice.document)
    for material in d.materials:
        assert material.name in text  # the one-time notification lists every material
    assert [c.agency for c in d.contacts if c.kind == "request"] == ["street-social-assistance"]


def test_shen_story_for_the_privacy_scan(stack: object) -> None:
    """Ms. Shen's story too (asserted in detail in test_shen_story.py): all six types ran."""
    number = shen(DRIVER, today_at_office())
    assert detail(number).status == "closed"


def test_a_general_case_for_the_privacy_scan(stack: object) -> None:
    """A general case: its title, her problem, the materials the clerk named and her words to
    the agencies stay in the case database (Prefect shows 材料1, 材料2…). Its run goes under
    the general deployment, tagged with its case type."""
    from cli import agencies as cli_agencies
    from cli import intake as cli_intake
    from tests.test_managers_view import run_named
    from usecases.runs import wait_until_settled

    veterans = str(
        cli_agencies.agency_add(
            name="西城区退役军人事务局（隐私检查）", email="yfk-privacy@veterans.example",
            phone=None, address=None, department=None, hours=None, notes=None, case=None,
            distinct=True, as_json=False,
        )
    )  # fmt: skip
    typed = {
        "title": "为父亲孙满仓开具服役证明",
        "problem": "父亲孙满仓一九五二年入伍，遗属抚恤需要证明",
        "material": "孙满仓的服役证明",
        "ask": "请查询孙满仓在某部队的服役记录",
        "brings": "孙满仓的死亡证明",
    }
    DRIVER.personal += list(typed.values())
    started = now()
    number = cli_intake.open_(
        slug="general", name="孙秀兰", id_number=synthetic_id_number(date(1958, 2, 2), "063"),
        phone="13900007777", email=None, address=None, field=None, brought=None,
        title=typed["title"], problem=typed["problem"],
        need=[f"{typed['material']}={veterans}"], ask=[f"{typed['material']}={typed['ask']}"],
        brings=[typed["brings"]], tier=None, days=None, role=None, letter_lang="zh",
        start=True, confirm=True, as_json=False,
    )  # fmt: skip
    DRIVER.personal += ["孙秀兰", synthetic_id_number(date(1958, 2, 2), "063"), "13900007777"]
    assert wait_until_settled(number, after=started) == "Suspended"
    run = run_named(f"case-{number}")
    assert "general" in run.tags
    assert mail_to(number) == ["yfk-privacy@veterans.example"]


def _encodings(secret: str) -> set[bytes]:
    """The forms a secret could take in a file: raw UTF-8, JSON's \\u escapes (either case),
    URL-encoded, and base64 at each of its three alignments."""
    raw = secret.encode()
    escaped = json.dumps(secret).strip('"')
    forms = {
        raw,
        escaped.encode(),
        re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), escaped).encode(),
    }
    forms.add(quote(secret).encode())
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw)
        start = -(-offset * 4 // 3)  # characters that depend on the padding bytes
        usable = (len(raw) + offset) // 3 * 4  # characters fixed by whole 3-byte groups
        forms.add(encoded[start:usable])
    return {form for form in forms if len(form) >= 4}


def test_nothing_personal_reached_prefect(stack: object) -> None:
    """After the stories: names, ID and phone numbers, emails and the names of agencies added
    on the way are nowhere in Prefect's data or logs, in any encoding."""
    settings = get_settings()
    assert len(DRIVER.personal) >= 15, "run after the story tests"
    assert any("@" in p for p in DRIVER.personal) and "某物流有限公司人事部" in DRIVER.personal
    places = [p for p in (settings.home / "prefect").rglob("*") if p.is_file()]
    places += [p for p in settings.logs_dir.rglob("*") if p.is_file()]
    assert any(p.name.startswith("prefect.db") for p in places)
    blobs = {p: p.read_bytes() for p in places}
    hits = []
    for secret in DRIVER.personal:
        hits += [
            (secret, form, str(p))
            for p, blob in blobs.items()
            for form in _encodings(secret)
            if form in blob
        ]
    assert hits == []
