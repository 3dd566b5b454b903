"""The layout cleanup is a real tidy: deterministic, idempotent, keeps text and
preformatted content, drops empty elements, and the project-update rendering is safe."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from crewos_tui.backend.local.services.artifacts.render import markdown_document
from crewos_tui.backend.local.services.artifacts.tidy import tidy_html, tidy_markdown

TAGS = ["div", "p", "span", "b", "ul", "li", "h2", "pre", "table", "tr", "td", "section", "br", "img", "a"]
fragment = st.recursive(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<>&"), max_size=12),
    lambda inner: st.builds(lambda tag, kids, close: f"<{tag}>{''.join(kids)}" + (f"</{tag}>" if close else ""),
                            st.sampled_from(TAGS), st.lists(inner, max_size=4), st.booleans()),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(fragment, max_size=5))
def test_tidying_is_idempotent_and_keeps_the_words(parts: list[str]) -> None:
    source = "".join(parts)
    once, _ = tidy_html(source)
    twice, changes = tidy_html(once)
    assert twice == once and changes == []

    def words(html: str) -> list[str]:
        return " ".join(re.sub(r"<[^>]*>", " ", html).split()).split()

    # Outside <pre>, only whitespace moves: every word survives, in order.
    if "<pre>" not in source:
        assert "".join(words(once)) == "".join(words(source))


def test_preformatted_text_and_scripts_are_kept_verbatim() -> None:
    source = "<div><pre>  a\n    b &lt; c</pre><script>if (a < b) { x(); }</script></div>"
    out, _ = tidy_html(source)
    assert "<pre>  a\n    b &lt; c</pre>" in out and "<script>if (a < b) { x(); }</script>" in out


def test_empty_elements_go_but_anchors_cells_and_voids_stay() -> None:
    out, changes = tidy_html('<div><p> </p><span></span><a id="top"></a><table><tr><td></td></tr></table>'
                             '<br><img src="x.png"></div>')
    assert "<p>" not in out and "<span>" not in out and changes[0] == "removed 2 empty elements"
    assert '<a id="top"></a>' in out and "<td></td>" in out and "<br>" in out and '<img src="x.png">' in out


def test_markdown_tidy_leaves_code_alone() -> None:
    out, _ = tidy_markdown("Intro\n# Head\n* one   \n\n\n\n```\n*  keep   \n```")
    assert out == "Intro\n\n# Head\n\n- one\n\n```\n*  keep   \n```\n"


def test_rendered_documents_escape_raw_html() -> None:
    page = markdown_document("Update <x>", "# Update\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<title>Update &lt;x&gt;</title>" in page and "<td>1</td>" in page
    assert tidy_html(page)[0] == page
