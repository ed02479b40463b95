"""The build's cache of per-document results: OUT/.ipgraph/current/cache/<code>/<content hash>.pickle.

A build reads the entries of the published build (its generation's cache/) and writes the entries
it uses into its scratch folder (reused ones as hard links); write_outputs moves that folder into
the new generation, so the cache is published, and removed, with the build it belongs to. A file's entry is keyed by the SHA-256 of its bytes (and the --max-size it was read under), in
a folder named after the code that made it (a hash of ipgraph's modules and data files): a
changed file, or a changed ipgraph, is extracted again; an unchanged one is loaded. Only files
that built are cached (a skip is decided afresh). Entries the build did not use (removed or
changed files, older code) are not carried over, so the cache holds one corpus.

The entries are pickles written by ipgraph build into the build folder; like the store they are
the build folder's own data, not an input format: never point a build at a cache it did not write.
"""
from __future__ import annotations

import hashlib
import os
import pickle
from functools import lru_cache
from pathlib import Path
from typing import Any


@lru_cache(maxsize=1)
def code_stamp() -> str:
    """A hash of ipgraph's Python modules and data files: what a cached record depends on."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and (path.suffix == ".py" or "data" in path.relative_to(root).parts[:1]):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def content_key(path: Path, max_bytes: int) -> str | None:
    """The cache key of a file (None when it cannot be read: the build then names the cause)."""
    digest = hashlib.sha256(f"{max_bytes}\0".encode())
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                if handle.tell() > max_bytes + 1:
                    return None  # too large: read and refused by the worker, never cached
    except OSError:
        return None
    return digest.hexdigest()


class RecordCache:
    """Reads entries from `previous` (the published cache, may be None), writes into `folder`."""

    def __init__(self, folder: Path | str, previous: Path | str | None = None) -> None:
        self.root = Path(folder)
        self.folder = self.root / code_stamp()
        self.previous = Path(previous) / code_stamp() if previous is not None else None
        self.hits = 0

    def has(self, key: str | None) -> bool:
        """Whether the published cache holds an entry for `key` (get() may still find it unreadable)."""
        return key is not None and self.previous is not None and (self.previous / f"{key}.pickle").is_file()

    def get(self, key: str | None) -> Any:
        if key is None or self.previous is None:
            return None
        entry = self.previous / f"{key}.pickle"
        try:
            with open(entry, "rb") as handle:
                value = pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError):
            return None  # absent or unreadable: extracted again
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            os.link(entry, self.folder / entry.name)  # carried over without a copy
        except OSError:
            self.put(key, value)
        self.hits += 1
        return value

    def spill_paths(self, keys: list[str]) -> dict[str, Path]:
        """key → where a build worker writes that key's entry itself (write_entry, as put() writes), so this
        process need not pickle it again: adopt() publishes it, discard_spills() drops what was not adopted."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return {key: self.folder / f".{key}.spill" for key in keys}

    def adopt(self, key: str) -> bool:
        """Make the entry a worker wrote at spill_path(key) the entry of `key`; False when there is none."""
        try:
            os.replace(self.folder / f".{key}.spill", self.folder / f"{key}.pickle")
        except OSError:
            return False
        return True

    def discard_spills(self) -> None:
        """Remove the entries workers wrote that the build did not keep (a duplicate, a failure, a stop)."""
        for spill in self.folder.glob(".*.spill") if self.folder.is_dir() else ():
            spill.unlink(missing_ok=True)

    def put(self, key: str | None, value: Any) -> None:
        if key is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{key}.{os.getpid()}.tmp"
        if write_entry(tmp, value):
            try:
                os.replace(tmp, self.folder / f"{key}.pickle")
            except OSError:
                tmp.unlink(missing_ok=True)


def write_entry(path: Path, value: Any) -> bool:
    """Pickle a cache entry at `path`; False (and no file) when it cannot be written: a full disk costs
    the cache, not the build."""
    try:
        with open(path, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError:
        path.unlink(missing_ok=True)
        return False
    return True
