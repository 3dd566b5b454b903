"""Two processes on one data dir, in process: a second ``Services`` on the same file
stands for the other process (separate engine and connections, shared only through
SQLite), a raw ``sqlite3`` connection for another process's writer holding the lock.
The real two-process run (``crewos-tui serve`` as a subprocess) is in
``test_two_processes_live.py``."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx
from sqlalchemy import text

from crewos_tui.backend.ids import Clock, IdGenerator
from crewos_tui.backend.local.context import ServiceContext
from crewos_tui.backend.local.db import Database
from crewos_tui.backend.local.events import DomainEvent, EventBus
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ApiKeyCreate, ProjectCreate, TaskCreate, UserCreate
from crewos_tui.backend.server.app import create_app

from .conftest import PASSWORD, fast_settings


async def _user(svc: Services, name: str) -> Principal:
    await svc.auth.create_user(Principal.system(), UserCreate(username=name, password=PASSWORD, role="admin"))
    return await svc.auth.principal_for(name)


async def _until(condition, what: str) -> None:
    async with asyncio.timeout(30):  # a guard against a hang, not a measurement
        while not condition():
            await asyncio.sleep(0.01)
    assert condition(), what


async def test_commits_of_another_process_reach_the_listeners_once(tmp_path: Path) -> None:
    """The watch hands this process's listeners what the other process committed, with its
    project ids, and leaves out what this process committed (heard once, after commit)."""
    path = tmp_path / "shared.db"
    here = await Services.open(path, settings=fast_settings())
    there = await Services.open(path, settings=fast_settings())
    heard: list[DomainEvent] = []
    theirs: list[str] = []
    here.ctx.events.subscribe(heard.append)
    there.ctx.events.subscribe(lambda e: theirs.append(e.id))
    await here.start_background(watch_seconds=0.01)
    watch = here._commit_watch
    try:
        me = await _user(here, "maya")
        other = await there.auth.principal_for("maya")
        project = await there.projects.create(other, ProjectCreate(name="Elsewhere"))
        task = await there.tasks.create(other, TaskCreate(project_id=project.id, title="Made over there"))
        await _until(lambda: any(e.resource_id == task.id for e in heard), "the other process's task")
        mine = await here.tasks.create(me, TaskCreate(project_id=project.id, title="Made here"))
        async with here.ctx.db.read() as s:
            last = (await s.execute(text("SELECT max(rowid) FROM domain_events"))).scalar()
        await _until(lambda: watch._last_rowid == last, "the watch read past this process's own task")
        ids = [e.id for e in heard]
        assert len(ids) == len(set(ids))  # nothing twice
        assert watch.delivered == len(theirs) and set(theirs) <= set(ids)
        assert [e.resource_id for e in heard if e.kind == "task.created"] == [task.id, mine.id]
        assert ("project.created", project.id) in [(e.kind, e.project_id) for e in heard]
    finally:
        await here.close()
        await there.close()


async def test_a_request_past_the_busy_deadline_is_a_503_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    setup = await Services.open(path, settings=fast_settings())
    me = await _user(setup, "maya")
    key = (await setup.auth.create_api_key(me, ApiKeyCreate(name="k"))).key
    await setup.close()
    db = Database(path, busy_timeout_ms=10, busy_deadline=0.2)
    await db.migrate()
    clock = Clock()
    ids = IdGenerator(clock)
    svc = Services(ServiceContext(db=db, clock=clock, ids=ids, settings=fast_settings(), events=EventBus(clock, ids)))
    other = sqlite3.connect(path, isolation_level=None)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(create_app(svc)), base_url="http://t",
                                     headers={"X-CrewOS-API-Key": key}) as client:
            assert (await client.get("/api/v1/projects")).status_code == 200
            other.execute("BEGIN IMMEDIATE")  # another process's writer holds the lock
            r = await client.post("/api/v1/projects", json={"name": "Blocked"})
            assert r.status_code == 503, r.text
            # A client reads the problem without the server's paths (the log has the whole line).
            assert r.json() == {"detail": f"the server's database {path.name}: another process (a `crewos-tui "
                                          "serve`, a TUI or a script) kept it locked; try again in a moment"}
            other.rollback()
            assert (await client.post("/api/v1/projects", json={"name": "Blocked"})).status_code == 201
    finally:
        other.close()
        await svc.close()
