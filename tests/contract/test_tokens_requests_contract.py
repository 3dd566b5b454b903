"""Token change requests on both backends: maker-checker approval, execution
exactly once (also under concurrency), idempotency, and refusals of bad input
that leave nothing half-written."""

from __future__ import annotations

import asyncio
import warnings

import pytest
from sqlalchemy import func, select

from crewos_tui.backend import errors
from crewos_tui.backend.local.tables import DomainEventRow, TokenTransactionRow
from crewos_tui.backend.schemas.tokens import TokenRequestCreate, WalletUpsert

from .tokens_support import ledger_project

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # model_construct'ed bad bodies


async def tx_count(world, project_id: str) -> int:
    async with world.services.ctx.db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(TokenTransactionRow)
                                  .where(TokenTransactionRow.project_id == project_id)))


async def events_of(world, project_id: str, prefix: str = "token.") -> list[DomainEventRow]:
    async with world.services.ctx.db.read() as s:
        rows = await s.scalars(select(DomainEventRow).where(DomainEventRow.project_id == project_id,
                                                            DomainEventRow.kind.startswith(prefix))
                               .order_by(DomainEventRow.id))
        return list(rows)


async def test_request_approve_execute(world):
    lp = await ledger_project(world)
    req = await lp.request("mint", 50_000, to_wallet="treasury", memo="initial float")
    assert (req.status, req.kind, req.amount, req.to_wallet, req.from_wallet) == (
        "pending", "mint", 50_000, "treasury", None)
    assert req.requested_by == lp.users["editor"].id and req.required_approvals == 1 and req.approvals == []
    approved = await lp.approver.tokenization.approve_request(lp.project_id, req.id, "ok")
    assert approved.status == "approved"
    assert [(a.approver_id, a.comment) for a in approved.approvals] == [(lp.users["approver"].id, "ok")]
    done = await lp.editor.tokenization.execute_request(lp.project_id, req.id)
    assert done.status == "executed" and done.transaction_id and done.executed_by == lp.users["editor"].id
    assert await lp.balances() == {"approver-wallet": 0, "editor-wallet": 0, "treasury": 50_000}
    tx = (await lp.viewer.tokenization.list_transactions(lp.project_id)).items[0]
    assert (tx.id, tx.request_id, tx.kind, tx.amount) == (done.transaction_id, req.id, "mint", 50_000)
    listed = await lp.viewer.tokenization.list_requests(lp.project_id, status="executed")
    assert [r.id for r in listed.items] == [req.id]
    assert (await lp.viewer.tokenization.list_requests(lp.project_id, status="pending")).items == []

    # Every step is an event naming who should hear about it.
    kinds = {e.kind: e.data for e in await events_of(world, lp.project_id, "token.request")}
    assert kinds["token.request_created"]["requester_id"] == lp.users["editor"].id
    assert set(kinds["token.request_created"]["approver_ids"]) == {lp.users["approver"].id,
                                                                   lp.users["approver2"].id}
    assert kinds["token.request_approved"]["approver_id"] == lp.users["approver"].id
    assert kinds["token.request_executed"]["requester_id"] == lp.users["editor"].id
    assert kinds["token.request_executed"]["approver_ids"] == [lp.users["approver"].id]
    minted = list(await events_of(world, lp.project_id, "token.minted"))
    assert len(minted) == 1 and minted[0].data["request_id"] == req.id and minted[0].data["direct"] is False


async def test_self_approval_is_refused(world):
    lp = await ledger_project(world)
    req = await lp.request("mint", 10, to_wallet="treasury", by=lp.approver)
    with pytest.raises(errors.Forbidden, match="your own request"):
        await lp.approver.tokenization.approve_request(lp.project_id, req.id)
    with pytest.raises(errors.Forbidden, match="approvers"):
        await lp.editor.tokenization.approve_request(lp.project_id, req.id)
    with pytest.raises(errors.Forbidden):
        await lp.viewer.tokenization.approve_request(lp.project_id, req.id)
    # The owner is not an approver either: maker-checker is the configured approvers.
    with pytest.raises(errors.Forbidden, match="approvers"):
        await lp.owner.tokenization.approve_request(lp.project_id, req.id)
    assert (await lp.approver2.tokenization.approve_request(lp.project_id, req.id)).status == "approved"


async def test_two_approvals_from_distinct_approvers(world):
    lp = await ledger_project(world, required=2)
    req = await lp.request("mint", 10, to_wallet="treasury")
    first = await lp.approver.tokenization.approve_request(lp.project_id, req.id)
    assert first.status == "pending" and len(first.approvals) == 1
    with pytest.raises(errors.Conflict, match="already approved"):
        await lp.approver.tokenization.approve_request(lp.project_id, req.id)
    with pytest.raises(errors.Conflict, match="pending"):
        await lp.editor.tokenization.execute_request(lp.project_id, req.id)
    second = await lp.approver2.tokenization.approve_request(lp.project_id, req.id)
    assert second.status == "approved" and len(second.approvals) == 2
    kinds = [e.kind for e in await events_of(world, lp.project_id, "token.request")]
    assert kinds == ["token.request_created", "token.request_approval_added", "token.request_approved"]


async def test_reject_cancel_and_terminal_states(world):
    lp = await ledger_project(world)
    a = await lp.request("mint", 10, to_wallet="treasury")
    rejected = await lp.approver.tokenization.reject_request(lp.project_id, a.id, "not now")
    assert (rejected.status, rejected.comment, rejected.decided_by) == ("rejected", "not now",
                                                                        lp.users["approver"].id)
    b = await lp.request("mint", 10, to_wallet="treasury")
    cancelled = await lp.editor.tokenization.reject_request(lp.project_id, b.id)
    assert cancelled.status == "cancelled"
    for req in (a, b):
        with pytest.raises(errors.Conflict):
            await lp.approver.tokenization.approve_request(lp.project_id, req.id)
        with pytest.raises(errors.Conflict):
            await lp.editor.tokenization.execute_request(lp.project_id, req.id)
        with pytest.raises(errors.Conflict):
            await lp.approver.tokenization.reject_request(lp.project_id, req.id)
    c = await lp.request("mint", 10, to_wallet="treasury")
    with pytest.raises(errors.Forbidden):
        await lp.viewer.tokenization.reject_request(lp.project_id, c.id)
    await lp.approver.tokenization.approve_request(lp.project_id, c.id)
    with pytest.raises(errors.Conflict, match="approved"):  # approved requests are no longer cancellable
        await lp.editor.tokenization.reject_request(lp.project_id, c.id)
    with pytest.raises(errors.NotFound):
        await lp.editor.tokenization.execute_request(lp.project_id, "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    with pytest.raises(errors.Invalid):
        await lp.viewer.tokenization.list_requests(lp.project_id, status="bogus")
    assert await tx_count(world, lp.project_id) == 0


async def test_execute_runs_exactly_once(world):
    lp = await ledger_project(world)
    done = await lp.run("mint", 10, to_wallet="treasury")
    with pytest.raises(errors.Conflict, match="already ran"):
        await lp.approver.tokenization.execute_request(lp.project_id, done.id)
    assert await tx_count(world, lp.project_id) == 1


async def test_concurrent_executes_make_one_transaction_and_one_conflict(world):
    lp = await ledger_project(world)
    for _ in range(3):  # a few rounds: the race must be lost the same way every time
        req = await lp.request("mint", 7, to_wallet="treasury")
        await lp.approver.tokenization.approve_request(lp.project_id, req.id)
        results = await asyncio.gather(
            lp.editor.tokenization.execute_request(lp.project_id, req.id),
            lp.approver.tokenization.execute_request(lp.project_id, req.id),
            return_exceptions=True)
        ok = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(ok) == 1 and ok[0].status == "executed", results
        assert len(refused) == 1 and isinstance(refused[0], errors.Conflict), results
    assert await tx_count(world, lp.project_id) == 3
    assert (await lp.viewer.tokenization.token_status(lp.project_id)).total_supply == 21


async def test_execute_fails_cleanly_when_balance_no_longer_allows(world):
    lp = await ledger_project(world, decimals=2)
    await lp.run("mint", 1_000, to_wallet="treasury")
    big = await lp.request("transfer", 800, from_wallet="treasury", to_wallet="editor-wallet")
    small = await lp.request("transfer", 500, from_wallet="treasury", to_wallet="approver-wallet")
    for r in (big, small):
        await lp.approver.tokenization.approve_request(lp.project_id, r.id)
    await lp.editor.tokenization.execute_request(lp.project_id, big.id)
    with pytest.raises(errors.Conflict, match=r"shortfall 3\.00 CRW"):
        await lp.editor.tokenization.execute_request(lp.project_id, small.id)
    failed = (await lp.viewer.tokenization.list_requests(lp.project_id, status="failed")).items
    assert [r.id for r in failed] == [small.id] and "insufficient balance" in failed[0].failure_reason
    assert failed[0].transaction_id is None
    assert await lp.balances() == {"approver-wallet": 0, "editor-wallet": 800, "treasury": 200}
    assert await tx_count(world, lp.project_id) == 2
    with pytest.raises(errors.Conflict):  # failed is terminal
        await lp.editor.tokenization.execute_request(lp.project_id, small.id)
    ev = (await events_of(world, lp.project_id, "token.request_failed"))[0]
    assert ev.data["requester_id"] == lp.users["editor"].id and "shortfall" in ev.data["reason"]


async def test_frozen_wallets_neither_send_nor_receive(world):
    lp = await ledger_project(world)
    await lp.run("mint", 100, to_wallet="treasury")
    req = await lp.request("transfer", 10, from_wallet="treasury", to_wallet="editor-wallet")
    await lp.approver.tokenization.approve_request(lp.project_id, req.id)
    await lp.owner.tokenization.upsert_wallet(lp.project_id, "editor-wallet", WalletUpsert(
        owner_user_id=lp.users["editor"].id, frozen=True))
    with pytest.raises(errors.Conflict, match="frozen"):
        await lp.editor.tokenization.execute_request(lp.project_id, req.id)
    with pytest.raises(errors.Conflict, match="frozen"):
        await lp.request("transfer", 1, from_wallet="editor-wallet", to_wallet="treasury")
    with pytest.raises(errors.Conflict, match="frozen"):
        await lp.request("mint", 1, to_wallet="editor-wallet")
    assert await lp.balances() == {"approver-wallet": 0, "editor-wallet": 0, "treasury": 100}


async def test_idempotency_key_replays_the_first_request(world):
    lp = await ledger_project(world)
    first = await lp.request("mint", 10, to_wallet="treasury", key="k-1")
    again = await lp.request("mint", 10, to_wallet="treasury", key="k-1")
    assert again.id == first.id and again.idempotency_key == "k-1"
    with pytest.raises(errors.Conflict, match="different"):
        await lp.request("mint", 11, to_wallet="treasury", key="k-1")
    # Keys belong to their caller: another user's same key is a new request.
    other = await lp.request("mint", 10, to_wallet="treasury", key="k-1", by=lp.approver)
    assert other.id != first.id
    assert len((await lp.viewer.tokenization.list_requests(lp.project_id)).items) == 2


BAD_AMOUNTS = [-5, 0, 2.5, 10**18 + 1, "12"]  # JSON `true` is refused too: tests/test_tokens_wire.py


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=[repr(a) for a in BAD_AMOUNTS])
async def test_bad_amounts_are_422(world, amount):
    lp = await ledger_project(world)
    bad = TokenRequestCreate.model_construct(kind="mint", amount=amount, to_wallet="treasury", from_wallet=None,
                                             memo="", idempotency_key=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(errors.Invalid, match="amount"):
            await lp.editor.tokenization.create_request(lp.project_id, bad)
    assert (await lp.viewer.tokenization.list_requests(lp.project_id)).items == []


async def test_bad_shapes_and_unknown_wallets(world):
    lp = await ledger_project(world)
    with pytest.raises(errors.NotFound, match="nowhere"):
        await lp.request("mint", 5, to_wallet="nowhere")
    with pytest.raises(errors.Invalid, match="to_wallet only"):
        await lp.request("mint", 5, to_wallet="treasury", from_wallet="editor-wallet")
    with pytest.raises(errors.Invalid, match="both"):
        await lp.request("transfer", 5, from_wallet="treasury")
    with pytest.raises(errors.Invalid, match="different"):
        await lp.request("transfer", 5, from_wallet="treasury", to_wallet="TREASURY")
    with pytest.raises(errors.Invalid, match="from_wallet only"):
        await lp.request("burn", 5, to_wallet="treasury")
    with pytest.raises(errors.Forbidden):
        await lp.request("mint", 5, to_wallet="treasury", by=lp.viewer)
    assert (await lp.viewer.tokenization.list_requests(lp.project_id)).items == []


async def test_requests_need_a_token(world):
    lp = await ledger_project(world, configure=False)
    with pytest.raises(errors.Conflict, match="no token"):
        await lp.request("mint", 5, to_wallet="treasury")


async def test_request_list_pages_newest_first(world):
    lp = await ledger_project(world)
    made = [await lp.request("mint", n, to_wallet="treasury") for n in (1, 2, 3)]
    page = await lp.viewer.tokenization.list_requests(lp.project_id, limit=2)
    assert [r.id for r in page.items] == [made[2].id, made[1].id] and page.next_cursor
    rest = await lp.viewer.tokenization.list_requests(lp.project_id, limit=2, cursor=page.next_cursor)
    assert [r.id for r in rest.items] == [made[0].id] and rest.next_cursor is None


async def test_each_step_notifies_the_people_it_concerns(world):
    lp = await ledger_project(world, decimals=2)
    req = await lp.request("mint", 12_345, to_wallet="editor-wallet", memo="bounty")

    async def kinds(backend) -> list[str]:
        page = await backend.notifications.list(project_id=lp.project_id)
        return [n.kind for n in page.items]

    assert "token.request_awaiting_approval" in await kinds(lp.approver)
    assert "token.request_awaiting_approval" in await kinds(lp.approver2)
    waiting = (await lp.approver.notifications.list(kind="token.request_awaiting_approval")).items[0]
    assert "mint of 123.45 CRW (bounty)" in waiting.body and waiting.link.resource_type == "token_request"
    assert waiting.link.resource_id == req.id
    await lp.approver.tokenization.approve_request(lp.project_id, req.id)
    assert "token.request_approved" in await kinds(lp.editor)
    await lp.editor.tokenization.execute_request(lp.project_id, req.id)
    assert "token.request_executed" in await kinds(lp.approver)
    # The requester executed it themselves, so only the wallet move reaches them (never one's own action twice).
    assert "token.request_executed" not in await kinds(lp.editor)
    assert [k for k in await kinds(lp.viewer) if k.startswith("token.")] == []
