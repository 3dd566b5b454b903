"""One generated artifact: its source, its revisions, and what can be done with it.

Pushed from the knowledge screen (the Generated tab, or ``o`` with a reference token)
and from anywhere else that holds a token: ``app.push_screen(ArtifactScreen(token))``.

``e`` edits the source (project editors; ``esc`` leaves the editor), ``ctrl+s`` saves it
as a new revision, ``ctrl+l`` runs the layout cleanup (a ctrl key: the cleanup saves a
revision, so no stray letter may start it), ``w`` writes the shown revision to a
file, ``enter`` on a revision shows it (read-only), ``esc`` closes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static, TextArea

from ..widgets.form_fields import Field, FieldError
from ..widgets.format import size, utc
from ..widgets.safe_text import literal, safe, visible_source
from ..widgets.workers import work
from .base import ReportsWorkerErrors

if TYPE_CHECKING:
    from ..backend.schemas import ArtifactSource


class ArtifactScreen(ReportsWorkerErrors, ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="artifact.close"),
        Binding("e", "edit", "Edit", id="artifact.edit"),
        Binding("ctrl+s", "save", "Save revision", id="artifact.save"),
        Binding("ctrl+l", "cleanup", "Cleanup", tooltip="Tidy the layout (a new revision)", id="artifact.cleanup"),
        Binding("w", "write_file", "Save to file", id="artifact.write"),
    ]

    def __init__(self, token: str) -> None:
        super().__init__(classes="artifact-modal")
        self.token = token
        self.artifact: ArtifactSource | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="artifact-box"):
            yield Label("Artifact", classes="dialog-title", id="artifact-title")
            yield Static(Text("Loading…", style="dim italic"), id="artifact-meta")
            with Horizontal(id="artifact-body"):
                yield TextArea("", read_only=True, soft_wrap=True, id="artifact-source")
                yield DataTable(cursor_type="row", zebra_stripes=False, id="artifact-revisions")
            yield Static(Text("e edit · ctrl+s save revision · ctrl+l tidy layout · w save to file · "
                              "enter show revision · esc close", style="dim"), id="artifact-keys")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        if not getattr(self.app, "cursor_blink", True):
            area.cursor_blink = False
        table = cast("DataTable[Any]", self.query_one(DataTable))
        table.add_columns("Rev", "When (UTC)", "By", "Note")
        table.focus()  # keys act on the artifact; e enters the editor
        self.load()

    @property
    def shown_revision(self) -> int | None:
        return self.artifact.revision if self.artifact else None

    @work(exclusive=True, group="artifact-load", exit_on_error=False)
    async def load(self, revision: int | None = None) -> None:
        self.show(await self.app.backend.artifacts.source(self.token, revision=revision))  # type: ignore[attr-defined]

    def show(self, art: ArtifactSource) -> None:
        self.artifact = art
        current = art.revision == art.current_revision
        self.query_one("#artifact-title", Label).update(safe(art.filename))
        state = "editable" if art.editable and current else "read-only"
        note = "" if current else f" · showing revision {art.revision} (enter on the newest to edit)"
        shown = visible_source(art.source)
        if shown != art.source:  # someone else's control characters: drawn as pictures, and an edit keeps those
            note += " · control characters shown as pictures (␛)"
        self.query_one("#artifact-meta", Static).update(safe(Text(
            f"{art.kind.replace('_', ' ')} · {art.content_type} · revision {art.revision} of {art.current_revision}"
            f" · {state} · made by {art.created_by} {utc(art.created_at)} UTC{note}", style="dim")))
        area = self.query_one(TextArea)
        area.load_text(shown)  # never a raw escape in the editor: it would reach the terminal
        area.read_only = not (art.editable and current)
        table = cast("DataTable[Any]", self.query_one(DataTable))
        table.clear()
        for r in art.revisions:
            table.add_row(str(r.revision), utc(r.created_at), literal(r.created_by), literal(r.note or size(r.size)),
                          key=str(r.revision))
        if art.revisions:
            table.move_cursor(row=table.get_row_index(str(art.revision)))

    # ---- actions -------------------------------------------------------------------

    def action_close(self) -> None:
        if isinstance(self.focused, TextArea):  # leave the editor first
            self.query_one(DataTable).focus()
            return
        self.dismiss(None)

    def action_edit(self) -> None:
        area = self.query_one(TextArea)
        if area.read_only:
            self.app.notify("This revision is read-only here (not the newest, or you may only read it).",
                            severity="warning")
            return
        area.focus()

    @on(DataTable.RowSelected, "#artifact-revisions")
    def _revision_chosen(self, event: DataTable.RowSelected) -> None:
        number = int(event.row_key.value or 0)
        if number and number != self.shown_revision:
            self.load(number)

    def action_save(self) -> None:
        art = self.artifact
        if art is None or not art.editable or art.revision != art.current_revision:
            self.app.notify("This revision cannot be edited here.", severity="warning")
            return
        text = self.query_one(TextArea).text
        if text == visible_source(art.source):
            self.app.notify("Nothing changed.", severity="warning")
            return
        self.save_revision(text, art.revision)

    @work(exclusive=True, group="artifact-write", exit_on_error=False)
    async def save_revision(self, text: str, base: int) -> None:
        from ..backend.schemas import ArtifactRevisionCreate

        art = await self.app.backend.artifacts.save_revision(  # type: ignore[attr-defined]
            self.token, ArtifactRevisionCreate(source=text, note="edited in crewos-tui", base_revision=base))
        self.show(art)
        self.app.notify(f"Saved revision {art.revision}.")

    def action_cleanup(self) -> None:
        self.cleanup()

    @work(exclusive=True, group="artifact-write", exit_on_error=False)
    async def cleanup(self) -> None:
        result = await self.app.backend.artifacts.layout_cleanup(self.token)  # type: ignore[attr-defined]
        self.show(result.artifact)
        self.app.notify("Tidied: " + "; ".join(result.changes) if result.changed else "Already tidy.")

    def action_write_file(self) -> None:
        from ..widgets.forms import FormModal

        art = self.artifact
        if art is None:
            return
        revision = art.revision

        async def submit(values: dict[str, str]) -> str:
            target = Path(values["path"]).expanduser()  # noqa: ASYNC240 - path checks; the write is threaded
            if target.is_dir():
                target = target / art.filename
            if target.exists():
                raise FieldError("path", f"{target} exists; choose another name")
            content = await self.app.backend.artifacts.download(self.token, revision=revision)  # type: ignore
            try:
                await asyncio.to_thread(target.write_bytes, content.content)
            except OSError as exc:
                raise FieldError("path", f"cannot write {target}: {exc.strerror or exc}") from None
            return str(target)

        self.app.push_screen(FormModal("Save to a file", [Field("path", "Path", value=str(Path.cwd() / art.filename),
                                                                 required=True)], submit, submit_label="Save"),
                             lambda where: self.app.notify(f"Saved {where}") if where else None)
