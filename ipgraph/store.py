"""The store stage: the built graph on disk, as rdflib Graph or as an embedded Oxigraph store.

`ipgraph build` writes build/ipgraph.nt and then `write_store` bulk-loads it into
build/store/ (pyoxigraph, RocksDB). `ipgraph query` and `ipgraph serve` open that store
read-only with `open_store`, so a query never re-extracts or re-parses Turtle: opening takes
tens of milliseconds instead of seconds, and answering is done by Oxigraph's engine.

`load_graph` keeps giving the same graph as an rdflib Graph (export, validate, eval and the
`--engine rdflib` baseline use it).

This module imports neither rdflib nor the extraction modules at import time: the query
command imports it and must start fast.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ipgraph.errors import GraphNotFoundError

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph
    from rdflib import Graph

STORE_NAME = "store"
NTRIPLES_NAME = "ipgraph.nt"
TURTLE_NAME = "ipgraph.ttl"
# Written inside the store folder, so it is swapped in together with the data it describes.
STORE_META_NAME = "ipgraph-store.json"
# The layout of a build folder (ipgraph.pipeline.write_outputs): every output of one build lives in
# a generation folder OUT/.ipgraph/gen-…; OUT/.ipgraph/current links to the complete one and is
# replaced by one rename; OUT/ipgraph.ttl, OUT/store … link through it.
BUILD_META_DIR = ".ipgraph"
CURRENT_LINK = "current"
GENERATION_MARKER = ".ipgraph-generation"


def generation_dir(build_dir: Path | str) -> Path:
    """The folder holding build_dir's current outputs, resolved once: every file a reader opens
    through it comes from the same build, even while another build swaps in. A folder of the
    old layout (no .ipgraph/current) is its own generation."""
    link = Path(build_dir) / BUILD_META_DIR / CURRENT_LINK
    try:
        return link.parent / os.readlink(link)
    except OSError:
        return Path(build_dir)


def load_graph(graph_dir: Path | str) -> Graph:
    """The graph written by `ipgraph build` into graph_dir, as an rdflib Graph.

    Raises GraphNotFoundError when graph_dir holds no built graph.
    """
    from rdflib import Graph

    from ipgraph.graph import bind_prefixes

    graph_dir = generation_dir(graph_dir)
    for name, fmt in ((NTRIPLES_NAME, "nt"), (TURTLE_NAME, "turtle")):
        path = graph_dir / name
        if path.is_file():
            graph = Graph()
            bind_prefixes(graph)
            graph.parse(path, format=fmt)
            return graph
    raise GraphNotFoundError(f"{graph_dir}: no built graph here (run `ipgraph build -o {graph_dir}` first)")


def rdflib_view(build_dir: Path | str) -> Graph:
    """The built graph as an rdflib Graph backed by the embedded store (oxrdflib), opened read-only.

    rdflib's API without parsing anything: triple patterns read build/store, and `.query()`
    is answered by Oxigraph. Raises GraphNotFoundError when there is no store.
    """
    from oxrdflib import OxigraphStore
    from rdflib import Graph
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

    from ipgraph.graph import bind_prefixes

    # The data is in the store's default graph; rdflib names that graph DATASET_DEFAULT_GRAPH_ID.
    graph = Graph(store=OxigraphStore(store=open_store(build_dir)), identifier=DATASET_DEFAULT_GRAPH_ID)
    bind_prefixes(graph)
    return graph


@dataclass(frozen=True)
class StoreInfo:
    """What build/store/ holds: its triple count and the N-Triples file it was loaded from."""

    triples: int
    source_size: int | None
    source_mtime_ns: int | None


def store_path(build_dir: Path | str) -> Path:
    """Where the embedded store of a build folder lives (build_dir/store)."""
    return Path(build_dir) / STORE_NAME


def _source_stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns


def write_store(source: Graph | Path | str, build_dir: Path | str) -> Path:
    """Load `source` (an rdflib Graph, or the path of an N-Triples file) into build_dir/store.

    The store is built in a temporary sibling folder and renamed into place, so a reader
    never opens a half-written store; a previous store is removed after the swap.
    Returns the store folder.
    """
    import pyoxigraph

    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    target = store_path(build_dir)
    tmp = Path(tempfile.mkdtemp(prefix=".store-new-", dir=build_dir))
    try:
        store = pyoxigraph.Store(str(tmp))
        stamp: tuple[int, int] | None = None
        if isinstance(source, (str, Path)):
            stamp = _source_stamp(Path(source))
            bulk_load_chunks(store, Path(source))
        else:
            data = source.serialize(format="nt", encoding="utf-8")
            store.bulk_load(input=data, format=pyoxigraph.RdfFormat.N_TRIPLES)
        store.flush()
        store.optimize()
        triples = len(store)
        del store  # pyoxigraph closes the RocksDB instance when the object is dropped
        _write_meta(tmp, triples, stamp)
        _swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _write_meta(folder: Path, triples: int, stamp: tuple[int, int] | None) -> None:
    """The store's metadata, inside it (so it is swapped in with the data): its triples and its source file's stamp."""
    meta = {"triples": triples, "source_size": stamp[0] if stamp else None,
            "source_mtime_ns": stamp[1] if stamp else None}
    (folder / STORE_META_NAME).write_text(json.dumps(meta, sort_keys=True) + "\n", encoding="utf-8")


def _swap_in(new: Path, target: Path) -> None:
    """Put the store folder `new` (on target's file system) at `target`, the previous store removed after the swap."""
    old = None
    if target.exists():
        # rename(2) cannot replace a non-empty folder: move the old one aside first.
        old = Path(tempfile.mkdtemp(prefix=".store-old-", dir=target.parent))
        os.replace(target, old / STORE_NAME)
    try:
        os.replace(new, target)
    except OSError:
        if old is not None:  # the previous store back in place (`new` on another file system, say)
            os.replace(old / STORE_NAME, target)
            shutil.rmtree(old, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


STAGED_POLL = 0.05  # seconds between looks for the build's word (staged_store)


def staged_store(base_nt: Path | str, folder: Path | str, word: Path | str) -> Path:
    """The store started before its graph is complete (-j > 1: ipgraph.pipeline): `base_nt` (the graph
    without its echoes) is bulk-loaded into a store under `folder` while the build's own process runs
    the search stage; then this waits for the build's word, the JSON file `word` (written by a rename):
    {"lines": N-Triples file, "nt": the final ipgraph.nt, "build_dir": …} adds those lines (the echoes)
    and leaves the store at build_dir/store as write_store leaves it (a second name when `folder` is on
    build_dir's file system, else a copy). Runs as a tail stage, in a child process that dies with the
    build (ipgraph.stream.tail) or is stopped with it. Returns the store folder.
    """
    import time

    import pyoxigraph

    folder, word = Path(folder), Path(word)
    tmp = Path(tempfile.mkdtemp(prefix=".store-staged-", dir=folder))
    try:
        store = pyoxigraph.Store(str(tmp))
        bulk_load_chunks(store, Path(base_nt))
        while not word.is_file():
            time.sleep(STAGED_POLL)
        told = json.loads(word.read_text(encoding="utf-8"))
        bulk_load_chunks(store, Path(told["lines"]))
        store.flush()
        store.optimize()
        triples = len(store)
        del store
        build_dir = Path(told["build_dir"])
        _write_meta(tmp, triples, _source_stamp(Path(told["nt"])))
        target = store_path(build_dir)
        try:
            _swap_in(tmp, target)
        except OSError:  # another file system: copied next to the target, then swapped in
            near = Path(tempfile.mkdtemp(prefix=".store-new-", dir=build_dir))
            try:
                shutil.copytree(tmp, near / STORE_NAME)
                _swap_in(near / STORE_NAME, target)
            finally:
                shutil.rmtree(near, ignore_errors=True)
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


BULK_CHUNK_TRIPLES = 200_000
"""Triples per bulk-load call. Why: Oxigraph's bulk loader encodes batches of up to a million quads per
thread, with their strings, before it writes them (1.7 GB for the 2.5 million triples of 1,000 documents);
a call over a slice of the file makes its batch no bigger than the slice. Measured in README (Big corpora)."""


BULK_LOAD_PEAK = 512 * 2**20
"""What the bulk-loading process may reach with BULK_CHUNK_TRIPLES (measured 320 MB at 1,000 documents; the
slice, not the file, sets it): the tail's memory budget reads it (ipgraph.stream.tail)."""


def bulk_load_chunks(store: pyoxigraph.Store, path: Path, chunk: int = 0) -> int:
    """Bulk-load the N-Triples file at `path` into `store`, `chunk` triples (default BULK_CHUNK_TRIPLES) per
    call; returns the triples read.

    One parser reads the whole file (N-Triples is read as N-Quads, its superset, so the parser gives quads
    of the default graph): a blank node is the same node in every slice, which separate parses of slices
    of the file would rename apart (tests/test_mem_store.py).
    """
    import itertools

    import pyoxigraph

    size = max(1, chunk or BULK_CHUNK_TRIPLES)
    quads = pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.N_QUADS)
    total = 0
    while True:
        batch = list(itertools.islice(quads, size))
        if not batch:
            return total
        total += len(batch)
        store.bulk_extend(batch)


def store_info(build_dir: Path | str) -> StoreInfo | None:
    """The metadata of build_dir/store, or None when there is no store there."""
    meta_file = store_path(generation_dir(build_dir)) / STORE_META_NAME
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return StoreInfo(
        triples=int(meta.get("triples", 0)),
        source_size=meta.get("source_size"),
        source_mtime_ns=meta.get("source_mtime_ns"),
    )


def store_is_current(build_dir: Path | str) -> bool:
    """True when build_dir/store exists and was loaded from the current build_dir/ipgraph.nt."""
    build_dir = generation_dir(build_dir)
    info = store_info(build_dir)
    if info is None:
        return False
    stamp = _source_stamp(Path(build_dir) / NTRIPLES_NAME)
    if stamp is None or info.source_size is None:
        return True  # nothing to compare with: trust the store
    return (info.source_size, info.source_mtime_ns) == stamp


def ensure_store(build_dir: Path | str) -> bool:
    """Make sure build_dir/store matches build_dir/ipgraph.nt, (re)loading it if not.

    Returns True when the store had to be written (a build folder made before the store
    existed, or an ipgraph.nt changed since). Raises GraphNotFoundError when there is
    neither a store nor an ipgraph.nt.
    """
    build_dir = generation_dir(build_dir)
    if store_is_current(build_dir):
        return False
    nt = build_dir / NTRIPLES_NAME
    if not nt.is_file():
        raise GraphNotFoundError(
            f"{build_dir}: no built graph here (run `ipgraph build -o {build_dir}` first)"
        )
    write_store(nt, build_dir)
    return True


def load_memory_store(build_dir: Path | str) -> pyoxigraph.Store:
    """build_dir's graph in an in-memory Oxigraph store (loaded from ipgraph.nt by Oxigraph's parser).

    Answers several times faster than the on-disk store (no RocksDB reads) but takes a load at
    start (seconds for a million triples) and the memory: for long-running servers and benchmarks.
    Raises GraphNotFoundError when there is no ipgraph.nt.
    """
    import pyoxigraph

    nt = generation_dir(build_dir) / NTRIPLES_NAME
    if not nt.is_file():
        raise GraphNotFoundError(
            f"{build_dir}: no built graph here (run `ipgraph build -o {build_dir}` first)"
        )
    store = pyoxigraph.Store()
    store.load(path=str(nt), format=pyoxigraph.RdfFormat.N_TRIPLES)
    return store


def open_store(build_dir: Path | str) -> pyoxigraph.Store:
    """Open build_dir/store read-only (several processes may do so at once).

    Raises GraphNotFoundError when there is no store (run `ipgraph build`).
    """
    import pyoxigraph

    path = store_path(generation_dir(build_dir))
    if store_info(path.parent) is None:
        raise GraphNotFoundError(f"{build_dir}: no store here (run `ipgraph build -o {build_dir}` first)")
    try:
        return pyoxigraph.Store.read_only(str(path))
    except OSError as exc:
        raise GraphNotFoundError(
            f"{path}: the store cannot be opened ({exc}); rebuild it with `ipgraph build`"
        ) from exc


UPDATE_LIMIT = 0.2  # above this share of changed lines a bulk load is cheaper than removing and adding


def _changed_lines(old_nt: Path, new_nt: Path, limit: int) -> tuple[list[str], list[str]] | None:
    """The lines only in old_nt and only in new_nt (both sorted, unique: a build's files), or None when
    more than `limit` differ. One pass over both, in step."""
    removed: list[str] = []
    added: list[str] = []
    with open(old_nt, encoding="utf-8", newline="\n") as old, open(new_nt, encoding="utf-8", newline="\n") as new:
        a, b = old.readline(), new.readline()
        while a or b:
            if a == b:
                a, b = old.readline(), new.readline()
                continue
            if b and (not a or b < a):
                added.append(b)
                b = new.readline()
            else:
                removed.append(a)
                a = old.readline()
            if len(removed) + len(added) > limit:
                return None
    return removed, added


def update_store(previous: Path | str, new_nt: Path | str | None, build_dir: Path | str,
                 changes: tuple[list[str], list[str]] | None = None) -> Path:
    """build_dir/store as the store of the build in `previous` (a generation folder) changed into new_nt's graph.

    Why: adding one document to a big build changes a few thousand lines; a bulk load of the whole file
    costs seconds per hundred documents. The previous store is checkpointed (Store.backup: hard links to
    its immutable files, no copy), the removed lines' triples are deleted from the checkpoint and the new
    ones inserted. Falls back to write_store (a bulk load) when there is no usable previous store or too
    much changed. The previous store is only read; a killed update leaves it whole. `changes`: the lines
    removed and added (without newlines), when the caller knows them (an incremental build): no diff.
    new_nt None: the graph's file is not written yet (an add's store made while it is): `changes` must be
    usable (OSError otherwise, nothing left behind) and the store holds no source stamp (stamp_store).
    """
    previous, build_dir = Path(previous), Path(build_dir)
    old_nt = previous / NTRIPLES_NAME
    info = store_info(previous)
    if new_nt is None:
        if changes is None or info is None or not info.triples \
                or len(changes[0]) + len(changes[1]) > UPDATE_LIMIT * info.triples:
            raise OSError(f"{store_path(previous)}: not a store this change can update")
        return _apply_change(previous, info, [f"{t}\n" for t in changes[0]], [f"{t}\n" for t in changes[1]],
                             None, build_dir, lambda: _no_reload(previous))
    new_nt = Path(new_nt)
    if changes is not None and info is not None and info.triples:
        removed, added = [f"{t}\n" for t in changes[0]], [f"{t}\n" for t in changes[1]]
        if len(removed) + len(added) > UPDATE_LIMIT * info.triples:
            return write_store(new_nt, build_dir)
    else:
        try:
            with open(new_nt, "rb") as handle:
                lines = sum(1 for _ in handle)
        except OSError:
            lines = 0
        if info is None or not old_nt.is_file() or info.triples == 0 or not lines:
            return write_store(new_nt, build_dir)
        diff = _changed_lines(old_nt, new_nt, int(UPDATE_LIMIT * lines))
        if diff is None:
            return write_store(new_nt, build_dir)
        removed, added = diff
    return _apply_change(previous, info if changes is not None else None, removed, added, new_nt, build_dir,
                         lambda: write_store(new_nt, build_dir))


def _apply_change(previous: Path, info: StoreInfo | None, removed: list[str], added: list[str],
                  new_nt: Path | None, build_dir: Path, reload: Callable[[], Path]) -> Path:
    """update_store's checkpoint of the previous store with the lines `removed` and `added` (N-Triples,
    each with its newline) at build_dir/store; `info`: the previous store's, when the change is known
    whole (the count then follows from it); `reload()` when the checkpoint cannot be made or changed."""
    import pyoxigraph

    target = store_path(build_dir)
    tmp = Path(tempfile.mkdtemp(prefix=".store-new-", dir=build_dir))
    checkpoint = tmp / STORE_NAME
    try:
        pyoxigraph.Store.read_only(str(store_path(previous))).backup(str(checkpoint))
        store = pyoxigraph.Store(str(checkpoint))
        nt = pyoxigraph.RdfFormat.N_TRIPLES
        for triple in pyoxigraph.parse(input="".join(removed).encode("utf-8"), format=nt):
            store.remove(pyoxigraph.Quad(triple.subject, triple.predicate, triple.object))
        store.extend(pyoxigraph.Quad(t.subject, t.predicate, t.object)
                     for t in pyoxigraph.parse(input="".join(added).encode("utf-8"), format=nt))
        store.flush()
        # a known change: the count follows from it (len() would walk the whole store)
        triples = info.triples - len(removed) + len(added) if info is not None else len(store)
        del store
        _write_meta(checkpoint, triples, _source_stamp(new_nt) if new_nt is not None else None)
        if target.exists():
            shutil.rmtree(target)
        os.replace(checkpoint, target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return reload()  # a checkpoint that cannot be made or changed: load afresh
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)
    return target


def _no_reload(previous: Path) -> Path:
    """update_store without the graph's file: no bulk load to fall back on."""
    raise OSError(f"{store_path(previous)}: its checkpoint could not be made or changed")


def stamp_store(store: Path | str, nt: Path | str) -> None:
    """Give a store made before its graph's file was written (update_store(new_nt=None)) that file's stamp,
    so that store_is_current holds: the triples it counted are kept."""
    store = Path(store)
    meta = json.loads((store / STORE_META_NAME).read_text(encoding="utf-8"))
    _write_meta(store, int(meta["triples"]), _source_stamp(Path(nt)))
