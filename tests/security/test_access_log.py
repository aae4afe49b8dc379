"""An attack through the logs (issue 37): the workbench's access log held live reply codes and
status tokens (a log reader could answer for an agency or read a citizen's page), and lost its
last minutes at `casework down`. Checked on the stack's own workbench process."""

from __future__ import annotations

import httpx
import pytest

from casework.settings import get_settings
from tests.waiting import wait_for
from web.access_log import redacted


@pytest.mark.unit
def test_secret_parts_of_paths_are_taken_out() -> None:
    cases = [
        ("/r/7KQ2M-XD94R", "/r/…"),
        ("/r/7KQ2M-XD94R?x=1", "/r/…?x=1"),
        ("/s/HC-2026-0001/abcDEF_123-x", "/s/HC-2026-0001/…"),
        ("/s/HC-2026-0001/abc?rated=1", "/s/HC-2026-0001/…?rated=1"),
        ("/r", "/r"),
        ("/cases/HC-2026-0001", "/cases/HC-2026-0001"),
        ("/search?q=110101", "/search?q=110101"),
    ]
    for path, expected in cases:
        assert redacted(path) == expected, path


@pytest.mark.integration
def test_the_access_log_holds_no_code_or_token_and_is_written_at_once(stack: object) -> None:
    web = get_settings().web_url
    code, token = "7KQ2M-XD94R", "Zq3-secret-status-token"
    assert httpx.get(f"{web}/r/{code}", timeout=30).status_code == 404
    assert httpx.get(f"{web}/s/HC-2026-0999/{token}", timeout=30).status_code == 404
    log = get_settings().logs_dir / "workbench.log"

    def logged() -> bool:  # line-buffered: there within moments, not at the process's end
        return '"GET /s/HC-2026-0999/… HTTP/1.1" 404' in log.read_text()

    wait_for(logged, seconds=10, what="the access log line")
    text = log.read_text()
    assert code not in text and token not in text and '"GET /r/… HTTP/1.1" 404' in text
