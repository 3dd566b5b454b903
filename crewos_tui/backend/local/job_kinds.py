"""The built-in job kinds: ``project_update``, ``task_run`` and ``document_ingest``.

Imported by ``jobs.py`` on first use. Other slices register more kinds with
``jobs.register_job_kind`` from their own modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import Invalid, NotFound
from ..principal import Principal
from ..schemas.agent_jobs import AgentJobCreate
from .jobs import JobContext, PreparedJob, register_job_kind
from .services.projects.access import load_project
from .services.tasks import report, worker
from .tables import DocumentRow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from .context import ServiceContext


async def _prepare_ingest(ctx: ServiceContext, s: AsyncSession, principal: Principal,
                          data: AgentJobCreate) -> PreparedJob:
    document_id = data.params.get("document_id")
    if not data.project_id or not isinstance(document_id, str) or not document_id:
        raise Invalid("a document_ingest job needs project_id and params.document_id")
    acc = await load_project(s, principal, data.project_id)
    acc.at_least("editor", principal, "reingesting documents")
    acc.writable()
    doc = await s.get(DocumentRow, document_id)
    if doc is None or doc.project_id != data.project_id:
        raise NotFound(f"document {document_id} not found in this project")
    return PreparedJob(data.project_id, None, {"document_id": document_id})


async def _ingest(job: JobContext) -> dict[str, Any]:
    await job.progress(20, "extracting text")
    assert job.job.project_id is not None
    doc = await job.services.projects.reingest_document(job.principal, job.job.project_id,
                                                        job.params["document_id"])
    return {"document_id": doc.id, "filename": doc.filename, "text_chars": doc.text_chars,
            "content_hash": doc.content_hash, "ingest_count": doc.ingest_count}


register_job_kind("project_update", report.build_update, prepare=report.prepare,
                  description="A markdown project update from the project's tasks, timeline and reviews.")
register_job_kind("task_run", worker.run_task, prepare=worker.prepare, on_queued=worker.on_queued,
                  description="An agent works a task (default: the built-in worker) and moves it to review.")
register_job_kind("document_ingest", _ingest, prepare=_prepare_ingest,
                  description="Re-extract a project document's text and recompute its hash.")
