"""Ranked search over a SearchIndex: BM25 scores, filters, highlighted snippets.

The jieba index has two fields, the texts' jieba words and their character bigrams (with the
readings of coordinated forms, SearchDoc.gram_text). A query's tokens are its jieba words and its
bigrams, each once (query_units); each scores idf · tf / (tf + k1 · B) in the field where that
saturated frequency is larger, with one idf (BM25F, Robertson & Zaragoza 2009, counting each
occurrence once: the two fields are two analyses of one text, and a two-character word is a bigram of
the same place, so summing them would count it twice). That weight does not depend on the query, so
the index stores it per token and text, one matrix (index.ranked_field), and a query is a sum of
postings. The bigram field is the recall fallback (强市 in 知识产权强市建设, which no text holds as a
word) and the adjacency credit (示范企业's 范企: only texts with the two words side by side hold it).
Nothing is weighted or tuned: the rule was chosen on the evaluation's four query sets against the
rules of ipgraph.search.eval_variants, which keeps the others measured.

Ranking is deterministic: score descending, then index order (document IRI, order in the
document); scores are rounded to 4 decimals first so that float noise never reorders ties.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

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


def query_units(index: SearchIndex, query: str) -> list[str]:
    """The query's tokens that the index holds, each once: its jieba words, then its bigrams (for a
    jieba index; a one-field index: its tokeniser's tokens)."""
    tokens = index.word_tokeniser(query) + (gram_tokens(query) if index.method == "jieba" else [])
    vocab = index.scored_field().vocab_dict
    return [t for t in dict.fromkeys(tokens) if t and t != "\x00" and t in vocab]


def scores(index: SearchIndex, query: str, filters: Filters | None = None) -> np.ndarray:
    """The score of every measure for `query` (0 where a filter excludes it): the sum of its tokens'
    weights in the ranked field (per token, idf · the larger of its fields' saturated frequencies)."""
    return _scores(index, query_units(index, query), filters)


def _scores(index: SearchIndex, units: list[str], filters: Filters | None) -> np.ndarray:
    field = index.scored_field()
    if not units:
        return np.zeros(int(field.scores["num_docs"]), dtype=np.float32)
    return np.asarray(field.get_scores(units, weight_mask=mask(index, filters)), dtype=np.float32)


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
    units = query_units(index, query)  # segmented once, for the scores and the snippets
    values = _scores(index, units, filters)
    terms = _highlight_terms(units, query)
    return [_hit(index.docs[i], float(values[i]), terms) for i in top(values, limit)]


def _highlight_terms(units: list[str], query: str) -> list[str]:
    """What to mark in a snippet: the query's tokens and its parts as typed, longest first."""
    terms = set(units) | set(query_terms(query))
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
