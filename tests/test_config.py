"""Profiles: the TOML file, its validation messages, and the CLI's launch rules."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from crewos_tui import paths
from crewos_tui.config import (
    Config,
    ConfigError,
    Profile,
    dump_config,
    load_config,
    normalize_url,
    profile_name_for_url,
    resolve_launch,
    save_config,
    upsert_profile,
)


def ns(**kw: object) -> argparse.Namespace:
    base: dict[str, object] = dict(profile=None, local=False, data_dir=None, demo=False, reset_demo=False,
                                   remote=None, as_user=None)
    base.update(kw)
    return argparse.Namespace(**base)


def write(text: str) -> Path:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_round_trip_keeps_every_setting(tmp_path: Path) -> None:
    cfg = Config(
        default_profile="work",
        keymap={"quit": "ctrl+q", "help": "?"},
        profiles={
            "local": Profile(mode="local", data_dir=tmp_path / "data dir", theme="nord"),
            "work": Profile(mode="remote", url="https://crewos.example.com/", username="ann",
                            keymap={"quit": "ctrl+c", "odd id": 'say "hi"\\'}),
            "host.example-8443": Profile(mode="remote", url="http://host.example:8443"),
        },
    )
    save_config(cfg)
    loaded = load_config()
    assert loaded == cfg
    assert loaded.profiles["work"].url == "https://crewos.example.com"  # normalized
    assert loaded.profiles["work"].keymap["odd id"] == 'say "hi"\\'
    assert loaded.profiles["local"].data_dir == tmp_path / "data dir"
    assert "api_key" not in paths.config_file().read_text()


def test_missing_file_is_an_empty_config() -> None:
    assert load_config() == Config()


def test_first_run_creates_and_saves_a_local_profile() -> None:
    assert not paths.config_file().exists()
    spec = resolve_launch(ns())
    assert (spec.profile, spec.mode, spec.demo) == ("local", "local", False)
    cfg = load_config()
    assert cfg.default_profile == "local"
    assert cfg.profiles["local"].mode == "local"


def test_default_profile_and_keymap_merge() -> None:
    write(
        """
default_profile = "work"
[keymap]
quit = "ctrl+q"
help = "?"
[profiles.work]
mode = "remote"
url = "https://crewos.example.com"
username = "ann"
theme = "nord"
[profiles.work.keymap]
quit = "ctrl+c"
"""
    )
    spec = resolve_launch(ns())
    assert (spec.profile, spec.mode, spec.url, spec.username, spec.theme) == (
        "work", "remote", "https://crewos.example.com", "ann", "nord")
    assert spec.keymap == {"quit": "ctrl+c", "help": "?"}
    assert spec.badge == "REMOTE"


def test_malformed_toml_names_file_and_line() -> None:
    path = write('default_profile = "local"\n[profiles.local]\nmode = local\n')
    with pytest.raises(ConfigError) as err:
        load_config()
    message = str(err.value)
    assert str(path) in message
    assert "line 3" in message
    assert "\n" not in message


def test_bad_value_names_key_path_and_line() -> None:
    path = write('[profiles.work]\nmode = "remote"\nurl = "https://x.example"\n\n[profiles.lab]\nmode = "cloud"\n')
    with pytest.raises(ConfigError) as err:
        load_config()
    message = str(err.value)
    assert str(path) in message
    assert "profiles.lab.mode" in message
    assert "line 6" in message


def test_unknown_key_is_refused() -> None:
    write('[profiles.work]\nmode = "local"\ncolour = "red"\n')
    with pytest.raises(ConfigError, match=r"profiles\.work\.colour: unknown setting"):
        load_config()


def test_remote_profile_without_url_is_refused() -> None:
    write('[profiles.work]\nmode = "remote"\n')
    with pytest.raises(ConfigError, match=r"line 1: profiles\.work: .*needs a url"):
        load_config()


@pytest.mark.parametrize("key", ["api_key", "password", "token", "API-KEY"])
def test_secret_keys_are_refused(key: str) -> None:
    path = write(f'[profiles.work]\nmode = "remote"\nurl = "https://x.example"\n{key} = "s3cret"\n')
    with pytest.raises(ConfigError) as err:
        load_config()
    message = str(err.value)
    assert f"profiles.work.{key}" in message and "line 4" in message and str(path) in message
    assert "keyring" in message and "s3cret" not in message


def test_top_level_secret_is_refused() -> None:
    write('api_key = "s3cret"\n')
    with pytest.raises(ConfigError, match="secrets do not belong"):
        load_config()


def test_app_does_not_start_on_a_broken_file() -> None:
    write("[profiles.local\n")
    for args in (ns(), ns(demo=True), ns(local=True), ns(remote="http://127.0.0.1:1")):
        with pytest.raises(ConfigError):
            resolve_launch(args)


def test_unknown_profile_lists_known_ones() -> None:
    upsert_profile("work", mode="remote", url="https://crewos.example.com")
    upsert_profile("lab", mode="local")
    with pytest.raises(ConfigError, match=r"unknown profile 'nope'; known profiles: lab, work"):
        resolve_launch(ns(profile="nope"))


def test_undefined_default_profile_is_an_error() -> None:
    write('default_profile = "gone"\n')
    with pytest.raises(ConfigError, match="default_profile 'gone' is not defined"):
        resolve_launch(ns())


def test_local_with_data_dir(tmp_path: Path) -> None:
    spec = resolve_launch(ns(local=True, data_dir=tmp_path))
    assert (spec.profile, spec.mode, spec.data_dir) == ("local", "local", tmp_path)
    assert load_config().profiles["local"].data_dir is None  # --data-dir is for this run


def test_demo_is_local_and_not_saved() -> None:
    spec = resolve_launch(ns(demo=True))
    assert (spec.profile, spec.mode, spec.demo, spec.badge) == ("demo", "local", True, "DEMO")
    assert "demo" not in load_config().profiles


def test_remote_uses_the_matching_profile() -> None:
    upsert_profile("work", mode="remote", url="https://crewos.example.com", username="ann")
    spec = resolve_launch(ns(remote="HTTPS://CrewOS.example.com:443/"))
    assert (spec.profile, spec.url, spec.username) == ("work", "https://crewos.example.com", "ann")


def test_remote_without_profile_is_ephemeral() -> None:
    spec = resolve_launch(ns(remote="http://127.0.0.1:8765"))
    assert (spec.profile, spec.mode, spec.url) == ("127.0.0.1-8765", "remote", "http://127.0.0.1:8765")
    assert load_config().profiles == {}


def test_remote_url_must_be_http() -> None:
    with pytest.raises(ConfigError, match="--remote"):
        resolve_launch(ns(remote="ftp://x"))


def test_as_user_in_local_mode() -> None:
    spec = resolve_launch(ns(as_user="bob"))
    assert (spec.mode, spec.username) == ("local", "bob")
    assert resolve_launch(ns(demo=True, as_user="bob")).username == "bob"


def test_as_user_refused_in_remote_mode() -> None:
    with pytest.raises(ConfigError, match="local mode only"):
        resolve_launch(ns(remote="https://crewos.example.com", as_user="bob"))
    upsert_profile("work", mode="remote", url="https://crewos.example.com")
    with pytest.raises(ConfigError, match="local mode only"):
        resolve_launch(ns(profile="work", as_user="bob"))


def test_conflicting_choices() -> None:
    with pytest.raises(ConfigError, match="cannot be combined"):
        resolve_launch(ns(demo=True, remote="https://x.example"))


def test_upsert_keeps_other_settings() -> None:
    upsert_profile("work", mode="remote", url="https://a.example", username="ann")
    cfg = load_config()
    cfg.profiles["work"].theme = "nord"
    save_config(cfg)
    upsert_profile("work", mode="remote", url="https://b.example", make_default=True)
    cfg = load_config()
    assert cfg.profiles["work"] == Profile(mode="remote", url="https://b.example", username="ann", theme="nord")
    assert cfg.default_profile == "work"


def test_bad_profile_name_refused() -> None:
    with pytest.raises(ConfigError, match="not a usable profile name"):
        upsert_profile("no spaces", mode="local")


def test_url_helpers() -> None:
    assert normalize_url("http://Example.com:80/base/") == "http://example.com/base"
    assert profile_name_for_url("https://crewos.example.com") == "crewos.example.com"
    assert profile_name_for_url("http://[::1]:9000") == "1-9000"
    with pytest.raises(ValueError):
        normalize_url("https://user:pw@example.com")


def test_dump_is_valid_toml_with_odd_strings() -> None:
    import tomllib

    cfg = Config(keymap={"a\tb": "x\u0001y"})
    assert tomllib.loads(dump_config(cfg))["keymap"] == {"a\tb": "x\u0001y"}


def test_a_file_wide_theme_and_desktop_notifications_reach_every_launch() -> None:
    write('theme = "ansi-light"\ndesktop_notifications = false\n[profiles.local]\nmode = "local"\n'
          '[profiles.work]\nmode = "remote"\nurl = "https://w.example"\ntheme = "nord"\n')
    local = resolve_launch(ns())
    assert (local.theme, local.desktop_notifications) == ("ansi-light", False)
    work = resolve_launch(ns(profile="work"))
    assert (work.theme, work.desktop_notifications) == ("nord", False)  # the profile's own wins
    demo = resolve_launch(ns(demo=True))
    assert (demo.theme, demo.desktop_notifications) == ("ansi-light", False)


def test_without_settings_the_terminal_picks_the_theme_and_notifications_are_on() -> None:
    spec = resolve_launch(ns())
    assert (spec.theme, spec.desktop_notifications) == (None, True)


def test_the_top_level_settings_round_trip() -> None:
    cfg = Config(theme="auto", desktop_notifications=False, profiles={"local": Profile()})
    save_config(cfg)
    assert load_config() == cfg
    assert 'theme = "auto"' in paths.config_file().read_text()


def test_desktop_notifications_must_be_true_or_false() -> None:
    write('desktop_notifications = "no"\n')
    with pytest.raises(ConfigError, match=r"line 1: desktop_notifications: should be true or false, not a string"):
        load_config()
