"""A card's detail: description, dependencies, review, agent runs and timeline,
with the review actions and retry on one key each. The board does the writes
(``BoardActions``) and reloads this pane after each one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from .format import error_text, utc
from .kanban import LABELS
from .safe_text import safe
from .workers import work

if TYPE_CHECKING:
    from ..backend.schemas.tasks import TaskDetail
    from ..screens.board_actions import BoardActions

KEYS = [
    ("a", "approve", "approve", {"review"}),
    ("w", "rework", "rework", {"review"}),
    ("b", "block", "block", {"todo", "in_progress", "review"}),
    ("u", "unblock", "unblock", {"blocked"}),
    ("r", "retry", "retry", {"failed"}),
    ("g", "run_agent", "run agent", {"todo", "in_progress"}),
    ("c", "comment", "comment", None),
    ("d", "add_blocker", "waits for…", None),
]


def _v(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


def render_detail(t: TaskDetail) -> Text:
    status = _v(t.status)
    out = Text()
    out.append(f"{LABELS.get(status, status)}", style="bold reverse")
    out.append(f"  {_v(t.priority)} priority · ")
    out.append(f"@{t.assignee}" if t.assignee else "unassigned", style="" if t.assignee else "dim italic")
    out.append(f" · by {t.created_by} {utc(t.created_at)} UTC\n", style="dim")
    if t.status_reason and status in ("blocked", "failed", "cancelled"):
        note = f" (returns to {LABELS.get(_v(t.blocked_from), '')})" if t.blocked_from else ""
        out.append(f"Why {LABELS.get(status, status).lower()}: {t.status_reason}{note}\n", style="yellow")
    moves = ", ".join(LABELS.get(_v(s), _v(s)).lower() for s in t.allowed_transitions) or "none (final)"
    out.append(f"Can move to: {moves}\n", style="dim")
    out.append("\n")
    out.append(t.description.strip() or "No description.", style="" if t.description.strip() else "dim italic")
    out.append("\n")

    def section(title: str) -> None:
        out.append(f"\n{title}\n", style="bold")

    if t.blocked_by or t.blocks:
        section("Dependencies")
        for ref in t.blocked_by:
            done = _v(ref.status) == "done"
            out.append(f"  waits for  {ref.title}", style="dim" if done else "red")
            out.append(f"  [{LABELS.get(_v(ref.status), '')}]\n", style="dim")
        for ref in t.blocks:
            out.append(f"  blocks     {ref.title}")
            out.append(f"  [{LABELS.get(_v(ref.status), '')}]\n", style="dim")
    if t.review is not None:
        section("Review")
        out.append(f"  {t.review.decision.replace('_', ' ')} by {t.review.decided_by} {utc(t.review.decided_at)}")
        out.append(f": {t.review.comment}\n" if t.review.comment else "\n")
    if t.agent_runs:
        section("Agent runs")
        for run in t.agent_runs:
            out.append(f"  {run.agent} · {_v(run.status)} · {run.total_tokens} tokens "
                       f"({run.input_tokens} in, {run.output_tokens} out) · {utc(run.started_at)}\n")
            if run.summary:
                out.append(f"    {run.summary}\n", style="dim")
    section("Timeline (newest first)")
    for e in t.recent_events:
        out.append(f"  {utc(e.created_at)}  ", style="dim")
        out.append(f"{e.actor} ", style="bold")
        kind = e.kind.replace("_", " ")
        if e.message and e.message.startswith(kind):
            out.append(e.message + "\n")  # "assigned to priya" says it all
        else:
            out.append(kind)
            out.append(f": {e.message}\n" if e.message and e.message != t.title else "\n")
    return out


class TaskDetailScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    TaskDetailScreen {
        #task-detail-body { height: 1fr; }
        #task-detail-keys { height: auto; margin: 1 0 0 0; }
    }
    """
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="task_detail.close"),
        *(Binding(key, f"act('{action}')", label, id=f"task_detail.{action}") for key, action, label, _ in KEYS),
    ]

    def __init__(self, task_id: str, board: BoardActions) -> None:
        super().__init__(classes="task-detail")
        self.task_id = task_id
        self.board = board
        self.detail: TaskDetail | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="task-detail-box"):
            yield Label("Loading…", classes="dialog-title", id="task-detail-title")
            with VerticalScroll(id="task-detail-body"):
                yield Static("", id="task-detail-text")
            yield Static("", id="task-detail-keys")

    def on_mount(self) -> None:
        box = self.query_one("#task-detail-box")
        box.styles.width, box.styles.height = 100, "90%"  # wider than the app's .dialog
        # A dialog is on top when the connection comes back: it fetches again itself.
        self.board.crewos.connection_back.subscribe(self, self._connection_back)
        self.load()

    def _connection_back(self, _backend: object) -> None:
        self.load()

    @work(exclusive=True, group="task-detail", exit_on_error=False)
    async def load(self) -> None:
        try:
            detail = await self.board.backend.tasks.get(self.task_id)
        except Exception as exc:  # noqa: BLE001 - shown in the pane, e.g. a task deleted meanwhile
            self.query_one("#task-detail-text", Static).update(safe(Text(error_text(exc), style="red")))
            return
        self.detail = detail
        self.query_one("#task-detail-title", Label).update(safe(detail.title))
        self.query_one("#task-detail-text", Static).update(safe(render_detail(detail)))
        status = _v(detail.status)
        keys = [f"{k} {label}" for k, _, label, states in KEYS if states is None or status in states]
        self.query_one("#task-detail-keys", Static).update(Text("  ".join([*keys, "esc close"]), style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_act(self, action: str) -> None:
        task = self.detail
        if task is None:
            return
        board = self.board
        if action == "unblock":
            board.move(task, 1)
        else:
            getattr(board, action)(task)
