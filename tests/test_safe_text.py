"""The one rule for displayed and exported text (``backend/text_safety.py`` and
``widgets/safe_text.py``): controls visible, markup never parsed, Markdown quoted,
CSV cells never formulas."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text
from textual.content import Content

from crewos_tui.backend.local.services.admin.audit import csv_row, csv_text
from crewos_tui.backend.schemas.audit import AUDIT_CSV_COLUMNS
from crewos_tui.backend.text_safety import csv_safe, md_escape, visible
from crewos_tui.widgets.safe_text import literal, safe, safe_markdown, safe_renderable, visible_source

BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u2028\u2029")


def forbidden(ch: str, multiline: bool) -> bool:
    code = ord(ch)
    if multiline and ch in "\n\t":
        return False
    return code < 0x20 or 0x7F <= code < 0xA0 or ch in BIDI


@given(st.text(), st.booleans())
def test_visible_leaves_no_control_escape_or_bidi_character(text: str, multiline: bool) -> None:
    out = visible(text, multiline)
    assert len(out) == len(text)  # one for one: spans of a styled Text stay put
    assert not [c for c in out if forbidden(c, multiline)]
    for before, after in zip(text, out, strict=True):
        if not forbidden(before, multiline):
            assert before == after  # printable text is unchanged


@given(st.text())
def test_a_source_for_the_editor_keeps_only_its_line_breaks_and_tabs(text: str) -> None:
    out = visible_source(text)
    assert len(out) == len(text)
    assert out.split("\r\n") == [visible(part, multiline=True) for part in text.split("\r\n")]
    assert not [c for c in out.replace("\r\n", "") if forbidden(c, multiline=True)]


def test_a_source_keeps_crlf_and_shows_a_lone_cr() -> None:
    assert visible_source("a\r\nb\tc\rd\x1b[2J\n") == "a\r\nb\tc␍d␛[2J\n"


def test_escapes_become_their_pictures() -> None:
    assert visible("\x1b[2J") == "␛[2J"
    assert visible("\x1b]52;c;SGVsbG8=\x07") == "␛]52;c;SGVsbG8=␇"
    assert visible("a\nb\tc") == "a␊b␉c" and visible("a\nb\tc", multiline=True) == "a\nb\tc"
    assert visible("\x7f\x9b\u202eevil\x00") == "␡⍰\ufffdevil␀"
    assert visible("x [/] [@click=app.quit]Q[/] ünïcødé 漢字 🙂") == "x [/] [@click=app.quit]Q[/] ünïcødé 漢字 🙂"


def test_literal_never_parses_markup() -> None:
    text = literal("x [/] [@click=app.quit]Q[/] [link=http://e.x]L[/link] \x1b[2J")
    assert isinstance(text, Text)
    assert text.plain == "x [/] [@click=app.quit]Q[/] [link=http://e.x]L[/link] ␛[2J"
    assert not text.spans


def test_safe_renderable_keeps_styles_and_cleans_every_kind() -> None:
    styled = Text.assemble(("\x1b[2Jtitle", "bold"), " rest\n")
    cleaned = safe_renderable(styled)
    assert cleaned.plain == "␛[2Jtitle rest␊" and cleaned.spans == styled.spans
    assert styled.plain.startswith("\x1b")  # the original is not changed
    assert safe(Text("a\nb")).plain == "a\nb"
    content = safe_renderable(Content.assemble(("\u202eevil", "red")))
    assert isinstance(content, Content) and content.plain == "\ufffdevil" and list(content.spans)
    assert safe_renderable(42) == 42
    assert safe_markdown("# hi\n\x1b[2J") == "# hi\n␛[2J"


def test_md_escape_quotes_markdown() -> None:
    assert md_escape("[link](http://e.x) *b* _i_ `c` <b>x</b> | ~s~ & !") == (
        r"\[link\](http://e.x) \*b\* \_i\_ \`c\` \<b\>x\</b\> \| \~s\~ \& \!")
    assert md_escape("# not a heading") == r"\# not a heading"
    assert md_escape("- not a list") == r"\- not a list"
    assert md_escape("1. not a list") == r"1\. not a list"
    assert md_escape("line\nbreak \x1b[2J") == "line␊break ␛\\[2J"
    assert md_escape("What can I do here?") == "What can I do here?"


@given(st.text())
def test_csv_safe_never_leaves_a_formula_start(value: str) -> None:
    out = csv_safe(value)
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert out in (value, "'" + value)


def test_csv_safe_prefixes_formulas_only() -> None:
    assert csv_safe('=HYPERLINK("http://e.x","x")') == '\'=HYPERLINK("http://e.x","x")'
    assert [csv_safe(v) for v in ("+1", "-1", "@SUM(A1)", "\tx", "\rx")] == ["'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx"]
    assert csv_safe("plain") == "plain" and csv_safe(-5) == -5 and csv_safe("") == ""


def test_audit_csv_rows_are_neutralised() -> None:
    row: list[object] = ["x"] * len(AUDIT_CSV_COLUMNS)
    row[0] = 7
    row[AUDIT_CSV_COLUMNS.index("created_at")] = datetime(2026, 3, 2, 9, 7, tzinfo=UTC)
    row[AUDIT_CSV_COLUMNS.index("summary")] = "=cmd|'/C calc'!A0"
    row[AUDIT_CSV_COLUMNS.index("actor")] = "@evil"
    parsed = next(csv.reader(io.StringIO(csv_text([csv_row(row)]))))
    record = dict(zip(AUDIT_CSV_COLUMNS, parsed, strict=True))
    assert record["summary"] == "'=cmd|'/C calc'!A0" and record["actor"] == "'@evil"
    assert record["seq"] == "7" and record["resource_id"] == "x"


def test_a_receipt_quotes_titles_and_reasons() -> None:
    from types import SimpleNamespace

    from crewos_tui.widgets.review_receipt import receipt_markdown

    item = SimpleNamespace(item_id="01J", title="[x](http://e.x) | **b**\n\x1b[2J", action="approve",
                           from_state="pending", to_state="approved", reason="<img src=x>")
    result = SimpleNamespace(batch_id="B1", actor="@maya", actor_id=None, results=[item],
                             decided_at=datetime(2026, 3, 2, 9, 7, tzinfo=UTC))
    md = receipt_markdown(result, "local")  # type: ignore[arg-type]
    row = next(line for line in md.splitlines() if line.startswith("| 1 |"))
    assert r"\[x\](http://e.x) \| \*\*b\*\* ␛\[2J" in row and r"\<img src=x\>" in row
    assert "\x1b" not in md and row.count(" | ") == 5  # the cells stay in their columns


def test_every_markdown_the_app_builds_leaves_links_to_the_app() -> None:
    """A Textual ``Markdown`` opens a clicked link itself unless ``open_links=False``;
    then ``CrewOSApp.on_markdown_link_clicked`` asks first. A Rich ``Markdown`` writes
    terminal hyperlinks unless ``hyperlinks=False``. Every one the package builds says so."""
    import ast
    from pathlib import Path

    import crewos_tui

    wanted = {"textual.widgets": ("open_links", False), "rich.markdown": ("hyperlinks", False)}
    seen = 0
    for path in Path(crewos_tui.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.asname or alias.name: wanted[node.module]
                 for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module in wanted
                 for alias in node.names if alias.name in ("Markdown", "MarkdownViewer")}
        names.update({node.name: names[base.id] for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
                      for base in node.bases if isinstance(base, ast.Name) and base.id in names})  # subclasses
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
                keyword, value = names[node.func.id]
                given = {k.arg: k.value for k in node.keywords}.get(keyword)
                assert isinstance(given, ast.Constant) and given.value is value, \
                    f"{path}:{node.lineno}: {node.func.id}(... {keyword}={value})"
                seen += 1
    assert seen >= 8  # the chat log, knowledge, agents, sessions, the jobs panel's two, review preview and receipt
