"""The audit log on both backends: every change recorded with actor, auth method and
request id; filters and pages; the CSV export; the integrity check."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import httpx
import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.schemas import ProjectCreate, ProjectUpdate
from crewos_tui.backend.schemas.audit import AUDIT_CSV_COLUMNS, GENESIS_HASH

from ..conftest import api_key_of, unique


async def new_user(world, role: str = "member", team: str | None = None, **kw):
    """A user in a team of its own unless one is given: the live server's database is
    shared by every contract test, and its "default" team must not fill up."""
    return await world.user(role=role, team=team or unique("adm-team-"), **kw)


async def admin_and_project(world):
    admin_user = await new_user(world, role="admin")
    admin = await world.as_(admin_user)
    owner_user = await new_user(world)
    owner = await world.as_(owner_user)
    project = await owner.projects.create(ProjectCreate(name=unique("Audited ")))
    return admin, owner_user, owner, project


async def test_a_change_is_recorded_with_actor_method_resource_and_request_id(world):
    admin, owner_user, _owner, project = await admin_and_project(world)
    events = (await admin.admin.list_audit_events(project_id=project.id)).items
    created = [e for e in events if e.action == "project.created"]
    assert len(created) == 1
    e = created[0]
    assert (e.actor, e.actor_id, e.auth_method) == (owner_user.username, owner_user.id, "api_key")
    assert (e.resource_type, e.resource_id, e.project_id) == ("project", project.id, project.id)
    assert e.request_id and len(e.hash) == 64 and e.summary.startswith("project.created project")
    assert e.details["name"] == project.name
    if world.kind == "local":
        assert e.request_id.startswith("local-")


async def test_filters_and_pages_newest_first(world):
    admin, owner_user, owner, project = await admin_and_project(world)
    for i in range(3):
        await owner.projects.update(project.id, ProjectUpdate(description=f"v{i}"))
    mine = await admin.admin.list_audit_events(actor=owner_user.username, limit=2)
    assert [e.action for e in mine.items] == ["project.updated", "project.updated"]
    assert mine.items[0].seq > mine.items[1].seq and mine.next_cursor
    rest = await admin.admin.list_audit_events(actor=owner_user.id, limit=50, cursor=mine.next_cursor)
    actions = [e.action for e in mine.items + rest.items]
    assert actions[:3] == ["project.updated"] * 3 and "project.created" in actions and "api_key.created" in actions
    by_prefix = await admin.admin.list_audit_events(action="project.*", resource_id=project.id)
    assert {e.action for e in by_prefix.items} == {"project.created", "project.updated"}
    assert (await admin.admin.list_audit_events(action="project.", project_id=project.id)).items == by_prefix.items
    newest = by_prefix.items[0]
    window = await admin.admin.list_audit_events(project_id=project.id, since=newest.created_at,
                                                 until=newest.created_at + timedelta(microseconds=1))
    assert [e.seq for e in window.items] == [newest.seq]
    same_request = await admin.admin.list_audit_events(request_id=newest.request_id)
    assert newest.seq in [e.seq for e in same_request.items]
    with pytest.raises(errors.Invalid, match="since"):
        await admin.admin.list_audit_events(since=newest.created_at, until=newest.created_at - timedelta(days=1))
    with pytest.raises(errors.Invalid, match="cursor"):
        await admin.admin.list_audit_events(cursor="not-a-cursor")


async def test_csv_export_streams_the_filtered_events(world):
    admin, _owner_user, owner, project = await admin_and_project(world)
    # Names with quotes and commas need CSV quoting (a name can no longer hold a line break:
    # single-line fields refuse control characters).
    for i in range(4):
        await owner.projects.update(project.id, ProjectUpdate(name=f'{project.name} "q", comma {i}'))
    listed = (await admin.admin.list_audit_events(project_id=project.id)).items
    stream = await admin.admin.export_audit_csv(project_id=project.id)
    assert stream.total_rows == len(listed) == 5
    text = "".join([chunk async for chunk in stream])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(AUDIT_CSV_COLUMNS)
    assert [int(r[0]) for r in rows[1:]] == sorted(e.seq for e in listed)  # oldest first
    by_seq = {e.seq: e for e in listed}
    for r in rows[1:]:
        record = dict(zip(AUDIT_CSV_COLUMNS, r, strict=True))
        e = by_seq[int(record["seq"])]
        assert (record["action"], record["actor"], record["hash"], record["prev_hash"]) == (
            e.action, e.actor, e.hash, e.prev_hash)
        assert record["summary"] == e.summary and json.loads(record["details"]) == e.details
    assert any('"q", comma 3' in json.loads(r[-3]).get("name", "") for r in rows[1:])
    empty = await admin.admin.export_audit_csv(actor=unique("nobody"))
    assert empty.total_rows == 0
    assert [line async for line in empty] == [",".join(AUDIT_CSV_COLUMNS) + "\r\n"]


async def test_integrity_of_an_untouched_chain(world):
    admin, _owner_user, owner, project = await admin_and_project(world)
    await owner.projects.archive(project.id)
    report = await admin.admin.audit_integrity()
    newest = (await admin.admin.list_audit_events(limit=1)).items[0]
    assert report.valid and report.first_invalid_seq is None and report.reason is None
    assert report.checked == report.head_seq == newest.seq
    assert report.head_hash == newest.hash != GENESIS_HASH
    first = (await admin.admin.list_audit_events(until=newest.created_at, limit=200))
    assert first.items[-1].seq >= 1


async def test_server_echoes_and_records_the_request_id(world):
    if world.kind != "remote":
        pytest.skip("an HTTP header")
    admin_user = await new_user(world, role="admin")
    key = await api_key_of(world.services, admin_user)
    owner = await new_user(world)
    owner_key = await api_key_of(world.services, owner)
    async with httpx.AsyncClient(base_url=world.url) as client:
        r = await client.post("/api/v1/projects", json={"name": unique("Traced ")},
                              headers={"X-CrewOS-API-Key": owner_key, "X-Request-ID": "trace-0123456789"})
        assert r.status_code == 201 and r.headers["x-request-id"] == "trace-0123456789"
        made_up = await client.get("/api/v1/auth/me", headers={"X-CrewOS-API-Key": owner_key,
                                                               "X-Request-ID": "bad id with spaces"})
        assert made_up.headers["x-request-id"].startswith("req-")
        refused = await client.get("/api/v1/audit/integrity")  # 401s carry one too
        assert refused.status_code == 401 and refused.headers["x-request-id"].startswith("req-")
        listed = await client.get("/api/v1/audit/events", params={"request_id": "trace-0123456789"},
                                  headers={"X-CrewOS-API-Key": key})
        assert [e["action"] for e in listed.json()["items"]] == ["project.created"]
        export = await client.get("/api/v1/audit/events/export.csv", params={"request_id": "trace-0123456789"},
                                  headers={"X-CrewOS-API-Key": key})
        assert export.headers["content-type"].startswith("text/csv") and export.headers["x-total-rows"] == "1"
        assert "attachment" in export.headers["content-disposition"]
        member = await client.get("/api/v1/audit/events/export.csv", headers={"X-CrewOS-API-Key": owner_key})
        assert member.status_code == 403 and "admin" in member.json()["detail"]
