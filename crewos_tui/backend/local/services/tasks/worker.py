"""The ``task_run`` job: an agent works on a task, and the task moves to review.

The default agent is the built-in *worker*, registered with the agents runtime so
its runs pass the same guards, cache, model routing and ``agent.run_completed``
event as chat. It works offline and deterministically from the task's title and
description and the project's documents: it restates the task, quotes the
document lines that share the most words with it, and lays out the steps it took.
Any other registered agent may be asked for with ``params.agent``.

The job is safe to run again after an interruption: each attempt records its own
agent run (an interrupted attempt's run is closed as failed "interrupted"), and a
task already in progress is picked up where it is. An attempt whose process stopped
after its work was recorded (its agent run succeeded, perhaps the task moved to review)
but before the job was marked done is recognised by the next attempt: it does only
the steps that are left and the job succeeds, noting that the work was already done.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from ....errors import Conflict, CrewOSError, Invalid, NotFound
from ....principal import Principal
from ....schemas.agent_jobs import AgentJobCreate
from ....schemas.tasks import (
    AgentRun,
    AgentRunCreate,
    AgentRunStatus,
    AgentRunUpdate,
    TaskDetail,
    TaskEvent,
    TaskStatus,
)
from ...tables import AgentJobRow, DocumentRow, TaskRow
from .convert import editable_task

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from ...agents.facts import AgentInput
    from ...context import ServiceContext
    from ...jobs import JobContext, PreparedJob

DEFAULT_AGENT = "worker"
_WORD = re.compile(r"[a-z][a-z0-9-]{3,}")
_STOP = frozenset("""
about after again also because been before being between both could does doing done down during each from
have having here into just more most must need needs only other over same should some such than that their
them then there these they this those through under until very were what when where which while will with
would your task tasks make sure using used write draft cover prepare create update check""".split())


def keywords(text: str) -> list[str]:
    """Distinctive words of ``text``, in first-seen order."""
    return list(dict.fromkeys(w for w in _WORD.findall(text.lower()) if w not in _STOP))


def relevant_lines(words: list[str], documents: list[tuple[str, str]], limit: int = 5) -> list[tuple[str, str]]:
    """``(filename, line)`` pairs sharing the most keywords with the task; ties keep document order."""
    wanted = set(words)
    scored: list[tuple[int, int, str, str]] = []
    order = 0
    for filename, text in documents:
        for line in text.splitlines():
            clean = line.strip(" #-*|\t")
            if len(clean) < 12:
                continue
            score = len(wanted & set(_WORD.findall(clean.lower())))
            if score:
                scored.append((-score, order, filename, clean[:160]))
            order += 1
    scored.sort()
    return [(f, line) for _, _, f, line in scored[:limit]]


def work_note(title: str, description: str, found: list[tuple[str, str]], words: list[str]) -> str:
    first = description.strip().split("\n\n")[0].strip() if description.strip() else "No description was given."
    lines = [f"## Work note: {title}", "", f"**Understanding.** {first}", ""]
    lines.append("### What the project's documents say")
    if found:
        lines += [f"- *{filename}*: {line}" for filename, line in found]
    else:
        lines.append("- Nothing in the project's documents mentions this task's subject.")
    focus = ", ".join(words[:4]) if words else "the task as described"
    lines += [
        "", "### Steps taken",
        f"1. Read the task and pulled out its subject: {focus}.",
        f"2. Checked the project's documents ({len({f for f, _ in found})} with relevant lines).",
        "3. Drafted the outcome below and handed the task to review.",
        "", "### Outcome",
        f"A first pass on *{title}* is ready for review"
        + (", grounded in the documents quoted above." if found else "; no project document covers it yet."),
    ]
    return "\n".join(lines) + "\n"


async def produce(inp: AgentInput) -> Any:
    """The *worker* agent: a work note from the prompt (task) and the project's documents."""
    from ...agents.registry import BuiltinResult

    title, _, description = inp.prompt.partition("\n")
    title = title.removeprefix("Task:").strip() or "the task"
    documents: list[tuple[str, str]] = []
    if inp.project is not None:
        rows = await inp.session.execute(select(col(DocumentRow.filename), col(DocumentRow.text))
                                         .where(col(DocumentRow.project_id) == inp.project.id)
                                         .order_by(col(DocumentRow.id)).limit(200))
        documents = [(r[0], r[1] or "") for r in rows]
    words = keywords(inp.prompt)
    found = relevant_lines(words, documents)
    return BuiltinResult(text=work_note(title, description.strip(), found, words),
                         sources=sorted({f for f, _ in found}), data={"keywords": words[:10]})


def register_worker_agent() -> None:
    """Make sure the worker is registered (the registry's loader registers it with
    the other built-ins; this is for callers that only need the worker)."""
    from ...agents import registry

    registry.all_agents()


def worker_spec() -> Any:
    """The built-in worker's registry entry (the agents registry loads it with the others)."""
    from ...agents import registry

    return registry.AgentSpec(
        name=DEFAULT_AGENT, title="Worker",
        description="Works a task from its description and the project's documents, then hands it to review.",
        tags=("tasks", "execution"), examples=("Run the task 'Write the release notes'",), produce=produce,
        needs_project=True,
        skills=(registry.SkillSpec(id="task-execution", name="Task execution",
                                   description="Works a task and writes a work note for its reviewer.",
                                   tags=("tasks",)),),
    )


def prompt_for(task: TaskRow) -> str:
    return f"Task: {task.title}\n{task.description}".strip()[:19_000]


# ---- the job kind ------------------------------------------------------------------------


async def prepare(ctx: ServiceContext, s: AsyncSession, principal: Principal, data: AgentJobCreate) -> PreparedJob:
    from ...agents.registry import get_agent
    from ...jobs import PreparedJob

    if not data.task_id:
        raise Invalid("a task_run job needs task_id")
    task, _ = await editable_task(s, principal, data.task_id, "running agents on tasks")
    if data.project_id and data.project_id != task.project_id:
        raise Invalid("project_id does not match the task's project")
    if task.status not in ("todo", "in_progress"):
        raise Conflict(f"an agent can only work a task in todo or in_progress (this one is {task.status})")
    busy = await s.scalar(select(col(AgentJobRow.id)).where(col(AgentJobRow.task_id) == task.id,
                                                       col(AgentJobRow.status).in_(("queued", "running"))))
    if busy:
        raise Conflict(f"the task already has an agent job in progress ({busy})")
    params = dict(data.params)
    agent = str(params.get("agent") or DEFAULT_AGENT)
    register_worker_agent()
    try:
        params["agent"] = get_agent(agent).name
    except NotFound as exc:
        raise Invalid(str(exc)) from None
    return PreparedJob(task.project_id, task.id, params)


async def on_queued(ctx: ServiceContext, s: AsyncSession, principal: Principal, job: AgentJobRow) -> None:
    from . import TaskService

    task = await s.get(TaskRow, job.task_id)
    if task is not None:
        task.agent_job_id = job.id
        await TaskService(ctx)._log(s, principal, task, "agent_job_queued",
                                    f"{job.params.get('agent', DEFAULT_AGENT)} queued", job_id=job.id)


async def run_task(job: JobContext) -> dict[str, Any]:
    from ...agents.runtime import run_agent

    tasks, p = job.services.tasks, job.principal
    task_id = job.job.task_id
    if task_id is None:
        raise NotFound("the job's task was deleted")
    agent = str(job.params.get("agent") or DEFAULT_AGENT)
    register_worker_agent()
    await job.progress(5, "reading the task")
    detail = await tasks.get(p, task_id)
    earlier = _earlier_success(detail, job.job.id)
    if earlier is not None:
        left = _steps_left(detail, earlier)
        if left is not None:
            return await _finish_earlier(job, detail, earlier, left)
    if detail.status == TaskStatus.todo:
        await tasks.set_status(p, task_id, "in_progress", "")
    elif detail.status != TaskStatus.in_progress:
        raise Conflict(f"the task is {detail.status.value}; there is nothing to run")
    for stale in detail.agent_runs:  # an earlier attempt of this job that was interrupted
        if stale.job_id == job.job.id and stale.status == "running":
            await tasks.update_agent_run(p, stale.id,
                                         AgentRunUpdate(status=AgentRunStatus.failed, summary="interrupted"))
    run = await tasks.create_agent_run(p, task_id, AgentRunCreate(agent=agent, job_id=job.job.id))
    try:
        await job.progress(25, f"{agent} is working")
        async with job.ctx.db.read() as s:
            row = await s.get(TaskRow, task_id)
            if row is None:
                raise NotFound("the job's task was deleted")
            prompt = prompt_for(row)
        answer = await run_agent(job.ctx, None, p, agent, prompt, project_id=detail.project_id)
        await job.progress(80, "recording the result")
        summary = next((ln.strip("# ").strip() for ln in answer.text.splitlines() if ln.strip()), "")[:200]
        await tasks.update_agent_run(p, run.id, AgentRunUpdate(
            status=AgentRunStatus.succeeded, summary=summary, output=answer.text, input_tokens=answer.tokens_in,
            output_tokens=answer.tokens_out))
        await tasks.set_status(p, task_id, "review", _handed_over(agent))
        await _review_or_skip(job, agent, task_id, answer.text)
    except BaseException as exc:
        cancelled = not isinstance(exc, Exception) or type(exc).__name__ == "JobCancelled"
        await _close_run(job, run.id, task_id, "cancelled" if cancelled else "failed", exc)
        raise
    return {"task_id": task_id, "run_id": run.id, "agent": agent, "summary": summary,
            "input_tokens": answer.tokens_in, "output_tokens": answer.tokens_out}


def _handed_over(agent: str) -> str:
    """The reason of the job's own move to review (a later attempt looks for it)."""
    return f"{agent} finished; ready for review"


async def _review_or_skip(job: JobContext, agent: str, task_id: str, output: str) -> None:
    """The last step: approve at once when the admin's pipeline policy does not require review."""
    skip, why = await _may_skip_review(job, agent, output)
    if skip:
        await job.services.tasks.approve(job.principal, task_id,
                                         "approved automatically: the pipeline policy does not require review")
    elif why:
        await job.progress(90, why)


def _earlier_success(detail: TaskDetail, job_id: str) -> AgentRun | None:
    """The agent run an earlier attempt of this job finished successfully, if any."""
    return next((r for r in detail.agent_runs if r.job_id == job_id and r.status == AgentRunStatus.succeeded), None)


def _steps_left(detail: TaskDetail, earlier: AgentRun) -> str | None:
    """What an earlier, successful attempt left undone: ``"review"`` (move the task to
    review, then the policy's approval), ``"policy"`` (only the pipeline policy's approval)
    or ``""`` (nothing); None when the work is to be done (again): someone moved the task
    back since, or it is too long ago to tell."""
    moves: list[TaskEvent] = []  # the task's status moves since the run succeeded
    for event in detail.recent_events:  # newest first
        if event.data.get("run_id") == earlier.id and event.data.get("run_status") == AgentRunStatus.succeeded.value:
            break
        if "old" in event.data and "new" in event.data:
            moves.append(event)
    else:  # the run's success is older than the recent events
        return None if detail.status in (TaskStatus.todo, TaskStatus.in_progress) else ""
    if detail.status == TaskStatus.in_progress:
        return "review" if not moves else None
    if detail.status == TaskStatus.todo:
        return None
    if detail.status == TaskStatus.review and len(moves) == 1 and \
            moves[0].data.get("reason") == _handed_over(earlier.agent):
        return "policy"
    return ""


async def _finish_earlier(job: JobContext, detail: TaskDetail, earlier: AgentRun, left: str) -> dict[str, Any]:
    """Finish a job whose work an earlier attempt did: only the steps left, then succeed."""
    note = f"already done by an earlier attempt (agent run {earlier.id})"
    if left == "review":
        await job.progress(80, f"{note}; moving the task to review")
        await job.services.tasks.set_status(job.principal, detail.id, "review", _handed_over(earlier.agent))
    elif left == "policy":
        await job.progress(85, f"{note}; the task is in review")
    else:
        await job.progress(95, f"{note}; the task is {detail.status.value}, nothing left to do")
    if left in ("review", "policy"):
        await _review_or_skip(job, earlier.agent, detail.id, earlier.output)
    return {"task_id": detail.id, "run_id": earlier.id, "agent": earlier.agent, "summary": earlier.summary,
            "input_tokens": earlier.input_tokens, "output_tokens": earlier.output_tokens, "already_done": True,
            "note": note}


async def _may_skip_review(job: JobContext, agent: str, output: str) -> tuple[bool, str]:
    """(skip review?, why not): only when the pipeline policy does not require review and
    the output passes validation (the policy's threshold and, when prompt standards are
    enforced, the agent's standard)."""
    from ..admin.pipeline import pipeline_policy, policy_rubric
    from ..validation.scorer import score_output

    async with job.ctx.db.read() as s:
        if (await pipeline_policy(s)).require_review:
            return False, ""
        rubric = await policy_rubric(s, agent)
    scored = score_output(output, rubric)
    if scored.passed:
        return True, ""
    failed = ", ".join(f.check.value for f in scored.findings if not f.passed) or "score"
    return False, f"left for review: validation scored {scored.score} (pass {rubric.threshold}; failed {failed})"


async def _close_run(job: JobContext, run_id: str, task_id: str, status: str, exc: BaseException) -> None:
    """After a failure or cancel: close the run record; a failure also fails the task."""
    tasks, p = job.services.tasks, job.principal
    reason = str(exc) if isinstance(exc, CrewOSError) else (type(exc).__name__ if status == "failed" else "")
    try:
        await tasks.update_agent_run(p, run_id, AgentRunUpdate(status=AgentRunStatus(status), summary=reason or status))
        if status == "failed":
            current = await tasks.get(p, task_id)
            if current.status == TaskStatus.in_progress:
                await tasks.set_status(p, task_id, "failed", reason or "the agent failed")
    except CrewOSError:
        pass  # the task changed meanwhile; the job's own outcome still records what happened
