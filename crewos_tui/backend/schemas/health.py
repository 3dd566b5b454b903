"""Health and readiness."""

from __future__ import annotations

from .common import Wire


class Liveness(Wire):
    status: str = "ok"
    version: str


class Readiness(Wire):
    status: str  # "ready" | "not_ready"
    version: str
    database: str  # "ok" or the reason it is not
    schema_version: int
    expected_schema_version: int
