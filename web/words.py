"""The workbench's words: pages are written in Chinese and wrap each phrase in `_()`; with
English chosen (the link in the header, kept in a cookie) `_` finds the phrase's English in the
one catalogue (casework/i18n.py). A phrase missing there stays Chinese, and a test reads every
template and web module so none goes missing. Playbook data (case types, materials, agencies)
is the office's own and stays as the office wrote it."""

from __future__ import annotations

from collections.abc import Callable

from casework.i18n import LANGUAGES, lookup

__all__ = ["LANGUAGES", "LANG_COOKIE", "translator"]

LANG_COOKIE = "casework_lang"


def translator(lang: str) -> Callable[..., str]:
    """`_` for a page: the phrase in the chosen language, `{named}` fields filled in."""

    def _(phrase: str, **fields: object) -> str:
        text = (lookup(None, phrase, "en") or phrase) if lang == "en" else phrase
        return text.format(**fields) if fields else text

    return _
