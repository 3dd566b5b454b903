"""SQLite FTS5 full-text search over knowledge entries: the one module that knows it.

- ``attach_fts(table)``: the ``knowledge_fts`` index (external content: it reads title,
  body and tags from ``knowledge_entries`` by ``fts_rowid``, storing only the index) and
  the triggers that keep it in step with every insert, update and delete — including
  rows removed by foreign-key cascades. Attached to the table's ``after_create``, so a
  new database (``create_all``) and the migration step alike get it.
- ``match_expression(text, mode)``: any user text → a safe FTS5 query. Words are
  quoted, so operators, quotes, parentheses, ``NEAR`` or ``column:`` filters in user
  input are plain words; ``"a phrase"`` stays a phrase and ``word*`` a prefix.
- ``ranked_matches(expr)`` / ``snippets(expr, rowids)``: selectables the service joins
  with its own (portable) SQLAlchemy filters (select *from* the matches, then join).
  Ranking is bm25 with the title weighted 5, tags 3 and the body 1; lower is better,
  as FTS5 returns it.

A PostgreSQL port would replace this module (tsvector, ts_rank, ts_headline) and
leave the service untouched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import DDL, Table, column, event, func, literal_column, select, table
from sqlalchemy.exc import DBAPIError

from ..errors import Invalid

FTS_TABLE = "knowledge_fts"
CONTENT_TABLE = "knowledge_entries"
COLUMNS = ("title", "body", "tags_text")
WEIGHTS = (5.0, 1.0, 3.0)  # title, body, tags
#: What a snippet marks a matched word with (the TUI turns these into highlighting).
HIT_OPEN, HIT_CLOSE, ELLIPSIS = "«", "»", "…"
SNIPPET_TOKENS = 14
MAX_TERMS = 32
MAX_QUERY_CHARS = 500

_DDL = [
    (f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(title, body, tags_text, "
     f"content='{CONTENT_TABLE}', content_rowid='fts_rowid', tokenize='porter unicode61 remove_diacritics 2')"),
    (f"CREATE TRIGGER IF NOT EXISTS {CONTENT_TABLE}_fts_insert AFTER INSERT ON {CONTENT_TABLE} BEGIN "
     f"INSERT INTO {FTS_TABLE}(rowid, title, body, tags_text) "
     f"VALUES (new.fts_rowid, new.title, new.body, new.tags_text); END"),
    (f"CREATE TRIGGER IF NOT EXISTS {CONTENT_TABLE}_fts_delete AFTER DELETE ON {CONTENT_TABLE} BEGIN "
     f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, body, tags_text) "
     f"VALUES ('delete', old.fts_rowid, old.title, old.body, old.tags_text); END"),
    (f"CREATE TRIGGER IF NOT EXISTS {CONTENT_TABLE}_fts_update AFTER UPDATE OF title, body, tags_text "
     f"ON {CONTENT_TABLE} BEGIN "
     f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, body, tags_text) "
     f"VALUES ('delete', old.fts_rowid, old.title, old.body, old.tags_text); "
     f"INSERT INTO {FTS_TABLE}(rowid, title, body, tags_text) "
     f"VALUES (new.fts_rowid, new.title, new.body, new.tags_text); END"),
]


def attach_fts(entries: Table) -> None:
    """Create the index and its triggers whenever ``entries`` is created (SQLite only)."""
    for statement in _DDL:
        event.listen(entries, "after_create", DDL(statement).execute_if(dialect="sqlite"))


# ---- user text → FTS5 query ----------------------------------------------------------------

_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


def _quoted(words: Sequence[str]) -> str:
    # Words are \w+ only, so they hold no quote; quoting makes AND/OR/NOT/NEAR plain words.
    return '"' + " ".join(words) + '"'


def query_terms(text: str) -> list[str]:
    """The FTS5 terms of ``text``: quoted words, phrases and prefixes, at most ``MAX_TERMS``."""
    if not isinstance(text, str):
        raise Invalid("the search query must be text")
    if len(text) > MAX_QUERY_CHARS:
        raise Invalid(f"the search query is longer than {MAX_QUERY_CHARS} characters")
    terms: list[str] = []
    for match in _TOKEN.finditer(text):
        phrase, bare = match.group(1), match.group(2)
        if phrase is not None:
            words = _WORD.findall(phrase)
            if words:
                terms.append(_quoted(words))
            continue
        words = _WORD.findall(bare or "")
        if not words:
            continue
        term = _quoted(words)
        # "deploy*" is a prefix search; a one-letter prefix would match half the index.
        if bare.endswith("*") and len(words) == 1 and len(words[0]) >= 2:
            term += "*"
        terms.append(term)
    unique = list(dict.fromkeys(terms))
    if not unique:
        raise Invalid("the search query has no words to search for")
    return unique[:MAX_TERMS]


def match_expression(text: str, mode: str = "all") -> str:
    """A safe FTS5 MATCH expression: every term (``all``) or any term (``any``).

    ``fts5`` passes the text through as FTS5 query syntax (AND/OR/NOT, NEAR, ``col:``
    filters, ``^`` anchors) for those who want it; FTS5 then judges it, and a query it
    refuses becomes a 422 naming the mistake (``query_error``), never a 500."""
    if mode == "fts5":
        if not isinstance(text, str) or not text.strip():
            raise Invalid("the search query has no words to search for")
        if len(text) > MAX_QUERY_CHARS:
            raise Invalid(f"the search query is longer than {MAX_QUERY_CHARS} characters")
        return text
    if mode not in ("all", "any"):
        raise Invalid("match must be 'all', 'any' or 'fts5'")
    return (" AND " if mode == "all" else " OR ").join(query_terms(text))


# ---- selectables ------------------------------------------------------------------------------

_fts = table(FTS_TABLE, column("rowid"), *(column(c) for c in COLUMNS))
_fts_ref = literal_column(FTS_TABLE)


def ranked_matches(expression: str) -> Any:
    """Every match, ``fts_rowid`` and ``rank`` (bm25, lower is better), as a CTE to select
    *from* (then join the entries on ``fts_rowid``).

    MATERIALIZED makes SQLite run the full-text query once and then look the entries up
    by their unique ``fts_rowid``; left to itself it may walk a namespace's entries and
    probe the index once per row instead, which is ten times slower on 100,000 entries."""
    return (
        select(_fts.c.rowid.label("fts_rowid"), func.bm25(_fts_ref, *WEIGHTS).label("rank"))
        .select_from(_fts)
        .where(_fts_ref.op("MATCH")(expression))
        .cte("fts_hits")
        .prefix_with("MATERIALIZED")
    )


def snippets(expression: str, rowids: Sequence[int]) -> Any:
    """``(fts_rowid, title_snippet, body_snippet)`` for a few rows (snippets are costly:
    only the page being returned gets them)."""
    def snip(col: int) -> Any:
        return func.snippet(_fts_ref, col, HIT_OPEN, HIT_CLOSE, ELLIPSIS, SNIPPET_TOKENS)

    return (
        select(_fts.c.rowid, snip(0), snip(1))
        .select_from(_fts)
        .where(_fts_ref.op("MATCH")(expression), _fts.c.rowid.in_(list(rowids)))
    )


_QUERY_ERRORS = ("fts5", "syntax error", "unterminated", "no such column", "unknown special query",
                 "expected integer")


def is_query_error(exc: BaseException) -> bool:
    """An FTS5 error about the query itself (not a broken database)."""
    text = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, DBAPIError) and any(marker in text for marker in _QUERY_ERRORS)


def query_error(exc: BaseException) -> Invalid:
    """FTS5's complaint about a query, in words a user can act on (a 422)."""
    raw = str(getattr(exc, "orig", exc))
    near = re.search(r'syntax error near "(.*)"', raw)
    if near is not None:
        why = f'syntax error near "{near.group(1)}"' if near.group(1) else "the query ends too early"
    elif "unterminated string" in raw:
        why = "a quotation mark is not closed"
    elif raw.startswith("no such column: "):
        why = (f"there is no field \"{raw.removeprefix('no such column: ')}\" "
               f"(fields: {', '.join(COLUMNS)})")
    elif "unknown special query" in raw:
        why = "there is nothing to search for"
    else:
        why = raw
    return Invalid(f"the search query is not valid FTS5 syntax: {why}")
