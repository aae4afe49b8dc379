"""Dedupe keys: the one home of the keys that make each outgoing contact and email happen once.

A key is `kind:case_number:part…`; the parts say which letter of the case it is, so a key also
names the letter's printable file (`document_name`).
"""

from __future__ import annotations

SEPARATOR = ":"


def _key(kind: str, case_number: str, *parts: object) -> str:
    return SEPARATOR.join([kind, case_number, *(str(p) for p in parts)])


def notice_key(case_number: str) -> str:
    return _key("notice", case_number)


def request_key(case_number: str, material: str, agency: str, attempt: int) -> str:
    return _key("request", case_number, material, agency, attempt)


def reminder_key(case_number: str, request_id: int, reminder_number: int) -> str:
    return _key("reminder", case_number, request_id, reminder_number)


def escalation_key(
    case_number: str, reason: str, material: str | None, request_id: int | None
) -> str:
    return _key("escalation", case_number, reason, material or "-", request_id or "-")


def appointment_notice_key(kind: str, case_number: str, appointment_id: int) -> str:
    return _key(kind, case_number, appointment_id)


def reminder_number(dedupe_key: str) -> int:
    """The n of reminder:<case>:<request>:<n>."""
    return int(dedupe_key.split(SEPARATOR)[3])


def closing_key(case_number: str) -> str:
    return _key("closing", case_number)


def extension_key(case_number: str, number: int) -> str:
    return _key("extension", case_number, number)


def second_notice_key(case_number: str, number: int) -> str:
    return _key("second-notice", case_number, number)


def withdrawal_key(case_number: str, request_id: int) -> str:
    return _key("withdrawal", case_number, request_id)


def inbound_key(message_key: str) -> str:
    return f"inbound{SEPARATOR}{message_key}"


def document_name(dedupe_key: str) -> str:
    """A letter's file name, from the key that makes it unique within its case:
    request:HC-2026-0001:cremation-certificate:crematorium-front-desk:2 → request-cremation-
    certificate-crematorium-front-desk-2 (the case number is the folder)."""
    kind, _case_number, *rest = dedupe_key.split(SEPARATOR)
    return "-".join([kind, *rest])
