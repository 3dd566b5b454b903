"""SQLite-only guards: triggers that make a table append-only.

The one place for this trigger DDL (portable SQL elsewhere). ``append_only(table)``
attaches it to the table's ``after_create`` event, so the triggers exist wherever
the table is created: a new database (``create_all``) and a migration step
(``_add_tables``) alike. Other dialects get nothing here; a PostgreSQL port would
add its own rules in the same place.

The guard refuses every UPDATE, and every DELETE while the row's project still
exists: deleting a whole project (foreign keys cascade) is the one way rows go.
"""

from __future__ import annotations

from sqlalchemy import DDL, Table, event

APPEND_ONLY_MESSAGE = "is append-only"


def _triggers(table: str, with_project: bool = True) -> list[str]:
    msg = f"{table} {APPEND_ONLY_MESSAGE}"
    # with_project=False: rows outlive their project too (the audit log) — no DELETE ever.
    when = "WHEN EXISTS (SELECT 1 FROM projects WHERE projects.id = OLD.project_id) " if with_project else ""
    return [
        (f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{msg}: rows are never updated'); END"),
        (f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"{when}BEGIN SELECT RAISE(ABORT, '{msg}: rows are never deleted'); END"),
    ]


def append_only(table: Table, *, with_project: bool = True) -> None:
    """Refuse UPDATE and DELETE on ``table`` in SQLite. ``with_project``: the table has a
    ``project_id`` and its rows go when the project is deleted; otherwise never."""
    for statement in _triggers(table.name, with_project):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))

