"""Property tests for the small pure pieces every request passes through."""

from __future__ import annotations

import contextlib

from hypothesis import given
from hypothesis import strategies as st

from crewos_tui.backend import errors
from crewos_tui.backend.ids import FixedClock, IdGenerator
from crewos_tui.backend.local.pagination import decode_cursor, encode_cursor
from crewos_tui.backend.local.services.projects.extract import clean_folder_path, extract_text


@given(st.lists(st.one_of(st.text(max_size=30), st.integers()), min_size=1, max_size=3))
def test_cursors_round_trip(key):
    assert decode_cursor(encode_cursor(key), len(key)) == key


@given(st.text(max_size=60))
def test_any_cursor_text_is_either_valid_or_invalid_never_a_crash(text):
    with contextlib.suppress(errors.Invalid):
        decode_cursor(text, 1)


@given(st.text(max_size=80))
def test_folder_paths_are_normalised_or_refused(path):
    try:
        clean = clean_folder_path(path)
    except errors.Invalid:
        return
    assert clean == clean.strip("/") and "//" not in clean
    assert ".." not in clean.split("/") and clean_folder_path(clean) == clean


@given(st.binary(max_size=200))
def test_extraction_refuses_with_a_readable_error_or_returns_text(data):
    try:
        out = extract_text("f.txt", "text/plain", data)
    except errors.UnsupportedMedia as exc:
        assert "f.txt" in str(exc)
        return
    assert "\r" not in out


def test_ids_sort_by_creation_even_within_one_millisecond():
    from datetime import UTC, datetime, timedelta

    gen = IdGenerator(FixedClock(datetime(2026, 1, 1, tzinfo=UTC), timedelta(0)), seed=1)
    ids = [gen.new() for _ in range(500)]
    assert ids == sorted(ids) and len(set(ids)) == 500 and all(len(i) == 26 for i in ids)
