"""Ranked search over a SearchIndex: BM25 scores, filters, highlighted snippets.

Ranking is deterministic: score descending, then index order (document IRI, order in the
document); scores are rounded to 4 decimals first so that float noise never reorders ties.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ipgraph.search.index import SearchIndex
from ipgraph.search.records import SearchDoc
from ipgraph.search.tokenise import bigram_tokenise, normalise, query_terms

LEVELS = ("international", "national", "provincial", "municipal", "district")
SNIPPET = 80  # characters of text around the first match


@dataclass(frozen=True)
class Filters:
    """Restrict a search: each is part of a name (case-insensitive), all must hold."""

    document: str | None = None  # part of the document's title, file name or 文号
    level: str | None = None  # one of LEVELS
    agency: str | None = None  # part of the name or an alias of a lead or responsible agency


@dataclass
class Hit:
    iri: str
    score: float
    document: str
    source_file: str
    level: str
    number: str
    lead: list[str]
    snippet: str  # plain text (never markup): the caller escapes and marks
    highlights: list[tuple[int, int]] = field(default_factory=list)  # [start, end) offsets into snippet
    doc_iri: str = ""

    def marked(self, open_mark: str = "【", close_mark: str = "】") -> str:
        """The snippet with each highlight wrapped in open_mark … close_mark."""
        out, at = [], 0
        for start, end in self.highlights:
            out += [self.snippet[at:start], open_mark, self.snippet[start:end], close_mark]
            at = end
        return "".join(out) + self.snippet[at:]

    def as_dict(self) -> dict[str, object]:
        return {
            "measure": self.iri, "score": self.score, "document": self.document, "doc": self.doc_iri,
            "sourceFile": self.source_file, "level": self.level, "number": self.number, "lead": self.lead,
            "snippet": self.snippet, "highlights": [list(h) for h in self.highlights],
        }


def _matches(part: str | None, values: list[str]) -> bool:
    if not part:
        return True
    needle = normalise(part)
    return any(needle in normalise(v) for v in values if v)


def mask(index: SearchIndex, filters: Filters | None) -> np.ndarray | None:
    """1.0 for the measures the filters let through, 0.0 for the others (None: no filter)."""
    if filters is None or not (filters.document or filters.level or filters.agency):
        return None
    if filters.level and filters.level.lower() not in LEVELS:
        from ipgraph.search.index import SearchIndexError

        raise SearchIndexError(f"unknown level {filters.level!r}; choose one of {', '.join(LEVELS)}")
    keep = np.zeros(len(index.docs), dtype=np.float32)
    doc_ok: dict[str, bool] = {}  # per document: its filters are tested once
    for i, d in enumerate(index.docs):
        ok = doc_ok.get(d.doc_iri)
        if ok is None:
            ok = doc_ok[d.doc_iri] = (
                _matches(filters.document, [d.document, d.source_file, d.doc_number])
                and (not filters.level or d.level == filters.level.lower())
            )
        if ok and _matches(filters.agency, d.agencies):
            keep[i] = 1.0
    return keep


def query_tokens(index: SearchIndex, query: str) -> list[str]:
    """The query's tokens that the index holds, each once. With jieba, the bigrams of every part of
    the query as typed are added: an analyst types fragments (强市, 专利奖, 管理规范) that jieba
    splits into single characters or other words, while the index holds the bigrams inside words."""
    tokens = index.tokeniser(query)
    if index.method == "jieba":
        tokens = tokens + bigram_tokenise(query)
    vocab = index.bm25.vocab_dict
    return list(dict.fromkeys(t for t in tokens if t in vocab and t != "\x00"))


def scores(index: SearchIndex, query: str, filters: Filters | None = None) -> np.ndarray:
    """The BM25 score of every measure for `query` (0 where a filter excludes it)."""
    tokens = query_tokens(index, query)
    if not tokens:
        return np.zeros(len(index.docs), dtype=np.float32)
    return np.asarray(index.bm25.get_scores(tokens, weight_mask=mask(index, filters)))


def top(values: np.ndarray, k: int) -> list[int]:
    """Indices of the k highest positive values, ties in index order."""
    positive = np.flatnonzero(values > 0)
    if positive.size == 0:
        return []
    rounded = np.round(values[positive].astype(np.float64), 4)
    if positive.size > 4 * k:  # partition first: a query over 10^5–10^6 measures sorts only the best
        cut = np.partition(rounded, -k)[-k]
        chosen = rounded >= cut
        positive, rounded = positive[chosen], rounded[chosen]
    order = np.lexsort((positive, -rounded))
    return [int(positive[i]) for i in order[:k]]


def search(index: SearchIndex, query: str, filters: Filters | None = None, limit: int = 10) -> list[Hit]:
    """The `limit` best measures for `query`, best first."""
    values = scores(index, query, filters)
    terms = _highlight_terms(index, query)
    return [_hit(index.docs[i], float(values[i]), terms) for i in top(values, limit)]


def _highlight_terms(index: SearchIndex, query: str) -> list[str]:
    """What to mark in a snippet: the query's tokens and its parts as typed, longest first."""
    terms = set(query_tokens(index, query)) | set(query_terms(query))
    return sorted((t for t in terms if t), key=lambda t: (-len(t), t))


def _hit(doc: SearchDoc, score: float, terms: list[str]) -> Hit:
    snippet, highlights = make_snippet(doc.text or doc.indexed_text(), terms)
    return Hit(iri=doc.iri, score=round(score, 4), document=doc.document, source_file=doc.source_file,
               level=doc.level, number=doc.number, lead=doc.lead, snippet=snippet, highlights=highlights,
               doc_iri=doc.doc_iri)


def make_snippet(text: str, terms: list[str], width: int = SNIPPET) -> tuple[str, list[tuple[int, int]]]:
    """A window of `width` characters around the first match of any term, and the matches in it.

    Matching is on the normalised text (NFKC keeps CJK text's length, so offsets carry over; a text
    whose length changes under NFKC is matched as it is)."""
    text = " ".join(text.split())
    folded = normalise(text)
    if len(folded) != len(text):
        folded = text.lower()
    spans: list[tuple[int, int]] = []
    if terms:
        pattern = re.compile("|".join(re.escape(t) for t in terms))
        spans = [(m.start(), m.end()) for m in pattern.finditer(folded)]
    first = spans[0][0] if spans else 0
    start = max(0, min(first - width // 4, len(text) - width))
    end = min(len(text), start + width)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start
    inside = [(s + shift, e + shift) for s, e in spans if s >= start and e <= end]
    return prefix + text[start:end] + suffix, inside
