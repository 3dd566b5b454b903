"""The write actions of the board, one method per key, shared with the detail pane.

Every write runs in a worker. The backend decides what is allowed (the task state
machine, dependencies, roles); a refusal is shown with the backend's reason and
leaves the board as it was. After a change the board reloads and the focus
follows the card to its new column.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..widgets.forms import Field, FormModal
from ..widgets.workers import work
from .screen_half import ScreenHalf

if TYPE_CHECKING:
    from ..backend.schemas import Project
    from ..backend.schemas.tasks import Task
    from ..widgets.jobs_panel import JobsPanel
    from ..widgets.kanban import KanbanColumn

PRIORITIES = [("Medium", "medium"), ("High", "high"), ("Urgent", "urgent"), ("Low", "low")]
#: Forward through the workflow (shift+→). Review → done is an approval; blocked
#: returns to the state it left; failed is retried.
FORWARD = {"todo": "in_progress", "in_progress": "review", "review": "done", "failed": "todo"}
#: Back (shift+←). Review → in progress is a rework request; the others are asked of
#: the backend as plain moves, so a move the state machine forbids shows its reason.
BACKWARD = {"in_progress": "todo", "review": "in_progress", "done": "review", "failed": "in_progress",
            "cancelled": "todo"}
LABEL = {"todo": "to do", "in_progress": "in progress", "review": "review", "blocked": "blocked", "done": "done",
         "failed": "failed", "cancelled": "cancelled"}


def status_of(task: Any) -> str:
    return str(getattr(task.status, "value", task.status))


class BoardActions(ScreenHalf):
    # Provided by BoardScreen; declared for the type checker.
    project: Project | None
    columns: dict[str, KanbanColumn]
    last_refusal: str | None
    _pending_select: tuple[str, str] | None
    show_jobs_panel: Callable[[], Awaitable[None]]
    load_columns: Callable[..., Any]
    load_jobs: Callable[..., Any]
    follow_job: Callable[[str], None]

    if TYPE_CHECKING:  # properties of the screen
        @property
        def selected_task(self) -> Task | None: ...
        @property
        def jobs(self) -> JobsPanel | None: ...
        @property
        def jobs_shown(self) -> bool: ...

    # ---- plumbing ------------------------------------------------------------------

    def _task_or_warn(self) -> Task | None:
        task = self.selected_task
        if task is None:
            self.crewos.say("Select a card first.", severity="warning")
        return task

    @work(group="board-write", exit_on_error=False)
    async def write(self, call: Callable[[], Awaitable[Any]], done: Callable[[Any], str],
                    task_id: str | None = None) -> None:
        """Run one backend write; a refusal (409/422/403) shows its reason, anything else is reported."""
        from ..backend.errors import Conflict, Forbidden, Invalid

        try:
            result = await call()
        except (Conflict, Invalid, Forbidden) as exc:
            self.last_refusal = str(exc)
            self.crewos.say(f"Refused: {exc}", severity="warning")
            return
        self.last_refusal = None
        self.crewos.say(done(result))
        status = status_of(result) if task_id and hasattr(result, "status") and hasattr(result, "title") else None
        self.after_write(task_id, status)

    def after_write(self, task_id: str | None, status: str | None) -> None:
        """Reload the board (the focus follows ``task_id`` to ``status``), the open detail and the jobs."""
        from ..widgets.task_detail import TaskDetailScreen

        if task_id and status:
            self._pending_select = (status, task_id)
        self.load_columns()
        if self.jobs_shown:
            self.load_jobs()
        for screen in self.crewos.screen_stack:
            if isinstance(screen, TaskDetailScreen) and screen.task_id == task_id:
                screen.load()

    def ask_reason(self, title: str, note: str, then: Callable[[str], None], label: str = "Reason") -> None:
        async def submit(values: dict[str, str]) -> str:
            return values["reason"]

        def answered(reason: str | None) -> None:
            if reason:
                then(reason)

        self.crewos.push_screen(FormModal(title, [Field("reason", label, required=True)], submit, note=note,
                                          submit_label="OK"), answered)

    # ---- moving cards --------------------------------------------------------------

    def action_move(self, step: int) -> None:
        task = self._task_or_warn()
        if task is not None:
            self.move(task, step)

    def move(self, task: Task, step: int) -> None:
        status = status_of(task)
        t = self.backend.tasks
        if status == "blocked" and step > 0:
            target = str(getattr(task.blocked_from, "value", task.blocked_from) or "")
            if not target:
                self.crewos.say("This task does not know where it was blocked from.", severity="warning")
                return
            self.write(lambda: t.set_status(task.id, target), lambda r: f"Unblocked {r.title}: back to "
                       f"{LABEL[status_of(r)]}.", task.id)
            return
        target = (FORWARD if step > 0 else BACKWARD).get(status)
        if target is None:
            where = "final" if status in ("done", "cancelled") else "the first column"
            self.last_refusal = f"{task.title} is {LABEL[status]}: {where}"
            self.crewos.say(f"Refused: {task.title!r} is {LABEL[status]}, {where}.", severity="warning")
            return
        if status == "review" and target == "done":
            self.approve(task)
        elif status == "review" and target == "in_progress":
            self.rework(task)
        elif status == "failed" and target == "todo":
            self.retry(task)
        else:
            self.write(lambda: t.set_status(task.id, target), lambda r: f"Moved {r.title} to {LABEL[status_of(r)]}.",
                       task.id)

    # ---- review decisions, block, retry --------------------------------------------

    def action_approve(self) -> None:
        if (task := self._task_or_warn()) is not None:
            self.approve(task)

    def action_rework(self) -> None:
        if (task := self._task_or_warn()) is not None:
            self.rework(task)

    def action_block(self) -> None:
        if (task := self._task_or_warn()) is not None:
            self.block(task)

    def action_retry(self) -> None:
        if (task := self._task_or_warn()) is not None:
            self.retry(task)

    def approve(self, task: Task, comment: str = "") -> None:
        self.write(lambda: self.backend.tasks.approve(task.id, comment), lambda r: f"Approved {r.title}.", task.id)

    def rework(self, task: Task) -> None:
        def send(reason: str) -> None:
            self.write(lambda: self.backend.tasks.request_rework(task.id, reason),
                       lambda r: f"Sent {r.title} back for rework.", task.id)

        if status_of(task) != "review":  # no reason to ask for: the move is not possible
            self.last_refusal = f"only a task in review can be sent back (this one is {LABEL[status_of(task)]})"
            self.crewos.say(f"Refused: {self.last_refusal}.", severity="warning")
            return
        self.ask_reason(f"Request rework: {task.title}", "What should change?", send, "What to change")

    def block(self, task: Task) -> None:
        def send(reason: str) -> None:
            self.write(lambda: self.backend.tasks.block(task.id, reason), lambda r: f"Blocked {r.title}.", task.id)

        self.ask_reason(f"Block: {task.title}", "Unblocking (shift+→) returns it to where it was.", send)

    def retry(self, task: Task) -> None:
        self.write(lambda: self.backend.tasks.retry(task.id), lambda r: f"Retrying {r.title}: back to to do.",
                   task.id)

    def comment(self, task: Task) -> None:
        def send(text: str) -> None:
            from ..backend.schemas.tasks import TaskEventCreate

            self.write(lambda: self.backend.tasks.add_event(task.id, TaskEventCreate(message=text)),
                       lambda _e: f"Commented on {task.title}.", task.id)

        self.ask_reason(f"Comment on {task.title}", "", send, "Comment")

    # ---- new tasks, dependencies -----------------------------------------------------

    @work(group="board-write", exit_on_error=False)
    async def action_new_task(self) -> None:
        project = self.project
        if project is None:
            self.crewos.say("Choose a project first (p).", severity="warning")
            return
        members = await self.backend.projects.list_members(project.id, limit=200)
        people = [("(nobody)", "")] + [(m.username, m.user_id) for m in members.items]
        cards = [t for s in ("todo", "in_progress", "review", "blocked") for t in self.columns[s].tasks][:100]
        blockers = [("(none)", "")] + [(t.title[:60], t.id) for t in cards]

        async def submit(values: dict[str, str]) -> Any:
            from ..backend.schemas.tasks import TaskCreate

            return await self.backend.tasks.create(TaskCreate(
                project_id=project.id, title=values["title"], description=values["description"],
                priority=values["priority"], assignee_id=values["assignee"] or None,  # type: ignore[arg-type]
                blocked_by=[values["blocked_by"]] if values["blocked_by"] else []))

        def created(task: Any) -> None:
            if task is not None:
                self.crewos.say(f"Created {task.title}.")
                self.after_write(task.id, "todo")

        fields = [
            Field("title", "Title", required=True, placeholder="e.g. Write the release notes"),
            Field("description", "Description", placeholder="what done looks like"),
            Field("priority", "Priority", value="medium", choices=PRIORITIES),
            Field("assignee", "Assignee", choices=people),
            Field("blocked_by", "Waits for", choices=blockers),
        ]
        self.crewos.push_screen(FormModal(f"New task in {project.name}", fields, submit, submit_label="Create"),
                                created)

    def add_blocker(self, task: Task) -> None:
        cards = [t for s in ("todo", "in_progress", "review", "blocked", "done") for t in self.columns[s].tasks
                 if t.id != task.id][:100]
        if not cards:
            self.crewos.say("No other cards to wait for.", severity="warning")
            return

        async def submit(values: dict[str, str]) -> Any:
            return await self.backend.tasks.add_dependency(task.id, values["blocker"])

        def added(dep: Any) -> None:
            if dep is not None:
                self.crewos.say(f"{task.title} now waits for that task.")
                self.after_write(task.id, status_of(task))

        self.crewos.push_screen(FormModal(f"{task.title} waits for…",
                                          [Field("blocker", "Task", choices=[(t.title[:60], t.id) for t in cards])],
                                          submit, submit_label="Add"), added)

    # ---- agent jobs ------------------------------------------------------------------

    def action_run_agent(self) -> None:
        if (task := self._task_or_warn()) is not None:
            self.run_agent(task)

    def run_agent(self, task: Task) -> None:
        async def call() -> Any:
            from ..backend.schemas.agent_jobs import AgentJobCreate

            job = await self.backend.agent_jobs.create(AgentJobCreate(kind="task_run", task_id=task.id))
            self.follow_job(job.id)  # x and enter in the jobs panel act on this job next
            return job

        self.write(call, lambda j: f"Queued the worker agent on {task.title} (J shows jobs).", task.id)

    async def action_project_update(self) -> None:
        project = self.project
        if project is None:
            return

        async def call() -> Any:
            from ..backend.schemas.agent_jobs import AgentJobCreate

            job = await self.backend.agent_jobs.create(AgentJobCreate(kind="project_update", project_id=project.id))
            self.follow_job(job.id)
            return job

        await self.show_jobs_panel()
        self.write(call, lambda j: f"Queued a project update for {project.name}.")

    def action_cancel_job(self) -> None:
        job = self.jobs.selected if self.jobs is not None else None
        if job is None:
            self.crewos.say("Select a job in the jobs panel first.", severity="warning")
            return
        self.write(lambda: self.backend.agent_jobs.cancel(job.id),
                   lambda j: f"Cancelled {j.kind}." if str(getattr(j.status, "value", j.status)) == "cancelled"
                   else f"Asked {j.kind} to stop.")

    # ---- detail --------------------------------------------------------------------

    def action_open_detail(self) -> None:
        if (task := self._task_or_warn()) is not None:
            self.open_detail(task.id)

    def open_detail(self, task_id: str) -> None:
        from ..widgets.task_detail import TaskDetailScreen

        self.crewos.push_screen(TaskDetailScreen(task_id, self))  # type: ignore[arg-type]
