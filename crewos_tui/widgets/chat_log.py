"""The chat message log and input.

``MessageLog`` is a focusable scroll of ``MessageView``s with a selected message
(↑/↓, home/end; letters are typing, the chat screen sends them to the input), so a key
can rate, copy or turn a reply into tasks. A reply that is still arriving streams into
its Markdown widget through Textual's ``MarkdownStream``, and the screen coalesces token
bursts before writing (see ``ReplyStream``), so a fast agent costs one repaint per frame,
not one per token. The log is anchored to its bottom: it follows a growing reply while
the user is there and stays put once they scroll or select upwards. ``ChatInput`` is a
multi-line TextArea where Enter sends and ctrl+j (or shift+enter) starts a new line.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events
from textual.await_complete import AwaitComplete
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widget import MountError
from textual.widgets import Markdown, Static, TextArea

from .format import utc
from .safe_text import safe, safe_markdown

if TYPE_CHECKING:
    from textual import getters
    from textual.app import App
    from textual.widgets.markdown import MarkdownStream

    from ..backend.schemas import ChatMessage

#: Seconds between flushes of a streaming reply: token bursts in between become one write.
FLUSH_INTERVAL = 1 / 30
#: The status a reply is shown with when its stream ended early (never stored).
INCOMPLETE = "incomplete"
RATING_MARK = {"up": "▲ rated up", "down": "▼ rated down"}


def header_text(m: ChatMessage) -> Text:
    if m.role == "user":
        return Text.assemble((m.author or "you", "bold"), (f" · {utc(m.created_at)}", "dim"))
    parts: list[tuple[str, str] | str] = [(m.agent or "assistant", "bold")]
    if m.status == "streaming":
        parts.append((" · ◌ answering…", "italic"))
    elif m.status == INCOMPLETE:  # shown by the screen only: the stream was cut, ``content`` is what arrived
        parts.append((f" · incomplete — {len(m.content)} characters arrived", "bold"))
        if m.error:
            parts.append((f" · {m.error}", "italic"))
    elif m.status == "queued":
        parts.append((" · queued", "italic"))
    elif m.status != "complete":
        parts.append((f" · {m.status}" + (f": {m.error}" if m.error else ""), "italic"))
    if m.tokens_out:
        parts.append((f" · {m.tokens_in}→{m.tokens_out} tok", "dim"))
    if m.my_rating:
        parts.append((f" · {RATING_MARK.get(m.my_rating, m.my_rating)}", "bold"))
    return Text.assemble(*parts)


class MessageView(Vertical):
    """One message: a header line and its body (markdown for replies)."""

    def __init__(self, message: ChatMessage) -> None:
        super().__init__(classes=f"message -{message.role}")
        self.message = message

    def compose(self):
        yield Static(safe(header_text(self.message)), classes="message-header")
        if self.message.role == "assistant":
            yield ReplyMarkdown(safe_markdown(self.message.content), classes="message-body", open_links=False)
        else:
            yield Static(safe(Text(self.message.content)), classes="message-body")

    @property
    def body(self) -> Markdown | Static:
        return self.query_one(".message-body")  # type: ignore[return-value]

    def set_header(self, message: ChatMessage) -> None:
        self.message = message
        self.query_one(".message-header", Static).update(safe(header_text(message)))

    async def set_message(self, message: ChatMessage) -> None:
        self.set_header(message)
        body = self.body
        if isinstance(body, Markdown):
            await body.update(safe_markdown(message.content))
        else:
            body.update(safe(Text(message.content)))


class ReplyMarkdown(Markdown):
    """A message body that can be taken down while a reply streams into it.

    Textual's ``MarkdownStream`` appends in a shielded task: when the app quits (or the
    session is switched) mid-reply, that task went on mounting into a body already
    removed and its ``MountError`` was printed as "Task exception was never retrieved"
    on the user's terminal after exit. An append into a body that is gone is dropped."""

    def append(self, markdown: str) -> AwaitComplete:
        appending = super().append(markdown)

        async def into_a_body_still_there() -> None:
            try:
                await appending
            except MountError:
                if self.is_attached:
                    raise  # a real fault, not a body taken down mid-reply

        return AwaitComplete(into_a_body_still_there())


class ReplyStream:
    """Feeds a streaming reply into a MessageView, coalescing bursts of tokens."""

    def __init__(self, view: MessageView) -> None:
        self.view = view
        self.text = ""
        self._pending: list[str] = []
        self._stream: MarkdownStream | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.writes = 0  # how many times the widget was written (tests check the coalescing)

    def start(self) -> None:
        body = self.view.body
        assert isinstance(body, Markdown)
        self._stream = Markdown.get_stream(body)
        self._task = asyncio.create_task(self._run())

    def add(self, delta: str) -> None:
        self.text += delta
        self._pending.append(delta)
        self._wake.set()

    async def _run(self) -> None:
        assert self._stream is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._pending:
                chunk = "".join(self._pending)
                self._pending.clear()
                self.writes += 1
                # The log is anchored: it follows this growth only while the user is at the bottom.
                await self._stream.write(safe_markdown(chunk))
            await asyncio.sleep(FLUSH_INTERVAL)

    async def finish(self, message: ChatMessage | None) -> None:
        """Stop streaming; show the stored message (the whole text, whatever was pending)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._stream is not None:
            await self._stream.stop()
        if message is not None:
            await self.view.set_message(message)


class MessageLog(VerticalScroll, can_focus=True):
    """The messages of one session, with a selected one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Previous", show=False, id="chat.log.previous"),
        Binding("down", "move(1)", "Next", show=False, id="chat.log.next"),
        Binding("home", "jump(0)", "First", show=False, id="chat.log.first"),
        Binding("end", "jump(-1)", "Last", show=False, id="chat.log.last"),
    ]

    selected: reactive[int] = reactive(-1)

    class Selected(Message):
        def __init__(self, view: MessageView | None) -> None:
            super().__init__()
            self.view = view

    @property
    def views(self) -> list[MessageView]:
        return list(self.query_children(MessageView))

    @property
    def selected_view(self) -> MessageView | None:
        views = self.views
        return views[self.selected] if 0 <= self.selected < len(views) else None

    def on_mount(self) -> None:
        # Anchored to the bottom (Textual keeps it there as content grows) until the user
        # scrolls or selects upwards; scrolling back to the bottom anchors it again.
        self.anchor()

    @property
    def following(self) -> bool:
        """The newest text is kept in view: the user has not scrolled up to read."""
        return self.is_anchored and not self._anchor_released

    async def show(self, messages: list[ChatMessage]) -> None:
        await self.remove_children()
        await self.mount_all([MessageView(m) for m in messages])
        self.selected = self._last_reply()
        self.scroll_end(animate=False)  # a session opens at its end, following

    async def add(self, message: ChatMessage, *, follow: bool = True) -> MessageView:
        """Append ``message``; ``follow`` brings the view to the bottom (a message the user sent)."""
        view = MessageView(message)
        await self.mount(view)
        if follow:
            self.scroll_end(animate=False)
        return view

    def _last_reply(self) -> int:
        views = self.views
        for i in range(len(views) - 1, -1, -1):
            if views[i].message.role == "assistant":
                return i
        return len(views) - 1

    def select_last_reply(self) -> None:
        self.selected = self._last_reply()

    def watch_selected(self, old: int, new: int) -> None:
        views = self.views
        if 0 <= old < len(views):
            views[old].remove_class("-selected")
        if 0 <= new < len(views):
            views[new].add_class("-selected")
            if new == len(views) - 1 and (self.following or old < 0):
                self.scroll_end(animate=False)  # the newest message: show its end, keep following
            else:
                self.scroll_to_widget(views[new], animate=False)
        self.post_message(self.Selected(self.selected_view))

    def action_move(self, step: int) -> None:
        views = self.views
        if views:
            self.selected = max(0, min(len(views) - 1, (max(self.selected, 0)) + step))

    def action_jump(self, where: int) -> None:
        views = self.views
        if views:
            self.selected = len(views) - 1 if where < 0 else 0


class ChatInput(TextArea):
    """Multi-line input: Enter sends, ctrl+j / shift+enter / alt+enter insert a new line."""

    if TYPE_CHECKING:
        app = getters.app(App[Any])  # Textual's own `app` is App[Unknown]

    NEWLINE_KEYS: ClassVar[frozenset[str]] = frozenset({"ctrl+j", "shift+enter", "alt+enter"})

    class Send(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def on_mount(self) -> None:
        if not getattr(self.app, "cursor_blink", True):
            self.cursor_blink = False

    def _acts_while_empty(self, character: str | None) -> bool:
        """Nothing typed yet: a number key switches screens and ``?`` opens the help, as
        everywhere else."""
        return not self.text and character is not None and (character.isdigit() or character == "?")

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        return not self._acts_while_empty(character) and super().check_consume_key(key, character)

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            if self.text.strip():
                self.post_message(self.Send(self.text))
            return
        if event.key in self.NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        if self._acts_while_empty(event.character):
            active = self.screen.active_bindings.get(event.key)
            if active is not None and active.enabled:
                event.stop()
                event.prevent_default()
                await self.app.run_action(active.binding.action, active.node)
                return
        await super()._on_key(event)
