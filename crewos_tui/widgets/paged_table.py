"""A DataTable over one paged list of wire models.

It keeps the models it shows (so sorting uses real values, not rendered text),
keeps the cursor on the same row across reloads, and asks its screen for the
next page (``NeedMore``) when the cursor reaches the last row and the backend
said there is more. Fetching stays with the screen, so every backend call runs
in a screen worker and failures land in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from rich.cells import cell_len
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from .safe_text import safe_renderable

if TYPE_CHECKING:
    from ..backend.schemas import Page

T = TypeVar("T")

_PLACEHOLDER = "__placeholder__"  # key of the one dim row shown when empty or loading


@dataclass(frozen=True)
class Column(Generic[T]):
    key: str
    label: str
    cell: Callable[[T], Any]  # str (shown literally, never as markup) or rich renderable
    sort: Callable[[T], Any] | None = None  # None: not sortable
    width: int | None = None


class PagedTable(DataTable[Any], Generic[T]):
    class NeedMore(Message):
        """The cursor reached the last loaded row and there is a next page."""

        def __init__(self, table: PagedTable[Any]) -> None:
            super().__init__()
            self.table = table

    def __init__(
        self,
        columns: Sequence[Column[T]],
        row_key: Callable[[T], str],
        *,
        empty: str = "Nothing here.",
        id: str | None = None,
        autofocus: bool = False,
        fill: str | None = None,
    ) -> None:
        """``fill``: the key of the column that takes the width the others leave (a title);
        the others keep their own widths (fixed, or as wide as their widest cell)."""
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._columns = list(columns)
        self._row_key = row_key
        self._empty = empty
        self._items: list[T] = []
        self._by_key: dict[str, T] = {}
        self.next_cursor: str | None = None
        self.fetching = False  # a page request is in flight
        self.generation = 0  # bumped on reset; a late page of an older list is dropped
        self.sort_column: str | None = None
        self.sort_reverse = False
        self._autofocus = autofocus
        self._fill = fill
        self._widths: dict[str, int] = {}  # each column's drawn width, for the fill column's share

    def on_mount(self) -> None:
        for col in self._columns:
            self.add_column(col.label, key=col.key, width=col.width)
        self.show_placeholder("Loading…")
        # A table mounted lazily (after the first frame) misses the screen's
        # AUTO_FOCUS; take focus if nothing else has it.
        if self._autofocus and self.screen.focused is None:
            self.focus()

    # ---- content -------------------------------------------------------------------

    @property
    def items(self) -> list[T]:
        return list(self._items)

    @property
    def selected(self) -> T | None:
        """The model under the cursor (None when the table is empty)."""
        if not self._items or self.row_count == 0:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self._by_key.get(key or "")

    def show_placeholder(self, text: str) -> None:
        self._items, self._by_key, self.next_cursor = [], {}, None
        self._add_placeholder(text)

    def reset(self, items: Sequence[T], next_cursor: str | None) -> None:
        """Replace the rows with a first page; the cursor stays on the same item if present."""
        keep = self.selected
        self.generation += 1
        self._items = list(items)
        self.next_cursor = next_cursor
        self._redraw(self._row_key(keep) if keep is not None else None)

    def extend(self, items: Sequence[T], next_cursor: str | None) -> None:
        """Append the next page; the cursor stays where it was."""
        keep = self.selected
        known = set(self._by_key)
        self._items.extend(i for i in items if self._row_key(i) not in known)
        self.next_cursor = next_cursor
        self._redraw(self._row_key(keep) if keep is not None else None)

    def select_key(self, key: str) -> bool:
        """Move the cursor to the row of ``key``; False when it is not loaded."""
        if key not in self._by_key:
            return False
        self.move_cursor(row=self.get_row_index(key))
        return True

    # ---- sorting -------------------------------------------------------------------

    def sortable_columns(self) -> list[str]:
        return [c.key for c in self._columns if c.sort is not None]

    def sort_by(self, column: str | None, reverse: bool = False) -> None:
        """Sort the loaded rows (None: back to the backend's order)."""
        self.sort_column, self.sort_reverse = column, reverse
        keep = self.selected
        self._redraw(self._row_key(keep) if keep is not None else None)

    def cycle_sort(self) -> None:
        """Next sortable column (after the last one: the backend's order)."""
        keys = self.sortable_columns()
        if not keys:
            return
        if self.sort_column not in keys:
            self.sort_by(keys[0], self.sort_reverse)
        else:
            i = keys.index(self.sort_column) + 1
            self.sort_by(keys[i] if i < len(keys) else None, self.sort_reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = event.column_key.value
        if column in self.sortable_columns():
            same = column == self.sort_column
            self.sort_by(column, reverse=not self.sort_reverse if same else False)

    # ---- paging --------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if (event.cursor_row >= self.row_count - 1 and self.next_cursor
                and not self.fetching and self._items):
            self.post_message(self.NeedMore(self))

    # ---- drawing -------------------------------------------------------------------

    def _ordered(self) -> list[T]:
        col = next((c for c in self._columns if c.key == self.sort_column and c.sort), None)
        if col is None or col.sort is None:
            return list(self._items)
        return sorted(self._items, key=col.sort, reverse=self.sort_reverse)

    def _add_placeholder(self, text: str) -> None:
        """One dim row saying why the table is empty, whole: in the first column, sized to
        it while the table is empty (a one-cell marker column would cut it to "N")."""
        self.clear(columns=True)
        self.show_header = False  # headers over one sentence would only be pushed aside by it
        for i, col in enumerate(self._columns):
            self.add_column(Text(col.label), key=col.key, width=None if i == 0 else col.width)
        self._widths = {col.key: max(self._label_width(col), cell_len(text)) if i == 0
                        else col.width if col.width is not None else self._label_width(col)
                        for i, col in enumerate(self._columns)}
        self.add_row(*self._pad(Text(text, style="dim italic")), key=_PLACEHOLDER)
        self._fit_fill()

    def _pad(self, first: Any) -> list[Any]:
        return [first] + [""] * (len(self._columns) - 1)

    def on_resize(self) -> None:
        self._fit_fill()

    def _fit_fill(self) -> None:
        """Give the ``fill`` column what the other columns leave of the table's width."""
        if self._fill is None or self._fill not in self.columns:
            return
        pad = 2 * self.cell_padding
        used = pad + sum(pad + self._widths.get(col.key, 0) for col in self._columns if col.key != self._fill)
        fill = self.columns[self._fill]  # pyright: ignore[reportArgumentType]  (a ColumnKey equals its str)
        width = max(cell_len(str(fill.label)), self.scrollable_content_region.width - used)
        if fill.auto_width or fill.width != width:
            fill.auto_width, fill.width = False, width
            self._require_update_dimensions = True
            self._clear_caches()
            self.refresh()

    def _label_width(self, spec: Column[T]) -> int:
        return cell_len(spec.label) + (2 if spec.key == self.sort_column else 0)  # " ▲"

    def _redraw(self, keep_key: str | None) -> None:
        self._by_key = {self._row_key(i): i for i in self._items}
        if not self._items:
            self._add_placeholder(self._empty)
            return
        ordered = self._ordered()
        # Cells hold backend text: a str is shown literally, control characters visibly.
        # Drawn once; the column widths are measured from what is drawn, here rather than
        # at the DataTable's next idle (until then a frame showed every column as wide as
        # its label: "Quar archiv owne").
        rows = [[safe_renderable(c.cell(item)) for c in self._columns] for item in ordered]
        self._widths = {col.key: col.width if col.width is not None
                        else max([self._label_width(col), *(_drawn_width(row[i]) for row in rows)])
                        for i, col in enumerate(self._columns)}
        # Columns are rebuilt too, so widths fit the rows shown now (not an old
        # placeholder's text) and the sort arrow sits on the right header.
        self.clear(columns=True)
        for col in self._columns:
            arrow = (" ▼" if self.sort_reverse else " ▲") if col.key == self.sort_column else ""
            self.add_column(Text(col.label + arrow), key=col.key, width=self._widths[col.key])
        self.show_header = True
        for item, row in zip(ordered, rows, strict=True):
            self.add_row(*row, key=self._row_key(item))
        if keep_key is not None:
            self.select_key(keep_key)
        self._fit_fill()


def _drawn_width(cell: Any) -> int:
    """Cells a drawn cell takes: its widest line (a control character drawn as one cell)."""
    plain = cell.plain if isinstance(cell, Text) else str(getattr(cell, "plain", cell))
    return max(cell_len(line) for line in plain.split("\n"))


#: Most pages ``reveal`` fetches looking for one row (50 rows a page: a few thousand rows back).
REVEAL_PAGES = 40


async def reveal(table: PagedTable[T], key: str, next_page: Callable[[str], Awaitable[Page[T]]],
                 pages: int = REVEAL_PAGES) -> bool:
    """Put the cursor on the row of ``key``, fetching further pages (``next_page(cursor)``)
    until it is loaded; False when the list ends (or ``pages`` run out) without it, or when
    the table was reset meanwhile (a newer list took over)."""
    generation = table.generation
    for _ in range(pages):
        if table.select_key(key):
            return True
        cursor = table.next_cursor
        if not cursor:
            return False
        table.fetching = True
        try:
            page = await next_page(cursor)
        finally:
            table.fetching = False
        if generation != table.generation:
            return False
        table.extend(page.items, page.next_cursor)
    return table.select_key(key)
