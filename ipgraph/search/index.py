"""The search index: measures tokenised once, ranked with BM25 (bm25s), stored under the build folder.

Layout of FOLDER (default BUILD/search/):
  meta.json     format version, tokeniser, base-dictionary fingerprint (tokenise.base_fingerprint),
                what the index was built from
  docs.json     the SearchDocs, in index order, the query dictionary and each measure's token key
  tokens.json   token key (the fingerprint of the words its document added, and the text's sha256)
                → jieba words: the cache that makes a rebuild from a graph incremental (only new or
                changed texts are segmented again; changed data files or tokeniser empty it)
  bm25/         the bm25s index (sparse score matrix and vocabulary): of the jieba words (method jieba
                and words), of the character bigrams (method bigram)
  grams/        method jieba: the bm25s index of the texts' character bigrams, a field of its own
                (ipgraph.search.rank.query_fields says which query token is scored in which field)

A build's tokens come made: its extraction workers segment each document's measures
(ipgraph.search.segment) and index_docs(made=…) only builds BM25 from them.

Files are written into a staging folder and swapped in, so a reader never sees half an index.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipgraph.errors import GraphNotFoundError, IpgraphError
from ipgraph.search.records import SearchDoc, engine_for, read_doc_names, read_docs, read_names
from ipgraph.search.segment import text_sha, token_key
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
)

FORMAT = 6  # 5: words and bigrams in two fields (bm25/, grams/); 6: tokens keyed by their document's names
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
    bm25: Any  # bm25s.BM25: the words field (jieba, words) or the only field (bigram)
    stats: dict[str, Any] = field(default_factory=dict)
    _tokeniser: Tokeniser | None = None
    folder: Path | None = None
    # method jieba: the character bigrams' own BM25 field. Why two fields, not one vocabulary: in one,
    # a two-character word (质押) and the bigram 质押 are one token counted twice, and a longer word
    # competes with its own bigrams; apart, each query token is scored once (rank.query_fields).
    grams: Any = None
    _word_tokeniser: Tokeniser | None = None
    keys: list[str] = field(default_factory=list)  # per doc, its key in tokens.json

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
    import bm25s

    retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
    # an empty document would get no row: index a placeholder that no query produces
    # (and an empty build one placeholder row, which no query reaches either)
    retriever.index([t if t else ["\x00"] for t in tokens] or [["\x00"]], show_progress=False)
    return retriever


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
    started = time.perf_counter()
    jieba = method in ("jieba", "words")
    grams = {"jieba": gram_tokens, "bigram": bigram_tokenise}.get(method)
    if not jieba and grams is None:
        raise SearchIndexError(f"unknown tokeniser {method!r}; choose one of {', '.join(METHODS)}")
    words = user_words([*base_words(), *(names or [])]) if jieba else []
    cache = dict(cache or {})
    loaded = time.perf_counter()
    texts = [d.indexed_text() for d in docs]
    shas = [text_sha(text) for text in texts]
    keys = [""] * len(docs)
    tokens: list[list[str]] = [[] for _ in docs]
    taken = segmented = 0
    if jieba:
        extra: dict[str, tuple[list[str], list[str]]] = {}  # doc IRI → (its names, the words they add)
        todo: dict[str, list[int]] = {}  # doc IRI → positions to segment here
        for i, d in enumerate(docs):
            mine = made.get(d.iri) if made else None
            if mine is not None and mine[1] == shas[i]:
                keys[i], tokens[i] = mine[0], mine[2]
                taken += 1
                continue
            if d.doc_iri not in extra:
                own = doc_words.get(d.doc_iri, []) if doc_words is not None else list(names or [])
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
                segmented += 1
    bigrams: list[list[str]] = []  # method jieba: the grams field
    if jieba:
        indexed = tokens  # the bm25 field: words (jieba, words)
        if grams is not None:
            bigrams = [grams(text) for text in texts]
    else:
        assert grams is not None  # checked above: method bigram
        indexed = [grams(text) for text in texts]
    done_tokens = time.perf_counter()
    bm25 = _bm25(indexed)
    grams_field = _bm25(bigrams) if method == "jieba" else None
    done = time.perf_counter()
    stats = {
        # segmented: the texts segmented for this index (by the build's workers, or here); reused: from a cache
        "measures": len(docs), "segmented": segmented + min(fresh, taken), "reused": len(docs) - segmented - min(fresh, taken),
        "segmented_here": segmented, "characters": sum(len(text) for text in texts),
        "seconds_dictionary": round(loaded - started, 3), "seconds_segment": round(done_tokens - loaded, 3),
        "seconds_bm25": round(done - done_tokens, 3),
    }
    return SearchIndex(docs=docs, method=method, words=words, _tokens=tokens, bm25=bm25, stats=stats,
                       grams=grams_field, keys=keys)


def _read_made(folder: Path, method: str) -> Made:
    """index.made() of the index in `folder`, if made with today's tokeniser and data files (else {})."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("method") != method or meta.get("dictionary") != base_fingerprint():
            return {}
        return load_index(folder).made()
    except (OSError, ValueError, SearchIndexError):
        return {}


def _read_cache(folder: Path, method: str, fingerprint: str) -> dict[str, list[str]]:
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("method") != method or meta.get("dictionary") != fingerprint:
            return {}
        cached = json.loads((folder / "tokens.json").read_text(encoding="utf-8"))
        return cached if isinstance(cached, dict) else {}
    except (OSError, ValueError):
        return {}  # no usable cache: segment everything


def save_index(index: SearchIndex, folder: Path | str, cache: dict[str, list[str]] | None = None) -> Path:
    """Write the index into `folder` (replaced as a whole: staged beside it, then swapped in)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        meta = {
            "format": FORMAT, "method": index.method,
            "dictionary": base_fingerprint() if index.method in ("jieba", "words") else "",
            "measures": len(index.docs), "k1": K1, "b": B,
        }
        (stage / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True),
                                         encoding="utf-8")
        docs = [dataclasses.asdict(d) for d in index.docs]
        payload = {"words": index.words, "docs": docs, "keys": index.keys}
        (stage / "docs.json").write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                                         encoding="utf-8")
        if cache is None:
            cache = dict(zip(index.keys, index.tokens, strict=True)) if index.method != "bigram" else {}
        (stage / "tokens.json").write_text(json.dumps(cache, ensure_ascii=False, sort_keys=True,
                                                      separators=(",", ":")), encoding="utf-8")
        index.bm25.save(str(stage / "bm25"))
        if index.grams is not None:
            index.grams.save(str(stage / "grams"))
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
        bm25 = bm25s.BM25.load(str(folder / "bm25"))
        grams = None
        if meta["method"] == "jieba":
            if not (folder / "grams").is_dir():
                raise FileNotFoundError(2, "missing", str(folder / "grams"))
            grams = bm25s.BM25.load(str(folder / "grams"))
    except FileNotFoundError as exc:
        raise SearchIndexError(f"{folder}: no search index here ({Path(exc.filename or '').name} missing)") from exc
    except (OSError, ValueError, KeyError) as exc:
        raise SearchIndexError(f"{folder}: unreadable search index ({exc})") from exc
    docs = [SearchDoc(**d) for d in payload["docs"]]
    return SearchIndex(docs=docs, method=meta["method"], words=payload["words"], _tokens=None, bm25=bm25,
                       folder=folder, grams=grams, keys=payload.get("keys") or [])


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
