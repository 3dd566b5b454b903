"""Markdown → a standalone HTML document (agents write markdown; people open HTML).

Raw HTML inside the markdown is escaped, not passed through, so a generated page
can never carry a script. The result is already tidy (``tidy.tidy_html``)."""

from __future__ import annotations

import html

from .tidy import tidy_html

STYLE = ("body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
         "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem}")


def markdown_document(title: str, markdown: str) -> str:
    from markdown_it import (
        MarkdownIt,  # ships with Textual; only needed when a document is rendered
    )

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>{body}</body></html>")
    return tidy_html(page)[0]
