"""Ranked search over a SearchIndex: BM25 scores, filters, highlighted snippets.

The jieba index has two fields, the texts' jieba words and their character bigrams, each its own
BM25 (bm25s). A query's score is BM25(words) + BM25(bigrams) over its tokens split so that each is
scored once (query_fields): its jieba words in the words field, its bigrams in the bigram field
except those that are a query word the words field holds (质押 is scored as the word, not again as
a bigram). The bigram field is the recall fallback (强市 in 知识产权强市建设, which no text holds as
a word) and the adjacency credit (示范企业's 范企: only texts with the two words side by side hold
it). The two fields weigh alike: the principle is one score per query token, nothing tuned.

Ranking is deterministic: score descending, then index order (document IRI, order in the
document); scores are rounded to 4 decimals first so that float noise never reorders ties.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ipgraph.search.index import SearchIndex
from ipgraph.search.records import SearchDoc
from ipgraph.search.tokenise import gram_tokens, normalise, query_terms

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


@dataclass
class _FilterTables:
    """Per index, built on the first filtered search: each distinct document and agency name once,
    with the measures it covers, so a filter tests names, not measures."""

    doc_fields: dict[str, tuple[list[str], str]]  # doc IRI → (normalised title/file/文号, level)
    doc_rows: dict[str, np.ndarray]  # doc IRI → measure rows
    agency_rows: dict[str, np.ndarray]  # normalised agency name or alias → measure rows


_TABLES: dict[int, tuple[SearchIndex, _FilterTables]] = {}


def _tables(index: SearchIndex) -> _FilterTables:
    cached = _TABLES.get(id(index))
    if cached is not None and cached[0] is index:
        return cached[1]
    fields: dict[str, tuple[list[str], str]] = {}
    docs: dict[str, list[int]] = {}
    agencies: dict[str, list[int]] = {}
    for i, d in enumerate(index.docs):
        if d.doc_iri not in fields:
            fields[d.doc_iri] = ([normalise(v) for v in (d.document, d.source_file, d.doc_number) if v], d.level)
        docs.setdefault(d.doc_iri, []).append(i)
        for name in d.agencies:
            agencies.setdefault(normalise(name), []).append(i)
    tables = _FilterTables(fields, {k: np.asarray(v) for k, v in docs.items()},
                           {k: np.asarray(v) for k, v in agencies.items()})
    _TABLES.clear()  # one index at a time is searched in a process; keep the latest
    _TABLES[id(index)] = (index, tables)
    return tables


def mask(index: SearchIndex, filters: Filters | None) -> np.ndarray | None:
    """1.0 for the measures the filters let through, 0.0 for the others (None: no filter)."""
    if filters is None or not (filters.document or filters.level or filters.agency):
        return None
    level = (filters.level or "").lower()
    if level and level not in LEVELS:
        from ipgraph.search.index import SearchIndexError

        raise SearchIndexError(f"unknown level {filters.level!r}; choose one of {', '.join(LEVELS)}")
    tables = _tables(index)
    keep = np.zeros(len(index.docs), dtype=np.float32)
    wanted = normalise(filters.document) if filters.document else ""
    for doc_iri, (names, doc_level) in tables.doc_fields.items():
        if (not wanted or any(wanted in n for n in names)) and (not level or doc_level == level):
            keep[tables.doc_rows[doc_iri]] = 1.0
    if filters.agency:
        needle = normalise(filters.agency)
        assigned = np.zeros(len(index.docs), dtype=np.float32)
        for name, rows in tables.agency_rows.items():
            if needle in name:
                assigned[rows] = 1.0
        keep *= assigned
    return keep


def split_fields(words: list[str], grams: list[str], word_vocab: Any, gram_vocab: Any) -> tuple[list[str], list[str]]:
    """(tokens for the words field, tokens for the bigram field), each once and held by its field:
    a bigram that is one of the words scored in the words field is not scored again.
    (ipgraph.search.page does the same with the tokens the page can make.)"""
    scored = list(dict.fromkeys(t for t in words if t in word_vocab and t != "\x00"))
    taken = set(scored)
    return scored, list(dict.fromkeys(g for g in grams if g in gram_vocab and g not in taken and g != "\x00"))


def query_fields(index: SearchIndex, query: str) -> tuple[list[str], list[str]]:
    """The query's tokens for the words field and for the bigram field (empty for a one-field index)."""
    if index.grams is None:
        return split_fields(index.word_tokeniser(query), [], index.bm25.vocab_dict, {})
    return split_fields(index.word_tokeniser(query), gram_tokens(query), index.bm25.vocab_dict,
                        index.grams.vocab_dict)


def query_tokens(index: SearchIndex, query: str) -> list[str]:
    """The query's tokens that the index holds, each once (both fields: what a snippet marks)."""
    words, grams = query_fields(index, query)
    return list(dict.fromkeys(words + grams))


def scores(index: SearchIndex, query: str, filters: Filters | None = None) -> np.ndarray:
    """The BM25 score of every measure for `query`, both fields summed (0 where a filter excludes it)."""
    words, grams = query_fields(index, query)
    values = np.zeros(len(index.docs), dtype=np.float32)
    if not (words or grams):
        return values
    weights = mask(index, filters)
    if words:
        values += np.asarray(index.bm25.get_scores(words, weight_mask=weights), dtype=np.float32)
    if grams:
        values += np.asarray(index.grams.get_scores(grams, weight_mask=weights), dtype=np.float32)
    return values


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
