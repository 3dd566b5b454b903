"""Decision receipts: what a batch decided, by whom and when, as markdown and JSON,
and saving both next to each other (``<path>.md`` and ``<path>.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .format import utc
from .safe_text import md_escape

if TYPE_CHECKING:
    from ..backend.schemas import ReviewBatchResult


def receipt_data(result: ReviewBatchResult, server: str) -> dict[str, Any]:
    return {
        "receipt": "crewos review batch",
        "batch_id": result.batch_id,
        "server": server,
        "actor": result.actor,
        "actor_id": result.actor_id,
        "decided_at": result.decided_at.isoformat(),
        "count": len(result.results),
        "items": [{"item_id": r.item_id, "title": r.title, "decision": str(getattr(r.action, "value", r.action)),
                   "from_state": str(getattr(r.from_state, "value", r.from_state)),
                   "to_state": str(getattr(r.to_state, "value", r.to_state)), "reason": r.reason}
                  for r in result.results],
    }


def _cell(text: str) -> str:
    """Quoted text in a table cell: on one line, every Markdown character escaped."""
    return md_escape(text.replace("\n", " "))


def receipt_markdown(result: ReviewBatchResult, server: str) -> str:
    data = receipt_data(result, server)
    lines = [
        f"# Review decision receipt {md_escape(data['batch_id'])}",
        "",
        f"- **Actor:** {md_escape(data['actor'])} ({md_escape(data['actor_id'] or 'no user id')})",
        f"- **Time:** {utc(result.decided_at)} UTC ({data['decided_at']})",
        f"- **Server:** {md_escape(server)}",
        f"- **Items:** {data['count']}",
        "",
        "| # | Item | Title | Decision | State | Reason |",
        "|---|------|-------|----------|-------|--------|",
    ]
    for i, item in enumerate(data["items"], 1):
        lines.append(f"| {i} | {_cell(item['item_id'])} | {_cell(item['title'])} | {item['decision']} | "
                     f"{item['from_state']} → {item['to_state']} | {_cell(item['reason'])} |")
    return "\n".join(lines) + "\n"


def save_receipt(result: ReviewBatchResult, server: str, path: Path) -> tuple[Path, Path]:
    """Write ``path`` with ``.md`` and ``.json`` suffixes; returns both, as absolute paths
    (what the dialog says was saved is where the files are, whatever the working directory)."""
    path = path.expanduser().absolute()
    base = path.with_suffix("") if path.suffix in (".md", ".json") else path
    md, js = base.with_name(base.name + ".md"), base.with_name(base.name + ".json")
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text(receipt_markdown(result, server), encoding="utf-8")
    js.write_text(json.dumps(receipt_data(result, server), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return md, js
