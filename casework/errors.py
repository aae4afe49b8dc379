"""Errors caused by what a person asked for: shown as one line in their language, never a traceback."""

from __future__ import annotations


class UserError(Exception):
    """`code` keys the message catalogue in casework.messages; `params` fill it in."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        from casework.messages import message

        return message(self.code, "en", **self.params)
