"""Validation scoring on both backends: validate, logs, config."""

from __future__ import annotations

import pytest

from crewos_tui.backend import errors
from crewos_tui.backend.schemas import ValidationRequest, ValidationRubric

from .review_support import review_team, user

REPORT = """# Weekly update

## Summary
Beta shipped on time [1].

## Risks
Pilot availability (Okafor, 2024).

Sources: https://example.com/beta-notes
"""


async def test_config_returns_the_defaults(world):
    b = await world.as_(await user(world))
    config = await b.validation.config()
    assert config.defaults == ValidationRubric().model_dump(mode="json")
    assert set(config.checks) == {"required_sections", "length", "forbidden_terms", "citations", "json_schema"}
    assert "required" in config.json_schema_keywords and "$ref" not in config.json_schema_keywords
    assert config.max_output_chars >= 100_000


async def test_a_good_output_passes_with_findings_per_check(world):
    b = await world.as_(await user(world))
    rubric = ValidationRubric(required_sections=["Summary", "Risks"], require_citations=True, min_citations=2,
                              threshold=80)
    result = await b.validation.validate(ValidationRequest(output=REPORT, rubric=rubric, label="weekly"))
    assert result.passed and result.score == 100 and result.threshold == 80
    assert {f.check: f.passed for f in result.findings} == {
        "required_sections": True, "length": True, "forbidden_terms": True, "citations": True}
    assert result.format == "markdown" and result.output_chars == len(REPORT) and result.label == "weekly"
    again = await b.validation.validate(ValidationRequest(output=REPORT, rubric=rubric))
    assert (again.score, again.output_sha256) == (result.score, result.output_sha256)  # deterministic


async def test_a_bad_output_fails_and_names_why(world):
    b = await world.as_(await user(world))
    rubric = ValidationRubric(required_sections=["Summary", "Next steps"], max_chars=50)
    result = await b.validation.validate(ValidationRequest(
        output="## Summary\nAs an AI language model I cannot say. Lorem ipsum dolor sit amet, again and again.",
        rubric=rubric))
    assert not result.passed
    by = {f.check: f for f in result.findings}
    assert by["required_sections"].score == 50 and "missing section: Next steps" in by["required_sections"].details
    assert not by["length"].passed and "more than the maximum 50" in by["length"].details[0]
    assert by["forbidden_terms"].blocking and by["forbidden_terms"].score == 0
    assert any("lorem ipsum" in d for d in by["forbidden_terms"].details)


async def test_json_outputs_against_a_schema(world):
    b = await world.as_(await user(world))
    schema = {"type": "object", "required": ["title", "tasks"],
              "properties": {"title": {"type": "string", "minLength": 3},
                             "tasks": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
              "additionalProperties": False}
    rubric = ValidationRubric(json_schema=schema, min_chars=None)
    ok = await b.validation.validate(ValidationRequest(output='{"title": "Beta", "tasks": ["docs"]}', rubric=rubric))
    assert ok.passed and ok.format == "json"
    bad = await b.validation.validate(ValidationRequest(output='{"title": "B", "tasks": [], "x": 1}', rubric=rubric))
    finding = next(f for f in bad.findings if f.check == "json_schema")
    assert not bad.passed and not finding.passed and len(finding.details) == 3
    broken = await b.validation.validate(ValidationRequest(output="{not json", rubric=rubric))
    assert not broken.passed and "not valid JSON" in broken.findings[-1].message
    with pytest.raises(errors.Invalid, match=r"\$ref"):
        await b.validation.validate(ValidationRequest(output="{}", rubric=ValidationRubric(
            json_schema={"$ref": "#/defs/x"})))


async def test_validate_a_review_item_and_read_the_logs(world):
    t = await review_team(world)
    item = await t.submit("report", payload={"output": REPORT})
    result = await t.reviewer_b.validation.validate(ValidationRequest(
        item_id=item.id, rubric=ValidationRubric(required_sections=["Summary"])))
    assert result.passed and result.item_id == item.id and result.project_id == t.project_id
    assert result.source == "review" and result.actor == t.reviewer.username
    logs = await t.owner_b.validation.logs(item_id=item.id)  # same project: visible to its members
    assert [r.id for r in logs.items] == [result.id]
    assert (await t.reviewer_b.validation.logs(passed=False, item_id=item.id)).items == []
    stranger = await world.as_(await user(world))
    assert result.id not in [r.id for r in (await stranger.validation.logs()).items]
    with pytest.raises(errors.NotFound):
        await stranger.validation.validate(ValidationRequest(item_id=item.id))


async def test_every_run_is_logged_and_pages_newest_first(world):
    b = await world.as_(await user(world))
    ids = [(await b.validation.validate(ValidationRequest(output=f"output number {i} " * 5))).id for i in range(3)]
    first = await b.validation.logs(limit=2)
    assert [r.id for r in first.items] == ids[::-1][:2] and first.next_cursor
    rest = await b.validation.logs(limit=2, cursor=first.next_cursor)
    assert [r.id for r in rest.items] == [ids[0]]


async def test_bad_validation_input(world):
    b = await world.as_(await user(world))
    with pytest.raises(errors.Invalid, match="output"):
        await b.validation.validate(ValidationRequest())
    with pytest.raises(errors.PayloadTooLarge):
        await b.validation.validate(ValidationRequest(output="x" * 1_000_001))
    with pytest.raises(errors.NotFound):
        await b.validation.validate(ValidationRequest(item_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"))
