"""The one catalogue of what people read: every message (by code), every label of a code (by
group and code) and every phrase of the workbench's pages (by its Chinese), in gettext
catalogues under casework/locale/<lang>/LC_MESSAGES/casework.po, read with Babel.

Codes are keyed by a context ("message", "page-message", "label:<group>") and the code, so both
languages translate them; a page phrase is written in Chinese where it is used and only needs
its English. A translator edits the .po files with any gettext tool; `tests/test_catalogue.py`
keeps them complete (every code labelled in both languages, every page phrase in English, no
entry that nothing uses)."""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("zh", "en")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "casework"


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(lang: str) -> Catalog:
    """The catalogue as written (for tests and tools)."""
    with po_path(lang).open("rb") as source:
        return read_po(source, locale="zh_Hans_CN" if lang == "zh" else lang, domain=DOMAIN)


@lru_cache
def translations(lang: str) -> Translations:
    """The catalogue of `lang` ready for lookups (compiled in memory, once per process); an
    unknown language reads Chinese."""
    buffer = BytesIO()
    write_mo(buffer, read_catalogue(lang if lang in LANGUAGES else "zh"))
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def lookup(context: str | None, key: str, lang: str) -> str | None:
    """The text for `key` (in `context`), or None when the catalogue has none."""
    found = str(
        translations(lang).pgettext(context, key) if context else translations(lang).gettext(key)
    )
    return None if found == key else found
