"""Setup shared by the knowledge and artifact contract tests.

The live server's database lives for the whole session, so every test works in its
own namespace prefix (``kb.space``): grants like ``<prefix>/*`` keep tests apart
even for admins, who see every namespace (tests filter by namespace then)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crewos_tui.backend.local.jobs import JobRunner
from crewos_tui.backend.schemas import KnowledgeEntryCreate, UserInfo

from ..conftest import unique, user_factory

TERMINAL = {"succeeded", "failed", "cancelled"}
#: The team these tests' users belong to: the live server's database is shared by every
#: contract test, and other tests page through the users of the "default" team.
TEAM = "kb-tests"


async def kb_user(world: Any, grants: list[str], role: str = "member") -> UserInfo:
    info, _ = await user_factory(world.services)(role=role, grants=grants, team=TEAM)
    return info


@dataclass
class Space:
    """A namespace prefix with a writer (member granted ``prefix/*``) acting through a backend."""

    prefix: str
    user: UserInfo
    b: Any

    def ns(self, name: str = "main") -> str:
        return f"{self.prefix}/{name}"

    async def entry(self, title: str, body: str = "", ns: str = "main", tags: list[str] | None = None) -> Any:
        return await self.b.knowledge.create(KnowledgeEntryCreate(namespace=self.ns(ns), title=title, body=body,
                                                                  tags=tags or []))


async def space(world: Any, role: str = "member") -> Space:
    prefix = unique("kb")
    user = await kb_user(world, [f"{prefix}/*"], role=role)
    return Space(prefix, user, await world.as_(user))


async def run_jobs_until_done(world: Any, job_id: str, tries: int = 20) -> Any:
    """Run queued jobs (in the test's service layer, which shares the database) until ``job_id`` ends."""
    runner = JobRunner(world.services, lease_seconds=30, poll_seconds=0.05)
    for _ in range(tries):
        job = await world.services.agent_jobs.get(_system(), job_id)
        if job.status in TERMINAL:
            return job
        await runner.run_one()
    raise AssertionError(f"job {job_id} did not finish")


def _system() -> Any:
    from crewos_tui.backend.principal import Principal

    return Principal.system()
