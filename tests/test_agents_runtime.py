"""The agent runtime: guards, the answer cache interface, the run event, token counts,
cancelling, the model endpoint and its fallback, and deterministic built-in answers."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from crewos_tui.backend import errors
from crewos_tui.backend.ids import FixedClock
from crewos_tui.backend.local.agents import llm, route, run_agent
from crewos_tui.backend.local.agents.planner import propose
from crewos_tui.backend.local.agents.runtime import LLMEndpoint, chunks, count_tokens
from crewos_tui.backend.local.demo import seed_demo
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.tables import DomainEventRow
from crewos_tui.backend.schemas import ProjectCreate

from .conftest import DEMO_NOW, fast_settings


@dataclass
class FakeCache:
    stored: dict = field(default_factory=dict)
    gets: int = 0

    async def get(self, session, principal, *, agent, prompt, project_id=None):
        self.gets += 1
        return self.stored.get((agent, prompt, project_id))

    async def put(self, session, principal, *, agent, prompt, project_id=None, answer=None):
        self.stored[(agent, prompt, project_id)] = answer


@pytest.fixture
async def plain(services: Services) -> Services:
    """The service layer without the admin slice's guards, cache and router."""
    services.ctx.agent_guards = []
    services.ctx.answer_cache = None
    services.ctx.llm_router = None
    services.ctx.settings.stream_chunk_delay = 0
    return services


async def owner(svc: Services, make_user):
    user, _ = await make_user()
    p = await svc.auth.principal_for(user.username)
    project = await svc.projects.create(p, ProjectCreate(name="Runtime", description="About runtimes."))
    return p, project


async def run_events(svc: Services) -> list[DomainEventRow]:
    async with svc.ctx.db.read() as s:
        return list((await s.execute(select(DomainEventRow).where(DomainEventRow.kind == "agent.run_completed")
                                     .order_by(DomainEventRow.id))).scalars())


def test_count_tokens_is_words_times_four_thirds_rounded():
    assert [count_tokens(t) for t in ("", "one", "one two", "a b c", "a b c d")] == [0, 1, 3, 4, 5]


def test_chunks_rejoin_to_the_text():
    text = "  # Title\n\nsome words here,  and more\n- item\n"
    assert "".join(chunks(text)) == text and all(chunks(text))


def test_routing_rule():
    assert route("Prepare the project update") == "reporter"
    assert route("Plan the beta") == "planner" and route("break down the launch") == "planner"
    assert route("hello") == "helper"
    assert route("Plan it", "reporter") == "reporter"
    with pytest.raises(errors.NotFound):
        route("x", "oracle")


def test_planner_rules():
    listed = propose("Tasks:\n- write docs\n- record demo\n1. email customers")
    assert [t["title"] for t in listed] == ["Write docs", "Record demo", "Email customers"]
    chained = propose("write docs then record demo then ship")
    assert [t["depends_on"] for t in chained] == [[], [0], [1]]
    steps = propose("Plan the beta launch")
    assert steps[0]["title"] == "Define scope and acceptance criteria for beta launch" and len(steps) == 4


async def test_a_run_emits_one_event_with_usage(plain: Services, make_user):
    p, project = await owner(plain, make_user)
    answer = await run_agent(plain.ctx, None, p, "reporter", "Prepare the project update", project_id=project.id)
    assert answer.tokens_in == count_tokens("Prepare the project update") == 5
    assert answer.tokens_out == count_tokens(answer.text) and answer.model == "builtin"
    [ev] = await run_events(plain)
    assert ev.resource_id == answer.run_id and ev.project_id == project.id
    assert ev.data == {"agent": "reporter", "user_id": p.user_id, "team": p.team, "tokens_in": 5,
                       "tokens_out": answer.tokens_out, "cached": False, "status": "completed", "model": "builtin",
                       "chat_session_id": None}


async def test_guards_see_the_run_and_can_refuse_it(plain: Services, make_user):
    p, project = await owner(plain, make_user)
    seen = []

    async def guard(session, principal, agent, prompt, project_id):
        seen.append((principal.user_id, agent, prompt, project_id))
        if "forbidden" in prompt:
            raise errors.Forbidden("not today")

    plain.ctx.agent_guards.append(guard)
    await run_agent(plain.ctx, None, p, "helper", "hello", project_id=project.id)
    with pytest.raises(errors.Forbidden, match="not today"):
        await run_agent(plain.ctx, None, p, "helper", "forbidden words")
    assert seen == [(p.user_id, "helper", "hello", project.id), (p.user_id, "helper", "forbidden words", None)]
    assert len(await run_events(plain)) == 1  # the refused run recorded nothing


async def test_answer_cache_is_consulted_and_filled(plain: Services, make_user):
    p, project = await owner(plain, make_user)
    cache = plain.ctx.answer_cache = FakeCache()
    first = await run_agent(plain.ctx, None, p, "reporter", "status", project_id=project.id)
    assert not first.cached and cache.stored[("reporter", "status", project.id)] is first
    second = await run_agent(plain.ctx, None, p, "reporter", "status", project_id=project.id)
    assert second.cached and second.text == first.text and (second.tokens_in, second.tokens_out) == (0, 0)
    assert cache.gets == 2
    assert [e.data["cached"] for e in await run_events(plain)] == [False, True]


async def test_bad_runs(plain: Services, make_user):
    p, _ = await owner(plain, make_user)
    with pytest.raises(errors.NotFound):
        await run_agent(plain.ctx, None, p, "oracle", "hi")
    with pytest.raises(errors.Invalid):
        await run_agent(plain.ctx, None, p, "helper", " ")
    with pytest.raises(errors.PayloadTooLarge):
        await run_agent(plain.ctx, None, p, "helper", "x" * 20_001)
    with pytest.raises(errors.NotFound):
        await run_agent(plain.ctx, None, p, "helper", "hi", project_id="01ARZ3NDEKTSV4RRFFQ69G5FAV")


async def test_cancel_event_and_hard_cancel_keep_the_partial_answer(plain: Services, make_user):
    p, _project = await owner(plain, make_user)
    plain.ctx.settings.stream_chunk_delay = 0.01
    cancel = asyncio.Event()
    got: list[str] = []

    async def sink(delta: str) -> None:
        got.append(delta)
        if len(got) == 2:
            cancel.set()

    answer = await run_agent(plain.ctx, None, p, "helper", "hi", stream=sink, cancel=cancel)
    assert answer.cancelled and answer.text == "".join(got) and len(got) == 2

    recorded = []

    async def record(session, ans):
        recorded.append(ans)

    task = asyncio.create_task(run_agent(plain.ctx, None, p, "helper", "hi", stream=lambda d: asyncio.sleep(0),
                                         record=record))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert recorded and recorded[0].cancelled and 0 < len(recorded[0].text) < 2000
    assert [e.data["status"] for e in await run_events(plain)] == ["cancelled", "cancelled"]


def _sse(*datas: str) -> bytes:
    return "".join(f"data: {d}\n\n" for d in datas).encode()


async def test_a_model_endpoint_answers_with_the_workspace_as_context(plain: Services, make_user, monkeypatch):
    p, project = await owner(plain, make_user)
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))

        def chunk(text: str) -> str:
            return json.dumps({"choices": [{"delta": {"content": text}}]})

        usage = json.dumps({"choices": [], "usage": {"prompt_tokens": 42, "completion_tokens": 3}})
        return httpx.Response(200, headers={"content-type": "text/event-stream"},
                              content=_sse(chunk("Hello "), chunk("from the model"), usage, "[DONE]"))

    monkeypatch.setattr(llm, "TRANSPORT", httpx.MockTransport(handler))
    plain.ctx.settings.llm_base_url, plain.ctx.settings.llm_model = "http://model.invalid/v1", "tiny"
    got = []

    async def sink(d):
        got.append(d)

    answer = await run_agent(plain.ctx, None, p, "reporter", "status", project_id=project.id, stream=sink)
    assert answer.text == "Hello from the model" and got == ["Hello ", "from the model"]
    assert (answer.model, answer.tokens_in, answer.tokens_out) == ("tiny", 42, 3)
    system = bodies[0]["messages"][0]["content"]
    assert bodies[0]["model"] == "tiny" and bodies[0]["stream"] is True
    assert f"# Project update: {project.name}" in system  # the built-in answer is the context


async def test_a_failing_model_endpoint_falls_back_to_the_builtin(plain: Services, make_user, monkeypatch):
    p, _ = await owner(plain, make_user)
    monkeypatch.setattr(llm, "TRANSPORT", httpx.MockTransport(lambda r: httpx.Response(503, text="down")))

    async def router(session, principal, agent):
        return LLMEndpoint("http://model.invalid/v1", "tiny")

    plain.ctx.llm_router = router
    answer = await run_agent(plain.ctx, None, p, "helper", "hello")
    assert answer.text.startswith(f"# Hello, {p.username}") and "unavailable" in answer.model


async def test_builtin_answers_are_deterministic_on_demo_data(tmp_path: Path):
    texts = []
    for n in (1, 2):
        path = tmp_path / f"demo{n}.db"
        await seed_demo(path, settings=fast_settings(), now=DEMO_NOW)
        clock = FixedClock(datetime(2026, 4, 1, 9, 0, tzinfo=UTC))  # three weeks after the demo's now
        svc = await Services.open(path, clock=clock, settings=fast_settings(stream_chunk_delay=0))
        try:
            maya = await svc.auth.principal_for("maya")
            atlas = next(x for x in (await svc.projects.list(maya)).items if x.name == "Atlas Launch")
            texts.append([(await run_agent(svc.ctx, None, maya, agent, prompt, project_id=atlas.id)).text
                          for agent, prompt in (("reporter", "Prepare the project update"),
                                                ("planner", "Plan the beta launch"), ("helper", "What now?"))])
        finally:
            await svc.close()
    assert texts[0] == texts[1]
    report, plan, helper = texts[0]
    assert report.startswith("# Project update: Atlas Launch") and "docs/release-plan.md" in report
    assert "2 proposed folder changes awaiting a decision" in report
    assert "1. **Define scope and acceptance criteria for beta launch**" in plan
    assert "Access request: **priya** asks to join *Northwind Advisory* as editor" in helper
