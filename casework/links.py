"""Codes that let someone without an account reach one thing: an agency its request's reply
page, a citizen her case's status page. Each is an HMAC under a key in <home>/secrets, so it
cannot be guessed or forged, and the same request always gets the same code (a letter filed
again after a crash carries the code the database holds)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from functools import lru_cache
from pathlib import Path

from casework.crypto import secret_file
from casework.settings import get_settings

# Crockford's base32 without I, L, O, U: a code read aloud over the phone is typed right.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@lru_cache
def _key(home: Path) -> bytes:
    return secret_file(home / "secrets" / "links.key", secrets.token_urlsafe(32).encode())


def _digest(purpose: str, subject: str) -> bytes:
    key = _key(get_settings().home)
    return hmac.new(key, f"{purpose}:{subject}".encode(), hashlib.sha256).digest()


def reply_code(request_key: str) -> str:
    """The short code of a request's reply page, e.g. "7KQ2M-XD94R" (50 bits)."""
    number = int.from_bytes(_digest("reply", request_key)[:8], "big")
    chars = "".join(_ALPHABET[(number >> (5 * i)) & 31] for i in range(10))
    return f"{chars[:5]}-{chars[5:]}"


def normalise_code(typed: str) -> str:
    """A code as typed from paper: any case, spaces or dashes, O for 0 and I/L for 1."""
    cleaned = typed.upper().replace(" ", "").replace("-", "")
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    return f"{cleaned[:5]}-{cleaned[5:]}" if len(cleaned) == 10 else cleaned


_CODE = re.compile(f"^[{_ALPHABET}]{{5}}-[{_ALPHABET}]{{5}}$")


def is_code(normalised: str) -> bool:
    """Whether a normalised code could be one this install made (nothing else is looked up)."""
    return bool(_CODE.match(normalised))


def status_token(case_number: str) -> str:
    """The random-looking part of a case's status page address."""
    return base64.urlsafe_b64encode(_digest("status", case_number)[:16]).decode().rstrip("=")


def status_token_matches(case_number: str, token: str) -> bool:
    """Whether `token` opens this case's status page (compared in constant time)."""
    return hmac.compare_digest(status_token(case_number).encode(), token.encode())


def rating_code(case_number: str) -> str:
    """The code in her closing letter that lets the citizen rate her case, e.g. "K3M9-7QXD"
    (40 bits). Staff pages never show it: the status link alone does not let staff rate."""
    number = int.from_bytes(_digest("rating", case_number)[:8], "big")
    chars = "".join(_ALPHABET[(number >> (5 * i)) & 31] for i in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def rating_code_matches(case_number: str, typed: str) -> bool:
    """Whether the code typed from the letter is this case's (read leniently, compared in
    constant time)."""
    cleaned = typed.upper().replace(" ", "").replace("-", "")
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    expected = rating_code(case_number).replace("-", "")
    return hmac.compare_digest(expected.encode(), cleaned[:16].encode())


def sign(purpose: str, value: str) -> str:
    """`value` with a signature only this install can make (the session cookie)."""
    mac = base64.urlsafe_b64encode(_digest(purpose, value)).decode().rstrip("=")
    return f"{value}.{mac}"


def unsign(purpose: str, signed: str) -> str | None:
    """The value if its signature is right, else None."""
    value, _, mac = signed.rpartition(".")
    if not value:
        return None
    expected = base64.urlsafe_b64encode(_digest(purpose, value)).decode().rstrip("=")
    return value if hmac.compare_digest(expected.encode(), mac.encode()) else None


def qr_data_uri(url: str) -> str:
    """The address as a QR code (SVG data URI) for a letter's paper copy."""
    import segno  # only where a notice is written

    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=1))
