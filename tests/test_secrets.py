"""API keys: keyring, env override, session store, and the no-keyring path."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.errors import KeyringLocked, PasswordDeleteError

from crewos_tui import secrets
from crewos_tui.backend.errors import CrewOSError


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in a dict: what the tests store, they can inspect."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise PasswordDeleteError("no such password") from None


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


class CryptFileKeyring(MemoryKeyring):
    """Stands in for keyrings.cryptfile: would ask for a master password on the tty."""


@pytest.fixture
def use_keyring() -> Iterator[object]:
    previous = keyring.get_keyring()
    secrets._session.clear()

    def use(kr: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(kr)
        return kr

    yield use
    keyring.set_keyring(previous)
    secrets._session.clear()


def test_store_read_delete_through_the_keyring(use_keyring) -> None:
    kr = use_keyring(MemoryKeyring())
    assert secrets.store_api_key("work", "crewos_abc_123") == "keyring"
    assert kr.entries == {("crewos-tui", "work"): "crewos_abc_123"}
    assert secrets.get_api_key("work") == ("crewos_abc_123", "keyring")
    assert secrets.key_source("work") == "keyring"
    assert secrets.delete_api_key("work") == ["keyring"]
    assert secrets.get_api_key("work") == (None, None)
    assert secrets.key_source("work") == "none"
    assert secrets.delete_api_key("work") == []


def test_env_overrides_everything(use_keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    use_keyring(MemoryKeyring())
    secrets.store_api_key("work", "from-keyring")
    monkeypatch.setenv("CREWOS_API_KEY", "from-env")
    assert secrets.get_api_key("work") == ("from-env", "env")
    assert secrets.get_api_key("any-profile") == ("from-env", "env")
    assert secrets.key_source("work") == "env"


def test_no_keyring_raises_a_plain_message(use_keyring) -> None:
    use_keyring(fail.Keyring())
    with pytest.raises(secrets.KeyringUnavailable) as err:
        secrets.store_api_key("work", "k")
    message = str(err.value)
    assert isinstance(err.value, CrewOSError)
    assert "no usable OS keyring" in message
    assert "this session only" in message and "CREWOS_API_KEY" in message
    assert "Traceback" not in message and "\n" not in message
    assert secrets.get_api_key("work") == (None, None)
    assert secrets.key_source("work") == "keyring unavailable"
    status = secrets.keyring_status()
    assert not status.usable and status.backend == "keyring.backends.fail.Keyring"


def test_no_keyring_error_from_a_backend_call_is_mapped(use_keyring) -> None:
    class Failing(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            fail.Keyring().set_password(service, username, password)  # raises NoKeyringError

    use_keyring(Failing())
    with pytest.raises(secrets.KeyringUnavailable, match="no recommended keyring backend"):
        secrets.store_api_key("work", "k")


def test_session_store_when_allowed(use_keyring) -> None:
    use_keyring(fail.Keyring())
    assert secrets.store_api_key("work", "k1", allow_session=True) == "session"
    assert secrets.get_api_key("work") == ("k1", "session")
    assert secrets.key_source("work") == "session"
    assert secrets.delete_api_key("work") == ["session"]
    assert secrets.get_api_key("work") == (None, None)


def test_keyring_store_replaces_a_session_copy(use_keyring) -> None:
    kr = use_keyring(MemoryKeyring())
    secrets.remember_for_session("work", "old")
    assert secrets.store_api_key("work", "new") == "keyring"
    assert secrets.get_api_key("work") == ("new", "keyring")
    assert kr.entries[("crewos-tui", "work")] == "new"


def test_locked_keyring_is_unavailable(use_keyring) -> None:
    use_keyring(LockedKeyring())
    with pytest.raises(secrets.KeyringUnavailable, match="locked"):
        secrets.store_api_key("work", "k")
    assert secrets.get_api_key("work") == (None, None)
    assert not secrets.probe_keyring().usable


@pytest.mark.parametrize("backend", [null.Keyring(), CryptFileKeyring()])
def test_refused_backends_are_never_called(use_keyring, backend: KeyringBackend) -> None:
    use_keyring(backend)
    with pytest.raises(secrets.KeyringUnavailable):
        secrets.store_api_key("work", "k")
    if isinstance(backend, MemoryKeyring):
        assert backend.entries == {}  # nothing reached the prompting backend


def test_plaintext_file_backend_is_refused(use_keyring) -> None:
    # A class from keyrings.alt (module name is what counts), without installing it.
    cls = type("PlaintextKeyring", (MemoryKeyring,), {"__module__": "keyrings.alt.file"})
    kr = use_keyring(cls())
    status = secrets.keyring_status()
    assert not status.usable and "file" in status.reason
    with pytest.raises(secrets.KeyringUnavailable):
        secrets.store_api_key("work", "k")
    assert kr.entries == {}


def test_probe_stores_reads_and_deletes(use_keyring) -> None:
    kr = use_keyring(MemoryKeyring())
    status = secrets.probe_keyring()
    assert status.usable and status.backend.endswith("MemoryKeyring")
    assert kr.entries == {}


def test_start_path_stays_light() -> None:
    """Config, secrets and the account commands load none of keyring, pydantic, httpx or
    textual: the CLI imports them before the TUI's first frame."""
    import subprocess
    import sys

    code = (
        "import argparse, sys, crewos_tui.secrets, crewos_tui.commands, crewos_tui.config as c;"
        "c.resolve_launch(argparse.Namespace());"
        "print(sorted(m for m in ('keyring', 'pydantic', 'httpx', 'textual') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class _FakeBus:
    def close(self) -> None:
        pass


@pytest.mark.parametrize(("locked", "missing", "usable", "reason"), [
    (True, False, False, "locked"),
    (False, True, False, "no default keyring"),
    (False, False, True, "ready"),
])
def test_secret_service_is_looked_at_before_use(use_keyring, monkeypatch: pytest.MonkeyPatch, locked: bool,
                                                missing: bool, usable: bool, reason: str) -> None:
    """A locked (or missing) Secret Service collection would pop an unlock prompt on
    first use: it is refused without touching it."""
    import secretstorage
    from keyring.backends.SecretService import Keyring as SecretServiceKeyring
    from secretstorage.exceptions import ItemNotFoundException

    unlocked: list[bool] = []

    class FakeCollection:
        def __init__(self, bus: object, path: str | None = None) -> None:
            if missing:
                raise ItemNotFoundException("no default collection")

        def is_locked(self) -> bool:
            return locked

        def unlock(self) -> bool:  # must never be called
            unlocked.append(True)
            return False

    monkeypatch.setattr(secretstorage, "dbus_init", lambda: _FakeBus())
    monkeypatch.setattr(secretstorage, "Collection", FakeCollection)
    use_keyring(SecretServiceKeyring())
    status = secrets.keyring_status()
    assert status.usable is usable and reason in status.reason
    assert status.backend == "keyring.backends.SecretService.Keyring"
    if not usable:
        with pytest.raises(secrets.KeyringUnavailable, match=reason):
            secrets.store_api_key("work", "k")
        assert secrets.get_api_key("work") == (None, None)
    assert unlocked == []


def test_stored_key_can_be_read_past_the_env(use_keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    use_keyring(MemoryKeyring())
    secrets.store_api_key("work", "stored")
    monkeypatch.setenv("CREWOS_API_KEY", "from-env")
    assert secrets.get_api_key("work", include_env=False) == ("stored", "keyring")
    assert secrets.get_api_key("other", include_env=False) == (None, None)
