"""`python -m web`: serve the workbench on the configured address (the stack starts it)."""

from __future__ import annotations

import os

import uvicorn

from casework.settings import get_settings


def main() -> None:
    os.umask(0o077)  # its logs and files are the install's alone (the stack sets it too)
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
