"""Two real processes on one data dir: ``crewos-tui serve`` as a subprocess, and a local
service layer in this process (as a local TUI would run it, background work and all).

Both write at once, 300 calls each, and both queue agent jobs: no write may fail with
"database is locked" and every job must succeed. Meanwhile the server keeps streaming
chat replies; the local process's chat turns sweep for runs of processes that are gone
(a sweep once marked the server's live run "interrupted"): a sweep that met the server's
running replies must leave them running, and every one of them completes.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.tables import ChatRunRow
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ApiKeyCreate, ProjectCreate, TaskCreate, TokenMint, TokenTransfer, UserCreate
from crewos_tui.backend.schemas.agent_jobs import AgentJobCreate
from crewos_tui.backend.schemas.tokens import TokenSettingsUpdate, WalletOwnerKind, WalletUpsert

from .conftest import PASSWORD, REPO, fast_settings

WRITES = 300  # per process
CONCURRENCY = 4  # concurrent writers in each process
JOBS = 3  # per process


@dataclass
class Served:
    url: str
    key: str
    project_id: str
    database: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _prepare(database: Path) -> tuple[str, str]:
    svc = await Services.open(database, settings=fast_settings())
    try:
        await svc.auth.create_user(Principal.system(), UserCreate(username="alice", password=PASSWORD, role="admin"))
        alice = await svc.auth.principal_for("alice")
        key = (await svc.auth.create_api_key(alice, ApiKeyCreate(name="live"))).key
        project = await svc.projects.create(alice, ProjectCreate(name="Shared"))
        t = svc.tokenization
        await t.configure(alice, project.id, TokenSettingsUpdate(symbol="SHR", allow_direct_operations=True))
        for address in ("vault-a", "vault-b"):
            await t.upsert_wallet(alice, project.id, address, WalletUpsert(owner_kind=WalletOwnerKind.treasury))
        await t.mint(alice, project.id, TokenMint(to_wallet="vault-a", amount=10**9))
        return key, project.id
    finally:
        await svc.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    data = tmp_path / "data"
    database = data / "crewos.db"
    data.mkdir()
    key, project_id = asyncio.run(_prepare(database))
    port = _free_port()
    env = dict(os.environ, CREWOS_TUI_CONFIG_DIR=str(tmp_path / "config"), CREWOS_TUI_DATA_DIR=str(data),
               CREWOS_JWT_SECRET="live-secret-" + "x" * 32,
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    env.pop("CREWOS_API_KEY", None)
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "crewos_tui.cli", "serve", "--port", str(port), "--data-dir",
                             str(data)], env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.1)
        assert database.exists()
        yield Served(url, key, project_id, database)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


async def _server_chat(client: httpx.AsyncClient, project_id: str) -> dict:
    """One streamed reply from the server: its final event's data, with ``event``."""
    body = {"message": "Give me a full status report of this project, every task.", "project_id": project_id,
            "agent": "reporter"}
    event, done = "", None
    async with client.stream("POST", "/api/v1/external/chat/stream", json=body) as r:
        assert r.status_code == 200, await r.aread()
        async for line in r.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event in ("done", "error"):
                done = {"event": event, **json.loads(line[6:])}
    assert done is not None, "the stream ended without its final event"
    return done


class SweepSpy:
    """Watches the local process's real sweep: which of the server's runs were running in
    its transaction, and what became of them."""

    def __init__(self, local: Services) -> None:
        self.chat = local.chat
        self.seen: list[tuple[set[str], dict[str, str]]] = []
        original = local.chat._sweep

        async def sweep(session: Any, now: Any) -> None:
            others = (col(ChatRunRow.worker) != self.chat._worker, col(ChatRunRow.status) == "running")
            running = set((await session.scalars(select(ChatRunRow.id).where(*others))).all())
            await original(session, now)
            after = dict((await session.execute(select(ChatRunRow.id, ChatRunRow.status)
                                                .where(col(ChatRunRow.id).in_(running)))).tuples().all())
            self.seen.append((running, after))

        local.chat._sweep = sweep  # type: ignore[method-assign]

    def again(self) -> None:
        self.chat._swept_at = None  # the next turn sweeps again (a sweep is due every 10 s)


@pytest.mark.timeout(300)  # two Python processes starting on a loaded machine, 600 writes
def test_a_served_workspace_and_a_local_writer_share_the_file_without_lock_errors(served: Served) -> None:
    failures: Counter[str] = Counter()

    async def main() -> dict:
        local = await Services.open(served.database, settings=fast_settings(stream_chunk_delay=0))
        await local.start_background()  # as the TUI does: job runner, commit watch, chat lease
        spy = SweepSpy(local)
        alice = await local.auth.principal_for("alice")
        headers = {"X-CrewOS-API-Key": served.key}
        try:
            async with httpx.AsyncClient(base_url=served.url, headers=headers, timeout=120) as client:
                remote_jobs = [(await client.post("/api/v1/agent-jobs", json={
                    "kind": "project_update", "project_id": served.project_id})).json()["id"] for _ in range(JOBS)]
                local_jobs = [(await local.agent_jobs.create(alice, AgentJobCreate(
                    kind="project_update", project_id=served.project_id))).id for _ in range(JOBS)]

                async def remote_writer(numbers: Iterator[int]) -> None:
                    for i in numbers:
                        if i % 3:
                            r = await client.post("/api/v1/tasks", json={"project_id": served.project_id,
                                                                         "title": f"served {i}"})
                        else:
                            r = await client.post(f"/api/v1/projects/{served.project_id}/tokenization/token/"
                                                  "transfer", json={"from_wallet": "vault-a", "to_wallet": "vault-b",
                                                                    "amount": 1})
                        if r.status_code >= 300:
                            failures[f"server {r.status_code}: {r.text[:120]}"] += 1

                async def local_writer(numbers: Iterator[int]) -> None:
                    for i in numbers:
                        try:
                            if i % 3:
                                await local.tasks.create(alice, TaskCreate(project_id=served.project_id,
                                                                           title=f"local {i}"))
                            else:
                                await local.tokenization.transfer(alice, served.project_id, TokenTransfer(
                                    from_wallet="vault-a", to_wallet="vault-b", amount=1))
                        except Exception as exc:  # noqa: BLE001 - counted, and the test fails on any
                            failures[f"local {type(exc).__name__}: {str(exc)[:120]}"] += 1

                chatting = asyncio.Event()
                server_replies: list[dict] = []

                async def server_chats() -> None:  # the server is always writing some reply
                    while not chatting.is_set():
                        server_replies.append(await _server_chat(client, served.project_id))

                remote_numbers, local_numbers = iter(range(WRITES)), iter(range(WRITES))
                writers = [asyncio.create_task(remote_writer(remote_numbers)) for _ in range(CONCURRENCY)]
                writers += [asyncio.create_task(local_writer(local_numbers)) for _ in range(CONCURRENCY)]
                chats = [asyncio.create_task(server_chats()) for _ in range(2)]
                # This process's chats (each sweeps) while the server's replies are being written,
                # until a sweep has met a running run of the server's.
                local_replies = []
                while not any(running for running, _after in spy.seen) and len(local_replies) < 20:
                    spy.again()
                    local_replies.append((await local.chat.send(alice, "what is open?",
                                                                project_id=served.project_id)).status)
                chatting.set()
                await asyncio.gather(*chats)
                await asyncio.gather(*writers)
                interrupted = (await local.chat.orchestrator_status(alice)).interrupted_runs

                async def job_states() -> dict[str, str]:
                    return {j: (await local.agent_jobs.get(alice, j)).status.value for j in remote_jobs + local_jobs}

                async with asyncio.timeout(90):  # a guard against a hang, not a measurement
                    while set((states := await job_states()).values()) - {"succeeded", "failed", "cancelled"}:
                        await asyncio.sleep(0.1)
                async with local.ctx.db.read() as s:
                    server_runs = dict((await s.execute(select(ChatRunRow.id, ChatRunRow.status).where(
                        col(ChatRunRow.worker) != local.chat._worker))).tuples().all())
                return {"local": local_replies, "server": server_replies, "server_runs": server_runs,
                        "interrupted": interrupted, "jobs": states, "sweeps": spy.seen}
        finally:
            await local.close()

    result = asyncio.run(main())
    assert dict(failures) == {}, f"lock errors or other failures in {2 * WRITES} writes"
    assert set(result["local"]) == {"complete"}
    # The sweep that met the server's live runs left every one of them running.
    met = [(running, after) for running, after in result["sweeps"] if running]
    assert met, f"no local sweep met a running reply of the server's in {len(result['local'])} turns"
    assert all(set(after.values()) == {"running"} for _running, after in met), met
    # And each of the server's replies finished as a whole reply.
    assert [r["event"] for r in result["server"]] == ["done"] * len(result["server"])
    assert {r["status"] for r in result["server"]} == {"complete"}
    assert set(result["server_runs"].values()) == {"completed"}, result["server_runs"]
    assert result["interrupted"] == 0
    assert set(result["jobs"].values()) == {"succeeded"}, result["jobs"]
    print(f"\ntwo processes: {2 * WRITES} writes, 0 lock errors; {2 * JOBS} jobs succeeded; "
          f"{len(result['local'])} local chat turn(s) swept while {len(met[0][0])} of the server's runs were "
          f"running, none interrupted; {len(result['server'])} server replies complete")
