"""What people type: the clerk into the search box, an office as its public address, an agency
the short code from its letter; each kind of input, each branch."""

from __future__ import annotations

from datetime import date

import pytest

from casework.errors import UserError
from casework.links import is_code, normalise_code, reply_code
from casework.search import classify, name_key, phone_key
from casework.validation import is_loopback_url, public_url
from cli.stories import synthetic_id_number

pytestmark = pytest.mark.unit
TODAY = date(2026, 12, 8)
ID = synthetic_id_number(date(1955, 4, 12))


def test_an_eighteen_character_id_is_searched_as_an_id_number_and_checked() -> None:
    found = classify(f" {ID[:6]} {ID[6:]} ", today=TODAY)
    assert found.kind == "id_number"
    assert found == classify(ID, today=TODAY) == classify(ID.lower(), today=TODAY)
    wrong = ID[:-1] + ("1" if ID[-1] != "1" else "2")
    with pytest.raises(UserError) as refused:
        classify(wrong, today=TODAY)
    assert refused.value.code == "id_check_digit"


@pytest.mark.parametrize(
    "typed",
    ["13911112222", "139 1111 2222", "139-1111-2222", "+86 13911112222", "１３９１１１１２２２２"],
)
def test_a_mobile_however_typed_is_one_phone(typed: str) -> None:
    found = classify(typed, today=TODAY)
    assert (found.kind, found.key) == ("phone", phone_key("13911112222"))


def test_a_landline_is_a_phone_and_a_short_number_is_refused() -> None:
    assert classify("010-63500000", today=TODAY) == classify("01063500000", today=TODAY)
    assert classify("010-63500000", today=TODAY).kind == "phone"
    with pytest.raises(UserError) as refused:
        classify("1391111", today=TODAY)
    assert refused.value.code == "phone"


def test_anything_else_is_a_full_name_folded_as_people_type_it() -> None:
    found = classify("刘岩", today=TODAY)
    assert (found.kind, found.key) == ("name", name_key("刘岩"))
    for same in ("刘 岩", " 刘岩 ", "刘\u3000岩"):
        assert classify(same, today=TODAY) == found, same
    assert name_key("Liu Yan") == name_key("ＬＩＵ ＹＡＮ") == name_key("liu·yan")
    assert name_key("刘岩") != name_key("刘岩松") != name_key("刘")
    with pytest.raises(UserError) as refused:
        classify("   ", today=TODAY)
    assert refused.value.code == "search_empty"
    with pytest.raises(UserError) as control:
        classify("刘\x07岩", today=TODAY)
    assert control.value.code == "name"


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("https://xxt.taoranting.example.gov.cn", "https://xxt.taoranting.example.gov.cn"),
        ("https://xxt.example.gov.cn/", "https://xxt.example.gov.cn"),
        ("http://10.1.2.3:8090/casework/", "http://10.1.2.3:8090/casework"),
    ],
)
def test_a_public_address_is_kept_without_its_trailing_slash(typed: str, kept: str) -> None:
    assert public_url(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "xxt.example.gov.cn",  # no scheme
        "ftp://xxt.example.gov.cn",
        "https://",  # no host
        "https://xxt.example.gov.cn/?office=1",  # a query
        "https://xxt.example.gov.cn/#top",  # a fragment
        "https://admin:secret@xxt.example.gov.cn",  # a password
        "https://xxt example.gov.cn",  # a space
        "https://xxt.example.gov.cn/" + "a" * 200,  # longer than a letter can print
    ],
)
def test_what_is_not_a_public_address_is_refused(typed: str) -> None:
    with pytest.raises(UserError) as refused:
        public_url(typed)
    assert refused.value.code == "public_url"


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8090", True),
        ("http://127.8.8.8", True),
        ("http://[::1]:8090", True),
        ("http://localhost:8090", True),
        ("http://LOCALHOST", True),
        ("http://office.localhost", True),
        ("http://0.0.0.0:8090", True),
        ("http://192.168.1.10:8090", False),
        ("https://xxt.example.gov.cn", False),
        ("http://localhost.example.gov.cn", False),
    ],
)
def test_an_address_only_this_machine_can_open_is_told_apart(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_a_reply_code_is_looked_up_only_when_it_could_be_one() -> None:
    code = reply_code("request:HC-2026-0001:cremation-certificate:crematorium-front-desk:1")
    assert is_code(code)
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert normalise_code(typed) == code  # as read off paper: any case, spaces, O for 0, l for 1
    for wrong in ("", "7KQ2M", "7KQ2M-XD94", "7KQ2M-XD94RR", "7KQ2M-XD9\x00R", "7KQ2U-XD94R"):
        assert not is_code(normalise_code(wrong)), wrong  # U is not in the alphabet
