"""Masked forms of personal data for anything shown outside the case page."""

from __future__ import annotations

import re


def mask_name(name: str) -> str:
    """沈** : the surname stays, the rest becomes asterisks."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(number: str) -> str:
    """138****5678 for mobiles; landlines keep the area code and last 4 digits."""
    if len(number) == 11 and number.isdigit():
        return number[:3] + "****" + number[-4:]
    if len(number) > 4:
        return re.sub(r"\d", "*", number[:-4]) + number[-4:]
    return "****"


def mask_id_number(value: str) -> str:
    """1101**********002X : region prefix and last four kept."""
    if len(value) != 18:
        return "*" * len(value)
    return value[:4] + "*" * 10 + value[-4:]


_ID_IN_TEXT = re.compile(r"(?<!\d)(\d{6})(\d{8})(\d{3}[\dXx])(?!\d)")
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


_EMAIL_IN_TEXT = re.compile(r"([A-Za-z0-9._%+\-]+)@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)")


def mask_email(address: str) -> str:
    """s***@example.com : the first character and the domain kept."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_text(text: str) -> str:
    """Mask any resident ID, mobile number or email address inside free text (a second line
    of defence: an SMTP error quoting the refused address, say)."""
    text = _ID_IN_TEXT.sub(lambda m: m.group(1)[:4] + "*" * 10 + m.group(3), text)
    text = _MOBILE_IN_TEXT.sub(lambda m: m.group(1) + "****" + m.group(3), text)
    return _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), text)
