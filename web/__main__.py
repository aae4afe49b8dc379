"""`python -m web`: serve the workbench on the configured address (the stack starts it)."""

from __future__ import annotations

import logging
import os
import sys

import uvicorn

from casework.settings import get_settings
from web.access_log import RedactSecrets


def main() -> None:
    os.umask(0o077)  # its logs and files are the install's alone (the stack sets it too)
    # Its output is a log file: a line at a time, so a stop or a kill loses no last minutes.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    logging.getLogger("uvicorn.access").addFilter(RedactSecrets())
    settings = get_settings()
    proxy = settings.web_trusted_proxy.strip()
    uvicorn.run(
        "web.app:app",
        host=settings.web_host,
        port=settings.web_port,
        log_level="info",
        # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise: on this stack
        # every client is local, so anyone could choose the address counted against them.
        proxy_headers=bool(proxy),
        forwarded_allow_ips=proxy or None,
    )


if __name__ == "__main__":
    main()
