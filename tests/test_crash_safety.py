"""A writer killed with SIGKILL at random points loses nothing it acknowledged.

The child (``tests/crash_writer.py``) writes through the service layer (tasks, direct
ledger transfers, token requests approved and executed, review decisions, chat turns,
durable jobs, with its job runner running) and prints a line after each call returned.
The test kills it at a seeded random point, reopens the file, and checks: SQLite's
integrity check, every acknowledged write present, the ledger balanced (every
transaction sums to zero, each wallet's cached balance is the sum of its postings, each
project's wallets sum to zero), one audit event per domain event, and, at the end, the
audit hash chain verified by the admin service. Killing a process is not losing power:
what a commit handed to the OS survives either way (see the README on durability).
"""

from __future__ import annotations

import asyncio
import os
import random
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from crewos_tui.backend.local.services import Services
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import (
    ProjectCreate,
    ReviewItemCreate,
    TokenMint,
    TokenSettingsUpdate,
    UserCreate,
    WalletOwnerKind,
    WalletUpsert,
)

from .conftest import PASSWORD, REPO, fast_settings

CHILD = Path(__file__).with_name("crash_writer.py")
KILLS = 24
SEED = 15
MAX_ACKS_BEFORE_KILL = 14
REVIEW_ITEMS = 40  # more than the writers decide (one call in six)


async def build_workspace(path: Path) -> str:
    """maya (admin, project owner, approver) and priya (member) on a project with a token,
    a funded treasury and review items priya submitted; the project's id."""
    svc = await Services.open(path, settings=fast_settings())
    try:
        system = Principal.system()
        for name, role in (("maya", "admin"), ("priya", "member")):
            await svc.auth.create_user(system, UserCreate(username=name, password=PASSWORD, role=role))
        maya, priya = await svc.auth.principal_for("maya"), await svc.auth.principal_for("priya")
        project = await svc.projects.create(maya, ProjectCreate(name="Crash"))
        assert priya.user_id is not None and maya.user_id is not None
        await svc.projects.upsert_member(maya, project.id, priya.user_id, "editor")
        t = svc.tokenization
        await t.configure(maya, project.id, TokenSettingsUpdate(symbol="CRS", required_approvals=1,
                                                                approver_ids=[maya.user_id],
                                                                allow_direct_operations=True))
        await t.upsert_wallet(maya, project.id, "treasury", WalletUpsert(owner_kind=WalletOwnerKind.treasury))
        await t.upsert_wallet(maya, project.id, "priya", WalletUpsert(owner_user_id=priya.user_id))
        await t.mint(maya, project.id, TokenMint(to_wallet="treasury", amount=10**9))
        for i in range(REVIEW_ITEMS):
            await svc.review.submit(priya, ReviewItemCreate(title=f"output {i}", project_id=project.id))
        return project.id
    finally:
        await svc.close()


class Writers:
    """The fork server (``crash_writer.py --fork-server``): one Python start for all kills."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self._log = log.open("w")
        self.proc = subprocess.Popen([sys.executable, str(CHILD), "--fork-server"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._log, text=True, env=env)
        self._log_path = log

    def wait_ready(self) -> None:
        assert self._answer() == "ready", self._log_path.read_text()

    def _answer(self) -> str:
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            assert sel.select(120), "the fork server did not answer"
        return self.proc.stdout.readline().strip()

    def start(self, path: Path, project_id: str, first: int, outfile: Path) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"run {path} {project_id} {first} {outfile}\n")
        self.proc.stdin.flush()
        word, pid = self._answer().split()
        assert word == "pid"
        return int(pid)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self._log.close()


class Acks:
    """A writer's output file, read as it grows: complete lines only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[str] = []
        self._offset = 0

    def read(self) -> list[str]:
        with self.path.open() as f:
            f.seek(self._offset)
            chunk = f.read()
        complete = chunk[:chunk.rfind("\n") + 1]
        self._offset += len(complete)
        self.lines += complete.splitlines()
        return self.lines

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.read()) < count:
            assert time.monotonic() < deadline, f"the writer stopped at {self.lines}"
            time.sleep(0.002)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def verify(path: Path, acked: dict[str, set[str]]) -> None:
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

        def ids(sql: str) -> set[str]:
            return {r[0] for r in db.execute(sql)}

        assert acked["task"] <= ids("SELECT id FROM tasks")
        assert acked["txn"] <= ids("SELECT id FROM token_transactions")
        assert acked["request"] <= ids("SELECT id FROM token_requests")
        assert acked["approved"] <= ids("SELECT id FROM token_requests WHERE status IN ('approved', 'executed')")
        assert acked["executed"] <= ids("SELECT id FROM token_requests WHERE status = 'executed' AND transaction_id "
                                        "IN (SELECT id FROM token_transactions)")
        assert acked["decision"] <= ids("SELECT item_id FROM review_decisions WHERE to_state = 'approved'")
        assert acked["decision"] <= ids("SELECT id FROM review_items WHERE state = 'approved'")
        assert acked["chat"] <= ids("SELECT id FROM chat_messages WHERE status = 'complete'")
        assert acked["chat_user"] <= ids("SELECT id FROM chat_messages WHERE role = 'user'")
        assert acked["job"] <= ids("SELECT id FROM agent_jobs")
        # The ledger balances.
        assert db.execute("SELECT transaction_id FROM token_postings GROUP BY transaction_id "
                          "HAVING sum(amount) != 0").fetchall() == []
        assert db.execute("SELECT id FROM token_transactions WHERE id NOT IN "
                          "(SELECT transaction_id FROM token_postings)").fetchall() == []
        assert db.execute("SELECT w.address FROM token_wallets w LEFT JOIN (SELECT wallet_id, sum(amount) AS total "
                          "FROM token_postings GROUP BY wallet_id) p ON p.wallet_id = w.id "
                          "WHERE w.balance != coalesce(p.total, 0)").fetchall() == []
        assert db.execute("SELECT project_id FROM token_wallets GROUP BY project_id "
                          "HAVING sum(balance) != 0").fetchall() == []
        # Every domain event has its audit event (the chain itself is walked at the end).
        assert db.execute("SELECT count(*) FROM domain_events").fetchone() == \
            db.execute("SELECT count(*) FROM audit_events").fetchone()
    finally:
        db.close()


async def _audit_chain(path: Path) -> tuple[bool, int]:
    svc = await Services.open(path, settings=fast_settings())
    try:
        result = await svc.admin.audit_integrity(Principal.system())
        return result.valid, result.checked
    finally:
        await svc.close()


@pytest.mark.timeout(300)  # a minute on a quiet machine; two cores shared with other work take longer
def test_sigkill_at_random_points_loses_no_acknowledged_write(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    rng = random.Random(SEED)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    acked: dict[str, set[str]] = defaultdict(set)
    total = 0
    writers = Writers(env, tmp_path / "writers.log")  # imports while the workspace is built
    try:
        project_id = asyncio.run(build_workspace(path))
        writers.wait_ready()
        for k in range(KILLS):
            acks = Acks(tmp_path / f"writer-{k}.out")
            acks.path.touch()
            pid = writers.start(path, project_id, k * 1000, acks.path)
            try:
                acks.wait_for(1 + rng.randint(0, MAX_ACKS_BEFORE_KILL))  # "ready", then that many writes
                time.sleep(rng.uniform(0, 0.02))  # the kill point: somewhere inside the next call
            finally:
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while not _gone(pid):  # reaped by the fork server
                assert time.monotonic() < deadline, f"writer {pid} survived SIGKILL"
                time.sleep(0.005)
            lines = acks.read()  # everything printed before the kill was acknowledged
            assert lines[0] == "ready"
            for line in lines[1:]:
                kind, *ids = line.split()
                acked[kind].add(ids[0])
                if kind == "chat":
                    acked["chat_user"].add(ids[1])
                total += 1
            verify(path, acked)
    finally:
        writers.close()
    valid, checked = asyncio.run(_audit_chain(path))
    assert valid and checked > 0
    print(f"\ncrash test: {KILLS} kill points survived, {total} acknowledged writes all present, "
          f"audit chain of {checked} events valid; by kind: {dict(sorted((k, len(v)) for k, v in acked.items()))}")
