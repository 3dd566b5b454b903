"""Text measures for meditation and research review: words, salient terms (TF-IDF)
and near-duplicate detection (Jaccard similarity of word shingles). Deterministic:
ties break alphabetically and shingles hash with CRC-32, never Python's salted hash."""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
STOPWORDS = frozenset([
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do",
    "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he",
    "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its",
    "itself", "just", "let", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once",
    "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so", "some",
    "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this",
    "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where",
    "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves",
    "use", "used", "using", "via", "per", "etc", "may", "might", "must", "shall", "one", "two", "three", "new", "get",
    "got", "make", "made", "see", "also", "within", "without", "across", "however", "therefore", "thus",
])
TITLE_WEIGHT = 3
SHINGLE = 4


def words(text: str) -> list[str]:
    """Lower-case words of three letters or more that are not stopwords."""
    out = []
    for w in _WORD.findall(text.lower()):
        w = w.strip("'-")
        if len(w) >= 3 and w not in STOPWORDS:
            out.append(w)
    return out


def term_counts(title: str, body: str, tags: Iterable[str] = ()) -> Counter[str]:
    counts: Counter[str] = Counter(words(body))
    for w in words(title):
        counts[w] += TITLE_WEIGHT
    for tag in tags:
        for w in words(tag):
            counts[w] += TITLE_WEIGHT
    return counts


def top_terms(counts: Counter[str], df: Counter[str], n_docs: int, k: int = 8) -> dict[str, float]:
    """The ``k`` most salient terms of one document with their TF-IDF weights."""
    total = sum(counts.values()) or 1
    scored = []
    for term, c in counts.items():
        idf = math.log((1 + n_docs) / (1 + df.get(term, 0))) + 1.0
        scored.append((c / total * idf, term))
    scored.sort(key=lambda x: (-x[0], x[1]))
    return {term: weight for weight, term in scored[:k]}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    shared = set(a) & set(b)
    if not shared:
        return 0.0
    dot = sum(a[t] * b[t] for t in shared)
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def shingles(text: str, size: int = SHINGLE) -> set[int]:
    """Hashed runs of ``size`` words (all words, stopwords too: wording is what repeats)."""
    ws = [w.lower() for w in _WORD.findall(text)]
    if len(ws) < size:
        return {zlib.crc32(" ".join(ws).encode())} if ws else set()
    return {zlib.crc32(" ".join(ws[i:i + size]).encode()) for i in range(len(ws) - size + 1)}


def jaccard(a: set[int], b: set[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
