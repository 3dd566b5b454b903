"""Admin automation: one service object (``backend.admin``), split by concern.

Constructing it wires the admin slice into the service context:

- the audit trail, the one in-transaction handler that chains every domain event
  into the audit log (``chain.py``);
- two bookkeeping handlers: LLM usage per day from agent runs (``budget.py``), and
  the data versions and hit/miss counters of the answer cache (``cache.py``);
- the agent guards chat runs pass (token budgets, team tool configs), the answer
  cache (``ctx.answer_cache``) and the model router (``ctx.llm_router``).
"""

from __future__ import annotations

import functools

from ...context import ServiceContext
from .audit import AdminAudit
from .budget import AdminBudget, make_budget_guard, record_usage
from .cache import AdminCache, AnswerCache, count_hit_or_miss, track_data_version
from .chain import AuditTrail
from .llm import AdminLlm, llm_route_for
from .pipeline import AdminPipeline
from .policies import AdminPolicies, team_tool_guard
from .queue import AdminQueue
from .users import AdminUsers

__all__ = ["AdminService"]


class AdminService(AdminUsers, AdminPolicies, AdminLlm, AdminBudget, AdminCache, AdminQueue, AdminAudit,
                   AdminPipeline):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        ctx.events.add_handler(AuditTrail().on_event)
        ctx.events.add_handler(record_usage)
        ctx.events.add_handler(track_data_version)
        ctx.events.add_handler(count_hit_or_miss)
        ctx.agent_guards.extend([team_tool_guard, make_budget_guard(ctx)])
        ctx.answer_cache = AnswerCache(ctx)
        ctx.llm_router = functools.partial(llm_route_for, ctx)
