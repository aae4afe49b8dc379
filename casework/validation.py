"""Checks for what staff type in: resident ID numbers, phones, emails, dates, slugs."""

from __future__ import annotations

import re
from datetime import date
from ipaddress import ip_address
from typing import Literal
from urllib.parse import urlsplit

from casework.errors import UserError

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class InvalidInput(UserError, ValueError):
    """A value a person typed is not acceptable."""


def id_check_digit(first17: str) -> str:
    """GB 11643-1999 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


# Fullwidth digits and letters (as a Chinese input method types them) mean their ASCII forms.
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")


def ascii_digits(value: str, *, field: str) -> str:
    """Fullwidth characters become ASCII; any other digit (Arabic-Indic, superscript, circled…)
    is refused with one clear line rather than read as a number."""
    text = value.translate(_FULLWIDTH)
    if any(not c.isascii() and (c.isdigit() or c.isnumeric()) for c in text):
        raise InvalidInput("digits_ascii", field=field)
    return text


def resident_id(value: str, *, today: date) -> str:
    """Normalise and check an 18-character resident ID number; raise InvalidInput if wrong."""
    text = ascii_digits(value, field="身份证号码").strip().upper()
    if not _ID_SHAPE.match(text):
        raise InvalidInput("id_format")
    if text[:2] not in _PROVINCE_CODES:
        raise InvalidInput("id_region")
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise InvalidInput("id_birthdate") from None
    if born > today or born.year < 1880:
        raise InvalidInput("id_birthdate")
    if id_check_digit(text[:17]) != text[17]:
        raise InvalidInput("id_check_digit")
    return text


def phone(value: str) -> str:
    """A mainland mobile (11 digits) or a landline with its area code, checked by phonenumbers.

    Returned as the digits of the mobile, or 0AREA-NUMBER for a landline.
    """
    import phonenumbers

    text = re.sub(r"[\s()-]", "", ascii_digits(value, field="电话号码"))
    if text.startswith("+86"):
        text = text[3:]
    if not (_MOBILE.match(text) or _LANDLINE.match(text)):
        raise InvalidInput("phone")
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidInput("phone") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput("phone")
    if _MOBILE.match(text):
        return text
    national = str(parsed.national_number)
    area_length = len(national) - (8 if len(national) >= 10 else 7)
    return f"0{national[:area_length]}-{national[area_length:]}"


def email(value: str) -> str:
    """A plain address, no display name and no line breaks."""
    text = value.strip()
    if len(text) > 254 or not _EMAIL.match(text):
        raise InvalidInput("email", value=text[:60])
    return text


def iso_date(value: str, *, field: str) -> date:
    """A YYYY-MM-DD date."""
    try:
        return date.fromisoformat(ascii_digits(value, field=field).strip())
    except ValueError:
        raise InvalidInput("date", field=field, value=value[:40]) from None


def slug(value: str, *, field: str) -> str:
    text = value.strip()
    if not _SLUG.match(text):
        raise InvalidInput("slug", field=field, value=text[:40])
    return text


def code_or_name(value: str, *, field: str) -> str:
    """A material or role as typed: its code (need-1) or its name (服役证明)."""
    text = free_text(value, field=field, max_length=100)
    if not text:
        raise InvalidInput("missing_value", field=field)
    return text


def person_name(value: str) -> str:
    """A name as typed, trimmed; control characters and absurd lengths refused."""
    text = value.strip()
    if not text or len(text) > 64 or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidInput("name")
    return text


# First two digits of GB/T 2260 province-level codes.
_PROVINCE_CODES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)


_TRACKING = re.compile(r"^[A-Z0-9]{8,30}$")


def tracking_number(value: str) -> str:
    """A postal tracking number as printed on the receipt (EMS, China Post, SF …): 8–30 letters
    and digits; spaces and dashes people type in between are dropped, letters upper-cased."""
    text = re.sub(r"[\s-]", "", value).upper()
    if not _TRACKING.match(text):
        raise InvalidInput("tracking_number", value=value.strip()[:40])
    return text


def letter_language(value: str) -> Literal["zh", "en"]:
    """The language of the applicant's letters: Chinese, or English where a template has it."""
    text = value.strip().lower()
    if text == "zh":
        return "zh"
    if text == "en":
        return "en"
    raise InvalidInput("letter_lang", value=value.strip()[:20])


def free_text(
    value: str | None,
    *,
    field: str,
    max_length: int,
    multiline: bool = False,
    required: bool = True,
) -> str | None:
    """Free text a person typed (a note, a reason, a name): trimmed, no control characters
    (line breaks and tabs only where `multiline`), at most `max_length` characters."""
    text = (value or "").strip()
    allowed = "\n\t" if multiline else ""
    if any(ord(c) < 32 and c not in allowed for c in text) or len(text) > max_length:
        raise InvalidInput("text_invalid", field=field, max_length=max_length)
    if not text:
        if required:
            raise InvalidInput("text_required", field=field)
        return None
    return text


def public_url(value: str) -> str:
    """The address citizens and agencies open the workbench at (printed in letters and QR
    codes): http or https, a host, an optional path; no query, no fragment, no password."""
    text = value.strip().rstrip("/")
    parts = urlsplit(text)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
        or any(c.isspace() or ord(c) < 32 for c in text)
        or len(text) > 200
    ):
        raise InvalidInput("public_url", value=text[:80])
    return text


def is_loopback_url(url: str) -> bool:
    """An address only this machine can open (127.x, ::1, localhost, 0.0.0.0): printed on a
    letter, it reaches no one."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        found = ip_address(host)
    except ValueError:
        return False
    return found.is_loopback or found.is_unspecified  # 0.0.0.0 is no address to open either
