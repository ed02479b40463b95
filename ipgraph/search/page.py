"""Search inside the graph page: the BM25 index precomputed for the page to inline (corpus-sized pages).

The page cannot run jieba, so it scores with tokens it can make itself: the query's parts as typed and
its character bigrams. Of these, the ones the words field holds (a part that is a dictionary word,
专利导航; a bigram that is one, 质押) are scored as words, the other bigrams in the bigram field, each
once: the rule of ipgraph.search.rank.query_fields, so the page ranks like `search` for such queries.
BM25 weights are precomputed per (token, measure) and field, as bm25s stores them: a query's score is a
sum of lookups. For pages over MAX_MEASURES measures the page asks the server's /search endpoint instead.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ipgraph.search.index import SearchIndex
from ipgraph.search.rank import split_fields, top
from ipgraph.search.tokenise import gram_tokens, query_terms

MAX_MEASURES = 5000  # ~25k measures make a page index of tens of MB: ask the endpoint instead


def _postings(bm25: Any, new_row: dict[int, int]) -> dict[str, list[list[float]]]:
    scores = bm25.scores
    data, indices, indptr = scores["data"], scores["indices"], scores["indptr"]
    postings: dict[str, list[list[float]]] = {}
    for token, tid in sorted(bm25.vocab_dict.items()):
        if not token or token == "\x00":
            continue
        start, end = int(indptr[tid]), int(indptr[tid + 1])
        pairs = [(new_row[int(r)], round(float(w), 3)) for r, w in zip(indices[start:end], data[start:end],
                                                                        strict=True) if int(r) in new_row]
        if pairs:
            pairs.sort()
            postings[token] = [[r for r, _ in pairs], [w for _, w in pairs]]
    return postings


def page_index(index: SearchIndex, iris: list[str] | None = None) -> dict[str, Any]:
    """{"measures": [IRI …], "postings": {token: [[row …], [weight …]]}, "grams": {bigram: …}} for the
    measures `iris` (default all): the words field and the bigram field (empty for a one-field index),
    weights rounded to 3 decimals; JSON-ready, deterministic (tokens sorted)."""
    rows = {d.iri: i for i, d in enumerate(index.docs)}
    chosen = [rows[i] for i in (iris if iris is not None else [d.iri for d in index.docs]) if i in rows]
    new_row = {old: new for new, old in enumerate(chosen)}
    return {"measures": [index.docs[i].iri for i in chosen], "postings": _postings(index.bm25, new_row),
            "grams": _postings(index.grams, new_row) if index.grams is not None else {}}


def page_query_fields(data: dict[str, Any], query: str) -> tuple[list[str], list[str]]:
    """What the page's script makes of a query: (words-field tokens, bigram-field tokens). Its words are
    the parts as typed and the bigrams that the words field holds; the other bigrams go to the bigram field."""
    grams = gram_tokens(query)
    return split_fields(query_terms(query) + grams, grams, data["postings"], data.get("grams") or {})


def page_search(data: dict[str, Any], query: str, limit: int = 10) -> list[str]:
    """The page's ranking, in Python (the reference the page's script must follow, and its test)."""
    values = np.zeros(len(data["measures"]), dtype=np.float64)
    words, grams = page_query_fields(data, query)
    for field, tokens in (("postings", words), ("grams", grams)):
        for token in tokens:
            rows, weights = data[field][token]
            values[np.asarray(rows, dtype=np.int64)] += np.asarray(weights, dtype=np.float64)
    return [data["measures"][i] for i in top(values, limit)]


def graph_echoes(graph: Any) -> list[Any]:
    """The echoes a graph states (ipg:Echo nodes: ipg:between two measures, ipg:score), as Echo records."""
    from rdflib.namespace import RDF

    from ipgraph.search.echoes import Echo
    from ipgraph.vocab import IPG

    out = []
    for node in graph.subjects(RDF.type, IPG.Echo):
        ends = sorted(str(m) for m in graph.objects(node, IPG.between))
        score = graph.value(node, IPG.score)
        if len(ends) == 2 and score is not None:
            out.append(Echo(ends[0], ends[1], float(score)))
    return sorted(out, key=lambda e: (e.a, e.b))


def view_page_data(graph: Any, build_dir: Path | str, notes: list[str] | None = None) -> dict[str, Any]:
    """The search data of a page `ipgraph view` draws from the build in build_dir: what the build's
    own page carries (ipgraph.search.stage.page_data): the inline index of the build's search index
    (BUILD/search) — every measure, so the search box finds the measures the page does not draw —
    and the echoes the graph states. A build without a readable index gets the endpoint mode (the
    page asks `ipgraph serve`'s /search) and a note in `notes`; jieba is never run here."""
    from ipgraph.search.index import SearchIndexError, index_folder, load_index
    from ipgraph.search.stage import page_data

    echoes = graph_echoes(graph)
    try:
        return page_data(load_index(index_folder(build_dir)), echoes)
    except SearchIndexError as exc:
        if notes is not None:
            notes.append(f"note: {exc}; the page's measure search asks `ipgraph serve`'s /search")
    from ipgraph.search.records import read_docs

    # the endpoint mode of page_data (as above MAX_MEASURES): the measures' labels and the echoes
    by_measure: dict[str, list[tuple[str, float]]] = {}
    for e in echoes:
        by_measure.setdefault(e.a, []).append((e.b, e.score))
        by_measure.setdefault(e.b, []).append((e.a, e.score))
    return {
        "index": None, "endpoint": "/search",
        "measures": {d.iri: [d.document, d.number] for d in read_docs(graph)},
        "echoes": {m: [[o, sc] for o, sc in sorted(lst, key=lambda x: (-x[1], x[0]))]
                   for m, lst in sorted(by_measure.items())},
    }
