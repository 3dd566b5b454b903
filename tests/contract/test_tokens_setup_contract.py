"""Tokenization readiness, settings, wallets, token status and history, on both backends."""

from __future__ import annotations

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.schemas.tokens import TokenSettingsUpdate, WalletUpsert

from .tokens_support import ledger_project


async def test_readiness_checklist_fills_in_step_by_step(world):
    lp = await ledger_project(world, configure=False)
    status = await lp.viewer.tokenization.status(lp.project_id)
    assert not status.ready and status.settings is None
    assert [(i.key, i.done) for i in status.checklist] == [
        ("token", False), ("wallet", False), ("treasury", False), ("approvers", False)]

    settings = await lp.owner.tokenization.configure(lp.project_id, TokenSettingsUpdate(
        symbol="crw", decimals=2, approver_ids=[lp.users["approver"].id]))
    assert (settings.symbol, settings.decimals, settings.required_approvals) == ("CRW", 2, 1)
    done = {i.key: i.done for i in (await lp.viewer.tokenization.status(lp.project_id)).checklist}
    assert done == {"token": True, "wallet": False, "treasury": False, "approvers": True}

    await lp.owner.tokenization.upsert_wallet(lp.project_id, "alice-1", WalletUpsert())
    done = {i.key: i.done for i in (await lp.viewer.tokenization.status(lp.project_id)).checklist}
    assert done == {"token": True, "wallet": True, "treasury": False, "approvers": True}

    await lp.owner.tokenization.upsert_wallet(lp.project_id, "vault", WalletUpsert(owner_kind="treasury"))
    status = await lp.viewer.tokenization.status(lp.project_id)
    assert status.ready and status.settings is not None and status.settings.symbol == "CRW"


async def test_two_required_approvals_need_two_approvers_configured(world):
    lp = await ledger_project(world, configure=False)
    await lp.owner.tokenization.configure(lp.project_id, TokenSettingsUpdate(
        symbol="CRW", required_approvals=2, approver_ids=[lp.users["approver"].id]))
    item = next(i for i in (await lp.owner.tokenization.status(lp.project_id)).checklist if i.key == "approvers")
    assert not item.done and "1 approver(s) for 2" in item.detail


async def test_only_the_owner_configures_and_approvers_must_be_members(world):
    lp = await ledger_project(world, configure=False)
    with pytest.raises(errors.Forbidden, match="owner"):
        await lp.editor.tokenization.configure(lp.project_id, TokenSettingsUpdate(symbol="CRW"))
    outsider = await world.user(team="ledger-outsiders")
    with pytest.raises(errors.Invalid, match="not a member"):
        await lp.owner.tokenization.configure(lp.project_id, TokenSettingsUpdate(
            symbol="CRW", approver_ids=[outsider.id]))
    bad = TokenSettingsUpdate.model_construct(symbol="CRW", name="", decimals=2.5, required_approvals=1,
                                              approver_ids=[], allow_direct_operations=False, confirm_threshold=0)
    if world.kind == "remote":  # the server validates the body; locally the model already would have
        with pytest.warns(UserWarning), pytest.raises(errors.Invalid, match="decimals"):
            await lp.owner.tokenization.configure(lp.project_id, bad)
    # Nothing was written by the refusals.
    assert (await lp.owner.tokenization.status(lp.project_id)).settings is None


async def test_decimals_are_fixed_once_tokens_moved(world):
    lp = await ledger_project(world, decimals=2)
    approvers = [lp.users["approver"].id, lp.users["approver2"].id]
    # Before any movement decimals may change; other settings may change any time.
    await lp.owner.tokenization.configure(lp.project_id, TokenSettingsUpdate(symbol="CRW", decimals=3,
                                                                             approver_ids=approvers))
    await lp.run("mint", 1000, to_wallet="treasury")
    with pytest.raises(errors.Conflict, match="decimals are fixed"):
        await lp.owner.tokenization.configure(lp.project_id, TokenSettingsUpdate(symbol="CRW", decimals=2,
                                                                                 approver_ids=approvers))
    s = await lp.owner.tokenization.configure(lp.project_id, TokenSettingsUpdate(
        symbol="CREW", decimals=3, approver_ids=approvers, required_approvals=2))
    assert (s.symbol, s.required_approvals) == ("CREW", 2)


async def test_wallets_create_update_list_and_page(world):
    lp = await ledger_project(world)
    w = await lp.owner.tokenization.upsert_wallet(lp.project_id, "Editor-Wallet", WalletUpsert(
        label="Renamed", owner_user_id=lp.users["editor"].id, frozen=True))
    assert (w.address, w.label, w.frozen, w.owner_username) == ("editor-wallet", "Renamed", True,
                                                                 lp.users["editor"].username)
    evm = "0x" + "ab" * 20
    await lp.owner.tokenization.upsert_wallet(lp.project_id, evm.upper().replace("0X", "0x"), WalletUpsert())
    first = await lp.viewer.tokenization.list_wallets(lp.project_id, limit=2)
    assert [x.address for x in first.items] == [evm, "approver-wallet"] and first.next_cursor
    rest = await lp.viewer.tokenization.list_wallets(lp.project_id, limit=2, cursor=first.next_cursor)
    assert [x.address for x in rest.items] == ["editor-wallet", "treasury"] and rest.next_cursor is None
    # System accounts never show up as wallets.
    assert all(not x.address.startswith("@") for x in first.items + rest.items)


@pytest.mark.parametrize("address", ["ab", "-lead", "has space", "UPPER!", "@issuance", "x" * 65, "0x123"])
async def test_bad_wallet_addresses_are_422(world, address):
    lp = await ledger_project(world)
    with pytest.raises(errors.Invalid, match="wallet address"):
        await lp.owner.tokenization.upsert_wallet(lp.project_id, address, WalletUpsert())


async def test_wallet_rules(world):
    lp = await ledger_project(world, configure=False)
    with pytest.raises(errors.Conflict, match="define the project token"):
        await lp.owner.tokenization.upsert_wallet(lp.project_id, "early", WalletUpsert())
    lp = await ledger_project(world)
    with pytest.raises(errors.Forbidden):
        await lp.editor.tokenization.upsert_wallet(lp.project_id, "mine", WalletUpsert())
    outsider = await world.user(team="ledger-outsiders")
    with pytest.raises(errors.Invalid, match="not a member"):
        await lp.owner.tokenization.upsert_wallet(lp.project_id, "theirs", WalletUpsert(owner_user_id=outsider.id))
    with pytest.raises(errors.Invalid, match="treasury"):
        await lp.owner.tokenization.upsert_wallet(lp.project_id, "vault2", WalletUpsert(
            owner_kind="treasury", owner_user_id=lp.users["editor"].id))
    with pytest.raises(errors.NotFound):
        await lp.owner.tokenization.upsert_wallet(lp.project_id, "ghost", WalletUpsert(
            owner_user_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"))
    names = [w.address for w in (await lp.owner.tokenization.list_wallets(lp.project_id)).items]
    assert names == ["approver-wallet", "editor-wallet", "treasury"]


async def test_strangers_get_404_and_viewers_read(world):
    lp = await ledger_project(world)
    stranger = await world.as_(await world.user(team="ledger-outsiders"))
    for call in (stranger.tokenization.status, stranger.tokenization.token_status,
                 stranger.tokenization.list_wallets, stranger.tokenization.list_requests,
                 stranger.tokenization.list_transactions):
        with pytest.raises(errors.NotFound):
            await call(lp.project_id)
    with pytest.raises(errors.NotFound):
        await lp.owner.tokenization.token_status("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert (await lp.viewer.tokenization.token_status(lp.project_id)).symbol == "CRW"


async def test_token_status_and_history(world):
    lp = await ledger_project(world, decimals=2)
    empty = await lp.viewer.tokenization.token_status(lp.project_id)
    assert (empty.total_supply, empty.holders, empty.transaction_count, empty.last_transaction) == (0, 0, 0, None)
    await lp.run("mint", 100_000, to_wallet="treasury", memo="seed")
    await lp.run("transfer", 30_000, from_wallet="treasury", to_wallet="editor-wallet")
    await lp.run("burn", 5_000, from_wallet="editor-wallet")
    st = await lp.viewer.tokenization.token_status(lp.project_id)
    assert (st.symbol, st.decimals, st.minted, st.burned, st.total_supply) == ("CRW", 2, 100_000, 5_000, 95_000)
    assert (st.holders, st.wallet_count, st.transaction_count) == (2, 3, 3)
    assert {w.address: w.balance for w in st.wallets} == {"approver-wallet": 0, "editor-wallet": 25_000,
                                                          "treasury": 70_000}
    last = st.last_transaction
    assert last is not None and (last.seq, last.kind, last.amount, last.supply_after) == (3, "burn", 5_000, 95_000)
    assert {p.wallet: (p.amount, p.balance_after) for p in last.postings} == {
        "editor-wallet": (-5_000, 25_000), "@burn": (5_000, 5_000)}

    page = await lp.viewer.tokenization.list_transactions(lp.project_id, limit=2)
    assert [t.seq for t in page.items] == [3, 2] and page.next_cursor
    rest = await lp.viewer.tokenization.list_transactions(lp.project_id, limit=2, cursor=page.next_cursor)
    assert [t.seq for t in rest.items] == [1] and rest.next_cursor is None
    assert rest.items[0].memo == "seed" and rest.items[0].request_id is not None
    for t in page.items + rest.items:
        assert sum(p.amount for p in t.postings) == 0
    mine = await lp.viewer.tokenization.list_transactions(lp.project_id, wallet="editor-wallet")
    assert [t.seq for t in mine.items] == [3, 2]
    with pytest.raises(errors.NotFound):
        await lp.viewer.tokenization.list_transactions(lp.project_id, wallet="nobody")
    with pytest.raises(errors.Invalid):
        await lp.viewer.tokenization.list_transactions(lp.project_id, cursor="not-a-cursor")
