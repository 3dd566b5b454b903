"""Token amounts on the wire: strict integers only (no float, string or bool reaches
the ledger), readable 422s, and no 500 for any body (hypothesis hunts for one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crewos_tui.backend.local.services import Services
from crewos_tui.backend.server.app import create_app


@dataclass
class Api:
    client: httpx.AsyncClient
    headers: dict[str, str]
    base: str  # /api/v1/projects/{id}/tokenization


@pytest.fixture
async def api(services: Services, make_user, api_key_for) -> AsyncIterator[Api]:
    user, _ = await make_user()
    headers = {"X-CrewOS-API-Key": await api_key_for(user)}
    app = create_app(services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:
        r = await client.post("/api/v1/projects", json={"name": "Wire"}, headers=headers)
        base = f"/api/v1/projects/{r.json()['id']}/tokenization"
        r = await client.put(f"{base}/settings", json={"symbol": "WIR", "decimals": 2, "allow_direct_operations": True},
                             headers=headers)
        assert r.status_code == 200, r.text
        r = await client.put(f"{base}/wallets/vault", json={"owner_kind": "treasury"}, headers=headers)
        assert r.status_code == 200, r.text
        yield Api(client, headers, base)


BAD_AMOUNTS = [True, "12", 2.5, 12.0, 1e3, -1, 0, 10**18 + 1, None, [], {}]


async def test_non_integer_or_out_of_range_amounts_are_422(api: Api) -> None:
    for amount in BAD_AMOUNTS:
        for path, body in [("token-requests", {"kind": "mint", "to_wallet": "vault"}),
                           ("token/mint", {"to_wallet": "vault"})]:
            r = await api.client.post(f"{api.base}/{path}", json={**body, "amount": amount}, headers=api.headers)
            assert r.status_code == 422, (path, amount, r.text)
            assert "amount" in r.json()["detail"]
    status = (await api.client.get(f"{api.base}/token/status", headers=api.headers)).json()
    assert status["total_supply"] == 0 and status["transaction_count"] == 0


async def test_amounts_answer_as_json_integers(api: Api) -> None:
    r = await api.client.post(f"{api.base}/token/mint", json={"to_wallet": "vault", "amount": 10**17},
                              headers=api.headers)
    assert r.status_code == 201, r.text
    assert r.json()["amount"] == 10**17 and isinstance(r.json()["supply_after"], int)
    assert '"amount":100000000000000000' in r.text.replace(" ", "")


async def test_execute_and_approve_take_an_optional_body(api: Api) -> None:
    r = await api.client.post(f"{api.base}/token-requests", json={"kind": "mint", "amount": 5, "to_wallet": "vault"},
                              headers=api.headers)
    rid = r.json()["id"]
    r = await api.client.post(f"{api.base}/token-requests/{rid}/approve", headers=api.headers)
    assert r.status_code == 403 and "your own request" in r.json()["detail"]  # no body is fine
    r = await api.client.post(f"{api.base}/token-requests/{rid}/reject", json={"comment": "x", "extra": 1},
                              headers=api.headers)
    assert r.status_code == 422 and "extra" in r.json()["detail"]


BODY = st.dictionaries(
    st.sampled_from(["kind", "amount", "from_wallet", "to_wallet", "memo", "idempotency_key", "zzz"]),
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
              st.floats(allow_nan=False, allow_infinity=False),  # JSON has no NaN or infinity
              st.text(max_size=80), st.sampled_from(["mint", "transfer", "burn", "vault", "@burn", "0x" + "a" * 40])),
    max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODY, path=st.sampled_from(["token-requests", "token/mint", "token/transfer", "token/burn"]))
async def test_no_body_makes_a_500(api: Api, body: dict, path: str) -> None:
    r = await api.client.post(f"{api.base}/{path}", json=body, headers=api.headers)
    assert r.status_code < 500, r.text
    assert isinstance(r.json(), dict)
