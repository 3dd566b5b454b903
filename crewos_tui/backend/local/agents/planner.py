"""The planner: turns a request into proposed tasks the user can accept into the board.

The proposal is data in the answer (``data["proposal"]["tasks"]``: title,
description, priority, depends_on indexes) and a numbered markdown list. Rules,
first that applies:

1. list lines in the request (``- x``, ``* x``, ``1. x``) → one task each;
2. clauses joined by ``;``, ``then`` or commas (at least two) → one task each, in order,
   each after the previous when ``then`` joins them;
3. otherwise the subject is planned in four steps: scope, draft, review, publish.

Tasks whose title already exists in the project (when the tasks slice is present)
are left out, so asking twice does not propose duplicates.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from .facts import AgentInput, col, table
from .registry import AgentSpec, BuiltinResult, SkillSpec, register

_LIST_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.+?)\s*$")
_LEAD = re.compile(
    r"^\s*(?:please\s+)?(?:(?:can|could)\s+you\s+)?(?:make|create|draft|write|give\s+me|propose)?\s*"
    r"(?:a\s+)?(?:plan(?:ning)?|break\s+down|split(?:\s+up)?|tasks?|steps|roadmap|milestones?)"
    r"(?:\s+(?:for|to|of|on|into))?\s*(?:tasks?\s+(?:for|to)\s+)?(?:the\s+)?",
    re.IGNORECASE,
)
MAX_TASKS = 12


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" .:;,!?")
    return text[:1].upper() + text[1:120] if text else ""


def subject_of(request: str) -> str:
    first = request.strip().splitlines()[0] if request.strip() else ""
    stripped = _LEAD.sub("", first, count=1)
    return _clean(stripped or first)


def _steps(subject: str) -> list[dict[str, Any]]:
    low = subject[:1].lower() + subject[1:]
    return [
        {"title": f"Define scope and acceptance criteria for {low}",
         "description": f"Agree what is in and out of {low}, and how we know it is done.", "priority": "high"},
        {"title": f"Draft {low}", "description": f"Produce a first complete version of {low}.",
         "priority": "medium"},
        {"title": f"Review {low} with stakeholders",
         "description": "Collect feedback, decide what changes, record the decision.", "priority": "medium"},
        {"title": f"Finalise and publish {low}", "description": "Apply the review outcome and share the result.",
         "priority": "medium"},
    ]


def propose(request: str) -> list[dict[str, Any]]:
    lines = [m.group(1) for m in map(_LIST_LINE.match, request.splitlines()) if m]
    chained = False
    if len(lines) >= 1:
        parts = lines
    else:
        body = subject_of(request)
        chained = bool(re.search(r"\bthen\b", body, re.IGNORECASE))
        parts = [p for p in re.split(r";|,?\s+then\s+|,\s*(?:and\s+)?|\s+and\s+then\s+", body, flags=re.IGNORECASE)
                 if p.strip()]
        if len(parts) < 2:
            tasks = _steps(body or "the request")
            for i, t in enumerate(tasks):
                t["depends_on"] = [i - 1] if i else []
            return tasks
    tasks = []
    for i, part in enumerate(parts[:MAX_TASKS]):
        title = _clean(part)
        tasks.append({"title": title, "description": f"From the request: {part.strip()}",
                      "priority": "high" if i == 0 else "medium",
                      "depends_on": [i - 1] if chained and i else []})
    return [t for t in tasks if t["title"]]


async def _existing_titles(inp: AgentInput) -> set[str]:
    t = table("tasks")
    if t is None or inp.project is None or col(t, "project_id") is None or col(t, "title") is None:
        return set()
    rows = await inp.session.execute(select(t.c.title).where(t.c.project_id == inp.project.id))
    return {str(r[0]).casefold() for r in rows}


async def produce(inp: AgentInput) -> BuiltinResult:
    tasks = propose(inp.prompt)
    existing = await _existing_titles(inp)
    kept = [t for t in tasks if t["title"].casefold() not in existing]
    # Re-number dependencies after dropping duplicates.
    index = {id(t): i for i, t in enumerate(kept)}
    old = dict(enumerate(tasks))
    for t in kept:
        t["depends_on"] = [index[id(old[d])] for d in t.get("depends_on", []) if id(old[d]) in index]
    where = f" for {inp.project.name}" if inp.project else ""
    lines = [f"## Proposed tasks{where}", ""]
    if not kept:
        lines.append("Every task I would propose already exists on the board.")
    for i, t in enumerate(kept, 1):
        after = f"; after {', '.join(str(d + 1) for d in t['depends_on'])}" if t["depends_on"] else ""
        lines.append(f"{i}. **{t['title']}** — {t['description']} _(priority {t['priority']}{after})_")
    skipped = len(tasks) - len(kept)
    if skipped:
        lines += ["", f"Left out {skipped} task{'s' if skipped != 1 else ''} already on the board."]
    if kept:
        lines += ["", "Accept the proposal to add these tasks to the board" +
                  ("." if inp.project else " (choose a project first).")]
    proposal = {"project_id": inp.project.id if inp.project else None, "tasks": kept}
    return BuiltinResult(text="\n".join(lines) + "\n", sources=["request"], data={"proposal": proposal})


register(AgentSpec(
    name="planner",
    title="Planner",
    description="Turns a request into proposed tasks you can accept into the project board.",
    tags=("planning", "tasks"),
    examples=("Plan the beta launch", "Break down: write docs; record demo; email customers"),
    produce=produce,
    skills=(
        SkillSpec(id="task-breakdown", name="Task breakdown",
                  description="Split a request into ordered, prioritised tasks with dependencies.",
                  tags=("tasks", "planning"), examples=("Plan the beta launch",),
                  output_modes=("text/markdown", "application/json")),
    ),
))
