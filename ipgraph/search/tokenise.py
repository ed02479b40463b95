"""Tokenisers for search: jieba words (with a user dictionary), character bigrams, and normalisation.

jieba is imported, and its 350k-word dictionary loaded, only when a jieba tokeniser is first
used, once per process (`jieba_tokeniser` caches one Tokenizer per user dictionary): the
query command and everything else that does not search never pays for it.

The index's tokens are a pure function of the text, its document and versioned data
(`segment_texts`): the dictionary is `base_words()` (ipgraph/data only, fingerprinted by those
files' bytes and TOKENISER_VERSION: `base_fingerprint()`) plus the document's own names that
occur in the text, added for it only and removed after it (`added_words` restores jieba's FREQ
and total exactly). So no other document, and no order of documents, changes a text's tokens.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import lru_cache
from typing import Any

from ipgraph.knowledge import data_text

Tokeniser = Callable[[str], list[str]]

# A run of CJK ideographs, or of letters and digits (after NFKC: half-width, lower-cased).
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[0-9a-z]+(?:[.\-][0-9a-z]+)*")
_SPLIT = re.compile(r"[\s,、;]+")


def normalise(text: str) -> str:
    """NFKC (full-width letters, digits and punctuation to half-width) and lower case, same length
    for CJK text, so that offsets into the normalised text are offsets into the original in practice."""
    return unicodedata.normalize("NFKC", text).lower()


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Function words that carry no meaning for search (ipgraph/data/search_stopwords.txt)."""
    return frozenset(
        line.split("#", 1)[0].strip() for line in data_text("search_stopwords.txt").splitlines()
        if line.split("#", 1)[0].strip()
    )


@lru_cache(maxsize=1)
def domain_terms() -> tuple[str, ...]:
    """The versioned domain term list (ipgraph/data/search_terms.csv): compounds jieba must keep whole."""
    terms = []
    for line in data_text("search_terms.csv").splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("term,"):
            continue
        terms.append(normalise(line.split(",", 1)[0].strip()))
    return tuple(t for t in terms if t)


def name_words(names: Iterable[str]) -> set[str]:
    """The dictionary words of names: normalised, CJK only (jieba's dictionary words cannot hold
    spaces or punctuation)."""
    words: set[str] = set()
    for name in names:
        for run in _CJK.findall(normalise(name)):
            if 2 <= len(run) <= 40:  # a longer run is a sentence, not a name
                words.add(run)
    return words


def user_words(names: Iterable[str]) -> list[str]:
    """The user dictionary: the domain terms and the given names (from the graph), normalised,
    CJK only, sorted and unique."""
    return sorted(set(domain_terms()) | name_words(names))


# Bump when the making of tokens changes (this module's segmentation, the words added): every
# cached token list (the build's per-document cache, the index's tokens.json) is made again.
TOKENISER_VERSION = "3"
# jieba's HMM guesses words its dictionary lacks. Without it (measured, 3,000 measure texts of the
# synthetic corpus, alternating runs, load average ~12): 3.07 s against 3.36 s (-9 %); on the search
# evaluation the product's figures are the same (corpus fragments recall@10 0.942 / MRR 1.000, names
# 0.862 / 0.979, dev names 0.911 / 1.000), jieba words alone gain (fragments MRR 0.872 → 0.906) and
# echo precision stays 0.8 at 0.25. Off, then.
HMM = False
# The versioned data the base dictionary is made of; their bytes are its fingerprint.
DICTIONARY_FILES = ("search_terms.csv", "agency_names.csv", "national_bodies.csv", "places.csv")


def data_names() -> set[str]:
    """The names ipgraph/data holds: agency forms (agency_names.csv, without the {place} slot),
    national bodies and their aliases, places.

    Not the programme scheme's labels and aliases: measured on the evaluation (python -m
    ipgraph.search.eval, dev passages, "names" queries) they cost recall@10 0.911 → 0.873 and MRR
    1.000 → 0.942 (the canonical labels alone 0.885 / 0.962): a whole scheme form such as
    国家知识产权强市示范城市 hides the parts other texts write. A document's own programmes (as its
    extractor found them, with the scheme's aliases) are added for its texts like its other names."""
    import csv
    import io

    from ipgraph import knowledge

    names: set[str] = set()
    text = "\n".join(line for line in data_text("agency_names.csv").splitlines() if not line.startswith("#"))
    for row in csv.DictReader(io.StringIO(text)):
        names.update(v.replace("{place}", "") for v in (row.get("short") or "", row.get("full") or "") if v)
    for body in knowledge.national_bodies().values():
        names.add(body.name)
        names.update(body.aliases)
    for place in knowledge.places().values():
        names.add(place.name)
    return names


@lru_cache(maxsize=1)
def base_words() -> tuple[str, ...]:
    """The dictionary every text is segmented with: the domain terms and data_names(), as words."""
    return tuple(user_words(data_names()))


@lru_cache(maxsize=1)
def base_fingerprint() -> str:
    """What a text's tokens depend on besides the text and its document: the dictionary's data
    files, the tokeniser's version and jieba's."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256(TOKENISER_VERSION.encode())
    try:
        digest.update(version("jieba").encode())
    except PackageNotFoundError:  # pragma: no cover - jieba is a dependency
        pass
    for name in DICTIONARY_FILES:
        digest.update(f"\0{name}\0".encode())
        digest.update(data_text(name).encode("utf-8"))
    return digest.hexdigest()[:16]


def document_words(names: Iterable[str]) -> list[str]:
    """A document's own names as the words added for its texts: those the base dictionary lacks."""
    base = set(base_words())
    return sorted(w for w in name_words(names) if w not in base)


def dictionary_fingerprint(words: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(words).encode("utf-8")).hexdigest()[:16]


def _keep(token: str) -> bool:
    """A token worth indexing: two characters or more (a lone CJK character is mostly a function
    word), or a number/ASCII word; never a stopword."""
    if token in stopwords():
        return False
    return len(token) >= 2 or token.isascii() and token.isalnum()


# ------------------------------------------------------------------------------------------
# jieba

_LOCK = threading.Lock()
_TOKENISERS: dict[str, Any] = {}
_KEEP = 2  # jieba dictionaries kept per process (each ~100 MB)


def _load_jieba(words: tuple[str, ...]) -> Any:
    with warnings.catch_warnings():
        # jieba 0.42 imports pkg_resources, which newer setuptools flags with a UserWarning
        warnings.simplefilter("ignore")
        import jieba
    logging.getLogger("jieba").setLevel(logging.WARNING)  # its "Building prefix dict" chatter
    from ipgraph.search.prefixdict import load_into

    tokenizer = jieba.Tokenizer()
    if not load_into(tokenizer):  # its prefix dictionary from the user's cache, else jieba's own load
        tokenizer.initialize()
    for word in words:
        # suggest_freq(tune=True) gives the word the frequency that keeps it whole
        tokenizer.add_word(word)
        tokenizer.suggest_freq(word, tune=True)
    return tokenizer


def _tokenizer(key: str, key_words: tuple[str, ...]) -> Any:
    """The jieba Tokenizer of `key` (loaded with key_words once per process)."""
    with _LOCK:
        loaded = _TOKENISERS.get(key)
        if loaded is None:
            while len(_TOKENISERS) >= _KEEP:  # a long-lived process keeps the latest few
                _TOKENISERS.pop(next(iter(_TOKENISERS)))
            loaded = _TOKENISERS[key] = _load_jieba(key_words)
    return loaded


@contextmanager
def added_words(tokenizer: Any, words: Sequence[str]) -> Iterator[None]:
    """`words` in the Tokenizer's dictionary inside the block; after it FREQ is exactly as before.

    Each word gets the frequency jieba's suggest_freq gives it against the dictionary without any
    added word (so it beats its own cut: kept whole), and `total` is left as it is: a text's cut
    then depends only on the dictionary entries of its own substrings, i.e. on the added words the
    text holds (text_words) — not on the other names of its document nor on their order. (jieba's
    add_word raises `total` by each frequency and del_word never lowers it again; add_word also puts
    every prefix of the word into FREQ with frequency 0: all of that is undone here.)"""
    freq = tokenizer.FREQ
    own: dict[str, int] = tokenizer.__dict__.setdefault("_ipgraph_freq", {})  # word → its base frequency
    for word in words:
        if word not in own:  # computed while the dictionary is the base one (nothing added yet)
            own[word] = tokenizer.suggest_freq(word, tune=False)
    total = tokenizer.total
    touched = {word[:i] for word in words for i in range(1, len(word) + 1)}
    saved = {k: freq[k] for k in touched if k in freq}
    try:
        for word in words:
            for i in range(1, len(word)):
                freq.setdefault(word[:i], 0)  # what add_word does: the DAG scans on through prefixes
            freq[word] = own[word]
        yield
    finally:
        for k in touched:
            if k in saved:
                freq[k] = saved[k]
            else:
                freq.pop(k, None)
        tokenizer.total = total


_SEGMENT = "segment:"  # the segmenting Tokenizer is its own: a query tokeniser in another thread never sees added words
_SEGMENT_LOCK = threading.Lock()
# Per process, the tokens of texts already segmented, by (the added words the text holds, text): a
# pure function, so a text repeated in many documents (a common clause) is cut once per worker.
_MEMO: OrderedDict[tuple[tuple[str, ...], str], list[str]] = OrderedDict()
_MEMO_MAX = 50_000
# The same one level down: the words of one CJK run (what jieba cuts), by (the added words the run holds,
# run). A run's cut reads FREQ only at its own substrings, so the added words outside it change nothing
# (their prefixes enter FREQ at 0, which only lets the DAG scan on). Texts that differ share most runs
# (clauses between punctuation): 3,660 measures of 100 generated plans hold 53,672 runs, 2,110 distinct.
_RUNS: OrderedDict[tuple[tuple[str, ...], str], list[str]] = OrderedDict()
_RUNS_MAX = 200_000


def text_words(text: str, words: Sequence[str]) -> tuple[str, ...]:
    """The added `words` (document_words) that occur in the text: all that its tokens depend on."""
    folded = normalise(text)
    return tuple(w for w in words if w in folded)


def segment_keyed(texts: Sequence[str], names: Iterable[str] = ()) -> list[tuple[str, list[str]]]:
    """Per text: (the fingerprint of the added words it holds, its jieba words). The words are
    cut_for_search's, as the index keeps them, with the base dictionary and the document's own
    `names` added for these texts only: a pure function of the text, the names it holds and
    versioned data (base_fingerprint)."""
    extra = document_words(names)
    wanted = [text_words(text, extra) for text in texts]
    out: list[list[str] | None] = [_MEMO.get((w, text)) for w, text in zip(wanted, texts, strict=True)]
    todo: dict[tuple[str, ...], list[int]] = {}
    for i, tokens in enumerate(out):
        if tokens is None:
            todo.setdefault(wanted[i], []).append(i)
    if todo:
        base = base_words()
        key = _SEGMENT + dictionary_fingerprint(base)
        cut = _words_only(lambda: _tokenizer(key, base))
        with _SEGMENT_LOCK:
            jt = _tokenizer(key, base)
            for words, positions in todo.items():
                with ExitStack() as stack:
                    added: list[bool] = []

                    def cut_added(run: str, words: tuple[str, ...] = words, stack: ExitStack = stack,
                                  added: list[bool] = added) -> list[str]:
                        if not added:  # the words enter the dictionary only once a run is not remembered
                            stack.enter_context(added_words(jt, words))
                            added.append(True)
                        return cut(run)

                    for i in positions:
                        out[i] = _MEMO[(words, texts[i])] = _cut_runs(texts[i], words, cut_added)
            while len(_MEMO) > _MEMO_MAX:
                _MEMO.popitem(last=False)
            while len(_RUNS) > _RUNS_MAX:
                _RUNS.popitem(last=False)
    return [(dictionary_fingerprint(w), list(tokens or [])) for w, tokens in zip(wanted, out, strict=True)]


def _cut_runs(text: str, words: tuple[str, ...], cut: Callable[[str], list[str]]) -> list[str]:
    """jieba_tokeniser(grams=False)(text) with `words` added, each CJK run cut once per process (_RUNS)."""
    out: list[str] = []
    for run in _WORD.findall(normalise(text)):
        if not _CJK.match(run):
            out.append(run)
            continue
        key = (tuple(w for w in words if w in run), run)
        tokens = _RUNS.get(key)
        if tokens is None:
            tokens = _RUNS[key] = cut(run)
        out.extend(tokens)
    return out


def warm() -> None:
    """Load the segmenting dictionary now (a build worker, before its first file's time budget)."""
    base = base_words()
    _tokenizer(_SEGMENT + dictionary_fingerprint(base), base)


def segment_texts(texts: Sequence[str], names: Iterable[str] = ()) -> list[list[str]]:
    """The jieba words of each text (segment_keyed without the fingerprints)."""
    return [tokens for _, tokens in segment_keyed(texts, names)]


def _words_only(tokenizer: Callable[[], Any]) -> Callable[[str], list[str]]:
    """The words of one CJK run: cut_for_search by the Tokenizer that `tokenizer()` gives, kept tokens only."""

    def words_only(run: str) -> list[str]:
        jt = tokenizer()
        freq = jt.FREQ
        out: list[str] = []
        for token in jt.cut_for_search(run, HMM=HMM):
            if _keep(token):
                out.append(token)
            # cut_for_search adds the 2- and 3-character dictionary words inside a long word;
            # add the 4-character ones too (知识产权 inside 知识产权质押融资)
            if len(token) > 4:
                out.extend(token[i:i + 4] for i in range(len(token) - 3) if freq.get(token[i:i + 4]))
        return out

    return words_only


def jieba_tokeniser(words: Iterable[str] = (), grams: bool = True, instance: str = "") -> Tokeniser:
    """A jieba tokeniser with `words` added to its dictionary, loaded once per process and per user
    dictionary on the first text; tokens are normalised, stopwords dropped.

    grams=False: jieba's cut_for_search (words, and the dictionary words inside long ones).
    grams=True (what the index uses): those words and the character bigrams of the text. Why: on
    the gold queries (ipgraph.search.eval) words alone miss every fragment that is no dictionary
    word (强市 in 知识产权强市建设, 专利奖 in 中国专利奖, 示范城市 across 示范|城市); bigrams only
    inside words still missed the last kind; words plus all bigrams missed none.
    """
    key_words = tuple(sorted(set(words)))
    key = instance + dictionary_fingerprint(key_words)  # `instance`: a Tokenizer of its own for the same words

    def tokenizer() -> Any:  # loaded on the first text, not when the tokeniser is made
        return _tokenizer(key, key_words)

    words_only = _words_only(tokenizer)

    def with_grams(run: str) -> list[str]:
        return words_only(run) + gram_tokens(run)

    cut = with_grams if grams else words_only

    def tokenise(text: str) -> list[str]:
        out: list[str] = []
        for run in _WORD.findall(normalise(text)):
            out.extend(cut(run) if _CJK.match(run) else [run])
        return out

    return tokenise


# ------------------------------------------------------------------------------------------
# baselines


def bigram_tokenise(text: str) -> list[str]:
    """Overlapping character bigrams of every CJK run (a lone character stands for itself);
    letters and digits as words. The usual dictionary-free baseline for Chinese search."""
    out: list[str] = []
    for run in _WORD.findall(normalise(text)):
        if _CJK.match(run) and len(run) > 1:
            out.extend(run[i:i + 2] for i in range(len(run) - 1))
        else:
            out.append(run)
    return out


def gram_tokens(text: str) -> list[str]:
    """The bigrams the jieba index adds to the words: bigram_tokenise less stopwords and lone characters."""
    return [t for t in bigram_tokenise(text) if _keep(t)]


# A coordinated form A(B)C: B stands for A's last characters (示范(优势)企业: 示范企业 and 优势企业;
# 县(市)政府: 县政府 and 市政府). The brackets break the bigrams across them (范企, 势企), so the
# bigram fields read the form's two readings too. C is a lookahead: in A(B)C(D)E, C starts the next.
_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_COORDINATED = re.compile(rf"({_HAN}+)\(({_HAN}{{1,6}})\)(?=({_HAN}+))")


def coordinated_readings(text: str) -> list[str]:
    """The two readings of every coordinated form A(B)C in `text` (normalised): A's last len(B)
    characters then C, and B then C. 示范(优势)企业 → 示范企业, 优势企业."""
    out: list[str] = []
    for m in _COORDINATED.finditer(normalise(text)):
        a, b, c = m.groups()
        out += [a[-len(b):] + c, b + c]
    return out


def with_readings(text: str) -> str:
    """`text` and, on lines after it, the readings of its coordinated forms: what the bigram fields read."""
    readings = coordinated_readings(text)
    return "\n".join([text, *readings]) if readings else text


def query_terms(query: str) -> list[str]:
    """The parts of a query as typed (split on spaces and list punctuation), normalised."""
    return [t for t in _SPLIT.split(normalise(query)) if t]
