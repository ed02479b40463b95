"""Sorted N-Triples in bounded memory, and the outputs made from them without rdflib.

`RunWriter` collects N-Triples lines (a document's as it finishes) and, every `run_lines`
lines, writes them sorted to a run file; `merge_runs` merges the runs (heapq over open files,
duplicates dropped) into the final sorted file, counting the classes as it goes. Memory is one
run plus one line per run, whatever the corpus size. Each `add` is one source (a document's lines,
one shared node's claim): a line several sources hold is written once per source into the run, so
the merge can tell how many sources hold it (`merge_runs(shared=)`, what `ipgraph add` removes by).

`patch_sorted` makes a new sorted file from an old one and a few changed lines, in large blocks of
bytes (UTF-8 bytes sort as the code points do): what `ipgraph add` rewrites ipgraph.nt with, and
what `merge_runs` does when one run is the whole graph and the others a few lines (the echoes). `turtle_from_ntriples` streams that file
through pyoxigraph's Turtle serializer; the store is Oxigraph's bulk loader over the same file
(ipgraph.store.write_store).
"""
from __future__ import annotations

import bisect
import heapq
import io
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUN_LINES = 400_000  # lines per sorted run: ~100 MB of strings at the corpus's line length
MERGE_FAN_IN = 200  # runs merged at once (open files); more are merged in passes
_TYPE = " <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "


class RunWriter:
    """Sorted runs of N-Triples lines (without their final newline) in `folder`."""

    def __init__(self, folder: Path | str, run_lines: int = RUN_LINES) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.run_lines = run_lines
        self.buffer: Counter[str] = Counter()  # line → how many sources added it
        self.runs: list[Path] = []

    def add(self, lines: Iterable[str]) -> None:
        """The lines of one source (duplicates within it count once)."""
        self.buffer.update(lines if isinstance(lines, (set, frozenset)) else set(lines))
        if len(self.buffer) >= self.run_lines:
            self.flush()

    def add_run(self, path: Path | str) -> None:
        """A file already sorted (a Dask worker's shard)."""
        self.runs.append(Path(path))

    def flush(self) -> None:
        if not self.buffer:
            return
        path = self.folder / f"run-{len(self.runs):06d}.nt"
        buffer = self.buffer
        # a line held by n sources is written n times: the merge counts them
        _write_lines(path, (text for text in sorted(buffer) for _ in range(buffer[text])))
        self.runs.append(path)
        self.buffer = Counter()


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    """Each of `lines` and a newline, joined a slice at a time (one write per line was 5× slower)."""
    from itertools import islice

    every = iter(lines)
    with open(path, "wb") as out:
        while chunk := list(islice(every, 1 << 16)):
            chunk.append("")
            out.write("\n".join(chunk).encode("utf-8"))


def _read_lines(handle) -> Iterator[str]:
    for text in handle:
        yield text[:-1]  # every line ends with "\n": written by _write_lines


def _merged(paths: list[Path], stack: ExitStack, unique: bool = True) -> Iterator[str]:
    handles = [stack.enter_context(open(p, encoding="utf-8", newline="\n")) for p in paths]
    merged = heapq.merge(*(_read_lines(h) for h in handles))
    if not unique:  # an intermediate pass keeps every copy: the final merge counts the sources
        yield from merged
        return
    previous = None
    for text in merged:
        if text != previous:
            yield text
            previous = text


def _class_of(text: str) -> str | None:
    """The class IRI of an rdf:type line with an IRI subject and object, else None."""
    if _TYPE in text:
        head, _, obj = text.partition(_TYPE)
        if head.startswith("<") and head.endswith(">") and obj.startswith("<"):
            return obj[1:obj.index(">")]
    return None


def merge_runs(runs: list[Path], out_path: Path | str, work: Path | str,
               shared: dict[str, int] | None = None) -> tuple[int, Counter[str]]:
    """Merge sorted runs into out_path (sorted, unique lines); returns (lines, count per rdf:type class IRI).

    `shared`: filled with every line that more than one source holds (line → sources; RunWriter's runs).
    When the first run is a big sorted file and the others hold a few lines, they are patched into it
    in blocks (patch_sorted), not merged line by line."""
    runs = list(runs)
    work = Path(work)
    if shared is None and len(runs) > 1 and _lopsided(runs):
        return _merge_small_into(runs[0], runs[1:], Path(out_path))
    passes = 0
    while len(runs) > MERGE_FAN_IN:  # bounded open files: merge in groups first
        grouped = []
        for i in range(0, len(runs), MERGE_FAN_IN):
            target = work / f"pass-{passes}-{i // MERGE_FAN_IN:06d}.nt"
            with ExitStack() as stack:
                _write_lines(target, _merged(runs[i:i + MERGE_FAN_IN], stack, unique=shared is None))
            for run in runs[i:i + MERGE_FAN_IN]:
                run.unlink()
            grouped.append(target)
        runs, passes = grouped, passes + 1
    total = 0
    classes: Counter[str] = Counter()
    with ExitStack() as stack, open(out_path, "w", encoding="utf-8", newline="\n") as out:
        lines = _merged(runs, stack, unique=shared is None)
        if shared is not None:
            lines = _counted(lines, shared)
        for text in lines:
            out.write(text)
            out.write("\n")
            total += 1
            cls = _class_of(text)
            if cls is not None:
                classes[cls] += 1  # lines are unique: one per (subject, class)
    remember_counts(out_path, total, classes)
    return total, classes


def _counted(lines: Iterator[str], shared: dict[str, int]) -> Iterator[str]:
    """Each distinct line once; the lines seen more than once go into `shared` with their count."""
    previous, seen = None, 0
    for text in lines:
        if text == previous:
            seen += 1
            continue
        if seen > 1:
            shared[previous] = seen  # type: ignore[index]
        if previous is not None:
            yield previous
        previous, seen = text, 1
    if previous is not None:
        if seen > 1:
            shared[previous] = seen
        yield previous


LOPSIDED = 0.05  # merge_runs patches the other runs into the first when they are this small beside it


def _lopsided(runs: list[Path]) -> bool:
    try:
        first = runs[0].stat().st_size
        rest = sum(p.stat().st_size for p in runs[1:])
    except OSError:
        return False
    return first > (1 << 20) and rest < LOPSIDED * first


_COUNTS: dict[tuple[int, int, int, int], tuple[int, Counter[str]]] = {}  # a written file's (lines, classes)


def _stamp(path: Path | str) -> tuple[int, int, int, int] | None:
    """The file itself (device, inode, size, mtime): it survives a rename, not a rewrite."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def remember_counts(path: Path | str, total: int, classes: Counter[str]) -> None:
    """Note the lines and classes of a sorted file just written (so a later patch of it need not count them)."""
    stamp = _stamp(path)
    if stamp is not None:
        if len(_COUNTS) > 8:
            _COUNTS.clear()  # a few files at a time are enough: the build's graph
        _COUNTS[stamp] = (total, Counter(classes))


def count_lines(path: Path | str) -> tuple[int, Counter[str]]:
    """(lines, count per rdf:type class) of a sorted N-Triples file: remembered, or counted in blocks."""
    stamp = _stamp(path)
    if stamp is not None and stamp in _COUNTS:
        known, seen = _COUNTS[stamp]
        return known, Counter(seen)
    total = 0
    classes: Counter[str] = Counter()
    needle = _TYPE.encode("utf-8")
    with open(path, "rb") as handle:
        while block := _read_block(handle):
            total += block.count(b"\n")
            at = block.find(needle)
            while at >= 0:
                start = block.rfind(b"\n", 0, at) + 1
                end = block.index(b"\n", at)
                cls = _class_of(block[start:end].decode("utf-8"))
                if cls is not None:
                    classes[cls] += 1
                at = block.find(needle, end)
    return total, classes


BLOCK = 1 << 22  # bytes read at a time by count_lines


def _read_block(handle) -> bytes:
    """The next ~BLOCK bytes of a file of lines, ending at a line's end (b"" at the end)."""
    block = handle.read(BLOCK)
    if block and not block.endswith(b"\n"):
        block += handle.readline()
    return block


SCAN = 1 << 13  # bytes of lines split and scanned at the end of a bisection (a few dozen lines)
COPY = 1 << 18  # stretches of unchanged bytes at least this long are copied by the kernel (copy_file_range)
RELEASE = 1 << 25  # bytes of the map passed before its pages are let go (SortedLines.release)


class SortedLines:
    """A sorted file of lines opened for bisection (sorted_lines): an mmap, so a probe reads one page,
    not a block."""

    def __init__(self, handle: Any) -> None:
        import mmap

        self.fd = handle.fileno()
        self.size = os.fstat(self.fd).st_size
        self.data: Any = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if self.size else b""
        self.terminated = not self.size or self.data[self.size - 1:] == b"\n"
        self.released = 0  # the pages before this offset are let go (release)

    def release(self, upto: int) -> None:
        """Let go of the pages before byte `upto` (never read again: the passes only go forward). Why: a
        page read through the map counts in this process's resident set, so a pass over a 4.3 GB file
        (10,000 plans) whose stretches between changes are short would reach 4 GB without it."""
        import mmap

        if not self.size or upto - self.released < RELEASE or not hasattr(self.data, "madvise"):
            return
        end = upto - upto % mmap.PAGESIZE
        if end > self.released:
            self.data.madvise(mmap.MADV_DONTNEED, self.released, end - self.released)
            self.released = end

    def close(self) -> None:
        if self.size:
            self.data.close()

    def end(self, start: int) -> int:
        """The end of the line starting at `start` (its newline's offset, or the size)."""
        at = self.data.find(b"\n", start)
        return self.size if at < 0 else at

    def line(self, start: int) -> bytes:
        return self.data[start:self.end(start)]

    def next_start(self, pos: int) -> int:
        """The first line start at or after byte `pos` (the size when there is none)."""
        if pos <= 0:
            return 0
        at = self.data.find(b"\n", pos - 1)
        return self.size if at < 0 else at + 1

    def first_not_below(self, query: bytes, lo: int) -> int:
        """The start of the first line at or after the line start `lo` that is >= query (the size if
        none): galloping from lo (the next query is near the last one), then bisection, then a scan of
        the last few lines."""
        size = self.size
        if lo >= size or self.line(lo) >= query:
            return lo
        step = SCAN  # invariant: the line at lo is below query; the answer is in (lo, hi]
        while True:
            hi = self.next_start(lo + step)
            if hi >= size or self.line(hi) >= query:
                break
            lo, step = hi, step * 2
        while hi - lo > SCAN:
            mid = self.next_start((lo + hi) // 2)
            if mid >= hi:
                break  # one line longer than the window: scanned below
            if self.line(mid) >= query:
                hi = mid
            else:
                lo = mid
        at = self.end(lo) + 1  # lo's line is below query
        while at < hi:
            end = self.end(at)
            if self.data[at:end] >= query:
                return at
            at = end + 1
        return hi

    def starting_with(self, prefix: bytes) -> bytes:
        """The lines (with their newlines) that start with `prefix`: adjacent in a sorted file."""
        start = at = self.first_not_below(prefix, 0)
        while at < self.size and self.data[at:at + len(prefix)] == prefix:
            at = self.end(at) + 1
        return self.data[start:min(at, self.size)]


@contextmanager
def sorted_lines(path: Path | str) -> Iterator[SortedLines]:
    """The sorted file of lines at `path`, opened for bisection (SortedLines), closed afterwards."""
    with open(path, "rb") as handle:
        lines = SortedLines(handle)
        try:
            yield lines
        finally:
            lines.close()


class _Output:
    """A file written from small pieces (gathered, then written at once) and stretches of the source
    file (long ones copied by the kernel: copy_file_range, no pass through this process)."""

    def __init__(self, fd: int, source: SortedLines) -> None:
        self.fd, self.source = fd, source
        self.pieces: list[bytes] = []
        self.buffered = 0
        self.kernel = hasattr(os, "copy_file_range")

    def write(self, data: bytes) -> None:
        self.pieces.append(data)
        self.buffered += len(data)
        if self.buffered >= COPY:
            self.flush()

    def flush(self) -> None:
        if self.pieces:
            _write_all(self.fd, b"".join(self.pieces))
            self.pieces, self.buffered = [], 0

    def copy(self, start: int, end: int) -> None:
        """Bytes start:end of the source (a newline added when end is the end of a source whose last
        line has none)."""
        if end <= start:
            return
        if end - start >= COPY:
            self.flush()
            while self.kernel and start < end:
                try:
                    done = os.copy_file_range(self.source.fd, self.fd, end - start, start)
                except OSError:  # not between these file systems, or not on this kernel: through here
                    self.kernel = False
                    break
                if done <= 0:
                    break
                start += done
        while start < end:
            step = min(end, start + (1 << 24))
            self.write(self.source.data[start:step])
            start = step
        if end == self.source.size and not self.source.terminated:
            self.write(b"\n")
        self.source.release(end)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


@contextmanager
def _patching(old: Path | str, out: Path | str) -> Iterator[tuple[SortedLines, _Output]]:
    """The old sorted file for bisection and the output that becomes `out` when the block ends whole
    (written under a temporary name, removed on failure)."""
    tmp = Path(f"{out}.tmp-{os.getpid()}")
    try:
        with sorted_lines(old) as lines, open(tmp, "wb", buffering=0) as dst:
            output = _Output(dst.fileno(), lines)
            yield lines, output
            output.flush()
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def patch_sorted(old: Path | str, out: Path | str, queries: list[str],
                 keep: Callable[[str, bool], bool]) -> list[bool]:
    """Write `out`: the sorted, unique lines of `old` with the lines `queries` (sorted, unique, without
    newlines) decided by keep(line, present in old) → whether `out` holds it. Each query is found by
    bisection over the old file's bytes (an mmap); the stretches between are copied unread, by the
    kernel where they are long. Returns, per query, whether `old` held it."""
    present: list[bool] = []
    with _patching(old, out) as (lines, output):
        for piece in _patch_pieces(lines, queries, keep, present):
            if isinstance(piece, tuple):
                output.copy(*piece)
            else:
                output.write(piece)
    return present


def lines_held(path: Path | str, queries: list[str]) -> list[bool]:
    """Per line of `queries` (sorted, unique, without newlines), whether the sorted file at `path` holds
    it: patch_sorted's bisection, nothing written."""
    present: list[bool] = []
    with sorted_lines(path) as lines:
        for _piece in _patch_pieces(lines, queries, lambda _text, found: found, present):
            pass
    return present


def _patch_pieces(lines: SortedLines, queries: Iterable[str], keep: Callable[[str, bool], bool],
                  present: list[bool]) -> Iterator[tuple[int, int] | bytes]:
    """patch_sorted's output in order: (start, end) stretches of the old file's bytes, and the new
    lines' bytes between them; each query's presence in the old file appended to `present`."""
    pos = 0  # a line start: the old file's bytes before it are given
    for text in queries:
        query = text.encode("utf-8")
        at = lines.first_not_below(query, pos)
        yield pos, at
        pos = at
        found = at < lines.size and lines.line(at) == query
        present.append(found)
        wanted = keep(text, found)
        if found and not wanted:
            pos = lines.end(at) + 1  # dropped
        elif wanted and not found:
            yield query + b"\n"
    yield pos, lines.size


@dataclass(frozen=True)
class PatchedFile:
    """A sorted file of lines with a change applied, not written: what an incremental build's stages
    read while its graph is still to be written (the previous ipgraph.nt and the documents' change),
    by prefix or whole (`opened()`: PatchedLines). Plain values: it is handed to child processes."""

    path: str
    removed: tuple[str, ...] = ()  # lines of the file taken out (without newlines)
    added: tuple[str, ...] = ()  # sorted, unique lines the file does not hold

    @contextmanager
    def opened(self) -> Iterator[PatchedLines]:
        with sorted_lines(self.path) as lines:
            yield PatchedLines(lines, self.removed, self.added)


class PatchedLines:
    """A PatchedFile opened: its lines that start with a prefix (as SortedLines.starting_with), or all
    of them as a file object (`reader()`, for pyoxigraph.parse), the old file's stretches between the
    changed lines passed on as they are."""

    def __init__(self, lines: SortedLines, removed: Iterable[str], added: Iterable[str]) -> None:
        self.lines = lines
        self.removed_text, self.added_text = set(removed), list(added)
        self.removed = {text.encode("utf-8") for text in self.removed_text}
        self.added = [text.encode("utf-8") for text in self.added_text]

    def starting_with(self, prefix: bytes) -> bytes:
        block = self.lines.starting_with(prefix)
        lo = bisect.bisect_left(self.added, prefix)
        hi = lo
        while hi < len(self.added) and self.added[hi].startswith(prefix):
            hi += 1
        if lo == hi and not self.removed:
            return block if block.endswith(b"\n") or not block else block + b"\n"
        kept = [line for line in block.split(b"\n") if line and line not in self.removed]
        merged = list(heapq.merge(kept, self.added[lo:hi]))
        return b"".join(line + b"\n" for line in merged)

    def between(self, lo: bytes | None, hi: bytes | None) -> bytes:
        """The patched file's lines >= lo and < hi (None: from its start, to its end), with their newlines:
        a slice of the file by key, as a bisection of the written file would cut it (the Turtle's slices)."""
        lines = self.lines
        start = lines.first_not_below(lo, 0) if lo is not None else 0
        end = lines.first_not_below(hi, start) if hi is not None else lines.size
        block = lines.data[start:end]
        if block and not block.endswith(b"\n"):
            block += b"\n"
        first = bisect.bisect_left(self.added, lo) if lo is not None else 0
        last = bisect.bisect_left(self.added, hi) if hi is not None else len(self.added)
        if first == last and not self.removed:
            return block
        kept = [line for line in block.split(b"\n")[:-1] if line not in self.removed]
        return b"".join(line + b"\n" for line in heapq.merge(kept, self.added[first:last]))

    def pieces(self) -> Iterator[bytes]:
        """The patched file's bytes, in pieces of at most 16 MB."""
        change = set(self.added_text)
        lines = self.lines
        for piece in _patch_pieces(lines, sorted(self.removed_text | change), lambda text, _found: text in change, []):
            if not isinstance(piece, tuple):
                yield piece
                continue
            start, end = piece
            if end <= start:
                continue
            while start < end:
                step = min(end, start + (1 << 24))
                yield lines.data[start:step]
                start = step
                lines.release(start)
            if end == lines.size and not lines.terminated:
                yield b"\n"

    def reader(self) -> io.BufferedReader:
        return io.BufferedReader(_PiecesReader(self.pieces()), buffer_size=1 << 20)


@contextmanager
def opened_lines(source: Path | str | PatchedFile) -> Iterator[SortedLines | PatchedLines]:
    """A sorted file, or a PatchedFile, opened for reading by prefix (`starting_with`)."""
    if isinstance(source, PatchedFile):
        with source.opened() as patched:
            yield patched
    else:
        with sorted_lines(source) as lines:
            yield lines


def parse_ntriples(source: Path | str | PatchedFile) -> Iterator[Any]:
    """pyoxigraph's triples of a sorted N-Triples file, or of a PatchedFile as it would be written."""
    import pyoxigraph

    if not isinstance(source, PatchedFile):
        yield from pyoxigraph.parse(path=str(source), format=pyoxigraph.RdfFormat.N_TRIPLES)
        return
    with source.opened() as patched:
        yield from pyoxigraph.parse(patched.reader(), format=pyoxigraph.RdfFormat.N_TRIPLES)


class _PiecesReader(io.RawIOBase):
    """A readable file of the pieces of bytes an iterator gives."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._piece = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._piece:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._piece = memoryview(piece)
        n = min(len(buffer), len(self._piece))
        buffer[:n] = self._piece[:n]
        self._piece = self._piece[n:]
        return n


def insert_sorted(old: Path | str, out: Path | str, lines: list[str]) -> list[bool]:
    """patch_sorted keeping every line: `out` is the union of the sorted, unique lines of `old` and
    `lines` (sorted, unique, without newlines). The new lines that fall between the same two old lines
    are found by one bisection and written at once, so a cluster of them (the echoes, under one IRI
    prefix) costs no Python step per line. `lines` stay strings (str order is UTF-8's byte order) and
    each run is encoded only when written: no second copy of millions of lines (10,000 plans). Returns,
    per line, whether `old` held it."""
    n = len(lines)
    present = [False] * n
    qi = 0
    with _patching(old, out) as (old_lines, output):
        pos = 0
        while qi < n:
            at = old_lines.first_not_below(lines[qi].encode("utf-8"), pos)
            output.copy(pos, at)
            pos = at
            if at >= old_lines.size:
                break
            following = old_lines.line(at).decode("utf-8")
            end = bisect.bisect_left(lines, following, qi)  # the new lines before it
            if end > qi:
                output.write(("\n".join(lines[qi:end]) + "\n").encode("utf-8"))
            if end < n and lines[end] == following:
                present[end] = True  # held already: written once, as the old line
                end += 1
            qi = end
        output.copy(pos, old_lines.size)
        if qi < n:  # after the old file's last line
            output.write(("\n".join(lines[qi:]) + "\n").encode("utf-8"))
    return present


def merge_lines_into(big: Path | str, lines: list[str], out: Path | str) -> tuple[int, Counter[str]]:
    """merge_runs of a big sorted file and sorted, unique `lines` (insert_sorted), counted from the big
    file's counts (remembered when this process wrote it) and the lines it did not hold."""
    total, classes = count_lines(big)
    present = insert_sorted(big, out, lines)
    for text, found in zip(lines, present, strict=True):
        if not found:
            total += 1
            cls = _class_of(text)
            if cls is not None:
                classes[cls] += 1
    remember_counts(out, total, classes)
    return total, classes


def _merge_small_into(big: Path, small: list[Path], out: Path) -> tuple[int, Counter[str]]:
    """merge_runs of a big sorted file and a few small sorted runs: the small lines patched in."""
    with ExitStack() as stack:
        lines = list(_merged(small, stack))
    return merge_lines_into(big, lines, out)


def turtle_from_ntriples(nt_path: Path | str, out_path: Path | str, prefixes: dict[str, str]) -> None:
    """Turtle by pyoxigraph's serializer, streamed from the sorted N-Triples (same order every run)."""
    import pyoxigraph

    tmp = Path(f"{out_path}.tmp-{os.getpid()}")
    try:
        pyoxigraph.serialize(pyoxigraph.parse(path=str(nt_path), format=pyoxigraph.RdfFormat.N_TRIPLES),
                             str(tmp), pyoxigraph.RdfFormat.TURTLE, prefixes=prefixes)
        os.replace(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
