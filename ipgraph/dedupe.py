"""The same document twice under two names: identical or near-identical text.

Two texts are compared in a normalised form (NFKC, traditional characters made simplified,
whitespace, punctuation and HTML/docx layout ignored), so a .txt and the .html page it was
copied from, or a GBK and a UTF-8 copy, count as the same document.

* identical: the normalised texts are equal (compared by SHA-256);
* near-identical: the Jaccard similarity of their sets of 5-character shingles is at least
  0.9 — a copy with a changed date, an added line or a different page header. A revision that
  rewrites a tenth of a document is a different document.

The pipeline keeps the first document by sorted file name and reports each later copy.

Candidates are found through an index, not by comparing every pair: each kept text's MinHash
signature (64 seeded hash functions over its shingles) is cut into 16 bands of 4; a new text is
compared only with the kept texts that share a band with it (locality-sensitive hashing). A pair
at similarity 0.9 shares a band with probability 1 - (1 - 0.9⁴)¹⁶ > 0.99999996; the comparison
itself stays exact (the Jaccard of the full shingle sets).

    finder = DuplicateFinder()
    for name, text in documents:
        match = finder.match(text)
        if match is None:
            finder.add(name, text)
"""
from __future__ import annotations

import hashlib
import heapq
import random
import re
import unicodedata
import zlib
from dataclasses import dataclass
from typing import Any

from ipgraph.read import matching_form

SHINGLE = 5
THRESHOLD = 0.9
_SKETCH = 64  # the bottom-k sketch size used to rule out dissimilar pairs cheaply
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)
_BANDS, _ROWS = 16, 4
_PRIME = (1 << 61) - 1
_SEEDS = random.Random(0x1D5).sample(range(1, _PRIME), 2 * _BANDS * _ROWS)  # fixed: same decisions every run


def normalise(text: str) -> str:
    """The form documents are compared in: NFKC, simplified, only letters, digits and CJK kept."""
    return _DROP.sub("", matching_form(unicodedata.normalize("NFKC", text))).lower()


def shingles(norm: str, k: int = SHINGLE) -> set[int]:
    """CRC-32s of the k-character substrings of a normalised text (the text itself when shorter).

    CRC-32 rather than Python's hash, which is salted per process: the same corpus must give the
    same decisions every run. Chance collisions among a document's few thousand shingles change a
    similarity by well under 0.1%.
    """
    if len(norm) <= k:
        return {zlib.crc32(norm.encode("utf-8"))} if norm else set()
    data = norm.encode("utf-32-le")  # 4 bytes a character: shingle i is data[4i : 4i + 4k]
    width = 4 * k
    return {zlib.crc32(data[i:i + width]) for i in range(0, len(data) - width + 4, 4)}


def band_keys(found: Any) -> list[tuple[int, bytes]]:
    """The LSH keys of a shingle set (or its _packed array): (band, its 4 MinHash values) for each of the 16 bands."""
    import numpy as np

    if not len(found):
        return []
    values = found.astype(np.uint64) if isinstance(found, np.ndarray) else np.fromiter(found, dtype=np.uint64,
                                                                                       count=len(found))
    a = np.array(_SEEDS[0::2], dtype=np.uint64)[:, None]
    b = np.array(_SEEDS[1::2], dtype=np.uint64)[:, None]
    # (a·x + b) mod 2^64 per seed: a universal-enough family for CRC-32 inputs; the minimum per row,
    # eight rows at a time (the whole 64-row matrix of a long text does not stay in the cache)
    signature = np.empty(len(a), dtype=np.uint64)
    for row in range(0, len(a), 8):
        signature[row:row + 8] = (a[row:row + 8] * values[None, :] + b[row:row + 8]).min(axis=1)
    return [(band, signature[band * _ROWS:(band + 1) * _ROWS].tobytes()) for band in range(_BANDS)]


def jaccard(a: set[int], b: set[int]) -> float:
    """|a ∩ b| / |a ∪ b|; 1.0 for two empty sets."""
    if not a and not b:
        return 1.0
    shared = len(a & b)  # |a ∪ b| by counting: building the union set cost five times the intersection
    return shared / (len(a) + len(b) - shared)


@dataclass(frozen=True)
class Duplicate:
    """A later document that repeats an earlier one."""

    of: str  # the name of the document kept
    similarity: float  # 1.0 when identical

    @property
    def identical(self) -> bool:
        return self.similarity >= 1.0

    def describe(self) -> str:
        """The cause, in one phrase: 'duplicate of a.txt (identical text)'."""
        if self.identical:
            return f"duplicate of {self.of} (identical text); left out of the graph"
        return (f"near-duplicate of {self.of} ({self.similarity:.1%} of their {SHINGLE}-character shingles shared); "
                f"left out of the graph")


def _packed(found: set[int]) -> Any:
    """A shingle set as a sorted uint32 array: 4 bytes a shingle instead of ~60 in a set (the finder
    keeps one per kept document: 10,000 documents would hold gigabytes of sets)."""
    import numpy as np

    values = np.fromiter(found, dtype=np.uint32, count=len(found))
    values.sort()
    return values


def _as_packed(found: Any) -> Any:
    """_packed(found) unless it already is (fingerprint gives it packed)."""
    import numpy as np

    return found if isinstance(found, np.ndarray) else _packed(found)


def _jaccard_packed(a: Any, b: Any) -> float:
    """jaccard() of two _packed shingle sets."""
    import numpy as np

    if not len(a) and not len(b):
        return 1.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


@dataclass
class _Entry:
    name: str
    shingles: Any  # _packed
    sketch: set[int]


class DuplicateFinder:
    """Remembers kept documents and tells whether a new text repeats one of them."""

    def __init__(self, threshold: float = THRESHOLD, k: int = SHINGLE) -> None:
        self.threshold = threshold
        self.k = k
        self._exact: dict[str, str] = {}  # SHA-256 of the normalised text → name
        self._entries: list[_Entry] = []
        self._index: dict[tuple[int, bytes], list[int]] = {}  # LSH band key → kept entries
        self._last: tuple[str, str, Any, set[int], list] | None = None  # match() then add() of one text

    def _prepare(self, text: str, prepared: tuple | None = None) -> tuple[str, set[int], set[int], list]:
        if self._last is None or self._last[0] is not text:
            if prepared is None or self.k != SHINGLE:
                prepared = fingerprint(text, self.k)
            self._last = (text, *prepared)
        return self._last[1:]

    def prepared(self, text: str) -> tuple:
        """fingerprint(text), computed once for match() and add() of the same text."""
        return self._prepare(text)

    def match(self, text: str, prepared: tuple | None = None) -> Duplicate | None:
        """The kept document `text` repeats (the most similar one), or None. `prepared`: fingerprint(text),
        computed elsewhere (a build worker) or kept (the build's cache)."""
        digest, new, sketch, keys = self._prepare(text, prepared)
        if digest in self._exact:
            return Duplicate(self._exact[digest], 1.0)
        best: Duplicate | None = None
        packed = _as_packed(new)
        candidates = sorted({i for key in keys for i in self._index.get(key, ())})
        for entry in (self._entries[i] for i in candidates):
            # Jaccard ≥ t needs the smaller set to be at least t times the larger one
            small, large = sorted((len(new), len(entry.shingles)))
            if not large or small < self.threshold * large:
                continue
            # the bottom-k sketches estimate the similarity (the share of the union's k smallest hashes
            # found in both); a pair far below the threshold stops here
            if len(sketch & entry.sketch) < _SKETCH // 4:  # cheaper still: nearly disjoint samples
                continue
            union = _bottom(sketch | entry.sketch)
            if union and len(union & sketch & entry.sketch) < (self.threshold - 0.25) * len(union):
                continue
            similarity = _jaccard_packed(packed, entry.shingles)
            if similarity >= self.threshold and (best is None or similarity > best.similarity):
                best = Duplicate(entry.name, min(similarity, 0.999))
        return best

    def add(self, name: str, text: str, prepared: tuple | None = None) -> None:
        """Remember a kept document."""
        digest, found, sketch, keys = self._prepare(text, prepared)
        self._exact.setdefault(digest, name)
        for key in keys:
            self._index.setdefault(key, []).append(len(self._entries))
        self._entries.append(_Entry(name, _as_packed(found), sketch))


def fingerprint(text: str, k: int = SHINGLE) -> tuple[str, Any, set[int], list]:
    """What the finder compares a text by: (SHA-256 of its normalised form, its shingles _packed, bottom-k
    sketch, LSH band keys). A build's workers compute it beside the extraction, off the main process: the
    shingles travel (and are cached) packed, 4 bytes each, so the build's own process neither unpickles a
    set nor packs one per document."""
    norm = normalise(text)
    found = _packed(shingles(norm, k))
    return hashlib.sha256(norm.encode("utf-8")).hexdigest(), found, set(found[:_SKETCH].tolist()), band_keys(found)


def _bottom(values: set[int]) -> set[int]:
    return set(heapq.nsmallest(_SKETCH, values))


def find_duplicates(documents: list[tuple[str, str]], threshold: float = THRESHOLD) -> dict[str, Duplicate]:
    """Name → Duplicate for every document that repeats an earlier one in sorted-name order."""
    finder = DuplicateFinder(threshold)
    found: dict[str, Duplicate] = {}
    for name, text in sorted(documents):
        match = finder.match(text)
        if match is None:
            finder.add(name, text)
        else:
            found[name] = match
    return found
