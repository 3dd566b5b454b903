"""Turning uploaded bytes into text, or refusing them clearly."""

from __future__ import annotations

import codecs
import mimetypes
from html.parser import HTMLParser
from pathlib import PurePosixPath

from ....errors import Invalid, UnsupportedMedia

TEXT_EXTENSIONS = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".rst": "text/x-rst",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".json": "application/json",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    ".xml": "application/xml",
    ".html": "text/html",
    ".htm": "text/html",
    ".log": "text/plain",
}
TEXT_TYPES = {"application/json", "application/xml", "application/yaml", "application/x-yaml", "application/toml"}


class _HTMLText(HTMLParser):
    """The visible text of an HTML page (scripts and styles dropped)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def clean_filename(filename: str) -> str:
    name = PurePosixPath(filename.replace("\\", "/")).name.strip()
    if not name or name in (".", ".."):
        raise Invalid("the document needs a file name")
    if len(name) > 255:
        raise Invalid("file name is longer than 255 characters")
    return name


def content_type_for(filename: str, declared: str | None) -> str:
    ext = PurePosixPath(filename).suffix.lower()
    if ext in TEXT_EXTENSIONS:
        return TEXT_EXTENSIONS[ext]
    declared = (declared or "").split(";")[0].strip().lower()
    if declared.startswith("text/") or declared in TEXT_TYPES:
        return declared
    guessed = mimetypes.guess_type(filename)[0] or declared or "application/octet-stream"
    if guessed.startswith("text/") or guessed in TEXT_TYPES:
        return guessed
    allowed = ", ".join(sorted(TEXT_EXTENSIONS))
    raise UnsupportedMedia(f"{filename}: {guessed} is not a supported text document (use one of {allowed})")


def extract_text(filename: str, content_type: str, content: bytes) -> str:
    """Decode as UTF-8 (or UTF-16 with a BOM); binary content is refused."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
        if b"\x00" in content:
            raise UnsupportedMedia(f"{filename}: the content is binary, not text")
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError:
        raise UnsupportedMedia(f"{filename}: the content is not UTF-8 text") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if content_type == "text/html":
        parser = _HTMLText()
        parser.feed(text)
        text = "".join(parser.parts)
        text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    return text


def clean_folder_path(path: str) -> str:
    """``/a//b/`` → ``a/b``; refuses ``..`` and empty paths."""
    parts = [p.strip() for p in path.replace("\\", "/").split("/") if p.strip()]
    if not parts:
        raise Invalid("folder path is empty")
    if any(p in (".", "..") for p in parts):
        raise Invalid("folder path may not contain '.' or '..'")
    if any(len(p) > 100 for p in parts) or len(parts) > 12:
        raise Invalid("folder path is too deep or a name is longer than 100 characters")
    return "/".join(parts)
