"""The write actions of the ledger screen: approve, reject (or cancel one's own),
execute, and a new request.

Every decision shows the impact preview in its confirmation; burns and amounts
above the project's threshold need the project name typed. Writes run in workers;
the ledger reloads after each (also after a refusal: an execute that failed has
left the request ``failed``), and a refusal becomes a notification.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..widgets.confirm import ConfirmModal
from ..widgets.form_fields import Field, FieldError
from ..widgets.ledger_text import Units, approve_refusal, execute_refusal, impact_text, reject_refusal
from ..widgets.workers import work
from .screen_half import ScreenHalf

if TYPE_CHECKING:
    from ..backend.schemas.tokens import TokenizationStatus, TokenRequest, TokenStatus

KINDS = [("Mint", "mint"), ("Transfer", "transfer"), ("Burn", "burn")]


def _v(value: object) -> str:
    return str(getattr(value, "value", value) or "")


#: Why a new request cannot be made yet.
NO_TOKEN = "This project has no token yet: see the Setup tab."

class LedgerActions(ScreenHalf):
    # Provided by LedgerScreen; declared for the type checker.
    project_id: str | None
    project_name: str
    me: str | None
    status: TokenStatus | None
    readiness: TokenizationStatus | None
    load_ledger: Callable[..., Any]

    if TYPE_CHECKING:  # properties of the screen
        @property
        def selected_request(self) -> TokenRequest | None: ...
        @property
        def approver_ids(self) -> list[str]: ...
        @property
        def units(self) -> Units: ...

    # ---- plumbing ------------------------------------------------------------------

    @work(group="ledger-write", exit_on_error=False)
    async def run_write(self, call: Callable[[], Awaitable[Any]], done: Callable[[Any], str]) -> None:
        try:
            result = await call()
        finally:
            self.load_ledger()  # also after a refusal: a failed execute changed the request
        self.crewos.say(done(result))

    def _needs_typing(self, req: TokenRequest) -> bool:
        settings = self.readiness.settings if self.readiness else None
        threshold = settings.confirm_threshold if settings else 0
        return _v(req.kind) == "burn" or bool(threshold and req.amount > threshold)

    def _confirm(self, title: str, req: TokenRequest, yes: str, then: Callable[[], object],
                 typed: bool = False) -> None:
        def answered(ok: bool | None) -> None:
            if ok:
                then()

        message = impact_text(req, self.status)
        if typed:
            from ..widgets.typed_confirm import TypedConfirmModal

            self.crewos.push_screen(TypedConfirmModal(title, message, self.project_name, yes=yes), answered)
        else:
            self.crewos.push_screen(ConfirmModal(title, message, yes=yes), answered)  # type: ignore[arg-type]

    def _request_or_warn(self) -> TokenRequest | None:
        req = self.selected_request
        if req is None or self.project_id is None:
            self.crewos.say("Select a request first.", severity="warning")
            return None
        return req

    def _label(self, req: TokenRequest) -> str:
        return f"{_v(req.kind)} of {self.units(req.amount)}"

    # ---- decisions -----------------------------------------------------------------

    def action_approve(self) -> None:
        req = self._request_or_warn()
        if req is None:
            return
        why = approve_refusal(req, self.me, self.approver_ids)
        if why:
            self.crewos.say(why, severity="warning")
            return
        pid, t = self.project_id, self.backend.tokenization
        assert pid is not None
        self._confirm(f"Approve the {self._label(req)}?", req, "Approve",
                      lambda: self.run_write(lambda: t.approve_request(pid, req.id),
                                             lambda r: f"Approved: {self._label(r)} is {_v(r.status)}."),
                      typed=self._needs_typing(req))

    def action_reject(self) -> None:
        req = self._request_or_warn()
        if req is None:
            return
        if why := reject_refusal(req):
            self.crewos.say(why, severity="warning")
            return
        own = req.requested_by is not None and req.requested_by == self.me
        verb = "Cancel" if own else "Reject"
        pid, t = self.project_id, self.backend.tokenization
        assert pid is not None
        self._confirm(f"{verb} the {self._label(req)}?", req, verb,
                      lambda: self.run_write(lambda: t.reject_request(pid, req.id),
                                             lambda r: f"{self._label(r).capitalize()} is {_v(r.status)}."))

    def action_execute(self) -> None:
        req = self._request_or_warn()
        if req is None:
            return
        why = execute_refusal(req)
        if why:
            self.crewos.say(why, severity="warning")
            return
        pid, t = self.project_id, self.backend.tokenization
        assert pid is not None
        self._confirm(f"Execute the {self._label(req)}?", req, "Execute",
                      lambda: self.run_write(lambda: t.execute_request(pid, req.id),
                                             lambda r: f"Executed: {self._label(r)}."),
                      typed=self._needs_typing(req))

    # ---- new request ---------------------------------------------------------------

    def action_new_request(self) -> None:
        status, pid = self.status, self.project_id
        if status is None or status.symbol is None or pid is None:
            self.crewos.say(NO_TOKEN, severity="warning")
            return
        from ..widgets.forms import FormModal

        units = self.units
        balances = {w.address: w for w in status.wallets}
        wallets = [("—", "")] + [(f"{w.address} ({units(w.balance, symbol=False)})", w.address)
                                 for w in status.wallets]
        key = uuid.uuid4().hex  # one key per form: a double submit makes one request

        async def submit(values: dict[str, str]) -> Any:
            from ..backend.schemas.tokens import MAX_AMOUNT, TokenRequestCreate
            from ..backend.token_units import parse_units

            kind, source, target = values["kind"], values["from_wallet"] or None, values["to_wallet"] or None
            try:
                amount = parse_units(values["amount"], units.decimals)
            except ValueError as exc:
                raise FieldError("amount", str(exc)) from None
            if amount <= 0:
                raise FieldError("amount", "The amount must be more than zero.")
            if amount > MAX_AMOUNT:
                raise FieldError("amount", f"At most {units(MAX_AMOUNT)} per request.")
            if kind in ("transfer", "burn") and source is None:
                raise FieldError("from_wallet", f"A {kind} needs the wallet it takes tokens from.")
            if kind in ("mint", "transfer") and target is None:
                raise FieldError("to_wallet", f"A {kind} needs the wallet it puts tokens into.")
            if kind == "mint" and source:
                raise FieldError("from_wallet", "A mint creates tokens: leave From empty.")
            if kind == "burn" and target:
                raise FieldError("to_wallet", "A burn destroys tokens: leave To empty.")
            if source and source == target:
                raise FieldError("to_wallet", "Choose a different wallet than From.")
            data = TokenRequestCreate(kind=kind, amount=amount, from_wallet=source, to_wallet=target,  # type: ignore[arg-type]
                                      memo=values["memo"], idempotency_key=key)
            return await self.backend.tokenization.create_request(pid, data)

        def created(req: Any) -> None:
            if req is None:
                return
            self.crewos.say(f"Requested: {self._label(req)}. An approver decides next.")
            source = balances.get(req.from_wallet or "")
            if source is not None and source.balance < req.amount:
                self.crewos.say(f"{source.address} holds only {units(source.balance)}: the request will fail "
                                "unless it is topped up before it runs.", severity="warning")
            self.load_ledger()

        fields = [
            Field("kind", "Kind", value="transfer", choices=KINDS),
            Field("amount", f"Amount ({units.symbol}, up to {units.decimals} decimals)", required=True,
                  placeholder=f"e.g. {units(10 ** units.decimals * 125, symbol=False)}"),
            Field("from_wallet", "From wallet", choices=wallets),
            Field("to_wallet", "To wallet", choices=wallets),
            Field("memo", "Memo", placeholder="what it is for"),
        ]
        self.crewos.push_screen(FormModal(f"New token request in {self.project_name}", fields, submit,
                                          submit_label="Request"), created)
