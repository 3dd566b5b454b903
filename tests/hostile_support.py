"""Hostile text in a demo workspace, for the tests of issue 14 (the Pilot walk in
``test_app_hostile_text.py`` and the real terminal in ``test_pty_hostile_text.py``).

Members write Rich markup, terminal escapes and bidi overrides into everything they
can write that the admin (maya) reads. Each escape sequence in the payload is followed
by its own tag (``ZQ1``...), so a check for its raw bytes in a terminal's byte stream
can only be matched by the payload, never by what Textual writes itself.

Seeding goes through the services with ``model_construct``: the request models refuse
control characters (our server cleans its input), but a CrewOS server that does not
would store them, and the TUI must hold against what is stored.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crewos_tui import paths

from .conftest import fast_settings

#: The tagged escape sequences of the payload: what a terminal would act on.
CLEAR_SCREEN = "\x1b[2JZQ1"  # CSI 2 J: erase the display
CLIPBOARD = f"\x1b]52;c;{base64.b64encode(b'ZQ2').decode()}\x07"  # OSC 52: write the clipboard
HYPERLINK_URL = "http://zq3.evil.example/"
HYPERLINK = f"\x1b]8;;{HYPERLINK_URL}\x1b\\L\x1b]8;;\x1b\\"  # OSC 8: a terminal hyperlink
TITLE = "\x1b]0;ZQ4\x07"  # OSC 0: set the window title
C1_CSI = "\x9b2JZQ5"  # the one-character CSI (C1), erase the display again
NUL = "\x00ZQ6"
RLO = "\u202eZQ7"  # right-to-left override

HOSTILE = (f"x [/] [@click=app.quit]Q[/] [link=http://e.x]L[/link] {CLEAR_SCREEN} {CLIPBOARD} {HYPERLINK} "
           f"{TITLE} {C1_CSI} {NUL} {RLO} \u202eevil")
#: A username a foreign server might hand out (ours refuses it).
HOSTILE_NAME = "eve[b]\x1b[2JZQ8\u202e"
#: Markdown links of every form a member can write (chat, knowledge bodies): each must ask first.
LINKS = ("bare http://zq9.evil.example/bare, angle <http://zq9.evil.example/angle>, "
         "named [site](http://zq9.evil.example/named), fuzzy www.zq9.evil.example/fuzzy and raw HTML "
         '<a href="http://zq9.evil.example/html">html</a>')

#: What the payload looks like once shown literally (control pictures, one for one).
SHOWN = {
    "clear": "␛[2JZQ1",
    "clipboard": f"␛]52;c;{base64.b64encode(b'ZQ2').decode()}␇",
    "title": "␛]0;ZQ4␇",
    "nul": "␀ZQ6",
    "rlo": "\ufffdZQ7",
}


#: The kinds of things seeded, in order (``Seeded.kinds`` records what was written).
KINDS = (
    "user name and team",
    "project name and description",
    "project document name",
    "folder-update reason",
    "access-request message",
    "task title and description",
    "task comment",
    "review item (title, summary, payload, transcript, attachment name)",
    "knowledge entry (title, body, tags)",
    "artifact (name, content)",
    "token request memo",
    "chat session title and messages",
    "notifications (assignment, review request, token approval, share, mention)",
)


@dataclass
class Seeded:
    """Ids of what was seeded, for the tests to open."""

    project_id: str = ""
    task_id: str = ""
    review_id: str = ""
    entry_id: str = ""
    artifact_token: str = ""
    token_project_id: str = ""
    token_request_id: str = ""
    shared_session_id: str = ""
    own_session_id: str = ""
    #: Entity kinds written with hostile text (the module docstrings count them).
    kinds: list[str] = field(default_factory=list)


async def seed_hostile(data_dir: Path, text: str = HOSTILE) -> Seeded:
    """Hostile ``text`` in every kind of thing a member can write and the admin sees, in
    the demo database under ``data_dir``."""
    from crewos_tui.backend.local.services import Services
    from crewos_tui.backend.local.services.artifacts import create_artifact
    from crewos_tui.backend.principal import Principal
    from crewos_tui.backend.schemas import (
        AccessRequestCreate,
        ChatSessionCreate,
        FolderAction,
        FolderUpdateCreate,
        KnowledgeEntryCreate,
        ProjectCreate,
        ProjectRole,
        ReviewAttachmentIn,
        ReviewItemCreate,
        Role,
        SessionShareCreate,
        TaskCreate,
        TaskEventCreate,
        TaskUpdate,
        TokenOp,
        TokenRequestCreate,
        UserCreate,
    )

    svc = await Services.open(paths.database_file(data_dir, demo=True), settings=fast_settings())
    out = Seeded()
    try:
        system = Principal.system()
        devon = await svc.auth.principal_for("devon")
        maya = await svc.auth.principal_for("maya")
        priya = await svc.auth.principal_for("priya")
        # A user whose name itself is hostile (a foreign server's), who then acts.
        eve = await svc.auth.create_user(system, UserCreate.model_construct(
            username=HOSTILE_NAME, password="eve-password-1", role=Role.member, team=text, namespace_grants=[]))
        eve_p = await svc.auth.principal_for(eve.username)
        out.kinds.append("user name and team")

        project = await svc.projects.create(devon, ProjectCreate.model_construct(name=text, description=text))
        out.project_id = project.id
        await svc.projects.upsert_member(devon, project.id, maya.user_id, ProjectRole.editor)  # type: ignore[arg-type]
        await svc.projects.upsert_member(maya, project.id, eve.id, ProjectRole.editor)  # another team: an admin adds
        out.kinds.append("project name and description")

        await svc.projects.upload_document(devon, project.id, f"{text}.md",
                                          text.replace("\x00", "").encode(), folder_path="docs")  # NUL: binary
        out.kinds.append("project document name")
        await svc.projects.propose_folder_update(eve_p, project.id, FolderUpdateCreate.model_construct(
            action=FolderAction.create, path="docs/zq", new_path=None, reason=text))
        out.kinds.append("folder-update reason")
        demo = {p.name: p for p in (await svc.projects.list(maya, limit=200)).items}
        atlas = demo["Atlas Launch"]
        await svc.projects.create_access_request(priya, demo["Website Refresh"].id, AccessRequestCreate.model_construct(
            message=text, role=ProjectRole.editor))  # maya owns it: she is told
        out.kinds.append("access-request message")

        task = await svc.tasks.create(devon, TaskCreate.model_construct(project_id=project.id, title=text,
                                                                        description=text))
        out.task_id = task.id
        await svc.tasks.update(devon, task.id, TaskUpdate.model_construct(assignee_id=maya.user_id))
        out.kinds.append("task title and description")
        for who in (devon, eve_p):
            await svc.tasks.add_event(who, task.id, TaskEventCreate.model_construct(message=text))
        out.kinds.append("task comment")

        item = await svc.review.submit(devon, ReviewItemCreate.model_construct(
            kind="output", title=text, summary=text, payload=text, payload_format=None, transcript=text,
            attachments=[ReviewAttachmentIn.model_construct(filename=text, content_type="text/plain", content=text,
                                                            content_base64=None)],
            project_id=project.id, requested_reviewer_ids=[maya.user_id], source_ref=text))
        out.review_id = item.id
        out.kinds.append("review item (title, summary, payload, transcript, attachment name)")

        entry = await svc.knowledge.create(devon, KnowledgeEntryCreate.model_construct(
            namespace="studio/engineering", title=text, body=f"{text}\n\n{LINKS}\n", tags=[text]))
        out.entry_id = entry.id
        out.kinds.append("knowledge entry (title, body, tags)")

        async with svc.ctx.db.transaction() as s:  # what an agent run writes for a member: a file of theirs
            art = await create_artifact(svc.ctx, s, devon, filename=text, content=text, content_type="text/markdown",
                                        project_id=project.id, kind="report", origin=text)
            out.artifact_token = art.reference_token
        out.kinds.append("artifact (name, content)")

        request = await svc.tokenization.create_request(devon, atlas.id, TokenRequestCreate.model_construct(
            kind=TokenOp.transfer, amount=100, from_wallet="atlas-treasury", to_wallet="devon", memo=text,
            idempotency_key=None))
        out.token_project_id, out.token_request_id = atlas.id, request.id
        out.kinds.append("token request memo")

        # Chat refuses control characters in a message (the service checks it): the messages are
        # sent with stand-ins, then hold the hostile text as a server that does not check would.
        stand_ins: dict[str, str] = {}

        def stand_in(content: str) -> str:
            key = f"zq-stand-in-{len(stand_ins)}"
            stand_ins[key] = content
            return key

        shared = await svc.sessions.create(devon, ChatSessionCreate.model_construct(title=text))
        await svc.chat.send(devon, stand_in(f"{text}\n\n{LINKS}"), session_id=shared.id)
        share = await svc.sessions.create_share(devon, shared.id, SessionShareCreate(username="maya"))
        await svc.sessions.accept_share(maya, shared.id, share.id)  # mentions reach readers of a session
        await svc.chat.send(devon, f"@maya {stand_in(text)}", session_id=shared.id)  # a mention: a notification
        out.shared_session_id = shared.id
        own = await svc.sessions.create(maya, ChatSessionCreate.model_construct(title=text))
        await svc.chat.send(maya, stand_in(f"{text}\n\n{LINKS}"), session_id=own.id)
        out.own_session_id = own.id
        await _store_in_place_of(svc, stand_ins)
        out.kinds.append("chat session title and messages")
        out.kinds.append("notifications (assignment, review request, token approval, share, mention)")
        return out
    finally:
        await svc.close()


async def _store_in_place_of(svc: Any, stand_ins: dict[str, str]) -> None:
    """Every chat message and notification quoting a stand-in holds its text instead (an
    agent's reply that quotes the message too)."""
    from sqlalchemy import or_, select
    from sqlmodel import col

    from crewos_tui.backend.local.tables import ChatMessageRow, NotificationRow

    async with svc.ctx.db.transaction() as s:
        for row_type, column in ((ChatMessageRow, "content"), (NotificationRow, "body")):
            field = col(getattr(row_type, column))
            rows = (await s.scalars(select(row_type).where(or_(*(field.contains(k) for k in stand_ins))))).all()
            for row in rows:
                value = getattr(row, column)
                for key, content in stand_ins.items():
                    value = value.replace(key, content)
                setattr(row, column, value)
