"""Layout cleanup: a real, deterministic tidy for HTML (and markdown) sources.

HTML is parsed into a tree (lenient about unclosed tags, like browsers are) and
written back out:

- block elements each on their own line, indented two spaces per level; inline
  elements and text flow inside their block with whitespace collapsed;
- ``pre``, ``textarea``, ``script`` and ``style`` keep their content byte for byte;
- empty elements are dropped (no text, no children left), repeatedly, except void
  elements (``br``, ``img``, ...), table cells, elements with an ``id`` or ``name``
  (anchors) and media/embed elements whose content is not text;
- tag and attribute names lower-cased, attribute values double-quoted and escaped,
  unclosed elements closed, stray end tags dropped.

Tidying tidy output changes nothing (idempotent). Markdown gets the equivalent:
trailing spaces off, one blank line between blocks, a blank line around headings,
``*``/``+`` bullets as ``-``, fenced code untouched.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                  "track", "wbr"})
RAW = frozenset({"pre", "textarea", "script", "style"})
KEEP_EMPTY = frozenset({"td", "th", "tr", "iframe", "canvas", "video", "audio", "object", "svg", "textarea",
                        "script", "style", "html", "head", "body", "title", "option"})
BLOCK = frozenset({
    "html", "head", "body", "title", "meta", "link", "style", "script", "header", "footer", "main", "nav",
    "section", "article", "aside", "div", "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt",
    "dd", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col", "blockquote", "pre",
    "figure", "figcaption", "form", "fieldset", "legend", "hr", "address", "details", "summary", "noscript",
    "template", "base", "textarea", "iframe", "video", "audio", "canvas", "svg", "object", "select", "option",
})
#: Opening one of these closes an open element of the key's kind first (implied end tags).
CLOSES = {
    "p": {"p"}, "li": {"li"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"}, "tr": {"tr", "td", "th"},
    "td": {"td", "th"}, "th": {"td", "th"}, "option": {"option"},
}
P_CLOSERS = BLOCK - {"span"} - {"title", "meta", "link", "base"}
INDENT = "  "


@dataclass
class Node:
    tag: str  # "" for text, "!" for a comment, "!doctype" for the declaration
    attrs: list[tuple[str, str | None]] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    text: str = ""


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # text arrives unescaped; we escape it on the way out
        self.root = Node("#root")
        self.stack = [self.root]
        self.closed_for_you = 0

    @property
    def top(self) -> Node:
        return self.stack[-1]

    def _close_to(self, tag: str) -> None:
        while len(self.stack) > 1:
            node = self.stack.pop()
            if node.tag == tag:
                return
            self.closed_for_you += 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        implied = CLOSES.get(tag, set())
        if tag in P_CLOSERS:
            implied = implied | {"p"}
        while len(self.stack) > 1 and self.top.tag in implied:  # <tr><p><tr>: the p and the tr end
            self.stack.pop()
        node = Node(tag, [(k.lower(), v) for k, v in attrs])
        self.top.children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag.lower() not in VOID and self.top.tag == tag.lower():
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if any(n.tag == tag for n in self.stack[1:]):
            self._close_to(tag)
        # a stray end tag (nothing open to close) is dropped

    def handle_data(self, data: str) -> None:
        self.top.children.append(Node("", text=data))

    def handle_comment(self, data: str) -> None:
        self.top.children.append(Node("!", text=data))

    def handle_decl(self, decl: str) -> None:
        self.top.children.append(Node("!doctype", text=decl))

    def unknown_decl(self, data: str) -> None:  # CDATA and the like: keep as text
        self.top.children.append(Node("", text=f"<![{data}]>"))


def _attrs(node: Node) -> str:
    out = []
    for key, value in node.attrs:  # the parser has unescaped values already
        out.append(key if value is None else f'{key}="{html.escape(value, quote=True)}"')
    return (" " + " ".join(out)) if out else ""


def _is_empty(node: Node) -> bool:
    if node.tag in ("", "!", "!doctype") or node.tag in VOID or node.tag in KEEP_EMPTY:
        return False
    if any(k in ("id", "name") for k, _ in node.attrs):
        return False
    return not any(c.tag or c.text.strip() for c in node.children)


def _prune(node: Node) -> int:
    """Drop empty elements, bottom-up; how many went."""
    removed = 0
    if node.tag in RAW:
        return 0
    for child in node.children:
        removed += _prune(child)
    kept = [c for c in node.children if not _is_empty(c)]
    removed += len(node.children) - len(kept)
    node.children = kept
    return removed


def _flow(nodes: list[Node]) -> str:
    """Inline content with whitespace runs collapsed (not stripped: spaces between words matter)."""
    out = ""
    for n in nodes:
        if n.tag == "":
            piece = re.sub(r"\s+", " ", html.escape(n.text, quote=False))
        elif n.tag == "!":
            piece = f"<!--{n.text}-->"
        elif n.tag in VOID:
            piece = f"<{n.tag}{_attrs(n)}>"
        elif n.tag in RAW:
            piece = _verbatim(n)
        else:
            piece = f"<{n.tag}{_attrs(n)}>{_flow(n.children)}</{n.tag}>"
        if out.endswith(" ") and piece.startswith(" "):
            piece = piece[1:]
        out += piece
    return out


def _inline(nodes: list[Node]) -> str:
    return _flow(nodes).strip()


def _verbatim(node: Node) -> str:
    """An element whose whitespace is content (pre, textarea) or whose text is code (script, style)."""
    if node.tag in VOID:
        return f"<{node.tag}{_attrs(node)}>"
    parts = []
    for c in node.children:
        if c.tag == "":
            parts.append(c.text if node.tag in ("script", "style") else html.escape(c.text, quote=False))
        elif c.tag == "!":
            parts.append(f"<!--{c.text}-->")
        else:
            parts.append(_verbatim(c))
    return f"<{node.tag}{_attrs(node)}>{''.join(parts)}</{node.tag}>"


def _has_block(node: Node) -> bool:
    return any(c.tag in BLOCK or c.tag in ("!doctype",) for c in node.children)


def _emit(node: Node, depth: int, out: list[str]) -> None:
    pad = INDENT * depth
    if node.tag in RAW:
        out.append(pad + _verbatim(node))
        return
    if node.tag in VOID:
        out.append(f"{pad}<{node.tag}{_attrs(node)}>")
        return
    if not _has_block(node):
        out.append(f"{pad}<{node.tag}{_attrs(node)}>{_inline(node.children)}</{node.tag}>")
        return
    out.append(f"{pad}<{node.tag}{_attrs(node)}>")
    _emit_children(node.children, depth + 1, out)
    out.append(f"{pad}</{node.tag}>")


def _emit_children(children: list[Node], depth: int, out: list[str]) -> None:
    run: list[Node] = []  # inline content between blocks becomes one line

    def flush() -> None:
        text = _inline(run)
        if text:
            out.append(INDENT * depth + text)
        run.clear()

    for child in children:
        if child.tag == "!doctype":
            flush()
            out.append(f"<!{child.text}>")
        elif child.tag in BLOCK:
            flush()
            _emit(child, depth, out)
        elif child.tag == "!" and not run:
            out.append(f"{INDENT * depth}<!--{child.text}-->")
        else:
            run.append(child)
    flush()


def tidy_html(source: str) -> tuple[str, list[str]]:
    """The tidied HTML and what changed, in words."""
    builder = _TreeBuilder()
    builder.feed(source)
    builder.close()
    removed = _prune(builder.root)
    lines: list[str] = []
    _emit_children(builder.root.children, 0, lines)
    result = "\n".join(lines).strip() + "\n"
    changes = []
    if removed:
        changes.append(f"removed {removed} empty element{'s' if removed != 1 else ''}")
    if builder.closed_for_you or len(builder.stack) > 1:
        count = builder.closed_for_you + len(builder.stack) - 1
        changes.append(f"closed {count} unclosed element{'s' if count != 1 else ''}")
    if result != source:
        changes.append("normalised whitespace and indentation")
    return result, changes


# ---- markdown ---------------------------------------------------------------------------------

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_BULLET = re.compile(r"^(\s*)[*+](\s+)")


def tidy_markdown(source: str) -> tuple[str, list[str]]:
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    fence: str | None = None
    for line in lines:
        m = _FENCE.match(line)
        if fence is not None:
            out.append(line)
            if m and m.group(1)[0] == fence[0]:
                fence = None
            continue
        if m:
            fence = m.group(1)
            out.append(line.rstrip())
            continue
        line = _BULLET.sub(r"\1-\2", line.rstrip())
        if _HEADING.match(line):
            if out and out[-1] != "":
                out.append("")
            out.extend([line.strip(), ""])
            continue
        if line == "" and out and out[-1] == "":
            continue
        out.append(line)
    result = "\n".join(out).strip("\n") + "\n"
    return result, (["normalised blank lines, bullets and trailing spaces"] if result != source else [])
