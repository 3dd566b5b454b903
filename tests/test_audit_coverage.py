"""Audit coverage: every state-changing endpoint implemented so far writes exactly one
audit event per change (and every create, sent again with its idempotency key, answers
the same and writes none: ``idempotency_support.ReplayingTransport``).

Each scenario calls one endpoint through the real HTTP app (``RemoteBackend`` over an
in-process ASGI transport) and checks what that one request recorded: at least one
domain event (a change), and exactly one audit event per domain event, with the same
event id and action. ``test_every_state_changing_endpoint_has_a_scenario`` walks the
API map: a non-GET endpoint of an implemented group (the auth matrix's list) without
a scenario here fails it, so a new slice's endpoints join the check.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import select

from crewos_tui.backend.local.services import Services
from crewos_tui.backend.local.tables import AuditEventRow, DomainEventRow
from crewos_tui.backend.principal import Principal
from crewos_tui.backend.remote import RemoteBackend
from crewos_tui.backend.schemas import (
    AccessRequestCreate,
    AccessRequestDecision,
    AgentNamespacePolicyUpdate,
    ApiKeyCreate,
    CacheInvalidate,
    ChatSessionCreate,
    ChatSessionUpdate,
    LlmConfigUpdate,
    LlmRouteUpdate,
    MessageFeedbackCreate,
    NotificationPreferencesUpdate,
    PipelinePolicyUpdate,
    ProjectCreate,
    ProjectUpdate,
    PromptStandardUpsert,
    SessionShareCreate,
    TeamToolConfigUpdate,
    TokenBudgetUpdate,
    UserCreate,
    UserUpdate,
)
from crewos_tui.backend.schemas.projects import FolderUpdateCreate, ProjectRole
from crewos_tui.backend.server.app import create_app

from .conftest import PASSWORD, fast_settings, unique
from .endpoint_map import ENDPOINTS
from .endpoint_map import GROUPS as IMPLEMENTED_GROUPS
from .idempotency_support import ReplayingTransport, create_routes

pytestmark = pytest.mark.asyncio(loop_scope="module")
SYSTEM = Principal.system()


@dataclass
class Env:
    services: Services
    app: Any
    transport: httpx.AsyncBaseTransport
    measured: dict[str, list[str]] = field(default_factory=dict)  # endpoint -> actions recorded
    clients: list[RemoteBackend] = field(default_factory=list)

    def client(self, **kwargs: Any) -> RemoteBackend:
        backend = RemoteBackend("http://audit.test", transport=self.transport, **kwargs)
        self.clients.append(backend)
        return backend

    async def user(self, role: str = "member", team: str = "default") -> tuple[Any, RemoteBackend]:
        info = await self.services.auth.create_user(SYSTEM, UserCreate(username=unique("cov"), password=PASSWORD,
                                                                       role=role, team=team))
        principal = await self.services.auth.principal_for(info.username)
        key = (await self.services.auth.create_api_key(principal, ApiKeyCreate(name=unique("k")))).key
        return info, self.client(api_key=key)

    # ---- what the contract tests' setup helpers expect of a "world" -------------------

    async def as_(self, info: Any, scopes: list[str] | None = None) -> RemoteBackend:
        principal = await self.services.auth.principal_for(info.username)
        key = (await self.services.auth.create_api_key(principal, ApiKeyCreate(name=unique("k"), scopes=scopes))).key
        return self.client(api_key=key)

    async def world_user(self, role: str = "member", team: str = "default", username: str | None = None) -> Any:
        return await self.services.auth.create_user(SYSTEM, UserCreate(username=username or unique("cov"),
                                                                       password=PASSWORD, role=role, team=team))

    def as_world(self) -> Any:
        """This env as the contract helpers see a world (``user`` answers a UserInfo)."""
        env = self

        class World:
            services = env.services
            kind = "remote"
            user = staticmethod(env.world_user)
            as_ = staticmethod(env.as_)

        return World()

    async def session_of(self, info: Any) -> RemoteBackend:
        backend = self.client()
        await backend.auth.login(info.username, PASSWORD)
        return backend

    async def _mark(self) -> tuple[int, int]:
        async with self.services.ctx.db.read() as s:
            seq = await s.scalar(select(AuditEventRow.seq).order_by(AuditEventRow.seq.desc()).limit(1)) or 0
            last = await s.scalar(select(DomainEventRow.id).order_by(DomainEventRow.id.desc()).limit(1)) or ""
        return seq, last

    async def measure(self, endpoint: str, call: Awaitable[Any] | AsyncIterator[Any], *expected: str) -> Any:
        """Run one endpoint call; check it wrote one audit event per domain event it recorded."""
        seq, last = await self._mark()
        if hasattr(call, "__aiter__"):  # a stream: the change happens while it is read
            result = [item async for item in call]  # type: ignore[attr-defined]
        else:
            result = await call
        async with self.services.ctx.db.read() as s:
            events = (await s.scalars(select(DomainEventRow).where(DomainEventRow.id > last)
                                      .order_by(DomainEventRow.id))).all()
            audits = (await s.scalars(select(AuditEventRow).where(AuditEventRow.seq > seq)
                                      .order_by(AuditEventRow.seq))).all()
        assert events, f"{endpoint}: no change was recorded"
        assert [a.event_id for a in audits] == [e.id for e in events], f"{endpoint}: audit events do not match"
        assert [a.action for a in audits] == [e.kind for e in events]
        assert [a.seq for a in audits] == list(range(seq + 1, seq + 1 + len(audits)))
        actions = [a.action for a in audits]
        for kind in expected:
            assert kind in actions, f"{endpoint}: expected {kind} in {actions}"
        self.measured.setdefault(endpoint, []).extend(actions)
        return result


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    services = await Services.open(tmp_path_factory.mktemp("coverage") / "crewos.db", settings=fast_settings())
    app = create_app(services, login_attempts_per_minute=100_000)

    async def events() -> int:
        async with services.ctx.db.read() as s:
            return len((await s.scalars(select(DomainEventRow.id))).all())

    e = Env(services, app, ReplayingTransport(app, events))
    yield e
    for c in e.clients:
        await c.close()
    await services.close()


Scenario = Callable[[Env], Awaitable[None]]
SCENARIOS: list[tuple[str, Scenario]] = []


def scenario(*endpoints: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        SCENARIOS.append((", ".join(endpoints), fn))
        fn.endpoints = endpoints  # type: ignore[attr-defined]
        return fn

    return register


# ---- authentication and API keys ---------------------------------------------------------------------


@scenario("POST /api/v1/auth/login", "POST /api/v1/auth/refresh", "POST /api/v1/auth/logout",
          "POST /api/v1/auth/logout-all", "POST /api/v1/auth/api-keys", "DELETE /api/v1/auth/api-keys/{key_id}")
async def auth_flow(env: Env) -> None:
    info, _ = await env.user()
    b = env.client()
    pair = await env.measure("POST /api/v1/auth/login", b.auth.login(info.username, PASSWORD), "auth.login")
    await env.measure("POST /api/v1/auth/refresh", b.auth.refresh(pair.refresh_token), "auth.refreshed")
    created = await env.measure("POST /api/v1/auth/api-keys", b.auth.create_api_key(ApiKeyCreate(name="cov")),
                                "api_key.created")
    await env.measure("DELETE /api/v1/auth/api-keys/{key_id}", b.auth.revoke_api_key(created.id), "api_key.revoked")
    await env.measure("POST /api/v1/auth/logout", b.auth.logout(), "auth.logout")
    again = await env.session_of(info)
    await env.measure("POST /api/v1/auth/logout-all", again.auth.logout_all(), "auth.logout_all")
    await env.measure("POST /api/v1/auth/login", env.client().auth.login(info.username, PASSWORD), "auth.login")


# ---- projects -------------------------------------------------------------------------------------------


@scenario("POST /api/v1/projects", "PATCH /api/v1/projects/{project_id}",
          "PATCH /api/v1/projects/{project_id}/members/{member_user_id}",
          "DELETE /api/v1/projects/{project_id}/members/{member_user_id}",
          "POST /api/v1/projects/{project_id}/access-requests",
          "PATCH /api/v1/projects/{project_id}/access-requests/{access_request_id}",
          "POST /api/v1/projects/{project_id}/documents/upload",
          "POST /api/v1/projects/{project_id}/documents/reingest",
          "POST /api/v1/projects/{project_id}/folder-updates/{folder_update_id}/approve",
          "POST /api/v1/projects/{project_id}/folder-updates/{folder_update_id}/reject",
          "POST /api/v1/projects/{project_id}/archive", "DELETE /api/v1/projects/{project_id}")
async def project_flow(env: Env) -> None:
    owner, b = await env.user()
    other, ob = await env.user()
    p = await env.measure("POST /api/v1/projects", b.projects.create(ProjectCreate(name=unique("Cov "))),
                          "project.created")
    await env.measure("PATCH /api/v1/projects/{project_id}", b.projects.update(p.id, ProjectUpdate(description="d")),
                      "project.updated")
    await env.measure("PATCH /api/v1/projects/{project_id}/members/{member_user_id}",
                      b.projects.upsert_member(p.id, other.id, ProjectRole.viewer), "project.member_added")
    await env.measure("DELETE /api/v1/projects/{project_id}/members/{member_user_id}",
                      b.projects.remove_member(p.id, other.id), "project.member_removed")
    req = await env.measure("POST /api/v1/projects/{project_id}/access-requests",
                            ob.projects.create_access_request(p.id, AccessRequestCreate()), "project.access_requested")
    await env.measure("PATCH /api/v1/projects/{project_id}/access-requests/{access_request_id}",
                      b.projects.decide_access_request(p.id, req.id, AccessRequestDecision(status="approved")),
                      "project.access_approved")
    doc = await env.measure("POST /api/v1/projects/{project_id}/documents/upload",
                            b.projects.upload_document(p.id, "notes.md", b"# Notes\n"), "project.document_uploaded")
    await env.measure("POST /api/v1/projects/{project_id}/documents/reingest",
                      b.projects.reingest_document(p.id, doc.id), "project.document_reingested")
    me = await env.services.auth.principal_for(owner.username)
    for verb in ("approve", "reject"):
        fu = await env.services.projects.propose_folder_update(
            me, p.id, FolderUpdateCreate(action="create", path=unique("dir"), reason="cov"))
        call = (b.projects.approve_folder_update if verb == "approve" else b.projects.reject_folder_update)(p.id, fu.id)
        await env.measure(f"POST /api/v1/projects/{{project_id}}/folder-updates/{{folder_update_id}}/{verb}", call)
    await env.measure("POST /api/v1/projects/{project_id}/archive", b.projects.archive(p.id), "project.archived")
    await env.measure("DELETE /api/v1/projects/{project_id}", b.projects.delete(p.id), "project.deleted")


# ---- admin automation ---------------------------------------------------------------------------------------


@scenario("PATCH /api/v1/auth/users/{user_id}", "POST /api/v1/auth/users/{user_id}/unlock",
          "PUT /api/v1/auth/agent-namespace-policies/{agent_name}", "PUT /api/v1/auth/tool-config/{team_id}",
          "PUT /api/v1/admin/llm-config", "PUT /api/v1/admin/llm-config/token-budget",
          "POST /api/v1/admin/cache/invalidate", "PUT /api/v1/pipeline-policy",
          "PUT /api/v1/prompt-standards/{agent_name}")
async def admin_flow(env: Env) -> None:
    _, a = await env.user(role="admin")
    target, _ = await env.user(team=unique("covteam"))
    await env.measure("PATCH /api/v1/auth/users/{user_id}", a.admin.update_user(target.id, UserUpdate(role="viewer")),
                      "user.updated")
    for _ in range(env.services.ctx.settings.max_failed_logins):
        with pytest.raises(Exception):  # noqa: B017 - wrong passwords, then a throttle
            await env.services.auth.login(Principal.anonymous(), target.username, "wrong password")
    await env.measure("POST /api/v1/auth/users/{user_id}/unlock", a.admin.unlock_user(target.id), "user.unlocked")
    await env.measure("PUT /api/v1/auth/agent-namespace-policies/{agent_name}",
                      a.admin.update_agent_namespace_policy("helper", AgentNamespacePolicyUpdate(read=["*"])),
                      "agent_namespace_policy.updated")
    await env.measure("PUT /api/v1/auth/tool-config/{team_id}",
                      a.admin.update_tool_config(target.team, TeamToolConfigUpdate(allowed_agents=["helper"])),
                      "team_tool_config.updated")
    await env.measure("PUT /api/v1/admin/llm-config", a.admin.update_llm_config(LlmConfigUpdate(routes=[
        LlmRouteUpdate(agent="planner", provider="openai_compatible", base_url="http://127.0.0.1:9", model="m",
                       api_key_env="COVERAGE_KEY")], cache_enabled=True)), "llm_config.updated")
    await env.measure("PUT /api/v1/admin/llm-config/token-budget",
                      a.admin.update_token_budget(TokenBudgetUpdate(team_daily_default=1_000_000)),
                      "token_budget.updated")
    await env.measure("POST /api/v1/admin/cache/invalidate", a.admin.invalidate_cache(CacheInvalidate()),
                      "cache.invalidated")
    await env.measure("PUT /api/v1/pipeline-policy",
                      a.admin.update_pipeline_policy(PipelinePolicyUpdate(max_retries=3)),
                      "pipeline_policy.updated")
    await env.measure("PUT /api/v1/prompt-standards/{agent_name}",
                      a.admin.upsert_prompt_standard("reporter", PromptStandardUpsert(required_sections=["Summary"])),
                      "prompt_standard.updated")
    assert SecretStr  # (keys would go to the keyring: covered in the LLM contract tests)


# ---- notifications ---------------------------------------------------------------------------------------------


@scenario("POST /api/v1/notifications/{notification_id}/read", "POST /api/v1/notifications/{notification_id}/dismiss",
          "POST /api/v1/notifications/read-all", "PUT /api/v1/notifications/preferences")
async def notification_flow(env: Env) -> None:
    owner, b = await env.user()
    _, asker = await env.user()
    for _ in range(3):  # each access request notifies the owner
        p = await b.projects.create(ProjectCreate(name=unique("Notify ")))
        await asker.projects.create_access_request(p.id, AccessRequestCreate())
    items = (await b.notifications.list()).items
    assert len(items) >= 3, "access requests should notify the owner"
    await env.measure("POST /api/v1/notifications/{notification_id}/read", b.notifications.mark_read(items[0].id),
                      "notification.read")
    await env.measure("POST /api/v1/notifications/{notification_id}/dismiss", b.notifications.dismiss(items[1].id),
                      "notification.dismissed")
    await env.measure("POST /api/v1/notifications/read-all", b.notifications.read_all(), "notification.read_all")
    await env.measure("PUT /api/v1/notifications/preferences",
                      b.notifications.update_preferences(NotificationPreferencesUpdate(toasts=False)),
                      "notification.preferences_updated")
    assert owner


# ---- chat, sessions and feedback ---------------------------------------------------------------------------------


@scenario("POST /api/v1/sessions", "PATCH /api/v1/sessions/{session_id}", "POST /api/v1/sessions/{session_id}/shares",
          "POST /api/v1/sessions/{session_id}/shares/{share_id}/accept",
          "DELETE /api/v1/sessions/{session_id}/shares/{share_id}", "POST /api/v1/sessions/{session_id}/feedback",
          "POST /api/v1/sessions/{session_id}/close", "POST /api/v1/sessions/{session_id}/archive",
          "POST /api/v1/chat", "POST /api/v1/chat/stream", "POST /api/v1/external/chat",
          "POST /api/v1/external/chat/stream")
async def session_flow(env: Env) -> None:
    from crewos_tui.backend.schemas import ChatRequest

    _, b = await env.user()
    friend, fb = await env.user()
    sess = await env.measure("POST /api/v1/sessions", b.sessions.create(ChatSessionCreate(title="cov")),
                             "session.created")
    await env.measure("PATCH /api/v1/sessions/{session_id}", b.sessions.update(sess.id, ChatSessionUpdate(title="t")),
                      "session.updated")
    reply = await env.measure("POST /api/v1/chat", b.chat.send("what can you do", session_id=sess.id,
                                                               agent="helper"), "agent.run_completed")
    await env.measure("POST /api/v1/chat/stream", b.chat.stream("hello", session_id=sess.id, agent="helper"),
                      "agent.run_completed")
    await env.measure("POST /api/v1/external/chat", b.chat.external_chat(ChatRequest(message="hi", agent="helper")),
                      "agent.run_completed")
    await env.measure("POST /api/v1/external/chat/stream",
                      b.chat.external_stream(ChatRequest(message="hi", agent="helper")), "agent.run_completed")
    await env.measure("POST /api/v1/sessions/{session_id}/feedback", b.sessions.submit_feedback(
        sess.id, MessageFeedbackCreate(message_id=reply.message_id, rating="up")))
    share = await env.measure("POST /api/v1/sessions/{session_id}/shares",
                              b.sessions.create_share(sess.id, SessionShareCreate(user_id=friend.id)), "session.shared")
    await env.measure("POST /api/v1/sessions/{session_id}/shares/{share_id}/accept",
                      fb.sessions.accept_share(sess.id, share.id), "session.share_accepted")
    await env.measure("DELETE /api/v1/sessions/{session_id}/shares/{share_id}",
                      b.sessions.revoke_share(sess.id, share.id), "session.share_revoked")
    await env.measure("POST /api/v1/sessions/{session_id}/close", b.sessions.close(sess.id))
    await env.measure("POST /api/v1/sessions/{session_id}/archive", b.sessions.archive(sess.id))


# ---- tasks and durable agent jobs ---------------------------------------------------------------------------


@scenario("POST /api/v1/tasks", "PATCH /api/v1/tasks/{task_id}", "POST /api/v1/tasks/{task_id}/status",
          "PATCH /api/v1/tasks/{task_id}/status", "POST /api/v1/tasks/{task_id}/events",
          "POST /api/v1/tasks/{task_id}/dependencies", "DELETE /api/v1/tasks/{task_id}/dependencies/{blocks_task_id}",
          "POST /api/v1/tasks/{task_id}/agent-runs", "PATCH /api/v1/tasks/agent-runs/{run_id}",
          "POST /api/v1/tasks/{task_id}/review/approve", "POST /api/v1/tasks/{task_id}/review/request-rework",
          "POST /api/v1/tasks/{task_id}/review/block", "POST /api/v1/tasks/{task_id}/retry",
          "DELETE /api/v1/tasks/{task_id}", "POST /api/v1/agent-jobs", "POST /api/v1/agent-jobs/{job_id}/cancel")
async def task_flow(env: Env) -> None:
    from crewos_tui.backend.schemas import (
        AgentJobCreate,
        AgentRunCreate,
        AgentRunUpdate,
        TaskCreate,
        TaskEventCreate,
        TaskUpdate,
    )

    _, b = await env.user()
    p = await b.projects.create(ProjectCreate(name=unique("Tasks ")))

    async def new(title: str) -> Any:
        return await env.measure("POST /api/v1/tasks", b.tasks.create(TaskCreate(project_id=p.id, title=title)))

    t = await new("Write docs")
    other = await new("Design")
    await env.measure("PATCH /api/v1/tasks/{task_id}", b.tasks.update(t.id, TaskUpdate(title="Write the docs")))
    await env.measure("POST /api/v1/tasks/{task_id}/events", b.tasks.add_event(t.id, TaskEventCreate(message="hi")))
    await env.measure("POST /api/v1/tasks/{task_id}/dependencies", b.tasks.add_dependency(t.id, other.id))
    await env.measure("DELETE /api/v1/tasks/{task_id}/dependencies/{blocks_task_id}",
                      b.tasks.remove_dependency(t.id, other.id))
    run = await env.measure("POST /api/v1/tasks/{task_id}/agent-runs",
                            b.tasks.create_agent_run(t.id, AgentRunCreate(agent="worker")))
    await env.measure("PATCH /api/v1/tasks/agent-runs/{run_id}",
                      b.tasks.update_agent_run(run.id, AgentRunUpdate(status="succeeded", summary="done")))
    await env.measure("POST /api/v1/tasks/{task_id}/status", b.tasks.set_status(t.id, "in_progress"))
    await env.measure("PATCH /api/v1/tasks/{task_id}/status", b.tasks.patch_status(t.id, "review"))
    await env.measure("POST /api/v1/tasks/{task_id}/review/request-rework",
                      b.tasks.request_rework(t.id, "add the API section"))
    await b.tasks.set_status(t.id, "review")
    await env.measure("POST /api/v1/tasks/{task_id}/review/block", b.tasks.block(t.id, "waiting for legal"))
    await b.tasks.set_status(t.id, "review")
    await env.measure("POST /api/v1/tasks/{task_id}/review/approve", b.tasks.approve(t.id, "good"))
    await b.tasks.set_status(other.id, "in_progress")
    await b.tasks.set_status(other.id, "failed", "crashed")
    await env.measure("POST /api/v1/tasks/{task_id}/retry", b.tasks.retry(other.id, "flaky"))
    await env.measure("DELETE /api/v1/tasks/{task_id}", b.tasks.delete(other.id))
    job = await env.measure("POST /api/v1/agent-jobs",
                            b.agent_jobs.create(AgentJobCreate(kind="project_update", project_id=p.id)))
    await env.measure("POST /api/v1/agent-jobs/{job_id}/cancel", b.agent_jobs.cancel(job.id))


# ---- project tokenization -----------------------------------------------------------------------------------------


@scenario("PUT /api/v1/projects/{project_id}/tokenization/wallets/{wallet_address}",
          "PUT /api/v1/projects/{project_id}/tokenization/settings",
          "POST /api/v1/projects/{project_id}/tokenization/token-requests",
          "POST /api/v1/projects/{project_id}/tokenization/token-requests/{request_id}/approve",
          "POST /api/v1/projects/{project_id}/tokenization/token-requests/{request_id}/execute",
          "POST /api/v1/projects/{project_id}/tokenization/token-requests/{request_id}/reject",
          "POST /api/v1/projects/{project_id}/tokenization/token/mint",
          "POST /api/v1/projects/{project_id}/tokenization/token/transfer",
          "POST /api/v1/projects/{project_id}/tokenization/token/burn")
async def token_flow(env: Env) -> None:
    from crewos_tui.backend.schemas.tokens import (
        TokenBurn,
        TokenMint,
        TokenRequestCreate,
        TokenSettingsUpdate,
        TokenTransfer,
        WalletUpsert,
    )

    from .contract.tokens_support import ledger_project

    lp = await ledger_project(env.as_world(), direct=True)
    pid, t = lp.project_id, lp.owner.tokenization
    # Not on the map (a documented addition), but served and state-changing, so walked too.
    await env.measure("PUT /api/v1/projects/{project_id}/tokenization/settings", t.configure(pid, TokenSettingsUpdate(
        symbol="CRW", name="Crew token, renamed", decimals=2, required_approvals=1,
        approver_ids=[lp.users["approver"].id, lp.users["approver2"].id], allow_direct_operations=True)))
    await env.measure("PUT /api/v1/projects/{project_id}/tokenization/wallets/{wallet_address}",
                      t.upsert_wallet(pid, "spare", WalletUpsert(label="Spare", owner_kind="treasury")))
    for verb in ("approve", "reject"):
        req = await env.measure("POST /api/v1/projects/{project_id}/tokenization/token-requests",
                                lp.editor.tokenization.create_request(pid, TokenRequestCreate(
                                    kind="mint", amount=100, to_wallet="treasury")))
        decide = lp.approver.tokenization.approve_request if verb == "approve" else \
            lp.approver.tokenization.reject_request
        await env.measure(f"POST /api/v1/projects/{{project_id}}/tokenization/token-requests/{{request_id}}/{verb}",
                          decide(pid, req.id))
    await env.measure("POST /api/v1/projects/{project_id}/tokenization/token-requests/{request_id}/execute",
                      lp.editor.tokenization.execute_request(pid, (await lp.editor.tokenization.list_requests(
                          pid, status="approved")).items[0].id))
    await env.measure("POST /api/v1/projects/{project_id}/tokenization/token/mint",
                      t.mint(pid, TokenMint(to_wallet="treasury", amount=1_000)))
    await env.measure("POST /api/v1/projects/{project_id}/tokenization/token/transfer",
                      t.transfer(pid, TokenTransfer(from_wallet="treasury", to_wallet="editor-wallet", amount=10)))
    await env.measure("POST /api/v1/projects/{project_id}/tokenization/token/burn",
                      t.burn(pid, TokenBurn(from_wallet="treasury", amount=5)))


# ---- review, validation, testing, capability gaps -------------------------------------------------------------------


@scenario("POST /api/v1/review/queue", "POST /api/v1/review/queue/{item_id}/approve",
          "POST /api/v1/review/queue/{item_id}/reject", "POST /api/v1/review/queue/{item_id}/quarantine",
          "POST /api/v1/review/queue/batch", "POST /api/v1/validation/validate", "POST /api/v1/testing/run",
          "POST /api/v1/capability-gaps/reports/run", "POST /api/v1/capability-gaps/findings/{finding_id}/status",
          "POST /api/v1/capability-gaps/findings/{finding_id}/create-task")
async def review_flow(env: Env) -> None:
    from crewos_tui.backend.schemas import (
        CapabilityGapReportRun,
        FindingStatusUpdate,
        FindingTaskCreate,
        ReviewBatch,
        ReviewBatchDecision,
        ReviewItemCreate,
        ScenarioRunCreate,
        ValidationRequest,
        ValidationRubric,
    )

    from .contract.review_support import review_team

    t = await review_team(env.as_world())

    async def submit() -> Any:
        return await env.measure("POST /api/v1/review/queue", t.owner_b.review.submit(ReviewItemCreate(
            title=unique("Item "), project_id=t.project_id, kind="weekly_update")))

    for verb in ("approve", "reject", "quarantine"):
        item = await submit()
        await env.measure(f"POST /api/v1/review/queue/{{item_id}}/{verb}",
                          getattr(t.reviewer_b.review, verb)(item.id, "because"))
    items = [await submit() for _ in range(2)]
    await env.measure("POST /api/v1/review/queue/batch", t.reviewer_b.review.decide_batch(ReviewBatch(decisions=[
        ReviewBatchDecision(item_id=i.id, action="reject", reason="numbers wrong") for i in items])))
    await env.measure("POST /api/v1/validation/validate", t.reviewer_b.validation.validate(ValidationRequest(
        output="too short", project_id=t.project_id, rubric=ValidationRubric(required_sections=["Summary"]))))
    await env.measure("POST /api/v1/testing/run", t.owner_b.testing.run(ScenarioRunCreate(
        scenario_ids=["helper-capabilities"])))
    report = await env.measure("POST /api/v1/capability-gaps/reports/run", t.reviewer_b.capability_gaps.run_report(
        CapabilityGapReportRun(project_id=t.project_id)))
    first, second = report.findings[0], report.findings[-1]
    await env.measure("POST /api/v1/capability-gaps/findings/{finding_id}/status",
                      t.reviewer_b.capability_gaps.update_finding_status(first.id, FindingStatusUpdate(
                          status="acknowledged")))
    await env.measure("POST /api/v1/capability-gaps/findings/{finding_id}/create-task",
                      t.reviewer_b.capability_gaps.create_task(second.id, FindingTaskCreate(project_id=t.project_id)))


# ---- knowledge base, wiki graph, artifacts -------------------------------------------------------------------------


@scenario("POST /api/v1/knowledge", "PUT /api/v1/knowledge/{entry_id}", "DELETE /api/v1/knowledge/{entry_id}",
          "POST /api/v1/knowledge/ingest", "PATCH /api/v1/knowledge/files/visibility",
          "DELETE /api/v1/knowledge/files", "POST /api/v1/knowledge/{entry_id}/links",
          "PATCH /api/v1/knowledge/{entry_id}/links/{link_id}",
          "DELETE /api/v1/knowledge/{entry_id}/links/{link_id}", "POST /api/v1/knowledge/wiki-meditation/trigger",
          "POST /api/v1/knowledge/wiki-governance/actions", "POST /api/v1/knowledge/web-research/runs",
          "POST /api/v1/knowledge/web-research/runs/{run_id}/batch")
async def knowledge_flow(env: Env) -> None:
    from crewos_tui.backend.schemas import (
        GovernanceActionRequest,
        KnowledgeEntryCreate,
        KnowledgeEntryUpdate,
        KnowledgeFileVisibility,
        KnowledgeIngest,
        MeditationTrigger,
        ResearchBatch,
        ResearchRunCreate,
        ResearchSource,
        WikiLinkCreate,
        WikiLinkUpdate,
    )

    from .contract.knowledge_support import space

    world = env.as_world()
    sp = await space(world)
    admin = await env.as_(await env.world_user(role="admin"))
    kb = sp.b.knowledge

    async def entry(title: str, body: str) -> Any:
        return await env.measure("POST /api/v1/knowledge", kb.create(KnowledgeEntryCreate(
            namespace=sp.ns(), title=title, body=body)))

    a = await entry("Blue-green deployment", "Two identical environments; switch traffic after checks pass.")
    b = await entry("Blue green deploys", "Two identical environments; switch traffic after checks pass. Warm.")
    await env.measure("PUT /api/v1/knowledge/{entry_id}", kb.update(a.id, KnowledgeEntryUpdate(title="Blue-green")))
    link = await env.measure("POST /api/v1/knowledge/{entry_id}/links",
                             kb.create_link(a.id, WikiLinkCreate(target_id=b.id, kind="depends_on")))
    await env.measure("PATCH /api/v1/knowledge/{entry_id}/links/{link_id}",
                      kb.update_link(a.id, link.id, WikiLinkUpdate(kind="references")))
    await env.measure("DELETE /api/v1/knowledge/{entry_id}/links/{link_id}", kb.delete_link(a.id, link.id))
    await env.measure("POST /api/v1/knowledge/ingest", kb.ingest(KnowledgeIngest(
        namespace=sp.ns(), filename="faq.md", content="# FAQ\n\n## Forms\nUse the form.\n\n## Badges\nAsk IT.\n")))
    await env.measure("PATCH /api/v1/knowledge/files/visibility", kb.set_file_visibility(KnowledgeFileVisibility(
        namespace=sp.ns(), filename="faq.md", visibility="hidden")))
    await env.measure("DELETE /api/v1/knowledge/files", kb.delete_file(namespace=sp.ns(), filename="faq.md"))
    await entry("Office wifi", "The password is on the fridge.")
    await env.measure("POST /api/v1/knowledge/wiki-meditation/trigger",
                      admin.knowledge.trigger_meditation(MeditationTrigger(namespaces=[sp.ns()])))
    queue = await kb.governance(namespace=sp.ns())
    await env.measure("POST /api/v1/knowledge/wiki-governance/actions", kb.apply_governance(GovernanceActionRequest(
        item_id=queue.items[0].id, action="reject")))
    run = await env.measure("POST /api/v1/knowledge/web-research/runs", admin.knowledge.start_research(
        ResearchRunCreate(topic="rate limiting", namespace=sp.ns(), sources=[ResearchSource(
            url="https://example.org/rl", title="Rate limiting", content="Token bucket rate limiting refills "
                                                                         "tokens at a fixed rate limiting bursts.")])))
    await env.measure("POST /api/v1/knowledge/web-research/runs/{run_id}/batch", admin.knowledge.decide_research(
        run.id, ResearchBatch(reject=[run.candidates[0].id])))
    await env.measure("DELETE /api/v1/knowledge/{entry_id}", kb.delete(b.id))


@scenario("POST /api/v1/attachments/{reference_token}/revisions",
          "POST /api/v1/attachments/{reference_token}/layout-cleanup")
async def artifact_flow(env: Env) -> None:
    from crewos_tui.backend.local.services.artifacts import create_artifact
    from crewos_tui.backend.schemas import ArtifactRevisionCreate, LayoutCleanupRequest

    owner, b = await env.user()
    p = await b.projects.create(ProjectCreate(name=unique("Artifacts ")))
    principal = await env.services.auth.principal_for(owner.username)
    async with env.services.ctx.db.transaction() as s:
        row = await create_artifact(env.services.ctx, s, principal, filename="page.html", content="<p>one</p>\n",
                                    content_type="text/html", project_id=p.id, kind="report")
    token = row.reference_token
    await env.measure("POST /api/v1/attachments/{reference_token}/revisions",
                      b.artifacts.save_revision(token, ArtifactRevisionCreate(
                          source="<html><body><div><h1>Two</h1><p></p><span></span></div></body></html>",
                          base_revision=1)))
    await env.measure("POST /api/v1/attachments/{reference_token}/layout-cleanup",
                      b.artifacts.layout_cleanup(token, LayoutCleanupRequest(note="tidy")))


# ---- project tokenization -------------------------------------------------------------------------------------

TOK = "/api/v1/projects/{project_id}/tokenization"


@scenario(f"PUT {TOK}/wallets/{{wallet_address}}", f"POST {TOK}/token-requests",
          f"POST {TOK}/token-requests/{{request_id}}/approve", f"POST {TOK}/token-requests/{{request_id}}/reject",
          f"POST {TOK}/token-requests/{{request_id}}/execute", f"POST {TOK}/token/mint",
          f"POST {TOK}/token/transfer", f"POST {TOK}/token/burn")
async def tokenization_flow(env: Env) -> None:
    from crewos_tui.backend.schemas.tokens import (
        TokenBurn,
        TokenMint,
        TokenRequestCreate,
        TokenTransfer,
        WalletUpsert,
    )

    from .contract.tokens_support import ledger_project

    lp = await ledger_project(env.as_world(), direct=True)
    pid, t = lp.project_id, lp.owner.tokenization
    await env.measure(f"PUT {TOK}/wallets/{{wallet_address}}", t.upsert_wallet(pid, "spare", WalletUpsert()),
                      "token.wallet_created")
    req = await env.measure(f"POST {TOK}/token-requests", lp.editor.tokenization.create_request(
        pid, TokenRequestCreate(kind="mint", amount=500, to_wallet="treasury")), "token.request_created")
    await env.measure(f"POST {TOK}/token-requests/{{request_id}}/approve",
                      lp.approver.tokenization.approve_request(pid, req.id), "token.request_approved")
    await env.measure(f"POST {TOK}/token-requests/{{request_id}}/execute",
                      lp.editor.tokenization.execute_request(pid, req.id), "token.minted", "token.request_executed")
    other = await lp.request("mint", 5, to_wallet="treasury")
    await env.measure(f"POST {TOK}/token-requests/{{request_id}}/reject",
                      lp.approver.tokenization.reject_request(pid, other.id), "token.request_rejected")
    await env.measure(f"POST {TOK}/token/mint", t.mint(pid, TokenMint(to_wallet="treasury", amount=100)),
                      "token.minted")
    await env.measure(f"POST {TOK}/token/transfer", t.transfer(pid, TokenTransfer(
        from_wallet="treasury", to_wallet="editor-wallet", amount=50)), "token.transferred")
    await env.measure(f"POST {TOK}/token/burn", t.burn(pid, TokenBurn(from_wallet="treasury", amount=25)),
                      "token.burned")


#: State-changing endpoints that record no change by design, with the reason.
NO_CHANGE = {
    # Stops a run that is streaming; the run itself records its (cancelled) completion.
    "POST /api/v1/chat/cancel": "cancels a live run; the run records its own completion",
    # POST because the query is a body; they only read.
    "POST /api/v1/knowledge/search": "a search reads only",
    "POST /api/v1/knowledge/retrieve": "a retrieval reads only",
}


# ---- the tests ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "run"), SCENARIOS, ids=[fn.__name__ for _, fn in SCENARIOS])
async def test_each_change_writes_exactly_one_audit_event(env: Env, name: str, run: Scenario) -> None:
    await run(env)
    missing = [e for e in run.endpoints if e not in env.measured]  # type: ignore[attr-defined]
    assert missing == [], f"scenario did not measure {missing}"
    creates = [e for e in run.endpoints if e in create_routes(env.app)]  # type: ignore[attr-defined]
    assert [e for e in creates if e not in env.transport.replayed] == [], "creates not replayed"  # type: ignore


async def test_the_chain_stays_valid_and_complete(env: Env) -> None:
    report = await env.services.admin.audit_integrity(SYSTEM)
    async with env.services.ctx.db.read() as s:
        events = set((await s.scalars(select(DomainEventRow.id))).all())
        audited = (await s.scalars(select(AuditEventRow.event_id))).all()
    assert report.valid and sorted(audited) == sorted(events)  # one audit event per change, no more


def state_changing_endpoints() -> list[str]:
    return sorted({f"{e.method} {e.path}" for e in ENDPOINTS if e.method not in ("GET", "HEAD")})


async def test_every_state_changing_endpoint_has_a_scenario() -> None:
    covered = {endpoint for _, fn in SCENARIOS for endpoint in fn.endpoints}  # type: ignore[attr-defined]
    uncovered = [e for e in state_changing_endpoints() if e not in covered and e not in NO_CHANGE]
    assert uncovered == [], (
        f"state-changing endpoints of {sorted(IMPLEMENTED_GROUPS)} without an audit scenario in "
        f"{Path(__file__).name}: {uncovered}")


async def test_every_state_changing_route_the_server_serves_has_a_scenario(env: Env) -> None:
    """Beyond the map: routes a slice added (documented additions) are walked as well."""
    served = sorted({f"{method.upper()} {path}" for path, ops in env.app.openapi()["paths"].items()
                     for method in ops if method.upper() not in ("GET", "HEAD") and path.startswith("/api/")})
    covered = {endpoint for _, fn in SCENARIOS for endpoint in fn.endpoints}  # type: ignore[attr-defined]
    assert len(served) >= len(state_changing_endpoints())
    assert [e for e in served if e not in covered and e not in NO_CHANGE] == []


async def test_the_map_file_is_read() -> None:
    # Guard against an empty walk (a missing map would make the test above pass vacuously).
    assert len(state_changing_endpoints()) >= 30
