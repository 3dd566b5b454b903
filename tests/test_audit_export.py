"""The CSV export of 100,000 audit events streams in pages with bounded memory (peak
traced memory measured on the service's stream; the HTTP route sends it page by page)."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import tracemalloc
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import insert

from crewos_tui.backend.local.services.admin.audit import EXPORT_PAGE
from crewos_tui.backend.local.services.admin.chain import chain
from crewos_tui.backend.local.tables import AuditEventRow
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas.audit import GENESIS_HASH
from crewos_tui.backend.server.app import create_app

EVENTS = 100_000
BATCH = 5_000
#: Peak traced memory allowed while exporting: a few pages, never the whole file.
MEMORY_LIMIT = 8 * 1024 * 1024


def fill(services, n: int = EVENTS) -> None:
    """n audit rows written straight into the file (export reads rows; it does not re-hash)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = ((i, f"EV{i:024d}", (start + timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S.%f"), "u1", "bulk",
             "system", "bulk.changed", "thing", f"t{i}", None, "bulk-load", f"bulk.changed thing t{i} (i={i})",
             f'{{"i": {i}, "note": "{"x" * 80}"}}', "0" * 64, f"{i:064x}") for i in range(1, n + 1))
    raw = sqlite3.connect(services.ctx.db.path)
    try:
        raw.executemany("INSERT INTO audit_events (seq, event_id, created_at, actor_id, actor, auth_method, action, "
                        "resource_type, resource_id, project_id, request_id, summary, details, prev_hash, hash) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        raw.commit()
    finally:
        raw.close()


@pytest.fixture
async def big(services):
    fill(services)
    return services


async def test_service_export_of_100k_events_is_streamed_with_bounded_memory(big):
    stream = await big.admin.export_audit_csv(Principal.system())
    assert stream.total_rows == EVENTS
    tracemalloc.start()
    try:
        chunks = size = rows = 0
        last_line = ""
        async for chunk in stream:
            chunks += 1
            size += len(chunk)
            rows += chunk.count("\r\n")
            last_line = chunk
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == EVENTS + 1  # header + every event (no field holds a line break here)
    assert chunks == 1 + EVENTS // EXPORT_PAGE  # the header, then one chunk per page
    assert size > 3 * MEMORY_LIMIT  # the whole export is far larger than what was ever held
    assert peak < MEMORY_LIMIT, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB export"
    last = next(csv.reader(io.StringIO(last_line.strip().splitlines()[-1])))
    assert last[0] == str(EVENTS) and last[5] == "bulk.changed"


async def test_http_export_of_100k_events_streams_in_many_body_messages(big):
    app = create_app(big)
    key = await admin_key(big)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": "/api/v1/audit/events/export.csv", "raw_path": b"/api/v1/audit/events/export.csv",
        "query_string": b"", "root_path": "", "headers": [(b"x-crewos-api-key", key.encode()), (b"host", b"t")],
        "client": ("127.0.0.1", 1), "server": ("t", 80), "app": app,
    }
    got = {"status": 0, "messages": 0, "bytes": 0, "largest": 0, "headers": {}}

    sent_request = asyncio.Event()
    finished = asyncio.Event()

    async def receive() -> dict:
        if not sent_request.is_set():
            sent_request.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()  # like a client that stays connected until the answer ends
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            got["status"] = message["status"]
            got["headers"] = {k.decode().lower(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            got["messages"] += 1
            got["bytes"] += len(body)  # counted, then dropped: a client reading along
            got["largest"] = max(got["largest"], len(body))

    try:
        await app(scope, receive, send)
    finally:
        finished.set()
    # Every bulk event, plus the exporter's own user and key being created.
    assert got["status"] == 200 and got["headers"]["x-total-rows"] == str(EVENTS + 2)
    assert got["headers"]["content-type"].startswith("text/csv")
    # Streamed page by page: many small bodies, none near the size of the whole export.
    # (The memory bound itself is measured on the service's stream above.)
    assert got["messages"] >= EVENTS // EXPORT_PAGE
    assert got["largest"] < 1024 * 1024 and got["bytes"] > 3 * MEMORY_LIMIT


async def admin_key(services) -> str:
    from crewos_tui.backend.schemas import ApiKeyCreate, UserCreate

    user = await services.auth.create_user(Principal.system(), UserCreate(username="exporter", password="x" * 10,
                                                                          role="admin"))
    principal = await services.auth.principal_for(user.username)
    return (await services.auth.create_api_key(principal, ApiKeyCreate(name="export"))).key


async def test_a_bulk_chain_verifies(services):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events = [SimpleNamespace(id=f"EV{i:024d}", kind="bulk.changed", actor_id="u1", actor="bulk",
                              auth_method="system", resource_type="thing", resource_id=f"t{i}", project_id=None,
                              data={"i": i}, created_at=start + timedelta(seconds=i)) for i in range(5000)]
    async with services.ctx.db.transaction() as s:
        await s.execute(insert(AuditEventRow.__table__), chain(1, GENESIS_HASH, events, "bulk-load"))
    report = await services.admin.audit_integrity(Principal.system())
    assert report.valid and report.checked == 5000
