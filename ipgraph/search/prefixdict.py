"""jieba's prefix dictionary (every word of its dict.txt and every prefix of one, with its count), kept
in the user's cache as plain arrays.

Why: every process that segments (each build worker, `ipgraph search`) loads this dictionary before its
first cut. jieba keeps it as a marshal file in the shared temporary folder (/tmp/jieba.cache), loaded in
~0.6 s, and trusts that file whatever its owner; a counts array and the words as one UTF-8 text load in
~0.2 s, and nothing in them is code. The file is named by a digest of dict.txt's path, size and time,
jieba's version and this format, so a changed dictionary is a new file; a file that does not parse is
made again.

Where: $IPGRAPH_CACHE_DIR, else $XDG_CACHE_HOME/ipgraph, else ~/.cache/ipgraph (made private, 0700).
Where no cache can be written, the dictionary is built from dict.txt in each process, as jieba does.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from array import array
from functools import lru_cache
from pathlib import Path
from typing import Any

FORMAT = "ipgraph-jieba-prefix-1"
_MAGIC = FORMAT.encode("ascii") + b"\n"


def dictionary_file() -> Path:
    """jieba's dict.txt, found, not imported: jieba's import is slow and not always needed."""
    from importlib.util import find_spec

    spec = find_spec("jieba")
    if spec is None or spec.origin is None:
        raise ImportError("jieba is not installed: search and the echo weights read its dictionary")
    return Path(spec.origin).parent / "dict.txt"


def cache_home() -> Path:
    """The user's cache folder of ipgraph (not created here)."""
    given = os.environ.get("IPGRAPH_CACHE_DIR")
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache") / "ipgraph"


@lru_cache(maxsize=1)
def _digest() -> str:
    """Of the format, jieba's version and dict.txt's path, size and modification time: a stat, not a read
    of its 5 MB (~0.07 s of every worker's start)."""
    import jieba  # its version from the module (importlib.metadata's lookup costs ~0.1 s)

    path = Path(jieba.__file__).parent / "dict.txt"
    st = path.stat()
    key = f"{FORMAT}\0{getattr(jieba, '__version__', '')}\0{path}\0{st.st_size}\0{st.st_mtime_ns}"
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def cache_file() -> Path:
    """Where the prefix dictionary of the installed jieba is kept."""
    return cache_home() / "jieba" / f"prefix-{_digest()}.bin"


def encode(freq: dict[str, int], total: int) -> bytes | None:
    """The file's bytes: a header line, the counts (int64, little-endian), the words joined by newlines.
    None when a word holds a newline (not a jieba word) or a count does not fit."""
    words = list(freq)
    if any("\n" in w for w in words):
        return None
    try:
        counts = array("q", freq.values())
    except OverflowError:
        return None
    if sys.byteorder != "little":  # pragma: no cover - the file is the same on every machine
        counts.byteswap()
    text = "\n".join(words).encode("utf-8")
    header = json.dumps({"total": total, "words": len(words), "text_bytes": len(text)}).encode("ascii") + b"\n"
    return _MAGIC + header + counts.tobytes() + text


def decode(data: bytes) -> tuple[dict[str, int], int]:
    """freq and total from encode's bytes; ValueError when they are not such bytes, whole."""
    if not data.startswith(_MAGIC):
        raise ValueError("not a prefix dictionary of this format")
    end = data.find(b"\n", len(_MAGIC))
    if end < 0:
        raise ValueError("no header")
    try:
        header = json.loads(data[len(_MAGIC):end])
        total, n, text_bytes = int(header["total"]), int(header["words"]), int(header["text_bytes"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"bad header: {exc}") from exc
    start = end + 1
    if n < 0 or text_bytes < 0 or len(data) != start + 8 * n + text_bytes:
        raise ValueError("truncated or padded")
    counts = array("q")
    counts.frombytes(data[start:start + 8 * n])
    if sys.byteorder != "little":  # pragma: no cover
        counts.byteswap()
    words = data[start + 8 * n:].decode("utf-8").split("\n") if n else []
    if len(words) != n:
        raise ValueError("the words do not match their counts")
    return dict(zip(words, counts, strict=True)), total


def load_into(tokenizer: Any) -> bool:
    """Give a fresh jieba Tokenizer of the default dictionary its prefix dictionary from the cache (built
    by jieba's own gen_pfdict and kept there first when missing or unreadable; built and not kept where
    the cache cannot be written). False, tokenizer untouched, for another dictionary or none found: then
    the caller lets jieba initialise it."""
    import jieba

    if tokenizer.initialized or tokenizer.dictionary != jieba.DEFAULT_DICT:
        return False
    try:
        path = cache_file()
    except (ImportError, OSError):
        return False
    try:
        freq, total = decode(path.read_bytes())
    except (OSError, ValueError):
        freq, total = tokenizer.gen_pfdict(tokenizer.get_dict_file())
        _save(path, freq, total)
    tokenizer.FREQ, tokenizer.total = freq, total
    tokenizer.initialized = True
    return True


def _save(path: Path, freq: dict[str, int], total: int) -> None:
    """Write the file atomically (workers starting together each write a whole one); a cache that cannot
    be written is skipped: the next process builds the dictionary again."""
    data = encode(freq, total)
    if data is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".prefix-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass
