"""What the knowledge screen draws, without fetching anything: result rows with
highlighted snippets, the entry header, governance rows, and the wiki neighbourhood
as a tree (each node an entry, each branch the link that leads there)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text

from .format import one_line, utc

if TYPE_CHECKING:
    from textual.widgets import Tree

    from ..backend.schemas import (
        GovernanceItem,
        KnowledgeEntry,
        KnowledgeFile,
        WikiGraph,
        WikiLink,
    )

#: The markers the backend puts around matched words in a snippet.
HIT_OPEN, HIT_CLOSE = "«", "»"
ARROW = {"out": "→", "in": "←"}


def _v(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


def marked(snippet: str, style: str = "bold reverse") -> Text:
    """A snippet with «matched» words highlighted (markers removed)."""
    text = Text()
    rest = snippet.replace("\n", " ")
    while rest:
        start = rest.find(HIT_OPEN)
        if start < 0:
            text.append(rest)
            break
        end = rest.find(HIT_CLOSE, start + 1)
        if end < 0:
            text.append(rest)
            break
        text.append(rest[:start])
        text.append(rest[start + 1:end], style=style)
        rest = rest[end + 1:]
    return text


@dataclass(frozen=True)
class ResultRow:
    """One row of the results list: a search hit, or a recent entry when there is no query."""

    id: str
    title: str
    namespace: str
    snippet: str  # with «markers» for hits
    score: float | None = None


def result_cells(row: ResultRow, width: int = 60) -> Text:
    short = row.snippet if len(row.snippet) <= width else row.snippet[: width - 1] + "…"
    return marked(short)


def entry_header(e: KnowledgeEntry) -> Text:
    tags = " ".join(f"#{t}" for t in e.tags)
    meta = [e.namespace, f"v{e.version}", f"updated {utc(e.updated_at)} UTC by {e.updated_by or e.created_by}"]
    if e.source_filename:
        meta.append(f"from {e.source_filename}" + (f" › {e.source_section}" if e.source_section else ""))
    if _v(e.status) == "archived":
        meta.append("ARCHIVED" + (f" (merged into {e.merged_into})" if e.merged_into else ""))
    if _v(e.visibility) == "hidden":
        meta.append("hidden")
    return Text.assemble((e.title, "bold"), "  ", (tags, "italic"), "\n", (" · ".join(meta), "dim"))


def link_cells(link: WikiLink) -> tuple[str, str, str]:
    return ARROW[link.direction], _v(link.kind).replace("_", " "), link.other_title or link.other_id


def governance_cells(item: GovernanceItem) -> tuple[str, str, str, str]:
    other = item.other_title if item.other_id else item.reason
    if item.other_id and item.other_title is None:
        other = "(an entry you cannot see)"
    return (_v(item.kind), one_line(item.entry_title, 40), one_line(other or "", 60),
            f"{item.score:.0%}" if item.kind in ("link", "merge") else "")


def file_cells(f: KnowledgeFile) -> tuple[str, str, str, str, str]:
    status = _v(f.status) + ("" if _v(f.visibility) == "visible" else " · hidden")
    return f.filename, f.namespace, str(f.entry_count), status, f.source.replace("_", " ")


def fill_graph(tree: Tree[str], graph: WikiGraph) -> None:
    """The neighbourhood of ``graph.center`` as a tree: breadth first, each entry once."""
    nodes = {n.id: n for n in graph.nodes}
    tree.clear()
    center = graph.center or (graph.nodes[0].id if graph.nodes else None)
    if center is None or center not in nodes:
        tree.root.set_label(Text("No entry to draw.", style="dim italic"))
        return
    tree.root.set_label(Text(nodes[center].title, style="bold"))
    tree.root.data = center
    placed = {center: tree.root}
    frontier = [center]
    while frontier:
        following: list[str] = []
        for current in frontier:
            for edge in graph.edges:
                if current not in (edge.source, edge.target):
                    continue
                other = edge.target if edge.source == current else edge.source
                if other in placed or other not in nodes:
                    continue
                arrow = "→" if edge.source == current else "←"
                label = Text.assemble((f"{arrow} {_v(edge.kind).replace('_', ' ')} ", "dim"), nodes[other].title)
                if nodes[other].namespace != nodes[center].namespace:
                    label.append(f"  [{nodes[other].namespace}]", style="dim italic")
                placed[other] = placed[current].add(label, data=other, expand=True)
                following.append(other)
        frontier = following
    tree.root.expand()
    if len(placed) == 1:
        tree.root.add_leaf(Text("no links yet", style="dim italic"))
