"""Projects and collaboration: projects, members, access requests, scaffold,
folders, folder updates, documents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints

from .common import Id, Name, Request, Text, Wire


class ProjectRole(StrEnum):
    owner = "owner"
    editor = "editor"
    viewer = "viewer"


class ProjectStatus(StrEnum):
    active = "active"
    archived = "archived"


class ProjectTemplate(StrEnum):
    blank = "blank"
    software = "software"
    research = "research"
    consulting = "consulting"


class ProjectCreate(Request):
    name: Name
    description: Text = ""
    template: ProjectTemplate = ProjectTemplate.blank


class ProjectUpdate(Request):
    name: Name | None = None
    description: Text | None = None


class Project(Wire):
    id: str
    name: str
    description: str = ""
    template: str = "blank"
    status: ProjectStatus = ProjectStatus.active
    team: str = "default"
    owner_id: str | None = None
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None
    my_role: ProjectRole | None = None  # None for an admin who is not a member
    member_count: int = 0
    document_count: int = 0
    pending_access_requests: int = 0
    pending_folder_updates: int = 0


class MemberUpsert(Request):
    role: ProjectRole


class Member(Wire):
    user_id: str
    username: str
    team: str
    role: ProjectRole
    added_at: datetime


class TeamUser(Wire):
    id: str
    username: str
    team: str
    role: str
    is_member: bool
    project_role: ProjectRole | None = None


class RequestStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class AccessRequestCreate(Request):
    message: Text = ""
    role: ProjectRole = ProjectRole.viewer


class AccessRequestDecision(Request):
    status: RequestStatus  # approved | rejected
    role: ProjectRole | None = None  # approve with a different role than asked
    comment: Text = ""


class AccessRequest(Wire):
    id: str
    project_id: str
    user_id: str
    username: str
    role: ProjectRole
    message: str = ""
    status: RequestStatus
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    comment: str = ""


class ScaffoldItem(Wire):
    id: str
    project_id: str
    kind: str  # folder | document | checklist
    path: str
    title: str
    description: str = ""
    position: int


class Folder(Wire):
    id: str
    project_id: str
    path: str
    name: str
    created_at: datetime


FolderPath = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=r"^[^\x00]+$")
]


class FolderAction(StrEnum):
    create = "create"
    rename = "rename"
    delete = "delete"


class FolderUpdateCreate(Request):
    action: FolderAction
    path: FolderPath
    new_path: FolderPath | None = None
    reason: Text = ""


class FolderUpdateDecision(Request):
    comment: Text = ""


class FolderUpdate(Wire):
    id: str
    project_id: str
    action: FolderAction
    path: str
    new_path: str | None = None
    reason: str = ""
    status: RequestStatus
    proposed_by: str
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    comment: str = ""


class Document(Wire):
    id: str
    project_id: str
    folder_path: str | None = None
    filename: str
    content_type: str
    size: int
    content_hash: str
    text_chars: int
    status: str  # ingested
    uploaded_by: str
    created_at: datetime
    ingested_at: datetime
    ingest_count: int = 1


class DocumentReingest(Request):
    document_id: Id
