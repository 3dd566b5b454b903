"""The one entry point for every agent execution: chat, task-run jobs, testing scenarios.

``await run_agent(ctx, session, principal, agent_name, prompt, project_id=..., stream=...)``

1. Resolves the agent (404 for an unknown name) and checks the prompt (422 empty,
   413 over ``MAX_PROMPT_CHARS``); a ``project_id`` must be visible to the caller (404).
2. Awaits every guard in ``ctx.agent_guards``:
   ``await guard(session, principal, agent_name, prompt, project_id)``; a guard raises
   (e.g. ``Forbidden``/``RateLimited``) to refuse the run. Nothing is recorded then.
3. Consults ``ctx.answer_cache`` when it is not None. The cache interface (the admin
   slice implements it):

   - ``await cache.get(session, principal, agent=..., prompt=..., project_id=...)``
     returns a cached ``AgentAnswer`` (or any object with ``.text``, or a str), or None.
   - ``await cache.put(session, principal, agent=..., prompt=..., project_id=...,
     answer=AgentAnswer)`` stores a fresh, complete answer (never a cancelled one).

   A cache hit costs no model tokens: the answer has ``cached=True`` and
   ``tokens_in == tokens_out == 0``.
4. Produces the answer: an OpenAI-compatible endpoint when one is configured for the
   agent (``ctx.llm_router`` — ``await router(session, principal, agent_name)`` returning
   an ``LLMEndpoint`` or None — else ``ctx.settings.llm_base_url``/``llm_model``), with
   the built-in agent's answer given to the model as workspace context; otherwise the
   built-in agent, offline and deterministic for the same data. If the endpoint fails
   the built-in answer is used and ``model`` says so.
   The agent's prompt standard (admin slice) applies to both: a model gets it as
   instructions; a built-in answer gains any required section it lacks. How the answer
   meets the standard is kept in ``data["prompt_standard"]["findings"]``.
5. Emits exactly one domain event ``agent.run_completed`` (resource ``agent_run``, the
   run id, and the event's own ``project_id``) with data ``agent, user_id, team, tokens_in,
   tokens_out, cached, status ("completed"|"cancelled"), model, chat_session_id``.

``stream``: an optional ``async def stream(delta: str)`` called with each piece of the
answer as it is produced (a built-in's answer is delivered in small chunks paced by
``ctx.settings.stream_chunk_delay``). ``cancel``: an optional ``asyncio.Event``; when set,
generation stops at the next chunk and the answer comes back with ``cancelled=True``
and the partial text.

``prepare_run(...)`` does steps 1–3 (and computes the built-in answer) and returns a
``PreparedRun`` whose ``execute(...)`` does 4–5; ``run_agent`` is the two in a row. Chat
uses the split so that a refused run writes nothing.

A hard ``Task.cancel()`` during generation still records the partial answer (as
cancelled) before the ``CancelledError`` propagates.

``session``: the caller's database session, used for everything (guards, reading,
the event), or None — then the run reads in its own read session and records in its
own short write transaction, so no write lock is held while an answer streams. Pass
``record=async def(session, answer)`` to write your own rows (e.g. the chat message)
in that same final transaction.

Token counts: built-in agents count ``round(words × 4 / 3)`` (integer, half up) of the
prompt (``tokens_in``) and of the answer (``tokens_out``); an LLM endpoint's reported
usage is used when it gives one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ...errors import Invalid, PayloadTooLarge
from ...principal import Principal
from ...schemas.text import multi_line_problem
from ..context import ServiceContext
from ..services._common import require_user
from ..services.projects.access import load_project
from .facts import AgentInput
from .registry import AgentSpec, BuiltinResult, get_agent

#: The largest prompt an agent accepts (characters).
MAX_PROMPT_CHARS = 20_000
#: Words per streamed chunk of a built-in answer.
CHUNK_WORDS = 3

StreamCallback = Callable[[str], Awaitable[None]]
RecordHook = Callable[[AsyncSession, "AgentAnswer"], Awaitable[None]]


@dataclass
class LLMEndpoint:
    """An OpenAI-compatible chat-completions endpoint (``{base_url}/chat/completions``)."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 60.0


@dataclass
class AgentAnswer:
    text: str
    agent: str
    tokens_in: int
    tokens_out: int
    run_id: str = ""
    model: str = "builtin"
    sources: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    cached: bool = False
    cancelled: bool = False
    project_id: str | None = None

    @property
    def status(self) -> str:
        return "cancelled" if self.cancelled else "completed"


def count_tokens(text: str) -> int:
    """Deterministic token estimate: words × 4/3, rounded half up, as an integer."""
    words = len(text.split())
    return (4 * words + 1) // 3 if words else 0


def check_prompt(prompt: str) -> str:
    if not isinstance(prompt, str) or not prompt.strip():
        raise Invalid("the message is empty")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise PayloadTooLarge(f"the message is {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS}")
    if problem := multi_line_problem(prompt):
        raise Invalid(f"the message {problem}")
    return prompt


def chunks(text: str, words: int = CHUNK_WORDS) -> list[str]:
    """``text`` cut into pieces of a few words, whitespace kept, so joining restores it."""
    pieces = re.findall(r"\s*\S+", text)
    out = ["".join(pieces[i:i + words]) for i in range(0, len(pieces), words)]
    tail = text[len("".join(out)):]
    if tail:
        out.append(tail)
    return out


@contextlib.asynccontextmanager
async def _reading(ctx: ServiceContext, session: AsyncSession | None) -> AsyncIterator[AsyncSession]:
    if session is not None:
        yield session
    else:
        async with ctx.db.read() as s:
            yield s


@contextlib.asynccontextmanager
async def _writing(ctx: ServiceContext, session: AsyncSession | None) -> AsyncIterator[AsyncSession]:
    if session is not None:
        yield session
    else:
        async with ctx.db.transaction() as s:
            yield s


async def resolve_llm(ctx: ServiceContext, session: AsyncSession, principal: Principal,
                      agent: str) -> LLMEndpoint | None:
    """The model endpoint that answers for ``agent``, or None for the built-in."""
    if ctx.llm_router is not None:
        return await ctx.llm_router(session, principal, agent)
    st = ctx.settings
    if st.llm_base_url and st.llm_model:
        return LLMEndpoint(st.llm_base_url, st.llm_model, os.environ.get("CREWOS_LLM_API_KEY"))
    return None


async def deliver(text: str, stream: StreamCallback | None, cancel: asyncio.Event | None, delay: float) -> str:
    """Hand ``text`` to ``stream`` in chunks; returns what was delivered before a cancel."""
    if cancel is not None and cancel.is_set():
        return ""  # cancelled before it started (a queued run)
    if stream is None:
        return text
    sent: list[str] = []
    for i, piece in enumerate(chunks(text)):
        if cancel is not None and cancel.is_set():
            break
        if i and delay > 0:
            await asyncio.sleep(delay)
            if cancel is not None and cancel.is_set():
                break
        await stream(piece)
        sent.append(piece)
    return "".join(sent)


@dataclass
class PreparedRun:
    """A run that passed its checks (agent, prompt, project, guards) and knows its answer
    source. ``execute`` produces, streams and records it. Chat prepares first, so a
    refused run writes nothing, then stores its messages, then executes."""

    ctx: ServiceContext
    principal: Principal
    spec: AgentSpec
    prompt: str
    project_id: str | None
    run_id: str
    cached: Any = None
    endpoint: LLMEndpoint | None = None
    builtin: BuiltinResult | None = None
    #: The admin's prompt standard for this agent (admin slice), or None when it has none.
    standard: Any = None

    @property
    def agent(self) -> str:
        return self.spec.name

    async def execute(
        self,
        session: AsyncSession | None = None,
        *,
        stream: StreamCallback | None = None,
        cancel: asyncio.Event | None = None,
        chat_session_id: str | None = None,
        record: RecordHook | None = None,
    ) -> AgentAnswer:
        collected: list[str] = []

        async def collect(delta: str) -> None:
            collected.append(delta)
            if stream is not None:
                await stream(delta)

        sink = collect if stream is not None else None
        interrupted = False
        try:
            answer = await self._generate(sink, cancel)
        except asyncio.CancelledError:
            # Hard-cancelled mid-answer: keep and record what was delivered, then stop.
            interrupted = True
            text = "".join(collected)
            answer = AgentAnswer(text=text, agent=self.agent, tokens_in=count_tokens(self.prompt),
                                 tokens_out=count_tokens(text), cancelled=True)
        answer.run_id = self.run_id
        answer.project_id = self.project_id
        answer.cancelled = answer.cancelled or (cancel is not None and cancel.is_set())
        # Recording is not interruptible: a cancel arriving now waits for it to commit,
        # so a reply is never left half-recorded.
        recording = asyncio.ensure_future(self._record(session, answer, chat_session_id, record))
        try:
            await asyncio.shield(recording)
        except asyncio.CancelledError:
            await recording
            raise
        if interrupted:
            raise asyncio.CancelledError
        return answer

    async def _generate(self, stream: StreamCallback | None, cancel: asyncio.Event | None) -> AgentAnswer:
        spec, delay = self.spec, self.ctx.settings.stream_chunk_delay
        if self.cached is not None:
            cached = self.cached
            full = cached if isinstance(cached, str) else str(cached.text)
            text = await deliver(full, stream, cancel, 0)
            return AgentAnswer(text=text, agent=spec.name, tokens_in=0, tokens_out=0, cached=True,
                               model=getattr(cached, "model", "cache"), sources=list(getattr(cached, "sources", [])),
                               data=dict(getattr(cached, "data", {})), cancelled=len(text) < len(full))
        assert self.builtin is not None
        if self.endpoint is not None:
            from ..services.admin.pipeline import standard_instructions
            from .llm import complete  # httpx only when a model is configured

            instructions = standard_instructions(self.standard) if self.standard is not None else ""
            answer = await complete(self.endpoint, spec, self.prompt, self.builtin, stream, cancel, instructions)
            if answer is not None:
                return self._checked(answer)
            text = await deliver(self.builtin.text, stream, cancel, delay)
            answer = _builtin_answer(spec.name, self.prompt, self.builtin, text)
            answer.model = f"builtin (model {self.endpoint.model} unavailable)"
            return self._checked(answer)
        text = await deliver(self.builtin.text, stream, cancel, delay)
        return self._checked(_builtin_answer(spec.name, self.prompt, self.builtin, text))

    def _checked(self, answer: AgentAnswer) -> AgentAnswer:
        """Record how a fresh answer meets the agent's prompt standard (``data["prompt_standard"]``)."""
        if self.standard is not None and not answer.cancelled:
            from ..services.admin.pipeline import check_against_standard

            answer.data["prompt_standard"] = {"findings": check_against_standard(answer.text, self.standard)}
        return answer

    async def _record(self, session: AsyncSession | None, answer: AgentAnswer, chat_session_id: str | None,
                      record: RecordHook | None) -> None:
        ctx, principal, cache = self.ctx, self.principal, self.ctx.answer_cache
        async with _writing(ctx, session) as s:
            if cache is not None and self.cached is None and not answer.cancelled:
                await cache.put(s, principal, agent=self.agent, prompt=self.prompt, project_id=self.project_id,
                                answer=answer)
            await ctx.events.emit(
                s, principal, "agent.run_completed", "agent_run", self.run_id, self.project_id,
                agent=self.agent, user_id=principal.user_id, team=principal.team,
                tokens_in=answer.tokens_in, tokens_out=answer.tokens_out, cached=answer.cached,
                status=answer.status, model=answer.model, chat_session_id=chat_session_id,
            )
            if record is not None:
                await record(s, answer)


async def prepare_run(
    ctx: ServiceContext,
    session: AsyncSession | None,
    principal: Principal,
    agent_name: str,
    prompt: str,
    *,
    project_id: str | None = None,
) -> PreparedRun:
    """Steps 1–4 up to producing: checks, guards, cache lookup, model routing, the built-in answer."""
    require_user(principal)
    spec = get_agent(agent_name)
    check_prompt(prompt)
    run = PreparedRun(ctx, principal, spec, prompt, project_id, run_id=ctx.ids.new())
    async with _reading(ctx, session) as s:
        project = (await load_project(s, principal, project_id)).project if project_id else None
        for guard in ctx.agent_guards:
            await guard(s, principal, spec.name, prompt, project_id)
        if ctx.answer_cache is not None:
            run.cached = await ctx.answer_cache.get(s, principal, agent=spec.name, prompt=prompt,
                                                    project_id=project_id)
        if run.cached is None:
            run.endpoint = await resolve_llm(ctx, s, principal, spec.name)
            run.builtin = await spec.produce(AgentInput(ctx, s, principal, prompt, project))
            run.standard = await _standard(s, spec.name)
            if run.standard is not None:
                from ..services.admin.pipeline import conform

                run.builtin.text = conform(run.builtin.text, run.standard)
    return run


async def _standard(s: AsyncSession, agent: str) -> Any:
    """The agent's prompt standard (admin slice), or None when none is set."""
    from ..services.admin.pipeline import is_empty, prompt_standard

    standard = await prompt_standard(s, agent)
    return None if is_empty(standard) else standard


async def run_agent(
    ctx: ServiceContext,
    session: AsyncSession | None,
    principal: Principal,
    agent_name: str,
    prompt: str,
    *,
    project_id: str | None = None,
    stream: StreamCallback | None = None,
    cancel: asyncio.Event | None = None,
    chat_session_id: str | None = None,
    record: RecordHook | None = None,
) -> AgentAnswer:
    """Run one agent on ``prompt``; see the module docstring for the whole contract."""
    run = await prepare_run(ctx, session, principal, agent_name, prompt, project_id=project_id)
    return await run.execute(session, stream=stream, cancel=cancel, chat_session_id=chat_session_id, record=record)


def _builtin_answer(agent: str, prompt: str, result: BuiltinResult, text: str) -> AgentAnswer:
    return AgentAnswer(text=text, agent=agent, tokens_in=count_tokens(prompt), tokens_out=count_tokens(text),
                       sources=list(result.sources), data=dict(result.data), cancelled=len(text) < len(result.text))
