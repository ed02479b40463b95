"""ipgraph.ttl written in pieces, so that `ipgraph add` rewrites only the pieces its change falls into.

pyoxigraph's Turtle serializer writes the prefix lines, then one block per subject that depends only
on that subject's triples (no blank nodes in the graph, prefixes fixed). So the Turtle of the sorted
N-Triples is the prefix lines followed by the Turtle bodies of consecutive slices of it, cut between
subjects: `write_turtle` serializes ~CHUNK-byte slices one by one and keeps, beside the Turtle (the
generation's `.ipgraph.ttl.chunks`), where each slice starts (its first subject) and where its body
starts in the Turtle. `update_turtle` copies the bodies of the slices no changed line falls into
from the previous Turtle and serializes the others from the new N-Triples: the same bytes as a whole
serialization (tests/test_add_inc.py compares with pyoxigraph over the whole file).
"""
from __future__ import annotations

import bisect
import contextlib
import mmap
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ipgraph.atomic import atomic_write
from ipgraph.stream.merge import PatchedFile

CHUNK = 1 << 15  # bytes of N-Triples per slice: a changed line costs re-serializing ~32 KB
MAP_SUFFIX = ".chunks"  # the slice map: .ipgraph.ttl.chunks beside ipgraph.ttl
MAP_VERSION = 1


@dataclass
class ChunkMap:
    starts: list[bytes] = field(default_factory=list)  # each slice's first subject term + b" " (b"" for the first)
    offsets: list[int] = field(default_factory=list)  # where each slice's body starts in the Turtle, then its end
    prefixes: dict[str, str] = field(default_factory=dict)
    version: int = MAP_VERSION


def map_path(turtle: Path | str) -> Path:
    turtle = Path(turtle)
    return turtle.with_name(f".{turtle.name}{MAP_SUFFIX}")


def _serialize(data: bytes, prefixes: dict[str, str]) -> bytes:
    import pyoxigraph

    nt = pyoxigraph.RdfFormat.N_TRIPLES
    return pyoxigraph.serialize(pyoxigraph.parse(input=data, format=nt), format=pyoxigraph.RdfFormat.TURTLE,
                                prefixes=prefixes) or b""


def _header(prefixes: dict[str, str]) -> bytes:
    """The prefix lines every serialization starts with."""
    probe = b"<urn:ipgraph:probe:s>"
    out = _serialize(probe + b" <urn:ipgraph:probe:p> <urn:ipgraph:probe:o> .\n", prefixes)
    return out[:out.index(probe)]


def _body(data: bytes, prefixes: dict[str, str], header: bytes) -> bytes:
    if not data:
        return b""
    out = _serialize(data, prefixes)
    if not out.startswith(header):
        raise ValueError("the Turtle serializer wrote another header for a slice")
    return out[len(header):]


def _subject(text: bytes) -> bytes:
    """The subject term of an N-Triples line and the space after it (the key its slice is found by)."""
    return text[:text.index(b" ") + 1]


def _slices(handle) -> list[tuple[bytes, bytes]]:
    """(start key, bytes) of consecutive slices of a sorted N-Triples file, cut between subjects."""
    out: list[tuple[bytes, bytes]] = []
    pending = b""
    start = b""
    while True:
        block = pending + handle.read(CHUNK)
        if not block:
            break
        if not block.endswith(b"\n"):
            block += handle.readline()
        end = block.rfind(b"\n", 0, len(block) - 1) + 1  # the start of the block's last line
        subject = _subject(block[end:])
        pending = b""
        while True:  # the slice takes the rest of that subject's lines
            text = handle.readline()
            if not text:
                break
            if not text.startswith(subject):
                pending = text
                break
            block += text
        out.append((start, block))
        start = _subject(pending) if pending else b""
        if not pending:
            break
    return out


def write_turtle(nt_path: Path | str, out_path: Path | str, prefixes: dict[str, str]) -> None:
    """ipgraph.ttl from the sorted N-Triples, slice by slice, and its slice map."""
    header = _header(prefixes)
    chunks = ChunkMap(prefixes=dict(prefixes))
    with open(nt_path, "rb") as handle, atomic_write(out_path, "wb") as out:
        out.write(header)
        at = len(header)
        for start, data in _slices(handle):
            body = _body(data, prefixes, header)
            chunks.starts.append(start)
            chunks.offsets.append(at)
            out.write(body)
            at += len(body)
        chunks.offsets.append(at)
        if not chunks.starts:  # an empty graph: pyoxigraph writes nothing at all
            out.seek(0)
            out.truncate()
    _save_map(chunks, map_path(out_path))


def _save_map(chunks: ChunkMap, path: Path) -> None:
    try:
        with open(path, "wb") as handle:
            pickle.dump(chunks, handle, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError:
        path.unlink(missing_ok=True)  # without a map the next update writes the whole Turtle


def _load_map(path: Path) -> ChunkMap | None:
    try:
        with open(path, "rb") as handle:
            chunks = pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError):
        return None
    return chunks if isinstance(chunks, ChunkMap) and chunks.version == MAP_VERSION else None


def _line_at(mm: mmap.mmap, key: bytes) -> int:
    """The offset of the first line of the sorted file in `mm` that is >= key."""
    lo, hi = 0, len(mm)  # invariant: lo is a line start; lines before lo are < key
    while lo < hi:
        mid = (lo + hi) // 2
        start = mm.rfind(b"\n", lo, mid) + 1 if mid > lo else lo
        if start < lo:
            start = lo
        end = mm.find(b"\n", start)
        end = len(mm) if end < 0 else end
        if mm[start:end] < key:
            lo = end + 1
        else:
            hi = start
    return lo


def update_turtle(previous: Path | str, nt_path: Path | str | PatchedFile, out_path: Path | str,
                  prefixes: dict[str, str], changed: list[str] | None) -> None:
    """ipgraph.ttl of nt_path from the previous one (`previous`: its Turtle) and the lines `changed`
    between them (removed or added, without newlines): only the slices they fall into are serialized
    again. Without a usable previous Turtle or map, or `changed` None, the whole Turtle is written.
    nt_path may be a merge.PatchedFile (the previous ipgraph.nt with the change, not written yet: an add's
    Turtle made while its graph is written); the whole Turtle is then refused (OSError), not written."""
    previous = Path(previous)
    chunks = _load_map(map_path(previous))
    if changed is None or chunks is None or chunks.prefixes != dict(prefixes) or not chunks.starts \
            or not previous.is_file() or previous.stat().st_size != chunks.offsets[-1]:
        if isinstance(nt_path, PatchedFile):
            raise OSError(f"{previous}: no Turtle and slice map to update")
        write_turtle(nt_path, out_path, prefixes)
        return
    if isinstance(nt_path, PatchedFile):
        with nt_path.opened() as patched:
            _update_slices(previous, chunks, out_path, prefixes, changed,
                           lambda lo, hi: patched.between(lo, hi))
        return
    with open(nt_path, "rb") as nt_file:
        size = os.fstat(nt_file.fileno()).st_size
        # closed however the patch ends (a full disk, a short old file)
        with mmap.mmap(nt_file.fileno(), 0, access=mmap.ACCESS_READ) if size else contextlib.nullcontext() as mm:
            def lines_between(lo: bytes | None, hi: bytes | None) -> bytes:
                if mm is None:
                    return b""
                return mm[_line_at(mm, lo) if lo is not None else 0:_line_at(mm, hi) if hi is not None else size]

            _update_slices(previous, chunks, out_path, prefixes, changed, lines_between)


def _update_slices(previous: Path, chunks: ChunkMap, out_path: Path | str, prefixes: dict[str, str],
                   changed: list[str], lines_between: Callable[[bytes | None, bytes | None], bytes]) -> None:
    """update_turtle's patch: `lines_between(lo, hi)` gives the new N-Triples lines from key lo to key hi."""
    dirty = sorted({bisect.bisect_right(chunks.starts, text.encode("utf-8")) - 1 for text in changed})
    header = _header(prefixes)
    new = ChunkMap(starts=list(chunks.starts), prefixes=dict(prefixes))
    # unbuffered: os.copy_file_range moves the files' own offsets between the writes
    with open(previous, "rb", buffering=0) as old, atomic_write(out_path, "wb", buffering=0) as out:
        _write(out, header)
        at = len(header)
        clean_from = 0  # the first slice not yet written
        for i in [*dirty, len(chunks.starts)]:
            if i > clean_from:  # slices clean_from .. i-1 unchanged: their bodies copied as they are
                begin, end = chunks.offsets[clean_from], chunks.offsets[i]
                old.seek(begin)
                _copy(old, out, end - begin)
                shift = at - begin
                new.offsets.extend(o + shift for o in chunks.offsets[clean_from:i])
                at += end - begin
            if i == len(chunks.starts):
                break
            data = lines_between(chunks.starts[i] if i else None,
                                 chunks.starts[i + 1] if i + 1 < len(chunks.starts) else None)
            body = _body(data, prefixes, header)
            new.offsets.append(at)
            _write(out, body)
            at += len(body)
            clean_from = i + 1
        new.offsets.append(at)
        if at == len(header):  # every slice empty: the empty graph's Turtle is empty
            out.seek(0)
            out.truncate()
    _save_map(new, map_path(out_path))


def _write(dst, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[dst.write(view):]


def _copy(src, dst, length: int) -> None:
    """length bytes from src's position to dst (in the kernel where it can)."""
    while length > 0:
        try:
            sent = os.copy_file_range(src.fileno(), dst.fileno(), length)
        except (AttributeError, OSError):
            sent = 0
        if sent <= 0:
            data = src.read(min(length, 1 << 22))
            if not data:
                raise OSError("the previous Turtle ended early")
            _write(dst, data)
            sent = len(data)
        length -= sent
