"""The audit chain in the service layer: the hash formula, append-only triggers, tamper
detection, serialized appends, backfill of older history, redaction, rollback."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import sqlite3
from datetime import UTC

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from crewos_tui.backend import errors
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.tables import AuditEventRow, DomainEventRow
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ProjectCreate, ProjectUpdate
from crewos_tui.backend.schemas.audit import GENESIS_HASH

from .conftest import fast_settings

SYSTEM = Principal.system()


async def some_history(services, make_user, n: int = 4) -> list:
    user, _ = await make_user()
    me = await services.auth.principal_for(user.username)
    project = await services.projects.create(me, ProjectCreate(name="Chained"))
    for i in range(n):
        await services.projects.update(me, project.id, ProjectUpdate(description=f"v{i}"))
    async with services.ctx.db.read() as s:
        return (await s.scalars(select(AuditEventRow).order_by(AuditEventRow.seq))).all()


def independent_hash(row: AuditEventRow) -> str:
    """The documented formula, computed here without the service's helpers."""
    body = {
        "seq": row.seq, "event_id": row.event_id,
        "created_at": row.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": row.actor_id, "actor": row.actor, "auth_method": row.auth_method, "action": row.action,
        "resource_type": row.resource_type, "resource_id": row.resource_id, "project_id": row.project_id,
        "request_id": row.request_id, "summary": row.summary, "details": row.details, "prev_hash": row.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((row.prev_hash + canonical).encode()).hexdigest()


async def test_chain_links_follow_the_documented_formula(services, make_user):
    rows = await some_history(services, make_user)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == GENESIS_HASH == "0" * 64
    for prev, row in itertools.pairwise(rows):
        assert row.prev_hash == prev.hash
    assert all(independent_hash(r) == r.hash for r in rows)
    async with services.ctx.db.read() as s:
        events = (await s.scalars(select(DomainEventRow.id).order_by(DomainEventRow.id))).all()
    assert sorted(r.event_id for r in rows) == list(events)  # one audit event per domain event


async def test_the_database_refuses_update_and_delete(services, make_user):
    await some_history(services, make_user)
    for stmt in (update(AuditEventRow).where(AuditEventRow.seq == 2).values(summary="forged"),
                 delete(AuditEventRow).where(AuditEventRow.seq == 2)):
        with pytest.raises(IntegrityError, match="append-only"):
            async with services.ctx.db.transaction() as s:
                await s.execute(stmt)
    with sqlite3.connect(services.ctx.db.path) as raw, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM audit_events")
    assert (await services.admin.audit_integrity(SYSTEM)).valid


def tamper(path, *statements: str) -> None:
    """What someone with write access to the file could do: drop the triggers and edit rows."""
    raw = sqlite3.connect(path)
    try:
        raw.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        raw.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        for statement in statements:
            raw.execute(statement)
        raw.commit()
    finally:
        raw.close()


async def test_an_edited_row_is_found_by_its_sequence_number(services, make_user):
    rows = await some_history(services, make_user)
    tamper(services.ctx.db.path, "UPDATE audit_events SET summary = 'nothing happened' WHERE seq = 3")
    report = await services.admin.audit_integrity(SYSTEM)
    assert (report.valid, report.first_invalid_seq, report.checked) == (False, 3, 3)
    assert "hash" in report.reason and report.head_seq == len(rows) and report.head_hash == rows[-1].hash


async def test_a_row_rehashed_by_the_forger_breaks_the_next_link(services, make_user):
    rows = await some_history(services, make_user)
    tamper(services.ctx.db.path, "UPDATE audit_events SET actor = 'someone-else', hash = "
                                 f"'{'f' * 64}' WHERE seq = 2")
    report = await services.admin.audit_integrity(SYSTEM)
    assert report.first_invalid_seq == 2  # its own hash no longer matches its contents
    # Recompute row 2's hash correctly: then row 3's prev_hash gives it away.
    async with services.ctx.db.read() as s:
        row = await s.get(AuditEventRow, 2)
    row.hash = independent_hash(row)
    tamper(services.ctx.db.path, f"UPDATE audit_events SET hash = '{row.hash}' WHERE seq = 2")
    report = await services.admin.audit_integrity(SYSTEM)
    assert (report.first_invalid_seq, report.reason) == (3, "prev_hash does not match the previous event's hash")
    assert len(rows) > 3


async def test_deleted_rows_are_found(services, make_user):
    await some_history(services, make_user)
    tamper(services.ctx.db.path, "DELETE FROM audit_events WHERE seq = 2")
    report = await services.admin.audit_integrity(SYSTEM)
    assert (report.valid, report.first_invalid_seq) == (False, 2) and "missing" in report.reason


async def test_a_truncated_tail_is_found(services, make_user):
    rows = await some_history(services, make_user)
    tamper(services.ctx.db.path, f"DELETE FROM audit_events WHERE seq >= {len(rows) - 1}")
    report = await services.admin.audit_integrity(SYSTEM)
    assert (report.valid, report.first_invalid_seq) == (False, len(rows) - 1)
    assert "no audit event" in report.reason


async def test_concurrent_writers_in_two_processes_extend_one_chain(tmp_path, make_user, services):
    other = await Services.open(services.ctx.db.path, settings=fast_settings())  # a second "process"
    try:
        user, _ = await make_user()
        mine, theirs = [await svc.auth.principal_for(user.username) for svc in (services, other)]
        calls = [services.projects.create(mine, ProjectCreate(name=f"A{i}")) for i in range(12)]
        calls += [other.projects.create(theirs, ProjectCreate(name=f"B{i}")) for i in range(12)]
        await asyncio.gather(*calls)
        report = await services.admin.audit_integrity(SYSTEM)
        async with services.ctx.db.read() as s:
            count = await s.scalar(select(func.count()).select_from(AuditEventRow))
        assert report.valid and report.checked == count == report.head_seq
    finally:
        await other.close()


async def test_history_from_before_the_audit_log_is_recorded_first(services, make_user):
    await some_history(services, make_user, n=2)
    async with services.ctx.db.read() as s:
        events = await s.scalar(select(func.count()).select_from(DomainEventRow))
    tamper(services.ctx.db.path, "DELETE FROM audit_events")  # as if the log had never existed
    raw = sqlite3.connect(services.ctx.db.path)  # and give the triggers back, as a migration would
    raw.executescript("""
        CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'x'); END;
        CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'x'); END;
    """)
    raw.close()
    report = await services.admin.audit_integrity(SYSTEM)  # catches up, then verifies
    assert report.valid and report.checked == events
    await make_user()  # a new change extends the backfilled chain
    report = await services.admin.audit_integrity(SYSTEM)
    assert report.valid and report.checked == events + 1
    first = (await services.admin.list_audit_events(SYSTEM, limit=200)).items[-1]
    assert first.seq == 1 and first.request_id == "backfill" and first.prev_hash == GENESIS_HASH


async def test_a_new_database_backfills_on_its_first_change(tmp_path):
    services = await Services.open(tmp_path / "fresh.db", settings=fast_settings())
    try:
        assert (await services.admin.audit_integrity(SYSTEM)).checked == 0
        assert (await services.admin.audit_integrity(SYSTEM)).head_hash == GENESIS_HASH
    finally:
        await services.close()


async def test_secrets_never_reach_the_audit_log(services):
    async with services.ctx.db.transaction() as s:
        await services.ctx.events.emit(
            s, SYSTEM, "test.secretive", "thing", "t1", password="hunter2", api_key="abc",
            token="tok", nested={"refresh_token": "r", "note": "crewos_abcdefgh_rawkeymaterial"},
            header="Bearer abc.def", tokens_in=5, content_hash="abc123", name="kept")
    event = (await services.admin.list_audit_events(SYSTEM, action="test.secretive")).items[0]
    assert event.details == {"password": "[redacted]", "api_key": "[redacted]", "token": "[redacted]",
                             "nested": {"refresh_token": "[redacted]", "note": "[redacted]"},
                             "header": "[redacted]", "tokens_in": 5, "content_hash": "abc123", "name": "kept"}
    assert "hunter2" not in event.summary and "rawkeymaterial" not in event.summary


async def test_a_failed_call_leaves_no_audit_event(services, make_user):
    user, _ = await make_user()
    me = await services.auth.principal_for(user.username)
    await services.projects.create(me, ProjectCreate(name="Once"))
    head = (await services.admin.audit_integrity(SYSTEM)).head_seq
    with pytest.raises(errors.Conflict):
        await services.projects.create(me, ProjectCreate(name="Once"))
    assert (await services.admin.audit_integrity(SYSTEM)).head_seq == head


async def test_events_of_one_local_call_share_a_request_id(services, make_user):
    owner, _ = await make_user()
    asker, _ = await make_user()
    me, them = [await services.auth.principal_for(u.username) for u in (owner, asker)]
    from crewos_tui.backend.schemas import AccessRequestCreate, AccessRequestDecision

    p = await services.projects.create(me, ProjectCreate(name="Shared ids"))
    req = await services.projects.create_access_request(them, p.id, AccessRequestCreate())
    await services.projects.decide_access_request(me, p.id, req.id, AccessRequestDecision(status="approved"))
    events = (await services.admin.list_audit_events(SYSTEM, project_id=p.id)).items
    by_action = {e.action: e for e in events}
    assert by_action["project.member_added"].request_id == by_action["project.access_approved"].request_id
    assert by_action["project.created"].request_id != by_action["project.access_approved"].request_id


async def test_the_schema_has_the_triggers(services):
    async with services.ctx.db.read() as s:
        names = set((await s.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'"))).scalars())
    assert {"audit_events_no_update", "audit_events_no_delete"} <= names
