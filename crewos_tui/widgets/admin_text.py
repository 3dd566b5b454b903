"""Text for the admin screen's panels, built from wire models (no widgets here).

Times are absolute UTC (never "3 minutes ago"), so a panel reads the same over SSH
in any time zone and snapshots do not depend on the real clock. One state compares with
the current time: whether a user's sign-in wait still runs (no demo user has one).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from rich.text import Text

from .format import size, utc


def _v(value: object) -> str:
    return str(getattr(value, "value", value) or "")


def tokens(n: int | None) -> str:
    """12 345 → "12,345"; None → "no limit"."""
    return "no limit" if n is None else f"{n:,}"


def user_state(u: Any, now: datetime | None = None) -> Text:
    """The sign-in state a user record shows (``schemas/admin.py::sign_in_state``): sign-in
    throttles after wrong passwords, it never locks; "throttled until" is an absolute UTC
    time, so a table loaded a while ago still reads true."""
    from ..backend.schemas.admin import sign_in_state

    state = sign_in_state(u, now or datetime.now(UTC))
    if u.disabled or state.startswith("throttled"):
        return Text(state, style="bold")
    return Text(state, style="italic" if u.failed_logins else "dim")


def routes_text(cfg: Any) -> Text:
    t = Text()
    t.append("Model routes  ", style="bold")
    if not cfg.routes:
        t.append("none: built-in agents answer (or the profile's endpoint)", style="dim")
    for i, r in enumerate(cfg.routes):
        if i:
            t.append("  ·  ")
        if _v(r.provider) == "builtin":
            t.append(f"{r.agent} → built-in")
        else:
            t.append(f"{r.agent} → {r.model} @ {r.base_url} (key: {r.secret_source})")
    t.append("\nAnswer cache  ", style="bold")
    t.append("on" if cfg.cache_enabled else "off", style="bold" if cfg.cache_enabled else "dim")
    t.append(f", entries live {cfg.cache_ttl_seconds // 3600} h")
    return t


def budget_text(b: Any) -> Text:
    t = Text()
    t.append("Daily token budgets  ", style="bold")
    t.append("enforced" if b.enabled else "not enforced", style="" if b.enabled else "italic")
    t.append(f"\nDefault per team {tokens(b.team_daily_default)}, per user {tokens(b.user_daily_default)}")
    if b.teams:
        t.append("\nTeams: " + ", ".join(f"{x.team} {tokens(x.daily_tokens)}" for x in b.teams))
    if b.users:
        t.append("\nUsers: " + ", ".join(f"{x.username or x.user_id} {tokens(x.daily_tokens)}" for x in b.users))
    return t


def usage_title(u: Any, note: str = "") -> str:
    return (f"Tokens per day {u.since:%Y-%m-%d} → {u.until:%Y-%m-%d}: {tokens(u.tokens_in + u.tokens_out)} "
            f"({tokens(u.tokens_in)} in, {tokens(u.tokens_out)} out), {u.runs} runs, {u.cached_runs} cached"
            + (f" — {note}" if note else ""))


def usage_breakdown(u: Any, width: int = 3) -> Text:
    t = Text()
    for title, buckets in (("By agent", u.by_agent), ("By team", u.by_team), ("By user", u.by_user)):
        if not buckets:
            continue
        if t:
            t.append("\n")
        t.append(f"{title}  ", style="bold")
        shown = [f"{b.label or b.key or '-'} {tokens(b.tokens_in + b.tokens_out)} ({b.runs})" for b in buckets[:width]]
        more = len(buckets) - width
        t.append(", ".join(shown) + (f", +{more} more" if more > 0 else ""))
    return t or Text("No agent runs in this window.", style="dim")


def cache_text(c: Any) -> Text:
    t = Text()
    t.append("Answer cache  ", style="bold")
    t.append("on" if c.enabled else "off", style="bold" if c.enabled else "dim")
    t.append(f"\n{c.entries} entries, {size(c.bytes)}; {c.hits} hits, {c.misses} misses, "
             f"hit rate {c.hit_rate * 100:.0f}%")
    for a in c.by_agent:
        t.append(f"\n  {a.agent}: {a.entries} entries, {size(a.bytes)}, {a.hits} hits, {a.misses} misses")
    return t


def queue_text(q: Any) -> Text:
    t = Text()
    t.append("Agent jobs  ", style="bold")
    if q.source != "ok":
        t.append(q.source, style="italic")
        return t
    states = ", ".join(f"{k} {v}" for k, v in sorted(q.by_state.items())) or "none"
    t.append(f"{q.total} ({states})")
    for k in q.by_kind:
        t.append(f"\n  {k.kind}: " + ", ".join(f"{s} {n}" for s, n in sorted(k.by_state.items())))
    t.append("\nOldest queued  ")
    t.append(f"since {utc(q.oldest_queued_at)} UTC" if q.oldest_queued_at else "nothing waiting")
    t.append("\nRunner  ")
    alive = {True: "working", False: "not working: jobs wait or leases ran out", None: "idle"}[q.runner_alive]
    t.append(alive, style="bold" if q.runner_alive is False else "")
    if q.runner_heartbeat_at:
        t.append(f", last heartbeat {utc(q.runner_heartbeat_at)} UTC")
    if q.stale_running:
        t.append(f", {q.stale_running} running job(s) with an expired lease", style="bold")
    return t


def policy_text(p: Any) -> Text:
    t = Text()
    t.append("Pipeline policy", style="bold")
    if p.updated_by:
        t.append(f"  (by {p.updated_by}, {utc(p.updated_at)} UTC)", style="dim")
    t.append(f"\nAgent outputs need review: {'yes' if p.require_review else 'no'} · "
             f"validation passes at {p.validation_threshold}/100 · retries {p.max_retries} · "
             f"job timeout {p.job_timeout_seconds} s · "
             f"prompt standards {'enforced' if p.enforce_prompt_standards else 'advisory'}")
    return t


def integrity_text(r: Any) -> Text:
    if r.valid:
        return Text(f"✓ chain valid: {r.checked} events, head #{r.head_seq} {r.head_hash[:16]}…", style="bold")
    return Text(f"✗ chain BROKEN at #{r.first_invalid_seq}: {r.reason} ({r.checked} checked)", style="bold reverse")


def event_detail(e: Any) -> Text:
    t = Text()
    t.append(f"#{e.seq} {e.action}", style="bold")
    t.append(f"  {utc(e.created_at)} UTC\n")
    t.append(f"{e.actor} via {e.auth_method}; {e.resource_type} {e.resource_id}")
    if e.project_id:
        t.append(f"; project {e.project_id}")
    t.append(f"\nrequest {e.request_id}\n")
    t.append(json.dumps(e.details, sort_keys=True, ensure_ascii=False) + "\n", style="italic")
    t.append(f"hash {e.hash}\nprev {e.prev_hash}", style="dim")
    return t


def filter_text(f: dict[str, str]) -> str:
    given = [f"{k}={v}" for k, v in f.items() if v]
    return "Filter: " + (", ".join(given) if given else "none (f to filter)")
