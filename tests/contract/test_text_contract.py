"""Control characters, on both backends: single-line fields (names, titles, key names)
refuse them with a 422 naming the field; long texts keep newlines and tabs exactly.

The request models refuse the value when they are built, which is all the local backend
needs. The remote world also skips that client-side check (``model_construct``) to show
that the server refuses the same body with its own 422."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from crewos_tui.backend import errors
from crewos_tui.backend.schemas import ApiKeyCreate, ProjectCreate, TaskCreate
from crewos_tui.backend.schemas.projects import ProjectTemplate
from crewos_tui.backend.schemas.tasks import TaskPriority

from ..conftest import unique

#: A newline, a tab, an indented line, a CRLF line end and a trailing tab: all kept.
LONG_TEXT = "First line\n\tindented line\r\nthird\tline\n\nlast line\t"


async def refused(world: Any, model: type[BaseModel], field: str, code: str, position: int,
                  send: Callable[[BaseModel], Awaitable[object]], **fields: Any) -> None:
    """Building ``model(**fields)`` fails on ``field``; on the remote world the server also
    answers the unchecked body with Invalid (422) naming the field and the character."""
    with pytest.raises(ValidationError) as caught:
        model(**fields)
    (error,) = caught.value.errors()
    assert error["loc"] == (field,) and error["type"] == "control_character"
    assert f"found {code} at position {position}" in error["msg"]
    if world.kind == "remote":
        with pytest.raises(errors.Invalid) as answered:
            await send(model.model_construct(**fields))
        assert answered.value.detail == (f"body.{field}: must be a single line of text without control "
                                         f"characters (found {code} at position {position})")


async def test_single_line_fields_refuse_control_characters(world):
    user = await world.user()
    b = await world.as_(user)
    await refused(world, ProjectCreate, "name", "U+001B", 1, b.projects.create,
                  name="x\x1b[2Jy", description="", template=ProjectTemplate.blank)
    project = await b.projects.create(ProjectCreate(name=unique("Text ")))
    await refused(world, TaskCreate, "title", "U+202E", 4, b.tasks.create,
                  project_id=project.id, title="Pay \u202edrawkcab", description="", priority=TaskPriority.medium,
                  assignee_id=None, blocked_by=[])
    signed_in = await world.interactive(user)
    keys = len((await signed_in.auth.list_api_keys(limit=200)).items)
    await refused(world, ApiKeyCreate, "name", "U+0000", 2, signed_in.auth.create_api_key,
                  name="ci\x00bot")
    # Nothing was stored by the refusals.
    assert (await b.projects.list(q="2Jy")).items == []
    assert (await b.tasks.list(project_id=project.id)).items == []
    assert len((await signed_in.auth.list_api_keys(limit=200)).items) == keys


async def test_long_texts_keep_newlines_and_tabs_exactly(world):
    b = await world.as_(await world.user())
    project = await b.projects.create(ProjectCreate(name=unique("Text "), description=LONG_TEXT))
    assert project.description == LONG_TEXT
    assert (await b.projects.get(project.id)).description == LONG_TEXT
    task = await b.tasks.create(TaskCreate(project_id=project.id, title="Tabs", description=LONG_TEXT))
    assert (await b.tasks.get(task.id)).description == LONG_TEXT
    message = "Prepare the project update\n\twith the open tasks\r\nand nothing else"
    reply = await b.chat.send(message, project_id=project.id)
    session = await b.sessions.get(reply.session_id)
    assert session.messages[0].role == "user" and session.messages[0].content == message


@pytest.mark.parametrize(("message", "code", "position"), [
    ("Ship it \x1b]52;c;SGVsbG8=\x07", "U+001B", 8),  # an OSC 52 clipboard write
    ("bare\rreturn", "U+000D", 4),  # a CR that is not a CRLF line end overwrites the line
    ("nul\x00", "U+0000", 3),
])
async def test_a_chat_message_with_control_characters_is_refused_and_nothing_is_stored(world, message, code,
                                                                                      position):
    """Chat takes its message without a request model (form fields on /chat): the service
    checks it like any long text, for both the send and the stream."""
    b = await world.as_(await world.user())
    before = (await b.sessions.list()).items
    for attempt in (lambda: b.chat.send(message), lambda: anext(aiter(b.chat.stream(message)))):
        with pytest.raises(errors.Invalid) as refused:
            await attempt()
        assert refused.value.detail == ("the message must be text without control characters other than newlines "
                                        f"and tabs (found {code} at position {position})")
    assert (await b.sessions.list()).items == before
