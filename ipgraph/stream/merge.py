"""Sorted N-Triples in bounded memory, and the outputs made from them without rdflib.

`RunWriter` collects N-Triples lines (a document's as it finishes) and, every `run_lines`
lines, writes them sorted to a run file; `merge_runs` merges the runs (heapq over open files,
duplicates dropped) into the final sorted file, counting the classes as it goes. Memory is one
run plus one line per run, whatever the corpus size. `turtle_from_ntriples` streams that file
through pyoxigraph's Turtle serializer; the store is Oxigraph's bulk loader over the same file
(ipgraph.store.write_store).
"""
from __future__ import annotations

import heapq
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path

RUN_LINES = 400_000  # lines per sorted run: ~100 MB of strings at the corpus's line length
MERGE_FAN_IN = 200  # runs merged at once (open files); more are merged in passes
_TYPE = " <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "


class RunWriter:
    """Sorted runs of N-Triples lines (without their final newline) in `folder`."""

    def __init__(self, folder: Path | str, run_lines: int = RUN_LINES) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.run_lines = run_lines
        self.buffer: set[str] = set()
        self.runs: list[Path] = []

    def add(self, lines: Iterable[str]) -> None:
        self.buffer.update(lines)
        if len(self.buffer) >= self.run_lines:
            self.flush()

    def add_run(self, path: Path | str) -> None:
        """A file already sorted (a Dask worker's shard)."""
        self.runs.append(Path(path))

    def flush(self) -> None:
        if not self.buffer:
            return
        path = self.folder / f"run-{len(self.runs):06d}.nt"
        _write_lines(path, sorted(self.buffer))
        self.runs.append(path)
        self.buffer = set()


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for text in lines:
            out.write(text)
            out.write("\n")


def _read_lines(handle) -> Iterator[str]:
    for text in handle:
        yield text[:-1]  # every line ends with "\n": written by _write_lines


def _merged(paths: list[Path], stack: ExitStack) -> Iterator[str]:
    handles = [stack.enter_context(open(p, encoding="utf-8", newline="\n")) for p in paths]
    previous = None
    for text in heapq.merge(*(_read_lines(h) for h in handles)):
        if text != previous:
            yield text
            previous = text


def merge_runs(runs: list[Path], out_path: Path | str, work: Path | str) -> tuple[int, Counter[str]]:
    """Merge sorted runs into out_path (sorted, unique lines); returns (lines, count per rdf:type class IRI)."""
    runs = list(runs)
    work = Path(work)
    passes = 0
    while len(runs) > MERGE_FAN_IN:  # bounded open files: merge in groups first
        grouped = []
        for i in range(0, len(runs), MERGE_FAN_IN):
            target = work / f"pass-{passes}-{i // MERGE_FAN_IN:06d}.nt"
            with ExitStack() as stack:
                _write_lines(target, _merged(runs[i:i + MERGE_FAN_IN], stack))
            for run in runs[i:i + MERGE_FAN_IN]:
                run.unlink()
            grouped.append(target)
        runs, passes = grouped, passes + 1
    total = 0
    classes: Counter[str] = Counter()
    with ExitStack() as stack, open(out_path, "w", encoding="utf-8", newline="\n") as out:
        for text in _merged(runs, stack):
            out.write(text)
            out.write("\n")
            total += 1
            if _TYPE in text:
                head, _, obj = text.partition(_TYPE)
                if head.startswith("<") and head.endswith(">") and obj.startswith("<"):
                    classes[obj[1:obj.index(">")]] += 1  # lines are unique: one per (subject, class)
    return total, classes


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
