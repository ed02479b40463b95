"""Search inside the graph page: the index precomputed for the page to inline (corpus-sized pages).

The page cannot run jieba, so it scores with tokens it can make itself: the query's parts as typed and
its character bigrams, each once, those the index holds (a part that is a dictionary word, 专利导航; a
bigram, 质押 or 范企). Each token's score per measure does not depend on the query (ipgraph.search.rank:
idf · the larger of its fields' saturated frequencies), so the page carries it precomputed, one
posting list per token over both fields: a query's score is a sum of lookups, and the page ranks like
`search` wherever jieba would split the query into those same tokens. For pages over MAX_MEASURES
measures the page asks the server's /search endpoint instead.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ipgraph.search.index import SearchIndex
from ipgraph.search.rank import top
from ipgraph.search.tokenise import gram_tokens, query_terms

MAX_MEASURES = 5000  # ~25k measures make a page index of tens of MB: ask the endpoint instead


def _postings(index: SearchIndex, new_row: dict[int, int]) -> dict[str, list[list[float]]]:
    """token → [[row …], [weight …]] of the index's ranked field, rows renumbered by `new_row` (rows
    not in it left out), weights rounded to 3 decimals."""
    field = index.scored_field()
    stored = field.scores
    indptr = np.asarray(stored["indptr"], dtype=np.int64)
    renumber = np.full(int(stored["num_docs"]), -1, dtype=np.int64)
    if new_row:
        old = np.fromiter(new_row.keys(), dtype=np.int64, count=len(new_row))
        renumber[old] = np.fromiter(new_row.values(), dtype=np.int64, count=len(new_row))
    rows = renumber[np.asarray(stored["indices"], dtype=np.int64)]
    weights = np.round(np.asarray(stored["data"], dtype=np.float64), 3)
    out: dict[str, list[list[float]]] = {}
    for token, tid in sorted(field.vocab_dict.items()):
        if not token or token == "\x00" or tid >= len(indptr) - 1:
            continue
        r, w = rows[indptr[tid]:indptr[tid + 1]], weights[indptr[tid]:indptr[tid + 1]]
        keep = r >= 0
        if keep.any():
            r, w = r[keep], w[keep]
            order = np.argsort(r, kind="stable")
            out[token] = [r[order].tolist(), w[order].tolist()]
    return out


def page_index(index: SearchIndex, iris: list[str] | None = None) -> dict[str, Any]:
    """{"measures": [IRI …], "postings": {token: [[row …], [score …]]}} for the measures `iris` (default
    all): one posting list per token over the index's fields, scores rounded to 3 decimals; JSON-ready,
    deterministic (tokens sorted)."""
    rows = {d.iri: i for i, d in enumerate(index.docs)}
    chosen = [rows[i] for i in (iris if iris is not None else [d.iri for d in index.docs]) if i in rows]
    new_row = {old: new for new, old in enumerate(chosen)}
    return {"measures": [index.docs[i].iri for i in chosen], "postings": _postings(index, new_row)}


def page_query_tokens(data: dict[str, Any], query: str) -> list[str]:
    """What the page's script makes of a query: its parts as typed, then its bigrams, each once, those
    the page index holds."""
    postings = data["postings"]
    return [t for t in dict.fromkeys(query_terms(query) + gram_tokens(query)) if t in postings]


def page_search(data: dict[str, Any], query: str, limit: int = 10) -> list[str]:
    """The page's ranking, in Python (the reference the page's script must follow, and its test)."""
    values = np.zeros(len(data["measures"]), dtype=np.float64)
    for token in page_query_tokens(data, query):
        rows, weights = data["postings"][token]
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
