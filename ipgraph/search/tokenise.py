"""Tokenisers for search: jieba words (with a user dictionary), character bigrams, and normalisation.

jieba is imported, and its 350k-word dictionary loaded, only when a jieba tokeniser is first
used, once per process (`jieba_tokeniser` caches one Tokenizer per user dictionary): the
query command and everything else that does not search never pays for it.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
import warnings
from collections.abc import Callable, Iterable
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


def user_words(names: Iterable[str]) -> list[str]:
    """The user dictionary: the domain terms and the given names (from the graph), normalised,
    CJK only (jieba's dictionary words cannot hold spaces or punctuation), sorted and unique."""
    words: set[str] = set(domain_terms())
    for name in names:
        for run in _CJK.findall(normalise(name)):
            if 2 <= len(run) <= 40:  # a longer run is a sentence, not a name
                words.add(run)
    return sorted(words)


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
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in words:
        # suggest_freq(tune=True) gives the word the frequency that keeps it whole
        tokenizer.add_word(word)
        tokenizer.suggest_freq(word, tune=True)
    return tokenizer


def jieba_tokeniser(words: Iterable[str] = (), grams: bool = True) -> Tokeniser:
    """A jieba tokeniser with `words` added to its dictionary, loaded once per process and per user
    dictionary on the first text; tokens are normalised, stopwords dropped.

    grams=False: jieba's cut_for_search (words, and the dictionary words inside long ones).
    grams=True (what the index uses): those words and the character bigrams of the text. Why: on
    the gold queries (ipgraph.search.eval) words alone miss every fragment that is no dictionary
    word (强市 in 知识产权强市建设, 专利奖 in 中国专利奖, 示范城市 across 示范|城市); bigrams only
    inside words still missed the last kind; words plus all bigrams missed none.
    """
    key_words = tuple(sorted(set(words)))
    key = dictionary_fingerprint(key_words)

    def tokenizer() -> Any:  # loaded on the first text, not when the tokeniser is made
        with _LOCK:
            loaded = _TOKENISERS.get(key)
            if loaded is None:
                while len(_TOKENISERS) >= _KEEP:  # a long-lived process keeps the latest few
                    _TOKENISERS.pop(next(iter(_TOKENISERS)))
                loaded = _TOKENISERS[key] = _load_jieba(key_words)
        return loaded

    def words_only(run: str) -> list[str]:
        jt = tokenizer()
        freq = jt.FREQ
        out: list[str] = []
        for token in jt.cut_for_search(run):
            if _keep(token):
                out.append(token)
            # cut_for_search adds the 2- and 3-character dictionary words inside a long word;
            # add the 4-character ones too (知识产权 inside 知识产权质押融资)
            if len(token) > 4:
                out.extend(token[i:i + 4] for i in range(len(token) - 3) if freq.get(token[i:i + 4]))
        return out

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


def query_terms(query: str) -> list[str]:
    """The parts of a query as typed (split on spaces and list punctuation), normalised."""
    return [t for t in _SPLIT.split(normalise(query)) if t]
