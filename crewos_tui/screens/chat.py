"""The chat screen: sessions on the left, the conversation on the right, the input below.

A message streams its reply in as it arrives (``ReplyStream`` coalesces token bursts
into one Markdown write per frame); the conversation follows the reply while it is
scrolled to the bottom and stays put once the user scrolls up. ``escape`` or ``ctrl+c``
stops a running reply; the part that arrived is kept, marked cancelled. A reply whose
stream is cut, breaks off or falls silent shows "incomplete — N characters arrived" and
``ctrl+e`` sends the same message again; a stored reply whose run is no longer active
never shows "answering…".

Typing is for the message box: a printable key pressed anywhere else on this screen
(the conversation, the session list) goes into the box, as in Elia, so a stray letter
never acts. Digits still switch screens. The actions are ctrl keys instead: ``ctrl+o``
chooses the project (fuzzy picker), ``ctrl+g`` the agent; on the selected reply
``enter`` opens its action menu (copy, rate, tasks, report, export), ``ctrl+t`` turns a
planner's proposal into tasks once (again, it skips and counts what the proposal made:
``backend/proposal.py``; any other reply is copied), ``ctrl+y`` copies, ``ctrl+f``
opens the report file a reporter's reply left, ``ctrl+s`` exports the transcript.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Label, Select, Static, TextArea

from ..widgets.chat_log import INCOMPLETE, ChatInput, MessageLog, MessageView, ReplyStream
from ..widgets.format import count, one_line
from ..widgets.paged_table import Column, PagedTable
from ..widgets.safe_text import literal, safe
from ..widgets.workers import work
from .base import BackendScreen, reload_binding

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from ..backend.errors import CrewOSError
    from ..backend.schemas import ChatMessage, ChatSession, ChatStreamEvent, Project

PAGE = 50
AUTO = ""  # the agent Select's "let the message decide" value
NO_PROJECT = ""


def _title(s: ChatSession) -> Text:
    mark = {"shared": "⇄ ", "invited": "✉ "}.get(s.access, "")
    style = "dim italic" if s.status != "active" else ""
    return Text(mark + (s.title or "Untitled"), style=style)


# One column: the list is narrow (24 cells at 80 columns); times show on the messages.
SESSION_COLUMNS: list[Column[ChatSession]] = [
    Column("title", "Sessions (⇄ shared)", _title, lambda s: (s.title or "").casefold()),
]


def export_dir(app: Any) -> Path:
    """The exports folder in the data dir, made private (0700, and the data dir too) if it is new."""
    from .. import paths

    spec = getattr(app, "spec", None)
    data = paths.private_dir(Path(getattr(spec, "data_dir", None) or paths.data_dir()))
    return paths.private_dir(data / "exports")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:40] or "session"


def proposal_outcome_text(created: int, skipped: int) -> str:
    """What accepting a proposal did: ``Created 2 tasks; skipped 3 already made from this proposal.``"""
    if not skipped:
        return f"Created {count(created, 'task')} from this proposal."
    if not created:
        return f"Nothing new: skipped {count(skipped, 'task')} already made from this proposal."
    return f"Created {count(created, 'task')}; skipped {skipped:,} already made from this proposal."


class ChatScreen(BackendScreen):
    MODE = "chat"
    CSS_PATH = "../styles/chat.tcss"
    AUTO_FOCUS = "#chat-input"
    # Textual annotates these `ClassVar[...] | None`, which reads as an instance variable.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-narrow"), (110, "-wide")]

    # Printable keys typed outside the message box go into it (see ``on_key``), so every
    # binding here is a ctrl combination or a non-printing key: no stray letter changes data.
    BINDINGS = [
        Binding("ctrl+n", "new_session", "New", tooltip="New session", id="chat.new"),
        Binding("escape", "cancel_reply", "Stop", tooltip="Stop the running reply", id="chat.cancel"),
        Binding("ctrl+c", "cancel_reply", "Stop", show=False, priority=True, id="chat.cancel_ctrl_c"),
        # Not streaming: escape leaves the input, so the mode keys (1-9) work again.
        Binding("escape", "leave_input", "Leave input", show=False, id="chat.leave_input"),
        Binding("ctrl+o", "choose_project", "Project", tooltip="Choose the project (type a few letters)",
                id="chat.project"),
        Binding("enter", "reply_menu", "Actions", tooltip="What to do with the selected reply",
                id="chat.reply_menu"),
        Binding("ctrl+t", "to_tasks", "Tasks", show=False, tooltip="Turn the selected reply into tasks (or copy it)",
                id="chat.to_tasks"),
        Binding("ctrl+y", "copy_reply", "Copy", show=False, id="chat.copy",
                tooltip="Copy the selected reply (OSC 52: reaches your clipboard over SSH)"),
        Binding("ctrl+f", "open_artifact", "Report", show=False, tooltip="Open the report file the selected reply left",
                id="chat.open_artifact"),  # knowledge slice
        Binding("ctrl+s", "export", "Export", tooltip="Export the transcript to a file", id="chat.export"),
        Binding("ctrl+e", "retry", "Retry", tooltip="Send the message whose reply was cut off again",
                id="chat.retry"),
        Binding("ctrl+g", "choose_agent", "Agent", show=False, tooltip="Choose the agent", id="chat.agent"),
        reload_binding("chat"),
    ]
    #: What ``enter`` on a reply offers (label, action); ratings live only here.
    REPLY_MENU: ClassVar[list[tuple[str, str]]] = [
        ("Copy the reply", "copy_reply"),
        ("Rate it up (+1)", "rate('up')"),
        ("Rate it down (-1)", "rate('down')"),
        ("Turn it into tasks on the board", "to_tasks"),
        ("Open the report file it left", "open_artifact"),
        ("Send the cut-off message again", "retry"),
        ("Export the transcript to a file", "export"),
    ]
    NEEDS_REPLY = frozenset({"rate", "to_tasks", "copy_reply", "reply_menu"})

    def __init__(self) -> None:
        super().__init__()
        self.session_id: str | None = None
        self.run_id: str | None = None
        self.streaming = False
        self.stream: ReplyStream | None = None
        self.agent = AUTO
        self.project_id = NO_PROJECT
        self._choices_loaded = False
        self.projects: list[Project] = []  # the active projects the picker offers
        #: The message whose reply was cut off (or never came): what ``r`` sends again.
        self.retry_text: str | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="chat-body"):
            with Vertical(id="chat-sessions"):
                yield PagedTable(SESSION_COLUMNS, lambda s: s.id, empty="No sessions yet.", id="session-list")
            with Vertical(id="chat-main"):
                with Horizontal(id="chat-controls"):
                    yield Label("Agent", classes="control-label")
                    yield Select([("auto", AUTO)], value=AUTO, allow_blank=False, compact=True, id="agent-select")
                    yield Label("Project", classes="control-label")
                    yield Static("", id="chat-project")
                yield Static("", id="chat-heading")
                yield MessageLog(id="message-log")
                yield ChatInput(id="chat-input", show_line_numbers=False, compact=True)

    # ---- lookups -------------------------------------------------------------------

    @property
    def sessions_table(self) -> PagedTable[ChatSession]:
        return cast("PagedTable[ChatSession]", self.query_one("#session-list", PagedTable))

    @property
    def message_log(self) -> MessageLog:
        return self.query_one(MessageLog)

    @property
    def input(self) -> ChatInput:
        return self.query_one(ChatInput)

    def selected_reply(self) -> MessageView | None:
        view = self.message_log.selected_view
        if view is None or view.message.role != "assistant" or view.message.id.startswith("pending"):
            return None
        return view

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_reply":
            return self.streaming  # hidden (and ctrl+c left to copy) unless a reply is running
        if action == "leave_input":
            return not self.streaming
        if action == "retry":
            return self.retry_text is not None and not self.streaming
        if action in self.NEEDS_REPLY and self.selected_reply() is None:
            return None
        if action == "open_artifact" and not self._artifact_token():
            return None
        if action == "export" and self.session_id is None:
            return None
        return super().check_action(action, parameters)

    # ---- loading -------------------------------------------------------------------

    def reload(self) -> None:
        self.load_sessions()
        if not self._choices_loaded:
            self.load_choices()
        if self.session_id is not None and not self.streaming:
            self.load_session(self.session_id)
        else:
            self._heading()

    def on_data_changed(self, project_ids: frozenset[str | None]) -> None:
        # Only the list follows live changes: the open conversation updates itself.
        if self.crewos.backend is not None and self.is_current:
            self.load_sessions()

    @work(exclusive=True, group="chat-sessions", exit_on_error=False)
    async def load_sessions(self) -> None:
        table = self.sessions_table
        table.fetching = True
        try:
            page = await self.backend.sessions.list(limit=PAGE)
        finally:
            table.fetching = False
        table.reset(page.items, page.next_cursor)
        if self.session_id:
            table.select_key(self.session_id)

    @work(exclusive=True, group="chat-more", exit_on_error=False)
    async def load_more(self) -> None:
        table = self.sessions_table
        generation = table.generation
        page = await self.backend.sessions.list(limit=PAGE, cursor=table.next_cursor)
        if generation == table.generation:
            table.extend(page.items, page.next_cursor)

    @work(exclusive=True, group="chat-choices", exit_on_error=False)
    async def load_choices(self) -> None:
        agents = await self.backend.agents.list()
        projects = await self.backend.projects.list(limit=200, status="active")
        cast("Select[str]", self.query_one("#agent-select", Select)).set_options(
            [("auto", AUTO), *((literal(a.name), a.name) for a in agents.items)])
        self.projects = list(projects.items)
        self._choices_loaded = True
        self._sync_selects()

    @work(exclusive=True, group="chat-session", exit_on_error=False)
    async def load_session(self, session_id: str) -> None:
        detail = await self.backend.sessions.get(session_id)
        not_running: set[str] = set()
        if detail.access == "owner" and any(self._unfinished(m) for m in detail.messages):
            # Stored as still answering: ask which runs really are (which may also mark the
            # runs of a process that is gone interrupted), then read the session again.
            status = await self.backend.chat.orchestrator_status()
            active = {r.message_id for r in status.active_runs}
            detail = await self.backend.sessions.get(session_id)
            not_running = {m.id for m in detail.messages if self._unfinished(m) and m.id not in active}
        self.session_id = detail.id
        self.retry_text = None
        self.agent, self.project_id = detail.agent or AUTO, detail.project_id or NO_PROJECT
        self._sync_selects()
        self._heading(detail)
        await self.message_log.show([m.model_copy(update={"status": "not running"}) if m.id in not_running else m
                                     for m in detail.messages])
        self.refresh_bindings()

    @staticmethod
    def _unfinished(message: ChatMessage) -> bool:
        return message.role == "assistant" and message.status in ("streaming", "queued")

    def _sync_selects(self) -> None:
        select = cast("Select[str]", self.query_one("#agent-select", Select))
        values = {v for _, v in select._options}  # pyright: ignore[reportPrivateUsage]  # no public option list
        with select.prevent(Select.Changed):
            select.value = self.agent if self.agent in values else select.value
        self._show_project()

    def _show_project(self) -> None:
        """The project label: the bound project's name (literal), or how to choose one."""
        key = self.crewos.key_of(self._binding("chat.project"))
        name = next((p.name for p in self.projects if p.id == self.project_id), None)
        if self.project_id and name is None:
            name = "(not an active project)"
        label = literal(one_line(name, 30), style="bold") if name else Text("none", style="italic")
        self.query_one("#chat-project", Static).update(Text.assemble(label, (f"  {key}", "dim")))

    def _heading(self, session: ChatSession | None = None) -> None:
        heading = self.query_one("#chat-heading", Static)
        if session is None and self.session_id is None:
            heading.update(Text("New session · Enter sends, ctrl+j new line", style="dim italic"))
        elif session is not None:
            note = "" if session.status == "active" else f" · {session.status}"
            shared = f" · shared by {session.owner}" if session.access == "shared" else ""
            heading.update(safe(Text.assemble((session.title or "Untitled", "bold"), (f"{note}{shared}", "dim"))))

    def open_session(self, session_id: str) -> None:
        """Show one session (the sessions screen and notification links call this)."""
        self.session_id = session_id
        self.sessions_table.select_key(session_id)
        self.load_session(session_id)

    def open_link(self, link: Any) -> None:
        session_id = link.resource_id if link.resource_type in ("chat_session", "session") else None
        if session_id:
            self.open_session(session_id)

    # ---- sending and streaming --------------------------------------------------------

    @on(ChatInput.Send)
    def _send(self, event: ChatInput.Send) -> None:
        if self.streaming:
            self.crewos.say("A reply is still arriving; press escape to stop it first.", severity="warning")
            return
        self.input.clear()
        self.send_message(event.text.strip())

    @work(exclusive=True, group="chat-reply", exit_on_error=False)
    async def send_message(self, text: str) -> None:
        from ..backend.errors import StreamIncomplete, Unavailable
        from ..backend.schemas import ChatMessage

        now = datetime.now(UTC)
        user = self.crewos.session.username if self.crewos.session else None
        if self.session_id is None:
            await self.message_log.remove_children()
        self.retry_text = None
        await self.message_log.add(ChatMessage(id="pending-user", session_id=self.session_id or "", role="user",
                                       content=text, author=user or "you", created_at=now))
        self.streaming, self.run_id = True, None
        self.refresh_bindings()
        stream: ReplyStream | None = None
        view: MessageView | None = None
        final: dict[str, Any] | None = None
        ended = False  # the stream's final event (done or error) arrived
        failure: CrewOSError | None = None
        try:
            # Both backends' streams are async generators (aclose() ends the request).
            events = cast("AsyncGenerator[ChatStreamEvent, None]", self.backend.chat.stream(
                text, project_id=self.project_id or None, session_id=self.session_id, agent=self.agent or None))
            async with contextlib.aclosing(events) as source:
                async for event in source:
                    if event.event == "start":
                        self.session_id = event.data.get("session_id") or self.session_id
                        self.run_id = event.data.get("run_id")
                        view = await self.message_log.add(ChatMessage(
                            id="pending-reply", session_id=self.session_id or "", role="assistant",
                            agent=event.data.get("agent"), status="streaming", created_at=now), follow=False)
                        stream = self.stream = ReplyStream(view)
                        stream.start()
                    elif event.event == "token" and stream is not None:
                        stream.add(event.delta)
                    elif event.event == "done":
                        final, ended = event.data, True
                    elif event.event == "error":
                        ended = True
                        self.crewos.say(str(event.data.get("message") or "the agent failed"), severity="error")
        except (StreamIncomplete, Unavailable) as exc:  # cut, broken, silent or unreachable: may be retried
            failure = exc
        finally:
            if stream is not None:
                await stream.finish(None)
            self.streaming, self.stream = False, None
            if not ended and view is not None:  # never "answering…" once nothing is arriving
                self._show_incomplete(view, stream.text if stream is not None else "", retry=failure is not None)
            self.refresh_bindings()
        if failure is not None:
            await self._offer_retry(view, text, failure)
            return
        if final is not None and final.get("status") == "cancelled":
            self.crewos.say("Stopped; the part that arrived is kept.")
        if self.session_id:
            await self._refresh_open_session()
        self.load_sessions()

    def _show_incomplete(self, view: MessageView, arrived: str, *, retry: bool) -> None:
        hint = f"{self.crewos.key_of(self._binding('chat.retry'))} sends it again" if retry else None
        view.set_header(view.message.model_copy(update={"status": INCOMPLETE, "content": arrived, "error": hint}))

    def _binding(self, binding_id: str) -> Binding:
        return next(b for b in self.screen_bindings() if b.id == binding_id)

    async def _offer_retry(self, view: MessageView | None, text: str, failure: CrewOSError) -> None:
        """The reply was cut off (or never came): say so on it, and let ``r`` resend ``text``."""
        from ..backend.schemas import ChatMessage

        if view is None:  # no reply had started: show where it would have been
            view = await self.message_log.add(ChatMessage(
                id="pending-reply", session_id=self.session_id or "", role="assistant", status=INCOMPLETE,
                created_at=datetime.now(UTC)))
            self._show_incomplete(view, "", retry=True)
        self.retry_text = text
        log = self.message_log
        log.selected = len(log.views) - 1
        if self.focused is self.input and not self.input.text:  # not typing the next one: r works at once
            log.focus()
        self.refresh_bindings()
        self.crewos.report_error(failure)
        if self.session_id:
            self.load_sessions()

    def action_retry(self) -> None:
        if self.retry_text is not None and not self.streaming:
            text, self.retry_text = self.retry_text, None
            self.send_message(text)

    async def _refresh_open_session(self) -> None:
        """Swap the placeholders for the stored messages (ids, times, tokens)."""
        assert self.session_id is not None
        detail = await self.backend.sessions.get(self.session_id)
        views = self.message_log.views
        if len(views) == len(detail.messages):
            for view, message in zip(views, detail.messages, strict=True):
                if view.message.id != message.id or view.message.content != message.content:
                    await view.set_message(message)
                else:
                    view.set_header(message)
            if self.message_log.following:  # scrolled up to read: the selection and the view stay put
                self.message_log.select_last_reply()
        else:
            await self.message_log.show(detail.messages)
        self._heading(detail)
        self.refresh_bindings()

    def action_cancel_reply(self) -> None:
        if not self.streaming:
            return
        if self.run_id is None:  # not started yet: dropping the stream cancels it
            self.workers.cancel_group(self, "chat-reply")  # pyright: ignore[reportUnknownMemberType]  # bare Worker
            return
        self.cancel_run(self.run_id)

    def action_leave_input(self) -> None:
        if self.focused is self.input:
            self.message_log.focus()

    @work(group="chat-cancel", exit_on_error=False)
    async def cancel_run(self, run_id: str) -> None:
        await self.backend.chat.cancel(run_id)

    # ---- actions on the selected reply ------------------------------------------------

    def action_rate(self, rating: str) -> None:
        view = self.selected_reply()
        if view is not None and self.session_id:
            self.rate(view, rating)

    @work(group="chat-write", exit_on_error=False)
    async def rate(self, view: MessageView, rating: str) -> None:
        from ..backend.schemas import MessageFeedbackCreate
        from ..backend.schemas.sessions import FeedbackRating

        assert self.session_id is not None
        await self.backend.sessions.submit_feedback(
            self.session_id, MessageFeedbackCreate(message_id=view.message.id, rating=FeedbackRating(rating)))
        view.set_header(view.message.model_copy(update={"my_rating": rating}))
        self.crewos.say(f"Rated the {view.message.agent or 'assistant'} reply {rating}.")

    def action_to_tasks(self) -> None:
        view = self.selected_reply()
        if view is None:
            return
        proposal: dict[str, Any] = (view.message.data or {}).get("proposal") or {}
        project_id = proposal.get("project_id") or self.project_id
        if proposal.get("tasks") and project_id and hasattr(self.backend, "tasks"):
            self.create_tasks(view.message.id, project_id, proposal["tasks"])
        else:
            self.action_copy_reply()

    @work(group="chat-write", exit_on_error=False)
    async def create_tasks(self, message_id: str, project_id: str, items: list[dict[str, Any]]) -> None:
        """Once per proposal: what this reply's proposal made before is skipped, and said."""
        from ..backend.proposal import accept_proposal

        outcome = await accept_proposal(self.backend.tasks, items, message_id=message_id, project_id=project_id)
        self.crewos.say(proposal_outcome_text(len(outcome.created), len(outcome.skipped)))

    def _artifact_token(self) -> str:
        view = self.selected_reply()
        return str((view.message.data or {}).get("artifact_token") or "") if view is not None else ""

    def action_open_artifact(self) -> None:
        """A reporter's reply is also a report file: view it, revise it, save it to disk."""
        token = self._artifact_token()
        if token:
            from .artifact import ArtifactScreen

            self.app.push_screen(ArtifactScreen(token))

    def action_copy_reply(self) -> None:
        view = self.selected_reply()
        if view is not None:
            from ..widgets.clipboard import copy_via_terminal

            copy_via_terminal(self.app, view.message.content, "the reply")

    def action_export(self) -> None:
        if self.session_id:
            self.export_transcript(self.session_id)

    @work(group="chat-export", exit_on_error=False)
    async def export_transcript(self, session_id: str) -> Path:
        transcript = await self.backend.sessions.transcript(session_id)
        target = export_dir(self.app) / f"{slug(transcript.title)}-{session_id}.md"
        target.write_text(transcript.markdown, encoding="utf-8")
        self.crewos.say(f"Saved the transcript to {target}")
        return target

    # ---- other actions and events ----------------------------------------------------

    def action_new_session(self) -> None:
        if self.streaming:
            return
        self.session_id, self.retry_text = None, None
        self.sessions_table.move_cursor(row=0)
        self.run_worker(self.message_log.remove_children(), exit_on_error=False)
        self._heading()
        self.input.focus()
        self.refresh_bindings()

    def action_choose_agent(self) -> None:
        select = cast("Select[str]", self.query_one("#agent-select", Select))
        select.focus()
        select.action_show_overlay()

    def action_choose_project(self) -> None:
        """The fuzzy project picker; the choice binds the next message, and focus returns to the box."""
        from ..widgets.project_picker import NO_PROJECT as PICKED_NONE
        from ..widgets.project_picker import ProjectPicker

        def chosen(project_id: str | None) -> None:
            if project_id is not None:
                self.project_id = NO_PROJECT if project_id == PICKED_NONE else project_id
                self._show_project()
            self.input.focus()

        self.app.push_screen(ProjectPicker(self.projects, self.project_id, none_label="No project"), chosen)

    def action_reply_menu(self) -> None:
        from ..widgets.choice_menu import ChoiceMenu

        offered = [(label, action) for label, action in self.REPLY_MENU
                   if self.check_action(action.partition("(")[0], ()) is True]
        if not offered:
            return
        keys = {b.action: self.crewos.key_of(b) for b in self.screen_bindings()}

        async def chosen(action: str | None) -> None:
            if action is not None:
                await self.run_action(action)

        self.app.push_screen(ChoiceMenu("The selected reply", [(label, action, keys.get(action, ""))
                                                               for label, action in offered]), chosen)

    def on_key(self, event: events.Key) -> None:
        """A printable key typed outside the message box goes into it (digits still switch
        screens, ``?`` still opens the help)."""
        char = event.character
        if not char or not char.isprintable() or char.isdigit() or char == "?" or self.app.screen is not self:
            return
        focused = self.focused
        if isinstance(focused, TextArea | Input) or (
                focused is not None and any(isinstance(node, Select) for node in focused.ancestors_with_self)):
            return  # typing there already (or a Select's own type-to-search)
        event.stop()
        event.prevent_default()
        box = self.input
        box.focus()
        box.insert(char)

    def forget_cached(self) -> None:
        self._choices_loaded = False

    @on(Select.Changed, "#agent-select")
    def _agent_changed(self, event: Select.Changed) -> None:
        self.agent = str(event.value) if event.value is not Select.NULL else AUTO

    def on_click(self, event: events.Click) -> None:
        if event.widget is not None and event.widget.id == "chat-project":
            self.action_choose_project()

    @on(DataTable.RowSelected, "#session-list")
    def _session_chosen(self) -> None:
        chosen = self.sessions_table.selected
        if chosen is not None and not self.streaming:
            self.open_session(chosen.id)
            self.message_log.focus()

    @on(PagedTable.NeedMore)
    def _need_more(self) -> None:
        self.load_more()

    @on(MessageLog.Selected)
    def _reply_selected(self) -> None:
        self.refresh_bindings()
