"""The validation log (opened from the review screen with ``V``).

Every validation run, newest first — or only the runs of the review item the screen
was opened on (``i`` toggles) — with the highlighted run's per-check findings and
the start of the output it scored. ``f`` cycles passed/failed/all, ``v`` validates
the item again, ``escape`` goes back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Static

from ..widgets.format import one_line, utc
from ..widgets.paged_table import Column, PagedTable
from ..widgets.safe_text import safe
from ..widgets.workers import work
from .base import reload_binding
from .paged_list import PagedListScreen

if TYPE_CHECKING:
    from ..backend.schemas import ValidationResult

PAGE = 50
RESULTS = ("all", "failed", "passed")


def _str(value: Any) -> str:
    return str(getattr(value, "value", value))


RUN_COLUMNS: list[Column[ValidationResult]] = [
    Column("result", "Result", lambda r: Text("pass", style="green") if r.passed else Text("FAIL", style="bold red"),
           lambda r: r.passed, width=6),
    Column("score", "Score", lambda r: f"{r.score:>3}/{r.threshold}", lambda r: r.score, width=7),
    Column("when", "When (UTC)", lambda r: utc(r.created_at), lambda r: r.created_at, width=16),
    Column("what", "Label / source", lambda r: Text(r.label or r.source, overflow="ellipsis", no_wrap=True),
           lambda r: r.label or r.source, width=30),
]


def run_detail(r: ValidationResult | None) -> Any:
    if r is None:
        return Text("No validation runs here. v (on the review screen) validates an item.", style="dim italic")
    verdict = Text("passed", style="green") if r.passed else Text("failed", style="bold red")
    who = f"{utc(r.created_at)} UTC · {r.actor or 'system'} · {r.source}" + (f" · {r.label}" if r.label else "")
    what = f"{_str(r.format)} · {r.output_chars} chars · {r.output_words} words" + (
        f" · item {r.item_id}" if r.item_id else "")
    head = Text.assemble(("Validation ", "bold"), verdict, (f" · {r.score}/100, threshold {r.threshold}", "bold"),
                         "\n", (who, "dim"), "\n", (what, "dim"))
    parts: list[Any] = [head, Text("")]
    if not r.findings:
        parts.append(Text("No checks were configured.", style="dim"))
    for f in r.findings:
        mark = "✓" if f.passed else ("✗!" if f.blocking else "✗")
        parts.append(Text(f"{mark} {_str(f.check)}: {f.message} ({f.score}, weight {f.weight})",
                          style="" if f.passed else "red"))
        for d in f.details[:8]:
            parts.append(Text(f"    {one_line(d, 100)}", style="dim"))
    if r.output_excerpt:
        parts += [Text("\nOutput (start):", style="bold"), Text(r.output_excerpt)]
    return Group(*parts)


class ValidationsScreen(PagedListScreen):
    CSS_PATH = "../styles/review.tcss"
    AUTO_FOCUS = "#validations-table"
    detail_of = staticmethod(run_detail)
    BINDINGS = [
        Binding("escape", "back", "Back", id="validations.back"),
        Binding("v", "validate", "Validate item", tooltip="Validate the review item again",
                id="validations.validate"),
        Binding("i", "toggle_item", "This item/all", tooltip="Only this item's runs, or every run",
                id="validations.item"),
        Binding("f", "cycle_result", "Pass/fail", tooltip="Show all, failed or passed runs", id="validations.result"),
        reload_binding("validations"),
    ]

    def __init__(self, item_id: str | None = None, item_title: str = "") -> None:
        super().__init__(id="validations")
        self.item_id = item_id
        self.item_title = item_title
        self.only_item = item_id is not None
        self.result = "all"

    def compose(self) -> ComposeResult:
        yield Static("", id="validations-header")
        with Horizontal(id="validations-body"):
            yield PagedTable(RUN_COLUMNS, lambda r: r.id, empty="No validation runs here.", id="validations-table")
            with VerticalScroll(id="validations-detail-pane"):
                yield Static(safe(run_detail(None)), id="validations-detail")
        yield Footer(compact=True)

    def _header(self) -> None:
        scope = f"item: {self.item_title or self.item_id}" if self.only_item else "every run I can see"
        self.query_one("#validations-header", Static).update(safe(Text.assemble(
            ("Validation log", "bold"), (f"  [{scope} · {self.result}]", "dim"), no_wrap=True, overflow="ellipsis")))

    def reload(self) -> None:
        self._header()
        self.load_rows()

    async def fetch_page(self, cursor: str | None = None) -> Any:
        passed = None if self.result == "all" else self.result == "passed"
        page = await self.backend.validation.logs(limit=PAGE, cursor=cursor, passed=passed,
                                                  item_id=self.item_id if self.only_item else None)
        return page.items, page.next_cursor

    # ---- actions ---------------------------------------------------------------------

    def action_toggle_item(self) -> None:
        if self.item_id is None:
            self.app.say("Opened without an item: every run is shown.", severity="warning")  # type: ignore[attr-defined]
            return
        self.only_item = not self.only_item
        self.reload()

    def action_cycle_result(self) -> None:
        self.result = RESULTS[(RESULTS.index(self.result) + 1) % len(RESULTS)]
        self.reload()

    @work(exclusive=True, group="validations-run", exit_on_error=False)
    async def action_validate(self) -> None:
        from ..backend.schemas import ValidationRequest

        if self.item_id is None:
            self.app.say("Open the log from an item (V on the review screen) to validate it.",  # type: ignore[attr-defined]
                         severity="warning")
            return
        result = await self.backend.validation.validate(ValidationRequest(item_id=self.item_id,
                                                                          label="review screen"))
        self.app.say(f"Validation: {result.score}/100, {'passed' if result.passed else 'failed'}.",  # type: ignore[attr-defined]
                     severity="information" if result.passed else "warning")
        await self.refill(select=result.id)
