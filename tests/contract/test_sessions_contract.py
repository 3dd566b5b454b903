"""Sessions, transcripts, shares and feedback, on both backends."""

from __future__ import annotations

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.schemas import (
    ChatSessionCreate,
    ChatSessionUpdate,
    MessageFeedbackCreate,
    ProjectCreate,
    SessionShareCreate,
)
from crewos_tui.backend.schemas.projects import ProjectRole

from ..conftest import unique

#: Users of these tests live in their own team, so they do not crowd other tests' team lists
#: on the shared live server.
TEAM = "chat"
FAKE = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


async def chatty(world):
    """A user with one session holding one question and one reply."""
    user = await world.user(team=TEAM)
    b = await world.as_(user)
    reply = await b.chat.send("What can I do here?")
    return user, b, reply


async def test_create_list_get(world):
    user = await world.user(team=TEAM)
    b = await world.as_(user)
    project = await b.projects.create(ProjectCreate(name=unique("S ")))
    created = await b.sessions.create(ChatSessionCreate(title="Planning", project_id=project.id, agent="planner",
                                                        tags=["q2", "q2", "beta"]))
    assert created.status == "active" and created.owner == user.username and created.access == "owner"
    assert created.tags == ["q2", "beta"] and created.agent == "planner" and created.message_count == 0
    reply = await b.chat.send("hello")  # a second session, more recent activity
    listed = [s.id for s in (await b.sessions.list()).items]
    assert listed == [reply.session_id, created.id]
    # Sending into the older session moves it to the front.
    await b.chat.send("break down: a; b", session_id=created.id)
    page = await b.sessions.list(limit=1)
    assert [s.id for s in page.items] == [created.id] and page.next_cursor
    rest = await b.sessions.list(limit=1, cursor=page.next_cursor)
    assert [s.id for s in rest.items] == [reply.session_id] and rest.next_cursor is None
    detail = await b.sessions.get(created.id)
    assert detail.message_count == 2 and detail.messages[1].agent == "planner"  # the session's default agent
    assert [s.id for s in (await b.sessions.list(project_id=project.id)).items] == [created.id]
    with pytest.raises(errors.NotFound):
        await b.sessions.create(ChatSessionCreate(project_id=FAKE))
    with pytest.raises(errors.NotFound):
        await b.sessions.create(ChatSessionCreate(agent="oracle"))
    with pytest.raises(errors.Invalid):
        await b.sessions.list(status="deleted")


async def test_sessions_are_private(world):
    _, b, reply = await chatty(world)
    other = await world.as_(await world.user(team=TEAM))
    admin = await world.as_(await world.user(role="admin", team=TEAM))
    for who in (other, admin):
        with pytest.raises(errors.NotFound):
            await who.sessions.get(reply.session_id)
        with pytest.raises(errors.NotFound):
            await who.sessions.transcript(reply.session_id)
        assert reply.session_id not in [s.id for s in (await who.sessions.list()).items]
    with pytest.raises(errors.NotFound):
        await b.sessions.get(FAKE)


async def test_update_close_archive(world):
    _, b, reply = await chatty(world)
    sid = reply.session_id
    updated = await b.sessions.update(sid, ChatSessionUpdate(title="Renamed", tags=["x"]))
    assert updated.title == "Renamed" and updated.tags == ["x"]
    with pytest.raises(errors.Invalid):
        await b.sessions.update(sid, ChatSessionUpdate())
    closed = await b.sessions.close(sid)
    assert closed.status == "closed" and closed.closed_at is not None
    with pytest.raises(errors.Conflict):
        await b.sessions.close(sid)
    assert [s.id for s in (await b.sessions.list(status="closed")).items] == [sid]
    archived = await b.sessions.archive(sid)
    assert archived.status == "archived" and archived.archived_at is not None
    with pytest.raises(errors.Conflict):
        await b.sessions.archive(sid)
    with pytest.raises(errors.Conflict, match="archived"):
        await b.sessions.update(sid, ChatSessionUpdate(title="again"))
    assert sid not in [s.id for s in (await b.sessions.list()).items]  # archived are hidden by default
    assert [s.id for s in (await b.sessions.list(status="archived")).items] == [sid]


async def test_transcript_export_replay(world):
    user, b, reply = await chatty(world)
    sid = reply.session_id
    await b.sessions.submit_feedback(sid, MessageFeedbackCreate(message_id=reply.message_id, rating="up"))
    t = await b.sessions.transcript(sid)
    assert [m.role for m in t.messages] == ["user", "assistant"]
    assert t.markdown.startswith("# What can I do here?") and f"### {user.username} ·" in t.markdown
    assert "### helper (agent)" in t.markdown and reply.content.strip().splitlines()[0] in t.markdown
    bundle = await b.sessions.export(sid)
    assert bundle.format == "crewos-session-export/1" and bundle.session.id == sid
    assert len(bundle.messages) == 2 and [f.rating for f in bundle.feedback] == ["up"]
    replay = await b.sessions.replay(sid)
    types = [e.type for e in replay.events]
    assert types[0] == "session.created" and types[1] == "message" and types[2] == "assistant.start"
    assert "assistant.done" in types and types[-1] == "feedback"
    assert [e.seq for e in replay.events] == list(range(1, len(types) + 1))
    rebuilt = "".join(e.content or "" for e in replay.events if e.type == "assistant.delta")
    assert rebuilt == reply.content


async def test_share_invite_accept_revoke(world):
    owner, b, reply = await chatty(world)
    sid = reply.session_id
    guest_user = await world.user(team=TEAM)
    guest = await world.as_(guest_user)
    share = await b.sessions.create_share(sid, SessionShareCreate(username=guest_user.username))
    assert share.status == "pending" and share.invitee_id == guest_user.id and share.created_by == owner.username
    with pytest.raises(errors.Conflict, match="already shared"):
        await b.sessions.create_share(sid, SessionShareCreate(user_id=guest_user.id))
    with pytest.raises(errors.Conflict):
        await b.sessions.create_share(sid, SessionShareCreate(user_id=owner.id))
    with pytest.raises(errors.NotFound):
        await b.sessions.create_share(sid, SessionShareCreate(username="nobody-at-all"))
    # Not visible before accepting; listed as an invitation.
    with pytest.raises(errors.NotFound):
        await guest.sessions.get(sid)
    invited = (await guest.sessions.list(scope="invited")).items
    assert [(s.id, s.access, s.share_id) for s in invited] == [(sid, "invited", share.id)]
    assert (await guest.sessions.list()).items == []
    # Only the invitee accepts.
    stranger = await world.as_(await world.user(team=TEAM))
    with pytest.raises(errors.NotFound):
        await stranger.sessions.accept_share(sid, share.id)
    accepted = await guest.sessions.accept_share(sid, share.id)
    assert accepted.status == "accepted" and accepted.accepted_at is not None
    with pytest.raises(errors.Conflict):
        await guest.sessions.accept_share(sid, share.id)
    seen = await guest.sessions.get(sid)
    assert seen.access == "shared" and len(seen.messages) == 2
    assert [s.id for s in (await guest.sessions.list(scope="shared")).items] == [sid]
    # An invitee reads but does not chat, rename or share.
    with pytest.raises(errors.Forbidden):
        await guest.chat.send("hi", session_id=sid)
    with pytest.raises(errors.Forbidden):
        await guest.sessions.update(sid, ChatSessionUpdate(title="mine now"))
    with pytest.raises(errors.Forbidden):
        await guest.sessions.create_share(sid, SessionShareCreate(username=owner.username))
    assert [x.id for x in (await b.sessions.list_shares(sid)).items] == [share.id]
    assert [x.id for x in (await guest.sessions.list_shares(sid)).items] == [share.id]
    revoked = await b.sessions.revoke_share(sid, share.id)
    assert revoked.status == "revoked" and revoked.revoked_at is not None
    with pytest.raises(errors.NotFound):
        await guest.sessions.get(sid)
    with pytest.raises(errors.Conflict):
        await b.sessions.revoke_share(sid, share.id)
    with pytest.raises(errors.NotFound):
        await b.sessions.revoke_share(sid, FAKE)


async def test_invitee_may_leave(world):
    _, b, reply = await chatty(world)
    guest_user = await world.user(team=TEAM)
    guest = await world.as_(guest_user)
    share = await b.sessions.create_share(reply.session_id, SessionShareCreate(user_id=guest_user.id))
    await guest.sessions.accept_share(reply.session_id, share.id)
    left = await guest.sessions.revoke_share(reply.session_id, share.id)
    assert left.status == "revoked"
    # A new invitation after a revoke is allowed.
    again = await b.sessions.create_share(reply.session_id, SessionShareCreate(user_id=guest_user.id))
    assert again.status == "pending" and again.id != share.id


async def test_a_project_session_is_shared_only_with_readers_of_the_project(world):
    # Two teams of their own: team A owns the project, team B's user has no access to it.
    team_a, team_b = unique("chat-a"), unique("chat-b")
    owner = await world.user(team=team_a)
    b = await world.as_(owner)
    project = await b.projects.create(ProjectCreate(name=unique("Secret ")))
    session = await b.sessions.create(ChatSessionCreate(title="Roadmap", project_id=project.id))
    outsider = await world.user(team=team_b)
    with pytest.raises(errors.Forbidden, match=f"{outsider.username} cannot read the project"):
        await b.sessions.create_share(session.id, SessionShareCreate(user_id=outsider.id))
    assert (await b.sessions.list_shares(session.id)).items == []
    assert (await (await world.as_(outsider)).sessions.list(scope="invited")).items == []
    # A teammate who is not a member cannot read it either; once a member, they can be invited.
    teammate = await world.user(team=team_a)
    with pytest.raises(errors.Forbidden, match="cannot read the project"):
        await b.sessions.create_share(session.id, SessionShareCreate(username=teammate.username))
    await b.projects.upsert_member(project.id, teammate.id, ProjectRole.viewer)
    share = await b.sessions.create_share(session.id, SessionShareCreate(username=teammate.username))
    assert share.status == "pending" and share.invitee_id == teammate.id
    assert [x.id for x in (await b.sessions.list_shares(session.id)).items] == [share.id]
    # An invitee who lost access before accepting cannot accept.
    await b.projects.remove_member(project.id, teammate.id)
    mate = await world.as_(teammate)
    with pytest.raises(errors.Forbidden, match="cannot read the project"):
        await mate.sessions.accept_share(session.id, share.id)
    with pytest.raises(errors.NotFound):
        await mate.sessions.get(session.id)
    # Back in the project they accept and read; out of it again, the session is gone for them.
    await b.projects.upsert_member(project.id, teammate.id, ProjectRole.viewer)
    assert (await mate.sessions.accept_share(session.id, share.id)).status == "accepted"
    assert (await mate.sessions.get(session.id)).access == "shared"
    assert [s.id for s in (await mate.sessions.list(scope="shared")).items] == [session.id]
    await b.projects.remove_member(project.id, teammate.id)
    with pytest.raises(errors.NotFound):
        await mate.sessions.get(session.id)
    with pytest.raises(errors.NotFound):
        await mate.sessions.transcript(session.id)
    assert (await mate.sessions.list()).items == []
    assert [s.id for s in (await b.sessions.list()).items] == [session.id]  # the owner still sees it
    # A session without a project is shared with anyone, as before.
    loose = await b.sessions.create(ChatSessionCreate(title="Anything"))
    assert (await b.sessions.create_share(loose.id, SessionShareCreate(user_id=outsider.id))).status == "pending"


async def test_feedback_and_metrics(world):
    _user, b, reply = await chatty(world)
    sid = reply.session_id
    fb = await b.sessions.submit_feedback(sid, MessageFeedbackCreate(message_id=reply.message_id, rating="down",
                                                                      comment="too long"))
    assert fb.rating == "down" and fb.agent == "helper" and fb.comment == "too long"
    # Rating again replaces the earlier rating.
    fb2 = await b.sessions.submit_feedback(sid, MessageFeedbackCreate(message_id=reply.message_id, rating="up"))
    assert fb2.id == fb.id and fb2.rating == "up"
    detail = await b.sessions.get(sid)
    assert detail.messages[1].my_rating == "up" and detail.messages[0].my_rating is None
    with pytest.raises(errors.Invalid):
        await b.sessions.submit_feedback(sid, MessageFeedbackCreate(message_id=detail.messages[0].id, rating="up"))
    with pytest.raises(errors.NotFound):
        await b.sessions.submit_feedback(sid, MessageFeedbackCreate(message_id=FAKE, rating="up"))
    planned = await b.chat.send("plan: one; two", session_id=sid)
    await b.sessions.submit_feedback(sid, MessageFeedbackCreate(message_id=planned.message_id, rating="down"))
    m = await b.sessions.feedback_metrics()
    assert (m.total, m.up, m.down, m.up_ratio, m.with_comment) == (2, 1, 1, 0.5, 0)
    assert [(x.key, x.up, x.down, x.total) for x in m.by_agent] == [("helper", 1, 0, 1), ("planner", 0, 1, 1)]
    assert sum(x.total for x in m.by_day) == 2 and m.since <= m.until
    only = await b.sessions.feedback_metrics(agent="planner")
    assert (only.total, only.down) == (1, 1)
    # Another user's metrics do not include this feedback; an admin's do.
    assert (await (await world.as_(await world.user(team=TEAM))).sessions.feedback_metrics()).total == 0
    assert (await (await world.as_(await world.user(role="admin", team=TEAM))).sessions.feedback_metrics()).total >= 2
    with pytest.raises(errors.Invalid):
        await b.sessions.feedback_metrics(days=0)
