"""The session cookie. Signed in, it holds a random token for a row in the case database
(ended at sign-out, a password reset, a disabled account or idle time); before signing in, a
signed value holding only the sign-in form's CSRF token. Either way a browser-session cookie
(no Max-Age: closing the shared window PC's browser forgets it), Secure over HTTPS."""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request, Response

from casework.links import sign, unsign
from usecases import web_access

COOKIE = "casework_session"
_ANONYMOUS = "a."  # the prefix of a signed-out session's cookie


@dataclass
class Session:
    username: str | None
    csrf: str
    token: str | None = None  # signed in: the cookie's token
    expires: float = 0.0  # signed out: when the signed value stops counting

    def cookie(self) -> str:
        if self.token is not None:
            return self.token
        payload = json.dumps({"c": self.csrf, "e": self.expires})
        return _ANONYMOUS + sign(
            "anonymous-session", base64.urlsafe_b64encode(payload.encode()).decode()
        )

    @classmethod
    def anonymous(cls, hours: float) -> Session:
        return cls(None, secrets.token_urlsafe(24), expires=time.time() + hours * 3600)

    @classmethod
    def from_cookie(cls, cookie: str | None, as_of: datetime) -> Session | None:
        """The session if the cookie is ours and has not ended."""
        if not cookie:
            return None
        if cookie.startswith(_ANONYMOUS):
            value = unsign("anonymous-session", cookie[len(_ANONYMOUS) :])
            if value is None:
                return None
            try:
                data = json.loads(base64.urlsafe_b64decode(value.encode()))
                session = cls(None, str(data["c"]), expires=float(data["e"]))
            except (ValueError, KeyError, TypeError):
                return None
            return session if session.expires > time.time() else None
        if len(cookie) > 100:
            return None
        found = web_access.open_session(token=cookie, as_of=as_of)
        return None if found is None else cls(found.username, found.csrf, token=cookie)

    def csrf_ok(self, token: str | None) -> bool:
        return token is not None and secrets.compare_digest(self.csrf, token)


def set_session_cookie(response: Response, request: Request, session: Session) -> None:
    response.set_cookie(
        COOKIE,
        session.cookie(),
        httponly=True,
        samesite="strict",
        path="/",
        secure=request.url.scheme == "https",
    )
