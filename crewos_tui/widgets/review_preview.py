"""What the review screen's preview pane shows for one item: summary, payload
(markdown or pretty JSON), attachments, validation findings, decisions and the
transcript, as one Rich renderable (the pane renders it to lines once and caches
them, so showing the next item after a decision is a repaint)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.json import JSON as RichJSON
from rich.markdown import Markdown
from rich.rule import Rule
from rich.text import Text

from .format import one_line, size, utc
from .safe_text import safe, safe_markdown, visible

if TYPE_CHECKING:
    from ..backend.schemas import ReviewItem, ReviewTranscript, ValidationResult

#: Characters of payload or transcript shown before "… (more: d saves the item)".
MAX_SHOWN = 6000
STATE_LABEL = {"pending": "pending", "approved": "approved", "rejected": "rejected", "quarantined": "quarantined"}
STATE_STYLE = {"pending": "bold", "approved": "green", "rejected": "red", "quarantined": "yellow"}


def age(created: datetime, now: datetime) -> str:
    """``12m``, ``5h``, ``3d``: how long an item has waited (never negative)."""
    seconds = max(0, int((now - created).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _section(title: str) -> Rule:
    return Rule(Text(title, style="bold"), align="left", style="dim")


def _payload(item: ReviewItem) -> RenderableType:
    value = item.payload
    if value is None or value == "" or value == {}:
        return Text("(no payload)", style="dim italic")
    fmt = str(getattr(item.payload_format, "value", item.payload_format))
    if isinstance(value, str) and fmt == "markdown":
        return Markdown(safe_markdown(value[:MAX_SHOWN]), hyperlinks=False)  # no terminal hyperlinks
    if isinstance(value, str):
        return Text(value[:MAX_SHOWN])
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    if len(text) > MAX_SHOWN:
        return Text(text[:MAX_SHOWN] + "\n…", no_wrap=True)
    return RichJSON(visible(text, multiline=True))  # json.dumps escaped C0; this catches C1 and bidi


def _header(item: ReviewItem, now: datetime, pending_action: str | None) -> Text:
    state = str(getattr(item.state, "value", item.state))
    head = Text.assemble((item.title, "bold"), "\n")
    head.append(state, style=STATE_STYLE.get(state, ""))
    if pending_action:
        head.append(f" → {pending_action} (u undoes)", style="bold reverse")
    priority = str(getattr(item.priority, "value", item.priority))
    source = str(getattr(item.source, "value", item.source))
    bits = [f"{priority} priority", item.kind, item.project_name or "no project",
            f"by {item.submitter or 'system'}" + (f" via {source} {item.source_ref}" if item.source_ref else ""),
            f"{utc(item.created_at)} UTC ({age(item.created_at, now)} ago)"]
    head.append(" · " + " · ".join(bits), style="dim")
    if item.decided_at and state != "pending":
        head.append(f"\n{state} by {item.decided_by} {utc(item.decided_at)} UTC", style="dim")
        if item.decision_reason:
            head.append(f": {item.decision_reason}", style="dim")
    return head


def preview(item: ReviewItem | None, now: datetime, *, pending_action: str | None = None,
            transcript: ReviewTranscript | None = None, detail: ReviewItem | None = None,
            validation: ValidationResult | None = None) -> RenderableType:
    """Everything the pane shows for ``item``; ``detail`` (with history) and
    ``transcript`` arrive later than the list's copy of the item."""
    if item is None:
        return Text("Nothing selected. The queue is clear, or the filter hides everything.", style="dim italic")
    parts: list[RenderableType] = [_header(item, now, pending_action)]
    if item.summary:
        parts += [Text(""), Text(item.summary)]
    fmt = str(getattr(item.payload_format, "value", item.payload_format))
    parts += [_section(f"Payload ({fmt})"), _payload(item)]
    if item.attachments:
        parts.append(_section(f"Attachments ({len(item.attachments)}, d saves them)"))
        for a in item.attachments:
            parts.append(Text(f"{a.index}  {a.filename}  {a.content_type}  {size(a.size)}"))
    if validation is not None:
        verdict = "passed" if validation.passed else "failed"
        parts.append(_section(f"Validation: {validation.score}/100, {verdict} (threshold {validation.threshold})"))
        for f in validation.findings:
            mark = "✓" if f.passed else ("✗!" if f.blocking else "✗")
            line = Text(f"{mark} {f.check}: {f.message} ({f.score})", style="" if f.passed else "red")
            parts.append(line)
            for d in f.details[:5]:
                parts.append(Text(f"    {one_line(d, 90)}", style="dim"))
    history = detail.history if detail is not None else []
    if history:
        parts.append(_section("Decisions"))
        for h in history:
            reason = f": {h.reason}" if h.reason else ""
            parts.append(Text(f"{utc(h.decided_at)} {h.actor} {h.action} ({h.from_state} → {h.to_state}){reason}",
                              style="dim"))
    if item.transcript_messages:
        parts.append(_section(f"Transcript ({item.transcript_messages} messages)"))
        if transcript is None:
            parts.append(Text("loading…", style="dim italic"))
        else:
            for m in transcript.messages:
                who = f"{m.role} ({m.name})" if m.name else m.role
                parts.append(Text.assemble((who, "bold"), ": ", m.content[:MAX_SHOWN]))
    return Group(*(safe(p) for p in parts))  # every Text quotes backend text: controls made visible
