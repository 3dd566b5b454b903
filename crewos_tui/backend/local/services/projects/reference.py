"""Reading a project document from another domain (the knowledge base ingests
project documents by reference), with the caller's project access: viewers read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ....errors import NotFound
from ....principal import Principal
from ...tables import DocumentRow
from .access import load_project


@dataclass(frozen=True)
class DocumentCopy:
    project_id: str
    document_id: str
    filename: str
    content_type: str
    content: bytes
    content_hash: str


async def read_document(s: AsyncSession, principal: Principal, project_id: str, document_id: str) -> DocumentCopy:
    """The document's bytes if the caller can see the project (404 otherwise)."""
    await load_project(s, principal, project_id)
    row = await s.get(DocumentRow, document_id)
    if row is None or row.project_id != project_id:
        raise NotFound(f"document {document_id} not found in this project")
    return DocumentCopy(project_id, row.id, row.filename, row.content_type, bytes(row.content), row.content_hash)
