"""Signed session cookies with a CSRF token, and a small in-memory rate limiter."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from casework.links import sign, unsign

COOKIE = "casework_session"


@dataclass
class Session:
    username: str | None
    csrf: str
    expires: float

    def cookie(self) -> str:
        payload = json.dumps({"u": self.username, "c": self.csrf, "e": self.expires})
        return sign("session", base64.urlsafe_b64encode(payload.encode()).decode())

    @classmethod
    def anonymous(cls, hours: float) -> Session:
        return cls(None, secrets.token_urlsafe(24), time.time() + hours * 3600)

    @classmethod
    def signed_in(cls, username: str, hours: float) -> Session:
        # A new CSRF token at sign-in: a token seen before it is worth nothing after.
        return cls(username, secrets.token_urlsafe(24), time.time() + hours * 3600)

    @classmethod
    def from_cookie(cls, cookie: str | None) -> Session | None:
        """The session if the cookie is ours and not expired."""
        value = unsign("session", cookie) if cookie else None
        if value is None:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(value.encode()))
            session = cls(data["u"], str(data["c"]), float(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > time.time() else None

    def csrf_ok(self, token: str | None) -> bool:
        return token is not None and secrets.compare_digest(self.csrf, token)


class RateLimit:
    """At most `limit` failures per key in `window` seconds (one web process keeps count)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, moment: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] < moment - self.window:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> bool:
        moment = time.time()
        with self._lock:
            return any(len(self._recent(k, moment)) >= self.limit for k in keys)

    def failed(self, *keys: str) -> None:
        moment = time.time()
        with self._lock:
            for key in keys:
                self._recent(key, moment).append(moment)
