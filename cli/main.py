"""`casework`: the window clerk's command line (Chinese by default, `--lang en` for English).

Each module of this package is one group of commands; they only parse arguments, call the
application layer (usecases/) and print labels from the message catalogue.
"""

from __future__ import annotations

import os

from cli import (
    accounts,
    agencies,
    answers,
    case_types,
    demo,
    intake,
    local_stack,
    office,
    office_rules,
    reading,
    route,
)
from cli.app import app

COMMAND_GROUPS = (
    local_stack,
    accounts,
    intake,
    answers,
    route,
    agencies,
    case_types,
    reading,
    office,
    office_rules,
    demo,
)

__all__ = ["COMMAND_GROUPS", "app"]


def main() -> None:  # pragma: no cover - console entry point
    # The home holds the case database, letters, keys and logs: whatever a command and the
    # services it starts (they inherit the mask) create there is the install's user's alone.
    # Here, not in the app's callback: a test invoking the app must not change its own mask.
    os.umask(0o077)
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
