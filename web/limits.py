"""Whom a request is counted against: the address it came from. Behind the configured proxy
(CASEWORK_WEB_TRUSTED_PROXY) uvicorn takes it from that proxy's X-Forwarded-For; from anyone
else the header is ignored, so nobody picks the address their failures are counted on."""

from __future__ import annotations

from fastapi import Request


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"
