"""Cross-plan echoes: for each measure, its most similar measures in other documents.

Similarity is the cosine of weighted vectors over the search index's own jieba words (sublinear tf
times a FIXED weight per word, L2-normalised). The weights depend on no corpus (see token_weight):
a pair's score is a function of the two measures' words and versioned data only, so adding,
changing or removing a document never changes the score of a pair that does not involve it, and the
echoes can be brought up to date by computing only the pairs of what changed (echo_links_since).

A pair is an echo candidate when its cosine reaches THRESHOLD (calibrated on hand-judged pairs,
ipgraph/data/echo_judgements.csv, see ipgraph.search.eval); each measure keeps its PER_MEASURE best
(score, then IRIs), and a pair is stated when it is among the best of either of its measures. In the
graph (echo_triples):

    m1 ipg:echoes m2 .  m2 ipg:echoes m1 .          (symmetric)
    id:echo/<hash> a ipg:Echo ; ipg:between m1, m2 ; ipg:score 0.4321 ; rdfs:label "呼应 0.4321"@zh .

Why the cap stays although it is not pair-local: texts copied across plans (the synthetic
1,000-plan corpus draws its measures from 184 shipped ones) make the pairs above the threshold grow
with the square of the corpus; the cap keeps the graph linear. Its price is that a new document can
push a neighbour's weakest echo out of its best PER_MEASURE (and removing the document brings it
back): echo_links_since repairs exactly those neighbours, and tests check that the result equals
the full computation byte for byte.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np

from ipgraph.search.index import SearchIndex

# calibrated (ipgraph.search.eval.calibrate on ipgraph/data/echo_judgements.csv): the lowest judged score,
# 0.3054, at which the judged pairs at or above it keep precision >= 0.8 (33 of 41; every corpus pair
# above 0.28 is judged, so this is the precision of all of them), cut to 3 places
THRESHOLD = 0.305
PER_MEASURE = 3
_BLOCK = 512  # query rows whose candidate pairs are made at once (bounds memory on big graphs)
# candidate pairs of classes a block of query classes should make at most (_class_pairs sizes its blocks by
# the last one's count: at 10,000 plans a class has ten times the candidates it has at 1,000)
_CANDIDATES = 1_500_000
_PAIRS = 20_000  # candidate pairs whose exact score is computed at once (their rows are copied: measured,
# at 1,000 plans 200,000 at once peaked 430 MB above the matrix, 20,000 130 MB, in no more time)
_SLACK = 2e-4  # bounds meet the threshold and each other with this margin: scores are rounded to 4 places
# Weights (token_weight). A word of the domain table gets -log(its share of the reference units);
# any other word jieba's general estimate of the same quantity, -log(freq/total) - log(TOKENS_PER_UNIT)
# (a word of probability p per token is in about TOKENS_PER_UNIT x p of the units), never below the
# table's cut (a word the reference rarely has is at least as specific as the rarest word it lists).
TOKENS_PER_UNIT = 50.9  # measured: words per reference unit (shipped measures 81, dev sentences 22; 381 units)
# Words only, not the index's bigrams: weighted the same way, bigrams rank the judged pairs no better
# (average precision 0.766 against 0.782 for words alone, measured on the 53 judged pairs).
WEIGHTS_FORMAT = 1  # bump when the weighting changes: a build's saved echoes are then recomputed
_NUMBER = re.compile(r"[0-9.\-]+")  # figures and years: plans change them, they name no subject
ECHO_STATE = "echoes.tsv"  # in the search folder: the echoes and what they were computed from (sorted lines)


@dataclass(frozen=True, order=True)
class Echo:
    a: str  # measure IRI (a < b)
    b: str
    score: float


# ------------------------------------------------------------------------------------- weights


@lru_cache(maxsize=1)
def _general() -> tuple[dict[str, int], float]:
    """jieba's own dictionary (dict.txt: word, count in its training text, tag) and the total count."""
    text = _general_file().read_text(encoding="utf-8")
    fields = text.split()
    if len(fields) == 3 * text.count("\n") and all(n.isdigit() for n in fields[1::3]):
        # every line "word count tag" (jieba's own file): its fields taken in steps, half the regex's time
        pairs: Iterable[tuple[str, str]] = zip(fields[0::3], fields[1::3], strict=True)
    else:
        pairs = _DICT_LINE.findall(text)
    counts = {word: int(n) for word, n in pairs if int(n) > 0}
    return counts, float(sum(counts.values()))


_DICT_LINE = re.compile(r"^([^ \r\n]+) ([0-9]+)(?= |\r?$)", re.M)  # word, count[, tag]


@lru_cache(maxsize=1)
def _domain() -> tuple[dict[str, float], float, str]:
    """The domain table (ipgraph/data/echo_domain_words.csv): word → share of the reference units
    holding it; the cut (the smallest share listed); and the table's sha256 (part of the fingerprint)."""
    from ipgraph.knowledge import data_text

    raw = data_text("echo_domain_words.csv")
    lines = [line for line in raw.splitlines() if line.strip() and not line.startswith("#")]
    shares = {r["word"]: float(r["share"]) for r in csv.DictReader(io.StringIO("\n".join(lines)))}
    cut = min(shares.values()) if shares else 1.0
    return shares, cut, hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


_WEIGHTS: dict[str, float] = {}


def token_weight(token: str) -> float:
    """The fixed weight of a search word (0 for a figure: not compared)."""
    w = _WEIGHTS.get(token)
    if w is None:
        if _NUMBER.fullmatch(token):
            w = 0.0
        else:
            shares, cut, _ = _domain()
            share = shares.get(token)
            if share is not None:
                w = -math.log(share)
            else:
                counts, total = _general()
                general = math.log(total / counts.get(token, 1)) - math.log(TOKENS_PER_UNIT)
                w = max(-math.log(cut), general)
        _WEIGHTS[token] = w
    return w


def fingerprint(threshold: float = THRESHOLD, per_measure: int = PER_MEASURE) -> str:
    """What a set of echoes depends on besides the words: weights, threshold and cap."""
    key = json.dumps([WEIGHTS_FORMAT, TOKENS_PER_UNIT, _domain()[2], _general_digest(), threshold, per_measure])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=1)
def _general_digest() -> str:
    """The sha256 of jieba's dictionary file (what _general reads), without parsing it."""
    return hashlib.sha256(_general_file().read_bytes()).hexdigest()[:16]


def _general_file() -> Path:
    """jieba's dict.txt (ipgraph.search.prefixdict.dictionary_file)."""
    from ipgraph.search.prefixdict import dictionary_file

    return dictionary_file()


# ------------------------------------------------------------------------------------- vectors


@dataclass
class EchoMatrix:
    """The measures as L2-normalised rows; columns in one global order of words (heaviest first, then
    by the word), so that a pair's score is summed in the same order whatever the corpus."""

    full: Any  # scipy CSR
    prefix: Any  # the prefix entries of each row (see echo_matrix), CSR
    suffix: np.ndarray  # the norm of the rest of each row
    iris: list[str]
    doc_of: np.ndarray  # each row's document, hashed
    rank: np.ndarray  # each row's place in IRI order
    copy_of: np.ndarray  # each row's class of identical rows (same words, same values): see _row_classes
    first: np.ndarray  # each class's first row


def weighted_rows(tokens: list[list[str]]) -> Any:
    """The L2-normalised weighted matrix (scipy CSR, one row per token list, columns in the global
    order of echo_matrix). Every value is computed from its own row only (so the same in any corpus)."""
    from itertools import chain, repeat

    from scipy.sparse import csr_matrix

    weight = {t: token_weight(t) for t in set(chain.from_iterable(tokens))}
    vocab = sorted((t for t, w in weight.items() if w > 0), key=lambda t: (-weight[t], t))
    column = {t: j for j, t in enumerate(vocab)}
    flat = list(chain.from_iterable(tokens))
    cols = np.fromiter(map(column.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
    rows = np.repeat(np.arange(len(tokens), dtype=np.int64), [len(t) for t in tokens])
    compared = cols >= 0  # figures are not compared
    cols, rows = cols[compared], rows[compared]
    matrix = csr_matrix((np.ones(cols.size, dtype=np.float64), (rows, cols)),
                        shape=(len(tokens), max(1, len(vocab))))
    return _weigh(matrix, vocab, weight)


def weighted_counts(rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, tokens: list[str], n_rows: int) -> Any:
    """weighted_rows from token counts (index.Postings.counts: row, column, count, the column's tokens)
    instead of token lists: the same matrix, bit for bit, without a list of every text's words."""
    return echo_rows_of(rows, cols, counts, tokens, n_rows).matrix


@dataclass
class EchoRows:
    """Weighted rows (weighted_counts) with their columns' words and weights: what a build keeps in its
    search folder (save_echo_rows) so that the next one weighs only the rows of the documents it adds
    (splice_echo_rows). A row's values depend on its own words only, and the columns' order (heaviest
    first, then by the word) on no corpus: a kept row is the same row in any later build, its columns
    renumbered."""

    matrix: Any  # scipy CSR, L2-normalised rows, each row's columns in the global order
    tokens: list[str]  # per column, its word
    weights: np.ndarray  # per column, token_weight of its word


def echo_rows_of(rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, tokens: list[str], n_rows: int,
                 known: Mapping[str, float] | None = None) -> EchoRows:
    """weighted_counts with its columns' words and weights; `known`: weights already computed (a
    previous build's), so that only new words are weighed."""
    from scipy.sparse import csr_matrix

    held = np.zeros(len(tokens), dtype=bool)
    held[cols] = True  # the words some row holds (weighted_rows' vocabulary)
    known = known or {}
    weight = {t: known[t] if t in known else token_weight(t) for t, h in zip(tokens, held, strict=True) if h}
    vocab = sorted((t for t, w in weight.items() if w > 0), key=lambda t: (-weight[t], t))
    column = {t: j for j, t in enumerate(vocab)}
    to_global = np.asarray([column.get(t, -1) for t in tokens], dtype=np.int64)
    cols = to_global[cols] if cols.size else cols
    compared = cols >= 0  # figures are not compared
    matrix = csr_matrix((counts[compared].astype(np.float64), (rows[compared], cols[compared])),
                        shape=(n_rows, max(1, len(vocab))))
    return EchoRows(matrix=_weigh(matrix, vocab, weight), tokens=vocab,
                    weights=np.asarray([weight[t] for t in vocab], dtype=np.float64))


def coalesce(parts: list[tuple[Any, int, int]]) -> list[tuple[Any, int, int]]:
    """Row ranges (source, start, end) with each run of adjacent ranges of one source made one range."""
    out: list[tuple[Any, int, int]] = []
    for source, start, end in parts:
        if out and out[-1][0] is source and out[-1][2] == start:
            out[-1] = (source, out[-1][1], end)
        else:
            out.append((source, start, end))
    return out


ECHO_ROWS = "echo-rows"  # in the search folder: a build's EchoRows (numpy arrays and the columns' words)


def save_echo_rows(rows: EchoRows, folder: Path | str) -> None:
    """Keep `rows` in the search folder `folder` (arrays as .npy: read back mapped, sliced by document)."""
    from ipgraph.atomic import atomic_write_text

    target = Path(folder) / ECHO_ROWS
    target.mkdir(parents=True, exist_ok=True)
    m = rows.matrix
    for name, array in (("indptr", m.indptr.astype(np.int64)), ("indices", m.indices.astype(np.int32)),
                        ("data", m.data), ("weights", rows.weights)):
        np.save(target / f"{name}.npy", array, allow_pickle=False)
    atomic_write_text(target / "columns.json", json.dumps({"fingerprint": fingerprint(), "rows": int(m.shape[0]),
                                                           "tokens": rows.tokens}, ensure_ascii=False))


def load_echo_rows(folder: Path | str) -> EchoRows | None:
    """The EchoRows a build kept in its search folder, when today's weights made them (None otherwise)."""
    from scipy.sparse import csr_matrix

    source = Path(folder) / ECHO_ROWS
    try:
        meta = json.loads((source / "columns.json").read_text(encoding="utf-8"))
        if meta.get("fingerprint") != fingerprint():
            return None
        arrays = {name: np.load(source / f"{name}.npy", mmap_mode="r", allow_pickle=False)
                  for name in ("indptr", "indices", "data", "weights")}
        tokens = meta["tokens"]
        n = int(meta["rows"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if len(arrays["indptr"]) != n + 1 or len(arrays["weights"]) != len(tokens):
        return None
    matrix = csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=(n, max(1, len(tokens))),
                        copy=False)
    return EchoRows(matrix=matrix, tokens=list(tokens), weights=np.asarray(arrays["weights"]))


def splice_echo_rows(parts: list[tuple[EchoRows, int, int]]) -> EchoRows:
    """The rows [start, end) of each part, in this order, as one EchoRows: what echo_rows_of gives for
    the same rows' counts (the columns the rows hold, in the global order), bit for bit."""
    from scipy.sparse import csr_matrix

    parts = coalesce(parts)
    sources: dict[int, EchoRows] = {}
    for rows, _start, _end in parts:
        sources.setdefault(id(rows), rows)
    names: list[str] = []
    weight: list[float] = []
    at: dict[str, int] = {}
    mapping: dict[int, np.ndarray] = {}
    for key, rows in sources.items():  # each part's columns in one provisional numbering
        ids = np.empty(len(rows.tokens), dtype=np.int64)
        for col, (token, w) in enumerate(zip(rows.tokens, rows.weights.tolist(), strict=True)):
            found = at.get(token)
            if found is None:
                found = at[token] = len(names)
                names.append(token)
                weight.append(w)
            ids[col] = found
        mapping[key] = ids
    indices, data, lengths = [], [], []
    for rows, start, end in parts:
        m = rows.matrix
        a, b = int(m.indptr[start]), int(m.indptr[end])
        indices.append(mapping[id(rows)][np.asarray(m.indices[a:b], dtype=np.int64)])
        data.append(np.asarray(m.data[a:b]))
        lengths.append(np.diff(np.asarray(m.indptr[start:end + 1], dtype=np.int64)))
    every = np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64)
    held = np.zeros(len(names), dtype=bool)
    held[every] = True
    present = np.flatnonzero(held)  # np.unique's answer, read off a mask (no sort of every entry)
    order = sorted(present.tolist(), key=lambda c: (-weight[c], names[c]))  # the global order of the columns held
    number = np.zeros(len(names), dtype=np.int64)
    number[order] = np.arange(len(order))
    counts = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
    indptr = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    matrix = csr_matrix((np.concatenate(data) if data else np.zeros(0), number[every].astype(np.int32), indptr),
                        shape=(counts.size, max(1, len(order))))
    return EchoRows(matrix=matrix, tokens=[names[c] for c in order],
                    weights=np.asarray([weight[c] for c in order], dtype=np.float64))


def _weigh(matrix: Any, vocab: list[str], weight: dict[str, float]) -> Any:
    """Counts → 1 + log(tf) times the word's weight, rows L2-normalised (in place)."""
    matrix.sum_duplicates()  # sorted column indices in each row: the global order
    # 1 + log(tf) from Python's math.log per count: the same bits on any array layout (a table of the
    # counts up to the largest, looked up: no sort of every entry)
    whole = matrix.data.astype(np.int64)
    top = int(whole.max()) if whole.size else 0
    if top <= 1 << 16 and np.array_equal(whole, matrix.data):
        table = np.asarray([0.0] + [1.0 + math.log(c) for c in range(1, top + 1)], dtype=np.float64)
        tf = table[whole]
    else:  # counts too large for a table (or not whole): per distinct value
        counts, where = np.unique(matrix.data, return_inverse=True)
        tf = np.asarray([1.0 + math.log(c) for c in counts], dtype=np.float64)[where.ravel()]
    weights = np.asarray([weight[t] for t in vocab], dtype=np.float64)
    matrix.data = tf * weights[matrix.indices] if vocab else tf
    squares = matrix.copy()
    squares.data = squares.data * squares.data
    norms = np.sqrt(np.asarray(squares.sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    matrix.data = matrix.data / np.repeat(norms, np.diff(matrix.indptr))
    return matrix


def echo_matrix(index: SearchIndex, threshold: float = THRESHOLD) -> EchoMatrix:
    """The index's measures as rows, with each row's prefix for `threshold`.

    Why candidates are exact (prefix filtering, Bayardo et al. 2007, for unit vectors): a row's prefix
    is its entries, in the global order, up to where the rest (its suffix) has norm < threshold. If
    two rows share no word in both prefixes, the first word they share lies in the suffix of one of
    them, say x, and so do all later shared words: their cosine is at most |x's suffix| x |y| <
    threshold. So every pair that reaches the threshold shares a word of both prefixes, and the
    candidates are the pairs of the prefixes' inverted lists; the global order puts the heavy (rare)
    words first, so the prefixes hold the rare words and their lists are short."""
    return echo_matrix_of(weighted_rows(index.tokens), [d.iri for d in index.docs], [d.doc_iri for d in index.docs],
                          threshold)


def echo_matrix_of(full: Any, iris: list[str], doc_iris: list[str], threshold: float = THRESHOLD) -> EchoMatrix:
    """echo_matrix of weighted rows `full` (weighted_rows or weighted_counts), one per measure of `iris`."""
    from scipy.sparse import csr_matrix

    squares = full.data * full.data
    ends = full.indptr[1:]
    row_of = np.repeat(np.arange(full.shape[0]), np.diff(full.indptr))
    run = np.cumsum(squares)
    total_to_end = run[ends[row_of] - 1] if squares.size else run
    suffix_from_here = total_to_end - run + squares  # squared norm of this entry and the ones after it
    # a score is rounded to 4 places before it meets the threshold, and the sums above round too:
    # the margin may only put more entries in a prefix, never fewer
    bound = max(0.0, threshold - 1e-4)
    keep = suffix_from_here >= bound * bound - 1e-9
    counts = np.bincount(row_of[keep], minlength=full.shape[0])
    prefix = csr_matrix((full.data[keep], full.indices[keep], np.concatenate(([0], np.cumsum(counts)))),
                        shape=full.shape)
    rest = np.where(keep, 0.0, squares)
    suffix = np.sqrt(np.bincount(row_of, weights=rest, minlength=full.shape[0])) if rest.size else np.zeros(full.shape[0])
    rank = np.empty(len(iris), dtype=np.int64)
    rank[sorted(range(len(iris)), key=iris.__getitem__)] = np.arange(len(iris))
    hashed = {d: hash_doc(d) for d in set(doc_iris)}  # a document's rows share its hash
    doc_of = np.asarray([hashed[d] for d in doc_iris], dtype=np.int64)
    copy_of, first = _row_classes(full)
    return EchoMatrix(full=full, prefix=prefix, suffix=suffix, iris=iris, doc_of=doc_of, rank=rank,
                      copy_of=copy_of, first=first)


def _row_classes(full: Any) -> tuple[np.ndarray, np.ndarray]:
    """Each row's class of identical rows (the same columns and the same value bits) and each class's
    first row. Why: plans copy measures word for word, and two identical rows have the same products
    with any row in the same order, so the same score to the bit: a pair of classes is scored once."""
    seen: dict[bytes, int] = {}
    copy_of = np.empty(full.shape[0], dtype=np.int64)
    indptr, indices, data = full.indptr, full.indices, full.data
    for n in range(full.shape[0]):
        s, e = indptr[n], indptr[n + 1]
        copy_of[n] = seen.setdefault(indices[s:e].tobytes() + data[s:e].tobytes(), len(seen))
    return copy_of, np.unique(copy_of, return_index=True)[1].astype(np.int64)  # classes number in first-row order


def hash_doc(doc_iri: str) -> int:
    return int.from_bytes(hashlib.sha1(doc_iri.encode("utf-8")).digest()[:7], "big")


def pair_score(full: Any, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The cosines of rows i and j (arrays of row numbers), to 4 places: the products of the shared
    words summed in the global word order, so a pair gets the same bits in any corpus."""
    out = np.empty(i.size, dtype=np.float64)
    for k in range(0, i.size, _PAIRS):
        ii, jj = i[k:k + _PAIRS], j[k:k + _PAIRS]
        out[k:k + _PAIRS] = np.asarray(full[ii].multiply(full[jj]).sum(axis=1)).ravel()
    return np.round(out, 4)


class _ClassScores:
    """The exact scores of pairs of row classes (EchoMatrix.copy_of), each computed once by pair_score
    on the classes' first rows: a pair (q, j) gets the bits pair_score(full, q, j) gives, since the
    products of identical rows are identical and a product does not depend on the side.

    Only the pairs reaching `threshold` are kept (memory: the candidates of a big corpus run to tens of
    millions): a pair asked again after one of its classes was `done` (every candidate pair of a done
    class was scored then, candidates being symmetric) and not kept is below it (-inf).

    `finish` lets go of what no later ask can want (at 10,000 plans the pairs above the threshold run to
    tens of millions): a pair is asked at most twice, once from each class's block, so it is kept only
    while its other class is `later` (to be queried) and not yet done; and with `keep` (each query row's
    best `keep`), a class's kept pairs below the score at which the pairs above give every one of its
    rows `keep` rows of other documents (`useful`: rows a class surely gives any query row) cannot be
    among its rows' best, and are dropped."""

    def __init__(self, em: EchoMatrix, threshold: float, later: np.ndarray | None = None,
                 useful: np.ndarray | None = None, keep: int | None = None) -> None:
        self.em = em
        self.threshold = threshold
        self.classes = max(1, em.first.size)
        self.keys = np.empty(0, dtype=np.int64)  # sorted
        self.values = np.empty(0, dtype=np.float64)
        self.done = np.zeros(self.classes, dtype=bool)
        self.later = later if later is not None else np.ones(self.classes, dtype=bool)
        self.useful = useful
        self.keep = keep

    def finish(self, block: np.ndarray) -> None:
        """Mark the classes of `block` done: every candidate pair of theirs is scored; drop what no later ask wants."""
        self.done[block] = True
        if not self.keys.size:
            return
        a, b = np.divmod(self.keys, self.classes)
        pending_a = self.later[a] & ~self.done[a]
        pending = np.flatnonzero(pending_a | (self.later[b] & ~self.done[b]))  # one side asks again (at most one)
        if self.keep is not None and self.useful is not None and pending.size:
            wait = np.where(pending_a, a, b)[pending]  # the class that asks again
            other, score = np.where(pending_a, b, a)[pending], self.values[pending]
            order = np.lexsort((-score, wait))  # each waiting class's pairs, best first
            wait, other, score = wait[order], other[order], score[order]
            total = np.cumsum(self.useful[other])
            before = np.concatenate(([0], total))[np.searchsorted(wait, wait, side="left")]
            reached = total - before >= self.keep  # the pairs up to here give every row `keep` others
            cutoff = np.full(self.classes, -np.inf)
            np.maximum.at(cutoff, wait[reached], score[reached])
            pending = np.sort(pending[order][score >= cutoff[wait]])
        self.keys, self.values = self.keys[pending], self.values[pending]

    def __call__(self, q: np.ndarray, j: np.ndarray) -> np.ndarray:
        a, b = self.em.copy_of[q], self.em.copy_of[j]
        keys = np.minimum(a, b) * self.classes + np.maximum(a, b)
        wanted, one, where = np.unique(keys, return_index=True, return_inverse=True)
        at = np.minimum(np.searchsorted(self.keys, wanted), max(0, self.keys.size - 1))
        known = (self.keys[at] == wanted) if self.keys.size else np.zeros(wanted.size, dtype=bool)
        out = np.full(wanted.size, -np.inf)
        out[known] = self.values[at[known]]
        ask = ~known & ~(self.done[a[one]] | self.done[b[one]])  # never scored yet
        if ask.any():
            side = one[ask]
            fresh = pair_score(self.em.full, self.em.first[a[side]], self.em.first[b[side]])
            out[ask] = fresh
            hit = fresh >= self.threshold
            keys_all = np.concatenate((self.keys, wanted[ask][hit]))
            order = np.argsort(keys_all, kind="stable")
            self.keys, self.values = keys_all[order], np.concatenate((self.values, fresh[hit]))[order]
        return out[where.ravel()]


def query_pairs(em: EchoMatrix, rows: np.ndarray, threshold: float = THRESHOLD,
                keep: int | None = None, reference: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair (q, j) of a row q of `rows` and a row j of another document whose score reaches
    `threshold`: (q, j, score) arrays; with `keep`, only each q's `keep` best (score, then IRIs).
    `reference` scores every pair by itself (pair_score), not once per pair of identical-row classes:
    the slow path the tests hold the fast one to."""
    if not reference:
        return _class_pairs(em, rows, threshold, keep)
    prefix_t = em.prefix.T.tocsr()
    exact = (lambda a, b: pair_score(em.full, a, b)) if reference else _ClassScores(em, threshold)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    rows = np.asarray(rows, dtype=np.int64)
    for start in range(0, rows.size, _BLOCK):
        block = rows[start:start + _BLOCK]
        cand = (em.prefix[block] @ prefix_t).tocoo()
        q, j, low = block[cand.row], cand.col.astype(np.int64), cand.data
        # low: the part of the score from the words in both prefixes; the rest is at most the two
        # suffixes' norms (Cauchy-Schwarz). Only a pair whose bound can reach the bar is scored exactly.
        high = low + em.suffix[q] + em.suffix[j]
        may = (em.doc_of[q] != em.doc_of[j]) & (high >= threshold - _SLACK)
        q, j, low, high = q[may], j[may], low[may], high[may]
        if keep is not None and q.size:  # q's keep-th best lower bound: a pair below it cannot be among q's best
            order = np.lexsort((-low, q))
            qs = q[order]
            place = np.arange(qs.size) - np.searchsorted(qs, qs, side="left")
            bar = np.full(len(em.iris), -np.inf)
            at = order[place == keep - 1]
            bar[q[at]] = low[at]
            ok = high >= bar[q] - _SLACK
            q, j = q[ok], j[ok]
        score = exact(q, j)
        hit = score >= threshold
        q, j, score = q[hit], j[hit], score[hit]
        if keep is not None:
            q, j, score = _best_of(em, q, j, score, keep)
        found.append((q, j, score))
    if not found:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=np.float64)
    return (np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found]),
            np.concatenate([f[2] for f in found]))


def _spread(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of `counts` items from `starts`: each item's group and its position."""
    group = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    within = np.arange(group.size, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return group, starts[group] + within


def _class_pairs(em: EchoMatrix, rows: np.ndarray, threshold: float,
                 keep: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """query_pairs on classes of identical rows: candidates, bounds and exact scores between the
    classes' first rows (pair_score: the bits of any of their rows), then the pairs of rows of
    classes that reach `threshold`. With `keep`, a class gives a query row only its `keep` first rows
    (in IRI order) outside the query's document: the rows of one class score alike, and among equal
    scores _best_of prefers the smaller IRI, so no other row of the class can be among the best."""
    rows = np.asarray(rows, dtype=np.int64)
    n_class = em.first.size
    members = np.lexsort((em.rank, em.copy_of))  # every row by class, then IRI order
    size = np.bincount(em.copy_of, minlength=n_class)
    start = np.cumsum(size) - size
    if keep is not None:  # at most this many of a class's rows can share a document with a query row
        per_doc = np.unique(np.stack((em.copy_of, em.doc_of)), axis=1, return_counts=True)
        most = np.zeros(n_class, dtype=np.int64)
        np.maximum.at(most, per_doc[0][0], per_doc[1])
        take = np.minimum(size, keep + most)
    else:
        take = size
    asked = rows[np.lexsort((em.rank[rows], em.copy_of[rows]))]  # the query rows by class
    asked_size = np.bincount(em.copy_of[asked], minlength=n_class)
    asked_start = np.cumsum(asked_size) - asked_size
    queried = np.flatnonzero(asked_size)
    prefix = em.prefix[em.first]
    prefix_t = prefix.T.tocsr()
    suffix = em.suffix[em.first]
    later = asked_size > 0
    # the rows of a class any query row surely gets (take[u] first rows, at most `most` of them in its document)
    useful = np.maximum(take - most, 0) if keep is not None else None
    scores = _ClassScores(em, threshold, later=later, useful=useful, keep=keep)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    at, step = 0, min(64, _BLOCK)  # the first block small: how many candidates a class makes is not known yet
    while at < queried.size:
        block = queried[at:at + step]
        at += block.size
        cand = (prefix[block] @ prefix_t).tocoo()
        step = int(np.clip(block.size * _CANDIDATES // max(1, cand.nnz), 1, _BLOCK))  # the next block's
        u, v, low = block[cand.row], cand.col.astype(np.int64), cand.data
        may = low + suffix[u] + suffix[v] >= threshold - _SLACK
        u, v = u[may], v[may]
        score = scores(em.first[u], em.first[v])
        hit = score >= threshold
        u, v, score = u[hit], v[hit], score[hit]
        # (class u, class v) → (query row q of u, class v) → (q, row j of v)
        group, place = _spread(asked_start[u], asked_size[u])
        q, v, score = asked[place], v[group], score[group]
        group, place = _spread(start[v], take[v])
        q, j, score = q[group], members[place], score[group]
        other = em.doc_of[q] != em.doc_of[j]
        q, j, score = q[other], j[other], score[other]
        if keep is not None:
            q, j, score = _best_of(em, q, j, score, keep)
        found.append((q, j, score))
        scores.finish(block)  # every candidate pair of these classes is scored
    if not found:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=np.float64)
    return (np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found]),
            np.concatenate([f[2] for f in found]))


def _best_of(em: EchoMatrix, q: np.ndarray, j: np.ndarray, score: np.ndarray,
             keep: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each q's `keep` best pairs: by score, then the pair's IRIs (the smaller first)."""
    lo, hi = np.minimum(em.rank[q], em.rank[j]), np.maximum(em.rank[q], em.rank[j])
    order = np.lexsort((hi, lo, -score, q))
    qs = q[order]
    place = np.arange(qs.size) - np.searchsorted(qs, qs, side="left")
    chosen = order[place < keep]
    return q[chosen], j[chosen], score[chosen]


def _echo(em: EchoMatrix, i: int, j: int, score: float) -> Echo:
    a, b = sorted((em.iris[i], em.iris[j]))
    return Echo(a, b, float(score))


def _key(e: Echo) -> tuple[float, str, str]:
    return (-e.score, e.a, e.b)


def echo_links(index: SearchIndex, threshold: float = THRESHOLD, per_measure: int = PER_MEASURE,
               reference: bool = False) -> list[Echo]:
    """The echoes of the whole index: pairs at or above `threshold`, each measure keeping its
    `per_measure` best (a pair stays when it is among the best of either of its measures). Sorted by IRIs.
    `reference`: every pair scored by itself (query_pairs), for the tests."""
    em = echo_matrix(index, threshold)
    q, j, s = query_pairs(em, np.arange(len(em.iris)), threshold, keep=per_measure, reference=reference)
    return sorted({_echo(em, int(a), int(b), float(v)) for a, b, v in zip(q, j, s, strict=True)},
                  key=lambda e: (e.a, e.b))


def sparse_pairs(index: SearchIndex, threshold: float = THRESHOLD) -> list[Echo]:
    """Every pair of measures of different documents whose score reaches `threshold`, best first
    (prefix-filtered candidates; tests check them against similar_pairs, the brute force)."""
    em = echo_matrix(index, threshold)
    q, j, s = query_pairs(em, np.arange(len(em.iris)), threshold)
    once = q < j
    return sorted((_echo(em, int(a), int(b), float(v)) for a, b, v in zip(q[once], j[once], s[once], strict=True)),
                  key=_key)


def similar_pairs(index: SearchIndex, floor: float = 0.0) -> list[Echo]:
    """Every pair of measures of different documents with score > floor, by brute force (each pair
    once, a < b, best first): the reference the sparse candidates are tested against."""
    em = echo_matrix(index, 0.0)
    full = em.full
    out: list[Echo] = []
    for start in range(0, full.shape[0], 2048):
        block = (full[start:start + 2048] @ full.T).tocoo()
        i, j = block.row.astype(np.int64) + start, block.col.astype(np.int64)
        ok = (i < j) & (em.doc_of[i] != em.doc_of[j])
        i, j = i[ok], j[ok]
        score = pair_score(full, i, j)
        out += [_echo(em, int(a), int(b), float(v)) for a, b, v in zip(i, j, score, strict=True) if v > floor]
    return sorted(out, key=_key)


# ------------------------------------------------------------------------------------- incremental


def document_signatures(index: SearchIndex) -> dict[str, str]:
    """doc IRI → sha256 of its measures' IRIs and words: a document whose signature is unchanged has
    the same rows, so the same pairs with every other unchanged document."""
    parts: dict[str, list[str]] = defaultdict(list)
    for d, tokens in zip(index.docs, index.tokens, strict=True):
        parts[d.doc_iri].append(f"{d.iri}\t{' '.join(tokens)}")
    return {doc: hashlib.sha256("\n".join(sorted(p)).encode("utf-8")).hexdigest()[:24]
            for doc, p in sorted(parts.items())}


def update_links(index: SearchIndex, previous: list[Echo], changed: set[str], threshold: float = THRESHOLD,
                 per_measure: int = PER_MEASURE, em: EchoMatrix | None = None) -> list[Echo]:
    """The echoes of `index`, from `previous` (echo_links of the index before the documents `changed`
    were added, changed or removed; the same weights, threshold and cap) and the pairs of the measures
    of `changed` only; equal to echo_links(index).

    Only pairs that involve a changed document are computed, and the best of the few measures that
    had one of them among their best ("repairs": they may have lost a place in their best and are
    computed again). Every other measure keeps its best, merged with its new pairs."""
    em = em or echo_matrix(index, threshold)
    return _update(em, [d.doc_iri for d in index.docs], previous, changed, threshold, per_measure)


def _update(em: EchoMatrix, doc_iri: list[str], previous: list[Echo], changed: set[str], threshold: float,
            per_measure: int) -> list[Echo]:
    """update_links on the matrix `em`, each row's document in `doc_iri`.

    Only the measures the change reaches are decided again: those of the changed documents, those
    whose best held one of them ("repairs"), and those that gain a pair with a changed document. A
    previous echo between two measures it does not reach stays as it is (it was among the best of one
    of them, which has not changed); one with an end it reaches stays when the other, unreached end
    still counts it among its best. So the best lists are made for the measures near the change only.
    (One pass indexes each measure's previous echoes; the rest looks up only the measures near the
    change: at 1,000 plans the previous echoes are ~80,000.)"""
    row = {iri: n for n, iri in enumerate(em.iris)}
    touching: dict[str, list[Echo]] = defaultdict(list)  # each measure's previous echoes
    for e in previous:
        touching[e.a].append(e)
        touching[e.b].append(e)
    gone = {iri for iri in touching if iri not in row or doc_iri[row[iri]] in changed}

    def best_of(measures: Iterable[str]) -> dict[str, list[Echo]]:
        """Each of `measures`' best among the previous echoes."""
        return {m: _best(touching[m], per_measure) for m in measures if m in touching}

    near = {end for g in gone for e in touching[g] for end in (e.a, e.b)} - gone
    best = best_of(near)
    repair = {m for m, lst in best.items() if any(e.a in gone or e.b in gone for e in lst)}
    fresh = [n for n, d in enumerate(doc_iri) if d in changed]
    queried = np.asarray(sorted(set(fresh) | {row[m] for m in repair}), dtype=np.int64)
    q, j, s = query_pairs(em, queried, threshold)
    mine: dict[str, list[Echo]] = defaultdict(list)  # the pairs found, by measure
    for a, b, v in zip(q.tolist(), j.tolist(), s.tolist(), strict=True):
        e = _echo(em, a, b, v)
        mine[em.iris[a]].append(e)
        if doc_iri[a] in changed:  # the unchanged side gains a pair with a changed document
            mine[em.iris[b]].append(e)
    asked = {em.iris[n] for n in queried.tolist()}
    reached = gone | asked | set(mine)
    reaching = {id(e): e for m in reached for e in touching.get(m, ())}  # the previous echoes with an end reached
    ends = {end for e in reaching.values() for end in (e.a, e.b)} - reached
    best.update(best_of((ends | set(mine)) - set(best)))
    kept: set[Echo] = set()
    for m in ends:  # unreached: its best as before
        kept.update(best.get(m, ()))
    for m in reached:
        if m not in row:
            continue  # a measure of a removed document
        pool = mine.get(m, []) if m in asked else best.get(m, []) + mine.get(m, [])
        kept.update(_best(set(pool), per_measure))
    extra = [e for e in kept if e.a in reached or e.b in reached]  # the rest are in `untouched`
    untouched = [e for e in previous if id(e) not in reaching]
    return sorted(untouched + extra, key=attrgetter("a", "b"))


def _best(echoes: Iterable[Echo], keep: int) -> list[Echo]:
    """The `keep` best of `echoes` (in no order when they are that few): by score, then the pair's IRIs
    (_key), without a key call per echo."""
    listed = list(echoes)
    if len(listed) <= keep:  # most measures have no more echoes than they keep
        return listed
    ranked = sorted((-e.score, e.a, e.b, i) for i, e in enumerate(listed))
    return [listed[i] for _s, _a, _b, i in ranked[:keep]]


def echo_links_since(index: SearchIndex, previous: Path | str | None, folder: Path | str | None = None,
                     threshold: float = THRESHOLD, per_measure: int = PER_MEASURE) -> tuple[list[Echo], dict[str, Any]]:
    """The echoes of `index`, computed from the echo state of the search folder `previous` (the last
    build's, ECHO_STATE) when it was made with the same weights, threshold and cap: only the documents
    whose measures changed are computed (update_links); otherwise all (echo_links). With `folder`,
    the new state is written there. Returns the echoes and {"mode": "incremental" or "full", "changed": documents}."""
    return links_since(lambda: echo_matrix(index, threshold), [d.doc_iri for d in index.docs],
                       document_signatures(index), previous, folder, threshold, per_measure)


def links_since(matrix: Any, doc_iris: list[str], signatures: dict[str, str], previous: Path | str | None,
                folder: Path | str | None = None, threshold: float = THRESHOLD,
                per_measure: int = PER_MEASURE) -> tuple[list[Echo], dict[str, Any]]:
    """echo_links_since of the rows `matrix()` makes (an EchoMatrix; called once), each row's document
    in `doc_iris`, each document's signature in `signatures` (document_signatures)."""
    links, info, _change = links_and_change(matrix, doc_iris, signatures, previous, folder, threshold, per_measure)
    return links, info


@dataclass
class EchoChange:
    """The echoes an incremental update took away and added, against the previous build's echo state:
    (a, b, score as written) each; a pair whose score moved is in both."""

    removed: list[tuple[str, str, str]]
    added: list[tuple[str, str, str]]


_UNREAD: Any = object()


def read_state(previous: Path | str) -> dict[str, Any] | None:
    """The echo state of the search folder `previous` (None when it has none that is usable), read ahead
    of links_and_change(state=…), with its echoes as Echo objects already."""
    state = _read_state(Path(previous) / ECHO_STATE)
    if state is not None:
        state["was"] = [Echo(a, b, float(s)) for a, b, s in state["echoes"]]
    return state


def links_and_change(matrix: Any, doc_iris: list[str], signatures: dict[str, str], previous: Path | str | None,
                     folder: Path | str | None = None, threshold: float = THRESHOLD,
                     per_measure: int = PER_MEASURE,
                     state: Any = _UNREAD) -> tuple[list[Echo], dict[str, Any], EchoChange | None]:
    """links_since, and the change from the previous state's echoes when they were updated (None when
    all were computed): what an incremental build patches its graph with, without spelling every echo.
    `state`: read_state(previous), when read ahead."""
    stamp = fingerprint(threshold, per_measure)
    if state is _UNREAD:
        state = read_state(previous) if previous is not None else None
    usable = state is not None and state.get("fingerprint") == stamp
    before: dict[str, str] = state["documents"] if state is not None and usable else {}
    changed = {d for d in set(before) | set(signatures) if before.get(d) != signatures.get(d)}
    em = matrix()
    change: EchoChange | None = None
    # past half the documents (a new user dictionary re-segments every text) all pairs cost less
    if state is not None and before and 2 * len(changed) <= len(signatures):
        written = set(state["echoes"])
        was = state["was"]
        text_of = {id(e): s for e, (_a, _b, s) in zip(was, state["echoes"], strict=True)}  # as written before
        state = None  # (its lines are let go)
        links = _update(em, doc_iris, was, changed, threshold, per_measure)
        # an echo kept from before keeps its text (score_text of the same score); only new ones are spelled
        texts = [(e.a, e.b, text_of.get(id(e)) or score_text(e)) for e in links]
        del was, text_of
        now = set(texts)
        change = EchoChange(removed=sorted(written - now), added=sorted(now - written))
        info = {"mode": "incremental", "changed": len(changed)}
    else:
        q, j, s = query_pairs(em, np.arange(len(em.iris)), threshold, keep=per_measure)
        links = sorted({_echo(em, int(a), int(b), float(v)) for a, b, v in zip(q, j, s, strict=True)},
                       key=lambda e: (e.a, e.b))
        texts = [(e.a, e.b, score_text(e)) for e in links]
        info = {"mode": "full", "changed": len(changed) if before else len(signatures)}
    if folder is not None:
        _write_state(Path(folder) / ECHO_STATE, stamp, signatures, texts)
    return links, info, change


def read_echoes(folder: Path | str) -> list[Echo]:
    """The echoes an index folder's echo state holds (the state links_and_change wrote), sorted by IRIs."""
    state = read_state(folder)
    if state is None:
        raise OSError(f"{Path(folder) / ECHO_STATE}: no echo state to read the echoes from")
    return state["was"]


def _read_state(path: Path) -> dict[str, Any] | None:
    """The echo state: a first line "# ipgraph echoes <fingerprint>", then sorted lines
    "doc<TAB>IRI<TAB>signature" and "echo<TAB>a<TAB>b<TAB>score" (None if missing or unreadable)."""
    try:
        with open(path, encoding="utf-8") as handle:
            head = handle.readline().split()
            if head[:3] != ["#", "ipgraph", "echoes"] or len(head) != 4:
                return None
            documents: dict[str, str] = {}
            echoes: list[tuple[str, str, str]] = []
            for line in handle:
                kind, *fields = line.rstrip("\n").split("\t")
                if kind == "doc" and len(fields) == 2:
                    documents[fields[0]] = fields[1]
                elif kind == "echo" and len(fields) == 3:
                    float(fields[2])  # a broken score makes the whole state unusable
                    echoes.append((fields[0], fields[1], fields[2]))
                else:
                    return None
        return {"fingerprint": head[3], "documents": documents, "echoes": echoes}
    except (OSError, ValueError, UnicodeDecodeError):
        return None  # no usable state: compute every pair


def _write_state(path: Path, stamp: str, signatures: dict[str, str], links: list[tuple[str, str, str]]) -> None:
    """`links`: each echo's (a, b, score_text)."""
    from ipgraph.atomic import atomic_write_text

    rows = sorted(f"doc\t{d}\t{sig}" for d, sig in signatures.items())
    rows += sorted(f"echo\t{a}\t{b}\t{text}" for a, b, text in links)
    atomic_write_text(path, "".join(f"{row}\n" for row in [f"# ipgraph echoes {stamp}", *rows]))


# ------------------------------------------------------------------------------------- triples


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


ECHO_LINES = 7  # the lines echo_lines writes per echo, one of them its rdf:type (of ipg:Echo)


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
