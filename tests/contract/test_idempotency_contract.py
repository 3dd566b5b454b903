"""Idempotency keys on creates, on both backends: the same key and request make one
thing and answer the first answer again; a different request with the key is a 409; a
key is the caller's; an API key's raw key is never shown twice."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from crewos_tui.backend import errors
from crewos_tui.backend.idempotency import idempotency_key, new_key
from crewos_tui.backend.local.tables import IdempotencyKeyRow
from crewos_tui.backend.schemas import ApiKeyCreate, ProjectCreate
from crewos_tui.backend.schemas.tasks import TaskCreate

from ..conftest import unique

TEAM = unique("idem-team-")


async def owner_with_project(world):
    user = await world.user(team=TEAM)
    b = await world.as_(user)
    project = await b.projects.create(ProjectCreate(name=unique("Idem ")))
    return user, b, project


async def titles(b, project) -> list[str]:
    return [t.title for t in (await b.tasks.list(project_id=project.id, limit=200)).items]


async def test_the_same_key_and_request_make_one_task_and_answer_it_again(world):
    _, b, project = await owner_with_project(world)
    key = new_key()
    with idempotency_key(key) as first:
        made = await b.tasks.create(TaskCreate(project_id=project.id, title="Write the docs"))
    assert first.replayed is False
    with idempotency_key(key) as again:
        replayed = await b.tasks.create(TaskCreate(project_id=project.id, title="Write the docs"))
    assert again.replayed is True
    assert replayed == made  # the first answer, field for field
    assert await titles(b, project) == ["Write the docs"]


async def test_without_a_key_each_create_makes_one(world):
    _, b, project = await owner_with_project(world)
    for _ in range(2):
        await b.tasks.create(TaskCreate(project_id=project.id, title="Twice"))
    assert await titles(b, project) == ["Twice", "Twice"]


async def test_the_same_key_with_another_request_is_refused_and_changes_nothing(world):
    _, b, project = await owner_with_project(world)
    key = new_key()
    with idempotency_key(key):
        await b.tasks.create(TaskCreate(project_id=project.id, title="First"))
    with idempotency_key(key), pytest.raises(errors.Conflict) as refused:
        await b.tasks.create(TaskCreate(project_id=project.id, title="Second"))
    assert str(refused.value) == (f"idempotency key {key!r} was already used for a different request in the last "
                                  "24 hours; use a new key for a new request")
    # ... and for another kind of create too
    with idempotency_key(key), pytest.raises(errors.Conflict):
        await b.projects.create(ProjectCreate(name=unique("Other ")))
    assert await titles(b, project) == ["First"]


async def test_keys_belong_to_the_caller(world):
    user, b, project = await owner_with_project(world)
    other = await world.user(team=TEAM)
    ob = await world.as_(other)
    other_project = await ob.projects.create(ProjectCreate(name=unique("Theirs ")))
    with idempotency_key("shared-key-1"):
        mine = await b.tasks.create(TaskCreate(project_id=project.id, title="Mine"))
        theirs = await ob.tasks.create(TaskCreate(project_id=other_project.id, title="Theirs"))
    assert mine.id != theirs.id and theirs.created_by_id == other.id
    # The same user with another credential is the same caller.
    again_b = await world.as_(user)  # (outside the block: making its API key is a create too)
    with idempotency_key("shared-key-1") as again:
        replayed = await again_b.tasks.create(TaskCreate(project_id=project.id, title="Mine"))
    assert again.replayed and replayed.id == mine.id


async def test_a_failed_create_is_not_remembered(world):
    _, b, project = await owner_with_project(world)
    key = new_key()
    with idempotency_key(key), pytest.raises(errors.NotFound):
        await b.tasks.create(TaskCreate(project_id="01NOSUCHPROJECT0000000000", title="Lost"))
    with idempotency_key(key) as slot:
        task = await b.tasks.create(TaskCreate(project_id=project.id, title="Found"))
    assert not slot.replayed and task.title == "Found"


async def test_concurrent_creates_with_one_key_make_one_task(world):
    _, b, project = await owner_with_project(world)
    with idempotency_key(new_key()):
        made = await asyncio.gather(*(b.tasks.create(TaskCreate(project_id=project.id, title="Once"))
                                      for _ in range(4)))
    assert len({t.id for t in made}) == 1
    assert await titles(b, project) == ["Once"]


async def test_an_upload_with_a_key_is_stored_once(world):
    _, b, project = await owner_with_project(world)
    key = new_key()
    for _ in range(2):
        with idempotency_key(key):
            doc = await b.projects.upload_document(project.id, "notes.md", b"# Notes\n\nOne line.\n")
    docs = (await b.projects.list_documents(project.id)).items
    assert [d.id for d in docs] == [doc.id]


async def test_a_key_must_be_printable_and_not_too_long(world):
    _, b, project = await owner_with_project(world)
    with idempotency_key("x" * 256), pytest.raises(errors.Invalid) as long:
        await b.tasks.create(TaskCreate(project_id=project.id, title="T"))
    assert str(long.value) == "the Idempotency-Key is 256 characters long; at most 255 are allowed"
    for bad, why in [("   ", "is empty"), (" padded", "must not start or end with a space"),
                     ("naïve", "only printable ASCII"), ("tab\there", "only printable ASCII")]:
        with idempotency_key(bad), pytest.raises(errors.Invalid) as refused:
            await b.tasks.create(TaskCreate(project_id=project.id, title="T"))
        assert why in str(refused.value)
    assert await titles(b, project) == []


async def test_an_api_key_create_replayed_is_refused_not_shown_again(world):
    user = await world.user(team=TEAM)
    b = await world.interactive(user)
    key = new_key()
    with idempotency_key(key):
        created = await b.auth.create_api_key(ApiKeyCreate(name="ci"))
    with idempotency_key(key) as again, pytest.raises(errors.Conflict) as refused:
        await b.auth.create_api_key(ApiKeyCreate(name="ci"))
    assert not again.replayed  # a refusal, not the first answer
    assert str(refused.value) == (
        f"this idempotency key already created API key 'ci' (prefix {created.prefix}); its raw key is shown only "
        "once and is not kept: if that answer was lost, revoke the key and create another with a new idempotency "
        "key")
    assert [k.name for k in (await b.auth.list_api_keys()).items].count("ci") == 1
    async with world.services.ctx.db.read() as s:
        stored = (await s.scalars(select(IdempotencyKeyRow).where(IdempotencyKeyRow.key == key))).one()
    assert created.key not in stored.response and stored.withheld
