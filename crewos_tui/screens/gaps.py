"""Capability-gap findings (opened from the review screen with ``g``).

The findings list, newest first, with the highlighted finding's summary and evidence
beside or below it. ``enter`` opens the finding (all its evidence, and the same
keys). ``n`` runs a new report, ``k`` acknowledges, ``x`` resolves, ``w`` marks
won't-fix, ``t`` turns the finding into a task in a project you choose, ``f`` cycles
the status shown, ``escape`` goes back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, Static

from ..widgets.format import utc
from ..widgets.forms import Field, FormModal
from ..widgets.paged_table import Column, PagedTable
from ..widgets.safe_text import safe
from ..widgets.workers import work
from .base import reload_binding
from .paged_list import PagedListScreen

if TYPE_CHECKING:
    from ..backend.schemas import CapabilityGapFinding

PAGE = 50
STATUSES = ("live", "open", "acknowledged", "resolved", "wont_fix", "all")
STATUS_LABEL = {"acknowledged": "ack'd", "wont_fix": "won't fix"}
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "dim"}


def _str(value: Any) -> str:
    return str(getattr(value, "value", value))


FINDING_COLUMNS: list[Column[CapabilityGapFinding]] = [
    Column("severity", "Sev", lambda f: Text(_str(f.severity)[:4], style=SEVERITY_STYLE.get(_str(f.severity), "")),
           lambda f: ["low", "medium", "high", "critical"].index(_str(f.severity)), width=4),
    Column("status", "Status", lambda f: STATUS_LABEL.get(_str(f.status), _str(f.status)), lambda f: _str(f.status),
           width=8),
    Column("n", "N", lambda f: str(f.evidence_count), lambda f: f.evidence_count, width=3),
    Column("title", "Finding", lambda f: Text(f.title, overflow="ellipsis", no_wrap=True), lambda f: f.title,
           width=44),
]


def finding_detail(f: CapabilityGapFinding | None) -> Any:
    if f is None:
        return Text("No findings. n runs a report over recent failures.", style="dim italic")
    head = Text.assemble((f.title, "bold"), "\n", (f"{_str(f.severity)} · {_str(f.status)} · {f.capability}", "dim"),
                         "\n", (f"found {utc(f.created_at)} UTC · updated {utc(f.updated_at)} UTC", "dim"))
    parts: list[Any] = [head, Text(""), Text(f.summary)]
    if f.task_id:
        parts.append(Text(f"Task: {f.task_id}", style="green"))
    if f.status_note:
        parts.append(Text(f"Note ({f.status_changed_by}): {f.status_note}", style="dim"))
    parts.append(Text(f"\nEvidence ({f.evidence_count}):", style="bold"))
    for e in f.evidence:
        when = f"{utc(e.at)} " if e.at else ""
        parts.append(Text(f"- {when}{e.source} {e.title}: {e.detail}"))
    return Group(*parts)


class FindingModal(ModalScreen[str | None]):
    """One finding in full. Answers the next step: a status, ``"task"``, or None."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="finding.close"),
        Binding("t", "choose('task')", "Task", tooltip="Create a task from the finding", id="finding.task"),
        Binding("k", "choose('acknowledged')", "Ack", tooltip="Acknowledge", id="finding.ack"),
        Binding("x", "choose('resolved')", "Resolved", id="finding.resolve"),
        Binding("w", "choose('wont_fix')", "Won't fix", id="finding.wont_fix"),
    ]

    def __init__(self, finding: CapabilityGapFinding) -> None:
        super().__init__(classes="form-modal")
        self.finding = finding

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="finding-box"):
            yield Label(safe(f"Finding {self.finding.id}"), classes="dialog-title")
            with VerticalScroll(id="finding-body"):
                yield Static(safe(finding_detail(self.finding)), id="finding-detail")
            yield Static(Text("t task · k ack · x resolved · w won't fix · esc close", style="dim"),
                         classes="dialog-note")

    def on_mount(self) -> None:
        self.query_one("#finding-body", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_choose(self, step: str) -> None:
        self.dismiss(step)


class GapsScreen(PagedListScreen):
    CSS_PATH = "../styles/review.tcss"
    AUTO_FOCUS = "#gaps-table"
    detail_of = staticmethod(finding_detail)
    BINDINGS = [
        Binding("escape", "back", "Back", id="gaps.back"),
        Binding("enter", "open_finding", "Open", tooltip="The finding with all its evidence", id="gaps.open"),
        Binding("n", "run_report", "New report", id="gaps.run"),
        Binding("k", "set_status('acknowledged')", "Ack", tooltip="Acknowledge", id="gaps.ack"),
        Binding("x", "set_status('resolved')", "Resolved", id="gaps.resolve"),
        Binding("w", "set_status('wont_fix')", "Won't fix", id="gaps.wont_fix"),
        Binding("t", "create_task", "Task", tooltip="Create a task from the finding", id="gaps.task"),
        Binding("f", "cycle_status", "Status", tooltip="Show open/acknowledged/resolved/…", id="gaps.status"),
        reload_binding("gaps"),
    ]

    def __init__(self) -> None:
        super().__init__(id="gaps")
        self.status = "live"

    def compose(self) -> ComposeResult:
        yield Static("", id="gaps-header")
        with Horizontal(id="gaps-body"):
            yield PagedTable(FINDING_COLUMNS, lambda f: f.id, empty="No findings here. n runs a report.",
                             id="gaps-table")
            with VerticalScroll(id="gaps-detail-pane"):
                yield Static(safe(finding_detail(None)), id="gaps-detail")
        yield Footer(compact=True)

    def _header(self, extra: str = "") -> None:
        shown = "open + acknowledged" if self.status == "live" else self.status.replace("_", " ")
        self.query_one("#gaps-header", Static).update(safe(Text.assemble(
            ("Capability gaps", "bold"), (f"  [{shown}]  ", "dim"), extra, no_wrap=True, overflow="ellipsis")))

    def reload(self) -> None:
        self._header()
        self.load_rows()

    async def fetch_page(self, cursor: str | None = None) -> Any:
        if self.status == "live":
            # "Live" = open and acknowledged: two short lists, newest first.
            opened = await self.backend.capability_gaps.list_findings(limit=PAGE, status="open")
            acked = await self.backend.capability_gaps.list_findings(limit=PAGE, status="acknowledged")
            items = sorted([*opened.items, *acked.items], key=lambda f: f.id, reverse=True)
            return items, None
        page = await self.backend.capability_gaps.list_findings(
            limit=PAGE, cursor=cursor, status=None if self.status == "all" else self.status)
        return page.items, page.next_cursor

    @on(DataTable.RowSelected, "#gaps-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_finding()

    # ---- actions ---------------------------------------------------------------------

    def action_open_finding(self) -> None:
        finding = self.table.selected
        if finding is None:
            return

        def next_step(step: str | None) -> None:
            if step == "task":
                self.action_create_task()
            elif step is not None:
                self.action_set_status(step)

        self.app.push_screen(FindingModal(finding), next_step)

    def action_cycle_status(self) -> None:
        self.status = STATUSES[(STATUSES.index(self.status) + 1) % len(STATUSES)]
        self.reload()

    @work(exclusive=True, group="gaps-run", exit_on_error=False)
    async def action_run_report(self) -> None:
        from ..backend.schemas import CapabilityGapReportRun

        self._header("running a report…")
        report = await self.backend.capability_gaps.run_report(CapabilityGapReportRun())
        counts = ", ".join(f"{n} {s}" for s, n in report.severity_counts.items() if n) or "no gaps"
        self.app.say(f"Report {report.id}: {len(report.findings)} findings ({counts}).")  # type: ignore[attr-defined]
        self.reload()

    @work(exclusive=True, group="gaps-write", exit_on_error=False)
    async def action_set_status(self, status: str) -> None:
        from ..backend.schemas import FindingStatusUpdate
        from ..backend.schemas.capability_gaps import GapStatus

        finding = self.table.selected
        if finding is None:
            return
        updated = await self.backend.capability_gaps.update_finding_status(finding.id,
                                                                           FindingStatusUpdate(status=GapStatus(status)))
        self.app.say(f"{updated.title}: {_str(updated.status).replace('_', ' ')}.")  # type: ignore[attr-defined]
        self.reload()

    @work(exclusive=True, group="gaps-task", exit_on_error=False)
    async def action_create_task(self) -> None:
        finding = self.table.selected
        if finding is None:
            return
        projects = await self.backend.projects.list(limit=200, status="active")
        choices = [(p.name, p.id) for p in projects.items]
        if finding.project_id:
            choices = [c for c in choices if c[1] == finding.project_id] or choices
        if not choices:
            self.app.say("No active project to put the task in.", severity="warning")  # type: ignore[attr-defined]
            return

        async def submit(values: dict[str, str]) -> Any:
            from ..backend.schemas import FindingTaskCreate

            return await self.backend.capability_gaps.create_task(finding.id, FindingTaskCreate(
                project_id=values["project"], title=values["title"] or None))

        fields = [Field("project", "Project", value=choices[0][1], choices=choices),
                  Field("title", "Task title", value=f"Capability gap: {finding.title}"[:200])]

        def done(result: Any) -> None:
            if result is not None:
                self.app.say(f"Created task {result.title}.")  # type: ignore[attr-defined]
                self.reload()

        def form(project_id: str | None) -> None:
            if project_id:
                fields[0] = Field("project", "Project", value=project_id, choices=[c for c in choices
                                                                                   if c[1] == project_id])
                self.app.push_screen(FormModal("Create a task from the finding", fields, submit,
                                               submit_label="Create"), done)

        if len(choices) == 1:
            form(choices[0][1])
        else:  # the finding names no project: the one project picker chooses it
            from ..widgets.project_picker import ProjectPicker

            self.app.push_screen(ProjectPicker(projects.items, None, title="Put the task in which project?"), form)
