"""The validation scorer and its JSON Schema subset: deterministic, total over any input
size and encoding, and each check doing what its docstring says."""

from __future__ import annotations

import codecs
import json
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crewos_tui.backend.local.services.validation import item_output
from crewos_tui.backend.local.services.validation.json_schema import (
    SchemaError,
    check_schema,
    validate,
)
from crewos_tui.backend.local.services.validation.scorer import (
    find_citations,
    normalize,
    score_output,
)
from crewos_tui.backend.schemas import OutputFormat, ValidationRubric

FULL = ValidationRubric(required_sections=["Summary", "Risks"], min_chars=10, max_chars=5000, min_words=2,
                        max_words=800, require_citations=True, min_citations=1, forbidden_terms=["secret sauce"])
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=3000) | st.text(max_size=300)
fast = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(texts)
def test_any_text_gets_a_bounded_deterministic_score(text: str) -> None:
    first = score_output(text, FULL)
    second = score_output(text, FULL)
    assert first == second
    assert 0 <= first.score <= 100
    assert all(0 <= f.score <= 100 for f in first.findings)
    assert first.passed == (first.score >= FULL.threshold and not any(f.blocking and not f.passed
                                                                      for f in first.findings))


@fast
@given(st.text(max_size=2000), st.sampled_from(["utf-8", "utf-16", "utf-8-sig", "utf-32"]))
def test_the_encoding_of_the_output_does_not_change_its_score(text: str, encoding: str) -> None:
    # Whatever bytes carried it, the same text decodes to the same score and hash.
    roundtrip = text.encode(encoding).decode(encoding)
    assert score_output(roundtrip, FULL) == score_output(text, FULL)


@fast
@given(st.text(alphabet=st.characters(exclude_characters="\r\ufeff"), max_size=1500))
def test_line_endings_bom_and_unicode_forms_are_normalised(text: str) -> None:
    variants = [text.replace("\n", "\r\n"), "\ufeff" + text, unicodedata.normalize("NFD", text)]
    base = score_output(text, FULL)
    for v in variants:
        scored = score_output(v, FULL)
        assert (scored.score, scored.passed, scored.sha256) == (base.score, base.passed, base.sha256)


@fast
@given(st.integers(min_value=0, max_value=60_000))
def test_length_bounds_follow_the_size(size: int) -> None:
    rubric = ValidationRubric(min_chars=100, max_chars=10_000, forbidden_terms=[])
    scored = score_output("a" * size, rubric)
    (length,) = scored.findings
    assert scored.chars == size
    assert length.passed == (100 <= size <= 10_000)
    if size < 100:
        assert length.score == size  # size * 100 // 100
    elif size > 10_000:
        assert length.score == 10_000 * 100 // size


def test_lone_surrogates_and_nul_bytes_do_not_break_scoring() -> None:
    text = "## Summary\n\ud800 broken \x00 text [1]\n## Risks\nnone"
    scored = score_output(text, FULL)
    assert "\ufffd" in scored.text and scored.passed
    assert normalize("\r\nx\r") == "\nx\n"


def test_required_sections_in_markdown_bold_label_and_json() -> None:
    rubric = ValidationRubric(required_sections=["Summary", "Next steps", "Owner"], min_chars=None,
                              max_chars=None, forbidden_terms=[])
    md = "# Summary of the week\n**Next steps**\nOwner: Maya\n"
    assert score_output(md, rubric).findings[0].passed
    missing = score_output("# Summary\n", rubric).findings[0]
    assert missing.score == 33 and missing.details == ["missing section: Next steps", "missing section: Owner"]
    as_json = json.dumps({"summary": "x", "next steps": [], "OWNER": "m"})
    scored = score_output(as_json, rubric)
    assert scored.format == OutputFormat.json and scored.findings[0].passed


def test_forbidden_terms_match_whole_words_case_insensitively() -> None:
    rubric = ValidationRubric(forbidden_terms=["todo", "secret sauce"], min_chars=None, max_chars=None)
    assert score_output("Mastodon todos are fine", rubric).passed
    bad = score_output("Line one\nThe SECRET   sauce is TODO.", rubric)
    assert not bad.passed and bad.score == 0
    assert bad.findings[0].details == ["'todo' appears 1x (first on line 2)",
                                       "'secret sauce' appears 1x (first on line 2)"]


def test_citation_styles() -> None:
    text = ("See [1] and [docs](https://example.com/a). Also https://example.org/b, doi:10.1000/xyz123, "
            "(Okafor et al., 2021) and (Smith and Jones, 2020b).\nSources: interviews")
    found = find_citations(text)
    assert len(found) == 7
    assert score_output("No references here at all.", ValidationRubric(require_citations=True, min_citations=2,
                                                                       forbidden_terms=[])).findings[-1].score == 0


def test_weights_blocking_and_threshold() -> None:
    rubric = ValidationRubric(required_sections=["A", "B"], min_chars=None, max_chars=None,
                              forbidden_terms=["banned"], weights={"required_sections": 3}, threshold=60)
    scored = score_output("# A\ntext", rubric)
    assert [f.score for f in scored.findings] == [50, 100]
    assert scored.score == (3 * 50 + 100 + 2) // 4  # weighted mean, half up: 63
    assert scored.passed
    blocked = score_output("# A\n# B\nbanned", rubric)
    assert blocked.score == 75 and not blocked.passed  # forbidden_terms is blocking
    no_checks = ValidationRubric(min_chars=None, max_chars=None, forbidden_terms=[])
    assert score_output("", no_checks).score == 100 and score_output("", no_checks).findings == []


def test_item_output_prefers_text_fields() -> None:
    assert item_output({"output": "hello"}, "s") == ("hello", OutputFormat.auto)
    text, fmt = item_output({"a": 1}, "s")
    assert json.loads(text) == {"a": 1} and fmt == OutputFormat.json
    assert item_output(None, "the summary") == ("the summary", OutputFormat.auto)


# ---- the JSON Schema subset ----------------------------------------------------------------

SCHEMA = {
    "type": "object", "required": ["id", "tags"], "additionalProperties": False, "maxProperties": 4,
    "properties": {
        "id": {"type": "integer", "minimum": 1, "multipleOf": 1},
        "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}, "uniqueItems": True,
                 "minItems": 1, "maxItems": 3},
        "kind": {"enum": ["a", "b"]},
        "score": {"type": ["number", "null"], "exclusiveMaximum": 1},
        "meta": {"anyOf": [{"type": "string"}, {"type": "object", "minProperties": 1}]},
    },
}


@pytest.mark.parametrize(("instance", "errors"), [
    ({"id": 3, "tags": ["x"]}, []),
    ({"id": 3.0, "tags": ["x"], "score": None}, []),
    ({"id": 0, "tags": ["x"]}, ["$.id: less than the minimum 1"]),
    ({"id": True, "tags": ["x"]}, ["$.id: expected integer, got boolean"]),
    ({"tags": ["x", "x", "Y"]}, ["$: missing required property 'id'", "$.tags[2]: does not match pattern '^[a-z]+$'",
                                 "$.tags: items must be unique"]),
    ({"id": 1, "tags": [], "extra": 1}, ["$.tags: needs at least 1 items", "$: property 'extra' is not allowed"]),
    ({"id": 1, "tags": ["a"], "kind": "c"}, ['$.kind: must be one of "a", "b"']),
    ({"id": 1, "tags": ["a"], "score": 1}, ["$.score: must be less than 1"]),
    ({"id": 1, "tags": ["a"], "meta": {}}, ["$.meta: matches none of the anyOf schemas"]),
    ([1], ["$: expected object, got array"]),
])
def test_json_schema_subset(instance: object, errors: list[str]) -> None:
    check_schema(SCHEMA)
    assert validate(instance, SCHEMA) == errors


def test_one_of_not_and_const() -> None:
    schema = {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}], "not": {"const": 7}}
    assert validate(-1, schema) == []
    assert validate(3, schema) == ["$: matches 2 of the oneOf schemas (exactly one needed)"]
    assert validate(7.5, schema) == []
    assert validate(-7.5, schema) == ["$: matches 0 of the oneOf schemas (exactly one needed)"]
    assert "$: must not match the 'not' schema" in validate(7, {"not": {"const": 7}})


@pytest.mark.parametrize("schema", [
    {"$ref": "#/x"}, {"type": "whatever"}, {"properties": []}, {"pattern": "("}, {"minLength": -1},
    {"anyOf": []}, {"multipleOf": 0}, {"if": {}}, "not a schema",
])
def test_unsupported_or_malformed_schemas_are_refused(schema: object) -> None:
    with pytest.raises(SchemaError):
        check_schema(schema)


@fast
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                                max_size=4), max_leaves=20))
def test_the_empty_schema_and_true_accept_anything(instance: object) -> None:
    assert validate(instance, {}) == [] and validate(instance, True) == []
    assert validate(instance, False) == ["$: no value is allowed here"]


def test_bom_encoded_text_decodes_the_same() -> None:
    raw = codecs.BOM_UTF8 + b"## Summary\nok [1]\n## Risks\n-"
    assert score_output(raw.decode("utf-8"), FULL) == score_output(raw.decode("utf-8-sig"), FULL)
