"""Property test of the ledger: random sequences of requests (mint, transfer, burn),
approvals, executions (also two at once), cancellations, rejections, direct
operations and freezes, checked step by step against a tiny model and against the
database's own invariants:

- supply = minted − burned, and every balance is what the model says;
- no holder balance is ever negative; cached balances equal their postings;
- the postings of every transaction sum to zero;
- every executed request has exactly one transaction, every other request none.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from crewos_tui.backend import errors
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.tables import (
    TokenPostingRow,
    TokenRequestRow,
    TokenTransactionRow,
)
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.schemas import ProjectCreate, UserCreate
from crewos_tui.backend.schemas.projects import ProjectRole
from crewos_tui.backend.schemas.tokens import (
    TokenBurn,
    TokenMint,
    TokenRequestCreate,
    TokenSettingsUpdate,
    TokenTransfer,
    WalletUpsert,
)

from .conftest import fast_settings
from .test_tokens_ledger import check_cached_balances

WALLETS = ("treasury", "w-one", "w-two")
_projects = itertools.count(1)


@dataclass
class Env:
    runner: asyncio.Runner
    services: Services
    who: dict[str, Principal] = field(default_factory=dict)

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)


@pytest.fixture(scope="module")
def ledger_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    runner = asyncio.Runner()
    path: Path = tmp_path_factory.mktemp("ledger-props") / "crewos.db"
    env = Env(runner, runner.run(Services.open(path, settings=fast_settings())))

    async def users() -> None:
        for name in ("owner", "editor", "approver"):
            await env.services.auth.create_user(Principal.system(), UserCreate(
                username=f"prop-{name}", password="property pass 1"))
            env.who[name] = await env.services.auth.principal_for(f"prop-{name}")

    runner.run(users())
    LedgerMachine.env = env
    yield env
    runner.run(env.services.close())
    runner.close()


@dataclass
class Req:
    kind: str
    amount: int
    source: str | None
    target: str | None
    status: str = "pending"


class LedgerMachine(RuleBasedStateMachine):
    env: ClassVar[Env]
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        self.t = self.env.services.tokenization
        self.who = self.env.who
        self.pid = self.env.run(self._setup())
        self.balances = dict.fromkeys(WALLETS, 0)
        self.frozen: set[str] = set()
        self.minted = self.burned = 0
        self.reqs: dict[str, Req] = {}

    async def _setup(self) -> str:
        svc, who = self.env.services, self.who
        project = await svc.projects.create(who["owner"], ProjectCreate(name=f"Props {next(_projects)}"))
        for name in ("editor", "approver"):
            await svc.projects.upsert_member(who["owner"], project.id, who[name].user_id, ProjectRole.editor)
        await self.t.configure(who["owner"], project.id, TokenSettingsUpdate(
            symbol="PRP", decimals=0, approver_ids=[who["approver"].user_id], allow_direct_operations=True))
        for address in WALLETS:
            await self.t.upsert_wallet(who["owner"], project.id, address, WalletUpsert(
                owner_kind="treasury" if address == "treasury" else "user",
                owner_user_id=None if address == "treasury" else who["editor"].user_id))
        return project.id

    # ---- the model ---------------------------------------------------------------------

    def _allowed(self, kind: str, amount: int, source: str | None, target: str | None) -> bool:
        if any(w in self.frozen for w in (source, target) if w):
            return False
        return not (source and self.balances[source] < amount)

    def _apply(self, kind: str, amount: int, source: str | None, target: str | None) -> None:
        if source:
            self.balances[source] -= amount
        if target:
            self.balances[target] += amount
        self.minted += amount if kind == "mint" else 0
        self.burned += amount if kind == "burn" else 0

    @staticmethod
    def _wallets(kind: str, a: str, b: str) -> tuple[str | None, str | None]:
        return {"mint": (None, a), "burn": (a, None), "transfer": (a, b)}[kind]

    # ---- rules ------------------------------------------------------------------------

    @rule(target=requests, kind=st.sampled_from(["mint", "transfer", "burn"]), amount=st.integers(1, 400),
          a=st.sampled_from(WALLETS), b=st.sampled_from(WALLETS))
    def create(self, kind: str, amount: int, a: str, b: str) -> str:
        source, target = self._wallets(kind, a, b)
        assume(source != target)
        data = TokenRequestCreate(kind=kind, amount=amount, from_wallet=source, to_wallet=target)
        if any(w in self.frozen for w in (source, target) if w):
            with pytest.raises(errors.Conflict, match="frozen"):
                self.env.run(self.t.create_request(self.who["editor"], self.pid, data))
            assume(False)
        req = self.env.run(self.t.create_request(self.who["editor"], self.pid, data))
        assert req.status == "pending"
        self.reqs[req.id] = Req(kind, amount, source, target)
        return req.id

    @rule(rid=requests, by=st.sampled_from(["approver", "editor"]))
    def approve(self, rid: str, by: str) -> None:
        call = self.t.approve_request(self.who[by], self.pid, rid)
        if by == "editor":  # the requester: maker-checker refuses whatever the state
            with pytest.raises(errors.Forbidden, match="own request"):
                self.env.run(call)
        elif self.reqs[rid].status != "pending":
            with pytest.raises(errors.Conflict):
                self.env.run(call)
        else:
            assert self.env.run(call).status == "approved"
            self.reqs[rid].status = "approved"

    @rule(rid=requests, by=st.sampled_from(["approver", "editor"]))
    def reject_or_cancel(self, rid: str, by: str) -> None:
        call = self.t.reject_request(self.who[by], self.pid, rid)
        if self.reqs[rid].status != "pending":
            with pytest.raises(errors.Conflict):
                self.env.run(call)
        else:
            status = self.env.run(call).status
            assert status == ("cancelled" if by == "editor" else "rejected")
            self.reqs[rid].status = status

    def _expect_execution(self, rid: str, outcome: Any) -> None:
        r = self.reqs[rid]
        if r.status != "approved":
            assert isinstance(outcome, errors.Conflict), outcome
        elif self._allowed(r.kind, r.amount, r.source, r.target):
            assert not isinstance(outcome, BaseException), outcome
            assert outcome.status == "executed"
            self._apply(r.kind, r.amount, r.source, r.target)
            r.status = "executed"
        else:
            assert isinstance(outcome, errors.Conflict) and "failed" in outcome.detail, outcome
            r.status = "failed"

    @rule(rid=requests, by=st.sampled_from(["approver", "editor", "owner"]))
    def execute(self, rid: str, by: str) -> None:
        try:
            outcome: Any = self.env.run(self.t.execute_request(self.who[by], self.pid, rid))
        except errors.CrewOSError as exc:
            outcome = exc
        self._expect_execution(rid, outcome)

    @rule(rid=requests)
    def execute_twice_at_once(self, rid: str) -> None:
        async def both() -> list[Any]:
            return await asyncio.gather(self.t.execute_request(self.who["editor"], self.pid, rid),
                                        self.t.execute_request(self.who["approver"], self.pid, rid),
                                        return_exceptions=True)

        was = self.reqs[rid].status
        first, second = sorted(self.env.run(both()), key=lambda o: isinstance(o, BaseException))
        self._expect_execution(rid, first)
        assert isinstance(second, errors.Conflict), second  # never two transactions
        if was == "approved" and self.reqs[rid].status == "failed":
            assert isinstance(first, errors.Conflict)

    @rule(kind=st.sampled_from(["mint", "transfer", "burn"]), amount=st.integers(1, 400),
          a=st.sampled_from(WALLETS), b=st.sampled_from(WALLETS))
    def direct(self, kind: str, amount: int, a: str, b: str) -> None:
        source, target = self._wallets(kind, a, b)
        assume(source != target)
        owner = self.who["owner"]
        call = {"mint": lambda: self.t.mint(owner, self.pid, TokenMint(to_wallet=target, amount=amount)),
                "burn": lambda: self.t.burn(owner, self.pid, TokenBurn(from_wallet=source, amount=amount)),
                "transfer": lambda: self.t.transfer(owner, self.pid, TokenTransfer(
                    from_wallet=source, to_wallet=target, amount=amount))}[kind]
        if self._allowed(kind, amount, source, target):
            tx = self.env.run(call())
            self._apply(kind, amount, source, target)
            assert tx.supply_after == self.minted - self.burned
        else:
            with pytest.raises(errors.Conflict):
                self.env.run(call())

    @rule(wallet=st.sampled_from(WALLETS), frozen=st.booleans())
    def freeze(self, wallet: str, frozen: bool) -> None:
        self.env.run(self.t.upsert_wallet(self.who["owner"], self.pid, wallet, WalletUpsert(
            owner_kind="treasury" if wallet == "treasury" else "user",
            owner_user_id=None if wallet == "treasury" else self.who["editor"].user_id, frozen=frozen)))
        (self.frozen.add if frozen else self.frozen.discard)(wallet)

    # ---- invariants --------------------------------------------------------------------

    @invariant()
    def ledger_matches_the_model(self) -> None:
        status = self.env.run(self.t.token_status(self.who["editor"], self.pid))
        assert (status.minted, status.burned) == (self.minted, self.burned)
        assert status.total_supply == self.minted - self.burned
        assert {w.address: w.balance for w in status.wallets} == self.balances
        assert all(w.balance >= 0 for w in status.wallets)

    @invariant()
    def database_invariants(self) -> None:
        self.env.run(self._database_invariants())

    async def _database_invariants(self) -> None:
        await check_cached_balances(self.env.services, self.pid)
        async with self.env.services.ctx.db.read() as s:
            unbalanced = (await s.execute(
                select(TokenPostingRow.transaction_id).where(TokenPostingRow.project_id == self.pid)
                .group_by(TokenPostingRow.transaction_id).having(func.sum(TokenPostingRow.amount) != 0))).all()
            assert unbalanced == []
            per_request = dict((await s.execute(
                select(TokenRequestRow.id, func.count(TokenTransactionRow.id))
                .outerjoin(TokenTransactionRow, TokenTransactionRow.request_id == TokenRequestRow.id)
                .where(TokenRequestRow.project_id == self.pid).group_by(TokenRequestRow.id))).all())
            statuses = dict((await s.execute(select(TokenRequestRow.id, TokenRequestRow.status)
                                             .where(TokenRequestRow.project_id == self.pid))).all())
        for rid, count in per_request.items():
            assert count == (1 if statuses[rid] == "executed" else 0), (rid, statuses[rid], count)
            assert statuses[rid] == self.reqs[rid].status


def test_ledger_state_machine(ledger_env: Env) -> None:
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=15, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
