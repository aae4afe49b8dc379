"""Finding a person's cases by what the clerk knows: a resident ID, a phone number or a full
name. Each is normalised and looked up by a keyed hash, so the database keeps no clear copy to
search and a lookup never scans the applicants."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from casework import validation
from casework.crypto import lookup_hash
from casework.errors import UserError

_SPACES = re.compile(r"[\s\u3000·.]+")


def name_key(name: str) -> str:
    """The lookup hash of a full name: full-width forms folded, spaces and middle dots dropped
    (刘 岩, 刘岩 and ＬＩＵ ＹＡＮ/liu yan find each other's cases), case-folded."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return lookup_hash("name:" + _SPACES.sub("", folded))


def phone_key(phone: str) -> str:
    """The lookup hash of a phone number, as validation.phone writes it."""
    return lookup_hash("phone:" + phone)


@dataclass(frozen=True)
class Query:
    kind: Literal["id_number", "phone", "name"]
    key: str  # what the database is searched for: a keyed hash, or the ID's own hash


def classify(text: str, *, today: date) -> Query:
    """What the clerk typed into the search box: an 18-character resident ID (checked), a
    mobile or landline number, or else a full name."""
    typed = unicodedata.normalize("NFKC", text).strip()
    if not typed:
        raise UserError("search_empty")
    compact = re.sub(r"[\s-]", "", typed)
    if len(compact) == 18 and compact[:17].isdigit():
        number = validation.resident_id(compact, today=today)
        return Query("id_number", lookup_hash(number))
    if compact.removeprefix("+").isdigit():
        return Query("phone", phone_key(validation.phone(typed)))
    return Query("name", name_key(validation.person_name(typed)))
