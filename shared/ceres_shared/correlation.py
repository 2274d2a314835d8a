"""The correlation id of the current request or event, carried into events and logs."""
from __future__ import annotations

import contextvars
import re
import uuid

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_id() -> str:
    return uuid.uuid4().hex


def get() -> str | None:
    return _current.get()


def set(value: str | None) -> contextvars.Token:  # noqa: A001 - mirrors ContextVar.set
    return _current.set(value)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)


def accept(header_value: str | None) -> str:
    """Keep a caller's id when it is well formed (it goes into logs), else make a new one."""
    if header_value and _VALID.match(header_value):
        return header_value
    return new_id()
