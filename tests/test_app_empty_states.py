"""Empty lists say so in a whole sentence, and the notifications table's columns keep
their widths: the kind whole, the title in the width the others leave (80x24 and 120x40)."""

from __future__ import annotations

from typing import Any

import pytest
from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Select

from crewos_tui.backend.schemas.knowledge import KnowledgeSearch
from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.knowledge import KnowledgeScreen
from crewos_tui.screens.notifications import NotificationsScreen, kind_label
from crewos_tui.widgets.paged_table import PagedTable

from .app_support import make_app, open_mode, settle

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


def drawn_width(table: PagedTable[Any], key: str) -> int:
    """The cells a column's text gets (its width without the padding)."""
    return table.columns[key].get_render_width(table) - 2 * table.cell_padding  # pyright: ignore[reportArgumentType]


def placeholder(table: PagedTable[Any]) -> tuple[str, str]:
    """(column key, text) of the one row an empty table shows."""
    assert table.row_count == 1 and not table.items
    row = table.get_row_at(0)
    at = next(i for i, cell in enumerate(row) if isinstance(cell, Text) and cell.plain)
    return str(table.ordered_columns[at].key.value), row[at].plain


def assert_whole_sentence(table: PagedTable[Any], expected: str) -> None:
    """The placeholder is ``expected``, in a column wide enough for it, and seen without scrolling."""
    key, text = placeholder(table)
    assert text == expected
    assert drawn_width(table, key) >= cell_len(text), f"{text!r} is cut to {drawn_width(table, key)} cells"
    keys = [str(c.key.value) for c in table.ordered_columns]
    start = sum(c.get_render_width(table) for c in table.ordered_columns[: keys.index(key)]) + table.cell_padding
    assert start + cell_len(text) <= table.scrollable_content_region.width


@SIZES
async def test_an_empty_notification_list_says_so_whole(demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async with make_app(demo_spec).run_test(size=size) as pilot:
        screen = await open_mode(pilot, "5", NotificationsScreen)
        screen.query_one("#kind-filter", Select).value = "chat.mention"  # none for the demo user
        await settle(pilot)
        assert_whole_sentence(screen.table, "No notifications here.")


@SIZES
async def test_the_kind_stays_whole_and_the_title_takes_the_rest(demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async with make_app(demo_spec).run_test(size=size) as pilot:
        screen = await open_mode(pilot, "5", NotificationsScreen)
        table = screen.table
        assert table.items
        assert drawn_width(table, "kind") >= max(cell_len(kind_label(n.kind)) for n in table.items)
        assert drawn_width(table, "when") == len("2026-03-08 09:33")
        # The columns fill the table exactly: no gap at the right, nothing scrolled off.
        assert sum(c.get_render_width(table) for c in table.ordered_columns) == table.scrollable_content_region.width
        assert drawn_width(table, "title") >= 20


@SIZES
async def test_an_entry_without_links_says_so_whole(demo_spec: LaunchSpec, size: tuple[int, int]) -> None:
    async with make_app(demo_spec).run_test(size=size) as pilot:
        screen = await open_mode(pilot, "7", KnowledgeScreen)
        backend: Any = pilot.app.backend  # pyright: ignore[reportAttributeAccessIssue]
        hits = (await backend.knowledge.search(KnowledgeSearch(query="the"))).items
        lonely = [h.entry.id for h in hits if not (await backend.knowledge.list_links(h.entry.id, limit=1)).items]
        assert lonely, "the demo has an entry without links"
        screen.open_entry(lonely[0])
        await settle(pilot)
        assert_whole_sentence(screen.table("links"), "No links to or from this entry.")
