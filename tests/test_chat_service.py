"""Chat service behaviour the contract cannot see: restarts, durable queueing, events."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from crewos_tui.backend.local import leases
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.services.chat import runs
from crewos_tui.backend.local.tables import ChatMessageRow, ChatRunRow, DomainEventRow
from crewos_tui.backend.schemas import SessionShareCreate

from .conftest import fast_settings, user_factory


async def events_of(svc: Services, kind: str) -> list[DomainEventRow]:
    async with svc.ctx.db.read() as s:
        return list((await s.execute(select(DomainEventRow).where(DomainEventRow.kind == kind)
                                     .order_by(DomainEventRow.id))).scalars())


async def test_a_restart_marks_unfinished_runs_interrupted(tmp_path: Path):
    path = tmp_path / "chat.db"
    first = await Services.open(path, settings=fast_settings(stream_chunk_delay=0))
    user, _ = await user_factory(first)()
    p = await first.auth.principal_for(user.username)
    reply = await first.chat.send(p, "hello")
    # Make it look like the process died mid-reply: the run and its message unfinished.
    async with first.ctx.db.transaction() as s:
        await s.execute(update(ChatRunRow).where(ChatRunRow.id == reply.run_id).values(status="running",
                                                                                     worker="dead"))
        await s.execute(update(ChatMessageRow).where(ChatMessageRow.id == reply.message_id).values(status="streaming"))
    await first.close()

    second = await Services.open(path, settings=fast_settings(stream_chunk_delay=0))
    try:
        status = await second.chat.orchestrator_status(p)
        assert status.interrupted_runs == 1 and status.active_runs == []
        detail = await second.sessions.get(p, reply.session_id)
        assert detail.messages[-1].status == "interrupted" and "stopped" in detail.messages[-1].error
        assert (await second.chat.send(p, "again", session_id=reply.session_id)).status == "complete"
        [ev] = await events_of(second, "chat.run_interrupted")
        assert ev.data["user_id"] == p.user_id and ev.data["run_id"] == reply.run_id
    finally:
        await second.close()


async def _run_status(svc: Services, run_id: str) -> str:
    async with svc.ctx.db.read() as s:
        return str(await s.scalar(select(ChatRunRow.status).where(ChatRunRow.id == run_id)))


async def test_another_processs_live_run_is_left_alone_until_its_lease_ends(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch):
    """Two processes on one data dir: B's sweep does not touch A's queued run while A's lease
    holds (the bug: a second process's first chat marked a live server's run interrupted);
    once the lease has ended without renewal, A counts as gone and the run is interrupted."""
    from .conftest import ManualClock

    monkeypatch.setattr(runs, "MAX_CONCURRENT_RUNS", 0)  # A's durable run stays queued in A
    clock = ManualClock()
    path = tmp_path / "chat.db"
    a = await Services.open(path, clock=clock, settings=fast_settings(stream_chunk_delay=0))
    b = await Services.open(path, clock=clock, settings=fast_settings(stream_chunk_delay=0))
    try:
        user, _ = await user_factory(a)()
        p = await a.auth.principal_for(user.username)
        queued = await a.chat.send(p, "hello", durable=True)
        assert (await b.chat.send(p, "from the other process")).status == "complete"  # B swept here
        assert await _run_status(b, queued.run_id) == "queued"
        assert (await b.chat.orchestrator_status(p)).interrupted_runs == 0

        clock.advance(runs.SWEEP_SECONDS)  # a sweep is due again, A's lease still holds
        await b.chat.orchestrator_status(p)
        assert await _run_status(b, queued.run_id) == "queued"

        clock.advance(leases.LEASE_SECONDS)  # A did not renew in that time: it is gone
        assert (await b.chat.orchestrator_status(p)).interrupted_runs == 1
        assert await _run_status(b, queued.run_id) == "interrupted"
        await a.chat.cancel(p, queued.job_id)
    finally:
        await a.close()
        await b.close()


async def test_a_process_with_runs_renews_its_lease_and_drops_it_on_close(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch):
    import asyncio

    from crewos_tui.backend.local.tables import WorkerLeaseRow

    from .conftest import ManualClock

    monkeypatch.setattr(runs, "MAX_CONCURRENT_RUNS", 0)
    clock = ManualClock()
    svc = await Services.open(tmp_path / "chat.db", clock=clock, settings=fast_settings(stream_chunk_delay=0))
    svc.chat._lease.beat_seconds = 0.01  # renew at once, not every LEASE_SECONDS / 3

    async def expiry() -> object:
        async with svc.ctx.db.read() as s:
            return await s.scalar(select(WorkerLeaseRow.expires_at))

    user, _ = await user_factory(svc)()
    p = await svc.auth.principal_for(user.username)
    queued = await svc.chat.send(p, "hello", durable=True)
    first = await expiry()
    clock.advance(60)
    async with asyncio.timeout(30):  # waits for the renewal, bounded
        while await expiry() == first:
            await asyncio.sleep(0.01)
    assert await expiry() == clock.now() + timedelta(seconds=leases.LEASE_SECONDS)
    await svc.chat.cancel(p, queued.job_id)
    await svc.close()
    again = await Services.open(tmp_path / "chat.db", settings=fast_settings())
    async with again.ctx.db.read() as s:
        assert (await s.scalars(select(WorkerLeaseRow))).all() == []  # closed: its runs are orphans at once
    await again.close()


async def test_a_crashed_process_on_this_host_is_gone_before_its_lease_ends(tmp_path: Path):
    """A lease naming a process on this host that no longer exists is not waited for; one
    naming a live process is, however old that process's run."""
    import asyncio
    import os
    import sys

    from crewos_tui.backend.local.tables import WorkerLeaseRow

    path = tmp_path / "chat.db"
    svc = await Services.open(path, settings=fast_settings(stream_chunk_delay=0))
    try:
        user, _ = await user_factory(svc)()
        p = await svc.auth.principal_for(user.username)
        crashed, alive = await svc.chat.send(p, "one"), await svc.chat.send(p, "two")
        child = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
        await child.wait()  # its pid now names no process
        now = svc.ctx.clock.now()
        later = now + timedelta(hours=1)
        async with svc.ctx.db.transaction() as s:
            for reply, worker, pid in ((crashed, "crashed", child.pid), (alive, "alive", os.getpid())):
                await s.execute(update(ChatRunRow).where(ChatRunRow.id == reply.run_id)
                                .values(status="running", worker=worker))
                s.add(WorkerLeaseRow(worker=worker, host=leases.HOST, pid=pid, started_at=now, heartbeat_at=now,
                                     expires_at=later))
        other = await Services.open(path, settings=fast_settings(stream_chunk_delay=0))
        try:
            assert (await other.chat.orchestrator_status(p)).interrupted_runs == 1
            assert await _run_status(other, crashed.run_id) == "interrupted"
            assert await _run_status(other, alive.run_id) == "running"
        finally:
            await other.close()
    finally:
        await svc.close()


async def test_durable_runs_wait_for_a_slot_and_can_be_cancelled_while_queued(services: Services, make_user,
                                                                              monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(runs, "MAX_CONCURRENT_RUNS", 0)  # no slot ever frees: the run stays queued
    user, _ = await make_user()
    p = await services.auth.principal_for(user.username)
    queued = await services.chat.send(p, "hello", durable=True)
    status = await services.chat.orchestrator_status(p)
    assert status.queue_depth == 1 and [r.status for r in status.active_runs] == ["queued"]
    result = await services.chat.cancel(p, queued.job_id)
    assert result.cancelled and result.status == "cancelled"
    detail = await services.sessions.get(p, queued.session_id)
    assert detail.messages[-1].status == "cancelled" and detail.messages[-1].content == ""
    assert (await services.chat.orchestrator_status(p)).queue_depth == 0


async def test_state_changes_emit_events_naming_the_affected_users(services: Services, make_user):
    owner, _ = await make_user()
    guest, _ = await make_user()
    p = await services.auth.principal_for(owner.username)
    reply = await services.chat.send(p, "hello")
    share = await services.sessions.create_share(p, reply.session_id, SessionShareCreate(username=guest.username))
    [shared] = await events_of(services, "session.shared")
    assert shared.data["user_id"] == guest.id and shared.data["invitee_id"] == guest.id
    assert shared.data["share_id"] == share.id and shared.resource_id == reply.session_id
    gp = await services.auth.principal_for(guest.username)
    await services.sessions.accept_share(gp, reply.session_id, share.id)
    [accepted] = await events_of(services, "session.share_accepted")
    assert accepted.data["user_id"] == owner.id  # the owner hears about it
    kinds = [e.kind for e in await events_of(services, "chat.message_sent")]
    assert kinds == ["chat.message_sent"]
    [run] = await events_of(services, "agent.run_completed")
    assert run.data["chat_session_id"] == reply.session_id and run.data["user_id"] == owner.id


async def test_an_agent_that_breaks_marks_the_reply_failed(services: Services, make_user,
                                                           monkeypatch: pytest.MonkeyPatch):
    from crewos_tui.backend import errors
    from crewos_tui.backend.local.agents.runtime import PreparedRun

    async def broken(self, stream, cancel):
        raise RuntimeError("boom")

    monkeypatch.setattr(PreparedRun, "_generate", broken)
    user, _ = await make_user()
    p = await services.auth.principal_for(user.username)
    with pytest.raises(errors.Unavailable, match="RuntimeError"):
        await services.chat.send(p, "hello")
    events = [e async for e in services.chat.stream(p, "hello again")]
    assert [e.event for e in events] == ["start", "error"] and "RuntimeError" in events[1].data["message"]
    [session] = (await services.sessions.list(p)).items[:1]
    detail = await services.sessions.get(p, session.id)
    assert [m.status for m in detail.messages if m.role == "assistant"] == ["failed"]
    assert (await services.chat.orchestrator_status(p)).active_runs == []
