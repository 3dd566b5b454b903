"""The agents screen: the agents and skills discovery offers, and the agent card."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Markdown

from ..widgets.format import one_line
from ..widgets.paged_table import Column, PagedTable
from ..widgets.safe_text import safe_markdown
from ..widgets.workers import work
from .base import BackendScreen, reload_binding

if TYPE_CHECKING:
    from ..backend.schemas import AgentCard, AgentInfo, SkillDiscovery

AGENT_COLUMNS: list[Column[AgentInfo]] = [
    Column("name", "Agent", lambda a: a.name, lambda a: a.name),
    Column("skills", "Skills", lambda a: str(len(a.skills)), lambda a: len(a.skills)),
    Column("description", "Description", lambda a: one_line(a.description, 48), lambda a: a.description),
]


def agent_markdown(a: AgentInfo | None, discovery: SkillDiscovery | None = None) -> str:
    if a is None:
        return "_Select an agent._"
    lines = [f"## {a.title or a.name} (`{a.name}`)", "", a.description, "",
             (f"**Kind:** {a.kind} · **streams:** {'yes' if a.streaming else 'no'} · "
             f"**in:** {', '.join(a.input_modes)} · **out:** {', '.join(a.output_modes)}"), ""]
    if a.examples:
        lines += ["**Try:** " + " · ".join(f"“{e}”" for e in a.examples), ""]
    lines.append("### Skills")
    for s in a.skills:
        tags = f" _({', '.join(s.tags)})_" if s.tags else ""
        lines += [f"- **{s.name}** `{s.id}`{tags}: {s.description}"]
        lines += [f"  - e.g. “{e}”" for e in s.examples]
    if discovery is not None:
        lines += ["", "### Routing", "", discovery.rule]
    return "\n".join(lines) + "\n"


def card_markdown(card: AgentCard) -> str:
    body = json.dumps(card.model_dump(mode="json", by_alias=True, exclude_defaults=True), indent=2)
    return (f"## Agent card: {card.name}\n\nServed publicly at `/.well-known/agent-card.json` and to signed-in "
            f"callers at `/api/v1/agents/agent-card`.\n\n```json\n{body}\n```\n")


class AgentsScreen(BackendScreen):
    MODE = "agents"
    CSS_PATH = "../styles/agents.tcss"
    AUTO_FOCUS = "#agents-table"
    # Textual annotates these `ClassVar[...] | None`, which reads as an instance variable.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-narrow"), (110, "-wide")]

    BINDINGS = [
        Binding("c", "card", "Card", tooltip="Show the agent card", id="agents.card"),
        reload_binding("agents"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.discovery: SkillDiscovery | None = None
        self.showing_card = False

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="agents-body"):
            yield PagedTable(AGENT_COLUMNS, lambda a: a.name, empty="No agents.", id="agents-table")
            with VerticalScroll(id="agent-pane"):
                yield Markdown(safe_markdown(agent_markdown(None)), id="agent-detail", open_links=False)

    @property
    def table(self) -> PagedTable[AgentInfo]:
        return cast("PagedTable[AgentInfo]", self.query_one("#agents-table", PagedTable))

    def reload(self) -> None:
        self.load_agents()

    @work(exclusive=True, group="agents", exit_on_error=False)
    async def load_agents(self) -> None:
        page = await self.backend.agents.list(limit=200)
        self.discovery = await self.backend.agents.skill_discovery()
        self.table.reset(page.items, page.next_cursor)
        await self.show_selected()

    async def show_selected(self) -> None:
        self.showing_card = False
        markdown = agent_markdown(self.table.selected, self.discovery)
        await self.query_one("#agent-detail", Markdown).update(safe_markdown(markdown))

    def action_card(self) -> None:
        if self.showing_card:
            self.run_worker(self.show_selected(), exclusive=True, group="agents-detail", exit_on_error=False)
        else:
            self.load_card()

    @work(exclusive=True, group="agents-detail", exit_on_error=False)
    async def load_card(self) -> None:
        card = await self.backend.agents.agent_card()
        self.showing_card = True
        await self.query_one("#agent-detail", Markdown).update(safe_markdown(card_markdown(card)))

    @on(DataTable.RowHighlighted, "#agents-table")
    def _highlighted(self) -> None:
        if self.table.items:
            self.run_worker(self.show_selected(), exclusive=True, group="agents-detail", exit_on_error=False)
