"""What people read, by code: a message (an error, a CLI line) or the label of a code (a status,
an outcome, an audit event…), in Chinese or English, from the one catalogue (casework/i18n.py,
gettext catalogues under casework/locale/). Front ends, artifacts, boards and reports print
these, never the code."""

from __future__ import annotations

from casework.i18n import lookup


def _printable(value: object) -> str:
    """Echoed user input stays on one line: control characters are shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))


def message(code: str, lang: str = "zh", **params: object) -> str:
    """The text for `code` in `lang` ("zh" or "en"), with params filled in (an unknown code is
    shown as it is)."""
    return fill(lookup("message", code, lang) or code, **params)


def page_message(code: str, lang: str = "zh", **params: object) -> str:
    """A mistake as a page tells it: the page's own wording where the command line's names an
    option to type (`--forward-to`), else the message."""
    found = lookup("page-message", code, lang)
    return fill(found, **params) if found else message(code, lang, **params)


def fill(template: str, **params: object) -> str:
    """A message with its params filled in, control characters taken out of them; as written
    when it names a param it was not given (a message never raises)."""
    safe = {k: v if k == "detail" else _printable(v) for k, v in params.items()}
    try:
        return template.format(**safe)
    except (KeyError, IndexError):
        return template


def label(group: str, code: object, lang: str = "zh") -> str:
    """The label of `code` in `group` ("case_status", "outcome", "event"…); an unknown code is
    shown as it is (a test keeps every known code labelled)."""
    text = str(code)
    return lookup(f"label:{group}", text, lang) or text
