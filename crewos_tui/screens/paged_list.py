"""A pushed screen that lists one kind of record, a page at a time, with the
highlighted row's detail beside it (the validation log, capability-gap findings).

A subclass composes a ``PagedTable`` and a ``Static`` with the id
``<screen id>-detail``, and supplies ``fetch_page`` (one page from the backend) and
``detail_of`` (what the detail pane shows for a row, or for none).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, cast

from rich.console import RenderableType
from textual import on
from textual.screen import Screen
from textual.widgets import DataTable, Static

from ..widgets.paged_table import PagedTable
from ..widgets.safe_text import safe
from ..widgets.workers import work
from .base import Reloads, ReportsWorkerErrors

Fetch = Callable[[str | None], Awaitable[tuple[list[Any], str | None]]]


class PagedListScreen(Reloads, ReportsWorkerErrors, Screen[None]):
    # Textual annotates these `ClassVar[...] | None`, which reads as an instance variable.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-narrow"), (120, "-wide")]

    # Supplied by each subclass.
    fetch_page: Fetch
    detail_of: Callable[[Any], RenderableType]

    @property
    def table(self) -> PagedTable[Any]:
        return cast("PagedTable[Any]", self.query_one(PagedTable))

    @property
    def backend(self) -> Any:
        return self.app.backend  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        self.follow_the_connection()
        self.reload()

    def reload(self) -> None:
        self.load_rows()

    async def refill(self, select: str | None = None) -> None:
        """The first page again, optionally with the row ``select`` highlighted."""
        items, cursor = await self.fetch_page(None)
        self.table.reset(items, cursor)
        if select is not None:
            self.table.select_key(select)
        self.show_detail()

    @work(exclusive=True, group="paged-list-load", exit_on_error=False)
    async def load_rows(self) -> None:
        await self.refill()

    @on(PagedTable.NeedMore)
    def _more(self, event: PagedTable.NeedMore) -> None:
        event.stop()
        self.load_more()

    @work(exclusive=True, group="paged-list-more", exit_on_error=False)
    async def load_more(self) -> None:
        if self.table.next_cursor is None:
            return
        items, cursor = await self.fetch_page(self.table.next_cursor)
        self.table.extend(items, cursor)

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        self.query_one(f"#{self.id}-detail", Static).update(safe(self.detail_of(self.table.selected)))

    def action_back(self) -> None:
        self.app.pop_screen()
