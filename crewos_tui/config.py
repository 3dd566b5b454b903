"""Profiles: which workspace to open, in a TOML file under the user's config dir.

Shape (the whole file is optional; a missing file means "no profiles yet")::

    default_profile = "local"
    theme = "auto"              # every profile's theme unless it names its own; "auto" (the
                                # default): an ANSI theme on 16-colour terminals (themes.py)
    desktop_notifications = true  # OSC 9/777 + a title mark when a decision waits while the
                                  # terminal is not focused (attention.py)

    [keymap]                    # binding id -> keys, for every profile
    quit = "ctrl+q"

    [profiles.local]
    mode = "local"              # "local" | "remote"
    data_dir = "/home/me/crewos"

    [profiles.work]
    mode = "remote"
    url = "https://crewos.example.com"
    username = "me"
    theme = "nord"

    [profiles.work.keymap]      # merged over the global [keymap]
    quit = "ctrl+c"

A malformed file raises ``ConfigError`` naming the file and the line (or the bad key),
so the app never starts half-configured. Secrets never go here: API keys live in the
OS keyring (``crewos_tui.secrets``), and a key that looks like one is refused.

This module is on the start path of the TUI, before the first frame. The schema is
small and fixed, so it is checked by hand into plain dataclasses: importing pydantic
and building two models costs ~170 ms here, more than half of what ``textual.app``
itself takes, and the first frame has a budget of 1.3x a Textual hello-world.
"""

from __future__ import annotations

import argparse
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from . import paths
from .launch import LaunchSpec

DEFAULT_PROFILE = "local"
DEMO_PROFILE = "demo"
MODES = ("local", "remote")

#: Key names that smell of a secret. Checked first so the message can say where the
#: secret belongs instead of a generic "unknown setting".
SECRET_KEY_NAMES = frozenset(
    {"api_key", "apikey", "key_secret", "password", "passwd", "token", "access_token", "refresh_token", "secret"}
)

# A profile name is also the keyring user name and a TOML table key: keep it plain.
PROFILE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,63}$"
PROFILE_NAME_RULE = "letters, digits and . _ - @ : only, at most 64, starting with a letter or digit"


class ConfigError(Exception):
    """The config file (or the command line's choice of profile) cannot be used."""


@dataclass
class Profile:
    mode: Literal["local", "remote"] = "local"
    url: str | None = None  # remote: the server, normalized (see normalize_url)
    data_dir: Path | None = None  # local: where the database lives (None = the user data dir)
    username: str | None = None  # remote: the login name
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)  # binding id -> keys

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be 'local' or 'remote', not {self.mode!r}")
        if self.url is not None:
            self.url = normalize_url(self.url)
        if self.data_dir is not None:
            self.data_dir = Path(self.data_dir)
        if self.mode == "remote" and not self.url:
            raise ValueError("a remote profile needs a url")


@dataclass
class Config:
    default_profile: str = DEFAULT_PROFILE
    keymap: dict[str, str] = field(default_factory=dict)  # for every profile
    profiles: dict[str, Profile] = field(default_factory=dict)
    theme: str | None = None  # for every profile that names none (None or "auto": by terminal)
    desktop_notifications: bool = True

    def theme_for(self, profile: str | None) -> str | None:
        """The profile's own theme, else the file's."""
        own = self.profiles[profile].theme if profile and profile in self.profiles else None
        return own or self.theme

    def merged_keymap(self, profile: str | None) -> dict[str, str]:
        """The global keymap with the profile's own bindings over it."""
        merged = dict(self.keymap)
        if profile and profile in self.profiles:
            merged.update(self.profiles[profile].keymap)
        return merged


# ---- URLs and names ------------------------------------------------------------------


def normalize_url(url: str) -> str:
    """``https://Host:443/api/`` -> ``https://host/api``: one spelling per server, so a
    ``--remote`` URL finds the profile ``login`` saved for it."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(f"{url!r} is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL with a host name (e.g. https://crewos.example.com)")
    if parts.query or parts.fragment or parts.username or parts.password:
        # A password in the URL would end up in the config file.
        raise ValueError(f"{url!r}: give only scheme, host, port and path (no user, query or fragment)")
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default_port = 443 if scheme == "https" else 80
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def profile_name_for_url(url: str) -> str:
    """The name a server gets by default: its host, plus the port when the URL names one
    (two servers on one machine are two profiles)."""
    parts = urlsplit(normalize_url(url))
    host = re.sub(r"[^A-Za-z0-9_.@-]", "-", parts.hostname or "").strip("-.") or "remote"
    name = f"{host}-{parts.port}" if parts.port else host
    return name if re.match(PROFILE_NAME_PATTERN, name) else "remote"


def check_profile_name(name: str) -> str:
    if not re.match(PROFILE_NAME_PATTERN, name):
        raise ConfigError(f"{name!r} is not a usable profile name: {PROFILE_NAME_RULE}")
    return name


# ---- reading -------------------------------------------------------------------------


_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
_AT_END = re.compile(r"\s*\(at end of document\)")


def _toml_error(path: Path, exc: tomllib.TOMLDecodeError, text: str) -> ConfigError:
    """tomllib (3.11) puts the position in the message: move it to the front, the way
    compilers do, so the file and line lead."""
    message = str(exc)
    at = _AT_LINE.search(message)
    if at:
        where = f"{path}, line {at.group(1)}, column {at.group(2)}"
        message = _AT_LINE.sub("", message)
    elif _AT_END.search(message):
        where = f"{path}, line {text.count(chr(10)) + 1} (end of file)"
        message = _AT_END.sub("", message)
    else:
        where = str(path)
    return ConfigError(f"{where}: invalid TOML: {message}")


def _dotted(fragment: str) -> list[str] | None:
    """The key path of a TOML header or key fragment (``profiles."a b".keymap``)."""
    try:
        table = tomllib.loads(f"{fragment} = 0")
    except tomllib.TOMLDecodeError:
        return None
    keys: list[str] = []
    node: Any = table
    while isinstance(node, dict) and len(node) == 1:
        key, node = next(iter(node.items()))
        keys.append(key)
    return keys


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*([^=#\[\s][^=]*?)\s*=")


def _line_of(text: str, loc: tuple[str | int, ...]) -> int | None:
    """Best effort: the line that defines ``loc`` (or its nearest parent table)."""
    wanted = [str(part) for part in loc]
    best: tuple[int, int] | None = None  # (matched depth, line number)
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _dotted(header.group(1)) or []
            path = table
        else:
            key = _KEY.match(line)
            if not key:
                continue
            sub = _dotted(key.group(1))
            if sub is None:
                continue
            path = table + sub
        if path and wanted[: len(path)] == path and (best is None or len(path) > best[0]):
            best = (len(path), number)
    return best[1] if best else None


def _is_secret_name(key: str) -> bool:
    return key.lower().replace("-", "_") in SECRET_KEY_NAMES


def _find_secret_keys(raw: dict[str, Any]) -> tuple[str, ...] | None:
    """The first setting (top level or in a profile) whose name is a secret's.

    Profile names and keymap binding ids are not settings, so they are not checked."""
    for key in raw:
        if _is_secret_name(key):
            return (key,)
    profiles = raw.get("profiles")
    if isinstance(profiles, dict):
        for name, profile in profiles.items():
            if isinstance(profile, dict):
                for key in profile:
                    if _is_secret_name(key):
                        return ("profiles", name, key)
    return None


class _Bad(Exception):
    """One problem at one key path, before the file and line are added."""

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


_TYPE_NAMES = {str: "a string", bool: "true or false", int: "an integer", float: "a number",
               dict: "a table", list: "an array"}


def _kind(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _bool(value: Any, loc: tuple[str, ...]) -> bool:
    if not isinstance(value, bool):
        raise _Bad(loc, f"should be true or false, not {_kind(value)}")
    return value


def _string(value: Any, loc: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise _Bad(loc, f"should be a string, not {_kind(value)}")
    if not value.strip():
        raise _Bad(loc, "should not be empty")
    return value


def _keymap(value: Any, loc: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _Bad(loc, f"should be a table of binding id = \"keys\", not {_kind(value)}")
    return {binding: _string(keys, (*loc, binding)) for binding, keys in value.items()}


_PROFILE_FIELDS = ("mode", "url", "data_dir", "username", "theme", "keymap")


def _profile(raw: Any, loc: tuple[str, ...]) -> Profile:
    if not isinstance(raw, dict):
        raise _Bad(loc, f"should be a table, not {_kind(raw)}")
    for key in raw:
        if key not in _PROFILE_FIELDS:
            raise _Bad((*loc, key), f"unknown setting (a profile has: {', '.join(_PROFILE_FIELDS)})")
    mode = _string(raw.get("mode", "local"), (*loc, "mode"))
    if mode not in MODES:
        raise _Bad((*loc, "mode"), f"should be \"local\" or \"remote\", not {mode!r}")
    values: dict[str, Any] = {"mode": mode}
    for key in ("url", "data_dir", "username", "theme"):
        if key in raw:
            values[key] = _string(raw[key], (*loc, key))
    if "url" in values:
        try:
            values["url"] = normalize_url(values["url"])
        except ValueError as exc:
            raise _Bad((*loc, "url"), str(exc)) from None
    if "data_dir" in values:
        values["data_dir"] = Path(values["data_dir"])
    if "keymap" in raw:
        values["keymap"] = _keymap(raw["keymap"], (*loc, "keymap"))
    if mode == "remote" and "url" not in values:
        raise _Bad(loc, "a remote profile needs a url")
    return Profile(**values)


_TOP_FIELDS = ("default_profile", "theme", "desktop_notifications", "keymap", "profiles")


def _config(raw: dict[str, Any]) -> Config:
    for key in raw:
        if key not in _TOP_FIELDS:
            raise _Bad((key,), "unknown setting (the file has: default_profile, theme, desktop_notifications, "
                               "[keymap], [profiles.NAME])")
    cfg = Config()
    if "default_profile" in raw:
        cfg.default_profile = _string(raw["default_profile"], ("default_profile",))
        if not re.match(PROFILE_NAME_PATTERN, cfg.default_profile):
            raise _Bad(("default_profile",), f"not a profile name ({PROFILE_NAME_RULE})")
    if "theme" in raw:
        cfg.theme = _string(raw["theme"], ("theme",))
    if "desktop_notifications" in raw:
        cfg.desktop_notifications = _bool(raw["desktop_notifications"], ("desktop_notifications",))
    if "keymap" in raw:
        cfg.keymap = _keymap(raw["keymap"], ("keymap",))
    profiles = raw.get("profiles", {})
    if not isinstance(profiles, dict):
        raise _Bad(("profiles",), f"should be tables [profiles.NAME], not {_kind(profiles)}")
    for name, table in profiles.items():
        if not re.match(PROFILE_NAME_PATTERN, name):
            raise _Bad(("profiles", name), f"profile names use {PROFILE_NAME_RULE}")
        cfg.profiles[name] = _profile(table, ("profiles", name))
    return cfg


def parse_config(text: str, path: Path) -> Config:
    """Validate the text of a config file; ``path`` is only used in messages."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(path, exc, text) from None
    secret = _find_secret_keys(raw)
    if secret:
        line = _line_of(text, secret)
        where = f"{path}, line {line}" if line else str(path)
        raise ConfigError(
            f"{where}: {'.'.join(secret)}: secrets do not belong in the config file; remove it and run "
            "`crewos-tui login URL` (keeps the API key in the OS keyring) or set CREWOS_API_KEY"
        )
    try:
        return _config(raw)
    except _Bad as bad:
        line = _line_of(text, bad.loc)
        where = f"{path}, line {line}" if line else str(path)
        raise ConfigError(f"{where}: {'.'.join(bad.loc)}: {bad.message}") from None


def load_config(path: Path | None = None) -> Config:
    """The config file, validated; an empty ``Config`` when there is no file yet."""
    path = path or paths.config_file()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}, line {line}: not UTF-8 text") from None
    return parse_config(text, path)


# ---- writing -------------------------------------------------------------------------
# The shape is fixed and flat (strings and string tables), so a tiny writer does the
# job; tomli-w would be a dependency for forty lines.

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _toml_string(value: str) -> str:
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _table(lines: list[str], header: str, values: dict[str, str]) -> None:
    lines.extend(["", f"[{header}]"])
    lines.extend(f"{_toml_key(k)} = {_toml_string(v)}" for k, v in values.items())


def dump_config(cfg: Config) -> str:
    lines = [
        "# crewos-tui profiles. Written by crewos-tui (comments are not kept).",
        "# API keys are never stored here: they live in the OS keyring (`crewos-tui login`)",
        "# or come from the CREWOS_API_KEY environment variable.",
        f"default_profile = {_toml_string(cfg.default_profile)}",
    ]
    if cfg.theme is not None:
        lines.append(f"theme = {_toml_string(cfg.theme)}")
    if not cfg.desktop_notifications:
        lines.append("desktop_notifications = false")
    if cfg.keymap:
        _table(lines, "keymap", cfg.keymap)
    for name, profile in cfg.profiles.items():
        values: dict[str, str] = {"mode": profile.mode}
        for key in ("url", "data_dir", "username", "theme"):
            value = getattr(profile, key)
            if value is not None:
                values[key] = str(value)
        _table(lines, f"profiles.{_toml_key(name)}", values)
        if profile.keymap:
            _table(lines, f"profiles.{_toml_key(name)}.keymap", profile.keymap)
    return "\n".join(lines) + "\n"


def save_config(cfg: Config, path: Path | None = None) -> Path:
    """Write the config atomically (a crash never leaves half a file)."""
    import tempfile  # only when writing: it pulls in random and shutil

    path = path or paths.config_file()
    text = dump_config(cfg)
    parse_config(text, path)  # never write what we could not read back
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return path


def upsert_profile(
    name: str,
    *,
    mode: Literal["local", "remote"],
    url: str | None = None,
    data_dir: Path | None = None,
    username: str | None = None,
    theme: str | None = None,
    make_default: bool = False,
) -> Config:
    """Create or update one profile and save; settings not given are kept."""
    check_profile_name(name)
    cfg = load_config()
    current = cfg.profiles.get(name)
    fields: dict[str, Any] = dict(vars(current)) if current else {}
    fields["mode"] = mode
    for key, value in (("url", url), ("data_dir", data_dir), ("username", username), ("theme", theme)):
        if value is not None:
            fields[key] = value
    if mode == "local":
        fields.pop("url", None)
    else:
        fields.pop("data_dir", None)
    try:
        cfg.profiles[name] = Profile(**fields)
    except ValueError as exc:
        raise ConfigError(f"profile {name!r}: {exc}") from None
    if make_default:
        cfg.default_profile = name
    save_config(cfg)
    return cfg


# ---- from the command line to a LaunchSpec -------------------------------------------


def _known(cfg: Config) -> str:
    names = sorted(cfg.profiles)
    return ", ".join(names) if names else "none yet"


def _local_spec(cfg: Config, name: str, data_dir: Path | None, as_user: str | None) -> LaunchSpec:
    profile = cfg.profiles.get(name, Profile())
    chosen = data_dir or profile.data_dir
    return LaunchSpec(
        profile=name,
        mode="local",
        data_dir=chosen.expanduser() if chosen else None,
        username=as_user,
        keymap=cfg.merged_keymap(name),
        theme=cfg.theme_for(name),
        desktop_notifications=cfg.desktop_notifications,
    )


def _remote_spec(cfg: Config, name: str, profile: Profile) -> LaunchSpec:
    return LaunchSpec(
        profile=name,
        mode="remote",
        url=profile.url,
        username=profile.username,
        keymap=cfg.merged_keymap(name),
        theme=cfg.theme_for(name),
        desktop_notifications=cfg.desktop_notifications,
    )


def resolve_launch(args: argparse.Namespace) -> LaunchSpec:
    """The CLI rules: which profile and mode the TUI opens.

    - no options: the default profile (first run: a ``local`` profile, saved);
    - ``--profile NAME``: that profile (unknown: ``ConfigError`` listing the known ones);
    - ``--local [--data-dir DIR]``: local mode (profile ``local``; DIR for this run);
    - ``--demo``: local mode on the demo database (profile ``demo``, never saved);
    - ``--remote URL``: the profile saved for that server, else one named after the host;
    - ``--as USERNAME``: act as that local user (local mode only).
    """
    profile_arg: str | None = getattr(args, "profile", None)
    local: bool = bool(getattr(args, "local", False))
    data_dir: Path | None = getattr(args, "data_dir", None)
    demo: bool = bool(getattr(args, "demo", False))
    remote: str | None = getattr(args, "remote", None)
    as_user: str | None = getattr(args, "as_user", None)
    data_dir = Path(data_dir) if data_dir is not None else None

    chosen = [flag for flag, on in (("--profile", profile_arg), ("--local", local), ("--demo", demo),
                                    ("--remote", remote)) if on]
    if len(chosen) > 1:
        raise ConfigError(f"{' and '.join(chosen)} cannot be combined: pick one")

    cfg = load_config()  # even --demo refuses a broken file: the keymap comes from it

    if demo:
        # Not a saved profile: the demo database lives next to the real one (or in DIR).
        return LaunchSpec(profile=DEMO_PROFILE, mode="local", demo=True,
                          data_dir=data_dir.expanduser() if data_dir else None,
                          username=as_user, keymap=cfg.merged_keymap(None), theme=cfg.theme,
                          desktop_notifications=cfg.desktop_notifications)

    if remote:
        try:
            url = normalize_url(remote)
        except ValueError as exc:
            raise ConfigError(f"--remote: {exc}") from None
        if as_user:
            raise ConfigError("--as USERNAME works in local mode only "
                              "(a remote server knows who you are from your key)")
        if data_dir:
            raise ConfigError("--data-dir goes with local mode, not --remote")
        for name, profile in sorted(cfg.profiles.items()):
            if profile.mode == "remote" and profile.url == url:
                return _remote_spec(cfg, name, profile)
        return _remote_spec(cfg, profile_name_for_url(url), Profile(mode="remote", url=url))

    if local and DEFAULT_PROFILE not in cfg.profiles:
        cfg = upsert_profile(DEFAULT_PROFILE, mode="local")
    if local:
        if cfg.profiles[DEFAULT_PROFILE].mode != "local":
            raise ConfigError(f"profile {DEFAULT_PROFILE!r} is a remote profile; --local needs it in local mode")
        return _local_spec(cfg, DEFAULT_PROFILE, data_dir, as_user)

    if profile_arg:
        name = profile_arg
        if name not in cfg.profiles:
            raise ConfigError(
                f"unknown profile {name!r}; known profiles: {_known(cfg)} (see `crewos-tui profiles`)"
            )
    else:
        name = cfg.default_profile
        if name not in cfg.profiles:
            if name != DEFAULT_PROFILE:
                raise ConfigError(
                    f"{paths.config_file()}: default_profile {name!r} is not defined; known profiles: {_known(cfg)}"
                )
            cfg = upsert_profile(DEFAULT_PROFILE, mode="local")  # first run

    profile = cfg.profiles[name]
    if profile.mode == "remote":
        if as_user:
            raise ConfigError(f"--as USERNAME works in local mode only; profile {name!r} is remote")
        if data_dir:
            raise ConfigError(f"--data-dir goes with local mode; profile {name!r} is remote")
        return _remote_spec(cfg, name, profile)
    return _local_spec(cfg, name, data_dir, as_user)
