"""Encryption at rest for resident ID and phone numbers, and a keyed hash to find them again.

Keys come from settings (CASEWORK_DATA_KEYS: Fernet keys, comma-separated, the first one
encrypts; CASEWORK_LOOKUP_KEY) or, on the embedded default, from files created once under
<home>/secrets with mode 0600. To rotate: put a new key first in CASEWORK_DATA_KEYS, keep the
old ones after it, run `casework rotate-keys`, then drop the old keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

from casework.settings import get_settings


def private_folder(folder: Path) -> None:
    """`folder` and each missing folder above it made 0700 (mkdir's parents=True would make
    those above with the process's umask: the home itself world-readable)."""
    missing = [f for f in (folder, *folder.parents) if not f.exists()]
    for each in reversed(missing):
        each.mkdir(mode=0o700, exist_ok=True)


def secret_file(path: Path, make: bytes) -> bytes:
    """Read a key file, creating it (0600) the first time; safe when processes race."""
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(make)
    return make


@lru_cache
def _ciphers(
    data_keys: str | None, lookup_key: str | None, home: Path
) -> tuple[MultiFernet, bytes]:
    keys = [k.strip().encode() for k in data_keys.split(",") if k.strip()] if data_keys else []
    if not keys:
        keys = [secret_file(home / "secrets" / "data.key", Fernet.generate_key())]
    lookup = (
        lookup_key.encode()
        if lookup_key
        else secret_file(home / "secrets" / "lookup.key", base64.urlsafe_b64encode(os.urandom(32)))
    )
    return MultiFernet([Fernet(k) for k in keys]), lookup


def _current() -> tuple[MultiFernet, bytes]:
    settings = get_settings()
    return _ciphers(
        settings.data_keys.get_secret_value() if settings.data_keys else None,
        settings.lookup_key.get_secret_value() if settings.lookup_key else None,
        settings.home,
    )


def encrypt(text: str) -> str:
    return _current()[0].encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    return _current()[0].decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """Re-encrypt under the first (newest) key."""
    return _current()[0].rotate(token.encode()).decode()


def lookup_hash(text: str) -> str:
    """A keyed hash for exact lookup (find a case by ID number) without storing the number."""
    return hmac.new(_current()[1], text.encode(), hashlib.sha256).hexdigest()


def encrypt_bytes(data: bytes) -> bytes:
    """A document (a scan, a photo) encrypted under the newest data key."""
    return _current()[0].encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    return _current()[0].decrypt(token)


def rotate_bytes(token: bytes) -> bytes:
    """Re-encrypt a document under the first (newest) key."""
    return _current()[0].rotate(token)
