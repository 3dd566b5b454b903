"""Model routing (LLM config), the model catalog, and the router chat calls.

A route says which model answers for an agent: the built-in agent (offline), or an
OpenAI-compatible endpoint (base URL + model). The route ``*`` applies to every
agent without its own. With no route at all, the profile's endpoint (settings
``llm_base_url``/``llm_model``) or the built-ins answer. An endpoint's key comes
from ``api_key_env`` (an environment variable of the serving machine) or the OS
keyring (``llm_secrets``); the database records only which.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Invalid
from ....principal import Principal
from ....schemas import Page
from ....schemas.admin import (
    LlmConfig,
    LlmConfigUpdate,
    LlmProvider,
    LlmRoute,
    LlmRouteUpdate,
    ModelInfo,
)
from ....schemas.common import DEFAULT_LIMIT
from ...context import ServiceContext
from ...tables import LlmRouteRow
from .._common import require_admin
from .known import ANY_AGENT, require_agent
from .llm_secrets import delete_secret, read_secret, store_secret
from .policies import _page_of
from .settings_store import load_setting, save_setting

LLM_KEY = "llm_config"
LLM_DEFAULTS: dict[str, Any] = {"cache_enabled": False, "cache_ttl_seconds": 86_400, "request_timeout_seconds": 60}
LIMITS = {"cache_ttl_seconds": (60, 30 * 86_400), "request_timeout_seconds": (1, 600)}
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
PROFILE_KEY_ENV = "CREWOS_LLM_API_KEY"

#: Models with well-known metadata (any other model name may still be routed to).
KNOWN_MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(id="gpt-4o", provider=LlmProvider.openai_compatible, name="GPT-4o",
              description="OpenAI's general multimodal model", context_window=128_000, max_output_tokens=16_384),
    ModelInfo(id="gpt-4o-mini", provider=LlmProvider.openai_compatible, name="GPT-4o mini",
              description="Small, fast OpenAI model", context_window=128_000, max_output_tokens=16_384),
    ModelInfo(id="llama3.1:8b", provider=LlmProvider.openai_compatible, name="Llama 3.1 8B",
              description="Open-weights model, e.g. served locally by Ollama", context_window=128_000),
    ModelInfo(id="qwen2.5:7b-instruct", provider=LlmProvider.openai_compatible, name="Qwen2.5 7B Instruct",
              description="Open-weights model, e.g. served locally by Ollama or vLLM", context_window=32_768),
)


def route_model(row: LlmRouteRow) -> LlmRoute:
    source = "keyring" if row.secret_in_keyring else ("env" if row.api_key_env else "none")
    return LlmRoute(agent=row.agent, provider=LlmProvider(row.provider), base_url=row.base_url, model=row.model,
                    api_key_env=row.api_key_env, secret_source=source)


def check_option(name: str, value: Any) -> int:
    low, high = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"{name} must be a whole number from {low} to {high}")
    return value


def check_base_url(value: str | None, field: str) -> str:
    value = (value or "").strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 500:
        raise Invalid(f"{field} must be an http(s) URL such as https://api.example.com/v1")
    if parts.query or parts.fragment:
        raise Invalid(f"{field} must not have a query or fragment")
    return value.rstrip("/")


def check_route(i: int, r: LlmRouteUpdate) -> dict[str, Any]:
    field = f"routes[{i}]"
    agent = require_agent(r.agent, allow_any=True)
    provider = LlmProvider(r.provider)
    env = (r.api_key_env or "").strip() or None
    if env is not None and not ENV_NAME.match(env):
        raise Invalid(f"{field}.api_key_env must be an environment variable name (letters, digits, _)")
    if provider == LlmProvider.builtin:
        given = [n for n in ("base_url", "model", "api_key_env", "api_key") if getattr(r, n)]
        if given:
            raise Invalid(f"{field}.{given[0]} only applies to provider openai_compatible")
        return {"agent": agent, "provider": provider.value, "base_url": None, "model": None, "api_key_env": None}
    model = (r.model or "").strip()
    if not 1 <= len(model) <= 200:
        raise Invalid(f"{field}.model is required for provider openai_compatible (1-200 characters)")
    secret = r.api_key.get_secret_value() if r.api_key is not None else None
    if secret is not None and not 1 <= len(secret) <= 4096:
        raise Invalid(f"{field}.api_key must be 1 to 4096 characters")
    return {"agent": agent, "provider": provider.value, "base_url": check_base_url(r.base_url, f"{field}.base_url"),
            "model": model, "api_key_env": env, "secret": secret, "clear": r.clear_api_key}


class AdminLlm:
    ctx: ServiceContext

    async def _llm_config(self, s: AsyncSession) -> LlmConfig:
        options, row = await load_setting(s, LLM_KEY, LLM_DEFAULTS)
        routes = (await s.scalars(select(LlmRouteRow).order_by(col(LlmRouteRow.agent)))).all()
        return LlmConfig(routes=[route_model(r) for r in routes], **options,
                         updated_at=row.updated_at if row else None, updated_by=row.updated_by if row else None)

    async def get_llm_config(self, principal: Principal) -> LlmConfig:
        """Model routes per agent and the cache options. Secrets are never shown."""
        require_admin(principal)
        async with self.ctx.db.read() as s:
            return await self._llm_config(s)

    async def update_llm_config(self, principal: Principal, data: LlmConfigUpdate) -> LlmConfig:
        """Replace the routes (when given) and change the options given.

        A route's ``api_key`` goes to the OS keyring; ``api_key_env`` names an
        environment variable instead. Nothing is stored when any field is invalid."""
        require_admin(principal)
        options_given = {k: getattr(data, k) for k in LLM_DEFAULTS if getattr(data, k) is not None}
        for name in LIMITS:
            if name in options_given:
                check_option(name, options_given[name])
        routes = None
        if data.routes is not None:
            routes = [check_route(i, r) for i, r in enumerate(data.routes)]
            agents = [r["agent"] for r in routes]
            dupes = sorted({a for a in agents if agents.count(a) > 1})
            if dupes:
                raise Invalid(f"routes: agent {dupes[0]!r} is listed more than once")
        if not options_given and routes is None:
            raise Invalid("nothing to update: give routes and/or cache_enabled, cache_ttl_seconds, "
                          "request_timeout_seconds")
        async with self.ctx.db.transaction() as s:
            now = self.ctx.clock.now()
            options, _ = await load_setting(s, LLM_KEY, LLM_DEFAULTS)
            await save_setting(s, LLM_KEY, {**options, **options_given}, now, principal.username)
            secret_ops: list[tuple[str, str | None]] = []  # (agent, new secret or None = delete)
            summary: list[dict[str, Any]] = []
            if routes is not None:
                old = {r.agent: r for r in (await s.scalars(select(LlmRouteRow))).all()}
                await s.execute(delete(LlmRouteRow))
                for r in routes:
                    before = old.get(r["agent"])
                    kept = bool(before and before.secret_in_keyring and r["provider"] == "openai_compatible")
                    if r.get("secret"):
                        secret_ops.append((r["agent"], r["secret"]))
                        in_keyring = True
                    elif r.get("clear") or (before and before.secret_in_keyring and not kept):
                        secret_ops.append((r["agent"], None))
                        in_keyring = False
                    else:
                        in_keyring = kept
                    s.add(LlmRouteRow(agent=r["agent"], provider=r["provider"], base_url=r["base_url"],
                                      model=r["model"], api_key_env=r["api_key_env"], secret_in_keyring=in_keyring,
                                      updated_at=now))
                    summary.append({"agent": r["agent"], "provider": r["provider"], "base_url": r["base_url"],
                                    "model": r["model"], "api_key_env": r["api_key_env"],
                                    "secret_source": "keyring" if in_keyring else
                                    ("env" if r["api_key_env"] else "none")})
                for agent, row in old.items():
                    if agent not in {r["agent"] for r in routes} and row.secret_in_keyring:
                        secret_ops.append((agent, None))
            await s.flush()
            await self.ctx.events.emit(s, principal, "llm_config.updated", "llm_config", "llm_config",
                                       options=options_given, routes=summary if routes is not None else None)
            # The keyring last, stores before deletes: a failed store (503) rolls the database
            # change back with it and has removed nothing.
            for agent, secret in secret_ops:
                if secret is not None:
                    await store_secret(agent, secret)
            for agent, secret in secret_ops:
                if secret is None:
                    await delete_secret(agent)
            return await self._llm_config(s)

    async def list_model_catalog(
        self, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[ModelInfo]:
        """Known models (built-in agents, well-known endpoints' models, and every routed model)."""
        require_admin(principal)
        from ...agents.registry import all_agents

        async with self.ctx.db.read() as s:
            routes = (await s.scalars(select(LlmRouteRow))).all()
        used: dict[str, list[str]] = {}
        for r in routes:
            model = r.model if r.provider == "openai_compatible" else "builtin"
            assert model is not None  # routes to openai_compatible are saved with a model
            used.setdefault(model, []).append(r.agent)
        models = {m.id: m.model_copy(update={"used_by": sorted(used.get(m.id, []))}) for m in KNOWN_MODELS}
        for spec in all_agents():
            mid = f"builtin/{spec.name}"
            models[mid] = ModelInfo(id=mid, provider=LlmProvider.builtin, name=f"Built-in {spec.name}",
                                    description=spec.description, used_by=sorted(used.get("builtin", [])))
        for model_id, agents in used.items():
            if model_id != "builtin" and model_id not in models:
                models[model_id] = ModelInfo(id=model_id, provider=LlmProvider.openai_compatible, name=model_id,
                                             description="configured in a route", used_by=sorted(agents))
        return _page_of([models[k] for k in sorted(models)], lambda m: m.id, limit, cursor)


async def llm_route_for(ctx: ServiceContext, s: AsyncSession, principal: Principal, agent: str) -> Any:
    """``ctx.llm_router``: the endpoint that answers for ``agent``, or None for the built-in."""
    from ...agents.runtime import (
        LLMEndpoint,  # lazy: the runtime imports the services package
    )

    row = await s.get(LlmRouteRow, agent) or await s.get(LlmRouteRow, ANY_AGENT)
    if row is None:
        st = ctx.settings
        if st.llm_base_url and st.llm_model:
            return LLMEndpoint(st.llm_base_url, st.llm_model, os.environ.get(PROFILE_KEY_ENV))
        return None
    if row.provider != LlmProvider.openai_compatible.value or not row.base_url or not row.model:
        return None
    options, _ = await load_setting(s, LLM_KEY, LLM_DEFAULTS)
    key = os.environ.get(row.api_key_env) if row.api_key_env else None
    if not key and row.secret_in_keyring:
        key = await read_secret(row.agent)
    return LLMEndpoint(row.base_url, row.model, key or None, timeout=float(options["request_timeout_seconds"]))
