"""Ranking variants measured beside the shipped one (issue 13), for the evaluation only.

Each is a rule from the IR literature, written down before it was scored and not tuned afterwards:
its parameters are the index's BM25 defaults (k1 1.2, b 0.75, Lucene's) and, for proximity, none of
its own. README ("Measured, not assumed") reports every one on the four query sets; none ships
unless it ties or beats the shipped ranking on all four and beats both baselines where that does not.
The shipped ranking (ipgraph.search.rank.scores) is the rule measured here as "once" until it met that bar.

  split        the ranking shipped before: BM25(words) + BM25(bigrams), the query's jieba words scored in
               the words field, its bigrams in the bigram field but those that are a query word the
               words field holds
  bm25f        BM25F (Robertson & Zaragoza 2009, "The Probabilistic Relevance Framework", §3.5): per
               query token (its jieba words and bigrams, each once), the length-normalised term
               frequencies of the two fields are summed before one saturation, with one idf (the
               shipped rule takes the larger instead: each occurrence counted once)
  onefield     one BM25 field whose tokens are the text's bigrams and its jieba words longer than two
               characters (a two-character word is one of the bigrams already): each occurrence once,
               one document length
  proximity    the shipped score plus the term-proximity score of Büttcher, Clarke & Lushman (SIGIR
               2006): for each pair of neighbouring occurrences of two different query terms at
               distance d, each term's accumulator gains the other's idf / d²; the score adds
               Σ min(1, idf(t)) · acc(t) / (acc(t) + K), K the document's BM25 length factor · k1.
               Query terms: its jieba words that contain no other of its words (示范 and 企业 for
               示范企业); positions in characters, adjacent = 1
  adjacent     proximity, but only between terms next to each other in the query (as the sequential
               dependence model of Metzler & Croft 2005 pairs them)

The field variants read the index's own statistics: bm25s (method lucene) stores, per token and
text, w = idf · tf / (tf + k1 · B) with B = 1 - b + b · length / average length, so the normalised
frequency tf / B = k1 · x / (1 - x) with x = w / idf, idf from the token's posting count. One idf per
token from the larger of its two document frequencies, which is the union: every text holding a
two-character word holds it as a bigram too, and a longer word is in the words field only.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ipgraph.search.index import K1, B, SearchIndex, _bm25, lucene_idf
from ipgraph.search.rank import query_units, scores
from ipgraph.search.tokenise import gram_tokens, normalise

VARIANTS = ("split", "bm25f", "onefield", "proximity", "adjacent")


def field_frequencies(bm25: object, token: str, n: int) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(rows, tf / B of each row, document frequency) of `token` in one bm25s field (None: not held)."""
    tid = bm25.vocab_dict.get(token)  # type: ignore[attr-defined]
    if tid is None:
        return None
    stored = bm25.scores  # type: ignore[attr-defined]
    start, end = int(stored["indptr"][tid]), int(stored["indptr"][tid + 1])
    df = end - start
    x = np.minimum(stored["data"][start:end].astype(np.float64) / lucene_idf(n, df), 1 - 1e-12)
    return stored["indices"][start:end], K1 * x / (1 - x), df


def token_df(index: SearchIndex, token: str) -> int:
    """The number of items holding `token` in either field (the larger field's count: see above)."""
    fields = [f for f in (index.bm25, index.grams) if f is not None]
    return max((int(got[2]) for f in fields if (got := field_frequencies(f, token, len(index.docs)))), default=0)


def field_scores(index: SearchIndex, query: str, combine: str) -> np.ndarray:
    """BM25F over the two fields: per token, the fields' tf / B summed ("sum") or the larger ("max")."""
    n = len(index.docs)
    values = np.zeros(n, dtype=np.float64)
    for token in query_units(index, query):
        acc = np.zeros(n, dtype=np.float64)
        dfs = []
        for field in (index.bm25, index.grams):
            got = field_frequencies(field, token, n) if field is not None else None
            if got is None:
                continue
            rows, tfn, df = got
            acc[rows] = acc[rows] + tfn if combine == "sum" else np.maximum(acc[rows], tfn)
            dfs.append(df)
        if dfs:
            values += lucene_idf(n, max(dfs)) * acc / (K1 + acc)
    return values


def split_scores(index: SearchIndex, query: str) -> np.ndarray:
    """The split rule: BM25(words) over the query's words the words field holds, + BM25(bigrams) over
    its bigrams the bigram field holds that are not among those words."""
    words = list(dict.fromkeys(t for t in index.word_tokeniser(query) if t in index.bm25.vocab_dict and t != "\x00"))
    values = np.zeros(len(index.docs), dtype=np.float64)
    if words:
        values += np.asarray(index.bm25.get_scores(words), dtype=np.float64)
    if index.grams is not None:
        taken = set(words)
        grams = list(dict.fromkeys(g for g in gram_tokens(query) if g in index.grams.vocab_dict
                                   and g not in taken and g != "\x00"))
        if grams:
            values += np.asarray(index.grams.get_scores(grams), dtype=np.float64)
    return values


def _long_words(words: list[str]) -> list[str]:
    return [w for w in words if len(w) > 2 and not w.isascii()]


def one_field(index: SearchIndex) -> Callable[[str], np.ndarray]:
    """The onefield variant's scorer: a BM25 of bigrams + words longer than two characters."""
    bm25 = _bm25([gram_tokens(d.gram_text()) + _long_words(words) for d, words in zip(index.docs, index.tokens,
                                                                                        strict=True)])

    def score(query: str) -> np.ndarray:
        tokens = [t for t in dict.fromkeys(gram_tokens(query) + _long_words(index.word_tokeniser(query)))
                  if t in bm25.vocab_dict]
        if not tokens:
            return np.zeros(len(index.docs), dtype=np.float64)
        return np.asarray(bm25.get_scores(tokens), dtype=np.float64)

    return score


def proximity_terms(index: SearchIndex, query: str) -> list[str]:
    """The query's jieba words the words field holds that contain none of its other words, in query order."""
    words = [t for t in dict.fromkeys(index.word_tokeniser(query)) if t in index.bm25.vocab_dict]
    return [t for t in words if not any(o != t and o in t for o in words)]


def proximity_bonus(index: SearchIndex, query: str, rows: np.ndarray, texts: list[str],
                    adjacent_only: bool = False) -> np.ndarray:
    """Büttcher et al.'s proximity score of each of `rows` (normalised texts `texts`, all the index's)."""
    out = np.zeros(len(rows), dtype=np.float64)
    terms = proximity_terms(index, query)
    if len(terms) < 2:
        return out
    n = len(index.docs)
    idf = {t: lucene_idf(n, token_df(index, t)) for t in terms}
    order = {t: k for k, t in enumerate(terms)}
    lengths = np.asarray([len(gram_tokens(t)) or 1 for t in texts], dtype=np.float64)
    average = float(lengths.mean()) if len(lengths) else 1.0
    for k, row in enumerate(rows):
        text = texts[row]
        hits = sorted((at, t) for t in terms for at in _positions(text, t))
        acc = dict.fromkeys(terms, 0.0)
        for (p1, t1), (p2, t2) in zip(hits, hits[1:], strict=False):
            if t1 == t2 or adjacent_only and abs(order[t1] - order[t2]) != 1:
                continue
            d = max(1, p2 - (p1 + len(t1)) + 1)  # characters between them, plus one: adjacent terms are 1 apart
            acc[t1] += idf[t2] / d ** 2
            acc[t2] += idf[t1] / d ** 2
        norm = K1 * ((1 - B) + B * lengths[row] / average)
        out[k] = sum(min(1.0, idf[t]) * a / (a + norm) for t, a in acc.items() if a)
    return out


def _positions(text: str, term: str) -> list[int]:
    found, at = [], text.find(term)
    while at >= 0:
        found.append(at)
        at = text.find(term, at + 1)
    return found


def variant_scorers(index: SearchIndex) -> dict[str, Callable[[str], np.ndarray]]:
    """Variant name → query → score of every item of `index` (a jieba index)."""
    texts = [normalise(d.indexed_text()) for d in index.docs]
    onefield = one_field(index)

    def with_proximity(base: Callable[[str], np.ndarray], adjacent_only: bool) -> Callable[[str], np.ndarray]:
        def score(query: str) -> np.ndarray:
            values = base(query).astype(np.float64)
            rows = np.flatnonzero(values > 0)  # every scored item: the evaluation's indexes are small
            values[rows] += proximity_bonus(index, query, rows, texts, adjacent_only)
            return values
        return score

    def shipped(q: str) -> np.ndarray:
        return scores(index, q).astype(np.float64)

    return {"split": lambda q: split_scores(index, q), "bm25f": lambda q: field_scores(index, q, "sum"),
            "onefield": onefield, "proximity": with_proximity(shipped, False),
            "adjacent": with_proximity(shipped, True)}
