"""The knowledge screen: search the knowledge base as you type, read an entry (markdown)
with its links in and out, walk its wiki neighbourhood, clear the governance queue
with one key per decision, ingest files with a progress bar, and open generated
artifacts.

Tabs: Search · Entry · Graph · Queue · Files · Generated. ``/`` searches (an empty
search lists the newest entries; ``fts:`` before a query takes it as FTS5 syntax and
shows FTS5's objection in place of the results), ``enter`` opens what is under the cursor (a result,
a link, a graph node, an artifact), ``b`` goes back along the entries opened, ``g``
draws the current entry's neighbourhood. In the queue ``a`` accepts, ``r`` rejects,
``m`` merges and ``x`` archives. ``i`` ingests a file, ``v`` shows or hides a file
group, ``d`` deletes one. ``o`` opens an artifact by its reference token.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    DataTable,
    Input,
    Label,
    Markdown,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
    TabPane,
    Tree,
)

from ..widgets.format import one_line, utc
from ..widgets.knowledge_views import (
    ResultRow,
    entry_header,
    file_cells,
    fill_graph,
    governance_cells,
    link_cells,
    marked,
    result_cells,
)
from ..widgets.paged_table import Column, PagedTable
from ..widgets.safe_text import literal, safe, safe_markdown
from ..widgets.text_input import TextInput
from ..widgets.workers import work
from .base import BackendScreen, reload_binding
from .knowledge_actions import KnowledgeActions

if TYPE_CHECKING:
    from ..backend.schemas import (
        ArtifactInfo,
        GovernanceItem,
        KnowledgeEntry,
        KnowledgeFile,
        WikiLink,
    )

PAGE = 50
SEARCH_DELAY = 0.2  # s: wait for a pause in typing before asking the backend
FTS_PREFIX = "fts:"  # a search starting with it is SQLite FTS5 query syntax
TABS = ("search", "entry", "graph", "queue", "files", "generated")

RESULT_COLUMNS: list[Column[ResultRow]] = [
    Column("title", "Title", lambda r: one_line(r.title, 30), lambda r: r.title.casefold(), width=30),
    Column("namespace", "Namespace", lambda r: r.namespace, lambda r: r.namespace, width=18),
    Column("match", "Match", lambda r: result_cells(r, 64)),
]
LINK_COLUMNS: list[Column[WikiLink]] = [
    Column("dir", "", lambda lk: link_cells(lk)[0], width=1),
    Column("kind", "Link", lambda lk: link_cells(lk)[1], lambda lk: str(lk.kind), width=11),
    Column("other", "Entry", lambda lk: link_cells(lk)[2], lambda lk: lk.other_title.casefold()),
]
QUEUE_COLUMNS: list[Column[GovernanceItem]] = [
    Column("kind", "Kind", lambda i: governance_cells(i)[0], lambda i: str(i.kind), width=6),
    Column("entry", "Entry", lambda i: governance_cells(i)[1], lambda i: i.entry_title.casefold(), width=26),
    Column("about", "With / why", lambda i: governance_cells(i)[2]),
    Column("score", "Score", lambda i: governance_cells(i)[3], lambda i: i.score, width=5),
]
FILE_COLUMNS: list[Column[KnowledgeFile]] = [
    Column("file", "File", lambda f: file_cells(f)[0], lambda f: f.filename.casefold()),
    Column("namespace", "Namespace", lambda f: file_cells(f)[1], lambda f: f.namespace),
    Column("entries", "Entries", lambda f: file_cells(f)[2], lambda f: f.entry_count, width=7),
    Column("status", "Status", lambda f: file_cells(f)[3], lambda f: str(f.status)),
    Column("source", "Source", lambda f: file_cells(f)[4], lambda f: f.source),
]
GENERATED_COLUMNS: list[Column[ArtifactInfo]] = [
    Column("file", "File", lambda a: one_line(a.filename, 34), lambda a: a.filename.casefold()),
    Column("kind", "Kind", lambda a: a.kind.replace("_", " "), lambda a: a.kind, width=14),
    Column("rev", "Rev", lambda a: str(a.current_revision), lambda a: a.current_revision, width=3),
    Column("made", "Made (UTC)", lambda a: utc(a.created_at), lambda a: a.created_at),
    Column("by", "By", lambda a: a.created_by, lambda a: a.created_by),
]


class KnowledgeScreen(KnowledgeActions, BackendScreen):
    MODE = "knowledge"
    CSS_PATH = "../styles/knowledge.tcss"
    AUTO_FOCUS = "#kb-results"
    # Textual annotates these `ClassVar[...] | None`, which reads as an instance variable.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-narrow"), (110, "-wide")]

    BINDINGS = [
        Binding("slash", "focus_search", "Search", tooltip="Search the knowledge base", id="knowledge.search"),
        Binding("b", "back", "Back", tooltip="Back to the previous entry", id="knowledge.back"),
        Binding("g", "graph", "Graph", tooltip="The entry's wiki neighbourhood", id="knowledge.graph"),
        Binding("a", "decide('accept')", "Accept", id="knowledge.accept"),
        Binding("r", "decide('reject')", "Reject", id="knowledge.reject"),
        Binding("m", "decide('merge')", "Merge", tooltip="Merge the near-duplicate into the entry",
                id="knowledge.merge"),
        Binding("x", "decide('archive')", "Archive", tooltip="Archive the entry", id="knowledge.archive"),
        Binding("i", "ingest", "Ingest", tooltip="Ingest a file", id="knowledge.ingest"),
        Binding("v", "toggle_visibility", "Show/hide", tooltip="Show or hide the file group",
                id="knowledge.visibility"),
        Binding("d", "delete_file", "Delete", tooltip="Delete the file group and its entries",
                id="knowledge.delete_file"),
        Binding("o", "open_artifact", "Artifact", tooltip="Open an artifact by reference token",
                id="knowledge.open_artifact"),
        Binding("N", "focus_namespace", "Namespace", show=False, tooltip="Choose the namespace",
                id="knowledge.namespace"),
        Binding("right_square_bracket", "tab(1)", "Next tab", show=False, id="knowledge.next_tab"),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", show=False, id="knowledge.prev_tab"),
        reload_binding("knowledge"),
    ]
    VIEW_ACTIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "decide": ("queue",),
        "toggle_visibility": ("files",),
        "delete_file": ("files",),
        "back": ("entry", "graph"),
    }

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.namespace: str | None = None
        self.entry: KnowledgeEntry | None = None
        self.history: list[str] = []
        self._namespaces_loaded = False

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="kb-header"):
            yield TextInput(placeholder='/ search: words, "a phrase", prefix*', id="kb-search", compact=True)
            yield Select([("All namespaces", "")], value="", allow_blank=False, compact=True, id="kb-namespace")
        with TabbedContent(id="kb-tabs", initial="search"):
            with TabPane("Search", id="search"):
                yield PagedTable(RESULT_COLUMNS, lambda r: r.id, empty="Nothing found.", id="kb-results")
                yield Static("", id="kb-snippet")
            with TabPane("Entry", id="entry"):
                yield Static(Text("Open an entry from the search (enter).", style="dim italic"), id="kb-entry-meta")
                with Horizontal(id="kb-entry-body"):
                    with VerticalScroll(id="kb-entry-scroll"):
                        yield Markdown("", id="kb-entry-md", open_links=False)  # the app asks first
                    yield PagedTable(LINK_COLUMNS, lambda lk: lk.id, empty="No links to or from this entry.",
                                     id="kb-links")
            with TabPane("Graph", id="graph"):
                yield Tree("Open an entry, then press g.", id="kb-graph")
            with TabPane("Queue", id="queue"):
                yield Static("", id="kb-queue-counts")
                yield PagedTable(QUEUE_COLUMNS, lambda i: i.id, empty="The governance queue is empty.",
                                 id="kb-queue")
            with TabPane("Files", id="files"):
                with Vertical(id="kb-ingest"):
                    yield Label("", id="kb-ingest-label")
                    yield ProgressBar(total=100, show_eta=False, id="kb-ingest-bar")
                yield PagedTable(FILE_COLUMNS, lambda f: f.id, empty="No files yet. Press i to ingest one.",
                                 id="kb-files")
            with TabPane("Generated", id="generated"):
                yield PagedTable(GENERATED_COLUMNS, lambda a: a.reference_token,
                                 empty="No generated files yet (project updates and reporter replies leave one).",
                                 id="kb-generated")

    # ---- lookups -------------------------------------------------------------------

    def table(self, name: str) -> PagedTable[Any]:
        return cast("PagedTable[Any]", self.query_one(f"#kb-{name}", PagedTable))

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#kb-tabs", TabbedContent)

    def current_view(self) -> str | None:
        return self.tabs.active or None

    def show_view(self, view: str) -> None:
        self.tabs.active = view

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if allowed and action == "graph" and self.entry is None:
            return None
        if allowed and action == "back" and not self.history:
            return None
        return allowed

    # ---- loading -------------------------------------------------------------------

    def reload(self) -> None:
        if not self._namespaces_loaded:
            self.load_namespaces()
        self.load_results()
        self.load_queue()
        self.load_files()
        self.load_generated()
        if self.entry is not None:
            self.open_entry(self.entry.id, remember=False)

    @work(exclusive=True, group="kb-namespaces", exit_on_error=False)
    async def load_namespaces(self) -> None:
        page = await self.backend.knowledge.namespaces(limit=200)
        select = cast("Select[str]", self.query_one("#kb-namespace", Select))
        with self.prevent(Select.Changed):
            select.set_options([("All namespaces", ""), *((literal(n.name), n.name) for n in page.items)])
            select.value = self.namespace or ""
        self._namespaces_loaded = True

    async def _results(self, cursor: str | None) -> tuple[list[ResultRow], str | None]:
        from ..backend.schemas import KnowledgeSearch

        ns = [self.namespace] if self.namespace else None
        if not self.query_text:
            page = await self.backend.knowledge.list(namespace=self.namespace, status="active", limit=PAGE,
                                                     cursor=cursor)
            return [ResultRow(e.id, e.title, e.namespace, e.excerpt) for e in page.items], page.next_cursor
        match, text = "any", self.query_text
        if text.startswith(FTS_PREFIX):  # FTS5 syntax as written; FTS5's objection shows in place
            from ..backend.errors import Invalid

            match, text = "fts5", text.removeprefix(FTS_PREFIX).strip()
            if not text:
                raise Invalid(f"type an FTS5 query after {FTS_PREFIX} (AND, OR, NOT, NEAR(a b), title:word)")
        found = await self.backend.knowledge.search(KnowledgeSearch(query=text, namespaces=ns,
                                                                    match=match, limit=PAGE, cursor=cursor))
        return ([ResultRow(h.entry.id, h.entry.title, h.entry.namespace, h.snippet, h.score) for h in found.items],
                found.next_cursor)

    @work(exclusive=True, group="kb-results", exit_on_error=False)
    async def load_results(self, delay: float = 0) -> None:
        from ..backend.errors import Invalid

        if delay:
            await asyncio.sleep(delay)
        table = self.table("results")
        table.fetching = True
        try:
            rows, cursor = await self._results(None)
        except Invalid as exc:  # a query with nothing to search for, or bad FTS5 syntax: say so in place
            table.show_placeholder(str(exc))
            return
        finally:
            table.fetching = False
        table.reset(rows, cursor)
        self._show_snippet()

    @work(exclusive=True, group="kb-more", exit_on_error=False)
    async def load_more(self, table: PagedTable[Any]) -> None:
        generation, cursor = table.generation, table.next_cursor
        table.fetching = True
        try:
            if table.id == "kb-results":
                items, next_cursor = await self._results(cursor)
            else:
                page = await self._page_of(table.id or "", cursor)
                items, next_cursor = page.items, page.next_cursor
        finally:
            table.fetching = False
        if generation == table.generation:
            table.extend(items, next_cursor)

    def _page_of(self, table_id: str, cursor: str | None) -> Any:
        k = self.backend.knowledge
        if table_id == "kb-files":
            return k.list_files(namespace=self.namespace, limit=PAGE, cursor=cursor)
        if table_id == "kb-generated":
            return self.backend.artifacts.list(limit=PAGE, cursor=cursor)
        if table_id == "kb-links" and self.entry is not None:
            return k.list_links(self.entry.id, limit=PAGE, cursor=cursor)
        return k.governance(namespace=self.namespace, limit=PAGE, cursor=cursor)

    @work(exclusive=True, group="kb-queue", exit_on_error=False)
    async def load_queue(self) -> None:
        queues = await self.backend.knowledge.governance(namespace=self.namespace, limit=PAGE)
        self.table("queue").reset(queues.items, queues.next_cursor)
        counts = " · ".join(f"{kind} {n}" for kind, n in queues.counts.items())
        self.query_one("#kb-queue-counts", Static).update(safe(Text.assemble(
            ("Pending: ", "bold"), counts, ("    a accept · r reject · m merge · x archive", "dim"))))
        pending = sum(queues.counts.values())
        self.tabs.get_tab("queue").label = f"Queue ({pending})" if pending else "Queue"  # type: ignore[assignment]
        self.refresh_bindings()

    @work(exclusive=True, group="kb-files", exit_on_error=False)
    async def load_files(self) -> None:
        page = await self.backend.knowledge.list_files(namespace=self.namespace, limit=PAGE)
        self.table("files").reset(page.items, page.next_cursor)

    @work(exclusive=True, group="kb-generated", exit_on_error=False)
    async def load_generated(self) -> None:
        page = await self.backend.artifacts.list(limit=PAGE)
        self.table("generated").reset(page.items, page.next_cursor)

    @work(exclusive=True, group="kb-entry", exit_on_error=False)
    async def open_entry(self, entry_id: str, remember: bool = True) -> None:
        """Show an entry (and its links) in the Entry tab."""
        entry, links = await asyncio.gather(self.backend.knowledge.get(entry_id),
                                            self.backend.knowledge.list_links(entry_id, limit=PAGE))
        if remember and self.entry is not None and self.entry.id != entry_id:
            self.history.append(self.entry.id)
        self.entry = entry
        self.query_one("#kb-entry-meta", Static).update(safe(entry_header(entry)))
        await self.query_one("#kb-entry-md", Markdown).update(safe_markdown(entry.body or "*(no text)*"))
        self.query_one("#kb-entry-scroll", VerticalScroll).scroll_home(animate=False)
        self.table("links").reset(links.items, links.next_cursor)
        if self.tabs.active == "graph":
            self.load_graph()
        elif self.tabs.active != "entry":
            self.tabs.active = "entry"
        self.refresh_bindings()

    @work(exclusive=True, group="kb-graph", exit_on_error=False)
    async def load_graph(self) -> None:
        if self.entry is None:
            return
        graph = await self.backend.knowledge.wiki_graph(entry_id=self.entry.id, depth=2, max_nodes=60)
        tree = cast("Tree[str]", self.query_one("#kb-graph", Tree))
        fill_graph(tree, graph)
        tree.move_cursor(tree.root)

    def _show_snippet(self) -> None:
        row = self.table("results").selected
        text = Text() if row is None else Text.assemble((row.title, "bold"), "  ", (row.namespace, "dim"), "\n",
                                                         marked(row.snippet))
        self.query_one("#kb-snippet", Static).update(safe(text))

    # ---- events --------------------------------------------------------------------

    @on(Input.Changed, "#kb-search")
    def _query_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self.tabs.active = "search"
        self.load_results(delay=SEARCH_DELAY)

    @on(Input.Submitted, "#kb-search")
    def _query_done(self) -> None:
        self.table("results").focus()

    @on(Select.Changed, "#kb-namespace")
    def _namespace_changed(self, event: Select.Changed) -> None:
        self.namespace = str(event.value) or None
        self.load_results()
        self.load_queue()
        self.load_files()

    @on(DataTable.RowHighlighted, "#kb-results")
    def _result_highlighted(self) -> None:
        self._show_snippet()

    @on(DataTable.RowSelected, "#kb-results")
    def _result_chosen(self) -> None:
        row = self.table("results").selected
        if row is not None:
            self.open_entry(row.id)

    @on(DataTable.RowSelected, "#kb-links")
    def _link_chosen(self) -> None:
        link = self.table("links").selected
        if link is not None:
            self.open_entry(link.other_id)

    @on(DataTable.RowSelected, "#kb-queue")
    def _queue_chosen(self) -> None:
        item = self.table("queue").selected
        if item is not None:
            self.open_entry(item.entry_id)

    @on(DataTable.RowSelected, "#kb-generated")
    def _generated_chosen(self) -> None:
        row = self.table("generated").selected
        if row is not None:
            self.show_artifact(row.reference_token)

    @on(Tree.NodeSelected, "#kb-graph")
    def _node_chosen(self, event: Tree.NodeSelected[str]) -> None:
        if event.node.data and (self.entry is None or event.node.data != self.entry.id):
            self.open_entry(event.node.data)

    @on(PagedTable.NeedMore)
    def _need_more(self, event: PagedTable.NeedMore) -> None:
        self.load_more(event.table)

    @on(TabbedContent.TabActivated, "#kb-tabs")
    def _tab_changed(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "graph" and self.entry is not None:
            self.load_graph()
        focus = {"search": "#kb-results", "entry": "#kb-links", "graph": "#kb-graph", "queue": "#kb-queue",
                 "files": "#kb-files", "generated": "#kb-generated"}.get(event.pane.id or "")
        if focus and not isinstance(self.focused, Input):
            self.query_one(focus).focus()
        self.refresh_bindings()

    def key_escape(self) -> None:
        if isinstance(self.focused, Input):
            self.table("results").focus()

    # ---- navigation actions --------------------------------------------------------

    def action_focus_search(self) -> None:
        self.tabs.active = "search"
        self.query_one("#kb-search", Input).focus()

    def action_focus_namespace(self) -> None:
        self.query_one("#kb-namespace", Select).focus()

    def action_back(self) -> None:
        if self.history:
            self.open_entry(self.history.pop(), remember=False)

    def action_graph(self) -> None:
        if self.entry is not None:
            self.tabs.active = "graph"

    def action_tab(self, step: int) -> None:
        index = TABS.index(self.tabs.active) if self.tabs.active in TABS else 0
        self.tabs.active = TABS[(index + step) % len(TABS)]

    def forget_cached(self) -> None:
        self._namespaces_loaded = False

    def open_link(self, link: Any) -> None:
        """From a notification: open the entry it is about."""
        if getattr(link, "resource_type", "") == "knowledge_entry":
            self.open_entry(link.resource_id)
