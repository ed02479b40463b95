"""`ipgraph add` and a rebuild in time proportional to what changed (issue 14).

A full build leaves a small index beside its record cache (OUT/.ipgraph/current/cache/<code>/build-index):
per document in build order its file, content key, name, quality report, duplicate-check keys and its
claims on shared nodes; the lines that more than one *source* holds, with how many (a source is a
document's own lines, or the winning claim of one shared node's slot, or the constant and scheme lines:
what RunWriter counts); the class counts of the graph without its echoes, and how many echo lines the
search stage added. The next build over the same inputs with a few files new, changed or gone
(`incremental_build`):

- reads the cache entries of the changed and removed documents only (the others are hard-linked into
  the new cache unread) and extracts the new files in the workers;
- decides duplicates and name clashes against the index (a new file that repeats a *later* kept
  document, or clashes with one, changes which one the full build keeps: that build is done in full);
- recomputes the winning claims of the shared nodes the changed documents touch, in build order;
- counts, per changed line, the sources that hold it before and after: a line goes when the count
  falls to 0, comes when it rises from 0 (the shared lines' counts live in the index, every other
  line of ipgraph.nt is held by one source), each line's presence looked up by bisection in the
  previous ipgraph.nt;
- writes nothing yet: the stages after it read the new graph as the previous file with that change
  (merge.PatchedFile), and the graph is written once, when the echoes' change is known too
  (search.stage.patch_echoes: one merge.patch_sorted of the previous ipgraph.nt);
- hands the removed and added lines to the store update (no diff of two big files) and the documents
  added and removed to the stages after it (`BuildResult.delta`).

The result is byte-identical to a full build of the same inputs (tests/test_add_inc.py). The echoes
are one more source; they never share a line with a document (a document states no ipg:echoes), which
each build checks; when they do, the index says so and the next build is a full one.
"""
from __future__ import annotations

import os
import pickle
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INDEX_NAME = "build-index"  # a pickle; not *.pickle, the name of the entries
INDEX_VERSION = 2  # 2: the echo lines counted, not kept (nor the graph without them)
MAX_CHANGED = 0.2  # above this share of changed documents a full build is as cheap

Claim = tuple[str, str, tuple[str, ...], "str | None"]


@dataclass
class DocEntry:
    """What the index keeps of one built document."""

    file: str  # the file name (the build order; kept documents' names are unique: the IRI is the name)
    path: str  # the file, absolute
    key: str  # its content key (ipgraph.stream.cache.content_key)
    name: str  # source.name (result.names)
    iri: str  # the document's IRI
    report: Any  # its quality report
    digest: str  # the duplicate finder's SHA-256 of the normalised text
    bands: list  # the duplicate finder's LSH band keys
    claims: list[Claim]
    programmes: bool


@dataclass
class BuildIndex:
    docs: list[DocEntry] = field(default_factory=list)  # in build order
    shared: dict[str, int] = field(default_factory=dict)  # line → sources holding it, for lines held by ≥ 2
    base_total: int = 0  # lines of ipgraph.nt but its echoes
    base_classes: Counter = field(default_factory=Counter)  # and their classes
    echo_lines: int = 0  # the lines the echoes add (one source)
    echoes_apart: bool = True  # no echo line is also a document's or a claim's
    nt_stamp: tuple[int, int] | None = None  # (size, mtime_ns) of the ipgraph.nt this index describes
    version: int = INDEX_VERSION


@dataclass
class BuildDelta:
    """What an incremental build changed (BuildResult.delta): the call point of the stages after it.

    The search stage can index only `added` and drop `removed` (document names); the store applies
    `removed_lines`/`added_lines` (ipgraph.nt's change, echoes included once the search stage ran)."""

    base: str  # the generation folder the build started from (its store is updated)
    added: list[str] = field(default_factory=list)  # source names of documents new or changed
    removed: list[str] = field(default_factory=list)  # source names of documents gone or changed
    removed_lines: list[str] = field(default_factory=list)
    added_lines: list[str] = field(default_factory=list)
    exact: bool = True  # the lines above are ipgraph.nt's whole change (the echoes apart from the rest)


def claim_sources(first: dict[tuple[str, str], tuple[tuple[str, ...], str | None]]) -> Iterator[frozenset[str]]:
    """The lines of each winning claim (ClaimTable.first), one source each."""
    for (node, _slot), (lines, unless) in first.items():
        if unless is None or (node, unless) not in first:
            yield frozenset(lines)


def table_sources(table: Any) -> Iterator[frozenset[str]]:
    """ClaimTable.lines() as its sources: the constant lines, each winning claim, the scheme."""
    from ipgraph.stream.triples import constant_lines, scheme_lines

    yield frozenset(constant_lines())
    yield from claim_sources(table.first)
    if table.programmes:
        yield frozenset(scheme_lines())


def _first_claims(docs: Iterable[tuple[list[Claim], bool]], nodes: set[str] | None = None) -> dict:
    first: dict[tuple[str, str], tuple[tuple[str, ...], str | None]] = {}
    for claims, _programmes in docs:
        for node, slot, lines, unless in claims:
            if nodes is None or node in nodes:
                first.setdefault((node, slot), (lines, unless))
    return first


class IndexWriter:
    """Collects a full build's documents for the index (build_graph's loop calls add)."""

    def __init__(self) -> None:
        self.docs: list[DocEntry] = []
        self.shared: dict[str, int] = {}  # filled by merge_runs(shared=)
        self._lines: dict[tuple[str, ...], tuple[str, ...]] = {}  # one object per distinct claim: a smaller pickle

    def entry(self, path: Path, key: str | None, name: str, iri: str, triples: Any, prepared: tuple) -> DocEntry | None:
        if key is None:
            return None
        same = self._lines
        claims = [(same.setdefault((node,), (node,))[0], slot, same.setdefault(lines, lines), unless)
                  for node, slot, lines, unless in triples.claims]
        return DocEntry(file=path.name, path=str(path.absolute()), key=key, name=name, iri=iri, report=triples.report,
                        digest=prepared[0], bands=list(prepared[3]), claims=claims, programmes=bool(triples.programmes))

    def add(self, path: Path, key: str | None, name: str, iri: str, triples: Any, prepared: tuple) -> None:
        entry = self.entry(path, key, name, iri, triples, prepared)
        if entry is None:
            self.docs = []  # a document the index cannot name: no index, the next build is a full one
            self.broken = True
        elif not getattr(self, "broken", False):
            self.docs.append(entry)

    def save(self, result: Any, folder: Path, base_total: int, base_classes: Counter) -> None:
        if getattr(self, "broken", False):
            return
        index = BuildIndex(docs=self.docs, shared=self.shared, base_total=base_total, base_classes=base_classes)
        finish_index(index, result, folder)


def finish_index(index: BuildIndex, result: Any, folder: Path) -> None:
    """Count the echoes the search stage merged into result.ntriples and write the index into `folder`."""
    echoes = _echo_lines(result)
    index.echo_lines = len(echoes) if echoes is not None else 0
    index.echoes_apart = echoes is not None and result.counts.get("triples", 0) == index.base_total + len(echoes)
    write_index(index, Path(result.ntriples), folder)


def write_index(index: BuildIndex, nt: Path, folder: Path) -> None:
    """The index of the build whose graph is `nt`, into `folder` (what the next `ipgraph add` reads)."""
    try:
        st = os.stat(nt)
        index.nt_stamp = (st.st_size, st.st_mtime_ns)
        tmp = folder / f".{INDEX_NAME}.{os.getpid()}.tmp"
        with open(tmp, "wb") as handle:
            pickle.dump(index, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / INDEX_NAME)
    except OSError:
        (folder / INDEX_NAME).unlink(missing_ok=True)  # the index is an optimisation: the next build is a full one


def _echo_lines(result: Any) -> list[str] | None:
    """The lines the search stage merged into the graph, sorted (None when it does not say)."""
    stage = getattr(result, "search", None)
    if stage is None:
        return []
    if getattr(stage, "echoes", None) is None:
        return None
    return stage.echo_lines()


def echo_line_change(change: Any) -> tuple[set[str], set[str]]:
    """The echo lines gone and come with `change` (echoes.EchoChange): only the changed echoes are spelled."""
    from ipgraph.search.echoes import Echo, echo_lines

    gone = set(echo_lines([Echo(a, b, float(text)) for a, b, text in change.removed]))
    came = set(echo_lines([Echo(a, b, float(text)) for a, b, text in change.added]))
    return gone - came, came - gone  # a rescored pair keeps its `echoes` and `between` lines


def load_index(folder: Path | None) -> BuildIndex | None:
    if folder is None:
        return None
    try:
        with open(folder / INDEX_NAME, "rb") as handle:
            index = pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError):
        return None
    if not isinstance(index, BuildIndex) or index.version != INDEX_VERSION:
        return None
    return index


class _Fallback(Exception):
    """The change is not one the incremental build can make exactly: build in full."""


@dataclass
class Incremental:
    """What incremental_build hands back to build_graph (which makes the BuildResult from it)."""

    ntriples: Path  # where the graph is to be written (by the search stage's patch_echoes)
    graph: Any  # merge.PatchedFile: the graph without the echoes' change, read before it is written
    counts: dict[str, int]  # the graph's without its echoes
    names: list[str]
    reports: list[Any]
    skipped: list[Any]
    reused: int
    timings: dict[str, float]
    delta: BuildDelta
    index: BuildIndex  # the new one (its echoes come with the search stage)
    published: Path  # the previous build's ipgraph.nt, with its echoes
    made: dict = field(default_factory=dict)  # measure IRI → its tokens, of the documents added (their workers')


def incremental_build(order: list[Path], keys: list[str | None], problems: list[Any], records_cache: Any,
                      cache_dir: Path, work: Path, make_pool: Callable[[], Any], max_bytes: int,
                      skip: Callable[[Any], None], progress: Callable[[int, int, int, int], None] | None) -> Incremental | None:
    """The build of `order` made from the previous one by its changes, or None (then build in full).

    `skip` is only called once the incremental build is sure to finish (a fallback reports nothing)."""
    from ipgraph.pipeline import NTRIPLES_NAME

    started = time.perf_counter()
    index = load_index(records_cache.previous)
    base = Path(cache_dir).parent
    old_nt = base / NTRIPLES_NAME
    if index is None or not index.echoes_apart or not _same_stamp(old_nt, index.nt_stamp):
        return None
    position = {str(p.absolute()): i for i, p in enumerate(order)}
    kept: list[tuple[int, DocEntry]] = []
    removed: list[DocEntry] = []
    for doc in index.docs:
        i = position.get(doc.path)
        if i is not None and keys[i] == doc.key:
            kept.append((i, doc))
        else:
            removed.append(doc)
    if any(a[0] > b[0] for a, b in zip(kept, kept[1:], strict=False)):
        return None  # the order of the kept documents changed (paths given another way): build in full
    taken = {i for i, _ in kept}
    candidates = [i for i in range(len(order)) if i not in taken]
    if len(candidates) + len(removed) > MAX_CHANGED * max(len(order), len(index.docs), 1):
        return None
    if not all(records_cache.has(doc.key) for _, doc in kept):
        return None
    old_triples = []
    for doc in removed:  # the old lines of what goes: its own cache entry, nothing else
        entry = peek(records_cache, doc.key)
        if entry is None or len(entry) != 4:
            return None
        old_triples.append(entry[2])
    pool = make_pool()
    skips: list[Any] = []
    try:
        added = _take_candidates(order, keys, candidates, kept, records_cache, pool, max_bytes, skips, progress)
    except _Fallback:
        return None
    finally:
        pool.stop()
    for _, doc in kept:
        carry(records_cache, doc.key)
    docs = sorted([*kept, *((i, d) for i, d, _t in added)], key=lambda x: x[0])
    new_index = BuildIndex(docs=[d for _, d in docs], shared=index.shared)
    changes = _line_changes(index, [t for _i, _d, t in added], old_triples, new_index, [d for _i, d, _t in added],
                            removed)
    read_done = time.perf_counter()
    try:
        removed_lines, added_lines = _decide_lines(old_nt, changes, index.shared)
    except _Fallback:
        records_cache.hits = 0  # the full build counts its own
        return None
    total = index.base_total - len(removed_lines) + len(added_lines)
    classes = Counter(index.base_classes)
    for text in removed_lines:
        _count_class(classes, text, -1)
    for text in added_lines:
        _count_class(classes, text, 1)
    classes = Counter({k: v for k, v in classes.items() if v > 0})
    from ipgraph.stream.merge import PatchedFile

    new_index.base_total, new_index.base_classes, new_index.echo_lines = total, classes, index.echo_lines
    for exc in problems + skips:
        skip(exc)
    delta = BuildDelta(base=str(base.resolve()), added=[d.name for _i, d, _t in added], removed=[d.name for d in removed],
                       removed_lines=removed_lines, added_lines=added_lines)
    timings = {"documents": read_done - started, "merge": time.perf_counter() - read_done,
               "waiting for workers": getattr(pool, "waited", 0.0)}
    return Incremental(ntriples=work / NTRIPLES_NAME,
                       graph=PatchedFile(str(old_nt), tuple(removed_lines), tuple(added_lines)),
                       counts={**classes, "triples": total}, names=[d.name for _, d in docs],
                       reports=[d.report for _, d in docs], skipped=problems + skips, reused=len(kept),
                       timings=timings, delta=delta, index=new_index, published=old_nt,
                       made={iri: m for _i, _d, t in added for iri, m in t.search.made().items()})


def peek(records_cache: Any, key: str) -> Any:
    """The previous build's cache entry of `key`, read without carrying it into the new cache (None: unreadable)."""
    try:
        with open(records_cache.previous / f"{key}.pickle", "rb") as handle:
            return pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError):
        return None


def carry(records_cache: Any, key: str) -> None:
    """Carry a kept document's entry into the new cache unread (a hard link; a copy across file systems)."""
    import shutil

    entry = records_cache.previous / f"{key}.pickle"
    records_cache.folder.mkdir(parents=True, exist_ok=True)
    try:
        os.link(entry, records_cache.folder / entry.name)
    except FileExistsError:
        pass
    except OSError:
        shutil.copyfile(entry, records_cache.folder / entry.name)
    records_cache.hits += 1


def _same_stamp(path: Path, stamp: tuple[int, int] | None) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stamp is not None and (st.st_size, st.st_mtime_ns) == tuple(stamp)


def _count_class(classes: Counter, text: str, step: int) -> None:
    from ipgraph.stream.merge import _class_of

    cls = _class_of(text)
    if cls is not None:
        classes[cls] += step


def _take_candidates(order: list[Path], keys: list[str | None], candidates: list[int], kept: list[tuple[int, DocEntry]],
                     records_cache: Any, pool: Any, max_bytes: int, skips: list[Any],
                     progress: Callable[[int, int, int, int], None] | None) -> list[tuple[int, DocEntry, Any]]:
    """Read and extract the files not in the index (new, changed, skipped before), in build order, and
    decide each as the full build would: (position, entry, triples) of each document added."""
    import dataclasses

    from ipgraph.dedupe import DuplicateFinder
    from ipgraph.errors import DuplicateError, InputError
    from ipgraph.iri import document_iri
    from ipgraph.pipeline import _size, document_result

    writer = IndexWriter()
    by_digest: dict[str, list[tuple[int, DocEntry]]] = {}
    by_band: dict[Any, list[tuple[int, DocEntry]]] = {}
    by_iri: dict[str, tuple[int, DocEntry]] = {}
    fresh_prepared: dict[int, tuple] = {}  # documents added in this build: their fingerprints

    def remember(i: int, doc: DocEntry) -> None:
        by_digest.setdefault(doc.digest, []).append((i, doc))
        for band in doc.bands:
            by_band.setdefault(band, []).append((i, doc))
        by_iri[doc.iri] = (i, doc)

    for i, doc in kept:
        remember(i, doc)

    def prepared_of(i: int, doc: DocEntry) -> tuple:
        if i in fresh_prepared:
            return fresh_prepared[i]
        entry = peek(records_cache, doc.key)
        if entry is None or len(entry) != 4 or entry[3] is None:
            raise _Fallback
        return entry[3]

    def finder_of(docs: list[tuple[int, DocEntry]]) -> DuplicateFinder:
        finder = DuplicateFinder()
        for i, doc in sorted(docs, key=lambda x: x[0]):
            finder.add(doc.name, f"\0{i}\0placeholder\0", prepared_of(i, doc))  # the text is never read: prepared is
        return finder

    added: list[tuple[int, DocEntry, Any]] = []
    todo = [order[i] for i in candidates]
    pool.prime(todo, max_bytes)
    done_bytes = 0
    for slot, i in enumerate(candidates):
        path = order[i]
        try:
            try:
                source, record, triples, failure, prepared = pool.result(slot, path, max_bytes)
            finally:
                pool.next(slot, todo, max_bytes)
            if prepared is None:
                from ipgraph.dedupe import fingerprint

                prepared = fingerprint(source.text)
            near = {id(d): (j, d) for key in [prepared[0]] for j, d in by_digest.get(key, [])}
            near.update({id(d): (j, d) for band in prepared[3] for j, d in by_band.get(band, [])})
            later = [x for x in near.values() if x[0] > i]
            if later and finder_of(later).match(source.text, prepared):
                raise _Fallback  # it repeats a later kept document, which the full build would leave out
            earlier = [x for x in near.values() if x[0] < i]
            duplicate = finder_of(earlier).match(source.text, prepared) if earlier else None
            if duplicate:
                raise DuplicateError(path, duplicate.describe())
            iri = str(document_iri(source.name))
            if iri in by_iri:
                j, _doc = by_iri[iri]
                if j > i:
                    raise _Fallback
                raise InputError(path, f"same document name as {order[j]} (a document's IRI is its file name "
                                       f"without the suffix); rename one")
            record, triples = document_result(path, source, record, triples, failure)
        except InputError as exc:
            skips.append(exc)
            continue
        finally:
            if progress:
                done_bytes += _size(path)
                progress(slot + 1, len(candidates), done_bytes, len(skips))
        entry = triples
        if triples.shard:
            text = Path(triples.shard).read_text(encoding="utf-8")
            entry = dataclasses.replace(triples, lines=set(text.split("\n")[:-1]), shard=None)
        records_cache.put(keys[i], (source, record, entry, prepared))
        made = writer.entry(path, keys[i], source.name, iri, entry, prepared)
        if made is None:
            raise _Fallback
        fresh_prepared[i] = prepared
        remember(i, made)
        added.append((i, made, entry))
    return added


def _line_changes(index: BuildIndex, added: list[Any], removed: list[Any], new_index: BuildIndex,
                  added_docs: list[DocEntry], removed_docs: list[DocEntry]) -> Counter:
    """line → change in the number of sources holding it (documents, winning claims, scheme)."""
    from ipgraph.stream.triples import scheme_lines

    change: Counter = Counter()
    for triples in removed:
        change.subtract(triples.lines)
    for triples in added:
        change.update(triples.lines)
    touched = {c[0] for doc in [*added_docs, *removed_docs] for c in doc.claims}
    if touched:
        before = _first_claims(((d.claims, d.programmes) for d in index.docs), touched)
        after = _first_claims(((d.claims, d.programmes) for d in new_index.docs), touched)
        for lines in claim_sources(before):
            change.subtract(lines)
        for lines in claim_sources(after):
            change.update(lines)
    had, has = any(d.programmes for d in index.docs), any(d.programmes for d in new_index.docs)
    if had != has:
        (change.update if has else change.subtract)(scheme_lines())
    return change  # the echoes' change comes with the search stage (pipeline._incremental_search)


def _decide_lines(old_nt: Path, changes: Counter, shared: dict[str, int]) -> tuple[list[str], list[str]]:
    """The lines `changes` takes out of old_nt and puts in (shared updated), each looked up in old_nt by
    bisection (merge.lines_held): (lines removed, lines added), sorted."""
    from ipgraph.stream.merge import lines_held

    queries = sorted(text for text, step in changes.items() if step)
    removed: list[str] = []
    added: list[str] = []
    for text, present in zip(queries, lines_held(old_nt, queries), strict=True):
        before = shared.get(text, 1 if present else 0)
        if before and not present:
            raise _Fallback  # the index counts a line ipgraph.nt does not hold: not the index of this file
        after = before + changes[text]
        if after < 0:
            raise _Fallback
        if after >= 2:
            shared[text] = after
        else:
            shared.pop(text, None)
        if before and not after:
            removed.append(text)
        elif after and not before:
            added.append(text)
    return removed, added
