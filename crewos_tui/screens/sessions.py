"""The sessions screen: every conversation you own or were invited to, with filters
(open, closed, archived, shared with me, invitations, all), a transcript preview,
and one key per action: open in chat, share, accept, revoke, close, archive,
replay, export."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Label, Markdown, Select, Static

from ..widgets.confirm import ConfirmModal
from ..widgets.form_fields import Field
from ..widgets.format import utc
from ..widgets.paged_table import Column, PagedTable
from ..widgets.safe_text import md_escape, safe, safe_markdown
from ..widgets.workers import work
from .base import BackendScreen, reload_binding
from .chat import export_dir, slug

if TYPE_CHECKING:
    from ..backend.schemas import ChatSession

PAGE = 50
#: Seconds between replayed pieces of a reply (tests set 0).
REPLAY_DELAY = 0.01
FILTERS = [("Open", "active"), ("Closed", "closed"), ("Archived", "archived"), ("Shared with me", "shared"),
           ("Invitations", "invited"), ("All", "all")]
FILTER_ARGS: dict[str, dict[str, str]] = {
    "active": {"status": "active"}, "closed": {"status": "closed"}, "archived": {"status": "archived"},
    "shared": {"scope": "shared"}, "invited": {"scope": "invited"}, "all": {},
}


def _access(s: ChatSession) -> str:
    return {"owner": "mine", "shared": f"from {s.owner}", "invited": f"invite: {s.owner}"}.get(s.access, s.access)


SESSION_COLUMNS: list[Column[ChatSession]] = [
    Column("title", "Title", lambda s: s.title or "Untitled", lambda s: (s.title or "").casefold()),
    Column("status", "Status", lambda s: str(s.status.value if hasattr(s.status, "value") else s.status),
           lambda s: str(s.status)),
    Column("access", "Access", _access, lambda s: s.access),
    Column("messages", "Msgs", lambda s: str(s.message_count), lambda s: s.message_count),
    Column("updated", "Updated (UTC)", lambda s: utc(s.updated_at), lambda s: s.updated_at),
]


def summary_text(s: ChatSession | None, shares: str = "") -> Text:
    if s is None:
        return Text("Select a session.", style="dim italic")
    status = str(getattr(s.status, "value", s.status))
    lines = [(s.title or "Untitled", "bold"), "\n",
             (f"{status} · owner {s.owner} · {s.message_count} messages · started {utc(s.created_at)} UTC", "dim")]
    if s.tags:
        lines += ["\n", ("tags: " + ", ".join(s.tags), "dim")]
    if s.access == "invited":
        lines += ["\n", (f"{s.owner} invited you to read this session: press a to accept.", "italic")]
    if shares:
        lines += ["\n", (shares, "dim")]
    return Text.assemble(*lines)


class SessionsScreen(BackendScreen):
    MODE = "sessions"
    CSS_PATH = "../styles/sessions.tcss"
    AUTO_FOCUS = "#sessions-table"
    # Textual annotates these `ClassVar[...] | None`, which reads as an instance variable.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [  # pyright: ignore[reportIncompatibleVariableOverride]
        (0, "-narrow"), (110, "-wide")]

    BINDINGS = [
        Binding("enter", "open_chat", "Open", tooltip="Open in chat", id="sessions.open"),
        Binding("s", "share", "Share", tooltip="Invite someone to read it", id="sessions.share"),
        Binding("a", "accept", "Accept", tooltip="Accept the invitation", id="sessions.accept"),
        Binding("v", "revoke", "Revoke", tooltip="Revoke a share (or leave a shared session)", id="sessions.revoke"),
        Binding("c", "close_session", "Close", tooltip="Close the session", id="sessions.close"),
        Binding("x", "archive_session", "Archive", tooltip="Archive the session", id="sessions.archive"),
        Binding("r", "replay", "Replay", tooltip="Replay the session", id="sessions.replay"),
        Binding("e", "export", "Export", tooltip="Export the session bundle (JSON)", id="sessions.export"),
        Binding("f", "focus_filter", "Filter", show=False, tooltip="Choose what to show", id="sessions.filter"),
        reload_binding("sessions"),
    ]
    #: action → the access the selected session must have (None: any readable one).
    NEEDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "open_chat": ("owner", "shared"), "share": ("owner",), "accept": ("invited",),
        "revoke": ("owner", "shared"), "close_session": ("owner",), "archive_session": ("owner",),
        "replay": ("owner", "shared"), "export": ("owner", "shared"),
    }

    def __init__(self) -> None:
        super().__init__()
        self.filter = "active"

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="sessions-filters"):
            yield Label("Show", classes="filter-label")
            yield Select(FILTERS, value="active", allow_blank=False, compact=True, id="sessions-filter")
        with Horizontal(id="sessions-body"):
            yield PagedTable(SESSION_COLUMNS, lambda s: s.id, empty="No sessions here.", id="sessions-table")
            with VerticalScroll(id="session-pane"):
                yield Static(safe(summary_text(None)), id="session-summary")
                yield Markdown("", id="session-preview", open_links=False)  # the app asks first

    @property
    def table(self) -> PagedTable[ChatSession]:
        return cast("PagedTable[ChatSession]", self.query_one("#sessions-table", PagedTable))

    @property
    def selected(self) -> ChatSession | None:
        return self.table.selected

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        needs = self.NEEDS.get(action)
        if allowed and needs is not None:
            s = self.selected
            if s is None or s.access not in needs:
                return None
            status = str(getattr(s.status, "value", s.status))
            if action == "close_session" and status != "active":
                return None
            if action in ("archive_session", "share") and status == "archived":
                return None
        return allowed

    # ---- loading -------------------------------------------------------------------

    def reload(self) -> None:
        self.load_sessions()

    @work(exclusive=True, group="sessions", exit_on_error=False)
    async def load_sessions(self, select: str | None = None) -> None:
        table = self.table
        current = select or (self.selected.id if self.selected else None)
        table.fetching = True
        try:
            page = await self.backend.sessions.list(limit=PAGE, **FILTER_ARGS[self.filter])
        finally:
            table.fetching = False
        table.reset(page.items, page.next_cursor)
        if current:
            table.select_key(current)
        self.show_selected()

    @work(exclusive=True, group="sessions-more", exit_on_error=False)
    async def load_more(self) -> None:
        table = self.table
        generation = table.generation
        page = await self.backend.sessions.list(limit=PAGE, cursor=table.next_cursor, **FILTER_ARGS[self.filter])
        if generation == table.generation:
            table.extend(page.items, page.next_cursor)

    def show_selected(self) -> None:
        s = self.selected
        self.refresh_bindings()
        self.query_one("#session-summary", Static).update(safe(summary_text(s)))
        if s is None or s.access == "invited":
            self.run_worker(self.query_one("#session-preview", Markdown).update(""), exit_on_error=False)
            return
        self.load_preview(s)

    @work(exclusive=True, group="sessions-preview", exit_on_error=False)
    async def load_preview(self, s: ChatSession) -> None:
        await asyncio.sleep(0.05)  # holding ↓ must not fetch every transcript
        transcript = await self.backend.sessions.transcript(s.id)
        shares = ""
        if s.access == "owner":
            page = await self.backend.sessions.list_shares(s.id)
            live = [f"{x.invitee} ({x.status})" for x in page.items if x.status != "revoked"]
            shares = "shared with " + ", ".join(live) if live else ""
        self.query_one("#session-summary", Static).update(safe(summary_text(s, shares)))
        await self.query_one("#session-preview", Markdown).update(safe_markdown(transcript.markdown))

    def open_link(self, link: Any) -> None:
        if link.resource_type in ("chat_session", "session"):
            self.filter = "all"
            self.query_one("#sessions-filter", Select).value = "all"
            self.load_sessions(select=link.resource_id)

    # ---- actions -------------------------------------------------------------------

    @work(group="sessions-write", exit_on_error=False)
    async def run_write(self, call: Any, done: str, select: str | None = None) -> None:
        await call()
        self.crewos.say(done)
        self.load_sessions(select=select)

    def action_open_chat(self) -> None:
        s = self.selected
        if s is not None:
            self.open_in_chat(s.id)

    @work(exclusive=True, group="sessions-open", exit_on_error=False)
    async def open_in_chat(self, session_id: str) -> None:
        await self.app.switch_mode("chat")
        screen: Any = self.app.screen
        screen.call_after_refresh(screen.open_session, session_id)

    def action_share(self) -> None:
        from ..backend.schemas import SessionShareCreate
        from ..widgets.forms import FormModal

        s = self.selected
        if s is None:
            return

        async def submit(values: dict[str, str]) -> Any:
            return await self.backend.sessions.create_share(s.id, SessionShareCreate(username=values["username"]))

        def done(share: Any) -> None:
            if share is not None:
                self.crewos.say(f"Invited {share.invitee}; they see the session once they accept.")
                self.load_sessions(select=s.id)

        self.app.push_screen(FormModal(f"Share “{s.title or 'Untitled'}”",
                                       [Field("username", "Username", required=True, placeholder="who to invite")],
                                       submit, submit_label="Invite",
                                       note="They can read it and give feedback; only you can chat in it."), done)

    def action_accept(self) -> None:
        s = self.selected
        share_id = s.share_id if s is not None else None
        if s is not None and share_id:
            self.run_write(lambda: self.backend.sessions.accept_share(s.id, share_id),
                           f"Accepted; “{s.title or 'Untitled'}” is in your shared sessions.", select=s.id)

    def action_revoke(self) -> None:
        s = self.selected
        if s is None:
            return
        share_id = s.share_id
        if s.access == "shared" and share_id:
            def leave(yes: bool | None) -> None:
                if yes:
                    self.run_write(lambda: self.backend.sessions.revoke_share(s.id, share_id), "You left it.")

            self.app.push_screen(ConfirmModal("Leave session", f"Stop reading “{s.title}”? The owner can invite "
                                              "you again.", yes="Leave"), leave)
            return
        self.revoke_one(s)

    @work(exclusive=True, group="sessions-revoke", exit_on_error=False)
    async def revoke_one(self, s: ChatSession) -> None:
        from ..widgets.forms import FormModal

        shares = [x for x in (await self.backend.sessions.list_shares(s.id, limit=200)).items if x.status != "revoked"]
        if not shares:
            self.crewos.say("This session is not shared with anyone.", severity="warning")
            return

        async def submit(values: dict[str, str]) -> Any:
            return await self.backend.sessions.revoke_share(s.id, values["share"])

        def done(share: Any) -> None:
            if share is not None:
                self.crewos.say(f"Revoked {share.invitee}'s access.")
                self.load_sessions(select=s.id)

        choices = [(f"{x.invitee} ({x.status})", x.id) for x in shares]
        self.app.push_screen(FormModal("Revoke a share", [Field("share", "Who", choices=choices)], submit,
                                       submit_label="Revoke"), done)

    def action_close_session(self) -> None:
        s = self.selected
        if s is not None:
            def close(yes: bool | None) -> None:
                if yes:
                    self.run_write(lambda: self.backend.sessions.close(s.id), "Session closed.", select=s.id)

            self.app.push_screen(
                ConfirmModal("Close session", f"Close “{s.title or 'Untitled'}”? It keeps its messages but takes no "
                             "new ones.", yes="Close"), close)

    def action_archive_session(self) -> None:
        s = self.selected
        if s is not None:
            def archive(yes: bool | None) -> None:
                if yes:
                    self.run_write(lambda: self.backend.sessions.archive(s.id), "Session archived.")

            self.app.push_screen(
                ConfirmModal("Archive session", f"Archive “{s.title or 'Untitled'}”? It becomes read-only and leaves "
                             "the default lists.", yes="Archive"), archive)

    def action_replay(self) -> None:
        s = self.selected
        if s is not None:
            self.replay(s.id)

    @work(exclusive=True, group="sessions-preview", exit_on_error=False)
    async def replay(self, session_id: str) -> None:
        """Re-render the session from its replay events, replies streaming in again."""
        replay = await self.backend.sessions.replay(session_id)
        preview = self.query_one("#session-preview", Markdown)
        await preview.update("")
        stream = Markdown.get_stream(preview)
        try:
            for ev in replay.events:
                if ev.type == "session.created":
                    await stream.write(f"# {md_escape(replay.title or 'Untitled')}\n\n")
                elif ev.type == "message":
                    await stream.write(f"**{md_escape(str(ev.data.get('author') or 'you'))}:** "
                                       f"{safe_markdown(ev.content or '')}\n\n")
                elif ev.type == "assistant.start":
                    await stream.write(f"**{md_escape(ev.agent or 'assistant')}:**\n\n")
                elif ev.type == "assistant.delta":
                    await stream.write(safe_markdown(ev.content or ""))
                    if REPLAY_DELAY:
                        await asyncio.sleep(REPLAY_DELAY)
                elif ev.type == "assistant.done":
                    await stream.write("\n\n" + ("" if ev.status == "complete" else f"_({ev.status})_\n\n"))
                elif ev.type == "feedback":
                    await stream.write(f"> {md_escape(str(ev.data.get('user')))} rated it "
                                       f"{md_escape(str(ev.data.get('rating')))}\n\n")
                else:
                    await stream.write(f"_{ev.type.replace('session.', 'session ')}_\n\n")
        finally:
            await stream.stop()
        self.crewos.say(f"Replayed {len(replay.events)} events.")

    def action_export(self) -> None:
        s = self.selected
        if s is not None:
            self.export_bundle(s.id)

    @work(group="sessions-export", exit_on_error=False)
    async def export_bundle(self, session_id: str) -> None:
        bundle = await self.backend.sessions.export(session_id)
        target = export_dir(self.app) / f"{slug(bundle.session.title)}-{session_id}.json"
        target.write_text(json.dumps(bundle.model_dump(mode="json"), indent=2), encoding="utf-8")
        self.crewos.say(f"Saved the session bundle to {target}")

    def action_focus_filter(self) -> None:
        self.query_one("#sessions-filter", Select).focus()

    # ---- events --------------------------------------------------------------------

    @on(Select.Changed, "#sessions-filter")
    def _filter_changed(self, event: Select.Changed) -> None:
        self.filter = str(event.value)
        self.load_sessions()

    @on(DataTable.RowHighlighted, "#sessions-table")
    def _highlighted(self) -> None:
        if self.table.items:
            self.show_selected()

    @on(DataTable.RowSelected, "#sessions-table")
    def _chosen(self) -> None:
        if self.check_action("open_chat", ()):
            self.action_open_chat()

    @on(PagedTable.NeedMore)
    def _need_more(self) -> None:
        self.load_more()
