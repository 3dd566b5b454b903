"""Generated artifacts: files agents produce (project updates, reports, HTML pages),
addressed by an unguessable reference token, downloadable, with an editable source
whose every save is a new revision (old ones kept) and a deterministic layout
cleanup that writes its result as a revision too.

Artifacts are made by the system, not by an endpoint: ``create_artifact(...)`` in the
maker's transaction. This service makes one for every finished ``project_update``
job (an HTML rendering of its markdown) and adds ``artifact_token`` and
``artifact_filename`` to the job's result, so the tasks screen and API clients find
it. A reporter's chat reply is kept as a markdown report (``artifact_for_reply``, called
by the chat run's recorder), its token in the reply's ``data``; other makers use
``create_artifact`` (see its docstring).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sqlmodel import col

from ....errors import Conflict, NotFound, UnsupportedMedia
from ....principal import Principal
from ....schemas.artifacts import (
    ArtifactContent,
    ArtifactInfo,
    ArtifactRevision,
    ArtifactRevisionCreate,
    ArtifactSource,
    LayoutCleanupRequest,
    LayoutCleanupResult,
)
from ....schemas.common import DEFAULT_LIMIT, Page
from ...context import ServiceContext
from ...events import DomainEvent
from ...idempotency import idempotent
from ...pagination import paginate
from ...tables import AgentJobRow, ArtifactRevisionRow, ArtifactRow, ProjectMemberRow, orm_attr
from .._common import require_user
from ..projects.access import load_project
from .access import load_artifact
from .render import markdown_document
from .tidy import tidy_html, tidy_markdown

#: Content types whose source can be read and revised as text.
TEXT_TYPES = frozenset({"text/html", "text/markdown", "text/plain", "text/csv", "application/json"})
MAX_REVISIONS_SHOWN = 100
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference_token(ctx: ServiceContext | None = None, artifact_id: str = "") -> str:
    """192 random bits, URL-safe: unguessable, so holding it is what a link needs.

    A *seeded* id generator (demo data, reproducible tests) gets a token derived from
    the artifact id instead, so the demo is the same on every run."""
    if ctx is not None and artifact_id and getattr(ctx.ids, "_rand", None) is not None:
        digest = hashlib.sha256(b"crewos-artifact-token:" + artifact_id.encode()).digest()[:24]
        return base64.urlsafe_b64encode(digest).decode()
    return secrets.token_urlsafe(24)


def derived_id(seed: str, at: datetime) -> str:
    """A ULID-shaped id (time-ordered, Crockford base32) from a time and a seed, drawing
    nothing from the shared clock and id generator (see ``ArtifactService._on_event``)."""
    value = (int(at.timestamp() * 1000) << 80) | int.from_bytes(hashlib.sha256(seed.encode()).digest()[:10], "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -5, -5))


async def _store(ctx: ServiceContext, s: AsyncSession, *, artifact_id: str, revision_id: str, token: str,
                 at: datetime, filename: str, raw: bytes, content_type: str, project_id: str | None, kind: str,
                 origin: str, owner: str, owner_id: str | None, note: str) -> ArtifactRow:
    row = ArtifactRow(id=artifact_id, reference_token=token, project_id=project_id, filename=filename,
                      content_type=content_type, kind=kind, origin=origin, revision=1, created_by=owner,
                      created_by_id=owner_id, created_at=at, updated_at=at)
    s.add(row)
    await s.flush()
    s.add(ArtifactRevisionRow(id=revision_id, artifact_id=row.id, revision=1, content=raw, size=len(raw),
                              content_hash=hashlib.sha256(raw).hexdigest(), note=note, created_by=owner,
                              created_at=at))
    return row


async def create_artifact(
    ctx: ServiceContext,
    s: AsyncSession,
    principal: Principal,
    *,
    filename: str,
    content: str | bytes,
    content_type: str,
    project_id: str | None = None,
    kind: str = "file",
    origin: str = "",
    owner_id: str | None = None,
    owner: str | None = None,
    note: str = "generated",
) -> ArtifactRow:
    """Store a generated file as revision 1 of a new artifact, in the caller's transaction.

    ``project_id``: who may see it (the project's members); without one only ``owner_id``
    (default: the principal) and admins can. Emits ``artifact.created``. Example, from an
    agent that wrote a report for a chat user::

        row = await create_artifact(ctx, s, principal, filename="report.md", content=text,
                                    content_type="text/markdown", project_id=pid, kind="report",
                                    origin=f"chat_run:{run_id}")
        answer.data["artifact_token"] = row.reference_token
    """
    raw = content.encode("utf-8") if isinstance(content, str) else content
    artifact_id = ctx.ids.new()
    row = await _store(ctx, s, artifact_id=artifact_id, revision_id=ctx.ids.new(),
                       token=new_reference_token(ctx, artifact_id), at=ctx.clock.now(), filename=filename, raw=raw,
                       content_type=content_type, project_id=project_id, kind=kind, origin=origin,
                       owner=owner or principal.username, owner_id=owner_id or principal.user_id, note=note)
    await ctx.events.emit(s, principal, "artifact.created", "artifact", row.id, project_id, filename=filename,
                          artifact_kind=kind, origin=origin, user_id=row.created_by_id)
    return row


#: Agents whose chat replies are documents worth keeping as a file.
REPORTING_AGENTS = frozenset({"reporter"})


async def artifact_for_reply(ctx: ServiceContext, s: AsyncSession, *, run_id: str, agent: str, text: str,
                             project_id: str | None, owner: str, owner_id: str | None, at: datetime
                             ) -> ArtifactRow | None:
    """A reporter's finished chat reply kept as a markdown report artifact (or None for
    other agents and empty replies), in the chat run's recording transaction.

    Like the project-update artifact it is named and timed from the run (``run_id``,
    ``at``) and draws nothing from the shared clock or id generator, so seeded demo data
    keeps every later time and id; the run's ``agent.run_completed`` event in the same
    transaction records it. Access follows ``project_id`` (none: only ``owner_id``)."""
    if agent not in REPORTING_AGENTS or not text.strip():
        return None
    artifact_id = derived_id(f"artifact:{run_id}", at)
    return await _store(
        ctx, s, artifact_id=artifact_id, revision_id=derived_id(f"artifact-revision:{run_id}", at),
        token=new_reference_token(ctx, artifact_id), at=at, filename=f"report-{run_id[-8:].lower()}.md",
        raw=text.encode("utf-8"), content_type="text/markdown", project_id=project_id, kind="report",
        origin=f"chat_run:{run_id}", owner=owner, owner_id=owner_id, note="generated")


async def _revision(s: AsyncSession, row: ArtifactRow, revision: int | None) -> ArtifactRevisionRow:
    number = revision or row.revision
    rev = await s.scalar(select(ArtifactRevisionRow).where(col(ArtifactRevisionRow.artifact_id) == row.id,
                                                           col(ArtifactRevisionRow.revision) == number))
    if rev is None:
        raise NotFound(f"{row.filename} has no revision {number} (current: {row.revision})")
    return rev


def _text_of(row: ArtifactRow, rev: ArtifactRevisionRow) -> str:
    if row.content_type not in TEXT_TYPES:
        raise UnsupportedMedia(f"{row.filename} is {row.content_type}, not an editable text artifact; download it")
    return bytes(rev.content).decode("utf-8", errors="replace")


def _info(row: ArtifactRow) -> ArtifactInfo:
    return ArtifactInfo(reference_token=row.reference_token, filename=row.filename, content_type=row.content_type,
                        kind=row.kind, project_id=row.project_id, origin=row.origin, current_revision=row.revision,
                        created_by=row.created_by, created_at=row.created_at, updated_at=row.updated_at)


class ArtifactService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        ctx.events.add_handler(self._on_event)

    # ---- made by the system ------------------------------------------------------------

    async def _on_event(self, s: AsyncSession, event: DomainEvent) -> None:
        """A finished project update becomes an HTML artifact of its project.

        Part of the job's own "succeeded" change (same transaction, that event records
        it), and timed and named from that event: it reads neither the clock nor the id
        generator, so seeded demo data keeps every later time and id it had before."""
        if event.kind != "agent_job.succeeded" or event.data.get("job_kind") != "project_update":
            return
        job = await s.get(AgentJobRow, event.resource_id)
        result = dict(job.result or {}) if job is not None else {}
        markdown = result.get("markdown")
        if job is None or not isinstance(markdown, str) or not markdown.strip() or result.get("artifact_token"):
            return
        at = event.created_at or job.updated_at
        first = markdown.strip().splitlines()[0].lstrip("# ").strip() or "Project update"
        artifact_id = derived_id(f"artifact:{job.id}", at)
        row = await _store(
            self.ctx, s, artifact_id=artifact_id, revision_id=derived_id(f"artifact-revision:{job.id}", at),
            token=new_reference_token(self.ctx, artifact_id), at=at,
            filename=f"project-update-{job.id[-8:].lower()}.html", raw=markdown_document(first, markdown).encode(),
            content_type="text/html", project_id=job.project_id, kind="project_update", origin=f"agent_job:{job.id}",
            owner=job.created_by, owner_id=job.created_by_id, note="generated")
        job.result = {**result, "artifact_token": row.reference_token, "artifact_filename": row.filename}

    # ---- the endpoints --------------------------------------------------------------------

    async def list(self, principal: Principal, project_id: str | None = None, kind: str | None = None,
                   limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[ArtifactInfo]:
        """What the caller may open, newest first: artifacts of projects they are a member
        of (admins: all) and project-less ones made for them. An invisible project is 404."""
        require_user(principal)
        async with self.ctx.db.read() as s:
            stmt = select(ArtifactRow)
            if project_id is not None:
                await load_project(s, principal, project_id)
                stmt = stmt.where(col(ArtifactRow.project_id) == project_id)
            if not principal.is_admin:
                member_of = (select(col(ProjectMemberRow.project_id))
                             .where(col(ProjectMemberRow.user_id) == principal.user_id))
                stmt = stmt.where(or_(col(ArtifactRow.project_id).in_(member_of),
                                      and_(col(ArtifactRow.project_id).is_(None),
                                           col(ArtifactRow.created_by_id) == principal.user_id)))
            if kind is not None:
                stmt = stmt.where(col(ArtifactRow.kind) == kind)
            return await paginate(s, stmt, [col(ArtifactRow.id)], lambda r: [r.id], _info, limit=limit, cursor=cursor,
                                  descending=True)

    async def download(self, principal: Principal, reference_token: str, revision: int | None = None
                       ) -> ArtifactContent:
        """The artifact's bytes (the current revision unless ``revision`` is given)."""
        async with self.ctx.db.read() as s:
            row, _ = await load_artifact(s, principal, reference_token)
            rev = await _revision(s, row, revision)
            content = bytes(rev.content)
            return ArtifactContent(reference_token=row.reference_token, filename=row.filename,
                                   content_type=row.content_type, revision=rev.revision, size=len(content),
                                   content=content)

    async def _source(self, s: AsyncSession, row: ArtifactRow, editable: bool, revision: int | None = None
                      ) -> ArtifactSource:
        rev = await _revision(s, row, revision)
        history = (await s.scalars(select(ArtifactRevisionRow).options(defer(orm_attr(ArtifactRevisionRow.content)))
                                   .where(col(ArtifactRevisionRow.artifact_id) == row.id)
                                   .order_by(col(ArtifactRevisionRow.revision).desc())
                                   .limit(MAX_REVISIONS_SHOWN))).all()
        return ArtifactSource(
            reference_token=row.reference_token, filename=row.filename, content_type=row.content_type, kind=row.kind,
            project_id=row.project_id, origin=row.origin, revision=rev.revision, current_revision=row.revision,
            source=_text_of(row, rev), editable=editable, created_by=row.created_by, created_at=row.created_at,
            updated_at=row.updated_at,
            revisions=[ArtifactRevision(revision=h.revision, size=h.size, content_hash=h.content_hash, note=h.note,
                                        created_by=h.created_by, created_at=h.created_at) for h in history],
        )

    async def source(self, principal: Principal, reference_token: str, revision: int | None = None
                     ) -> ArtifactSource:
        """The editable source (text artifacts) and the revision history."""
        async with self.ctx.db.read() as s:
            row, editable = await load_artifact(s, principal, reference_token)
            return await self._source(s, row, editable, revision)

    async def _add_revision(self, s: AsyncSession, principal: Principal, row: ArtifactRow, text: str,
                            note: str) -> None:
        raw = text.encode("utf-8")
        now = self.ctx.clock.now()
        row.revision += 1
        row.updated_at = now
        s.add(ArtifactRevisionRow(id=self.ctx.ids.new(), artifact_id=row.id, revision=row.revision, content=raw,
                                  size=len(raw), content_hash=hashlib.sha256(raw).hexdigest(), note=note,
                                  created_by=principal.username, created_at=now))
        await s.flush()

    @idempotent(ArtifactSource)
    async def save_revision(self, principal: Principal, reference_token: str, data: ArtifactRevisionCreate
                            ) -> ArtifactSource:
        """Save an edited source as a new revision (the old ones are kept)."""
        async with self.ctx.db.transaction() as s:
            row, editable = await load_artifact(s, principal, reference_token, write=True)
            current = _text_of(row, await _revision(s, row, None))
            if data.base_revision is not None and data.base_revision != row.revision:
                raise Conflict(f"{row.filename} was saved meanwhile: it is at revision {row.revision}, "
                               f"your edit started from revision {data.base_revision}")
            if data.source == current:
                raise Conflict(f"the source is unchanged (revision {row.revision}); nothing to save")
            await self._add_revision(s, principal, row, data.source, data.note or "edited")
            await self.ctx.events.emit(s, principal, "artifact.revised", "artifact", row.id, row.project_id,
                                       filename=row.filename, revision=row.revision, user_id=row.created_by_id)
            return await self._source(s, row, editable)

    async def layout_cleanup(self, principal: Principal, reference_token: str,
                             data: LayoutCleanupRequest | None = None) -> LayoutCleanupResult:
        """Tidy an HTML (or markdown) artifact; a change is saved as a new revision."""
        async with self.ctx.db.transaction() as s:
            row, editable = await load_artifact(s, principal, reference_token, write=True)
            current = _text_of(row, await _revision(s, row, None))
            if row.content_type == "text/html":
                tidied, changes = tidy_html(current)
            elif row.content_type == "text/markdown":
                tidied, changes = tidy_markdown(current)
            else:
                raise UnsupportedMedia(f"layout cleanup works on HTML and markdown; {row.filename} is "
                                       f"{row.content_type}")
            changed = tidied != current
            if changed:
                note = (data.note if data and data.note else "layout cleanup") + ": " + "; ".join(changes)
                await self._add_revision(s, principal, row, tidied, note[:500])
                await self.ctx.events.emit(s, principal, "artifact.layout_cleaned", "artifact", row.id,
                                           row.project_id, filename=row.filename, revision=row.revision,
                                           changes=changes, user_id=row.created_by_id)
            return LayoutCleanupResult(artifact=await self._source(s, row, editable), changed=changed,
                                       changes=changes if changed else [])


__all__ = ["REPORTING_AGENTS", "TEXT_TYPES", "ArtifactService", "artifact_for_reply", "create_artifact",
           "new_reference_token"]
