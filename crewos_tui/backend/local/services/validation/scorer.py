"""The validation scorer: deterministic checks of one output against a rubric.

Pure functions, no I/O: the same text and rubric always give the same score.
The text is normalised first (BOM dropped, line endings unified, Unicode NFC,
lone surrogates replaced), so an output scores the same however it was encoded.

Checks (each 0-100; a check with nothing configured does not run):

- ``required_sections``: each name must appear as a markdown heading (``## Name``),
  a bold line (``**Name**``) or a label line (``Name:``), case-insensitively, alone
  or as the first words (``## Name of the thing``); for a JSON object, as a
  top-level key. Score = share found.
- ``length``: characters (code points) and words within the bounds. Score = 100
  inside; outside, how close it came (``actual/min`` or ``max/actual``).
- ``forbidden_terms``: none may appear as a whole word or phrase (case-insensitive).
  Score = 100, or 0 when any does.
- ``citations``: numeric references ``[1]``, markdown links, URLs, DOIs,
  ``(Author, 2020)`` / ``(Author et al., 2020)`` and ``Sources:``/``References:``
  lines count. Score = share of ``min_citations`` found.
- ``json_schema``: the output must parse as JSON and, with a schema, satisfy it
  (``json_schema.py``). Score = 0 unparsable, else 100 - 25 per schema error.

The score is the weighted mean (integer, half up). The output passes when the
score reaches the threshold and no *blocking* check failed.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ....schemas import CheckName, OutputFormat, ValidationFinding, ValidationRubric
from . import json_schema

_CITATION_PATTERNS = (
    re.compile(r"\[\d{1,4}\]"),
    re.compile(r"\[[^\]\n]{1,200}\]\(https?://[^)\s]+\)"),
    re.compile(r"(?<![(\w])https?://[^\s)\]>]+"),
    re.compile(r"\bdoi:\s*10\.\d{4,9}/\S+", re.IGNORECASE),
    re.compile(r"\((?:[A-Z][\w'’-]+)(?: et al\.)?(?: (?:and|&) [A-Z][\w'’-]+)?,? \d{4}[a-z]?\)"),
    re.compile(r"^\s*(?:sources?|references?)\s*:.+$", re.IGNORECASE | re.MULTILINE),
)
MAX_DETAILS = 20


@dataclass(frozen=True)
class Scored:
    score: int
    passed: bool
    findings: list[ValidationFinding]
    format: OutputFormat
    chars: int
    words: int
    sha256: str
    text: str  # the normalised output


def normalize(text: str) -> str:
    text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def _parse_json(text: str) -> tuple[Any, str | None]:
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
    except (ValueError, RecursionError):
        return None, "not valid JSON"


def detect_format(text: str, requested: OutputFormat) -> OutputFormat:
    if requested != OutputFormat.auto:
        return requested
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and _parse_json(stripped)[1] is None:
        return OutputFormat.json
    return OutputFormat.markdown


def _section_names(text: str) -> set[str]:
    names = set()
    for line in text.split("\n"):
        line = line.strip()
        if m := re.match(r"^#{1,6}\s+(.+?)\s*#*$", line):
            names.add(_key(m.group(1)))
        elif m := re.match(r"^(?:\*\*|__)(.+?)(?:\*\*|__)\s*:?$", line):
            names.add(_key(m.group(1).rstrip(":")))
        elif m := re.match(r"^([^:]{1,80}):", line):
            names.add(_key(m.group(1).strip("*_ ")))
    return names


def _has_section(present: set[str], name: str) -> bool:
    # "Summary" is satisfied by "## Summary" and by "## Summary of the week".
    return any(p == name or p.startswith(name + " ") for p in present)


def check_sections(text: str, fmt: OutputFormat, parsed: Any, required: list[str]) -> tuple[int, bool, str, list[str]]:
    if fmt == OutputFormat.json and isinstance(parsed, dict):
        present = {_key(str(k)) for k in parsed}
    else:
        present = _section_names(text)
    missing = [name for name in required if not _has_section(present, _key(name))]
    found = len(required) - len(missing)
    score = found * 100 // len(required)
    msg = f"{found} of {len(required)} required sections present"
    return score, not missing, msg, [f"missing section: {m}" for m in missing[:MAX_DETAILS]]


def check_length(chars: int, words: int, r: ValidationRubric) -> tuple[int, bool, str, list[str]]:
    scores, details = [100], []
    for actual, lo, hi, unit in ((chars, r.min_chars, r.max_chars, "characters"),
                                 (words, r.min_words, r.max_words, "words")):
        if lo is not None and actual < lo:
            scores.append(actual * 100 // lo)
            details.append(f"{actual} {unit}, fewer than the minimum {lo}")
        if hi is not None and actual > hi:
            scores.append(hi * 100 // actual)
            details.append(f"{actual} {unit}, more than the maximum {hi}")
    score = min(scores)
    return score, not details, f"{chars} characters, {words} words", details


def check_forbidden(text: str, terms: list[str]) -> tuple[int, bool, str, list[str]]:
    folded = text.casefold()
    details = []
    for term in dict.fromkeys(_key(t) for t in terms):
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(part) for part in term.split()) + r"(?!\w)"
        hits = list(re.finditer(pattern, folded))
        if hits:
            line = folded.count("\n", 0, hits[0].start()) + 1
            details.append(f"{term!r} appears {len(hits)}x (first on line {line})")
    ok = not details
    return (100 if ok else 0), ok, ("no forbidden terms" if ok else f"{len(details)} forbidden terms found"), \
        details[:MAX_DETAILS]


def find_citations(text: str) -> list[str]:
    found: list[str] = []
    for pattern in _CITATION_PATTERNS:
        found.extend(m.group(0).strip() for m in pattern.finditer(text))
    return list(dict.fromkeys(found))


def check_citations(text: str, needed: int) -> tuple[int, bool, str, list[str]]:
    cites = find_citations(text)
    score = min(len(cites), needed) * 100 // needed
    ok = len(cites) >= needed
    msg = f"{len(cites)} citations found, {needed} needed"
    return score, ok, msg, cites[:MAX_DETAILS] if ok else [f"add {needed - len(cites)} more citation(s)"]


def check_json(parsed: Any, error: str | None, schema: dict[str, Any] | None) -> tuple[int, bool, str, list[str]]:
    if error is not None:
        return 0, False, error, []
    if schema is None:
        return 100, True, "valid JSON", []
    problems = json_schema.validate(parsed, schema)
    if not problems:
        return 100, True, "valid JSON matching the schema", []
    shown = problems[:MAX_DETAILS]
    if len(problems) > MAX_DETAILS:
        shown.append(f"... and {len(problems) - MAX_DETAILS} more")
    return max(0, 100 - 25 * len(problems)), False, f"{len(problems)} schema errors", shown


def score_output(output: str, rubric: ValidationRubric, requested: OutputFormat = OutputFormat.auto) -> Scored:
    """Score ``output`` against ``rubric``; see the module docstring for the checks."""
    text = normalize(output)
    fmt = detect_format(text, requested)
    wants_json = rubric.expect_json or rubric.json_schema is not None
    if wants_json:
        fmt = OutputFormat.json
    parsed, json_error = _parse_json(text) if fmt == OutputFormat.json else (None, None)
    chars, words = len(text), len(text.split())
    results: list[tuple[CheckName, tuple[int, bool, str, list[str]]]] = []
    if rubric.required_sections:
        results.append((CheckName.required_sections, check_sections(text, fmt, parsed, rubric.required_sections)))
    if any(b is not None for b in (rubric.min_chars, rubric.max_chars, rubric.min_words, rubric.max_words)):
        results.append((CheckName.length, check_length(chars, words, rubric)))
    if rubric.forbidden_terms:
        results.append((CheckName.forbidden_terms, check_forbidden(text, rubric.forbidden_terms)))
    if rubric.require_citations:
        results.append((CheckName.citations, check_citations(text, rubric.min_citations)))
    if wants_json:
        results.append((CheckName.json_schema, check_json(parsed, json_error, rubric.json_schema)))

    findings = []
    for name, (score, ok, message, details) in results:
        findings.append(ValidationFinding(check=name, passed=ok, score=score, weight=rubric.weights.get(name, 1),
                                          blocking=name in rubric.blocking, message=message, details=details))
    total_weight = sum(f.weight for f in findings)
    if total_weight:
        weighted = sum(f.weight * f.score for f in findings)
        score = (2 * weighted + total_weight) // (2 * total_weight)  # mean, rounded half up
    else:
        score = 100
    blocked = any(f.blocking and not f.passed for f in findings)
    passed = score >= rubric.threshold and not blocked
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Scored(score, passed, findings, fmt, chars, words, digest, text)
