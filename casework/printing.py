"""Printable letters: the print layout of a rendered message made into an A4 PDF."""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import Any

log = logging.getLogger("casework.printing")

# What `make printing` installs (Makefile PRINT_PACKAGES): Pango for WeasyPrint, HarfBuzz's
# subsetter to cut the font embedded in each letter down to the characters it uses, and a CJK font.
DEBIAN_PACKAGES = ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-wqy-zenhei")
_PACKAGES = " ".join(DEBIAN_PACKAGES)


class PrintingUnavailable(RuntimeError):
    """WeasyPrint cannot load here (Pango missing): letters are filed as text instead."""


@lru_cache(maxsize=1)
def _weasyprint() -> Any:
    try:
        import weasyprint
    except OSError as exc:  # the Python package is there, the system's Pango is not
        raise PrintingUnavailable(
            f"PDF letters need Pango and a CJK font (Debian: apt-get install {_PACKAGES})"
        ) from exc
    return weasyprint


class _OnlyOurNotice(logging.Filter):
    """Drops WeasyPrint's warning, repeated for each font of each letter, that it subsets fonts
    with fontTools: `_check_subsetting` has said it once, with the package to install."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "instead of HarfBuzz-Subset" not in record.getMessage()


_ONLY_OUR_NOTICE = _OnlyOurNotice()


@lru_cache(maxsize=1)
def _check_subsetting() -> bool:
    """Whether WeasyPrint subsets fonts with HarfBuzz; warns once where it falls back to
    fontTools, which takes ~1 s a letter with the CJK font (HarfBuzz: ~0.05 s)."""
    from weasyprint.pdf import fonts

    if fonts.harfbuzz_subset and fonts.harfbuzz.hb_version_atleast(4, 1, 0):
        return True
    log.warning(
        "Letters print slowly (about 1 s each, not 0.05 s): HarfBuzz's font subsetter is "
        "missing (Debian: apt-get install libharfbuzz-subset0)"
    )
    logging.getLogger("weasyprint").addFilter(_ONLY_OUR_NOTICE)
    return False


# One font configuration for the process, kept between letters: building one (Pango's font map)
# is a third of a letter's time, and the run starter's is warm (it printed a letter) before it
# forks an engine. Pango's objects may be used by one thread at a time, so letters print one at
# a time; they are CPU work under the GIL, so threads printing side by side would gain nothing.
_printing = threading.Lock()
_fonts: list[Any] = []


def render_pdf(printable_html: str) -> bytes:
    """The letter as PDF bytes: fonts embedded, A4, page numbers in the footer."""
    weasyprint = _weasyprint()
    _check_subsetting()
    with _printing:
        if not _fonts:
            from weasyprint.text.fonts import FontConfiguration

            _fonts.append(FontConfiguration())
        pdf: bytes = weasyprint.HTML(string=printable_html).write_pdf(font_config=_fonts[0])
    return pdf
