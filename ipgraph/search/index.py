"""The search index: measures tokenised once, ranked with BM25 (bm25s), stored under the build folder.

Layout of FOLDER (default BUILD/search/):
  meta.json     format version, tokeniser, user-dictionary fingerprint, what the index was built from
  docs.json     the SearchDocs, in index order
  tokens.json   text sha256 → jieba words: the cache that makes a rebuild incremental (only new or
                changed texts are segmented again; a changed user dictionary empties it)
  bm25/         the bm25s index (sparse score matrix and vocabulary): of the jieba words (method jieba
                and words), of the character bigrams (method bigram)
  grams/        method jieba: the bm25s index of the texts' character bigrams, a field of its own
                (ipgraph.search.rank.query_fields says which query token is scored in which field)

Files are written into a staging folder and swapped in, so a reader never sees half an index.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipgraph.errors import GraphNotFoundError, IpgraphError
from ipgraph.search.records import SearchDoc, engine_for, read_docs, read_names
from ipgraph.search.tokenise import (
    Tokeniser,
    bigram_tokenise,
    dictionary_fingerprint,
    gram_tokens,
    jieba_tokeniser,
    user_words,
)

FORMAT = 5  # 5: the jieba index keeps words and bigrams in two fields (bm25/, grams/)
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
    words: list[str]  # the user dictionary (jieba)
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

    @property
    def tokens(self) -> list[list[str]]:
        if self._tokens is None:
            cache: dict[str, list[str]] = {}
            if self.folder is not None:
                cache = json.loads((self.folder / "tokens.json").read_text(encoding="utf-8"))
            self._tokens = [cache.get(_sha(d.indexed_text()), []) for d in self.docs]
        return self._tokens

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


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    with the same tokeniser and user dictionary, lends its tokens, so only new or changed texts are
    segmented: a build writing into a staging folder passes the last build's BUILD/search.
    """
    engine = engine_for(source)  # once: an rdflib graph is copied into Oxigraph for the queries
    docs = read_docs(engine)
    names = read_names(engine) if method in ("jieba", "words") else []
    lender = previous if previous is not None else folder
    if cache is None and lender is not None:
        fingerprint = dictionary_fingerprint(user_words(names) if names else [])
        cache = _read_cache(Path(lender), method, fingerprint)
    index = index_docs(docs, method, names, cache)
    if folder is not None:
        save_index(index, folder)
    return index


def index_docs(
    docs: list[SearchDoc], method: str = "jieba", names: list[str] | None = None,
    cache: dict[str, list[str]] | None = None, jobs: int = 1,
) -> SearchIndex:
    """Index `docs` (any SearchDocs: measures, or passages for an evaluation); `names` feed the
    jieba user dictionary; `cache` (text sha256 → tokens) spares segmenting texts seen before;
    `jobs` > 1 segments the new texts in that many processes (the build passes its -j)."""
    started = time.perf_counter()
    words = user_words(names or []) if method in ("jieba", "words") else []
    cache = dict(cache or {})
    # The cache holds what is slow to make (jieba's words); bigrams are added as the index is made.
    segment = jieba_tokeniser(words, grams=False) if method in ("jieba", "words") else None
    grams = {"jieba": gram_tokens, "bigram": bigram_tokenise}.get(method)
    if segment is None and grams is None:
        raise SearchIndexError(f"unknown tokeniser {method!r}; choose one of {', '.join(METHODS)}")
    loaded = time.perf_counter()
    tokens: list[list[str]] = []
    indexed: list[list[str]] = []  # the bm25 field: words (jieba, words) or bigrams (bigram)
    bigrams: list[list[str]] = []  # method jieba: the grams field
    fresh = 0
    texts = [d.indexed_text() for d in docs]
    keys = [_sha(text) for text in texts]
    if segment is not None and jobs > 1:
        fresh = _segment_in_processes(texts, keys, words, cache, jobs)
    for text, key in zip(texts, keys, strict=True):
        if segment is not None and key not in cache:
            cache[key] = segment(text)
            fresh += 1
        mine = cache.get(key, []) if segment is not None else []
        tokens.append(mine)
        if segment is None and grams is not None:
            indexed.append(grams(text))
        else:
            indexed.append(mine)
            if grams is not None:
                bigrams.append(grams(text))
    segmented = time.perf_counter()
    bm25 = _bm25(indexed)
    grams_field = _bm25(bigrams) if method == "jieba" else None
    done = time.perf_counter()
    stats = {
        "measures": len(docs), "segmented": fresh, "reused": len(docs) - fresh,
        "characters": sum(len(text) for text in texts),
        "seconds_dictionary": round(loaded - started, 3), "seconds_segment": round(segmented - loaded, 3),
        "seconds_bm25": round(done - segmented, 3),
    }
    return SearchIndex(docs=docs, method=method, words=words, _tokens=tokens, bm25=bm25, stats=stats,
                       grams=grams_field)


# Below this many new texts, loading jieba's dictionary in other processes (~1–2 s each) costs more
# than segmenting here.
PARALLEL_MIN_TEXTS = 400
_WORKER_WORDS: tuple[str, ...] = ()


def _init_segmenter(words: tuple[str, ...]) -> None:
    global _WORKER_WORDS
    _WORKER_WORDS = words


def _segment_texts(texts: list[str]) -> list[list[str]]:
    segment = jieba_tokeniser(_WORKER_WORDS, grams=False)  # loaded once per process and dictionary
    return [segment(text) for text in texts]


def _segment_in_processes(texts: list[str], keys: list[str], words: list[str], cache: dict[str, list[str]],
                          jobs: int) -> int:
    """Segment the `texts` (with their sha256 `keys`) not in `cache` in `jobs` processes, into `cache`;
    how many were. Segmentation is a pure function of the text and the dictionary: the result does not
    depend on `jobs` or on how the texts are cut into chunks."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    todo: dict[str, str] = {}
    for text, key in zip(texts, keys, strict=True):
        if key not in cache and key not in todo:
            todo[key] = text
    if len(todo) < PARALLEL_MIN_TEXTS:
        return 0
    new_keys, new_texts = list(todo), list(todo.values())
    size = max(16, len(new_texts) // (jobs * 8))
    chunks = [new_texts[i:i + size] for i in range(0, len(new_texts), size)]
    # fork: the children start at once with the code already imported (no store is open here)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_segmenter,
                             initargs=(tuple(words),)) as pool:
        segmented = [tokens for part in pool.map(_segment_texts, chunks) for tokens in part]
    cache.update(zip(new_keys, segmented, strict=True))
    return len(new_keys)


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
            "format": FORMAT, "method": index.method, "dictionary": dictionary_fingerprint(index.words),
            "measures": len(index.docs), "k1": K1, "b": B,
        }
        (stage / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True),
                                         encoding="utf-8")
        docs = [dataclasses.asdict(d) for d in index.docs]
        payload = {"words": index.words, "docs": docs}
        (stage / "docs.json").write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                                         encoding="utf-8")
        if cache is None:
            cache = {_sha(d.indexed_text()): t for d, t in zip(index.docs, index.tokens, strict=True)}
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
                       folder=folder, grams=grams)


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
