"""Pilot tests of the admin screen, checked against the backend: users (edit, unlock),
budgets, the cache switch, the audit log (filter, integrity before and after a
tamper, CSV export with progress), the pipeline policy's validation, prompt
standards, and the explanation non-admins get instead."""

from __future__ import annotations

import csv
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, ProgressBar, Select, Static

from crewos_tui.launch import LaunchSpec
from crewos_tui.screens.admin import AdminScreen
from crewos_tui.widgets.forms import FormModal

from .app_support import Notes, make_app, settle

SIZE = (120, 40)


async def open_admin(pilot: Pilot[Any], tab: str = "users") -> AdminScreen:
    await settle(pilot)
    await pilot.press("0")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, AdminScreen), screen
    if tab != "users":
        screen.show_view(tab)
        await settle(pilot)
    return screen


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def fill(pilot: Pilot[Any], **values: str) -> FormModal[Any]:
    form = pilot.app.screen
    assert isinstance(form, FormModal), form
    for name, value in values.items():
        widget = form.query_one(f"#field-{name}")
        if isinstance(widget, Select):
            widget.value = value
        else:
            assert isinstance(widget, Input)
            widget.value = value
    return form


async def submit(pilot: Pilot[Any]) -> None:
    await pilot.press("ctrl+s")
    await settle(pilot)


async def select_user(pilot: Pilot[Any], screen: AdminScreen, username: str) -> Any:
    table = screen.table("users")
    user = next(u for u in table.items if u.username == username)
    assert table.select_key(user.id)
    table.focus()
    await settle(pilot)
    return user


async def test_users_are_listed_and_edited(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot)
        names = [u.username for u in screen.table("users").items]
        assert names[:5] == ["maya", "devon", "priya", "sam", "lee"]
        sam = await select_user(pilot, screen, "sam")
        await pilot.press("e")
        await settle(pilot)
        await fill(pilot, role="member", namespace_grants="project:*, playbooks")
        await submit(pilot)
        assert app.screen is screen
        got = (await app.backend.admin.list_users(q="sam")).items[0]
        assert got.id == sam.id and str(got.role) == "member" and got.namespace_grants == ["project:*", "playbooks"]
        row = next(u for u in screen.table("users").items if u.id == sam.id)
        assert str(row.role) == "member"  # the table reloaded


async def test_unlock_resets_failed_logins(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot)
        lee = await select_user(pilot, screen, "lee")
        assert lee.failed_logins == 2
        await pilot.press("u")
        await settle(pilot)
        assert (await app.backend.admin.list_users(q="lee")).items[0].failed_logins == 0
        notes = Notes(app)
        await pilot.press("u")  # nothing left to unlock: the backend says so
        await settle(pilot)
        assert any("not locked" in m for m in notes.errors())


async def test_demoting_the_last_admin_is_refused_inline(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot)
        await select_user(pilot, screen, "maya")
        await pilot.press("e")
        await settle(pilot)
        form = await fill(pilot, role="member")
        await submit(pilot)
        assert app.screen is form  # stays open with the reason
        assert "last active admin" in str(form.query_one("#form-error", Static).render())
        assert str((await app.backend.admin.list_users(q="maya")).items[0].role) == "admin"


async def test_budgets_usage_and_the_cache_switch(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot, "llm")
        assert "Default per team 500,000, per user 50,000" in text_of(screen, "#llm-budget")
        assert "runs" in text_of(screen, "#usage-title")
        assert any(screen.query_one("#usage-chart").data)  # the demo's agent runs
        await pilot.press("b")
        await settle(pilot)
        form = await fill(pilot, user_daily_default="-5")
        await submit(pilot)
        assert app.screen is form and "must not be negative" in str(
            form.query_one("#error-user_daily_default", Static).render())
        await fill(pilot, user_daily_default="60_000", teams="studio=150000, field=1000")
        await submit(pilot)
        budget = await app.backend.admin.get_token_budget()
        assert budget.user_daily_default == 60_000
        assert [(t.team, t.daily_tokens) for t in budget.teams] == [("field", 1000), ("studio", 150_000)]
        assert "per user 60,000" in text_of(screen, "#llm-budget")
        await pilot.press("c")
        await settle(pilot)
        assert (await app.backend.admin.get_llm_config()).cache_enabled
        assert "Answer cache  on" in text_of(screen, "#llm-routes")


async def test_a_model_route_is_set_and_removed(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot, "llm")
        await pilot.press("r")
        await settle(pilot)
        form = await fill(pilot, agent="planner", provider="openai_compatible", base_url="ftp://nope", model="m")
        await submit(pilot)
        assert app.screen is form and "base_url" in str(form.query_one("#error-base_url", Static).render())
        await fill(pilot, base_url="http://127.0.0.1:11434/v1", model="llama3.1:8b", api_key_env="OLLAMA_KEY")
        await submit(pilot)
        routes = {r.agent: r for r in (await app.backend.admin.get_llm_config()).routes}
        assert (routes["planner"].model, routes["planner"].secret_source) == ("llama3.1:8b", "env")
        assert "*" in routes  # the other routes are kept
        assert "planner → llama3.1:8b @ http://127.0.0.1:11434/v1 (key: env)" in text_of(screen, "#llm-routes")
        await pilot.press("r")
        await settle(pilot)
        await fill(pilot, agent="planner", provider="remove")
        await submit(pilot)
        assert "planner" not in {r.agent for r in (await app.backend.admin.get_llm_config()).routes}


async def test_cache_and_queue_stats_and_invalidate(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot, "cache")
        stats = text_of(screen, "#cache-stats")
        assert "1 entries" in stats and "1 hits, 1 misses" in stats and "hit rate 50%" in stats
        assert "Agent jobs" in text_of(screen, "#queue-stats")
        await pilot.press("i")
        await settle(pilot)
        await fill(pilot, agent="helper")
        await submit(pilot)
        assert (await app.backend.admin.cache_stats()).entries == 0
        assert "0 entries" in text_of(screen, "#cache-stats")


async def test_audit_filter_detail_and_integrity(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot, "audit")
        events = screen.table("audit").items
        assert events and events[0].seq > events[-1].seq  # newest first
        assert f"#{events[0].seq} {events[0].action}" in text_of(screen, "#audit-detail")
        await pilot.press("f")
        await settle(pilot)
        await fill(pilot, action="user.*", since="not a date")
        await submit(pilot)
        assert isinstance(app.screen, FormModal)  # the bad date is named in the form
        await fill(pilot, since="")
        await submit(pilot)
        assert {e.action.split(".")[0] for e in screen.table("audit").items} == {"user"}
        assert "action=user.*" in text_of(screen, "#audit-filter")

        await pilot.press("v")
        await settle(pilot)
        assert "chain valid" in text_of(screen, "#audit-integrity")

        # Someone edits an audit row in the file (dropping the guard trigger first).
        db = app.backend.services.ctx.db.path
        with sqlite3.connect(db) as raw:
            raw.execute("DROP TRIGGER audit_events_no_update")
            raw.execute("UPDATE audit_events SET actor = 'nobody' WHERE seq = 7")
        await pilot.press("v")
        await settle(pilot)
        assert "BROKEN at #7" in text_of(screen, "#audit-integrity")


async def test_export_writes_the_filtered_log_with_progress(demo_spec: LaunchSpec, tmp_path: Path) -> None:
    app = make_app(demo_spec)
    target = tmp_path / "out.csv"
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot, "audit")
        screen.audit_filter["action"] = "project.*"
        await pilot.press("x")
        await settle(pilot)
        await fill(pilot, path=str(target))
        await submit(pilot)
        rows = list(csv.reader(target.open(encoding="utf-8", newline="")))
        expected = (await (await app.backend.admin.export_audit_csv(action="project.*")).__anext__())
        assert rows[0] == next(csv.reader([expected]))
        events = await app.backend.admin.list_audit_events(action="project.*", limit=200)
        assert [int(r[0]) for r in rows[1:]] == sorted(e.seq for e in events.items)
        bar = screen.query_one("#export-progress", ProgressBar)
        assert bar.total == len(rows) - 1 and bar.progress == bar.total
        await pilot.press("x")  # the same file again is refused in the form
        await settle(pilot)
        form = await fill(pilot, path=str(target))
        await submit(pilot)
        assert app.screen is form and "exists" in str(form.query_one("#error-path", Static).render())


async def test_policy_validation_and_prompt_standards(demo_spec: LaunchSpec) -> None:
    app = make_app(demo_spec)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot, "policy")
        assert "validation passes at 75/100" in text_of(screen, "#policy-text")
        await pilot.press("p")
        await settle(pilot)
        form = await fill(pilot, validation_threshold="150")
        await submit(pilot)
        assert app.screen is form
        assert "validation_threshold" in str(form.query_one("#error-validation_threshold", Static).render())
        await fill(pilot, validation_threshold="90", require_review="no")
        await submit(pilot)
        policy = await app.backend.admin.get_pipeline_policy()
        assert (policy.validation_threshold, policy.require_review) == (90, False)

        table = screen.table("standards")
        assert table.select_key("planner")
        table.focus()
        await pilot.press("s")
        await settle(pilot)
        await fill(pilot, required_sections="Goal, Steps", forbidden_terms="asap")
        await submit(pilot)
        saved = {s.agent: s for s in (await app.backend.admin.list_prompt_standards()).items}["planner"]
        assert saved.required_sections == ["Goal", "Steps"] and saved.forbidden_terms == ["asap"]


async def test_non_admins_see_why_the_screen_is_empty(demo_spec: LaunchSpec) -> None:
    app = make_app(replace(demo_spec, username="devon"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot)
        assert screen.is_admin is False
        notice = text_of(screen, "#admin-notice")
        assert "for admins" in notice and "devon (member)" in notice
        assert not screen.query_one("#admin-tabs").display
        assert screen.check_action("edit_user", ()) is False
        assert screen.table("users").items == []  # nothing was fetched
