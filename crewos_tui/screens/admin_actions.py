"""The write actions of the admin screen, one method per key.

Forms check what they can (numbers, dates, a file that already exists) and show the
backend's refusals inline — under the field the message names when it names one.
Every backend call runs in a worker; a success is announced and the tab reloads.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text

from ..widgets.form_fields import Field, FieldError
from ..widgets.safe_text import safe
from ..widgets.workers import work

if TYPE_CHECKING:
    from ..app import CrewOSApp
    from ..backend.protocol import Backend
    from ..widgets.paged_table import PagedTable

ROLES = [("Member", "member"), ("Viewer", "viewer"), ("Admin", "admin")]
YES_NO = [("Yes", "yes"), ("No", "no")]
DEFAULT_EXPORT = "audit-events.csv"


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _number(values: dict[str, str], name: str, label: str) -> int | None:
    """An optional whole number from a form field (empty = None)."""
    raw = values[name].replace(",", "").replace("_", "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"-?\d+", raw):
        raise FieldError(name, f"{label} must be a whole number")
    return int(raw)


def _pairs(values: dict[str, str], name: str) -> list[tuple[str, int]]:
    """``"studio=200000, field=1000"`` → [("studio", 200000), ("field", 1000)]."""
    out: list[tuple[str, int]] = []
    for part in _split(values[name]):
        key, sep, amount = part.partition("=")
        amount = amount.replace("_", "").strip()
        if not sep or not key.strip() or not re.fullmatch(r"-?\d+", amount):
            raise FieldError(name, f"write name=tokens, separated by commas (not {part!r})")
        out.append((key.strip(), int(amount)))
    return out


def _when(values: dict[str, str], name: str) -> str:
    raw = values[name].strip()
    if raw:
        try:
            datetime.fromisoformat(raw)
        except ValueError:
            raise FieldError(name, "a date or time like 2026-03-02 or 2026-03-02T09:00") from None
    return raw


async def _inline(call: Awaitable[Any], fields: Sequence[str]) -> Any:
    """Run a backend call; a refusal naming one of ``fields`` goes under that field."""
    from ..backend.errors import Invalid

    try:
        return await call
    except Invalid as exc:
        text = str(exc)
        where = text.split(" ", 1)[0].split(":", 1)[0]  # e.g. "body.routes[0].base_url"
        for name in fields:
            if re.fullmatch(rf"(body\.)?([\w\[\]]+\.)*{re.escape(name)}(\[\d+\])?(\.\w+)*", where):
                raise FieldError(name, text) from None
        raise


class AdminActions:
    # Provided by AdminScreen; declared for the type checker.
    audit_filter: dict[str, str]
    table: Callable[[str], PagedTable[Any]]
    load_view: Callable[[str], None]
    load_audit: Callable[[], Any]
    current_view: Callable[[], str | None]

    if TYPE_CHECKING:  # properties of the screen
        @property
        def backend(self) -> Backend: ...
        @property
        def crewos(self) -> CrewOSApp: ...

    # ---- plumbing ------------------------------------------------------------------

    def _form(self, title: str, fields: list[Field], submit: Callable[[dict[str, str]], Awaitable[Any]],
              done: Callable[[Any], str], view: str, *, note: str = "", label: str = "Save") -> None:
        from ..widgets.forms import FormModal

        def callback(result: Any) -> None:
            if result is not None:
                self.crewos.say(done(result))
                self.load_view(view)

        self.crewos.push_screen(FormModal(title, fields, submit, submit_label=label, note=note), callback)

    @work(group="admin-write", exit_on_error=False)
    async def run_write(self, call: Callable[[], Awaitable[Any]], done: Callable[[Any], str], view: str) -> None:
        result = await call()
        self.crewos.say(done(result))
        self.load_view(view)

    def _selected(self, table: str, what: str) -> Any:
        row = self.table(table).selected
        if row is None:
            self.crewos.say(f"Select {what} first.", severity="warning")
        return row

    # ---- users ---------------------------------------------------------------------

    def action_edit_user(self) -> None:
        user = self._selected("users", "a user")
        if user is None:
            return
        role = str(getattr(user.role, "value", user.role))

        async def submit(values: dict[str, str]) -> Any:
            from ..backend.schemas import UserUpdate

            wanted: dict[str, Any] = {
                "role": values["role"], "team": values["team"], "disabled": values["disabled"] == "yes",
                "namespace_grants": _split(values["namespace_grants"])}
            current = {"role": role, "team": user.team, "disabled": user.disabled,
                       "namespace_grants": list(user.namespace_grants)}
            changes = {k: v for k, v in wanted.items() if v != current[k]}
            if not changes:
                raise FieldError("role", "Nothing changed.")
            return await _inline(self.backend.admin.update_user(user.id, UserUpdate(**changes)), list(wanted))

        fields = [
            Field("role", "Role", value=role, choices=ROLES),
            Field("team", "Team", value=user.team, required=True),
            Field("disabled", "Disabled (signs the user out everywhere)", value="yes" if user.disabled else "no",
                  choices=YES_NO),
            Field("namespace_grants", "Knowledge namespaces (comma-separated; * matches any)",
                  value=", ".join(user.namespace_grants), placeholder="e.g. project:*, playbooks"),
        ]
        self._form(f"Edit {user.username}", fields, submit, lambda u: f"Saved {u.username}.", "users")

    def action_unlock_user(self) -> None:
        user = self._selected("users", "a user")
        if user is not None:
            self.run_write(lambda: self.backend.admin.unlock_user(user.id),
                           lambda u: f"{u.username} may sign in again; failed sign-ins reset.", "users")

    # ---- LLM, budgets, cache -------------------------------------------------------

    @work(group="admin-write", exit_on_error=False)
    async def action_edit_budget(self) -> None:
        budget = await self.backend.admin.get_token_budget()
        names = {u.username: u.id for u in (await self.backend.admin.list_users(limit=200)).items}

        async def submit(values: dict[str, str]) -> Any:
            from ..backend.schemas import (
                TeamBudgetUpdate,
                TokenBudgetUpdate,
                UserBudgetUpdate,
            )

            team_default = _number(values, "team_daily_default", "Team default")
            user_default = _number(values, "user_daily_default", "User default")
            users: list[UserBudgetUpdate] = []
            for name, amount in _pairs(values, "users"):
                if name not in names:
                    raise FieldError("users", f"no user named {name!r}")
                users.append(UserBudgetUpdate(user_id=names[name], daily_tokens=amount))
            data = TokenBudgetUpdate(
                enabled=values["enabled"] == "yes",
                team_daily_default=team_default, clear_team_daily_default=team_default is None,
                user_daily_default=user_default, clear_user_daily_default=user_default is None,
                teams=[TeamBudgetUpdate(team=t, daily_tokens=n) for t, n in _pairs(values, "teams")], users=users)
            return await _inline(self.backend.admin.update_token_budget(data),
                                 ["team_daily_default", "user_daily_default", "teams", "users"])

        def amount(n: int | None) -> str:
            return "" if n is None else str(n)

        fields = [
            Field("enabled", "Enforce budgets", value="yes" if budget.enabled else "no", choices=YES_NO),
            Field("team_daily_default", "Tokens per team per day (empty = no limit)",
                  value=amount(budget.team_daily_default)),
            Field("user_daily_default", "Tokens per user per day (empty = no limit)",
                  value=amount(budget.user_daily_default)),
            Field("teams", "Team limits (team=tokens, …)",
                  value=", ".join(f"{t.team}={t.daily_tokens}" for t in budget.teams)),
            Field("users", "User limits (username=tokens, …)",
                  value=", ".join(f"{u.username or u.user_id}={u.daily_tokens}" for u in budget.users)),
        ]
        self._form("Daily token budgets", fields, submit, lambda _b: "Saved the token budgets.", "llm",
                   note="Tokens in + out per UTC day; a chat run over budget is refused.")

    @work(group="admin-write", exit_on_error=False)
    async def action_edit_route(self) -> None:
        cfg = await self.backend.admin.get_llm_config()
        policies = await self.backend.admin.list_agent_namespace_policies(limit=200)
        agents = [("* (every other agent)", "*")] + [(p.agent, p.agent) for p in policies.items]
        providers = [("Built-in agent (offline)", "builtin"), ("OpenAI-compatible endpoint", "openai_compatible")]

        async def submit(values: dict[str, str]) -> Any:
            from pydantic import SecretStr

            from ..backend.schemas import LlmConfigUpdate, LlmProvider, LlmRouteUpdate

            agent, builtin = values["agent"], values["provider"] == "builtin"
            keep = [LlmRouteUpdate(agent=r.agent, provider=r.provider, base_url=r.base_url, model=r.model,
                                   api_key_env=r.api_key_env) for r in cfg.routes if r.agent != agent]
            if values["provider"] != "remove":
                keep.append(LlmRouteUpdate(
                    agent=agent, provider=LlmProvider(values["provider"]),
                    base_url=None if builtin else values["base_url"],
                    model=None if builtin else values["model"],
                    api_key_env=None if builtin else values["api_key_env"] or None,
                    api_key=None if builtin or not values["api_key"] else SecretStr(values["api_key"])))
            return await _inline(self.backend.admin.update_llm_config(LlmConfigUpdate(routes=keep)),
                                 ["base_url", "model", "api_key_env", "api_key"])

        current = next((r for r in cfg.routes if r.agent == "*"), None)
        fields = [
            Field("agent", "Agent", value="*", choices=agents),
            Field("provider", "Answered by", value=str(getattr(current.provider, "value", current.provider))
                  if current else "builtin", choices=[*providers, ("Remove this route", "remove")]),
            Field("base_url", "Base URL (OpenAI-compatible)", placeholder="e.g. http://127.0.0.1:11434/v1"),
            Field("model", "Model", placeholder="e.g. llama3.1:8b"),
            Field("api_key_env", "Key from environment variable (optional)", placeholder="e.g. OPENAI_API_KEY"),
            Field("api_key", "Or a key to keep in the OS keyring (optional)", password=True),
        ]
        self._form("Model route", fields, submit, lambda _c: "Saved the model routes.", "llm",
                   note="Keys are never stored in the database: an environment variable or the OS keyring of the "
                        "machine running the service holds them.")

    def action_toggle_cache(self) -> None:
        async def toggle() -> Any:
            from ..backend.schemas import LlmConfigUpdate

            cfg = await self.backend.admin.get_llm_config()
            return await self.backend.admin.update_llm_config(LlmConfigUpdate(cache_enabled=not cfg.cache_enabled))

        self.run_write(toggle, lambda c: f"Answer cache {'on' if c.cache_enabled else 'off'}.",
                       self.current_view() or "llm")

    @work(group="admin-write", exit_on_error=False)
    async def action_invalidate_cache(self) -> None:
        policies = await self.backend.admin.list_agent_namespace_policies(limit=200)
        agents = [("All agents", "")] + [(p.agent, p.agent) for p in policies.items]

        async def submit(values: dict[str, str]) -> Any:
            from ..backend.schemas import CacheInvalidate

            data = CacheInvalidate(agent=values["agent"] or None, project_id=values["project_id"] or None)
            return await self.backend.admin.invalidate_cache(data)

        fields = [Field("agent", "Agent", value="", choices=agents),
                  Field("project_id", "Project id (empty = every project)")]
        self._form("Invalidate cached answers", fields, submit, lambda r: f"Removed {r.removed} cached answers.",
                   "cache", label="Invalidate")

    # ---- audit ---------------------------------------------------------------------

    def action_filter_audit(self) -> None:
        async def submit(values: dict[str, str]) -> Any:
            for key in ("since", "until"):
                _when(values, key)
            return values

        def done(values: dict[str, str]) -> str:
            self.audit_filter = dict(values)
            return "Filter applied." if any(values.values()) else "Filter cleared."

        f = self.audit_filter
        fields = [
            Field("actor", "Actor (username or user id)", value=f["actor"]),
            Field("action", "Action (e.g. user.updated, or project.* for all project actions)", value=f["action"]),
            Field("resource_id", "Resource id", value=f["resource_id"]),
            Field("since", "Since (UTC, e.g. 2026-03-02 or 2026-03-02T09:00)", value=f["since"]),
            Field("until", "Until (UTC)", value=f["until"]),
        ]
        self._form("Filter the audit log", fields, submit, done, "audit", label="Apply")

    @work(exclusive=True, group="admin-verify", exit_on_error=False)
    async def action_verify_audit(self) -> None:
        from textual.widgets import Static

        from ..widgets.admin_text import integrity_text

        target = cast(Static, self.query_one("#audit-integrity", Static))  # type: ignore[attr-defined]
        target.update(Text("Verifying the chain…", style="italic"))
        target.add_class("-shown")
        report = await self.backend.admin.audit_integrity()
        target.update(safe(integrity_text(report)))
        if report.valid:
            self.crewos.say(f"Audit chain valid: {report.checked} events.")
        else:
            self.crewos.say(f"Audit chain broken at #{report.first_invalid_seq}: {report.reason}", severity="error")

    def action_export_audit(self) -> None:
        async def submit(values: dict[str, str]) -> Any:
            path = Path(values["path"]).expanduser()  # noqa: ASYNC240 - path checks only, no file I/O
            if path.exists():
                raise FieldError("path", f"{path} exists; choose another name")
            if not path.parent.is_dir():
                raise FieldError("path", f"no folder {path.parent}")
            return path

        from ..widgets.forms import FormModal

        note = "Exports the events the current filter shows, oldest first."
        def chosen(path: Path | None) -> None:
            if path is not None:
                self.export_to(path)

        self.crewos.push_screen(
            FormModal("Export the audit log (CSV)", [Field("path", "File", value=DEFAULT_EXPORT, required=True)],
                      submit, submit_label="Export", note=note), chosen)

    @work(exclusive=True, group="admin-export", exit_on_error=False)
    async def export_to(self, path: Path) -> None:
        from textual.widgets import ProgressBar

        bar = cast(ProgressBar, self.query_one("#export-progress", ProgressBar))  # type: ignore[attr-defined]
        stream = await self.backend.admin.export_audit_csv(**self.audit_query())  # type: ignore[attr-defined]
        total = max(stream.total_rows, 0)
        bar.update(total=total or 1, progress=0)
        self.add_class("-exporting")  # type: ignore[attr-defined]
        rows = -1  # the header line is not an event
        try:
            with path.open("x", encoding="utf-8", newline="") as out:
                async for chunk in stream:
                    out.write(chunk)
                    rows += chunk.count("\r\n")
                    bar.update(progress=min(max(rows, 0), total))
        finally:
            await stream.aclose()
        bar.update(progress=total or 1)
        self.crewos.say(f"Exported {max(rows, 0)} audit events to {path}.")

    # ---- pipeline policy and prompt standards -----------------------------------------

    @work(group="admin-write", exit_on_error=False)
    async def action_edit_policy(self) -> None:
        policy = await self.backend.admin.get_pipeline_policy()
        numbers = {"validation_threshold": "Validation threshold", "max_retries": "Retries",
                   "job_timeout_seconds": "Job timeout"}

        async def submit(values: dict[str, str]) -> Any:
            from ..backend.schemas import PipelinePolicyUpdate

            given: dict[str, Any] = {k: _number(values, k, label) for k, label in numbers.items()}
            for k, label in numbers.items():
                if given[k] is None:
                    raise FieldError(k, f"{label} is required")
            given["require_review"] = values["require_review"] == "yes"
            given["enforce_prompt_standards"] = values["enforce_prompt_standards"] == "yes"
            data = PipelinePolicyUpdate.model_construct(**given)  # the service checks the ranges
            return await _inline(self.backend.admin.update_pipeline_policy(data), list(given))

        fields = [
            Field("require_review", "Agent outputs go to the review queue", choices=YES_NO,
                  value="yes" if policy.require_review else "no"),
            Field("validation_threshold", "Validation threshold (0-100)", value=str(policy.validation_threshold)),
            Field("max_retries", "Retries of a failed agent job (0-10)", value=str(policy.max_retries)),
            Field("job_timeout_seconds", "Job timeout in seconds (10-86400)", value=str(policy.job_timeout_seconds)),
            Field("enforce_prompt_standards", "Check outputs against prompt standards", choices=YES_NO,
                  value="yes" if policy.enforce_prompt_standards else "no"),
        ]
        self._form("Pipeline policy", fields, submit, lambda _p: "Saved the pipeline policy.", "policy")

    def action_edit_standard(self) -> None:
        standard = self._selected("standards", "an agent")
        if standard is None:
            return

        async def submit(values: dict[str, str]) -> Any:
            from ..backend.schemas import PromptStandardUpsert

            data = PromptStandardUpsert(system_prompt=values["system_prompt"],
                                        required_sections=_split(values["required_sections"]),
                                        forbidden_terms=_split(values["forbidden_terms"]))
            return await _inline(self.backend.admin.upsert_prompt_standard(standard.agent, data),
                                 ["system_prompt", "required_sections", "forbidden_terms"])

        fields = [
            Field("system_prompt", "System prompt", value=standard.system_prompt),
            Field("required_sections", "Required sections (comma-separated headings)",
                  value=", ".join(standard.required_sections)),
            Field("forbidden_terms", "Forbidden terms (comma-separated)", value=", ".join(standard.forbidden_terms)),
        ]
        self._form(f"Prompt standard: {standard.agent}", fields, submit,
                   lambda s: f"Saved the prompt standard of {s.agent}.", "policy")
