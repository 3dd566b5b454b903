"""The knowledge screen's write actions: governance decisions, ingest (with a progress
bar that follows the background job), file groups, and opening artifacts."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.widgets import Label, ProgressBar

from ..widgets.confirm import ConfirmModal
from ..widgets.form_fields import Field, FieldError
from ..widgets.safe_text import safe
from ..widgets.workers import work

if TYPE_CHECKING:
    from ..backend.schemas import IngestResult

POLL = 0.3  # s between looks at a running ingest job
TERMINAL = {"succeeded", "failed", "cancelled"}


def _v(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


class KnowledgeActions:
    """Mixed into ``KnowledgeScreen`` (which provides ``backend``, ``crewos``, ``table``...)."""

    # ---- governance ----------------------------------------------------------------

    def action_decide(self, action: str) -> None:
        screen: Any = self
        item = screen.table("queue").selected
        if item is None:
            screen.crewos.say("Select a queue item first.", severity="warning")
            return
        if action == "merge" and _v(item.kind) != "merge":
            screen.crewos.say("Only a merge proposal can be merged.", severity="warning")
            return
        self.run_decision(item.id, action, item.entry_title)

    @work(group="kb-decide", exit_on_error=False)
    async def run_decision(self, item_id: str, action: str, title: str) -> None:
        from ..backend.schemas import GovernanceActionRequest
        from ..backend.schemas.knowledge import GovernanceAction

        screen: Any = self
        result = await screen.backend.knowledge.apply_governance(GovernanceActionRequest(
            item_id=item_id, action=GovernanceAction(action)))
        done = {"accepted": "Accepted", "rejected": "Rejected", "merged": "Merged", "archived": "Archived"}
        screen.crewos.say(f"{done.get(_v(result.item.status), 'Done')}: {title}")
        screen.load_queue()
        if screen.entry is not None and result.entry is not None and screen.entry.id == result.entry.id:
            screen.open_entry(result.entry.id, remember=False)

    # ---- ingest ----------------------------------------------------------------------

    def action_ingest(self) -> None:
        self.ask_ingest()

    @work(exclusive=True, group="kb-ingest-form", exit_on_error=False)
    async def ask_ingest(self) -> None:
        from ..backend.schemas import KnowledgeIngest
        from ..widgets.forms import FormModal

        screen: Any = self
        spaces = [n.name for n in (await screen.backend.knowledge.namespaces(limit=200)).items if n.can_write]
        if not spaces:
            screen.crewos.say("You may not write to any namespace; an admin can grant you one.", severity="warning")
            return
        default = screen.namespace if screen.namespace in spaces else spaces[0]

        async def submit(values: dict[str, str]) -> IngestResult:
            path = Path(values["path"]).expanduser()  # noqa: ASYNC240 - no I/O; the read is threaded
            try:
                raw = await asyncio.to_thread(path.read_bytes)
            except OSError as exc:
                raise FieldError("path", f"cannot read {path}: {exc.strerror or exc}") from None
            tags = [t.strip() for t in values["tags"].split(",") if t.strip()]
            return await screen.backend.knowledge.ingest(KnowledgeIngest(
                namespace=values["namespace"], filename=path.name, content_base64=base64.b64encode(raw).decode(),
                tags=tags, replace=values["replace"] == "yes"))

        fields = [
            Field("path", "File (markdown, text, HTML, CSV or JSON)", placeholder="~/notes/runbook.md",
                  required=True),
            Field("namespace", "Namespace", value=default, choices=[(n, n) for n in spaces]),
            Field("tags", "Tags (comma-separated)", placeholder="ops, runbook"),
            Field("replace", "Replace a file of the same name", value="no", choices=[("no", "no"), ("yes", "yes")]),
        ]
        screen.app.push_screen(FormModal("Ingest a file", fields, submit, submit_label="Ingest",
                                         note="Large files are split in the background; the bar shows progress."),
                               self._ingested)

    def _ingested(self, result: IngestResult | None) -> None:
        screen: Any = self
        if result is None:
            return
        screen.tabs.active = "files"
        if result.job_id:
            self.follow_ingest(result.job_id, result.file.filename)
        else:
            self._show_progress(100, f"Ingested {result.entries_created} entries from {result.file.filename}.")
            screen.load_files()
            screen.load_results()

    def _show_progress(self, percent: int, message: str) -> None:
        screen: Any = self
        box = screen.query_one("#kb-ingest")
        box.add_class("-shown")
        screen.query_one("#kb-ingest-bar", ProgressBar).update(progress=percent)
        screen.query_one("#kb-ingest-label", Label).update(safe(message))

    @work(exclusive=True, group="kb-ingest-follow", exit_on_error=False)
    async def follow_ingest(self, job_id: str, filename: str) -> None:
        """Follow a background ingest until it ends: the bar is the job's progress."""
        screen: Any = self
        while True:
            job = await screen.backend.agent_jobs.get(job_id)
            status = _v(job.status)
            self._show_progress(job.progress, f"{filename}: {job.message or status}")
            if status in TERMINAL:
                break
            await asyncio.sleep(POLL)
        if status == "succeeded":
            result: dict[str, Any] = job.result or {}
            count = result.get("entries_created", 0)
            self._show_progress(100, f"Ingested {count} entries from {filename}.")
            screen.crewos.say(f"Ingested {filename}: {count} entries.")
        else:
            screen.crewos.say(f"Ingesting {filename} {status}: {job.error or job.message}", severity="error")
        screen.load_files()
        screen.load_results()

    # ---- file groups ---------------------------------------------------------------------

    def _selected_file(self) -> Any:
        screen: Any = self
        f = screen.table("files").selected
        if f is None:
            screen.crewos.say("Select a file first.", severity="warning")
        return f

    def action_toggle_visibility(self) -> None:
        f = self._selected_file()
        if f is not None:
            self.run_visibility(f.id, "hidden" if _v(f.visibility) == "visible" else "visible", f.filename)

    @work(group="kb-files-write", exit_on_error=False)
    async def run_visibility(self, file_id: str, visibility: str, filename: str) -> None:
        from ..backend.schemas import KnowledgeFileVisibility
        from ..backend.schemas.knowledge import Visibility

        screen: Any = self
        await screen.backend.knowledge.set_file_visibility(KnowledgeFileVisibility(
            file_id=file_id, visibility=Visibility(visibility)))
        screen.crewos.say(f"{filename} is {visibility} now.")
        screen.load_files()
        screen.load_results()

    def action_delete_file(self) -> None:
        screen: Any = self
        f = self._selected_file()
        if f is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_delete_file(f.id, f.filename)

        screen.app.push_screen(ConfirmModal(
            "Delete the file group?", f"{f.filename} and its {f.entry_count} entries (with their links) are "
            "deleted from the knowledge base.", yes="Delete"), answered)

    @work(group="kb-files-write", exit_on_error=False)
    async def run_delete_file(self, file_id: str, filename: str) -> None:
        screen: Any = self
        gone = await screen.backend.knowledge.delete_file(file_id=file_id)
        screen.crewos.say(f"Deleted {filename} and {gone.entries_deleted} entries.")
        screen.load_files()
        screen.load_results()

    # ---- artifacts --------------------------------------------------------------------------

    def action_open_artifact(self) -> None:
        from ..widgets.forms import FormModal

        screen: Any = self

        async def submit(values: dict[str, str]) -> str:
            token = values["token"].strip()
            if "/attachments/" in token:  # a pasted link works too
                token = token.split("/attachments/", 1)[1].split("/", 1)[0]
            await screen.backend.artifacts.source(token)  # 404 shows in the form
            return token

        def chosen(token: str | None) -> None:
            if token:
                self.show_artifact(token)

        screen.app.push_screen(FormModal("Open an artifact", [Field("token", "Reference token", required=True)],
                                         submit, submit_label="Open"), chosen)

    def show_artifact(self, token: str) -> None:
        from .artifact import ArtifactScreen

        screen: Any = self
        screen.app.push_screen(ArtifactScreen(token))
