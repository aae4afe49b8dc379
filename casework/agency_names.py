"""When two agency names are the same agency written twice. Pure: no I/O.

A directory with "西城区公共就业和人才服务中心" and "西城区 公共就业和人才服务中心（档案室）" sends one
agency's letters to two entries, and learns its answer time from half of them."""

from __future__ import annotations

import difflib
import re
import unicodedata

# Brackets hold the desk or an aside (（档案室）): the desk has its own field.
_BRACKETED = re.compile(r"[（(][^）)]*[）)]")
_NOT_A_WORD = re.compile(r"[\W_]+")
# Names this much alike differ by a character or two (a typo, 区 for 县): the same agency.
ALIKE = 0.85
# A name inside another (民政局 in 西城区民政局) is the same agency only when it says enough.
SHORTEST_CONTAINED = 4


def normalised(name: str) -> str:
    """The name without width, case, spaces, punctuation or bracketed asides."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return _NOT_A_WORD.sub("", _BRACKETED.sub("", text))


def near_duplicate(one: str, other: str) -> bool:
    """Whether two names are the same agency: equal once normalised, one inside the other (a
    district or department prefix added), or alike but for a character or two."""
    a, b = normalised(one), normalised(other)
    if not a or not b:
        return a == b
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= SHORTEST_CONTAINED and shorter in longer:
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= ALIKE
