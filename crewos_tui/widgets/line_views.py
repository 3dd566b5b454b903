"""Two widgets on Textual's line API, for screens where a keypress must repaint in a
few milliseconds even over SSH: a paged list with a cursor and a fixed header
(``QueueList``), and a scrollable pane of pre-rendered Rich output (``LinePane``).

Neither changes its size when its content changes, so an update never triggers a
layout pass; each caches rendered lines (rows by item version, panes by a key the
caller gives), so moving the cursor or showing an item seen before costs a
repaint of the visible lines only. ``DataTable`` re-renders every visible cell
after any cell update, and a ``Static`` in a scroll container re-runs layout on
every change: fine for most screens, too slow for clearing a queue key by key.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from rich.console import RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .safe_text import clean_text, literal

if TYPE_CHECKING:
    from textual import getters
    from textual.app import App

T = TypeVar("T")


@dataclass(frozen=True)
class ListColumn(Generic[T]):
    key: str
    label: str
    cell: Callable[[T], Text | str]
    width: int | None = None  # None: takes the room the others leave (one such column)


class QueueList(ScrollView, Generic[T], can_focus=True):
    """Rows of items under a one-line header; ``up``/``down``/``pageup``/``pagedown``/
    ``home``/``end`` move the cursor, a click selects. It posts ``Highlighted`` when the
    cursor moves and ``NeedMore`` when it reaches the last loaded row and there is more."""

    if TYPE_CHECKING:
        app = getters.app(App[Any])  # Textual's own `app` is App[Unknown]

    DEFAULT_CSS = """
    QueueList { background: $surface; scrollbar-size-vertical: 1; }
    QueueList > .queue-list--header { text-style: bold; background: $panel; color: $foreground; }
    QueueList > .queue-list--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    QueueList:blur > .queue-list--cursor {
        background: $block-cursor-blurred-background; color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    QueueList > .queue-list--empty { color: $text-muted; text-style: italic; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "queue-list--header", "queue-list--cursor", "queue-list--empty"}
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
    ]

    class Highlighted(Message):
        def __init__(self, queue: QueueList[Any], item: Any) -> None:
            super().__init__()
            self.queue = queue
            self.item = item

        @property
        def control(self) -> QueueList[Any]:
            return self.queue

    class NeedMore(Message):
        def __init__(self, queue: QueueList[Any]) -> None:
            super().__init__()
            self.queue = queue

        @property
        def control(self) -> QueueList[Any]:
            return self.queue

    def __init__(self, columns: Sequence[ListColumn[T]], key: Callable[[T], str], *, empty: str = "Nothing here.",
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self._columns = list(columns)
        self._key = key
        self._empty = empty
        self._items: list[T] = []
        self._index: dict[str, int] = {}
        self._versions: dict[str, int] = {}
        self._cache: dict[Hashable, Strip] = {}
        self.cursor = 0
        self.next_cursor: str | None = None
        self.fetching = False
        self.generation = 0  # bumped on reset: a late page of an older list is dropped
        self.placeholder: str | None = "Loading…"

    # ---- content ---------------------------------------------------------------------

    @property
    def items(self) -> list[T]:
        return list(self._items)

    def row_ids(self) -> list[str]:
        return [self._key(i) for i in self._items]

    @property
    def selected(self) -> T | None:
        return self._items[self.cursor] if 0 <= self.cursor < len(self._items) else None

    def get(self, key: str) -> T | None:
        i = self._index.get(key)
        return self._items[i] if i is not None else None

    def reset(self, items: Sequence[T], next_cursor: str | None) -> None:
        """Replace the rows; the cursor stays on the same item when it is still there."""
        keep = self.selected
        self.generation += 1
        self._set(list(items))
        self.next_cursor = next_cursor
        self.placeholder = None
        target = self._index.get(self._key(keep)) if keep is not None else None
        self._move_to(target if target is not None else min(self.cursor, max(len(self._items) - 1, 0)), True)

    def extend(self, items: Sequence[T], next_cursor: str | None) -> None:
        known = set(self._index)
        self._set(self._items + [i for i in items if self._key(i) not in known])
        self.next_cursor = next_cursor
        self.refresh()

    def show_placeholder(self, text: str) -> None:
        self.placeholder = text
        self._set([])
        self.refresh()

    def _set(self, items: list[T]) -> None:
        self._items = items
        self._index = {self._key(i): n for n, i in enumerate(items)}
        self._cache.clear()
        self.virtual_size = Size(self.size.width, len(items) + 1)

    def refresh_item(self, key: str) -> None:
        """Redraw one row (its cells read the screen's state again)."""
        if key in self._index:
            self._versions[key] = self._versions.get(key, 0) + 1
            self.refresh_lines(self._index[key] + 1)

    # ---- the cursor ------------------------------------------------------------------

    def select_key(self, key: str) -> bool:
        i = self._index.get(key)
        if i is None:
            return False
        self._move_to(i)
        return True

    def _move_to(self, index: int, force: bool = False) -> None:
        if not self._items:
            self.cursor = 0
            self.refresh()
            if force:
                self.post_message(self.Highlighted(self, None))
            return
        index = max(0, min(index, len(self._items) - 1))
        changed, old = index != self.cursor, self.cursor
        self.cursor = index
        top = int(self.scroll_y)
        self._scroll_to_cursor()
        if force or int(self.scroll_y) != top:
            self.refresh()
        elif changed:  # repaint just the two rows (virtual line = row + 1, under the header)
            self.refresh_lines(old + 1)
            self.refresh_lines(index + 1)
        if changed or force:
            self.post_message(self.Highlighted(self, self._items[index]))
        if index == len(self._items) - 1 and self.next_cursor and not self.fetching:
            self.post_message(self.NeedMore(self))

    def _rows_visible(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_y)
        visible = self._rows_visible()
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    def action_move(self, step: int) -> None:
        self._move_to(self.cursor + step)

    def action_page(self, step: int) -> None:
        self._move_to(self.cursor + step * self._rows_visible())

    def action_jump(self, where: int) -> None:
        self._move_to(0 if where == 0 else len(self._items) - 1)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self._move_to(int(self.scroll_y) + event.y - 1)

    def on_resize(self) -> None:
        self._cache.clear()
        self.virtual_size = Size(self.size.width, len(self._items) + 1)

    def on_focus(self) -> None:
        self._cache.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._cache.clear()
        self.refresh()

    # ---- drawing ---------------------------------------------------------------------

    def _widths(self, width: int) -> list[int]:
        fixed = sum(c.width or 0 for c in self._columns) + len(self._columns)  # a space before each
        return [c.width if c.width is not None else max(4, width - fixed) for c in self._columns]

    def _line(self, cells: Sequence[Text | str], width: int, style: Style) -> Strip:
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        for col_width, cell in zip(self._widths(width), cells, strict=True):
            text = clean_text(cell) if isinstance(cell, Text) else literal(str(cell))  # controls made visible
            text.truncate(col_width, overflow="ellipsis", pad=True)
            line.append(" ")
            line.append_text(text)
        segments = list(line.render(self.app.console))
        return Strip(Segment.apply_style(segments, style), line.cell_len).crop_extend(0, width, style)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header = base + self.get_component_rich_style("queue-list--header")
            key = ("header", width, header)
            if key not in self._cache:
                self._cache[key] = self._line([c.label for c in self._columns], width, header)
            return self._cache[key]
        index = int(self.scroll_y) + y - 1
        if not self._items:
            if y == 1:
                style = base + self.get_component_rich_style("queue-list--empty")
                return Strip([Segment(" " + (self.placeholder or self._empty), style)]).crop_extend(0, width, base)
            return Strip.blank(width, base)
        if index >= len(self._items):
            return Strip.blank(width, base)
        item = self._items[index]
        item_key = self._key(item)
        is_cursor = index == self.cursor
        key = (item_key, self._versions.get(item_key, 0), is_cursor, width)
        strip = self._cache.get(key)
        if strip is None:
            style = base + self.get_component_rich_style("queue-list--cursor") if is_cursor else base
            strip = self._line([c.cell(item) for c in self._columns], width, style)
            self._cache[key] = strip
        return strip



class LinePane(ScrollView, can_focus=False):
    """A scrollable pane showing one Rich renderable, rendered to lines once per
    (key, width); showing something already rendered is a repaint only."""

    if TYPE_CHECKING:
        app = getters.app(App[Any])  # Textual's own `app` is App[Unknown]

    DEFAULT_CSS = "LinePane { background: $surface; scrollbar-size-vertical: 1; }"
    CACHE_SIZE = 64

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._renderable: RenderableType = Text("")
        self._key: Hashable = None
        self._lines: list[Strip] = []
        self._cache: dict[Hashable, list[Strip]] = {}

    def _width(self) -> int:
        return max(10, self.size.width - 1)  # the vertical scrollbar's column

    def render_lines_of(self, renderable: RenderableType, key: Hashable = None) -> list[Strip]:
        width = self._width()
        cache_key = (key, width) if key is not None else None
        if cache_key is not None and cache_key in self._cache:
            return self._cache[cache_key]
        console = self.app.console
        options = console.options.update(width=width - 1, height=None, highlight=False)
        style = self.rich_style
        lines = [Strip([Segment(" ", style), *line], width).crop_extend(0, width, style)
                 for line in console.render_lines(renderable, options, style=style, pad=True)]
        if cache_key is not None:
            if len(self._cache) >= self.CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[cache_key] = lines
        return lines

    def prerender(self, renderable: RenderableType, key: Hashable) -> None:
        """Render into the cache now (idle time), so showing it later is instant."""
        if self.size.width:
            self.render_lines_of(renderable, key)

    def show(self, renderable: RenderableType, key: Hashable = None, *, keep_scroll: bool = False) -> None:
        self._renderable, self._key = renderable, key
        if not self.size.width:
            return  # rendered on the first resize
        self._lines = self.render_lines_of(renderable, key)
        self.virtual_size = Size(self._width(), len(self._lines))
        if not keep_scroll:
            self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    def on_resize(self) -> None:
        self._cache.clear()
        self.show(self._renderable, self._key, keep_scroll=True)

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_y) + y
        width = self.scrollable_content_region.width
        if 0 <= index < len(self._lines):
            line = self._lines[index]
            return line if line.cell_length == width else line.crop_extend(0, width, self.rich_style)
        return Strip.blank(width, self.rich_style)

    def scroll_page(self, step: int) -> None:
        self.scroll_to(y=self.scroll_y + step * max(3, self.size.height - 2), animate=False)


__all__ = ["LinePane", "ListColumn", "QueueList"]
