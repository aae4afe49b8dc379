"""Whose mail it is: a reply is an agency's only when its sender is one of the agency's known
addresses, or the office's own mail server vouches for the agency's domain by a DKIM pass it
stamped in Authentication-Results (RFC 8601). Anyone can write any From: line; only these two
checks tie a message to the agency it claims to come from."""

from __future__ import annotations

import re
from email.utils import getaddresses

# Control characters (C0 except tab and newline, DEL, C1): a subject or a sender could carry
# terminal escape sequences or bidi overrides into a clerk's terminal or page.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """The text with every control character taken out (before it reaches a terminal)."""
    return _CONTROL.sub("", text)


def sender_address(from_header: str) -> str:
    """The address of a From: header, lowercased ("" when there is none)."""
    found = [address for _name, address in getaddresses([from_header]) if "@" in address]
    return printable(found[0]).strip().lower() if found else ""


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def dkim_passes_for(authentication_results: list[str], authserv_id: str, domain: str) -> bool:
    """Whether our own server (`authserv_id`) stamped a DKIM pass for `domain`. A stamp by any
    other name is the sender's own say-so and is ignored."""
    if not authserv_id or not domain:
        return False
    for header in authentication_results:
        stamped_by, _, results = header.partition(";")
        if stamped_by.strip().lower().split()[0:1] != [authserv_id.lower()]:
            continue
        for result in results.split(";"):
            words = result.strip().lower()
            if words.startswith("dkim=pass") and re.search(
                rf"header\.d={re.escape(domain.lower())}(\s|$)", words
            ):
                return True
    return False


def sender_is_agencys(
    *,
    sender: str,
    agency_addresses: list[str],
    authentication_results: list[str],
    authserv_id: str,
) -> bool:
    """Whether a message from `sender` may be filed as the agency's own answer."""
    known = [a.strip().lower() for a in agency_addresses if a and "@" in a]
    if not sender or not known:
        return False
    if sender in known:
        return True
    return any(
        _domain(sender) == _domain(address)
        and dkim_passes_for(authentication_results, authserv_id, _domain(address))
        for address in known
    )
