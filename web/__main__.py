"""`python -m web`: serve the workbench on the configured address (the stack starts it)."""

from __future__ import annotations

import uvicorn

from casework.settings import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run("web.app:app", host=settings.web_host, port=settings.web_port, log_level="info")


if __name__ == "__main__":
    main()
