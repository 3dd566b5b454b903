"""The text kinds of request fields (``backend/schemas/text.py``): which characters a
single-line field and a long text refuse, what the refusal says, and which request
fields use them. Responses take whatever is stored."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from crewos_tui.backend import schemas as s
from crewos_tui.backend.schemas.text import MultiLine, SingleLine

C0 = [chr(c) for c in range(0x20)]
C1 = [chr(c) for c in range(0x80, 0xA0)]
BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
#: Ordinary text both kinds accept: accents, CJK, emoji, a no-break space, the bidi
#: *marks* (U+200E/U+200F, which reorder nothing after them), a zero-width joiner.
PRINTABLE = "Ünïcödé – 日本語 🚀 a\u00a0b \u200e\u200f x\u200dy ~!@#$%^&*()[]{}<>"

single = TypeAdapter(SingleLine)
multi = TypeAdapter(MultiLine)


def refusal(adapter: TypeAdapter[str], value: str) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        adapter.validate_python(value)
    (error,) = caught.value.errors()
    assert error["type"] == "control_character"
    return error


@pytest.mark.parametrize("char", [*C0, "\x7f", *C1, *BIDI], ids=lambda c: f"U+{ord(c):04X}")
def test_single_line_refuses_every_control_and_bidi_control(char: str) -> None:
    error = refusal(single, f"ab{char}cd")
    assert error["msg"] == (f"must be a single line of text without control characters "
                            f"(found U+{ord(char):04X} at position 2)")


@pytest.mark.parametrize("char", [c for c in [*C0, "\x7f", *C1] if c not in "\t\n\r"],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_multi_line_refuses_controls_other_than_newline_and_tab(char: str) -> None:
    error = refusal(multi, f"line\n{char}")
    assert error["msg"] == (f"must be text without control characters other than newlines and tabs "
                            f"(found U+{ord(char):04X} at position 5)")


def test_multi_line_keeps_newlines_tabs_crlf_and_bidi_text_exactly() -> None:
    text = f"\tFirst\r\nsecond\n\n{PRINTABLE}\u202bembedded\u202c\t\n"
    assert multi.validate_python(text) == text
    assert multi.validate_json(json.dumps(text)) == text  # as the server reads it


def test_a_lone_carriage_return_is_refused_in_long_text() -> None:
    assert "U+000D at position 3" in refusal(multi, "abc\rdef")["msg"]
    assert "U+000D at position 3" in refusal(multi, "abc\r")["msg"]


def test_printable_text_is_a_single_line() -> None:
    assert single.validate_python(PRINTABLE) == PRINTABLE


def test_the_check_sees_the_value_before_trimming() -> None:
    # Name trims whitespace; a trailing newline is still refused, not trimmed away.
    with pytest.raises(ValidationError, match=re.escape("U+000A at position 4")):
        s.ProjectCreate(name="Proj\n")
    with pytest.raises(ValidationError, match=re.escape("U+0009 at position 0")):
        s.ProjectCreate(name="\tProj")
    assert s.ProjectCreate(name="  Proj  ").name == "Proj"  # spaces are still trimmed
    with pytest.raises(ValidationError, match="at most 120"):  # and the length rules still hold
        s.ProjectCreate(name="x" * 121)
    with pytest.raises(ValidationError, match="valid string"):
        s.ProjectCreate(name=5)  # type: ignore[arg-type]


P = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
#: (request model, single-line field, the other fields it needs); the field gets "a<ESC>b"
#: (inside a list where the field is a list).
SINGLE_LINE_FIELDS: list[tuple[type[BaseModel], str, dict[str, Any]]] = [
    (s.ProjectCreate, "name", {}),
    (s.ProjectUpdate, "name", {}),
    (s.TaskCreate, "title", {"project_id": P}),
    (s.TaskUpdate, "title", {}),
    (s.ChatSessionCreate, "title", {}),
    (s.ChatSessionCreate, "tags", {}),
    (s.ChatSessionUpdate, "title", {}),
    (s.UserCreate, "username", {"password": "long enough"}),
    (s.UserCreate, "team", {"username": "someone", "password": "long enough"}),
    (s.UserUpdate, "team", {}),
    (s.ApiKeyCreate, "name", {}),
    (s.KnowledgeEntryCreate, "title", {"namespace": "team/notes"}),
    (s.KnowledgeEntryCreate, "tags", {"namespace": "team/notes", "title": "t"}),
    (s.KnowledgeEntryUpdate, "title", {}),
    (s.ReviewItemCreate, "title", {}),
    (s.WalletUpsert, "label", {}),
    (s.TokenSettingsUpdate, "name", {"symbol": "CRW"}),
    (s.PromptStandardUpsert, "required_sections", {}),
    (s.FindingTaskCreate, "title", {"project_id": P}),
    (s.ResearchRunCreate, "topic", {"namespace": "team/notes"}),
    (s.ScenarioRunCreate, "label", {}),
    (s.ValidationRubric, "forbidden_terms", {}),
]
LONG_TEXT_FIELDS: list[tuple[type[BaseModel], str, dict[str, Any]]] = [
    (s.ProjectCreate, "description", {"name": "n"}),
    (s.ProjectUpdate, "description", {}),
    (s.TaskCreate, "description", {"project_id": P, "title": "t"}),
    (s.TaskEventCreate, "message", {}),
    (s.ChatRequest, "message", {}),
    (s.KnowledgeEntryCreate, "body", {"namespace": "team/notes", "title": "t"}),
    (s.ReviewItemCreate, "summary", {"title": "t"}),
    (s.AccessRequestCreate, "message", {}),
    (s.MessageFeedbackCreate, "comment", {"message_id": P, "rating": "up"}),
    (s.PromptStandardUpsert, "system_prompt", {}),
    (s.TokenMint, "memo", {"to_wallet": "treasury", "amount": 1}),
]


def _value(model: type[BaseModel], field: str, text: str) -> Any:
    annotation = str(model.model_fields[field].annotation)
    return [text] if annotation.startswith("list") else text


@pytest.mark.parametrize(("model", "field", "others"), SINGLE_LINE_FIELDS,
                         ids=[f"{m.__name__}.{f}" for m, f, _ in SINGLE_LINE_FIELDS])
def test_request_single_line_fields_refuse_controls(model: type[BaseModel], field: str,
                                                    others: dict[str, Any]) -> None:
    for text in ("a\x1bb", "a\nb"):
        with pytest.raises(ValidationError) as caught:
            model(**others, **{field: _value(model, field, text)})
        assert [e["loc"][0] for e in caught.value.errors()] == [field]
        assert caught.value.errors()[0]["type"] == "control_character"


@pytest.mark.parametrize(("model", "field", "others"), LONG_TEXT_FIELDS,
                         ids=[f"{m.__name__}.{f}" for m, f, _ in LONG_TEXT_FIELDS])
def test_request_long_texts_keep_newlines_and_refuse_nul_and_escape(model: type[BaseModel], field: str,
                                                                    others: dict[str, Any]) -> None:
    assert getattr(model(**others, **{field: "a\n\tb"}), field) == "a\n\tb"
    for text in ("a\x00b", "a\x1b[31mb"):
        with pytest.raises(ValidationError) as caught:
            model(**others, **{field: text})
        assert [e["loc"][0] for e in caught.value.errors()] == [field]


def test_responses_still_read_what_is_stored() -> None:
    # Data stored before the rule (or by another CrewOS) must still read back.
    row = {"id": P, "name": "old\x1bname", "description": "nul\x00here", "status": "active",
           "template": "blank", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
    project = s.Project.model_validate(row)
    assert (project.name, project.description) == ("old\x1bname", "nul\x00here")


@pytest.mark.parametrize(("model", "field", "others"), [
    (s.TaskCreate, "project_id", {"title": "t"}),
    (s.TaskCreate, "assignee_id", {"project_id": P, "title": "t"}),
    (s.TaskUpdate, "assignee_id", {}),
    (s.DependencyCreate, "blocks_task_id", {}),
    (s.ReviewItemCreate, "project_id", {"title": "t"}),
    (s.AgentJobCreate, "project_id", {"kind": "report"}),
    (s.DocumentReingest, "document_id", {}),
])
def test_an_empty_id_is_refused(model: type[BaseModel], field: str, others: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        model(**others, **{field: ""})
    assert [e["loc"][0] for e in caught.value.errors()] == [field]
