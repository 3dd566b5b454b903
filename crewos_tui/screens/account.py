"""Who you are and where your API key comes from; rotate the key.

Rotation needs a password: API keys cannot create or revoke keys (the server
answers 403), so the screen opens a short login session, creates the new key,
stores it where the old one was, revokes the old one and closes the session.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ..secrets import describe_key_source
from ..widgets.format import error_text
from ..widgets.safe_text import safe
from ..widgets.text_input import TextInput
from ..widgets.workers import work
from .base import ReportsWorkerErrors

if TYPE_CHECKING:
    from ..app import CrewOSApp


class AccountScreen(ReportsWorkerErrors, ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close", id="account.close")]

    @property
    def crewos(self) -> CrewOSApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        app = self.crewos
        spec, session = app.spec, app.session
        user = f"{session.username} ({session.role})" if session and session.username else "not signed in"
        lines = [f"Profile   {spec.profile} ({spec.badge})", f"User      {user}"]
        if spec.mode == "remote":
            lines += [f"Server    {spec.url}", f"API key   {describe_key_source(app.key_source)}"]
        else:
            lines.append("Data      the local database (no API key needed)")
        with Vertical(classes="dialog", id="account-box"):
            yield Label("Account", classes="dialog-title")
            yield Static(safe("\n".join(lines)), id="account-facts")
            if spec.mode == "remote" and app.backend is not None:
                yield Label("Rotate the API key: your password", classes="field-label")
                yield TextInput(password=True, compact=True, id="rotate-password")
                yield Static("", id="rotate-error", classes="form-error")
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Rotate key", variant="warning", compact=True, id="rotate")
                    yield Button("Close", compact=True, id="close")
            else:
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Close", compact=True, id="close")

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss(None)

    def _error(self, message: str) -> None:
        error = self.query_one("#rotate-error", Static)
        error.update(safe(message))
        error.set_class(bool(message), "-shown")

    @on(Input.Submitted, "#rotate-password")
    @on(Button.Pressed, "#rotate")
    def _rotate_pressed(self) -> None:
        password = self.query_one("#rotate-password", Input).value
        if not password:
            self._error("Password is required.")
            return
        if self.crewos.key_source == "env":
            self._error("The key comes from CREWOS_API_KEY; rotate it where that variable is set.")
            return
        self._error("")
        self.rotate(password)

    @work(exclusive=True, group="rotate", exit_on_error=False)
    async def rotate(self, password: str) -> None:
        from .. import secrets
        from ..accounts import create_device_key, end_session, key_prefix

        app = self.crewos
        old_key = getattr(app.backend, "api_key", None) or ""
        username = app.session.username if app.session else None
        client = app.make_remote(app.spec.url or "")
        try:
            try:
                await client.auth.login(username or "", password)
                keys = await client.auth.list_api_keys(limit=200)
                prefix = key_prefix(old_key)
                old = [k for k in keys.items if k.prefix == prefix and k.revoked_at is None]
                created = await create_device_key(client)
                try:
                    await asyncio.to_thread(secrets.store_api_key, app.spec.profile, created.key,
                                            allow_session=app.key_source == "session")
                except Exception:
                    await client.auth.revoke_api_key(created.id)  # no orphan key on the server
                    raise
                for key in old:
                    await client.auth.revoke_api_key(key.id)
            except Exception as exc:  # noqa: BLE001 - shown in the dialog
                self._error(error_text(exc))
                return
            finally:
                await end_session(client)
        finally:
            await client.close()
        app.say(f"New API key {created.prefix}… stored; the old key is revoked.")
        self.dismiss(None)
        app.connect()
