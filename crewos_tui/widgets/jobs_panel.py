"""The board's jobs panel: the project's agent jobs with their progress, and a
modal with one job's result. It only displays; the board fetches and acts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Markdown, Static

from .format import one_line, utc
from .safe_text import safe, safe_markdown, safe_renderable

if TYPE_CHECKING:
    from textual import getters
    from textual.app import App

    from ..backend.schemas.agent_jobs import AgentJob

STATUS_STYLE = {"queued": "dim", "running": "bold yellow", "succeeded": "green", "failed": "red",
                "cancelled": "dim italic"}
BAR = 10


def _value(v: Any) -> str:
    return str(getattr(v, "value", v) or "")


def progress_bar(job: AgentJob) -> Text:
    """``███░░░░░░░  30%``: text, so a table row redraws as cheaply as any other."""
    filled = job.progress * BAR // 100
    style = STATUS_STYLE.get(_value(job.status), "")
    return Text.assemble(("█" * filled, style or "green"), ("░" * (BAR - filled), "dim"), f" {job.progress:>3}%")


class JobsPanel(Vertical):
    if TYPE_CHECKING:
        app = getters.app(App[Any])  # Textual's own `app` is App[Unknown]

    DEFAULT_CSS = """
    JobsPanel {
        height: 9; border-top: hkey $panel;
        .panel-title { height: 1; padding: 0 1; }
        DataTable { height: 1fr; }
    }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: list[AgentJob] = []
        self._titles: dict[str, str] = {}
        self._follow: str | None = None  # a job just started: the cursor goes to it when it is listed

    def follow(self, job_id: str) -> None:
        """Put the cursor on ``job_id`` as soon as a refresh lists it (a job the user just started)."""
        self._follow = job_id
        if any(j.id == job_id for j in self.items):
            self.show_jobs(self.items, self._titles)

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("Agent jobs", "bold"), ("  x cancel · enter result · J hide", "dim")),
                     classes="panel-title")
        yield DataTable(cursor_type="row", zebra_stripes=False, id="jobs-table")

    def on_mount(self) -> None:
        table = cast("DataTable[Any]", self.query_one(DataTable))
        table.add_columns("Kind", "Task", "Status", "Progress", "Message", "By", "Queued (UTC)")

    @property
    def selected(self) -> AgentJob | None:
        table = cast("DataTable[Any]", self.query_one(DataTable))
        if not self.items or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((j for j in self.items if j.id == key), None)

    def show_jobs(self, jobs: Sequence[AgentJob], task_titles: Mapping[str, str] | None = None) -> None:
        """Show ``jobs``; ``task_titles`` (task id → title) names the task each job works on."""
        table = cast("DataTable[Any]", self.query_one(DataTable))
        keep = self.selected.id if self.selected else None
        if self._follow is not None and any(j.id == self._follow for j in jobs):
            keep, self._follow = self._follow, None
        self.items = list(jobs)
        self._titles = dict(task_titles or {})
        table.clear()
        if not self.items:
            table.add_row(Text("No agent jobs yet: g runs the worker on a card, u writes a project update.",
                               style="dim italic"), "", "", "", "", "", "", key="__none__")
            return
        for job in self.items:
            status = _value(job.status) + (" (stopping)" if job.cancel_requested and _value(job.status) == "running"
                                           else "")
            message = job.error if _value(job.status) == "failed" and job.error else job.message
            # The task's title is other people's text: a literal, one line, cut to fit.
            task = one_line(self._titles.get(job.task_id, "…"), 28) if job.task_id else "—"
            cells = (job.kind, task, Text(status, style=STATUS_STYLE.get(_value(job.status), "")), progress_bar(job),
                     one_line(message or "", 40), job.created_by, utc(job.created_at))
            table.add_row(*(safe_renderable(c) for c in cells), key=job.id)
        if keep is not None and any(j.id == keep for j in self.items):
            table.move_cursor(row=table.get_row_index(keep))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        job = self.selected
        if job is not None:
            self.app.push_screen(JobResultScreen(job))


class JobResultScreen(ModalScreen[None]):
    """One job: its status, events summary and result (markdown when it has some)."""

    if TYPE_CHECKING:
        app = getters.app(App[Any])  # Textual's own `app` is App[Unknown]

    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="job_result.close"),
                Binding("o", "open_artifact", "Open artifact", id="job_result.artifact")]  # knowledge slice
    DEFAULT_CSS = """
    JobResultScreen {
        #job-result-body { height: 1fr; }
    }
    """

    def __init__(self, job: AgentJob) -> None:
        super().__init__(classes="job-result")
        self.job = job

    def compose(self) -> ComposeResult:
        job = self.job
        with Vertical(classes="dialog", id="job-result-box"):
            yield Label(safe(f"{job.kind} · {_value(job.status)}"), classes="dialog-title")
            meta = (f"queued by {job.created_by} {utc(job.created_at)} UTC · attempts {job.attempts} · "
                    f"health {job.health.state}")
            yield Static(safe(Text(meta, style="dim")), classes="dialog-note")
            with VerticalScroll(id="job-result-body"):
                result = job.result or {}
                if job.error:
                    yield Static(safe(Text(f"Error: {job.error}", style="red")))
                if isinstance(result.get("markdown"), str):
                    yield Markdown(safe_markdown(result["markdown"]), open_links=False)
                elif result:
                    lines = "\n".join(f"- **{k}**: {v}" for k, v in sorted(result.items()))
                    yield Markdown(safe_markdown(lines), open_links=False)
                elif not job.error:
                    yield Static(safe(Text(job.message or "No result yet.", style="dim italic")))
            has_artifact = bool((job.result or {}).get("artifact_token"))  # knowledge slice
            yield Static(Text("o open artifact · esc close" if has_artifact else "esc close", style="dim"))

    def on_mount(self) -> None:
        box = self.query_one("#job-result-box")
        box.styles.width, box.styles.height = 100, "90%"  # wider than the app's .dialog

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)

    def action_open_artifact(self) -> None:
        """A project update leaves an HTML artifact: view, edit, save it (knowledge slice)."""
        token = (self.job.result or {}).get("artifact_token")
        if not token:
            self.app.notify("This job left no artifact.", severity="warning")
            return
        from ..screens.artifact import ArtifactScreen

        self.app.push_screen(ArtifactScreen(str(token)))
