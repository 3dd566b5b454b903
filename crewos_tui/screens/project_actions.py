"""The write actions of the projects screen, one method per key.

Kept apart from the screen's layout and loading so each file reads in one sitting.
Every write runs in a worker; a success is announced and the lists reload; a
failure is reported by the screen's worker handler (or inline, in a form).
Wire models are imported inside the calls: pydantic is not needed for the first
frame, and by the time a user acts the backend has loaded it anyway.
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..widgets.form_fields import Field, FieldError
from ..widgets.workers import work
from .screen_half import ScreenHalf

if TYPE_CHECKING:
    from ..backend.schemas import Project
    from ..widgets.project_detail import ProjectDetail

TEMPLATES = [("Blank", "blank"), ("Software", "software"), ("Research", "research"), ("Consulting", "consulting")]
ROLES = [("Viewer", "viewer"), ("Editor", "editor"), ("Owner", "owner")]


class ProjectActions(ScreenHalf):
    # Provided by ProjectsScreen; declared for the type checker.
    project: Project | None
    reload_after_change: Callable[[str | None], Awaitable[None]]

    if TYPE_CHECKING:  # properties of the screen
        @property
        def detail(self) -> ProjectDetail: ...

    # ---- plumbing ------------------------------------------------------------------

    @work(group="write", exit_on_error=False)
    async def run_write(self, call: Callable[[], Awaitable[Any]], done: Callable[[Any], str],
                        select: Callable[[Any], str | None] = lambda _r: None) -> None:
        """Run one backend write, say what happened, reload (selecting ``select(result)``)."""
        result = await call()
        self.crewos.say(done(result))
        await self.reload_after_change(select(result))

    @work(group="write", exit_on_error=False)
    async def refresh_after(self, select: str | None) -> None:
        await self.reload_after_change(select)

    def _after_form(self, done: Callable[[Any], str], select: Callable[[Any], str | None] = lambda _r: None
                    ) -> Callable[[Any], None]:
        """A push_screen callback: a form that succeeded returns the backend's answer."""

        def callback(result: Any) -> None:
            if result is not None:
                self.crewos.say(done(result))
                self.refresh_after(select(result))

        return callback

    def _selected(self, tab: str, what: str) -> Any:
        row = self.detail.tables[tab].selected
        if row is None:
            self.crewos.say(f"Select {what} first.", severity="warning")
        return row

    def _project_or_warn(self) -> Project | None:
        if self.project is None:
            self.crewos.say("Select a project first.", severity="warning")
        return self.project

    # ---- projects ------------------------------------------------------------------

    def action_create_project(self) -> None:
        async def submit(values: dict[str, str]) -> Any:
            from ..backend.schemas import ProjectCreate

            data = ProjectCreate(name=values["name"], description=values["description"],
                                 template=values["template"])  # type: ignore[arg-type]
            return await self.backend.projects.create(data)

        fields = [
            Field("name", "Name", required=True, placeholder="e.g. Atlas Launch"),
            Field("description", "Description", placeholder="one line on what it is for"),
            Field("template", "Template", value="blank", choices=TEMPLATES),
        ]
        from ..widgets.forms import FormModal

        self.crewos.push_screen(FormModal("New project", fields, submit, submit_label="Create"),
                                self._after_form(lambda p: f"Created project {p.name}.", lambda p: p.id))

    def action_edit_project(self) -> None:
        project = self._project_or_warn()
        if project is None:
            return

        async def submit(values: dict[str, str]) -> Any:
            from ..backend.schemas import ProjectUpdate

            changes = {k: v for k, v in values.items() if v != getattr(project, k)}
            if not changes:
                raise FieldError("name", "Nothing changed.")
            return await self.backend.projects.update(project.id, ProjectUpdate(**changes))

        fields = [
            Field("name", "Name", value=project.name, required=True),
            Field("description", "Description", value=project.description),
        ]
        from ..widgets.forms import FormModal

        self.crewos.push_screen(FormModal(f"Edit {project.name}", fields, submit),
                                self._after_form(lambda p: f"Saved {p.name}.", lambda p: p.id))

    def action_archive_project(self) -> None:
        project = self._project_or_warn()
        if project is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_write(lambda: self.backend.projects.archive(project.id),
                               lambda p: f"Archived {p.name}.", lambda p: p.id)

        from ..widgets.confirm import ConfirmModal

        self.crewos.push_screen(ConfirmModal(
            "Archive project", f"Archive {project.name}? Archived projects are read-only.", yes="Archive"),
            confirmed)

    # ---- members -------------------------------------------------------------------

    @work(group="write", exit_on_error=False)
    async def action_add_member(self) -> None:
        project = self._project_or_warn()
        if project is None:
            return
        team = await self.backend.projects.team_users(project.id, limit=200)
        candidates = [(f"{u.username} ({u.role})", u.id) for u in team.items if not u.is_member]
        if not candidates:
            self.crewos.say(f"Everyone in team {project.team} is already a member.", severity="warning")
            return
        names = {u.id: u.username for u in team.items}

        async def submit(values: dict[str, str]) -> Any:
            from ..backend.schemas.projects import ProjectRole

            return await self.backend.projects.upsert_member(project.id, values["user"], ProjectRole(values["role"]))

        fields = [Field("user", "User", choices=candidates), Field("role", "Role", value="editor", choices=ROLES)]
        from ..widgets.forms import FormModal

        self.crewos.push_screen(
            FormModal(f"Add a member to {project.name}", fields, submit, submit_label="Add"),
            self._after_form(lambda m: f"Added {names.get(m.user_id, m.username)} as {m.role}."))

    def action_change_role(self) -> None:
        project, member = self.project, self._selected("members", "a member")
        if project is None or member is None:
            return

        async def submit(values: dict[str, str]) -> Any:
            from ..backend.schemas.projects import ProjectRole

            return await self.backend.projects.upsert_member(project.id, member.user_id, ProjectRole(values["role"]))

        role = str(getattr(member.role, "value", member.role))
        from ..widgets.forms import FormModal

        self.crewos.push_screen(
            FormModal(f"Role of {member.username} in {project.name}",
                      [Field("role", "Role", value=role, choices=ROLES)], submit),
            self._after_form(lambda m: f"{m.username} is now {m.role}."))

    def action_remove_member(self) -> None:
        project, member = self.project, self._selected("members", "a member")
        if project is None or member is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.run_write(lambda: self.backend.projects.remove_member(project.id, member.user_id),
                               lambda _r: f"Removed {member.username} from {project.name}.")

        from ..widgets.confirm import ConfirmModal

        self.crewos.push_screen(ConfirmModal(
            "Remove member", f"Remove {member.username} from {project.name}?", yes="Remove"), confirmed)

    # ---- decisions: one key each ---------------------------------------------------

    def action_approve(self) -> None:
        self._decide(approve=True)

    def action_reject(self) -> None:
        self._decide(approve=False)

    def _decide(self, *, approve: bool) -> None:
        project, tab = self.project, self.detail.active_tab
        verb = "Approved" if approve else "Rejected"
        if project is None:
            return
        p = self.backend.projects
        if tab == "requests":
            req = self._selected("requests", "an access request")
            if req is None:
                return

            async def decide_request() -> Any:
                from ..backend.schemas import AccessRequestDecision
                from ..backend.schemas.projects import RequestStatus

                status = RequestStatus.approved if approve else RequestStatus.rejected
                return await p.decide_access_request(project.id, req.id, AccessRequestDecision(status=status))

            self.run_write(decide_request, lambda r: f"{verb} {r.username}'s request ({r.role}) for {project.name}.")
        elif tab == "updates":
            upd = self._selected("updates", "a folder update")
            if upd is None:
                return
            call = p.approve_folder_update if approve else p.reject_folder_update
            self.run_write(lambda: call(project.id, upd.id),
                           lambda u: f"{verb} folder {u.action} of {u.path}.")

    # ---- documents -----------------------------------------------------------------

    def action_upload(self) -> None:
        project = self._project_or_warn()
        if project is None:
            return
        folders = [("(project root)", "")] + [(f.path, f.path) for f in self.detail.tables["folders"].items]

        async def submit(values: dict[str, str]) -> Any:
            path = Path(values["path"]).expanduser()  # noqa: ASYNC240 - no I/O; the read is threaded
            try:
                content = await asyncio.to_thread(path.read_bytes)  # a big file must not freeze the UI
            except FileNotFoundError:
                raise FieldError("path", f"No such file: {path}") from None
            except IsADirectoryError:
                raise FieldError("path", f"{path} is a folder; give a file") from None
            except OSError as exc:
                raise FieldError("path", f"Cannot read {path}: {exc.strerror or exc}") from None
            content_type = mimetypes.guess_type(path.name)[0]
            return await self.backend.projects.upload_document(
                project.id, path.name, content, content_type=content_type, folder_path=values["folder"] or None)

        fields = [
            Field("path", "File to upload", required=True, placeholder="~/notes/plan.md"),
            Field("folder", "Folder", choices=folders),
        ]
        from ..widgets.forms import FormModal

        self.crewos.push_screen(FormModal(f"Upload to {project.name}", fields, submit, submit_label="Upload"),
                                self._after_form(lambda d: f"Uploaded {d.filename} ({d.text_chars} characters)."))

    def action_reingest(self) -> None:
        project, doc = self.project, self._selected("documents", "a document")
        if project is None or doc is None:
            return
        self.run_write(lambda: self.backend.projects.reingest_document(project.id, doc.id),
                       lambda d: f"Re-ingested {d.filename} (ingest #{d.ingest_count}).")
