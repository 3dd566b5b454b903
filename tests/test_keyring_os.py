"""A real round trip through the OS keyring (Secret Service over D-Bus).

`.ci/run` starts a D-Bus session with an unlocked gnome-keyring for this. Elsewhere
the test skips when no Secret Service answers — except under CI (env ``CI`` set),
where a missing Secret Service is a broken recipe and must fail, not skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import keyring
import pytest

from crewos_tui import secrets

pytestmark = pytest.mark.keyring_os


def _secret_service_or_skip() -> object:
    from keyring.backends.SecretService import Keyring as SecretServiceKeyring

    try:
        SecretServiceKeyring.priority  # noqa: B018 - raises when no Secret Service answers
    except Exception as exc:
        reason = f"no Secret Service reachable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set: .ci/run must provide one)")
        pytest.skip(reason)
    return SecretServiceKeyring()


@pytest.fixture
def secret_service() -> Iterator[object]:
    backend = _secret_service_or_skip()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)  # type: ignore[arg-type]
    secrets._session.clear()
    yield backend
    keyring.set_keyring(previous)


def test_round_trip_through_secret_service(secret_service: object) -> None:
    profile = f"keyring-os-test-{os.getpid()}"
    key = f"crewos_test{os.getpid()}_not-a-real-key"
    status = secrets.keyring_status()
    assert status.usable, status.reason
    assert status.backend == "keyring.backends.SecretService.Keyring"
    try:
        assert secrets.store_api_key(profile, key) == "keyring"
        assert secrets.get_api_key(profile) == (key, "keyring")
        if shutil.which("secret-tool"):
            # Seen from outside Python too: it really is in the Secret Service.
            out = subprocess.run(["secret-tool", "lookup", "service", secrets.SERVICE, "username", profile],
                                 capture_output=True, text=True, timeout=30)
            assert out.stdout.strip() == key
        assert secrets.delete_api_key(profile) == ["keyring"]
        assert secrets.get_api_key(profile) == (None, None)
    finally:
        secrets.delete_api_key(profile)
    assert secrets.probe_keyring().usable
