"""Sign in to a CrewOS server: URL, username, password → an API key in the OS keyring.

The password is used once: it opens a session (JWT), the session creates an API key
named ``crewos-tui@<host>``, the key goes to the keyring, the session is closed.
Failures (wrong password or a throttled account, which answer alike; an unreachable
server) show under the form.
When no keyring is usable the screen says so and offers to keep the key for this
session only — it never falls back to a file.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from ..widgets.format import error_text
from ..widgets.safe_text import safe
from ..widgets.status_bar import StatusBar
from ..widgets.text_input import TextInput
from ..widgets.workers import work
from .base import ReportsWorkerErrors

if TYPE_CHECKING:
    from ..app import CrewOSApp
    from ..backend.schemas import ApiKeyCreated


@dataclass
class _Pending:
    """A key created on the server that waits for the user's keyring decision."""

    client: Any  # RemoteBackend with the login session still open
    created: ApiKeyCreated
    url: str
    username: str


class LoginScreen(ReportsWorkerErrors, Screen[str]):
    """Dismisses with the server URL once a key is stored."""

    BINDINGS = [Binding("escape", "app.quit", "Quit", id="login.quit")]

    def __init__(self, url: str | None, username: str | None, reason: str) -> None:
        super().__init__(id="login")
        self._url = url or ""
        self._username = username or ""
        self._reason = reason
        self._pending: _Pending | None = None

    @property
    def crewos(self) -> CrewOSApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusBar("Sign in")
        with Center(id="login-center"):
            with Vertical(classes="dialog", id="login-box"):
                yield Label("Sign in to CrewOS", classes="dialog-title")
                yield Static(safe(self._reason), id="login-reason", classes="dialog-note")
                yield Label("Server URL", classes="field-label")
                yield TextInput(self._url, placeholder="https://crewos.example.com", compact=True, id="login-url")
                yield Label("Username", classes="field-label")
                yield TextInput(self._username, compact=True, id="login-username")
                yield Label("Password", classes="field-label")
                yield TextInput(password=True, compact=True, id="login-password")
                yield Static("", id="login-error", classes="form-error")
                with Vertical(id="keyring-choice"):
                    yield Static("", id="keyring-message")
                    with Horizontal(classes="dialog-buttons"):
                        yield Button("Keep for this session only", variant="warning", compact=True,
                                     id="keep-session")
                        yield Button("Cancel", compact=True, id="cancel-key")
                with Horizontal(classes="dialog-buttons", id="login-buttons"):
                    yield Button("Sign in", variant="primary", compact=True, id="sign-in")
                yield Static("Your password is used once, to create an API key for this terminal. "
                             "The key is kept in the OS keyring (or set CREWOS_API_KEY).",
                             classes="dialog-note")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        for field, value in (("url", self._url), ("username", self._username), ("password", "")):
            if not value:
                self.query_one(f"#login-{field}").focus()
                break

    # ---- form ----------------------------------------------------------------------

    def _value(self, field: str) -> str:
        value = self.query_one(f"#login-{field}", Input).value
        return value if field == "password" else value.strip()

    def show_error(self, message: str) -> None:
        error = self.query_one("#login-error", Static)
        error.update(safe(message))
        error.set_class(bool(message), "-shown")

    @on(Input.Submitted)
    @on(Button.Pressed, "#sign-in")
    def _submit(self) -> None:
        if self._pending is not None:
            return  # waiting for the keyring decision
        url, username, password = self._value("url"), self._value("username"), self._value("password")
        missing = [name for name, v in (("Server URL", url), ("Username", username), ("Password", password)) if not v]
        if missing:
            self.show_error(f"{missing[0]} is required.")
            return
        self.show_error("")
        self.sign_in(url, username, password)

    def _busy(self, busy: bool) -> None:
        self.query_one("#sign-in", Button).disabled = busy

    # ---- the flow ------------------------------------------------------------------

    @work(exclusive=True, group="login", exit_on_error=False)
    async def sign_in(self, url: str, username: str, password: str) -> None:
        from .. import secrets
        from ..accounts import create_device_key

        self._busy(True)
        client = None
        try:
            try:
                url = self._normalize(url)
            except ValueError as exc:
                self.show_error(str(exc))
                return
            try:
                client = self.crewos.make_remote(url)
                await client.auth.login(username, password)
                created = await create_device_key(client)
            except Exception as exc:  # noqa: BLE001 - shown under the form
                self.show_error(error_text(exc))
                return
            try:
                source = await asyncio.to_thread(secrets.store_api_key, self.crewos.spec.profile, created.key)
            except secrets.KeyringUnavailable as exc:
                self._pending = _Pending(client, created, url, username)
                client = None  # kept open for the decision
                self._offer_session(str(exc))
                return
            await self._finish(_Pending(client, created, url, username), source)
        finally:
            if client is not None:
                await client.close()
            self._busy(False)

    @staticmethod
    def _normalize(url: str) -> str:
        from ..config import normalize_url

        return normalize_url(url)

    def _offer_session(self, message: str) -> None:
        self.query_one("#keyring-message", Static).update(safe(message))
        self.query_one("#keyring-choice").add_class("-shown")
        self.query_one("#login-buttons").display = False
        self.query_one("#keep-session", Button).focus()

    async def _finish(self, done: _Pending, source: str) -> None:
        """Close the login session, remember the server for this profile, hand over."""
        from ..accounts import end_session

        await end_session(done.client)
        try:
            from ..config import upsert_profile

            await asyncio.to_thread(upsert_profile, self.crewos.spec.profile, mode="remote", url=done.url,
                                    username=done.username)
        except Exception as exc:  # noqa: BLE001 - the key works; saving the profile is a convenience
            self.crewos.say(f"Signed in, but the profile was not saved: {error_text(exc)}", severity="warning")
        from ..secrets import describe_key_source

        self.crewos.say(f"Signed in to {done.url} as {done.username}; API key {describe_key_source(source)}.")
        self.crewos.signed_in(done.url, done.username)
        self.dismiss(done.url)

    @on(Button.Pressed, "#keep-session")
    def _keep_pressed(self) -> None:
        self.keep_for_session()

    @on(Button.Pressed, "#cancel-key")
    def _cancel_pressed(self) -> None:
        self.cancel_key()

    @work(exclusive=True, group="login", exit_on_error=False)
    async def keep_for_session(self) -> None:
        from .. import secrets

        pending, self._pending = self._pending, None
        if pending is None:
            return
        try:
            source = secrets.store_api_key(self.crewos.spec.profile, pending.created.key, allow_session=True)
            await self._finish(pending, source)
        finally:
            await pending.client.close()

    @work(exclusive=True, group="login", exit_on_error=False)
    async def cancel_key(self) -> None:
        """Do not leave a key on the server that nobody keeps."""
        from ..accounts import end_session
        from ..backend.errors import CrewOSError

        pending, self._pending = self._pending, None
        if pending is None:
            return
        try:
            with contextlib.suppress(CrewOSError):
                await pending.client.auth.revoke_api_key(pending.created.id)
            await end_session(pending.client)
        finally:
            await pending.client.close()
        self.query_one("#keyring-choice").remove_class("-shown")
        self.query_one("#login-buttons").display = True
        self.show_error("Not signed in: no key was kept.")
