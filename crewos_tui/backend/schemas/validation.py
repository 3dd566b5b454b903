"""Validation scoring: a rubric of deterministic checks, results, and the run log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from .common import MAX_SQL_INT, Id, Request, Wire
from .text import ONE_LINE

__all__ = [
    "CheckName",
    "OutputFormat",
    "ValidationConfig",
    "ValidationFinding",
    "ValidationRequest",
    "ValidationResult",
    "ValidationRubric",
]

#: The largest output the scorer reads (characters); more is refused with 413.
MAX_OUTPUT_CHARS = 1_000_000

Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE]


class CheckName(StrEnum):
    required_sections = "required_sections"
    length = "length"
    forbidden_terms = "forbidden_terms"
    citations = "citations"
    json_schema = "json_schema"


class OutputFormat(StrEnum):
    auto = "auto"  # JSON when the text parses as a JSON object or array, else markdown
    markdown = "markdown"
    text = "text"
    json = "json"


class ValidationRubric(Request):
    """Which checks run and how they count. Unset fields take the defaults shown by
    ``GET /validation/config``; a check with nothing configured does not run."""

    required_sections: list[Term] = Field(default_factory=list, max_length=50)
    min_chars: Annotated[int, Field(ge=0, le=MAX_SQL_INT)] | None = 20
    max_chars: Annotated[int, Field(ge=1, le=MAX_SQL_INT)] | None = 20_000
    min_words: Annotated[int, Field(ge=0, le=MAX_SQL_INT)] | None = None
    max_words: Annotated[int, Field(ge=1, le=MAX_SQL_INT)] | None = None
    forbidden_terms: list[Term] = Field(
        default_factory=lambda: ["lorem ipsum", "as an ai language model", "TODO"], max_length=200)
    require_citations: bool = False
    min_citations: Annotated[int, Field(ge=1, le=1000)] = 1
    #: Validate a JSON output against this schema (the subset in ``GET /validation/config``).
    json_schema: dict[str, Any] | None = None
    #: The output must be JSON even without a schema.
    expect_json: bool = False
    #: Pass mark for the weighted score (0-100).
    threshold: Annotated[int, Field(ge=0, le=100)] = 70
    #: Weight of each check in the score (1-10); unnamed checks weigh 1.
    weights: dict[CheckName, Annotated[int, Field(ge=1, le=10)]] = Field(default_factory=dict[CheckName, int])
    #: Checks whose failure fails the output whatever the score.
    blocking: list[CheckName] = Field(
        default_factory=lambda: [CheckName.forbidden_terms, CheckName.json_schema])

    @model_validator(mode="after")
    def _bounds(self) -> ValidationRubric:
        if self.min_chars is not None and self.max_chars is not None and self.min_chars > self.max_chars:
            raise ValueError("min_chars is larger than max_chars")
        if self.min_words is not None and self.max_words is not None and self.min_words > self.max_words:
            raise ValueError("min_words is larger than max_words")
        return self


class ValidationRequest(Request):
    #: The output to score; omit it to score a review item's payload (``item_id``).
    output: str | None = None
    item_id: Id | None = None
    project_id: Id | None = None
    rubric: ValidationRubric | None = None
    #: Without a rubric: the agent whose prompt standard applies (default: the review
    #: item's ``payload.agent``), on top of the pipeline policy's threshold.
    agent: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                     ONE_LINE] | None = None
    format: OutputFormat = OutputFormat.auto
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), ONE_LINE] = ""


class ValidationFinding(Wire):
    check: CheckName
    passed: bool
    score: int  # 0-100
    weight: int
    blocking: bool = False
    message: str
    details: list[str] = Field(default_factory=list)


class ValidationResult(Wire):
    """One scored output; every run is kept and listed by ``GET /validation/logs``."""

    id: str
    score: int
    passed: bool
    threshold: int
    findings: list[ValidationFinding]
    format: OutputFormat
    output_chars: int
    output_words: int
    output_sha256: str
    output_excerpt: str = ""
    item_id: str | None = None
    project_id: str | None = None
    source: str = "api"  # api | testing | review
    label: str = ""
    actor_id: str | None = None
    actor: str = ""
    created_at: datetime


class ValidationConfig(Wire):
    defaults: dict[str, Any]
    checks: list[CheckName]
    json_schema_keywords: list[str]
    max_output_chars: int
