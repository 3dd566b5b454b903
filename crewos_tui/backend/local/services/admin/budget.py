"""Token budgets per team and per user per UTC day, their agent guard, and LLM usage.

Usage is summed from ``agent.run_completed`` events (one per agent run, emitted by
the agents runtime) by an in-transaction handler into ``llm_usage_daily``, so the
budget check is a lookup, and the usage summary a small GROUP BY. Token amounts are
integers throughout.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Invalid, NotFound, RateLimited
from ....principal import Principal
from ....schemas.admin import (
    TeamBudget,
    TokenBudget,
    TokenBudgetUpdate,
    UsageBucket,
    UsageSummary,
    UserBudget,
)
from ...context import ServiceContext
from ...events import DomainEvent
from ...tables import LlmUsageDailyRow, TokenBudgetRow, UserRow
from .._common import require_admin
from .settings_store import load_setting, save_setting

BUDGET_KEY = "token_budget"
BUDGET_DEFAULTS: dict[str, Any] = {"enabled": True, "team_daily_default": None, "user_daily_default": None}
MAX_TOKENS = 10**12
MAX_DAYS = 366
RUN_COMPLETED = "agent.run_completed"


def check_amount(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{field} must be a whole number of tokens")
    if value < 0:
        raise Invalid(f"{field} must not be negative (got {value})")
    if value > MAX_TOKENS:
        raise Invalid(f"{field} must be at most {MAX_TOKENS}")
    return value


def estimate_tokens(text: str) -> int:
    """The runtime's own count (words × 4/3, half up), so the guard and the ledger agree."""
    words = len(text.split())
    return (4 * words + 1) // 3 if words else 0


def day_of(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date().isoformat()


async def used_today(s: AsyncSession, day: str, *, user_id: str | None = None, team: str | None = None) -> int:
    stmt = select(func.coalesce(func.sum(col(LlmUsageDailyRow.tokens_in) + col(LlmUsageDailyRow.tokens_out)), 0)).where(
        col(LlmUsageDailyRow.day) == day)
    if user_id is not None:
        stmt = stmt.where(col(LlmUsageDailyRow.user_id) == user_id)
    if team is not None:
        stmt = stmt.where(col(LlmUsageDailyRow.team) == team)
    return int(await s.scalar(stmt) or 0)


async def record_usage(s: AsyncSession, event: DomainEvent) -> None:
    """In-transaction handler: add an agent run's tokens to its day/agent/team/user bucket."""
    if event.kind != RUN_COMPLETED:
        return
    data = event.data or {}
    key: dict[str, Any] = {"day": day_of(event.created_at or datetime.now(UTC)),
                           "agent": str(data.get("agent") or "unknown"),
           "team": str(data.get("team") or ""), "user_id": str(data.get("user_id") or "")}
    row = await s.get(LlmUsageDailyRow, tuple(key.values()))
    if row is None:
        row = LlmUsageDailyRow(**key)
        s.add(row)
    row.tokens_in = (row.tokens_in or 0) + max(int(data.get("tokens_in") or 0), 0)
    row.tokens_out = (row.tokens_out or 0) + max(int(data.get("tokens_out") or 0), 0)
    row.runs = (row.runs or 0) + 1
    row.cached_runs = (row.cached_runs or 0) + (1 if data.get("cached") else 0)


def make_budget_guard(ctx: ServiceContext):
    async def budget_guard(s: AsyncSession, principal: Principal, agent: str, prompt: str,
                           project_id: str | None) -> None:
        """Agent guard: refuse a run that would take the user or team over today's budget."""
        if principal.auth_method == "system":
            return
        options, _ = await load_setting(s, BUDGET_KEY, BUDGET_DEFAULTS)
        if not options["enabled"]:
            return
        now = ctx.clock.now()
        day = day_of(now)
        need = max(estimate_tokens(prompt), 1)
        user_row = await s.get(TokenBudgetRow, ("user", principal.user_id or ""))
        team_row = await s.get(TokenBudgetRow, ("team", principal.team))
        checks = [
            (user_row.daily_tokens if user_row else options["user_daily_default"], "your",
             {"user_id": principal.user_id or ""}),
            (team_row.daily_tokens if team_row else options["team_daily_default"], f"team {principal.team!r}'s",
             {"team": principal.team}),
        ]
        midnight = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), UTC)
        for limit, whose, where in checks:
            if limit is None:
                continue
            used = await used_today(s, day, **where)
            if used + need > limit:
                raise RateLimited(
                    f"{whose} daily token budget is used up: {used} of {limit} tokens used today and this "
                    f"message needs about {need}; it resets at 00:00 UTC", retry_after=(midnight - now).total_seconds())

    return budget_guard


class AdminBudget:
    ctx: ServiceContext

    async def _token_budget(self, s: AsyncSession) -> TokenBudget:
        options, row = await load_setting(s, BUDGET_KEY, BUDGET_DEFAULTS)
        rows = (await s.scalars(select(TokenBudgetRow)
                                .order_by(col(TokenBudgetRow.scope), col(TokenBudgetRow.subject)))).all()
        user_ids = [r.subject for r in rows if r.scope == "user"]
        names = dict((await s.execute(select(col(UserRow.id), col(UserRow.username))
                                      .where(col(UserRow.id).in_(user_ids)))).all())
        return TokenBudget(
            **options,
            teams=[TeamBudget(team=r.subject, daily_tokens=r.daily_tokens) for r in rows if r.scope == "team"],
            users=[UserBudget(user_id=r.subject, username=names.get(r.subject, ""), daily_tokens=r.daily_tokens)
                   for r in rows if r.scope == "user"],
            updated_at=row.updated_at if row else None, updated_by=row.updated_by if row else None,
        )

    async def get_token_budget(self, principal: Principal) -> TokenBudget:
        """Daily token limits: defaults per team and per user, and explicit limits."""
        require_admin(principal)
        async with self.ctx.db.read() as s:
            return await self._token_budget(s)

    async def update_token_budget(self, principal: Principal, data: TokenBudgetUpdate) -> TokenBudget:
        """Change the limits given (``teams``/``users`` replace their whole list)."""
        require_admin(principal)
        changes: dict[str, Any] = {}
        if data.enabled is not None:
            changes["enabled"] = bool(data.enabled)
        for name in ("team_daily_default", "user_daily_default"):
            value = getattr(data, name)
            if value is not None and getattr(data, f"clear_{name}"):
                raise Invalid(f"give {name} or clear_{name}, not both")
            if value is not None:
                changes[name] = check_amount(value, name)
            elif getattr(data, f"clear_{name}"):
                changes[name] = None
        teams = users = None
        if data.teams is not None:
            teams = {}
            for i, t in enumerate(data.teams):
                name = (t.team or "").strip()
                if name in teams:
                    raise Invalid(f"teams[{i}].team: {name!r} is listed more than once")
                teams[name] = check_amount(t.daily_tokens, f"teams[{i}].daily_tokens")
        if data.users is not None:
            users = {}
            for i, u in enumerate(data.users):
                if u.user_id in users:
                    raise Invalid(f"users[{i}].user_id: {u.user_id!r} is listed more than once")
                users[u.user_id] = check_amount(u.daily_tokens, f"users[{i}].daily_tokens")
        if not changes and teams is None and users is None:
            raise Invalid("nothing to update: give enabled, a default, teams and/or users")
        async with self.ctx.db.transaction() as s:
            if teams:
                known = set((await s.scalars(select(col(UserRow.team))
                                             .where(col(UserRow.team).in_(list(teams))))).all())
                missing = sorted(set(teams) - known)
                if missing:
                    raise NotFound(f"team {missing[0]!r} not found (no user belongs to it)")
            if users:
                known = set((await s.scalars(select(col(UserRow.id)).where(col(UserRow.id).in_(list(users))))).all())
                missing = sorted(set(users) - known)
                if missing:
                    raise NotFound(f"user {missing[0]} not found")
            now = self.ctx.clock.now()
            options, _ = await load_setting(s, BUDGET_KEY, BUDGET_DEFAULTS)
            await save_setting(s, BUDGET_KEY, {**options, **changes}, now, principal.username)
            for scope, values in (("team", teams), ("user", users)):
                if values is None:
                    continue
                await s.execute(delete(TokenBudgetRow).where(col(TokenBudgetRow.scope) == scope))
                for subject, amount in values.items():
                    s.add(TokenBudgetRow(scope=scope, subject=subject, daily_tokens=amount))
            await s.flush()
            await self.ctx.events.emit(s, principal, "token_budget.updated", "token_budget", "token_budget",
                                       changes=changes, teams=teams, users=users)
            return await self._token_budget(s)

    async def llm_usage_summary(
        self,
        principal: Principal,
        days: int = 7,
        agent: str | None = None,
        team: str | None = None,
        user_id: str | None = None,
        until: date | None = None,
    ) -> UsageSummary:
        """Tokens in/out and runs over ``days`` UTC days ending ``until`` (default today), by
        day, agent, team and user; ``last_usage_day`` says when anything was last used."""
        require_admin(principal)
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise Invalid(f"days must be from 1 to {MAX_DAYS}")
        if until is not None and not isinstance(until, date):
            raise Invalid("until must be a date (YYYY-MM-DD)")
        if isinstance(until, datetime):
            until = until.date()
        until = until or self.ctx.clock.now().astimezone(UTC).date()
        since = until - timedelta(days=days - 1)
        stmt = select(LlmUsageDailyRow).where(col(LlmUsageDailyRow.day) >= since.isoformat(),
                                              col(LlmUsageDailyRow.day) <= until.isoformat())
        for column, value in ((col(LlmUsageDailyRow.agent), agent), (col(LlmUsageDailyRow.team), team),
                              (col(LlmUsageDailyRow.user_id), user_id)):
            if value is not None:
                stmt = stmt.where(column == value)
        async with self.ctx.db.read() as s:
            rows = (await s.scalars(stmt)).all()
            last_day = await s.scalar(select(func.max(col(LlmUsageDailyRow.day))))
            ids = sorted({r.user_id for r in rows if r.user_id})
            names = dict((await s.execute(select(col(UserRow.id), col(UserRow.username))
                                          .where(col(UserRow.id).in_(ids)))).all())
        buckets: dict[str, dict[str, list[int]]] = {k: defaultdict(lambda: [0, 0, 0]) for k in
                                                    ("day", "agent", "team", "user")}
        for d in range((until - since).days + 1):
            buckets["day"][(since + timedelta(days=d)).isoformat()]  # every day, zeros included
        total = [0, 0, 0, 0]
        for r in rows:
            for kind, key in (("day", r.day), ("agent", r.agent), ("team", r.team), ("user", r.user_id)):
                b = buckets[kind][key]
                b[0] += r.tokens_in
                b[1] += r.tokens_out
                b[2] += r.runs
            total = [total[0] + r.tokens_in, total[1] + r.tokens_out, total[2] + r.runs, total[3] + r.cached_runs]

        def listed(kind: str, labels: dict[str, str] | None = None, by_size: bool = True) -> list[UsageBucket]:
            items = [UsageBucket(key=k, label=(labels or {}).get(k, k), tokens_in=v[0], tokens_out=v[1], runs=v[2])
                     for k, v in buckets[kind].items()]
            return sorted(items, key=lambda b: (-(b.tokens_in + b.tokens_out), b.key) if by_size else b.key)

        return UsageSummary(
            since=since, until=until, last_usage_day=date.fromisoformat(last_day) if last_day else None,
            tokens_in=total[0], tokens_out=total[1], runs=total[2], cached_runs=total[3],
            by_day=listed("day", by_size=False), by_agent=listed("agent"), by_team=listed("team"),
            by_user=listed("user", {k: names.get(k, k or "(command line)") for k in buckets["user"]}),
        )
