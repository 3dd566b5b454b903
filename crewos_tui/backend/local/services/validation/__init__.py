"""Validation: score an output against a rubric, log every run, list the log."""

from __future__ import annotations

import contextlib
import json

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ....errors import Invalid, NotFound, PayloadTooLarge
from ....principal import Principal
from ....schemas import (
    CheckName,
    OutputFormat,
    Page,
    ValidationConfig,
    ValidationRequest,
    ValidationResult,
    ValidationRubric,
)
from ....schemas.common import DEFAULT_LIMIT
from ....schemas.validation import MAX_OUTPUT_CHARS
from ...context import ServiceContext
from ...pagination import paginate
from ...tables import ProjectMemberRow, ValidationRunRow
from .._common import require_user
from ..projects.access import load_project
from ..review.access import load_item
from . import json_schema
from .scorer import score_output

EXCERPT_CHARS = 500


def item_output(payload: object, summary: str) -> tuple[str, OutputFormat]:
    """What to score for a review item: a text field of its payload (``output``,
    ``content``, ``text``, ``markdown``, ``answer``), else the payload as JSON, else
    the summary."""
    if isinstance(payload, str) and payload.strip():
        return payload, OutputFormat.auto
    if isinstance(payload, dict):
        for key in ("output", "content", "text", "markdown", "answer"):
            value = payload.get(key)
            if isinstance(value, str) and value.strip():
                return value, OutputFormat.auto
    if payload not in (None, "", {}, []):
        return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True), OutputFormat.json
    return summary, OutputFormat.auto


def check_rubric(rubric: ValidationRubric) -> None:
    if rubric.json_schema is not None:
        try:
            json_schema.check_schema(rubric.json_schema)
        except json_schema.SchemaError as exc:
            raise Invalid(f"rubric.json_schema: {exc}") from None


async def default_rubric(s: AsyncSession, principal: Principal, data: ValidationRequest) -> ValidationRubric:
    """No rubric given: the admin's pipeline policy (threshold) and the agent's prompt
    standard — the agent named in the request, else the review item's agent (``payload.agent``,
    or the ``source_ref`` of an item whose source is an agent)."""
    from ..admin.known import require_agent  # the admin slice owns policy and standards
    from ..admin.pipeline import policy_rubric

    agent = require_agent(data.agent) if data.agent else None
    if agent is None and data.item_id is not None:
        item = await load_item(s, principal, data.item_id)
        named = item.payload.get("agent") if isinstance(item.payload, dict) else None
        if not named and item.source == "agent":
            named = item.source_ref
        if isinstance(named, str) and named.strip():
            with contextlib.suppress(NotFound):  # an agent that no longer exists: no standard
                agent = require_agent(named)
    return await policy_rubric(s, agent)


def result_model(row: ValidationRunRow) -> ValidationResult:
    return ValidationResult.model_validate(row)


async def score_and_log(
    ctx: ServiceContext, s: AsyncSession, principal: Principal, data: ValidationRequest, rubric: ValidationRubric,
    source: str,
) -> ValidationResult:
    """Score and log inside the caller's transaction (the testing runner uses this too)."""
    output, fmt = data.output, data.format
    project_id = data.project_id
    if data.item_id is not None:
        item = await load_item(s, principal, data.item_id)
        if project_id is not None and project_id != item.project_id:
            raise Invalid("project_id differs from the review item's project")
        project_id = item.project_id
        if output is None:
            output, detected = item_output(item.payload, item.summary)
            fmt = detected if fmt == OutputFormat.auto else fmt
    elif project_id is not None:
        await load_project(s, principal, project_id)
    assert output is not None
    scored = score_output(output, rubric, fmt)
    row = ValidationRunRow(
        id=ctx.ids.new(), score=scored.score, passed=scored.passed, threshold=rubric.threshold,
        findings=[f.model_dump(mode="json") for f in scored.findings], rubric=rubric.model_dump(mode="json"),
        format=scored.format.value, output_chars=scored.chars, output_words=scored.words,
        output_sha256=scored.sha256, output_excerpt=scored.text[:EXCERPT_CHARS], item_id=data.item_id,
        project_id=project_id, source=source, label=data.label, actor_id=principal.user_id,
        actor=principal.username, created_at=ctx.clock.now(),
    )
    s.add(row)
    await ctx.events.emit(s, principal, "validation.ran", "validation_run", row.id, project_id,
                          item_id=data.item_id, score=row.score, passed=row.passed, source=source,
                          user_id=principal.user_id)
    return result_model(row)


class ValidationService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def config(self, principal: Principal) -> ValidationConfig:
        require_user(principal)
        return ValidationConfig(defaults=ValidationRubric().model_dump(mode="json"), checks=list(CheckName),
                                json_schema_keywords=json_schema.keywords(), max_output_chars=MAX_OUTPUT_CHARS)

    async def validate(self, principal: Principal, data: ValidationRequest) -> ValidationResult:
        """Score an output (or a review item's payload) and log the run."""
        require_user(principal)
        if data.output is None and data.item_id is None:
            raise Invalid("give the output to score, or the item_id of a review item")
        if data.output is not None and len(data.output) > MAX_OUTPUT_CHARS:
            raise PayloadTooLarge(f"the output is {len(data.output)} characters; the limit is {MAX_OUTPUT_CHARS}")
        if data.rubric is not None:
            check_rubric(data.rubric)
        async with self.ctx.db.transaction() as s:
            rubric = data.rubric or await default_rubric(s, principal, data)
            return await score_and_log(self.ctx, s, principal, data, rubric, source="review" if data.item_id else "api")

    async def logs(
        self,
        principal: Principal,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        item_id: str | None = None,
        project_id: str | None = None,
        passed: bool | None = None,
        source: str | None = None,
    ) -> Page[ValidationResult]:
        """Validation runs, newest first: the caller's own and those of their projects (admins: all)."""
        require_user(principal)
        stmt = select(ValidationRunRow)
        if not principal.is_admin:
            mine = select(col(ProjectMemberRow.project_id)).where(col(ProjectMemberRow.user_id) == principal.user_id)
            stmt = stmt.where(or_(col(ValidationRunRow.actor_id) == principal.user_id,
                                  col(ValidationRunRow.project_id).in_(mine)))
        if item_id:
            stmt = stmt.where(col(ValidationRunRow.item_id) == item_id)
        if project_id:
            stmt = stmt.where(col(ValidationRunRow.project_id) == project_id)
        if passed is not None:
            stmt = stmt.where(col(ValidationRunRow.passed) == passed)
        if source:
            stmt = stmt.where(col(ValidationRunRow.source) == source)
        async with self.ctx.db.read() as s:
            return await paginate(s, stmt, [col(ValidationRunRow.id)], lambda r: [r.id], result_model,
                                  limit=limit, cursor=cursor, descending=True)
