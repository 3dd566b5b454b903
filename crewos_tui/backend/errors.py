"""One error hierarchy for both backends.

The local service layer raises these; the server maps them to status codes and a
``{"detail": ...}`` body; the remote client maps status codes back. Screens catch
``CrewOSError`` and show ``str(error)``.
"""

from __future__ import annotations


class CrewOSError(Exception):
    """Base class: a failure the user can read. ``detail`` is the message."""

    status_code: int = 400

    def __init__(self, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after

    def __str__(self) -> str:  # what a user reads
        return self.detail


class Invalid(CrewOSError):
    """The input is wrong (422)."""

    status_code = 422


class Unauthorized(CrewOSError):
    """Missing, bad, expired or revoked credentials (401)."""

    status_code = 401


class Forbidden(CrewOSError):
    """Authenticated, but not allowed (403)."""

    status_code = 403


class NotFound(CrewOSError):
    """Unknown, or invisible to the caller (404)."""

    status_code = 404


class Conflict(CrewOSError):
    """Illegal state change or a uniqueness conflict (409)."""

    status_code = 409


class PayloadTooLarge(Invalid):
    """An upload over the size limit (413)."""

    status_code = 413


class UnsupportedMedia(Invalid):
    """An upload whose content is not a supported type (415)."""

    status_code = 415


class RateLimited(CrewOSError):
    """Too many requests (429); ``retry_after`` in seconds when known."""

    status_code = 429


class Unavailable(CrewOSError):
    """The backend cannot serve now: unreachable server, database not ready (503)."""

    status_code = 503


class DatabaseError(Unavailable):
    """The workspace's SQLite database cannot be used (503): one line naming the file and
    what to do. ``path`` is the file. ``client_detail`` is what clients of a server read
    instead: it names the file but not where the server keeps it (the server's log has the
    whole line). Made by ``backend/local/sqlite_errors.py``."""

    def __init__(self, detail: str, *, path: str = "", client_detail: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.path = path
        self.client_detail = client_detail or detail


class DatabaseFull(DatabaseError):
    """The disk (or the file's size limit) is full: the change was not saved."""


class DatabaseReadOnly(DatabaseError):
    """The database file or its folder cannot be written (or the folder cannot be made)."""


class DatabaseDamaged(DatabaseError):
    """The file is not a SQLite database, or its pages are malformed."""


class DatabaseForeign(DatabaseError):
    """A SQLite database, but not a crewos-tui one (tables without our schema version)."""


class DatabaseTooNew(DatabaseError):
    """The schema version is newer than this crewos-tui understands."""


class DatabaseLocked(DatabaseError):
    """Another process held the write lock for longer than the retries wait."""


class StreamIncomplete(CrewOSError):
    """A streamed answer that ended before its final event: cut, broken off or silent
    past the limit. ``chars`` characters of the reply had arrived; the caller may retry."""

    status_code = 502

    def __init__(self, chars: int, why: str) -> None:
        super().__init__(f"{why}: the reply is incomplete — {chars} characters arrived")
        self.chars = chars


_BY_STATUS: dict[int, type[CrewOSError]] = {
    400: Invalid,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: Invalid,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMedia,
    422: Invalid,
    429: RateLimited,
    502: Unavailable,
    503: Unavailable,
    504: Unavailable,
}


def error_for_status(status: int, detail: str, retry_after: float | None = None) -> CrewOSError:
    """The error class a status code stands for (used by the remote client)."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = Unavailable if status >= 500 else Invalid
    return cls(detail, retry_after=retry_after)
