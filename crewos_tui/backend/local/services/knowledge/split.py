"""Documents → sections (future entries), by format.

- **markdown**: one section per heading (ATX ``#`` and setext underlines; headings in
  fenced code are text), titled by the heading, with the heading path kept; text
  before the first heading is titled by the file name.
- **text**: paragraphs, grouped up to the size limit.
- **html**: the visible text with headings kept as headings, then as markdown.
- **csv / tsv**: with a ``title`` or ``name`` column one entry per row, otherwise rows
  grouped up to the size limit; each row as ``column: value`` lines.
- **json**: a list → one entry per item; an object → one entry per key.

Any section longer than ``max_chars`` is cut at paragraph (then word) boundaries into
numbered parts. Decoding refuses binary content (415) rather than guessing.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePosixPath

from ....errors import Invalid, UnsupportedMedia

FORMATS = {
    ".md": "markdown", ".markdown": "markdown", ".mdown": "markdown",
    ".txt": "text", ".text": "text", ".log": "text", ".rst": "text",
    ".html": "html", ".htm": "html",
    ".csv": "csv", ".tsv": "tsv",
    ".json": "json",
}
CONTENT_TYPES = {"markdown": "text/markdown", "text": "text/plain", "html": "text/html", "csv": "text/csv",
                 "tsv": "text/tab-separated-values", "json": "application/json"}
_BY_TYPE = {"text/markdown": "markdown", "text/x-markdown": "markdown", "text/plain": "text", "text/html": "html",
            "text/csv": "csv", "text/tab-separated-values": "tsv", "application/json": "json"}
MAX_SECTIONS = 50_000


@dataclass
class Section:
    title: str
    body: str
    path: str = ""  # heading path: "Guide › Install › Linux"


def detect_format(filename: str, content_type: str | None = None) -> str:
    ext = PurePosixPath(filename).suffix.lower()
    if ext in FORMATS:
        return FORMATS[ext]
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared in _BY_TYPE:
        return _BY_TYPE[declared]
    known = ", ".join(sorted(FORMATS))
    raise UnsupportedMedia(f"{filename}: not a format the knowledge base ingests (use one of {known})")


def decode(filename: str, raw: bytes) -> str:
    """UTF-8 (or UTF-16 with a BOM) text; binary content is refused."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
        if b"\x00" in raw:
            raise UnsupportedMedia(f"{filename}: the content is binary, not text")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise UnsupportedMedia(f"{filename}: the content is not UTF-8 text") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def stem(filename: str) -> str:
    name = PurePosixPath(filename).stem.replace("_", " ").replace("-", " ").strip()
    return name[:1].upper() + name[1:] if name else filename


# ---- size limits ---------------------------------------------------------------------------------


def _cut(text: str, max_chars: int) -> list[str]:
    """``text`` in pieces of at most ``max_chars``, cut between paragraphs, else words."""
    if len(text) <= max_chars:
        return [text]
    pieces: list[str] = []
    current = ""
    for para in re.split(r"\n\s*\n", text):
        para = para.strip("\n")
        while len(para) > max_chars:  # one huge paragraph: cut at the last space that fits
            at = para.rfind(" ", 0, max_chars)
            at = at if at > max_chars // 2 else max_chars
            if current:
                pieces.append(current)
                current = ""
            pieces.append(para[:at].rstrip())
            para = para[at:].lstrip()
        candidate = f"{current}\n\n{para}" if current else para
        if len(candidate) > max_chars and current:
            pieces.append(current)
            current = para
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return pieces


def _sized(sections: list[Section], max_chars: int) -> list[Section]:
    out: list[Section] = []
    for sec in sections:
        parts = _cut(sec.body, max_chars)
        if len(parts) == 1:
            out.append(sec)
            continue
        for i, part in enumerate(parts, 1):
            out.append(Section(f"{sec.title} (part {i} of {len(parts)})", part, sec.path))
    if len(out) > MAX_SECTIONS:
        raise Invalid(f"the document splits into {len(out)} entries; the limit is {MAX_SECTIONS} "
                      "(raise max_chars or split the file)")
    return out


# ---- markdown ----------------------------------------------------------------------------------

_ATX = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")


def split_markdown(text: str, filename: str) -> list[Section]:
    lines = text.split("\n")
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    title, body = stem(filename), []
    path = ""
    fence: str | None = None

    def close() -> None:
        content = "\n".join(body).strip("\n")
        if content.strip():
            sections.append(Section(title, content, path))

    i = 0
    while i < len(lines):
        line = lines[i]
        fence_match = _FENCE.match(line)
        if fence is not None:
            if fence_match and fence_match.group(1)[0] == fence[0] and len(fence_match.group(1)) >= len(fence):
                fence = None
            body.append(line)
            i += 1
            continue
        if fence_match:
            fence = fence_match.group(1)
            body.append(line)
            i += 1
            continue
        heading = _ATX.match(line)
        level, name = (len(heading.group(1)), heading.group(2)) if heading else (0, "")
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if not heading and line.strip() and _SETEXT.match(nxt) and not line.lstrip().startswith(("-", "*", ">", "|")) \
                and (not body or not body[-1].strip()):
            level, name = (1 if nxt.strip().startswith("=") else 2), line.strip()
            i += 1  # the underline
        if level:
            close()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, name or "Untitled"))
            title, body, path = name or "Untitled", [], " › ".join(n for _, n in stack)
        else:
            body.append(line)
        i += 1
    close()
    return sections


# ---- plain text, html --------------------------------------------------------------------------


def split_text(text: str, filename: str, max_chars: int) -> list[Section]:
    parts = _cut(text.strip(), max_chars)
    name = stem(filename)
    if len(parts) == 1:
        return [Section(name, parts[0])] if parts[0].strip() else []
    return [Section(f"{name} (part {i} of {len(parts)})", p) for i, p in enumerate(parts, 1)]


_BLOCK = {"p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "table", "tr", "ul", "ol",
          "blockquote", "pre", "figure", "br", "hr", "dl", "dt", "dd"}


class _HTMLToMarkdown(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False
        self._heading = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style", "template", "noscript"):
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = int(tag[1])
            self.out.append("\n\n" + "#" * self._heading + " ")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in ("td", "th"):
            self.out.append(" | ")
        elif tag in _BLOCK:
            self.out.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "noscript") and self._skip:
            self._skip -= 1
        elif tag == "title":
            self._in_title = False
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = 0
            self.out.append("\n\n")
        elif tag in _BLOCK:
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
            return
        text = re.sub(r"\s+", " ", data)  # inline whitespace is one space, not nothing
        if self.out and self.out[-1].endswith((" ", "\n")):
            text = text.lstrip(" ")
        if text:
            self.out.append(text)


def html_to_markdown(text: str) -> tuple[str, str]:
    """(markdown-ish text, the page title)."""
    parser = _HTMLToMarkdown()
    parser.feed(text)
    parser.close()
    md = "".join(parser.out)
    md = re.sub(r"[ \t]+\n", "\n", md)
    md = re.sub(r"\n[ \t]+", "\n", md)
    md = re.sub(r"\n{3,}", "\n\n", md).strip()
    return md, " ".join(parser.title.split())


# ---- csv, json ---------------------------------------------------------------------------------


def _row_text(header: list[str], row: list[str]) -> str:
    return "\n".join(f"- {h or f'column {i + 1}'}: {v}" for i, (h, v) in enumerate(zip(header, row, strict=False))
                     if v.strip())


def split_table(text: str, filename: str, max_chars: int, delimiter: str) -> list[Section]:
    try:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise Invalid(f"{filename}: not readable as {'TSV' if delimiter == chr(9) else 'CSV'}: {exc}") from None
    if not rows:
        return []
    header, data = [h.strip() for h in rows[0]], rows[1:]
    lowered = [h.lower() for h in header]
    name = stem(filename)
    key = next((lowered.index(k) for k in ("title", "name") if k in lowered), None)
    if key is not None:
        return [Section(row[key].strip() if key < len(row) and row[key].strip() else f"{name} row {n}",
                        _row_text(header, row)) for n, row in enumerate(data, 1)]
    sections: list[Section] = []
    chunk: list[str] = []
    first = 1
    for n, row in enumerate(data, 1):
        text_row = f"Row {n}\n{_row_text(header, row)}"
        if chunk and sum(len(c) for c in chunk) + len(text_row) > max_chars:
            sections.append(Section(f"{name} rows {first}–{n - 1}", "\n\n".join(chunk)))
            chunk, first = [], n
        chunk.append(text_row)
    if chunk:
        sections.append(Section(f"{name} rows {first}–{len(data)}", "\n\n".join(chunk)))
    return sections


def _json_body(value: object) -> str:
    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            if isinstance(v, dict | list):
                lines.append(f"- {k}: {json.dumps(v, ensure_ascii=False, sort_keys=True)}")
            else:
                lines.append(f"- {k}: {v}")
        return "\n".join(lines)
    if isinstance(value, list):
        return "\n".join(f"- {json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v}" for v in value)
    return str(value)


def split_json(text: str, filename: str) -> list[Section]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise Invalid(f"{filename}: not valid JSON ({exc})") from None
    name = stem(filename)
    if isinstance(data, list):
        out = []
        for n, item in enumerate(data, 1):
            title = f"{name} [{n}]"
            if isinstance(item, dict):
                label = next((item[k] for k in ("title", "name", "id", "key") if isinstance(item.get(k), str | int)),
                             None)
                title = str(label) if label is not None else title
            out.append(Section(title, _json_body(item)))
        return out
    if isinstance(data, dict):
        return [Section(str(k), _json_body(v) if isinstance(v, dict | list) else str(v)) for k, v in data.items()]
    return [Section(name, str(data))]


# ---- the entry point ---------------------------------------------------------------------------------


def split_document(fmt: str, text: str, filename: str, max_chars: int) -> list[Section]:
    if fmt == "markdown":
        sections = split_markdown(text, filename)
    elif fmt == "html":
        md, title = html_to_markdown(text)
        sections = split_markdown(md, title or filename)
    elif fmt == "csv":
        sections = split_table(text, filename, max_chars, ",")
    elif fmt == "tsv":
        sections = split_table(text, filename, max_chars, "\t")
    elif fmt == "json":
        sections = split_json(text, filename)
    else:
        sections = split_text(text, filename, max_chars)
    return _sized(sections, max_chars)
