"""The workbench's access log without the secrets in its paths: a reply code or a status
link's token in a log line would open the agency's answer form or the citizen's page to
whoever reads the log."""

from __future__ import annotations

import logging
import re

# /r/7KQ2M-XD94R → /r/…; /s/HC-2026-0001/<token> → /s/HC-2026-0001/…
_SECRET_PATHS = re.compile(r"^(/r/|/s/[^/?]+/)[^/?\s]+")


def redacted(path: str) -> str:
    return _SECRET_PATHS.sub(r"\1…", path)


class RedactSecrets(logging.Filter):
    """Rewrites the path of uvicorn's access records (their third argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redacted(args[2]), *args[3:])
        return True
