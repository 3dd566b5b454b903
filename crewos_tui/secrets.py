"""API keys of remote profiles: in the OS keyring, never in a file.

Where a key comes from, in order:

1. ``CREWOS_API_KEY`` in the environment (as CrewOS's own docs use it) — "env";
2. the session store, an in-memory dict of this process (the user's choice when no
   keyring is usable) — "session";
3. the OS keyring, service ``crewos-tui``, user = profile name — "keyring".

A keyring backend that would prompt on the terminal (an encrypted file keyring asking
for its master password) or store the key in plain text (keyrings.alt) is refused, as
is a locked Secret Service: unlocking it would pop a prompt, and on a headless box it
would hang. Then ``KeyringUnavailable`` says so plainly and names the two ways out.

``keyring`` is imported lazily: importing it (and letting it pick a backend, which
talks to D-Bus) costs tens of milliseconds that the first frame must not pay.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .backend.errors import CrewOSError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "crewos-tui"
ENV_VAR = "CREWOS_API_KEY"
PROBE_USER = "crewos-tui doctor probe"

KeySource = Literal["env", "keyring", "session"]

#: Where a key in use lives, in the words the account panel and the CLI use.
KEY_PLACES: dict[str, str] = {
    "session": "kept for this session",
    "env": f"from {ENV_VAR}",
    "keyring": "in the OS keyring",
}
#: The same, short enough for the status bar at 80 columns.
KEY_PLACES_SHORT: dict[str, str] = {"session": "key:session only", "env": f"key:{ENV_VAR}",
                                    "keyring": "key:keyring"}


def describe_key_source(source: str | None) -> str:
    """"kept for this session", "from CREWOS_API_KEY", "in the OS keyring" (or "none")."""
    return KEY_PLACES.get(source or "", "none")


#: Keys kept for this process only (profile -> key). Never written anywhere.
_session: dict[str, str] = {}

# Backends we never use, by module prefix: they fail on every call, drop what they are
# given, keep secrets in a plain file, or ask for a master password on the terminal.
_REFUSED_MODULES: dict[str, str] = {
    "keyring.backends.fail": "no recommended keyring backend is installed or running",
    "keyring.backends.null": "keyring is switched off (null backend)",
    "keyrings.alt": "the configured keyring ({name}) keeps secrets in a local file",
    "keyrings.cryptfile": "the configured keyring ({name}) would ask for a password on the terminal",
}
# Class names that mean "encrypted file, master password typed on the terminal",
# whatever package they come from.
_PROMPTING_CLASS_HINTS = ("cryptfile", "encryptedkeyring", "encryptedfile", "plaintext")


class KeyringUnavailable(CrewOSError):
    """No usable OS keyring: the key can live in this session only, or in CREWOS_API_KEY."""

    status_code = 503

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"no usable OS keyring: {reason}. The API key can be kept for this session only "
            f"(forgotten when crewos-tui exits), or set {ENV_VAR} in the environment "
            f"(export {ENV_VAR}=...)."
        )


@dataclass(frozen=True)
class KeyringStatus:
    backend: str  # e.g. "keyring.backends.SecretService.Keyring", or "none"
    usable: bool
    reason: str  # why not, or a short description when usable


def _name(kr: object) -> str:
    cls = type(kr)
    return f"{cls.__module__}.{cls.__qualname__}"


def _refusal(kr: object) -> str | None:
    """Why ``kr`` must not be used, or None when it may."""
    name = _name(kr)
    for prefix, reason in _REFUSED_MODULES.items():
        if name == prefix or name.startswith(prefix + "."):
            return reason.format(name=name)
    lowered = name.lower()
    if any(hint in lowered for hint in _PROMPTING_CLASS_HINTS):
        return f"the configured keyring ({name}) would ask for a password on the terminal or keep a plain file"
    return None


def _secret_service_refusal(kr: KeyringBackend) -> str | None:
    """A Secret Service whose collection is locked (or missing) would pop an unlock or
    create prompt on first use: look first, without unlocking anything."""
    try:
        import secretstorage
        from secretstorage.exceptions import ItemNotFoundException, SecretStorageException
    except ImportError:  # pragma: no cover - keyring would not have picked it
        return "the Secret Service backend needs the secretstorage package"
    try:
        bus = secretstorage.dbus_init()
    except SecretStorageException as exc:
        return f"cannot reach the Secret Service: {exc}"
    try:
        path = getattr(kr, "preferred_collection", None)
        try:
            collection = secretstorage.Collection(bus, path) if path else secretstorage.Collection(bus)
        except ItemNotFoundException:
            return "the Secret Service has no default keyring (creating one would need a password prompt)"
        if collection.is_locked():
            return "the Secret Service keyring is locked (unlock it in your desktop session)"
    except Exception as exc:  # D-Bus errors come in several types; any means "not usable"
        return f"the Secret Service did not answer: {exc or type(exc).__name__}"
    finally:
        bus.close()
    return None


def _pick_backend() -> tuple[KeyringBackend | None, str, str]:
    """The backend to use: (backend or None, its name, reason if unusable / description)."""
    try:
        import keyring
        from keyring.backends.chainer import ChainerBackend
    except Exception as exc:  # broken install: say so instead of crashing
        return None, "none", f"the keyring package cannot be loaded: {exc}"
    try:
        kr = keyring.get_keyring()
    except Exception as exc:
        return None, "none", f"keyring could not choose a backend: {exc}"
    if isinstance(kr, ChainerBackend):
        # The chainer tries every backend in turn, prompting ones included: use the
        # best one we accept on its own.
        candidates = list(kr.backends)
        for candidate in candidates:
            if _refusal(candidate) is None:
                kr = candidate
                break
        else:
            if not candidates:
                return None, _name(kr), "no recommended keyring backend is installed or running"
            return None, _name(candidates[0]), _refusal(candidates[0]) or "no usable backend"
    name = _name(kr)
    refusal = _refusal(kr)
    if refusal is None and name.startswith("keyring.backends.SecretService."):
        refusal = _secret_service_refusal(kr)
    if refusal:
        return None, name, refusal
    return kr, name, "ready"


def _backend() -> KeyringBackend:
    kr, _backend_name, reason = _pick_backend()
    if kr is None:
        raise KeyringUnavailable(reason)
    return kr


def _errors() -> tuple[type[BaseException], ...]:
    from keyring.errors import KeyringError

    # D-Bus and secretstorage failures surface as their own exception types.
    extra: list[type[BaseException]] = []
    try:
        from secretstorage.exceptions import SecretStorageException

        extra.append(SecretStorageException)
    except ImportError:  # pragma: no cover
        pass
    return (KeyringError, *extra)


def _unavailable(exc: BaseException) -> KeyringUnavailable:
    from keyring.errors import KeyringLocked, NoKeyringError

    if isinstance(exc, NoKeyringError):
        return KeyringUnavailable("no recommended keyring backend is installed or running")
    if isinstance(exc, KeyringLocked):
        return KeyringUnavailable("the keyring is locked")
    return KeyringUnavailable(f"the keyring failed: {exc or type(exc).__name__}")


def keyring_status() -> KeyringStatus:
    """Which backend would be used and whether it may be (no read or write)."""
    kr, name, reason = _pick_backend()
    return KeyringStatus(backend=name, usable=kr is not None, reason=reason)


def probe_keyring() -> KeyringStatus:
    """Store, read back and delete a probe entry: does the keyring really work?"""
    kr, name, reason = _pick_backend()
    if kr is None:
        return KeyringStatus(name, False, reason)
    import secrets as _random

    value = _random.token_urlsafe(12)
    try:
        kr.set_password(SERVICE, PROBE_USER, value)
        try:
            read = kr.get_password(SERVICE, PROBE_USER)
        finally:
            kr.delete_password(SERVICE, PROBE_USER)
    except _errors() as exc:
        return KeyringStatus(name, False, _unavailable(exc).reason)
    if read != value:
        return KeyringStatus(name, False, "a probe entry did not read back")
    return KeyringStatus(name, True, "stored, read and deleted a probe entry")


def get_api_key(profile: str, *, include_env: bool = True) -> tuple[str | None, KeySource | None]:
    """The key for ``profile`` and where it came from; (None, None) when there is none
    or the keyring is unusable (the login screen then explains and offers a way out).

    ``include_env=False`` reads only what crewos-tui stored (to revoke or replace it)."""
    env = os.environ.get(ENV_VAR, "").strip() if include_env else ""
    if env:
        return env, "env"
    if profile in _session:
        return _session[profile], "session"
    try:
        key = _backend().get_password(SERVICE, profile)
    except KeyringUnavailable:
        return None, None
    except _errors():
        return None, None
    return (key, "keyring") if key else (None, None)


def key_source(profile: str) -> str:
    """For listings: "env", "session", "keyring", "none" or "keyring unavailable"."""
    if os.environ.get(ENV_VAR, "").strip():
        return "env"
    if profile in _session:
        return "session"
    kr, _backend_name, _reason = _pick_backend()
    if kr is None:
        return "keyring unavailable"
    try:
        return "keyring" if kr.get_password(SERVICE, profile) else "none"
    except _errors():
        return "keyring unavailable"


def store_api_key(profile: str, key: str, *, allow_session: bool = False) -> Literal["keyring", "session"]:
    """Keep ``key`` for ``profile``: in the keyring, or (when the keyring is unusable and
    the caller allows it) in this process's memory. Returns where it went."""
    if not key:
        raise ValueError("empty API key")
    try:
        kr = _backend()
        try:
            kr.set_password(SERVICE, profile, key)
        except _errors() as exc:
            raise _unavailable(exc) from None
    except KeyringUnavailable:
        if not allow_session:
            raise
        _session[profile] = key
        return "session"
    _session.pop(profile, None)  # the keyring copy is now the one in use
    return "keyring"


def remember_for_session(profile: str, key: str) -> None:
    """Keep a key in memory only (the user chose "this session only")."""
    _session[profile] = key


def delete_api_key(profile: str) -> list[str]:
    """Forget the key of ``profile`` (session and keyring); returns where it was found.

    ``CREWOS_API_KEY`` is the user's own setting and is left alone."""
    removed: list[str] = []
    if _session.pop(profile, None) is not None:
        removed.append("session")
    try:
        kr = _backend()
        if kr.get_password(SERVICE, profile) is not None:
            kr.delete_password(SERVICE, profile)
            removed.append("keyring")
    except KeyringUnavailable:
        pass
    except _errors() as exc:
        raise _unavailable(exc) from None
    return removed
