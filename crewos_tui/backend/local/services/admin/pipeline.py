"""The default pipeline policy and per-agent prompt standards, with the read helpers
other slices use (jobs and reviews read the policy; agents and validation the standards)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Invalid
from ....principal import Principal
from ....schemas import Page
from ....schemas.admin import (
    PipelinePolicy,
    PipelinePolicyUpdate,
    PromptStandard,
    PromptStandardUpsert,
)
from ....schemas.common import DEFAULT_LIMIT
from ....schemas.validation import ValidationRubric
from ...context import ServiceContext
from ...tables import AnswerCacheRow, PromptStandardRow
from .._common import require_admin
from .known import agent_names, require_agent
from .policies import _page_of
from .settings_store import load_setting, save_setting

POLICY_KEY = "pipeline_policy"
POLICY_DEFAULTS: dict[str, Any] = {
    name: f.default for name, f in PipelinePolicy.model_fields.items() if name not in ("updated_at", "updated_by")
}
#: Allowed ranges of the whole-number fields.
POLICY_RANGES = {"validation_threshold": (0, 100), "max_retries": (0, 10), "job_timeout_seconds": (10, 86_400)}
MAX_SYSTEM_PROMPT = 8000
MAX_SECTIONS, SECTION_CHARS = 30, 120
MAX_TERMS, TERM_CHARS = 100, 80


async def pipeline_policy(s: AsyncSession) -> PipelinePolicy:
    """The policy in force (defaults for anything never set)."""
    value, row = await load_setting(s, POLICY_KEY, POLICY_DEFAULTS)
    return PipelinePolicy(**value, updated_at=row.updated_at if row else None,
                          updated_by=row.updated_by if row else None)


def standard_model(agent: str, row: PromptStandardRow | None) -> PromptStandard:
    if row is None:
        return PromptStandard(agent=agent)
    return PromptStandard(agent=agent, system_prompt=row.system_prompt, required_sections=list(row.required_sections),
                          forbidden_terms=list(row.forbidden_terms), updated_at=row.updated_at,
                          updated_by=row.updated_by)


async def prompt_standard(s: AsyncSession, agent: str) -> PromptStandard:
    return standard_model(agent, await s.get(PromptStandardRow, agent))


def _has_section(text: str, section: str) -> bool:
    wanted = section.casefold()
    for line in text.splitlines():
        heading = line.strip().lstrip("#").strip().rstrip(":").strip().casefold()
        if heading == wanted:
            return True
    return False


def check_against_standard(text: str, standard: PromptStandard) -> list[str]:
    """Findings for an agent output: missing required sections, forbidden terms used."""
    findings = [f"missing section: {s}" for s in standard.required_sections if not _has_section(text, s)]
    for term in standard.forbidden_terms:
        if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text, re.IGNORECASE):
            findings.append(f"forbidden term: {term}")
    return findings


def conform(text: str, standard: PromptStandard) -> str:
    """A built-in agent's answer shaped to its standard: each required section it lacks is
    added as a heading that says the workspace data gave nothing for it. Forbidden terms
    are left as written (they come from the workspace's own data) and reported instead."""
    missing = [s for s in standard.required_sections if not _has_section(text, s)]
    if not missing:
        return text
    extra = "\n\n".join(f"## {s}\nNothing in the workspace data for this section." for s in missing)
    return f"{text.rstrip()}\n\n{extra}\n"


def standard_instructions(standard: PromptStandard) -> str:
    """The standard as instructions for a model (the system prompt's admin part)."""
    parts = [standard.system_prompt] if standard.system_prompt else []
    if standard.required_sections:
        parts.append("Use these sections, as markdown headings: " + ", ".join(standard.required_sections) + ".")
    if standard.forbidden_terms:
        parts.append("Never use these terms: " + ", ".join(standard.forbidden_terms) + ".")
    return "\n".join(parts)


def is_empty(standard: PromptStandard) -> bool:
    return not (standard.system_prompt or standard.required_sections or standard.forbidden_terms)


async def policy_rubric(s: AsyncSession, agent: str | None = None) -> ValidationRubric:
    """The rubric validation uses when none is given: the defaults with the pipeline
    policy's threshold and, while prompt standards are enforced, ``agent``'s required
    sections and forbidden terms added."""
    policy = await pipeline_policy(s)
    rubric = ValidationRubric(threshold=policy.validation_threshold)
    if not agent or not policy.enforce_prompt_standards:
        return rubric
    standard = await prompt_standard(s, agent)

    def merged(base: list[str], more: list[str]) -> list[str]:
        seen = {t.casefold() for t in base}
        return [*base, *(t for t in more if t.casefold() not in seen)]

    return rubric.model_copy(update={
        "required_sections": merged(rubric.required_sections, standard.required_sections),
        "forbidden_terms": merged(rubric.forbidden_terms, standard.forbidden_terms)})


def _check_list(values: list[str], field: str, most: int, chars: int) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for i, value in enumerate(values):
        value = value.strip() if isinstance(value, str) else ""
        if not 1 <= len(value) <= chars or "\n" in value:
            raise Invalid(f"{field}[{i}] must be one line of 1 to {chars} characters")
        if value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value)
    if len(out) > most:
        raise Invalid(f"{field}: at most {most} entries")
    return out


class AdminPipeline:
    ctx: ServiceContext

    async def get_pipeline_policy(self, principal: Principal) -> PipelinePolicy:
        """The default pipeline policy (review required, validation threshold, retries, timeout)."""
        require_admin(principal)
        async with self.ctx.db.read() as s:
            return await pipeline_policy(s)

    async def update_pipeline_policy(self, principal: Principal, data: PipelinePolicyUpdate) -> PipelinePolicy:
        """Change the fields given; a value out of range is 422 naming the field."""
        require_admin(principal)
        changes = {k: getattr(data, k) for k in POLICY_DEFAULTS if getattr(data, k, None) is not None}
        if not changes:
            raise Invalid(f"nothing to update: give any of {', '.join(POLICY_DEFAULTS)}")
        for name, value in changes.items():
            if name in POLICY_RANGES:
                low, high = POLICY_RANGES[name]
                if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                    raise Invalid(f"{name} must be a whole number from {low} to {high} (got {value!r})")
            elif not isinstance(value, bool):
                raise Invalid(f"{name} must be true or false")
        async with self.ctx.db.transaction() as s:
            current, _ = await load_setting(s, POLICY_KEY, POLICY_DEFAULTS)
            await save_setting(s, POLICY_KEY, {**current, **changes}, self.ctx.clock.now(), principal.username)
            await self.ctx.events.emit(s, principal, "pipeline_policy.updated", "pipeline_policy", "pipeline_policy",
                                       changes=changes, before={k: current[k] for k in changes})
            return await pipeline_policy(s)

    async def list_prompt_standards(
        self, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[PromptStandard]:
        """Every known agent's prompt standard (empty when none was set)."""
        require_admin(principal)
        async with self.ctx.db.read() as s:
            rows = {r.agent: r for r in (await s.scalars(select(PromptStandardRow))).all()}
        items = [standard_model(a, rows.get(a)) for a in sorted(set(agent_names()) | set(rows))]
        return _page_of(items, lambda p: p.agent, limit, cursor)

    async def upsert_prompt_standard(
        self, principal: Principal, agent_name: str, data: PromptStandardUpsert
    ) -> PromptStandard:
        """Create or replace an agent's standard: system prompt, required sections, forbidden terms."""
        require_admin(principal)
        agent = require_agent(agent_name)
        system_prompt = data.system_prompt.strip() if isinstance(data.system_prompt, str) else ""
        if len(system_prompt) > MAX_SYSTEM_PROMPT:
            raise Invalid(f"system_prompt must be at most {MAX_SYSTEM_PROMPT} characters")
        sections = _check_list(data.required_sections, "required_sections", MAX_SECTIONS, SECTION_CHARS)
        terms = _check_list(data.forbidden_terms, "forbidden_terms", MAX_TERMS, TERM_CHARS)
        clash = sorted({s.casefold() for s in sections} & {t.casefold() for t in terms})
        if clash:
            raise Invalid(f"forbidden_terms: {clash[0]!r} is also a required section")
        async with self.ctx.db.transaction() as s:
            now = self.ctx.clock.now()
            row = await s.get(PromptStandardRow, agent)
            created = row is None
            if row is None:
                row = PromptStandardRow(agent=agent, updated_at=now)
                s.add(row)
            row.system_prompt, row.required_sections, row.forbidden_terms = system_prompt, sections, terms
            row.updated_at, row.updated_by = now, principal.username
            # Cached answers were shaped by the old standard.
            await s.execute(delete(AnswerCacheRow).where(col(AnswerCacheRow.agent) == agent))
            await self.ctx.events.emit(s, principal, "prompt_standard.updated", "agent", agent, agent=agent,
                                       created=created, required_sections=sections, forbidden_terms=terms,
                                       system_prompt_chars=len(system_prompt))
            return standard_model(agent, row)
