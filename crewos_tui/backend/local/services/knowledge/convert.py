"""Rows → wire models for the knowledge domain."""

from __future__ import annotations

import re

from ....schemas.knowledge import (
    EntryStatus,
    GovernanceItem,
    GovernanceKind,
    GovernanceStatus,
    KnowledgeEntry,
    KnowledgeEntryBrief,
    KnowledgeEntryVersion,
    KnowledgeFile,
    LinkKind,
    MeditationRun,
    ResearchCandidate,
    ResearchRun,
    Visibility,
    WikiLink,
)
from ...tables import (
    KnowledgeEntryRow,
    KnowledgeEntryVersionRow,
    KnowledgeFileRow,
    KnowledgeGovernanceRow,
    KnowledgeLinkRow,
    KnowledgeMeditationRunRow,
    KnowledgeResearchCandidateRow,
    KnowledgeResearchRunRow,
)

EXCERPT_CHARS = 200
_MARKUP = re.compile(r"[#>*_`|\[\]]+")


def excerpt(body: str, chars: int = EXCERPT_CHARS) -> str:
    """The start of a body as one line of plain-ish text."""
    text = " ".join(_MARKUP.sub(" ", body[: chars * 3]).split())
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def entry_brief(row: KnowledgeEntryRow, filename: str | None = None) -> KnowledgeEntryBrief:
    return KnowledgeEntryBrief(
        id=row.id, namespace=row.namespace, title=row.title, excerpt=excerpt(row.body), tags=list(row.tags or []),
        visibility=Visibility(row.visibility), status=EntryStatus(row.status), version=row.version,
        source_file_id=row.source_file_id, source_filename=filename, updated_at=row.updated_at,
    )


def entry_full(
    row: KnowledgeEntryRow,
    filename: str | None = None,
    links: tuple[int, int] = (0, 0),
    versions: list[KnowledgeEntryVersionRow] | None = None,
) -> KnowledgeEntry:
    return KnowledgeEntry(
        **entry_brief(row, filename).model_dump(), body=row.body, source_section=row.source_section,
        merged_into=row.merged_into, created_by=row.created_by, updated_by=row.updated_by, created_at=row.created_at,
        links_out=links[0], links_in=links[1],
        versions=[KnowledgeEntryVersion(version=v.version, title=v.title, updated_by=v.updated_by,
                                        created_at=v.created_at) for v in versions or []],
    )


def file_model(row: KnowledgeFileRow) -> KnowledgeFile:
    return KnowledgeFile(
        id=row.id, namespace=row.namespace, filename=row.filename, content_type=row.content_type, size=row.size,
        content_hash=row.content_hash, visibility=Visibility(row.visibility), status=row.status, source=row.source,
        entry_count=row.entry_count, project_id=row.project_id, document_id=row.document_id,
        tags=list(row.tags or []), job_id=row.job_id, error=row.error, created_by=row.created_by,
        created_at=row.created_at, updated_at=row.updated_at,
    )


def link_model(row: KnowledgeLinkRow, seen_from: str, other: KnowledgeEntryRow | None) -> WikiLink:
    outgoing = row.source_id == seen_from
    other_id = row.target_id if outgoing else row.source_id
    return WikiLink(
        id=row.id, source_id=row.source_id, target_id=row.target_id, kind=LinkKind(row.kind), note=row.note,
        origin=row.origin, direction="out" if outgoing else "in", other_id=other_id,
        other_title=other.title if other else "", other_namespace=other.namespace if other else "",
        created_by=row.created_by, created_at=row.created_at, updated_at=row.updated_at,
    )


def governance_model(row: KnowledgeGovernanceRow, entry_title: str = "", other_title: str | None = None
                     ) -> GovernanceItem:
    return GovernanceItem(
        id=row.id, kind=GovernanceKind(row.kind), status=GovernanceStatus(row.status), namespace=row.namespace,
        entry_id=row.entry_id,
        entry_title=entry_title, other_id=row.other_id, other_title=other_title, link_kind=row.link_kind,
        score=row.score, reason=row.reason, proposed_by=row.proposed_by, run_id=row.run_id, created_at=row.created_at,
        decided_by=row.decided_by, decided_at=row.decided_at, comment=row.comment, result_link_id=row.result_link_id,
    )


def meditation_model(row: KnowledgeMeditationRunRow) -> MeditationRun:
    stats = row.stats or {}
    return MeditationRun(
        id=row.id, status=row.status, mode=row.mode, namespaces=list(row.namespaces or []),
        triggered_by=row.triggered_by, message=row.message, started_at=row.started_at, finished_at=row.finished_at,
        **{k: int(stats.get(k, 0)) for k in ("entries_scanned", "links_proposed", "merges_proposed",
                                              "orphans_flagged", "stale_flagged", "already_queued")},
    )


def candidate_model(row: KnowledgeResearchCandidateRow) -> ResearchCandidate:
    return ResearchCandidate(
        id=row.id, run_id=row.run_id, url=row.url, filename=row.filename, title=row.title,
        excerpt=excerpt(row.content, 300), content_chars=len(row.content), status=row.status,
        recommendation=row.recommendation, score=row.score, reasons=list(row.reasons or []),
        duplicate_of=row.duplicate_of, entry_ids=list(row.entry_ids or []), decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


def research_model(row: KnowledgeResearchRunRow, candidates: list[KnowledgeResearchCandidateRow],
                   detail: bool) -> ResearchRun:
    def count(status: str) -> int:
        return sum(1 for c in candidates if c.status == status)

    return ResearchRun(
        id=row.id, topic=row.topic, namespace=row.namespace, tags=list(row.tags or []), status=row.status,
        web_fetch=row.web_fetch, fetch_note=row.fetch_note, created_by=row.created_by, created_at=row.created_at,
        updated_at=row.updated_at, candidate_count=len(candidates), pending_count=count("pending"),
        approved_count=count("approved"), rejected_count=count("rejected"),
        candidates=[candidate_model(c) for c in candidates] if detail else [],
    )
