"""The detail pane of the projects screen: a short header and one tab per list
(members, documents, folders, scaffold, pending access requests, pending folder
updates). It only displays; the screen fetches and decides."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static, TabbedContent, TabPane

from .format import one_line, size, utc
from .paged_table import Column, PagedTable
from .safe_text import safe

if TYPE_CHECKING:
    from ..backend.schemas import (
        AccessRequest,
        Document,
        Folder,
        FolderUpdate,
        Member,
        Project,
        ScaffoldItem,
    )

#: Tab name -> label. Short labels keep all six tabs visible at 80 columns.
TABS: dict[str, str] = {
    "members": "Members",
    "documents": "Docs",
    "folders": "Folders",
    "scaffold": "Scaffold",
    "requests": "Requests",
    "updates": "Folder updates",
}


def _role(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


MEMBER_COLUMNS: list[Column[Member]] = [
    Column("user", "User", lambda m: m.username, lambda m: m.username.casefold()),
    Column("role", "Role", lambda m: _role(m.role), lambda m: _role(m.role)),
    Column("team", "Team", lambda m: m.team, lambda m: m.team),
    Column("added", "Added (UTC)", lambda m: utc(m.added_at), lambda m: m.added_at),
]
DOCUMENT_COLUMNS: list[Column[Document]] = [
    Column("file", "File", lambda d: d.filename, lambda d: d.filename.casefold()),
    Column("folder", "Folder", lambda d: d.folder_path or "/", lambda d: d.folder_path or ""),
    Column("size", "Size", lambda d: size(d.size), lambda d: d.size),
    Column("ingests", "Ingests", lambda d: str(d.ingest_count), lambda d: d.ingest_count),
    Column("ingested", "Ingested (UTC)", lambda d: utc(d.ingested_at), lambda d: d.ingested_at),
]
FOLDER_COLUMNS: list[Column[Folder]] = [
    Column("path", "Path", lambda f: f.path, lambda f: f.path),
    Column("created", "Created (UTC)", lambda f: utc(f.created_at), lambda f: f.created_at),
]
SCAFFOLD_COLUMNS: list[Column[ScaffoldItem]] = [
    Column("kind", "Kind", lambda s: s.kind, lambda s: s.kind),
    Column("path", "Path", lambda s: s.path, lambda s: s.path),
    Column("title", "Title", lambda s: s.title, lambda s: s.title.casefold()),
]
REQUEST_COLUMNS: list[Column[AccessRequest]] = [
    Column("user", "User", lambda r: r.username, lambda r: r.username.casefold()),
    Column("role", "Role", lambda r: _role(r.role), lambda r: _role(r.role)),
    Column("asked", "Asked (UTC)", lambda r: utc(r.created_at), lambda r: r.created_at),
    Column("message", "Message", lambda r: one_line(r.message, 48)),
]
UPDATE_COLUMNS: list[Column[FolderUpdate]] = [
    Column("action", "Action", lambda u: _role(u.action), lambda u: _role(u.action)),
    Column("path", "Path", lambda u: u.path + (f" → {u.new_path}" if u.new_path else ""), lambda u: u.path),
    Column("by", "By", lambda u: u.proposed_by, lambda u: u.proposed_by),
    Column("asked", "Asked (UTC)", lambda u: utc(u.created_at), lambda u: u.created_at),
    Column("reason", "Reason", lambda u: one_line(u.reason, 40)),
]

_TABLES: dict[str, tuple[list[Any], Callable[[Any], str], str]] = {
    "members": (MEMBER_COLUMNS, lambda m: m.user_id, "No members."),
    "documents": (DOCUMENT_COLUMNS, lambda d: d.id, "No documents. Press u to upload one."),
    "folders": (FOLDER_COLUMNS, lambda f: f.id, "No folders."),
    "scaffold": (SCAFFOLD_COLUMNS, lambda s: s.id, "No scaffold items."),
    "requests": (REQUEST_COLUMNS, lambda r: r.id, "No pending access requests."),
    "updates": (UPDATE_COLUMNS, lambda u: u.id, "No pending folder updates."),
}


class ProjectDetail(Vertical):
    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tables: dict[str, PagedTable[Any]] = {
            name: PagedTable(cols, key, empty=empty, id=f"{name}-table")
            for name, (cols, key, empty) in _TABLES.items()
        }

    def compose(self) -> ComposeResult:
        yield Static("Select a project.", id="detail-header")
        with TabbedContent(id="detail-tabs"):
            for name, label in TABS.items():
                with TabPane(label, id=f"tab-{name}"):
                    yield self.tables[name]

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active.removeprefix("tab-")

    def activate(self, tab: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{tab}"

    def cycle_tab(self, step: int) -> None:
        names = list(TABS)
        self.activate(names[(names.index(self.active_tab) + step) % len(names)])

    def set_count(self, tab: str, count: int | None) -> None:
        label = TABS[tab] if not count else f"{TABS[tab]} {count}"
        self.query_one(TabbedContent).get_tab(f"tab-{tab}").label = label

    def show_project(self, project: Project | None) -> None:
        header = self.query_one("#detail-header", Static)
        if project is None:
            header.update("Select a project.")
            return
        status = _role(project.status)
        line1 = Text.assemble(
            (project.name, "bold"),
            "  ",
            (status, "italic" if status == "archived" else ""),
            f" · {project.template} · you: {_role(project.my_role) or 'admin'}",
        )
        line2 = Text(
            f"created {utc(project.created_at)} · updated {utc(project.updated_at)} UTC"
            + (f" · {one_line(project.description, 200)}" if project.description else ""),
            style="dim",
            overflow="ellipsis",
            no_wrap=True,
        )
        header.update(safe(Text("\n").join([line1, line2])))
        # The counts the project carries, before the lists arrive.
        self.set_count("members", project.member_count)
        self.set_count("documents", project.document_count)
        self.set_count("requests", project.pending_access_requests)
        self.set_count("updates", project.pending_folder_updates)
