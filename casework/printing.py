"""Printable letters: the print layout of a rendered message made into an A4 PDF."""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import Any

log = logging.getLogger("casework.printing")


class PrintingUnavailable(RuntimeError):
    """WeasyPrint cannot load here (Pango missing): letters are filed as text instead."""


@lru_cache(maxsize=1)
def _weasyprint() -> Any:
    try:
        import weasyprint
    except OSError as exc:  # the Python package is there, the system's Pango is not
        raise PrintingUnavailable(
            "PDF letters need Pango and a CJK font "
            "(Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-zenhei)"
        ) from exc
    return weasyprint


# One font configuration for the process, kept between letters: building one (Pango's font map)
# is a third of a letter's time, and the run starter's is warm (it printed a letter) before it
# forks an engine. Pango's objects may be used by one thread at a time, so letters print one at
# a time; they are CPU work under the GIL, so threads printing side by side would gain nothing.
_printing = threading.Lock()
_fonts: list[Any] = []


def render_pdf(printable_html: str) -> bytes:
    """The letter as PDF bytes: fonts embedded, A4, page numbers in the footer."""
    weasyprint = _weasyprint()
    with _printing:
        if not _fonts:
            from weasyprint.text.fonts import FontConfiguration

            _fonts.append(FontConfiguration())
        pdf: bytes = weasyprint.HTML(string=printable_html).write_pdf(font_config=_fonts[0])
    return pdf
