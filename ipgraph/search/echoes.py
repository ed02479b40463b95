"""Cross-plan echoes: for each measure, its most similar measures in other documents.

Similarity is the cosine of TF-IDF vectors over the search index's own jieba tokens (sublinear
tf, smoothed idf, L2-normalised). A pair is an echo when its cosine reaches THRESHOLD, calibrated
on hand-judged pairs (ipgraph/data/echo_judgements.csv, see ipgraph.search.eval), and each measure
keeps at most PER_MEASURE echoes. In the graph (echo_triples):

    m1 ipg:echoes m2 .  m2 ipg:echoes m1 .          (symmetric)
    id:echo/<hash> a ipg:Echo ; ipg:between m1, m2 ; ipg:score 0.4321 ; rdfs:label "呼应 0.4321"@zh .
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from ipgraph.search.index import SearchIndex

THRESHOLD = 0.25  # calibrated: the lowest cut at which the 30 judged pairs keep precision >= 0.8
PER_MEASURE = 3
_BLOCK = 2048  # rows of the similarity product computed at once (bounds memory on big graphs)
CANDIDATE_DF = 100  # a word in more measures than this makes no candidate pair (see sparse_pairs)
_PAIRS = 200_000  # candidate pairs whose common part is computed at once


@dataclass(frozen=True, order=True)
class Echo:
    a: str  # measure IRI (a < b)
    b: str
    score: float


def tfidf(tokens: list[list[str]]) -> Any:
    """The L2-normalised TF-IDF matrix (scipy CSR, one row per document) of token lists."""
    from itertools import chain

    from scipy.sparse import csr_matrix

    # columns in order of first occurrence; counting left to scipy (duplicates summed): no Python loop per token
    flat = list(chain.from_iterable(tokens))
    vocab = {t: j for j, t in enumerate(dict.fromkeys(flat))}
    cols = np.fromiter(map(vocab.__getitem__, flat), dtype=np.int64, count=len(flat))
    rows = np.repeat(np.arange(len(tokens), dtype=np.int64), [len(t) for t in tokens])
    n = len(tokens)
    matrix = csr_matrix((np.ones(len(flat), dtype=np.float64), (rows, cols)), shape=(n, max(1, len(vocab))))
    matrix.sum_duplicates()
    matrix.data = 1.0 + np.log(matrix.data)
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    idf = np.log((1 + n) / (1 + df)) + 1.0
    matrix = matrix.multiply(idf).tocsr()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return matrix.multiply(1.0 / norms[:, None]).tocsr()


def similar_pairs(index: SearchIndex, floor: float = 0.0) -> list[Echo]:
    """Every pair of measures of different documents with cosine > floor (each pair once, a < b)."""
    matrix = tfidf(index.tokens)
    doc_of = np.asarray([hash_doc(d.doc_iri) for d in index.docs], dtype=np.int64)
    iris = [d.iri for d in index.docs]
    out: dict[tuple[str, str], float] = {}
    for start in range(0, matrix.shape[0], _BLOCK):
        block = (matrix[start:start + _BLOCK] @ matrix.T).tocoo()
        for i, j, v in zip(block.row + start, block.col, block.data, strict=True):
            if i >= j or doc_of[i] == doc_of[j] or v <= floor:
                continue
            a, b = sorted((iris[i], iris[j]))
            out[(a, b)] = round(float(v), 4)
    return sorted((Echo(a, b, s) for (a, b), s in out.items()), key=lambda e: (-e.score, e.a, e.b))


def hash_doc(doc_iri: str) -> int:
    return int.from_bytes(hashlib.sha1(doc_iri.encode("utf-8")).digest()[:7], "big")


def echo_links(index: SearchIndex, threshold: float = THRESHOLD, per_measure: int = PER_MEASURE,
               max_df: int = CANDIDATE_DF) -> list[Echo]:
    """The echoes: pairs at or above `threshold`, each measure keeping its `per_measure` best
    (a pair stays when it is among the best of either of its two measures). Sorted by IRIs.

    Pairs are found from shared rare words (sparse_pairs), so the cost grows with the corpus, not
    with its square; their cosines are exact (the same as similar_pairs')."""
    # each block of pairs is cut to the best 2 x per_measure of each of its measures first (a pair that
    # is not among a measure's best in its block cannot be among its best at all): the pairs above
    # the threshold grow with the square of a corpus of copied texts, what is kept does not
    pairs = sparse_pairs(index, threshold, max_df, keep=2 * per_measure)
    best: dict[str, list[Echo]] = {}
    for e in pairs:  # already best first
        best.setdefault(e.a, []).append(e)
        best.setdefault(e.b, []).append(e)
    kept = {e for lst in best.values() for e in lst[:per_measure]}
    return sorted(kept, key=lambda e: (e.a, e.b))


def sparse_pairs(index: SearchIndex, threshold: float = THRESHOLD, max_df: int = CANDIDATE_DF,
                 keep: int | None = None) -> list[Echo]:
    """The pairs of measures of different documents whose cosine reaches `threshold`, best first
    (with `keep`, only the pairs among the `keep` best of one of their measures).

    Why it is sub-quadratic: the cosine is split into the part from rare words (in at most `max_df`
    measures) and the part from common ones. Candidates are the pairs sharing a rare word: the
    product of the rare columns costs at most max_df x (non-zeros), linear in the corpus. A pair's
    common part is bounded by the product of the two rows' common norms (Cauchy-Schwarz), so only
    candidates whose bound can reach the threshold get their common part computed, exactly. A pair
    that shares no rare word is missed: its cosine rests on words in more than max_df measures
    (each with an idf near the floor), which the judged echoes never do (tests/test_echoes_build.py
    checks equality with similar_pairs on the corpus)."""
    from scipy.sparse import diags

    matrix = tfidf(index.tokens)
    n = matrix.shape[0]
    if n == 0:
        return []
    doc_of = np.asarray([hash_doc(d.doc_iri) for d in index.docs], dtype=np.int64)
    iris = [d.iri for d in index.docs]
    rank = np.empty(n, dtype=np.int64)  # each measure's place in IRI order: ties are broken by IRIs, as below
    rank[sorted(range(n), key=iris.__getitem__)] = np.arange(n)
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    # the cap grows as the square root of the corpus: still sub-quadratic (candidates <= cap x non-zeros),
    # and a text repeated in up to 2 sqrt(n) measures (a template copied across plans) still pairs up
    cap = max(max_df, int(2 * np.sqrt(n)))
    rare_cols = (df <= cap).astype(np.float64)
    rare = (matrix @ diags(rare_cols)).tocsr()
    common = (matrix @ diags(1.0 - rare_cols)).tocsr()
    rare.eliminate_zeros()
    common.eliminate_zeros()
    common_norm = np.sqrt(np.asarray(common.multiply(common).sum(axis=1)).ravel())
    rare_t = rare.T.tocsr()
    floor = threshold - 1e-9
    found_i: list[np.ndarray] = []
    found_j: list[np.ndarray] = []
    found_v: list[np.ndarray] = []
    step = max(1, _BLOCK // 4)
    fresh = 0  # found_*[fresh:] are the pairs of the current block
    for start in range(0, n, step):
        block = (rare[start:start + step] @ rare_t).tocoo()
        i = block.row.astype(np.int64) + start
        j = block.col.astype(np.int64)
        v = block.data
        may = (i < j) & (doc_of[i] != doc_of[j]) & (v + common_norm[i] * common_norm[j] >= floor)
        i, j, v = i[may], j[may], v[may]
        for k in range(0, i.size, _PAIRS):  # the common part, exactly, in bounded batches
            ii, jj = i[k:k + _PAIRS], j[k:k + _PAIRS]
            extra = np.asarray(common[ii].multiply(common[jj]).sum(axis=1)).ravel()
            total = v[k:k + _PAIRS] + extra
            hit = total >= floor
            found_i.append(ii[hit])
            found_j.append(jj[hit])
            found_v.append(total[hit])
        if keep is not None and found_i:  # this block's best; the blocks' best are cut again now and then
            block_best = _best_pairs(found_i[fresh:], found_j[fresh:], found_v[fresh:], rank, keep)
            del found_i[fresh:], found_j[fresh:], found_v[fresh:]
            for found, best in zip((found_i, found_j, found_v), block_best, strict=True):
                found.extend(best)
            if sum(x.size for x in found_i) > 16 * keep * n:
                found_i, found_j, found_v = _best_pairs(found_i, found_j, found_v, rank, keep)
            fresh = len(found_i)
    if keep is not None and found_i:
        found_i, found_j, found_v = _best_pairs(found_i, found_j, found_v, rank, keep)
    out = []
    if found_i:
        for a, b, s in zip(np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_v), strict=True):
            score = round(float(s), 4)
            if score >= threshold:
                x, y = sorted((iris[int(a)], iris[int(b)]))
                out.append(Echo(x, y, score))
    return sorted(out, key=lambda e: (-e.score, e.a, e.b))


def _best_pairs(found_i: list[np.ndarray], found_j: list[np.ndarray], found_v: list[np.ndarray],
                rank: np.ndarray, keep: int) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """The pairs among the `keep` best (score rounded, then IRIs) of either of their two measures."""
    i, j, v = np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_v)
    score = np.round(v, 4)
    lo, hi = np.minimum(rank[i], rank[j]), np.maximum(rank[i], rank[j])
    chosen = np.zeros(i.size, dtype=bool)
    for end in (i, j):
        order = np.lexsort((hi, lo, -score, end))  # by measure, then best first
        ends = end[order]
        first = np.searchsorted(ends, ends, side="left")  # where each measure's run starts
        place = np.arange(ends.size) - first
        chosen[order[place < keep]] = True
    return [i[chosen]], [j[chosen]], [v[chosen]]


def echo_iri(echo: Echo) -> str:
    from ipgraph.vocab import DATA

    digest = hashlib.sha1(f"{echo.a}\n{echo.b}".encode()).hexdigest()[:16]
    return f"{DATA}echo/{digest}"


def echo_label(echo: Echo) -> str:
    """The Echo node's name (every typed node has one label): 呼应 and its score."""
    return f"呼应 {echo.score:.4f}"


def echo_triples(links: list[Echo]) -> list[tuple[Any, Any, Any]]:
    """The rdflib triples stating `links` (add them to the graph: graph.addN or a loop of add)."""
    from rdflib import Literal, URIRef
    from rdflib.namespace import RDF, RDFS, XSD

    from ipgraph.vocab import IPG

    triples = []
    for e in links:
        a, b, node = URIRef(e.a), URIRef(e.b), URIRef(echo_iri(e))
        triples += [
            (a, IPG.echoes, b), (b, IPG.echoes, a), (node, RDF.type, IPG.Echo),
            (node, IPG.between, a), (node, IPG.between, b),
            (node, IPG.score, Literal(Decimal(score_text(e)), datatype=XSD.decimal)),
            (node, RDFS.label, Literal(echo_label(e), lang="zh")),
        ]
    return triples


def score_text(echo: Echo) -> str:
    """The score to 4 places in xsd:decimal's canonical form ("0.37", not "0.3700"): the form the
    store gives back, so the files and the store agree term for term."""
    from ipgraph.stream.triples import decimal_text

    return decimal_text(round(echo.score, 4))


def echo_lines(links: list[Echo]) -> list[str]:
    """The N-Triples lines stating `links`, spelled as the stream writer spells (ipgraph.stream.triples);
    the same triples as echo_triples."""
    from ipgraph.stream.triples import _XSD, LABEL, TYPE, ipg, iri, line, zh

    out = []
    for e in links:
        a, b, node = iri(e.a), iri(e.b), iri(echo_iri(e))
        out += [line(a, ipg("echoes"), b), line(b, ipg("echoes"), a), line(node, TYPE, ipg("Echo")),
                line(node, ipg("between"), a), line(node, ipg("between"), b),
                line(node, ipg("score"), f'"{score_text(e)}"^^<{_XSD}decimal>'), line(node, LABEL, zh(echo_label(e)))]
    return out
