"""The workbench's rate limits (one web process keeps count)."""

from __future__ import annotations

from fastapi import Request

from web.sessions import RateLimit

LOGIN_FAILURES = RateLimit(limit=5, window=15 * 60)
CODE_FAILURES = RateLimit(limit=10, window=15 * 60)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"
