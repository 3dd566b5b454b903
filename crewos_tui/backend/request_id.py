"""The id of the request a service call serves, for the audit log.

The server sets it per HTTP request (``server/request_id.py``) and echoes it in the
``X-Request-ID`` response header; local calls have none, and the audit trail then
generates one per transaction, so the events of one call still share an id.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar, Token

_current: ContextVar[str | None] = ContextVar("crewos_request_id", default=None)
#: What a client-supplied X-Request-ID may look like to be kept (else a new one is made).
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def new_request_id(prefix: str = "req") -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


def acceptable(value: str | None) -> bool:
    return bool(value) and bool(_ACCEPTABLE.match(value or ""))


def current_request_id() -> str | None:
    return _current.get()


def set_request_id(value: str | None) -> Token[str | None]:
    return _current.set(value)


def reset_request_id(token: Token[str | None]) -> None:
    _current.reset(token)
