"""Demo data of the chat slice: a few conversations with the built-in agents.

Maya has a project update and a plan for Atlas (with feedback), a closed helper
session, a session Devon shared with her (accepted) and an invitation from Priya
still waiting. The answers are the built-in agents' own, so they are deterministic.
"""

from __future__ import annotations

from typing import Any

from ..schemas import ChatSessionUpdate, MessageFeedbackCreate, SessionShareCreate
from ..schemas.sessions import FeedbackRating


async def _seed_chat(svc: Any, as_: dict[str, Any], users: dict[str, Any], projects: dict[str, Any]) -> None:
    maya, devon, priya = as_["maya"], as_["devon"], as_["priya"]
    atlas, harbor = projects["Atlas Launch"], projects["Harbor Research"]

    update = await svc.chat.send(maya, "Prepare the project update", project_id=atlas.id)
    await svc.sessions.update(maya, update.session_id, ChatSessionUpdate(title="Atlas weekly update",
                                                                         tags=["weekly"]))
    await svc.sessions.submit_feedback(maya, update.session_id, MessageFeedbackCreate(
        message_id=update.message_id, rating=FeedbackRating.up, comment="Exactly what the steering group needs."))

    plan = await svc.chat.send(maya, "Plan the beta launch", project_id=atlas.id)
    await svc.sessions.submit_feedback(maya, plan.session_id, MessageFeedbackCreate(
        message_id=plan.message_id, rating=FeedbackRating.down, comment="Needs dates."))
    await svc.chat.send(maya, "Break down: write the release notes; record the demo then email the customers",
                        session_id=plan.session_id)

    helped = await svc.chat.send(maya, "What is waiting for me?")
    await svc.sessions.close(maya, helped.session_id)

    shared = await svc.chat.send(devon, "Summarise progress", project_id=atlas.id)
    share = await svc.sessions.create_share(devon, shared.session_id, SessionShareCreate(username="maya"))
    await svc.sessions.accept_share(maya, shared.session_id, share.id)

    invite = await svc.chat.send(priya, "Prepare the project update", project_id=harbor.id)
    await svc.sessions.update(priya, invite.session_id, ChatSessionUpdate(title="Harbor steering pack"))
    await svc.sessions.create_share(priya, invite.session_id, SessionShareCreate(username="maya"))
