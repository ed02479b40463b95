"""Search inside the graph page: the BM25 index precomputed for the page to inline (corpus-sized pages).

The page cannot run jieba, so it scores with tokens it can make itself: the character bigrams of the
query and the query's parts as typed (a part that is a dictionary word, 专利导航, matches the jieba word).
Both kinds are in the index, so the page ranks like `search` for such queries. BM25 weights are
precomputed per (token, measure), as bm25s stores them: a query's score is a sum of lookups.
For pages over MAX_MEASURES measures the page should ask the server's /search endpoint instead.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ipgraph.search.index import SearchIndex
from ipgraph.search.rank import top
from ipgraph.search.tokenise import gram_tokens, query_terms

MAX_MEASURES = 5000  # ~25k measures make a page index of tens of MB: ask the endpoint instead


def page_index(index: SearchIndex, iris: list[str] | None = None) -> dict[str, Any]:
    """{"measures": [IRI …], "postings": {token: [[row …], [weight …]]}} for the measures `iris`
    (default all), weights rounded to 3 decimals; JSON-ready, deterministic (tokens sorted)."""
    rows = {d.iri: i for i, d in enumerate(index.docs)}
    chosen = [rows[i] for i in (iris if iris is not None else [d.iri for d in index.docs]) if i in rows]
    new_row = {old: new for new, old in enumerate(chosen)}
    scores = index.bm25.scores
    data, indices, indptr = scores["data"], scores["indices"], scores["indptr"]
    postings: dict[str, list[list[float]]] = {}
    for token, tid in sorted(index.bm25.vocab_dict.items()):
        if not token or token == "\x00":
            continue
        start, end = int(indptr[tid]), int(indptr[tid + 1])
        pairs = [(new_row[int(r)], round(float(w), 3)) for r, w in zip(indices[start:end], data[start:end],
                                                                        strict=True) if int(r) in new_row]
        if pairs:
            pairs.sort()
            postings[token] = [[r for r, _ in pairs], [w for _, w in pairs]]
    return {"measures": [index.docs[i].iri for i in chosen], "postings": postings}


def page_query_tokens(query: str) -> list[str]:
    """What the page's script makes of a query: its bigrams and its parts as typed, each once."""
    return list(dict.fromkeys(gram_tokens(query) + query_terms(query)))


def page_search(data: dict[str, Any], query: str, limit: int = 10) -> list[str]:
    """The page's ranking, in Python (the reference the page's script must follow, and its test)."""
    values = np.zeros(len(data["measures"]), dtype=np.float64)
    for token in page_query_tokens(query):
        rows, weights = data["postings"].get(token, ([], []))
        values[np.asarray(rows, dtype=np.int64)] += np.asarray(weights, dtype=np.float64)
    return [data["measures"][i] for i in top(values, limit)]
