"""Project tokenization: one service object, split by concern.

- ``setup``: token settings, readiness checklist, wallets
- ``reads``: token status and transaction history
- ``requests``: maker-checker token change requests, executed exactly once
- ``direct``: mint/transfer/burn without a request, where policy allows
- ``ledger``: the one place postings are planned and appended
"""

from __future__ import annotations

from ...context import ServiceContext
from .direct import TokenDirect
from .reads import TokenReads
from .requests import TokenRequests
from .setup import TokenSetup


class TokenizationService(TokenSetup, TokenReads, TokenRequests, TokenDirect):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
