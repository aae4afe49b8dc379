"""好差评: the five levels of the national rating, and what each asks of the office."""

from __future__ import annotations

from casework.errors import UserError

LEVEL_WORDS: dict[int, str] = {
    5: "非常满意",
    4: "满意",
    3: "基本满意",
    2: "不满意",
    1: "非常不满意",
}
LEVEL_ENGLISH: dict[int, str] = {
    5: "very satisfied",
    4: "satisfied",
    3: "fairly satisfied",
    2: "dissatisfied",
    1: "very dissatisfied",
}
_TYPED = {
    **{str(level): level for level in LEVEL_WORDS},
    **{words: level for level, words in LEVEL_WORDS.items()},
    **{words.replace(" ", "-"): level for level, words in LEVEL_ENGLISH.items()},
}


def parse_level(typed: str) -> int:
    """1–5, the Chinese words or their English (very-satisfied…); anything else is refused."""
    level = _TYPED.get(typed.strip().lower())
    if level is None:
        raise UserError("bad_rating", value=typed.strip()[:20])
    return level


def needs_follow_up(level: int) -> bool:
    """不满意 and 非常不满意 must be rectified and followed up by a call."""
    return level <= 2


def satisfied(level: int) -> bool:
    """满意率 here counts 非常满意, 满意 and 基本满意 as satisfied."""
    return level >= 3
