"""Tables of the knowledge slice: namespaces, entries (with versions and tags), source
files, wiki links, the governance queue, meditation runs and web-research runs.

Full-text search is a SQLite FTS5 index over ``knowledge_entries`` (title, body,
tags) kept in step by triggers; all of that lives in ``local/fts.py`` and is
attached to this table's creation. ``fts_rowid`` is the entry's integer key in
that index (a ULID cannot be an FTS rowid).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from . import fk_column, json_column, table_of, utc_column

__all__ = [
    "KNOWLEDGE_TABLES",
    "KnowledgeEntryRow",
    "KnowledgeEntryTagRow",
    "KnowledgeEntryVersionRow",
    "KnowledgeFileRow",
    "KnowledgeGovernanceRow",
    "KnowledgeLinkRow",
    "KnowledgeMeditationRunRow",
    "KnowledgeNamespaceRow",
    "KnowledgeResearchCandidateRow",
    "KnowledgeResearchRunRow",
]


class KnowledgeNamespaceRow(SQLModel, table=True):
    """A namespace exists once something was written to it (or an admin made it)."""

    __tablename__: ClassVar[str] = "knowledge_namespaces"
    name: str = Field(primary_key=True)
    description: str = ""
    created_by: str = ""
    created_at: datetime = utc_column()


class KnowledgeFileRow(SQLModel, table=True):
    """A source file: the group of entries ingested from it, and its bytes."""

    __tablename__: ClassVar[str] = "knowledge_files"
    __table_args__ = (UniqueConstraint("namespace", "filename", name="uq_knowledge_file_name"),)
    id: str = Field(primary_key=True)
    namespace: str = Field(sa_column=Column(String, ForeignKey("knowledge_namespaces.name", ondelete="CASCADE"),
                                            nullable=False, index=True))
    filename: str
    content_type: str
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    content_hash: str
    visibility: str = "visible"  # visible | hidden
    status: str = "ready"  # ready | ingesting | failed
    source: str = "upload"  # upload | project_document | web_research
    project_id: str | None = fk_column("projects.id", ondelete="SET NULL", nullable=True, index=False)
    document_id: str | None = None
    tags: list[str] = json_column(list)
    max_chars: int = 4000
    entry_count: int = 0
    job_id: str | None = None
    error: str | None = None
    created_by: str = ""
    created_by_id: str | None = None
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()


class KnowledgeEntryRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "knowledge_entries"
    id: str = Field(primary_key=True)
    fts_rowid: int = Field(sa_column=Column(Integer, nullable=False, unique=True))
    namespace: str = Field(sa_column=Column(String, ForeignKey("knowledge_namespaces.name", ondelete="CASCADE"),
                                            nullable=False))
    title: str
    body: str = ""
    tags: list[str] = json_column(list)
    tags_text: str = ""  # the tags as words, for the full-text index
    visibility: str = "visible"  # visible | hidden (hidden: not searched, retrieved or graphed)
    status: str = "active"  # active | archived
    version: int = 1
    source_file_id: str | None = fk_column("knowledge_files.id", ondelete="CASCADE", nullable=True)
    source_section: str = ""  # the heading path it came from, for ingested entries
    position: int = 0  # order within its source file
    merged_into: str | None = None
    created_by: str = ""
    created_by_id: str | None = None
    updated_by: str = ""
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()


Index("ix_knowledge_entries_ns", table_of(KnowledgeEntryRow).c.namespace, table_of(KnowledgeEntryRow).c.id)


class KnowledgeEntryTagRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "knowledge_entry_tags"
    entry_id: str = Field(sa_column=Column(String, ForeignKey("knowledge_entries.id", ondelete="CASCADE"),
                                           primary_key=True))
    tag: str = Field(sa_column=Column(String, primary_key=True))


Index("ix_knowledge_entry_tags_tag", table_of(KnowledgeEntryTagRow).c.tag, table_of(KnowledgeEntryTagRow).c.entry_id)


class KnowledgeEntryVersionRow(SQLModel, table=True):
    """An entry as it was before an update (the current one is the entry itself)."""

    __tablename__: ClassVar[str] = "knowledge_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version", name="uq_knowledge_entry_version"),)
    id: str = Field(primary_key=True)
    entry_id: str = fk_column("knowledge_entries.id")
    version: int
    title: str
    body: str
    tags: list[str] = json_column(list)
    updated_by: str = ""
    created_at: datetime = utc_column()  # when this version was written


class KnowledgeLinkRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "knowledge_links"
    __table_args__ = (UniqueConstraint("source_id", "target_id", "kind", name="uq_knowledge_link"),)
    id: str = Field(primary_key=True)
    source_id: str = fk_column("knowledge_entries.id")
    target_id: str = fk_column("knowledge_entries.id")
    kind: str = "related"
    note: str = ""
    origin: str = "manual"  # manual | governance | merge
    created_by: str = ""
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()


class KnowledgeGovernanceRow(SQLModel, table=True):
    """One proposal in the governance queue: a link, a merge, an orphan or a stale entry."""

    __tablename__: ClassVar[str] = "knowledge_governance"
    id: str = Field(primary_key=True)
    kind: str = Field(index=True)  # link | merge | orphan | stale
    status: str = Field(default="pending", index=True)  # pending | accepted | rejected | merged | archived
    namespace: str = Field(index=True)
    entry_id: str = fk_column("knowledge_entries.id")
    other_id: str | None = fk_column("knowledge_entries.id", nullable=True)
    link_kind: str | None = None
    score: float = 0.0  # similarity 0..1 (a ranking aid, not an amount)
    reason: str = ""
    fingerprint: str = Field(index=True)  # the same proposal twice has the same fingerprint
    proposed_by: str = ""
    run_id: str | None = None
    created_at: datetime = utc_column()
    decided_by: str | None = None
    decided_at: datetime | None = utc_column(nullable=True)
    comment: str = ""
    result_link_id: str | None = None


class KnowledgeMeditationRunRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "knowledge_meditation_runs"
    id: str = Field(primary_key=True)
    status: str = "completed"
    mode: str = "builtin"
    namespaces: list[str] = json_column(list)
    triggered_by: str = ""
    stats: dict[str, Any] = json_column(dict)
    message: str = ""
    started_at: datetime = utc_column()
    finished_at: datetime | None = utc_column(nullable=True)


class KnowledgeResearchRunRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "knowledge_research_runs"
    id: str = Field(primary_key=True)
    topic: str
    namespace: str
    tags: list[str] = json_column(list)
    status: str = "review"  # review (candidates pending) | done
    web_fetch: bool = False
    fetch_note: str = ""
    created_by: str = ""
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()


class KnowledgeResearchCandidateRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "knowledge_research_candidates"
    id: str = Field(primary_key=True)
    run_id: str = fk_column("knowledge_research_runs.id")
    url: str | None = None
    filename: str | None = None
    title: str
    content: str = ""
    status: str = "pending"  # pending | approved | rejected | unfetched
    recommendation: str = "reject"  # approve | reject
    score: float = 0.0
    reasons: list[str] = json_column(list)
    duplicate_of: str | None = None
    entry_ids: list[str] = json_column(list)
    decided_by: str | None = None
    decided_at: datetime | None = utc_column(nullable=True)


KNOWLEDGE_TABLES = (
    "knowledge_namespaces", "knowledge_files", "knowledge_entries", "knowledge_entry_tags",
    "knowledge_entry_versions", "knowledge_links", "knowledge_governance", "knowledge_meditation_runs",
    "knowledge_research_runs", "knowledge_research_candidates",
)

# The full-text index and its triggers come with the entries table (SQLite only).
from ..fts import attach_fts  # noqa: E402 - next to the one call it serves

attach_fts(table_of(KnowledgeEntryRow))
