"""The search index: measures tokenised once, ranked with BM25 (bm25s), stored under the build folder.

Layout of FOLDER (default BUILD/search/):
  meta.json     format version, tokeniser, base-dictionary fingerprint (tokenise.base_fingerprint),
                what the index was built from
  docs.json     the SearchDocs, in index order, the query dictionary and each measure's token key
  tokens.json   token key (the fingerprint of the words its document added, and the text's sha256)
                → jieba words: the cache that makes a rebuild from a graph incremental (only new or
                changed texts are segmented again; changed data files or tokeniser empty it)
  ranked/       the bm25s index queries are scored in (sparse weight matrix and vocabulary): method
                jieba, per token and text, idf · the larger saturated frequency of its two fields,
                the jieba words and the character bigrams (ranked_field; ipgraph.search.rank says
                why); methods words and bigram, their one field's BM25
The two fields themselves are an IndexWriter's (SearchIndex.bm25 and .grams of an index made in
memory, which the evaluation's ranking variants read); a loaded or a build's index holds the ranked
field alone.

A build's tokens come made: its extraction workers segment each document's measures
(ipgraph.search.segment) and index_docs(made=…) only builds BM25 from them.

Files are written into a staging folder and swapped in, so a reader never sees half an index.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipgraph.errors import GraphNotFoundError, IpgraphError
from ipgraph.search.records import SearchDoc, engine_for, read_doc_names, read_docs, read_names
from ipgraph.search.segment import SPOOL, TokenSpool, text_sha, token_key
from ipgraph.search.tokenise import (
    Tokeniser,
    base_fingerprint,
    base_words,
    bigram_tokenise,
    dictionary_fingerprint,
    document_words,
    gram_tokens,
    jieba_tokeniser,
    segment_keyed,
    text_words,
    user_words,
    with_readings,
)

FORMAT = 7  # 5: words and bigrams in two fields (bm25/, grams/); 6: tokens keyed by their document's names;
# 7: the bigram fields read coordinated forms' readings (SearchDoc.gram_text); one ranked field on disk (ranked/)
INDEX_DIR = "search"
METHODS = ("jieba", "words", "bigram")
# BM25 parameters: Lucene's defaults. Measures are short (160 characters on average), so the length
# normalisation b matters little (measured: b 0.5 / 0.9 give corpus recall@10 0.950 / 0.942 against
# 0.942, dev 1.000 all three); not tuned to the evaluation.
K1, B = 1.2, 0.75


class SearchIndexError(IpgraphError):
    """The search index is missing, unreadable or of another format."""


@dataclass
class SearchIndex:
    docs: list[SearchDoc]
    method: str
    words: list[str]  # the query tokeniser's dictionary (jieba): the base and every name of the graph
    # per doc, jieba's words (echoes compare these; the index adds bigrams). A loaded index reads
    # them from tokens.json on first use only: searching never needs them, and millions of small
    # lists would slow every garbage collection of a serving process.
    _tokens: list[list[str]] | None
    bm25: Any  # bm25s.BM25: the words field (jieba, words) or the only field (bigram); None when loaded
    stats: dict[str, Any] = field(default_factory=dict)
    _tokeniser: Tokeniser | None = None
    folder: Path | None = None
    # method jieba: the character bigrams' own BM25 field. Why two fields, not one vocabulary: in one,
    # a two-character word (质押) and the bigram 质押 are one token counted twice, and a longer word
    # competes with its own bigrams; apart, each query token is scored once (ipgraph.search.rank).
    grams: Any = None
    _word_tokeniser: Tokeniser | None = None
    keys: list[str] = field(default_factory=list)  # per doc, its key in tokens.json
    docs_at: int = 0  # where docs.json's first row starts (publish_index; ipgraph.search.update copies rows)
    # the field queries are scored in (ranked_field of bm25 and grams): what the folder stores
    # (ranked/); a loaded or a build's index holds it alone (bm25 and grams None)
    ranked: Any = None

    def scored_field(self) -> Any:
        """The ranked field, made from bm25 and grams the first time where the index has none."""
        if self.ranked is None:
            self.ranked = ranked_field([f for f in (self.bm25, self.grams) if f is not None])
        return self.ranked

    @property
    def tokens(self) -> list[list[str]]:
        if self._tokens is None:
            cache: dict[str, list[str]] = {}
            if self.folder is not None:
                cache = json.loads((self.folder / "tokens.json").read_text(encoding="utf-8"))
            self._tokens = [cache.get(key, []) for key in self.keys]
        return self._tokens

    def made(self) -> Made:
        """Measure IRI → (token key, text sha256, jieba words): what index_docs(made=…) takes, so that
        an index made again from the same graph keeps the tokens the build made."""
        if not self.keys:
            return {}
        return {d.iri: (key, text_sha(d.indexed_text()), words)
                for d, key, words in zip(self.docs, self.keys, self.tokens, strict=True)}

    @property
    def tokeniser(self) -> Tokeniser:
        if self._tokeniser is None:
            self._tokeniser = make_tokeniser(self.method, self.words)
        return self._tokeniser

    @property
    def word_tokeniser(self) -> Tokeniser:
        """The tokens of the bm25 field: jieba's words (jieba, words), bigrams (bigram)."""
        if self._word_tokeniser is None:
            self._word_tokeniser = make_tokeniser("words" if self.method == "jieba" else self.method, self.words)
        return self._word_tokeniser


def make_tokeniser(method: str, words: list[str]) -> Tokeniser:
    if method == "jieba":
        return jieba_tokeniser(words)
    if method == "words":  # jieba words alone (no bigrams): kept for the evaluation
        return jieba_tokeniser(words, grams=False)
    if method == "bigram":
        return bigram_tokenise
    raise SearchIndexError(f"unknown tokeniser {method!r}; choose one of {', '.join(METHODS)}")


Made = dict[str, tuple[str, str, list[str]]]  # measure IRI → (token key, text sha256, jieba words)


def _bm25(tokens: list[list[str]]) -> Any:
    """bm25s's own index() of token lists: the reference Postings.bm25 is held to (tests)."""
    import bm25s

    retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
    # an empty document would get no row: index a placeholder that no query produces
    # (and an empty build one placeholder row, which no query reaches either)
    retriever.index([t if t else ["\x00"] for t in tokens] or [["\x00"]], show_progress=False)
    return retriever


class Postings:
    """One BM25 field's token counts, gathered one text at a time into flat arrays (4 bytes a number):
    no list of every text's tokens is ever held, and the BM25 matrix is arithmetic over these arrays
    (bm25): N, the average length and the document frequencies are sums of them."""

    def __init__(self) -> None:
        from array import array

        self.vocab: dict[str, int] = {}  # token → column, in order of first sight
        self.rows, self.cols, self.tf, self.lengths = array("i"), array("i"), array("i"), array("i")
        self.empty = array("i")  # the rows of empty texts (their placeholder is no word)

    def add(self, tokens: list[str]) -> None:
        from collections import Counter

        row = len(self.lengths)
        if not tokens:  # as _bm25: an empty text gets a placeholder no query produces
            tokens = ["\x00"]
            self.empty.append(row)
        vocab = self.vocab
        counts = Counter(tokens)
        self.cols.extend([vocab.setdefault(token, len(vocab)) for token in counts])
        self.tf.extend(counts.values())
        self.rows.extend([row] * len(counts))
        self.lengths.append(len(tokens))

    def __len__(self) -> int:
        return len(self.lengths)

    def counts(self) -> tuple[Any, Any, Any, list[str]]:
        """(rows, columns, counts) of every (text, token) with its count, and the tokens by column
        (columns in order of first sight), without the placeholders of empty texts."""
        import numpy as np

        rows = np.frombuffer(self.rows, dtype=np.int32)
        keep = ~np.isin(rows, np.frombuffer(self.empty, dtype=np.int32))
        tokens = [""] * len(self.vocab)
        for token, col in self.vocab.items():
            tokens[col] = token
        return (rows[keep].astype(np.int64), np.frombuffer(self.cols, dtype=np.int32)[keep].astype(np.int64),
                np.frombuffer(self.tf, dtype=np.int32)[keep].astype(np.int64), tokens)

    def bm25(self, order: Any = None) -> Any:
        """The bm25s index of the texts added, their rows in `order` (positions in the order added;
        default as added): the scores bm25s's index() computes, bit for bit (the same float32 idf, the
        same float64 operations per entry), columns by sorted token. Memory: the scores are computed a
        slice of entries at a time, so beside the counts only the matrix itself is made whole."""
        import bm25s
        import numpy as np

        if not len(self):  # an empty build: one placeholder row, as _bm25
            one = Postings()
            one.add([])
            return one.bm25()
        n = len(self)
        new_row = np.arange(n, dtype=np.int32)
        if order is not None:
            new_row[np.asarray(order, dtype=np.int64)] = np.arange(n, dtype=np.int32)
        lengths = np.empty(n, dtype=np.int64)
        lengths[new_row] = np.frombuffer(self.lengths, dtype=np.int32)
        tokens = sorted(self.vocab)
        first = np.fromiter((self.vocab[t] for t in tokens), dtype=np.int64, count=len(tokens))
        column = np.empty(len(tokens), dtype=np.int32)  # column of first sight → sorted column
        column[first] = np.arange(len(tokens), dtype=np.int32)
        seen = np.frombuffer(self.cols, dtype=np.int32)  # per entry, its column of first sight
        rows, tf = np.frombuffer(self.rows, dtype=np.int32), np.frombuffer(self.tf, dtype=np.int32)
        avg = lengths.mean()  # bm25s: np.array([len(doc) …]).mean()
        df = np.bincount(seen, minlength=len(tokens))  # by column of first sight
        idf = np.zeros(len(tokens), dtype=np.float32)  # by column of first sight
        for d in np.unique(df):  # bm25s's _score_idf_lucene, in Python floats, stored as float32
            idf[df == d] = lucene_idf(n, int(d))
        denominator = K1 * ((1 - B) + B * lengths.astype(np.float64) / avg)  # per text, as bm25s's scalar
        entries = seen.size
        scores = np.empty(entries, dtype=np.float32)
        placed = np.empty(entries, dtype=np.int32)  # each entry's row in the index
        step = 1 << 20
        for at in range(0, entries, step):
            r = new_row[rows[at:at + step]]
            tf64 = tf[at:at + step].astype(np.float64)
            scores[at:at + step] = (idf[seen[at:at + step]].astype(np.float64)
                                    * (tf64 / (denominator[r] + tf64))).astype(np.float32)
            placed[at:at + step] = r
        cols = column[seen]
        # CSC over (text, token): by column, then row; scipy's conversions are counting sorts (linear, in C:
        # a seventh of a stable argsort's time at 1,000 plans), and a text holds a token once (no duplicates)
        data, indices, indptr = _by_column(scores, placed, cols, n, len(tokens))
        del cols
        retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
        retriever.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": n}
        retriever.nonoccurrence_array = None
        vocab = {t: i for i, t in enumerate(tokens)}
        vocab.setdefault("", len(vocab))  # bm25s's empty token, after the others (no column)
        retriever.vocab_dict = vocab
        retriever.unique_token_ids_set = set(vocab.values())
        return retriever


def _by_column(values: Any, rows: Any, cols: Any, n_rows: int, n_cols: int) -> tuple[Any, Any, Any]:
    """`values` and `rows` ordered by column, then row (what np.lexsort((rows, cols)) orders), each (row,
    column) pair once, and where each column starts (int64, n_cols + 1): CSR to CSC when the rows already
    ascend (entries added in index order), else through COO to CSR first."""
    import numpy as np
    from scipy.sparse import coo_matrix, csr_matrix

    if not values.size:
        return values.copy(), rows.copy(), np.zeros(n_cols + 1, dtype=np.int64)
    if bool(np.all(rows[1:] >= rows[:-1])):
        row_ptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n_rows), out=row_ptr[1:])
        matrix = csr_matrix((values, cols, row_ptr), shape=(n_rows, n_cols))
    else:
        matrix = coo_matrix((values, (rows, cols)), shape=(n_rows, n_cols)).tocsr()
    by_column = matrix.tocsc()
    by_column.sort_indices()  # already sorted (the conversion keeps row order): a check, in C
    return (by_column.data.astype(values.dtype, copy=False), by_column.indices.astype(rows.dtype, copy=False),
            by_column.indptr.astype(np.int64, copy=False))


def lucene_idf(n: int, df: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))  # as bm25s (method lucene) computes it


def _union(rows: list[Any], seen: Any) -> Any:
    """The sorted union of row arrays; `seen` (all False, one per text) is a scratch mask: a dense
    union is read off it in O(texts), a sparse one sorted (numpy's unique hashes: slower here)."""
    import numpy as np

    total = sum(r.size for r in rows)
    if total * 32 < seen.size:
        merged = np.sort(np.concatenate(rows))
        return merged[np.r_[True, merged[1:] != merged[:-1]]] if merged.size else merged
    for r in rows:
        seen[r] = True
    out = np.flatnonzero(seen).astype(np.int32)
    seen[out] = False
    return out


def ranked_field(fields: list[Any]) -> Any:
    """The field a query is scored in (ipgraph.search.rank): a bm25s index whose weight per token and
    text is idf · the larger of the fields' saturated frequencies tf / (tf + k1 · B), idf from the
    larger of the token's document frequencies in the fields (their union: every text holding a
    two-character word holds it as a bigram too, and a longer word is in the words field only).

    bm25s stores w = idf_f · saturated frequency (idf_f as float32), so a token one field holds keeps
    its weights bit for bit, and one both hold is merged from w / idf_f. Memory: the output arrays are
    sized in a first pass and filled in a second, a token at a time (no sort over all entries)."""
    import bm25s
    import numpy as np

    if len(fields) == 1:
        return fields[0]
    n = int(fields[0].scores["num_docs"])
    holders: dict[str, list[tuple[int, int, int]]] = {}  # token → [(field, start, end)]
    for k, f in enumerate(fields):
        indptr = f.scores["indptr"]
        for token, tid in f.vocab_dict.items():
            if token and token != "\x00" and tid < len(indptr) - 1 and indptr[tid + 1] > indptr[tid]:
                holders.setdefault(token, []).append((k, int(indptr[tid]), int(indptr[tid + 1])))
    tokens = sorted(holders)
    seen = np.zeros(n, dtype=bool)
    sizes = np.zeros(len(tokens), dtype=np.int64)
    for col, token in enumerate(tokens):  # pass 1: each token's number of texts
        held = holders[token]
        if len(held) == 1:
            sizes[col] = held[0][2] - held[0][1]
            continue
        sizes[col] = _union([fields[k].scores["indices"][a:b] for k, a, b in held], seen).size
    indptr = np.zeros(len(tokens) + 1, dtype=np.int64)
    np.cumsum(sizes, out=indptr[1:])
    data = np.empty(int(indptr[-1]), dtype=np.float32)
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    larger = np.zeros(n, dtype=np.float64)
    for col, token in enumerate(tokens):  # pass 2: the weights
        at, to = int(indptr[col]), int(indptr[col + 1])
        held = holders[token]
        if len(held) == 1:
            k, a, b = held[0]
            data[at:to] = fields[k].scores["data"][a:b]
            indices[at:to] = fields[k].scores["indices"][a:b]
            continue
        union = []
        for k, a, b in held:
            r = fields[k].scores["indices"][a:b]
            idf_f = float(np.float32(lucene_idf(n, b - a)))
            larger[r] = np.maximum(larger[r], fields[k].scores["data"][a:b].astype(np.float64) / idf_f)
            union.append(r)
        rows = _union(union, seen)
        idf = float(np.float32(lucene_idf(n, max(b - a for _, a, b in held))))
        data[at:to] = (idf * larger[rows]).astype(np.float32)
        indices[at:to] = rows
        larger[rows] = 0.0
    ranked = bm25s.BM25(k1=K1, b=B, method="lucene")
    ranked.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": n}
    ranked.nonoccurrence_array = None
    vocab = {t: i for i, t in enumerate(tokens)}
    vocab.setdefault("", len(vocab))  # bm25s's empty token, after the others (no column), as Postings.bm25
    ranked.vocab_dict = vocab
    ranked.unique_token_ids_set = set(vocab.values())
    return ranked


def build_index(
    source: Any,
    folder: Path | str | None = None,
    method: str = "jieba",
    cache: dict[str, list[str]] | None = None,
    previous: Path | str | None = None,
) -> SearchIndex:
    """Index every measure of `source` (a build folder, rdflib Graph, pyoxigraph Store or BuildResult).

    With `folder`, the index is written there. The index in `previous` (default: `folder`), if built
    with the same tokeniser and data files, lends its tokens, so only new or changed texts are
    segmented: a build writing into a staging folder passes the last build's BUILD/search. Each
    document's texts are segmented with the names the graph gives its agencies, programmes and
    directives (records.read_doc_names; a build's workers take them from the document's own triples).
    """
    engine = engine_for(source)  # once: an rdflib graph is copied into Oxigraph for the queries
    docs = read_docs(engine)
    jieba = method in ("jieba", "words")
    names = read_names(engine) if jieba else []
    lender = previous if previous is not None else folder
    made: Made = {}
    if jieba:
        # the tokens the build made (its workers, with each document's own names), where the texts
        # are unchanged: the build folder's own index, then the lender's
        lenders = [Path(source) / INDEX_DIR] if isinstance(source, (str, Path)) else []
        for where in [*lenders, *([Path(lender)] if lender is not None else [])]:
            for iri, value in _read_made(where, method).items():
                made.setdefault(iri, value)
    if cache is None and lender is not None:
        cache = _read_cache(Path(lender), method, base_fingerprint() if jieba else "")
    index = index_docs(docs, method, names, cache, doc_words=read_doc_names(engine) if jieba else None, made=made)
    if folder is not None:
        save_index(index, folder)
    return index


def index_docs(
    docs: list[SearchDoc], method: str = "jieba", names: list[str] | None = None,
    cache: dict[str, list[str]] | None = None, doc_words: dict[str, list[str]] | None = None,
    made: Made | None = None, fresh: int = 0,
) -> SearchIndex:
    """Index `docs` (any SearchDocs: measures, or passages for an evaluation).

    jieba: every text is segmented with the base dictionary plus its document's own names,
    `doc_words[doc IRI]` (without doc_words: `names` for every text); `names` also join the query
    tokeniser's dictionary. `made` (a build's: tokens its workers made, `fresh` of them this build)
    and `cache` (token key → words) spare segmenting here; a text of `made` is taken when its
    sha256 is the indexed text's."""
    writer = IndexWriter(method, names, cache, doc_words, fresh=fresh)
    writer.add(docs, made)
    return writer.finish()


class IndexWriter:
    """An index made one chunk of measures at a time (a build's search stage: one document's), in
    index order. Each text's words and bigrams go into Postings (flat arrays) as it comes, so no
    list of every text's tokens is held; with `stream` (a folder), each SearchDoc is written into
    the folder's docs.json and its words into tokens.json as it comes and then let go."""

    def __init__(self, method: str = "jieba", names: list[str] | None = None, cache: dict[str, list[str]] | None = None,
                 doc_words: dict[str, list[str]] | None = None, fresh: int = 0, stream: Path | None = None) -> None:
        self.started = time.perf_counter()
        self.method, self.names, self.doc_words, self.fresh = method, names, doc_words, fresh
        self.jieba = method in ("jieba", "words")
        self.grams_of = {"jieba": gram_tokens, "bigram": bigram_tokenise}.get(method)
        if not self.jieba and self.grams_of is None:
            raise SearchIndexError(f"unknown tokeniser {method!r}; choose one of {', '.join(METHODS)}")
        self.words = user_words([*base_words(), *(names or [])]) if self.jieba else []
        self.cache = dict(cache or {})
        self.loaded = time.perf_counter()
        self.field, self.gram_field = Postings(), Postings()  # words (or the bigrams of method bigram); bigrams
        self.docs: list[SearchDoc] = []  # kept without `stream`
        self.tokens: list[list[str]] = []  # kept without `stream`
        self.keys: list[str] = []
        self.iris: list[str] = []
        self.doc_iris: list[str] = []
        self.labels: list[tuple[str, str]] = []  # per measure (document label, number): the page's measure map
        self.signatures: dict[str, str] = {}  # doc IRI → echoes.document_signatures' value
        self.taken = self.segmented = self.characters = 0
        self.doc_characters: dict[str, int] = {}  # per document, the characters of its indexed texts
        self.stream = stream
        self._docs_out: Any = None
        self._tokens_out: Any = None
        self._written: set[str] = set()  # token keys written into tokens.json
        self._spool: TokenSpool | None = None
        # with `stream`: where each document's rows are in docs.json.part and each token key's member in
        # tokens.json, as byte spans (ipgraph.search.update copies them into the next build's files)
        self.doc_spans: dict[str, tuple[int, int]] = {}
        self.token_spans: dict[str, tuple[int, int]] = {}
        self._docs_size = self._tokens_size = 0
        if stream is not None:
            stream.mkdir(parents=True, exist_ok=True)
            self._docs_out = open(stream / "docs.json.part", "wb")
            self._tokens_out = open(stream / "tokens.json", "wb")
            self._tokens_out.write(b"{")
            self._tokens_size = 1
            # each document's tokens, for the next build to take by document (TokenSpool.open)
            self._spool = TokenSpool(stream / SPOOL) if self.jieba else None

    def add(self, docs: list[SearchDoc], made: Made | None = None) -> None:
        """Index `docs` (the next measures in index order; a document's measures all in one call)."""
        texts = [d.indexed_text() for d in docs]
        shas = [text_sha(text) for text in texts]
        keys = [""] * len(docs)
        tokens: list[list[str]] = [[] for _ in docs]
        cache = self.cache
        if self.jieba:
            extra: dict[str, tuple[list[str], list[str]]] = {}  # doc IRI → (its names, the words they add)
            todo: dict[str, list[int]] = {}  # doc IRI → positions to segment here
            for i, d in enumerate(docs):
                mine = made.get(d.iri) if made else None
                if mine is not None and mine[1] == shas[i]:
                    keys[i], tokens[i] = mine[0], mine[2]
                    self.taken += 1
                    continue
                if d.doc_iri not in extra:
                    own = self.doc_words.get(d.doc_iri, []) if self.doc_words is not None else list(self.names or [])
                    extra[d.doc_iri] = (own, document_words(own))
                keys[i] = token_key(dictionary_fingerprint(text_words(texts[i], extra[d.doc_iri][1])), shas[i])
                if keys[i] in cache:
                    tokens[i] = cache[keys[i]]
                else:
                    todo.setdefault(d.doc_iri, []).append(i)
            for doc_iri, positions in todo.items():  # one document at a time: its names added for its texts only
                for i, (_, made_here) in zip(positions, segment_keyed([texts[i] for i in positions], extra[doc_iri][0]),
                                             strict=True):
                    tokens[i] = cache[keys[i]] = made_here
                    self.segmented += 1
        parts: dict[str, list[str]] = {}
        spooled: dict[str, Made] = {}
        for d, text, key, words, sha in zip(docs, texts, keys, tokens, shas, strict=True):
            if self.jieba:
                self.field.add(words)
                if self.grams_of is not None:
                    self.gram_field.add(self.grams_of(with_readings(text)))
            else:
                assert self.grams_of is not None  # checked in __init__: method bigram
                self.field.add(self.grams_of(with_readings(text)))
            self.characters += len(text)
            self.doc_characters[d.doc_iri] = self.doc_characters.get(d.doc_iri, 0) + len(text)
            self.iris.append(d.iri)
            self.doc_iris.append(d.doc_iri)
            self.labels.append((d.document, d.number))
            self.keys.append(key)
            parts.setdefault(d.doc_iri, []).append(f"{d.iri}\t{' '.join(words)}")
            if self.stream is None:
                self.docs.append(d)
                self.tokens.append(words)
            else:
                spooled.setdefault(d.doc_iri, {})[d.iri] = (key, sha, words)
                if len(self.iris) > 1:
                    self._docs_out.write(b",")
                    self._docs_size += 1
                # vars(): asdict's fields in its order, without its deep copy
                row = json.dumps(vars(d), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                self._docs_out.write(row)
                start = self.doc_spans[d.doc_iri][0] if d.doc_iri in self.doc_spans else self._docs_size
                self._docs_size += len(row)
                self.doc_spans[d.doc_iri] = (start, self._docs_size)
                if self.method != "bigram" and key not in self._written:
                    self._written.add(key)
                    if len(self._written) > 1:
                        self._tokens_out.write(b",")
                        self._tokens_size += 1
                    member = (json.dumps(key, ensure_ascii=False) + ":"
                              + json.dumps(words, ensure_ascii=False, separators=(",", ":"))).encode("utf-8")
                    self._tokens_out.write(member)
                    self.token_spans[key] = (self._tokens_size, self._tokens_size + len(member))
                    self._tokens_size += len(member)
        if self.stream is not None and self._spool is not None:
            for doc_iri, block in spooled.items():
                self._spool.add(doc_iri, block)
        for doc_iri, lines in parts.items():
            if doc_iri in self.signatures:
                raise ValueError(f"{doc_iri}: its measures came in two chunks")
            self.signatures[doc_iri] = hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()[:24]

    def finish(self) -> SearchIndex:
        """The index (its BM25 fields built from the Postings); with `stream`, its files written too
        (then its docs are not held: SearchIndex.docs is empty, its rows are in iris/doc_iris)."""
        done_tokens = time.perf_counter()
        bm25 = self.field.bm25()
        grams_field = self.gram_field.bm25() if self.method == "jieba" else None
        done = time.perf_counter()
        fresh, taken, segmented = self.fresh, self.taken, self.segmented
        stats = {
            # segmented: the texts segmented for this index (by the build's workers, or here); reused: from a cache
            "measures": len(self.iris), "segmented": segmented + min(fresh, taken),
            "reused": len(self.iris) - segmented - min(fresh, taken),
            "segmented_here": segmented, "characters": self.characters,
            "seconds_dictionary": round(self.loaded - self.started, 3),
            "seconds_segment": round(done_tokens - self.loaded, 3), "seconds_bm25": round(done - done_tokens, 3),
        }
        ranked = ranked_field([f for f in (bm25, grams_field) if f is not None])
        stats["seconds_ranked"] = round(time.perf_counter() - done, 3)
        if self.stream is not None:  # a build's index: the fields are not needed once merged
            bm25 = grams_field = None
        index = SearchIndex(docs=self.docs, method=self.method, words=self.words,
                            _tokens=self.tokens if self.stream is None else None, bm25=bm25, stats=stats,
                            grams=grams_field, keys=self.keys, ranked=ranked)
        if self.stream is not None:
            self.close_stream()
            index.folder = self.stream
        return index

    def close_stream(self) -> None:
        """Finish the files written into `stream` (finish does; ipgraph.search.update calls it alone)."""
        self._docs_out.close()
        self._tokens_out.write(b"}")
        self._tokens_out.close()
        self._written = set()
        if self._spool is not None:
            self._spool.save_index()


def _read_made(folder: Path, method: str) -> Made:
    """index.made() of the index in `folder`, if made with today's tokeniser and data files (else {})."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("method") != method or meta.get("dictionary") != base_fingerprint():
            return {}
        return load_index(folder).made()
    except (OSError, ValueError, SearchIndexError):
        return {}


def read_spool(folder: Path, method: str = "jieba") -> TokenSpool | Made:
    """The tokens of the index in `folder` by document, if made with today's tokeniser and data files:
    its TokenSpool (read one document at a time), or index.made() of an index written without one
    ({} when none is usable)."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("method") != method \
            or meta.get("dictionary") != base_fingerprint():
        return {}
    spool = TokenSpool.open(folder)
    return spool if spool is not None else _read_made(folder, method)


def _read_cache(folder: Path, method: str, fingerprint: str) -> dict[str, list[str]]:
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("method") != method or meta.get("dictionary") != fingerprint:
            return {}
        cached = json.loads((folder / "tokens.json").read_text(encoding="utf-8"))
        return cached if isinstance(cached, dict) else {}
    except (OSError, ValueError):
        return {}  # no usable cache: segment everything


def staging_folder(folder: Path | str) -> Path:
    """A new empty folder beside `folder`, to write an index into and swap in (save_index, publish_index)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))


def _write_meta(index: SearchIndex, stage: Path, measures: int, ranked: bool = True) -> None:
    """meta.json, and with `ranked` the ranked field (else its writer saves it: update.write_ranked)."""
    meta = {
        "format": FORMAT, "method": index.method,
        "dictionary": base_fingerprint() if index.method in ("jieba", "words") else "",
        "measures": measures, "k1": K1, "b": B,
    }
    (stage / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    if ranked:
        index.scored_field().save(str(stage / "ranked"))


def publish_index(index: SearchIndex, stage: Path, folder: Path | str) -> Path:
    """Finish the index an IndexWriter(stream=stage) wrote into `stage` and swap it in as `folder`."""
    try:
        _write_meta(index, stage, len(index.keys))
        head = docs_head(index.words, index.keys)
        part = stage / "docs.json.part"
        with open(stage / "docs.json", "wb") as out, open(part, "rb") as docs:
            out.write(head)  # the same object as save_index's, keys in another order
            shutil.copyfileobj(docs, out, 1 << 20)
            out.write(b"]}")
        index.docs_at = len(head)
        part.unlink()
        return _swap(stage, Path(folder))
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def docs_head(words: list[str], keys: list[str]) -> bytes:
    """docs.json up to its first row (publish_index): the words, the keys, then the rows' list opens."""
    head = json.dumps({"words": words, "keys": keys}, ensure_ascii=False, separators=(",", ":"))
    return (head[:-1] + ',"docs":[').encode("utf-8")


def save_index(index: SearchIndex, folder: Path | str, cache: dict[str, list[str]] | None = None) -> Path:
    """Write the index into `folder` (replaced as a whole: staged beside it, then swapped in)."""
    folder = Path(folder)
    stage = staging_folder(folder)
    try:
        _write_meta(index, stage, len(index.docs))
        docs = [dataclasses.asdict(d) for d in index.docs]
        payload = {"words": index.words, "docs": docs, "keys": index.keys}
        (stage / "docs.json").write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                                         encoding="utf-8")
        if cache is None:
            cache = dict(zip(index.keys, index.tokens, strict=True)) if index.method != "bigram" else {}
        (stage / "tokens.json").write_text(json.dumps(cache, ensure_ascii=False, sort_keys=True,
                                                      separators=(",", ":")), encoding="utf-8")
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return _swap(stage, folder)


def _swap(stage: Path, folder: Path) -> Path:
    try:
        old = None
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
            os.replace(folder, old)
        os.replace(stage, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return folder


def load_index(folder: Path | str) -> SearchIndex:
    """The index written by build_index/save_index. Raises SearchIndexError naming the cause."""
    import bm25s

    folder = Path(folder)
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise SearchIndexError(f"{folder}: search index of format {meta.get('format')}, expected {FORMAT}; "
                                   "rebuild it")
        payload = json.loads((folder / "docs.json").read_text(encoding="utf-8"))
        if not (folder / "tokens.json").is_file():
            raise FileNotFoundError(2, "missing", str(folder / "tokens.json"))
        if not (folder / "ranked").is_dir():
            raise FileNotFoundError(2, "missing", str(folder / "ranked"))
        ranked = bm25s.BM25.load(str(folder / "ranked"))
        method = meta["method"]
    except FileNotFoundError as exc:
        raise SearchIndexError(f"{folder}: no search index here ({Path(exc.filename or '').name} missing)") from exc
    except (OSError, ValueError, KeyError) as exc:
        raise SearchIndexError(f"{folder}: unreadable search index ({exc})") from exc
    docs = [SearchDoc(**d) for d in payload["docs"]]
    return SearchIndex(docs=docs, method=method, words=payload["words"], _tokens=None, bm25=None,
                       folder=folder, keys=payload.get("keys") or [], ranked=ranked)


def index_folder(build_dir: Path | str) -> Path:
    return Path(build_dir) / INDEX_DIR


def open_index(build_dir: Path | str, notes: list[str] | None = None) -> SearchIndex:
    """The index of a build folder: BUILD/search (written by the build), (re)built from the built graph
    when it is missing, unreadable or (outside a build's generation) older than the graph (a note says so)."""
    build_dir = Path(build_dir)
    nt = build_dir / "ipgraph.nt"
    if not nt.is_file():
        raise GraphNotFoundError(f"{build_dir}: no built graph here (run `ipgraph build -o {build_dir}` first)")
    # a build's index lives in its generation, beside the graph it was made from (OUT/search and
    # OUT/ipgraph.nt are links into it); a build folder without one gets one there too
    generation = nt.resolve().parent if nt.is_symlink() else build_dir
    folder = generation / INDEX_DIR
    meta = folder / "meta.json"
    if meta.is_file() and (generation != build_dir or meta.stat().st_mtime_ns >= nt.stat().st_mtime_ns):
        try:
            return load_index(folder)
        except SearchIndexError as exc:
            if notes is not None:
                notes.append(f"note: {exc}; rebuilding it")
    if notes is not None:
        notes.append(f"note: indexed {build_dir}/ipgraph.nt for search into {folder}")
    return build_index(build_dir, folder)
