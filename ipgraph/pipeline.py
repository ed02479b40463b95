"""The whole build: read → structure → extract → resolve → graph → outputs.

    from ipgraph.pipeline import build_graph, write_outputs
    result = build_graph(["data/corpus"])
    write_outputs(result, "build")
"""
from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ipgraph.atomic import atomic_write_text
from ipgraph.errors import InputError, OutputError
from ipgraph.extract.agencies import extract_assignments
from ipgraph.extract.citations import extract_citations
from ipgraph.extract.programmes import extract_programmes
from ipgraph.extract.targets import extract_targets
from ipgraph.iri import DATA, KIND_PREFIXES
from ipgraph.model import AgencyRef, DocumentRecord, ParsedDocument, SourceDocument
from ipgraph.read import (
    DEFAULT_MAX_BYTES,
    describe_error,
    format_size,
    matching_form,
    read_document,
    restore_verbatim,
)
from ipgraph.report import REPORT_NAME
from ipgraph.resolve import AgencyResolver
from ipgraph.stream.merge import PatchedFile
from ipgraph.structure import parse_document

if TYPE_CHECKING:  # pragma: no cover
    from rdflib import Graph

    from ipgraph.stream.triples import DocumentTriples

TURTLE_NAME = "ipgraph.ttl"
NTRIPLES_NAME = "ipgraph.nt"
STORE_NAME = "store"
SUMMARY_NAME = "summary.json"
GRAPH_PAGE_NAME = "graph.html"
SEARCH_NAME = "search"  # the search index (ipgraph.search), written by the build


@dataclass
class BuildResult:
    """What build_graph found. The graph itself is the sorted N-Triples file `ntriples` (written as
    documents finished, no rdflib Graph); `graph` parses it into rdflib on first use, for callers
    that want a Graph (off the build's hot path)."""

    records: list[DocumentRecord]  # empty when build_graph(keep_records=False): see `names`
    ntriples: Path | None = None  # sorted, unique N-Triples lines of the whole graph
    counts: dict[str, int] = field(default_factory=dict)  # class IRI → instances, and "triples"
    skipped: list[InputError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # what the build read (the paths given and the files found, absolute): write_outputs never removes them
    inputs: list[Path] = field(default_factory=list)
    reports: list[Any] = field(default_factory=list)  # per record (same order), ipgraph.report.DocumentReport
    work_dir: Path | None = None  # the build's scratch folder (runs, the merged file); removed with the result
    given: list[Path] = field(default_factory=list)  # the paths given to build_graph, absolute
    reused: int = 0  # documents taken from the cache instead of extracted
    cache: Path | None = None  # the cache entries this build used (installed by write_outputs)
    search: Any = None  # ipgraph.search.stage.SearchStage: the index (in work_dir), the echoes, the page's data
    # seconds per stage (build_graph's and write_outputs'): `ipgraph bench build` and the scale notes read them
    timings: dict[str, float] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)  # the source name of each document built, in order
    jobs: int = 1  # the build's worker processes: above 1, write_outputs runs its stages concurrently
    delta: Any = None  # ipgraph.stream.delta.BuildDelta when the build was made from the previous one by its changes
    staged: StagedStore | None = None  # the store loading beside the search stage (build_graph(stage_store=True))
    staged_page: StagedPage | None = None  # an incremental build's page, drawn beside its search stage
    early_outputs: EarlyOutputs | None = None  # an add's store and Turtle, made once its change is known
    cache_writes: list[Any] = field(default_factory=list)  # Futures of files still being written into `cache`
    _graph: Graph | None = field(default=None, repr=False)

    @property
    def graph(self) -> Graph:
        if self._graph is None:
            from rdflib import Graph

            from ipgraph.graph import bind_prefixes

            graph = Graph()
            bind_prefixes(graph)
            if self.ntriples is not None:
                graph.parse(self.ntriples, format="nt")
            self._graph = graph
        return self._graph

    def cache_ready(self) -> None:
        """Wait for the files still being written into the record cache (the build index of an add)."""
        while self.cache_writes:
            self.cache_writes.pop().result()

    def quality(self) -> list[Any]:
        """The quality report of every record, sorted by file name (ipgraph.report.build_report)."""
        from ipgraph.report import build_report

        if self.records and (len(self.reports) != len(self.records) or any(r is None for r in self.reports)):
            return build_report(self.records)
        return sorted((r for r in self.reports if r is not None), key=lambda r: r.document)

    def summary(self) -> dict[str, int]:
        from ipgraph.vocab import IPG

        def count(cls) -> int:
            return self.counts.get(str(cls), 0)

        return {
            "documents": count(IPG.PolicyDocument),
            "measures": count(IPG.Measure),
            "agencies": count(IPG.Agency),
            "programmes": count(IPG.Programme),
            "directives": count(IPG.Directive),
            "targets": count(IPG.Target),
            "triples": self.counts.get("triples", 0),
            "skipped": len(self.skipped),
        }


def extract_document(source: SourceDocument) -> DocumentRecord:
    """Structure and extraction for one decoded document."""
    parsed: ParsedDocument = parse_document(source)
    meta = parsed.meta
    resolver = AgencyResolver(meta.jurisdiction, meta.level)
    issuers: list[AgencyRef] = []
    for issuer in meta.issuers:
        issuers.extend(ref for ref in resolver.resolve_list(issuer) if ref not in issuers)
    return DocumentRecord(
        parsed=parsed,
        issuers=issuers,
        assignments=extract_assignments(parsed.measures, resolver, source.text),
        programmes=extract_programmes(parsed.measures, source.text),
        citations=extract_citations(parsed, parsed.background),
        targets=extract_targets(parsed),
    )


DEFAULT_FILE_TIMEOUT = 30.0  # seconds per file (read + extract); a corpus document takes well under one


def default_jobs() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def build_graph(paths: Iterable[Path | str], on_skip: Callable[[InputError], None] | None = None,
                max_bytes: int = DEFAULT_MAX_BYTES,
                file_timeout: float | None = DEFAULT_FILE_TIMEOUT, jobs: int = 1,
                work_dir: Path | str | None = None, cache: bool = False, cache_dir: Path | str | None = None,
                progress: Callable[[int, int, int, int], None] | None = None,
                scheduler: str | None = None, keep_records: bool = True, stage_store: bool = False) -> BuildResult:
    """Build the graph of every document under `paths` (files or folders).

    Files are taken in sorted-name order. A file that cannot be used is skipped with an
    InputError (reported through `on_skip`); the other documents still build. Skipped too: a
    file larger than `max_bytes`, a repeat of an earlier document (DuplicateError: the first by
    name is kept), a file whose name gives an earlier document's IRI, and a file whose reading
    and extraction take longer than `file_timeout` seconds: files are read and extracted in
    `jobs` worker processes (forked once, and again only after one was stopped), which are killed
    when a file overruns, since C-level regular-expression or parser work cannot be interrupted
    otherwise. `file_timeout=None` works in this process, without a budget (and without workers).

    Each worker also turns its record into N-Triples lines (ipgraph.stream.triples); this
    process takes the results in document order (so the output does not depend on `jobs`),
    keeps the table of shared nodes and writes the lines into sorted runs, merged at the end
    into one sorted file (result.ntriples, in `work_dir` or a temporary folder).

    `cache`: keep every built file's result; `cache_dir` (ipgraph build: OUT/.ipgraph/cache) holds each built file's result under the hash
    of its content (ipgraph.stream.cache): only new or changed files are extracted; the entries
    used are gathered in work_dir/cache, which write_outputs installs as the next cache. `progress`
    is called after every file with (files done, files in all, bytes done, files skipped).
    `scheduler` ("local" or a Dask scheduler address) runs the per-document work on Dask
    (ipgraph.stream.dask), `jobs` worker processes for "local".

    `keep_records=False` (ipgraph build) keeps no DocumentRecord once its lines and quality report
    are taken: memory stays flat at 10,000 documents; result.names still lists the documents.

    `stage_store` (ipgraph build; with jobs > 1, a full build): the store's bulk load of the merged graph
    starts in a child process as soon as the merge is done, beside the search stage; write_outputs adds
    the echoes to it and moves it into the build (ipgraph.store.staged_store), instead of loading the
    whole graph after the search stage. Call write_outputs, or drop the result: its child waits for one.
    """
    import tempfile

    from ipgraph.stream.gcpolicy import fewer_collections

    owned = work_dir is None
    work = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix="ipgraph-build-"))
    try:
        with fewer_collections():  # the workers forked in it too
            return _build_graph(paths, on_skip, max_bytes, file_timeout, jobs, work, owned, cache, cache_dir,
                                progress, scheduler, keep_records, stage_store)
    except BaseException:  # a failed or interrupted build leaves no scratch folder behind (GBs at 10,000 documents)
        if owned:
            shutil.rmtree(work, ignore_errors=True)
        raise


def _build_graph(paths: Iterable[Path | str], on_skip: Callable[[InputError], None] | None, max_bytes: int,
                 file_timeout: float | None, jobs: int, work: Path, owned: bool, cache: bool,
                 cache_dir: Path | str | None, progress: Callable[[int, int, int, int], None] | None,
                 scheduler: str | None, keep_records: bool, stage_store: bool) -> BuildResult:
    """build_graph in the scratch folder `work` (`owned`: made for this build, removed with its result)."""
    import weakref

    from ipgraph.dedupe import DuplicateFinder
    from ipgraph.errors import DuplicateError
    from ipgraph.iri import document_iri
    from ipgraph.read import scan_paths
    from ipgraph.stream.merge import RunWriter, merge_runs
    from ipgraph.stream.triples import ClaimTable

    paths = list(paths)
    records: list[DocumentRecord] = []
    built: list[str] = []  # the documents built, in order (kept when the records are not)
    reports: list[Any] = []
    skipped: list[InputError] = []
    finder = DuplicateFinder()
    names: dict[str, Path] = {}
    pool: Any = _Pool(file_timeout, max(1, jobs)) if file_timeout and not scheduler else None
    early_page: StagedPage | None = None
    try:  # a failure before the build's own try below stops the worker started early
        found, problems = scan_paths(paths)
        inputs = [Path(p).absolute() for p in paths] + [p.absolute() for p in found]
        work.mkdir(parents=True, exist_ok=True)
        runs = RunWriter(work / "runs")
        table = ClaimTable()
        from ipgraph.search.segment import TokenSpool

        # per document, its measures' token keys, text sha256 and jieba words: spooled to disk as they come
        made = TokenSpool(work / "tokens.spool")
        made_fresh = 0  # how many of them were segmented for this build (the rest came from the cache)
        if scheduler:
            from ipgraph.stream.dask import DaskPool

            pool = DaskPool(scheduler, max(1, jobs), work / "shards")
        from ipgraph.stream.cache import RecordCache, content_key

        records_cache = RecordCache(work / "cache", cache_dir) if cache else None

        def skip(exc: InputError) -> None:
            skipped.append(exc)
            if on_skip:
                on_skip(exc)

        order = sorted(found, key=lambda p: (p.name, str(p)))
        keys = [_named_key(content_key(p, max_bytes), p.name) for p in order] if records_cache else [None] * len(order)
        # which files the cache holds; each entry is loaded when its turn comes (not all of them up front)
        cached = [records_cache.has(k) for k in keys] if records_cache else [False] * len(order)
        todo = [p for p, hit in zip(order, cached, strict=True) if not hit]  # what the workers read, in order
        if isinstance(pool, _Pool) and todo:  # its first worker loads jieba (~2 s) while this process reads its index
            pool.workers[0].spawn()
        spills: dict[Path, Path] = {}  # file → where its worker writes its cache entry (adopted once it is kept)
        if isinstance(pool, _Pool) and records_cache is not None:
            fresh_keys = {p: k for p, k, hit in zip(order, keys, cached, strict=True) if k and not hit}
            where = records_cache.spill_paths(list(fresh_keys.values()))
            spills = {p: where[k] for p, k in fresh_keys.items()}
            for worker in pool.workers:
                worker.spill = spills.get
        done_bytes = 0
        started = time.perf_counter()
        from ipgraph.stream import delta as _delta  # `ipgraph add`: only what changed (ipgraph.stream.delta)

        previous_made: Any = {}
        if records_cache is not None and cache_dir is not None and file_timeout and not scheduler and not keep_records:
            from ipgraph.search.index import read_spool

            previous = Path(cache_dir).parent / SEARCH_NAME  # its tokens, when today's data files and tokeniser made them
            previous_made = read_spool(previous, "jieba") if previous.is_dir() else {}
        if previous_made and records_cache is not None and cache_dir is not None and file_timeout:
            budget = file_timeout
            # the page's child reads the previous fold while the documents are read (with -j 1 it is drawn later)
            early_page = StagedPage.early(Path(cache_dir).parent.resolve(), work) if jobs > 1 else None
            # the pool made above (its first worker already loading), stopped by incremental_build
            quick = _delta.incremental_build(order, list(keys), problems, records_cache, Path(cache_dir), work,
                                             lambda: pool or _Pool(budget, max(1, jobs)), max_bytes, skip, progress)
            if quick is not None:
                return _incremental_result(quick, paths, inputs, work, owned, records_cache, cache_dir, jobs,
                                           previous_made, early_page)
            if early_page is not None:
                early_page.cancel()
                early_page = None
    except BaseException:
        if pool is not None:
            pool.stop()
        if early_page is not None:
            early_page.cancel()
        raise
    collector = _delta.IndexWriter() if records_cache is not None else None
    try:
        for problem in problems:
            skip(problem)
        if pool:
            pool.prime(todo, max_bytes)
        slot = -1  # the position in `todo` of the file being taken
        for i, path in enumerate(order):
            triples: DocumentTriples | None = None
            fresh = not cached[i]  # handed to a worker
            slot += fresh
            store = fresh  # its result goes into the cache
            try:
                entry = records_cache.get(keys[i]) if records_cache and not fresh else None
                prepared = None  # the dedupe fingerprint, when a worker or the cache has it
                if entry is not None and len(entry) == 4:
                    source, record, triples, prepared = entry
                    failure = None
                elif not fresh:  # listed but unreadable (or of another layout) now: extracted here, cached again
                    source, record, failure = read_document(path, max_bytes=max_bytes), None, None
                    store = True
                elif pool:  # read and extracted by a worker (handed over ahead)
                    source, record, triples, failure, prepared = pool.result(slot, path, max_bytes)
                else:
                    source, record, failure = read_document(path, max_bytes=max_bytes), None, None
                duplicate = finder.match(source.text, prepared)
                if duplicate:
                    raise DuplicateError(path, duplicate.describe())
                iri = str(document_iri(source.name))
                if iri in names:
                    raise InputError(path, f"same document name as {names[iri]} (a document's IRI is its file name "
                                           f"without the suffix); rename one")
                record, triples = document_result(path, source, record, triples, failure)
            except InputError as exc:
                skip(exc)
                if path in spills:  # what its worker wrote for the cache: not kept
                    spills[path].unlink(missing_ok=True)
                continue
            finally:
                if pool and fresh:
                    pool.next(slot, todo, max_bytes)  # the worker freed by this file takes the next one
                if progress:
                    done_bytes += _size(path)
                    progress(i + 1, len(order), done_bytes, len(skipped))
            key = keys[i]
            if records_cache and store and not (path in spills and key and records_cache.adopt(key)):
                entry = triples
                if triples.shard:  # the cache outlives the shards: it keeps the lines themselves
                    import dataclasses

                    text = Path(triples.shard).read_text(encoding="utf-8")
                    entry = dataclasses.replace(triples, lines=set(text.split("\n")[:-1]), shard=None)
                records_cache.put(keys[i], (source, record, entry, finder.prepared(source.text)))
            finder.add(source.name, source.text, prepared)
            if collector is not None:
                collector.add(path, keys[i], source.name, iri, triples, finder.prepared(source.text))
            names[iri] = path
            table.add(triples)
            made.add(iri, triples.search.made())  # the search stage indexes these, segmenting nothing
            made_fresh += len(triples.search.measures) if fresh else 0
            if triples.shard:
                runs.add_run(triples.shard)
            else:
                runs.add(triples.lines)
            if keep_records:
                records.append(record)
            built.append(source.name)
            reports.append(triples.report)
        for lines in _delta.table_sources(table):  # each winning claim one source: the index counts them
            runs.add(lines)
        runs.flush()
        read_done = time.perf_counter()
        merged = work / NTRIPLES_NAME
        total, classes = merge_runs(runs.runs, merged, work / "runs",
                                    shared=collector.shared if collector is not None else None)
        timings = {"documents": read_done - started, "merge": time.perf_counter() - read_done,
                   "waiting for workers": getattr(pool, "waited", 0.0)}
    finally:
        if pool:
            pool.stop()
        if records_cache is not None:
            records_cache.discard_spills()  # a stopped build's: after the workers, which may still write one
    result = BuildResult(records=records, names=built, ntriples=merged, counts={**classes, "triples": total},
                         skipped=skipped, inputs=inputs, reports=reports, work_dir=work,
                         given=[Path(p).absolute() for p in paths],
                         reused=records_cache.hits if records_cache else 0,
                         cache=records_cache.root if records_cache else None, timings=timings,
                         jobs=max(1, jobs))
    from ipgraph.search.stage import search_stage  # the index, and the echoes merged into result.ntriples

    started = time.perf_counter()
    if stage_store and jobs > 1 and StagedStore.fits(merged):
        result.staged = StagedStore.start(merged, work, timings)
        weakref.finalize(result, result.staged.tail.stop)  # never written: its child stops with the result
    try:
        result.search = search_stage(result, work / SEARCH_NAME,
                                     Path(cache_dir).parent / SEARCH_NAME if cache_dir else None,
                                     made=made, fresh=made_fresh, documents=list(names))
    except BaseException:
        if result.staged is not None:
            result.staged.tail.stop()
        raise
    timings["search and echoes"] = time.perf_counter() - started
    if collector is not None and records_cache is not None:  # what the next `ipgraph add` starts from
        collector.save(result, records_cache.folder, total, classes)
    if owned:
        weakref.finalize(result, shutil.rmtree, str(work), True)
    return result


def _incremental_result(quick: Any, paths: list, inputs: list[Path], work: Path, owned: bool, records_cache: Any,
                        cache_dir: Any, jobs: int, made: Any, early_page: StagedPage | None = None) -> BuildResult:
    """The BuildResult of an incremental build (ipgraph.stream.delta), with the search stage run on its graph
    and the graph written (the previous ipgraph.nt patched once, by the documents' and the echoes' change)."""
    import weakref

    from ipgraph.report import page_lines
    from ipgraph.stream.delta import write_index
    from ipgraph.view import drawn_count

    result = BuildResult(records=[], names=quick.names, ntriples=quick.ntriples, counts=quick.counts,
                         skipped=quick.skipped, inputs=inputs, reports=quick.reports, work_dir=work,
                         given=[Path(p).absolute() for p in paths], reused=quick.reused, cache=records_cache.root,
                         timings=quick.timings, jobs=max(1, jobs), delta=quick.delta)
    started = time.perf_counter()
    # the page is drawn beside the search stage, from the new graph as the previous file with the
    # documents' change (not written yet), its fold patched by that change
    doc_change = [*quick.delta.removed_lines, *quick.delta.added_lines]
    drawn = drawn_count(result.counts) if result.counts else None
    if early_page is not None and Path(quick.delta.base) == early_page.previous:
        early_page.tell(quick.graph, drawn, doc_change, page_lines(result.quality()), result.timings)
        result.staged_page = early_page
    else:
        if early_page is not None:
            early_page.cancel()
        result.staged_page = StagedPage.start(
            quick.graph, drawn, Path(quick.delta.base), doc_change, page_lines(result.quality()), work,
            jobs > 1 and StagedPage.fits(drawn, Path(quick.delta.base)), result.timings)
    weakref.finalize(result, result.staged_page.tail.stop)
    if jobs > 1:
        # the store's and the Turtle's child, started now (niced: it only imports, then waits), so that it
        # starts its work as soon as the change is known
        from ipgraph.stream.tail import discard_spares, prestart

        # one: the store and the Turtle are made in one child (EarlyOutputs) once the change is known
        spares = prestart(1, ["ipgraph.store", "ipgraph.stream.turtle", "ipgraph.stream.early"], nice=SPARE_NICE)
        weakref.finalize(result, discard_spares, spares)
    try:
        apart = _incremental_search(result, quick, work, cache_dir, made)
    except BaseException:
        result.staged_page.tail.stop()
        raise
    result.timings["search and echoes"] = time.perf_counter() - started
    quick.index.echo_lines = result.counts.get("triples", 0) - quick.index.base_total
    quick.index.echoes_apart = apart
    # the next add's index, pickled in a thread while write_outputs mostly waits for its children (joined
    # before the cache it goes into is moved into the generation: BuildResult.cache_ready)
    from ipgraph.search.update import in_thread

    result.cache_writes.append(in_thread(write_index, quick.index, quick.ntriples, records_cache.folder))
    if owned:
        weakref.finalize(result, shutil.rmtree, str(work), True)
    return result


def _incremental_search(result: BuildResult, quick: Any, work: Path, cache_dir: Any, made: Any) -> bool:
    """The search stage of an incremental build: the previous index patched, the graph written with the
    echoes' change (result.ntriples, result.counts) and the store's change (result.delta; not exact when
    the echoes' lines and the documents' meet: the store then diffs the two files itself). Returns whether
    they stay apart (else the next build is a full one)."""
    import weakref

    from ipgraph.search.stage import merge_echoes, patch_echoes, search_stage, split_echoes
    from ipgraph.search.update import update_stage
    from ipgraph.stream.delta import _echo_lines, echo_line_change

    # the tokens: the previous index's for the documents kept, the workers' for those added (nothing segmented here)
    previous = Path(cache_dir).parent / SEARCH_NAME
    documents = [d.iri for d in quick.index.docs]
    delta = quick.delta
    doc_change = [*delta.removed_lines, *delta.added_lines]
    old_echoes: list[str] | None = None  # the previous graph's echo lines: read only when a fallback needs them
    # the previous index patched by the change (the documents it touches counted again), else all counted
    result.search = update_stage(result, work / SEARCH_NAME, previous, documents, doc_change,
                                 [quick.made, made], len(quick.made), graph=quick.graph)
    if result.search is None:  # counted whole: from the graph without echoes, written for it
        old_echoes = split_echoes(quick.graph, quick.ntriples)
        result.search = search_stage(result, work / SEARCH_NAME, previous, made=[quick.made, made],
                                     fresh=len(quick.made), merge=False, documents=documents)
    # the echoes' change: spelled from the echoes that changed, else every echo compared
    stage = result.search
    if stage is not None and stage.echo_change is not None:
        gone, came = echo_line_change(stage.echo_change)
    else:
        if old_echoes is None:
            old_echoes = split_echoes(quick.graph, None)
        old, new = set(old_echoes), set(_echo_lines(result) or ())
        gone, came = old - new, new - old
    own = set(doc_change)
    apart = not (own & gone or own & came)
    delta.removed_lines = sorted(set(delta.removed_lines) | gone)  # the store's change: the graph's and the echoes'
    delta.added_lines = sorted(set(delta.added_lines) | came)
    if apart and result.jobs > 1:  # the store and the Turtle made from that change while the rest is written
        result.early_outputs = EarlyOutputs.start(Path(delta.base), quick.published, delta.removed_lines,
                                                  delta.added_lines, result.timings)
        if result.early_outputs is not None:
            weakref.finalize(result, result.early_outputs.cancel)
    # the graph: the previous build's file patched by that change (its presence checked line by line)
    written = patch_echoes(result, quick.published, delta.removed_lines, delta.added_lines,
                           quick.index.echo_lines - len(gone) + len(came))
    if not written:  # not the file the index describes: the graph without echoes, and every echo merged in
        if result.early_outputs is not None:
            result.early_outputs.cancel()
            result.early_outputs = None
        split_echoes(quick.graph, quick.ntriples)
        lines = stage.echo_lines() if stage is not None else []
        merge_echoes(result, lines, work)
        delta.exact = False  # its lines were computed against that file: the store diffs the two itself
        return result.counts.get("triples", 0) == quick.index.base_total + len(lines)
    delta.exact = apart
    return apart


@dataclass
class StagedStore:
    """The store of a full build loading in a child process while the search stage runs (ipgraph.store.staged_store):
    its graph without the echoes, a second name of the merged file the stage then replaces."""

    tail: Any  # ipgraph.stream.tail.Tail running the child
    word: Path  # the file the child waits for (written by finish)
    work: Path

    # the search stage's peak per byte of the merged graph, measured: ~700 MB for 412 MB (1,000 plans),
    # 4.6 GB for 3.3 GB (10,000 plans)
    SEARCH_PEAK_PER_BYTE = 1.7

    @classmethod
    def fits(cls, merged: Path) -> bool:
        """Whether the bulk load beside the search stage stays within the tail's memory budget: the two
        peaks would add up (at 10,000 plans they would pass 7 GB), so a bigger graph's store waits for
        the stage, as the tail's other stages do (ipgraph.stream.tail.MEMORY_BUDGET)."""
        from ipgraph.store import BULK_LOAD_PEAK
        from ipgraph.stream.tail import MEMORY_BUDGET

        try:
            size = merged.stat().st_size
        except OSError:
            return False
        return size * cls.SEARCH_PEAK_PER_BYTE + BULK_LOAD_PEAK <= MEMORY_BUDGET

    @classmethod
    def start(cls, merged: Path, work: Path, timings: dict[str, float]) -> StagedStore:
        from ipgraph.store import BULK_LOAD_PEAK, staged_store
        from ipgraph.stream.tail import Tail

        base = work / "store-base.nt"
        try:
            os.link(merged, base)
        except OSError:
            shutil.copyfile(merged, base)
        tail = Tail(True, timings)
        word = work / "store-word.json"
        tail.run("store", staged_store, base, work, word, peak=BULK_LOAD_PEAK)
        return cls(tail=tail, word=word, work=work)

    def finish(self, lines: list[str], nt: Path, build_dir: Path) -> None:
        """Tell the child to add `lines` (the echoes) and move the store into build_dir; nt: the build's ipgraph.nt."""
        from ipgraph.stream.merge import _write_lines

        extra = self.work / "store-lines.nt"
        _write_lines(extra, lines)
        self._say({"lines": str(extra), "nt": str(nt), "build_dir": str(build_dir)})

    def _say(self, word: dict[str, Any]) -> None:
        tmp = self.word.with_name(f".{self.word.name}.tmp")
        tmp.write_text(json.dumps(word), encoding="utf-8")
        os.replace(tmp, self.word)  # whole when the child sees it


EARLY_PAGE_NICE = 10  # StagedPage.early's child
SPARE_NICE = 10  # an add's store and Turtle children, started during its search stage (tail.prestart)


@dataclass
class StagedPage:
    """The page of an incremental build drawn while its search stage runs (ipgraph.view.page_parts in a
    Tail child, with -j 1 in this process before the stage): from the graph before the echoes, which the
    page does not draw (TripleIndex.for_build_page and read_view skip them), and the previous build's
    fold patched by the documents' change. write_outputs joins the parts with the search data."""

    tail: Any  # ipgraph.stream.tail.Tail running the child
    parts: Path  # the pickled PageParts the child writes
    fold: Path  # the folder the child keeps the page's fold in (view.save_fold), moved into the build
    told: Path | None = None  # started early: the file that hands the child its call (StagedPage.early)
    previous: Path | None = None  # started early: the generation whose fold it read

    @staticmethod
    def fits(drawn: int | None, previous: Path) -> bool:
        """Whether the page may be drawn beside the search stage: a page drawn whole (a small graph) or
        one patched from the fold the previous build kept (an aggregated page) takes little memory; a
        bounded page (above view.BOUNDED_NODES: no fold kept) folds the whole graph, gigabytes at 10,000
        plans, so it is drawn before the stage, not beside it (their peaks would add up)."""
        from ipgraph.view import DEFAULT_NODE_BUDGET, FOLD_STATE

        return drawn is None or drawn <= DEFAULT_NODE_BUDGET or (previous / FOLD_STATE).is_file()

    @classmethod
    def start(cls, nt: Any, drawn: int | None, previous: Path | None, changes: list[str] | None,
              quality: Any, work: Path, beside: bool, timings: dict[str, float]) -> StagedPage:
        """Draw the page of `nt` (a graph file, or the merge.PatchedFile of one not written yet; the fold of
        the generation `previous`, patched by `changes`, the lines between its ipgraph.nt and `nt`; None:
        folded whole): in a child process when `beside`, else here."""
        from ipgraph.stream.tail import Tail
        from ipgraph.view import write_page_parts

        folder = work / "page"
        folder.mkdir(parents=True, exist_ok=True)
        staged = cls(tail=Tail(beside, timings), parts=folder / "parts.pickle", fold=folder)
        staged.tail.run("page", write_page_parts, nt if isinstance(nt, PatchedFile) else str(nt), drawn,
                        str(previous) if previous else None, str(previous / NTRIPLES_NAME) if previous else None,
                        changes, quality, str(folder), str(staged.parts), None, beside, fork=True)
        return staged

    @classmethod
    def early(cls, previous: Path, work: Path) -> StagedPage | None:
        """The page's child started before the documents' change is known (an `add` with -j > 1): it imports
        and reads the fold `previous` kept while the documents are read, then waits to be told (tell).
        None when `previous` kept no fold (a small page, or a bounded one: StagedPage.start draws it)."""
        from ipgraph.stream.tail import Tail
        from ipgraph.view import FOLD_STATE, write_page_parts_when_told

        if not (previous / FOLD_STATE).is_file():
            return None
        folder = work / "page"
        folder.mkdir(parents=True, exist_ok=True)
        staged = cls(tail=Tail(True, {}), parts=folder / "parts.pickle", fold=folder, told=folder / "told.pickle",
                     previous=previous)
        # niced: the page is joined last, and until then the documents' worker and the search stage need the cores;
        # forked: ipgraph.view is this process's already (write_outputs writes the page with it)
        staged.tail.run("page", write_page_parts_when_told, str(previous), str(previous / NTRIPLES_NAME),
                        str(folder), str(staged.told), str(staged.parts), nice=EARLY_PAGE_NICE, fork=True)
        return staged

    def tell(self, nt: Any, drawn: int | None, changes: list[str] | None, quality: Any,
             timings: dict[str, float]) -> None:
        """Hand the early child its call (StagedPage.start's arguments for the generation it read)."""
        from ipgraph.atomic import atomic_write_bytes

        assert self.told is not None
        self.tail.timings = timings
        atomic_write_bytes(self.told, pickle.dumps((nt, drawn, changes, quality), protocol=pickle.HIGHEST_PROTOCOL))

    def cancel(self) -> None:
        """Stop an early child that is not needed (the build is made in full)."""
        self.tail.stop()

    def finish(self) -> Any:
        """The child's PageParts (OSError when it failed: write_outputs then draws the page itself). An early
        child is not waited for: it keeps its fold after writing the parts (keep_fold waits for that)."""
        if self.told is None:
            self.tail.wait()
        else:
            while not self.parts.exists() and self.tail.running():
                time.sleep(0.005)
            if not self.parts.exists():
                self.tail.wait()  # it ended without parts: its failure
                raise OSError(f"the page's process wrote no page: {self.parts}")
        with open(self.parts, "rb") as handle:  # written by this build's own child, in its scratch folder
            return pickle.load(handle)

    def keep_fold(self, out: Path) -> None:
        """Move the fold the child kept into the generation `out` (after the child has ended)."""
        from ipgraph.view import FOLD_STATE

        self.tail.wait()
        if (self.fold / FOLD_STATE).is_file():
            os.replace(self.fold / FOLD_STATE, out / FOLD_STATE)


EARLY_PREFIX = ".early-"  # an add's staging folder in OUT/.ipgraph: .early-PID-HEX (removed once its build is gone)


@dataclass
class EarlyOutputs:
    """An add's store and Turtle made beside the rest of its work (ipgraph.stream.early), from the generation
    `base` and the whole change, in `folder` (OUT/.ipgraph/.early-PID-HEX: on the generations' file system,
    so that they are moved in by a rename). write_outputs takes them when it writes over `base` with that
    change; otherwise, or when the child failed, it cancels them and writes both the usual way."""

    tail: Any  # ipgraph.stream.tail.Tail running the child
    folder: Path
    base: Path
    change: tuple[list[str], list[str]]  # the lists (removed, added) handed to the child

    @classmethod
    def start(cls, base: Path, published: Path, removed: list[str], added: list[str],
              timings: dict[str, float]) -> EarlyOutputs | None:
        """Start the child (a spare if one waits). None when no staging folder can be made beside `base`."""
        from ipgraph.stream.early import store_and_turtle
        from ipgraph.stream.tail import Tail

        folder = base.parent / f"{EARLY_PREFIX}{os.getpid()}-{os.urandom(4).hex()}"
        try:
            folder.mkdir()
        except OSError:
            return None
        early = cls(tail=Tail(True, timings), folder=folder, base=base, change=(removed, added))
        patched = PatchedFile(str(published), tuple(removed), tuple(added))
        early.tail.run("store and turtle", store_and_turtle, str(base), patched, str(folder), TURTLE_PREFIXES,
                       spare=True, nice=SPARE_NICE)
        return early

    def matches(self, base: Path | None, changes: tuple[list[str], list[str]] | None) -> bool:
        """Whether these are the outputs of writing over `base` with `changes` (the very lists handed over)."""
        return (base is not None and changes is not None and base.resolve() == self.base
                and changes[0] is self.change[0] and changes[1] is self.change[1])

    def take(self, out: Path, nt: Path) -> bool:
        """Move the store and the Turtle into the generation `out` (whose graph's file is `nt`) once the child
        is done; False, with nothing moved, when it failed."""
        from ipgraph.store import stamp_store
        from ipgraph.stream.turtle import map_path

        try:
            self.tail.wait()
        except OSError:
            return False
        moves = [(self.folder / STORE_NAME, out / STORE_NAME), (self.folder / TURTLE_NAME, out / TURTLE_NAME),
                 (map_path(self.folder / TURTLE_NAME), map_path(out / TURTLE_NAME))]
        if not all(source.exists() for source, _target in moves):
            return False
        for source, target in moves:
            os.replace(source, target)
        stamp_store(out / STORE_NAME, nt)
        return True

    def cancel(self) -> None:
        """Stop the child and remove what it wrote."""
        self.tail.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _named_key(key: str | None, name: str) -> str | None:
    """A cache key of the content and the file name: a record names its file (a copy under another name
    must not come back under the first one's name)."""
    import hashlib

    # the name's bytes as the OS gave them: a name that is not UTF-8 (GBK bytes) holds surrogate escapes
    return None if key is None else hashlib.sha256(key.encode() + b"\0" + os.fsencode(name)).hexdigest()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class _Pool:
    """`jobs` workers; file i goes to worker i % jobs, handed over `jobs` files ahead of the reader,
    so every worker is busy while this process merges the results in document order."""

    def __init__(self, timeout: float, jobs: int) -> None:
        self.workers = [_Worker(timeout) for _ in range(jobs)]
        self.waited = 0.0  # seconds this process waited for a worker's answer (the rest is its own work)

    def prime(self, order: list[Path], max_bytes: int) -> None:
        for worker in self.workers[:len(order)]:  # all forked first: they load jieba side by side
            worker.spawn()
        for i, path in enumerate(order[:len(self.workers)]):
            self.workers[i].start(path, max_bytes)

    def result(self, i: int, path: Path, max_bytes: int) -> tuple:
        started = time.perf_counter()
        try:
            return self.workers[i % len(self.workers)].result(path, max_bytes)
        finally:
            self.waited += time.perf_counter() - started

    def next(self, i: int, order: list[Path], max_bytes: int) -> None:
        ahead = i + len(self.workers)
        if ahead < len(order):
            self.workers[i % len(self.workers)].start(order[ahead], max_bytes)

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()


class _Worker:
    """A child process that reads and extracts files for build_graph, one file at a time.

    Forked from the build (so it starts in milliseconds with every module already imported) and
    reused for every file; the next file is handed over as soon as one is answered, so the worker
    reads and extracts it while the build adds the previous one to the graph. A file that
    overruns its budget (counted from the moment it is handed over) gets the worker killed
    (SIGKILL) and the next file a fresh one. Errors travel back as (class, path, cause, line): an
    InputError does not survive pickling as it is.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        # path → the file the worker writes its cache entry into (RecordCache.spill_paths), set by build_graph
        self.spill: Callable[[Path], Path | None] | None = None
        self.process: Any = None
        self.conn: Any = None
        self.pending: tuple[Path, float] | None = None  # the file handed over, and its deadline
        self.ready = False  # the worker said it has loaded what every file needs (jieba's dictionary)

    def spawn(self) -> None:
        if self.process is None:
            self._spawn()

    def _await_ready(self) -> None:
        """Wait for the worker's one-time load (_serve), which no file's time budget should pay for."""
        while not self.ready:
            try:
                if self.conn.poll(1.0):
                    self.conn.recv()
                    self.ready = True
                elif not self.process.is_alive():
                    self.ready = True  # died while loading: result() names the file and the cause
            except (EOFError, OSError):
                self.ready = True

    def _spawn(self) -> None:
        import multiprocessing

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, os.getpid()), daemon=True,
                                       name="ipgraph-build-worker")
        self.process.start()
        child.close()

    def start(self, path: Path, max_bytes: int) -> None:
        """Hand `path` over; its time budget starts now."""
        if self.process is None:
            self._spawn()
        self._await_ready()
        self.pending = (path, time.monotonic() + self.timeout)
        try:
            self.conn.send((path, max_bytes, self.spill(path) if self.spill else None))
        except OSError:
            pass  # the worker died: result() says so

    def result(self, path: Path, max_bytes: int) -> tuple[SourceDocument, DocumentRecord | None,
                                                          DocumentTriples | None, InputError | None, tuple | None]:
        """(source, record, its triples, extraction error, dedupe fingerprint) of `path`; raises the
        InputError that skips it."""
        if self.pending is None or self.pending[0] != path:
            self.start(path, max_bytes)
        assert self.pending is not None
        deadline = self.pending[1]
        self.pending = None
        try:
            ready = self.conn.poll(max(0.0, deadline - time.monotonic()))
            reply = self.conn.recv() if ready else None
        except (EOFError, OSError):
            self.process.join(1)
            code = self.process.exitcode
            self.stop()
            cause = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
            raise InputError(path, f"the worker reading it died ({cause}); skipped") from None
        if reply is None:
            self.stop()
            raise InputError(path, f"took longer than {self.timeout:g} s to read and extract "
                                   f"(--file-timeout); stopped and skipped")
        source, record, triples, error, prepared = reply
        failure = error[0](*error[1:]) if error else None
        if source is None:
            assert failure is not None
            raise failure
        return source, record, triples, failure, prepared

    def stop(self) -> None:
        if self.process is None:
            return
        self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.process = self.conn = self.pending = None
        self.ready = False


# What the worker may allocate for one file on top of what it was forked with: a 10 MB document
# needs a few hundred MB; a runaway parser is stopped by the OS (RLIMIT_AS) instead of the machine.
MEMORY_HEADROOM = 2 * 1024 ** 3


def memory_cap(max_bytes: int) -> int:
    """The worker's memory allowance per file (bytes of address space) under a --max-size limit."""
    return MEMORY_HEADROOM + 64 * max_bytes


def _limit_memory(base: int | None, max_bytes: int) -> None:
    """Cap the worker's address space at what it was forked with plus memory_cap (Linux, not Windows)."""
    import resource

    if base is None:
        return
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    soft = base + memory_cap(max_bytes)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _address_space() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _serve(conn: Any, parent: int | None = None) -> None:
    """The worker's loop: read and extract each file it is given until the build closes the pipe.

    Replies (source, record, triples, error, dedupe fingerprint): a file that cannot be read comes back without a source; one
    whose extraction fails with its source, so that the build still names it as a duplicate first.
    """
    import errno
    import signal

    from ipgraph.dedupe import fingerprint
    from ipgraph.stream.cache import write_entry
    from ipgraph.stream.triples import document_triples

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the build, which stops the worker
    if parent:
        # a forked worker holds both ends of its pipe, so it would never see EOF: a build killed with
        # SIGKILL must take its worker along (it would otherwise hold the build's stdout open forever)
        from ipgraph.sandbox import die_with_parent

        die_with_parent(parent)
    try:
        from ipgraph.search.tokenise import warm

        warm()  # jieba's dictionary, once per worker, before the first file's time budget starts
    except Exception:  # noqa: BLE001 - a failed load is named per file, when its measures are segmented
        pass
    conn.send("ready")
    base = _address_space()  # measured after the load: the per-file allowance comes on top of it
    parent = os.getppid()
    while True:
        try:
            # a killed build cannot close the pipe while its other workers (forked later) hold copies
            # of this end: a worker also stops when its parent is gone
            while not conn.poll(1.0):
                if os.getppid() != parent:
                    return
            path, max_bytes, spill = conn.recv()
        except (EOFError, OSError):
            return
        source = None
        out_of_memory = (InputError, path, f"ran out of memory: it needed more than {format_size(memory_cap(max_bytes))} "
                                           f"(the allowance for --max-size {format_size(max_bytes)}); skipped", None)
        try:
            _limit_memory(base, max_bytes)
            source = read_document(path, max_bytes=max_bytes)
            record = _extract_verbatim(path, source)
            # the duplicate check's fingerprint too: hashing the text is per-document work, done here in parallel
            reply: tuple = (source, record, _triples(path, record, document_triples), None, fingerprint(source.text))
            if spill is not None:  # its cache entry, pickled here in parallel; the build adopts it once it is kept
                write_entry(spill, (source, record, reply[2], reply[4]))
        except InputError as exc:
            reply = (source, None, None, (type(exc), exc.path, exc.cause, exc.line), None)
        except MemoryError:
            reply = (source, None, None, out_of_memory, None)
        except OSError as exc:
            reply = (source, None, None, out_of_memory if exc.errno == errno.ENOMEM else (
                InputError, path, f"cannot read: {exc.strerror or exc}", None), None)
        except Exception as exc:  # noqa: BLE001 - one file's bug must not stop the build
            reply = (source, None, None, (InputError, path, f"internal error while reading ({type(exc).__name__}: "
                                                      f"{exc}); this is an ipgraph bug, please report it", None), None)
        conn.send(reply)


def _triples(path: Path, record: DocumentRecord, make: Callable[[DocumentRecord], DocumentTriples]) -> DocumentTriples:
    try:
        triples = make(record)
    except (InputError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - as in _extract_verbatim
        raise InputError(path, f"internal error while making its triples ({type(exc).__name__}: {exc}); "
                               f"this is an ipgraph bug, please report it with the file") from exc
    return _with_tokens(path, triples)


def document_result(path: Path, source: SourceDocument, record: DocumentRecord | None,
                    triples: DocumentTriples | None, failure: InputError | None
                    ) -> tuple[DocumentRecord, DocumentTriples]:
    """A document's record and triples, with current search tokens, once the build has accepted it (not a
    duplicate, no name clash): from what a worker or the cache gave (`record`, `triples`) or made
    here; `failure` (the worker's InputError) is raised. The full build and the incremental one
    (ipgraph.stream.delta) both take a document through here, so they make the same triples."""
    from ipgraph.stream.triples import document_triples

    if failure:
        raise failure
    if record is None:
        record = _extract_verbatim(path, source)
    if triples is None:
        return record, _triples(path, record, document_triples)  # made here: segmented with them
    return record, _with_tokens(path, triples)  # a worker's, or a cache entry of older data files: segmented again


def _with_tokens(path: Path, triples: DocumentTriples) -> DocumentTriples:
    """The document's measures segmented for the search index, where its triples are made (a build
    worker: jieba is loaded once per worker, when it starts), unless they already are with
    today's data files and tokeniser (ipgraph.search.segment)."""
    from ipgraph.search.segment import current, document_tokens

    if current(triples.search):
        return triples
    try:
        triples.search = document_tokens(triples)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - as in _extract_verbatim
        raise InputError(path, f"internal error while segmenting its measures for search ({type(exc).__name__}: "
                               f"{exc}); this is an ipgraph bug, please report it with the file") from exc
    return triples


def _extract_verbatim(path: Path, source: SourceDocument) -> DocumentRecord:
    """extract_document, matching traditional characters in their simplified form.

    The extractors see the matching form (same length, so offsets hold); the record keeps the
    verbatim source and its evidence spans quote it. An unexpected exception is a bug in
    ipgraph: it skips this file with a message instead of stopping the other documents.
    """
    import dataclasses

    try:
        matched = matching_form(source.text)
        if matched == source.text:
            return extract_document(source)
        record = extract_document(dataclasses.replace(source, text=matched))
        record.parsed.source = source
        return restore_verbatim(record, source.text, matched)
    except (InputError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - see the docstring
        raise InputError(path, f"internal error while extracting ({type(exc).__name__}: {exc}); "
                               f"this is an ipgraph bug, please report it with the file") from exc


def sorted_ntriples(graph: Graph) -> str:
    """N-Triples, one line per triple, sorted: byte-identical for the same graph."""
    data = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    lines = sorted(line for line in data.split("\n") if line.strip())  # "\n" only: a literal may hold U+2028
    return "\n".join(lines) + "\n"


# the prefixes of the build's Turtle (and of serialize_turtle): data IRIs as agency:天津市知识产权局 …
TURTLE_PREFIXES = {
    "ipg": "https://w3id.org/ipgraph/ontology#",
    "id": DATA,
    **KIND_PREFIXES,  # one per kind of node: agency:天津市知识产权局 (ipgraph.iri)
    "dcterms": "http://purl.org/dc/terms/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def serialize_turtle(graph: Graph) -> bytes:
    """Deterministic, lossless Turtle: pyoxigraph's serializer (the one ipgraph.ttl is written with)
    over the sorted N-Triples. Not rdflib's longturtle: it writes the decimal "8" as 8.0, another term."""
    import pyoxigraph

    triples = pyoxigraph.parse(sorted_ntriples(graph).encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    return pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.TURTLE, prefixes=TURTLE_PREFIXES) or b""


PUBLIC_NAMES = (TURTLE_NAME, NTRIPLES_NAME, STORE_NAME, SUMMARY_NAME, GRAPH_PAGE_NAME, REPORT_NAME, SEARCH_NAME)
BUILD_MARKER_NAME = "ipgraph-build.json"  # in OUT/.ipgraph: the folder is ipgraph's
INPUTS_NAME = "inputs.json"  # in a generation: the paths the build was made from


CACHE_NAME = "cache"  # in a generation: the record cache (ipgraph.stream.cache)


def previous_inputs(out_dir: Path | str) -> list[Path] | None:
    """The paths the build published in out_dir was made from, or None (no ipgraph build there)."""
    meta = Path(out_dir) / ".ipgraph"
    if not (meta / BUILD_MARKER_NAME).is_file():
        return None
    try:
        data = json.loads((meta / "current" / INPUTS_NAME).read_text(encoding="utf-8"))
        return [Path(p) for p in data["paths"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def cache_folder(out_dir: Path | str) -> Path | None:
    """out_dir's record cache when out_dir holds an ipgraph build (never one of a foreign folder)."""
    meta = Path(out_dir) / ".ipgraph"
    return meta / "current" / CACHE_NAME if (meta / BUILD_MARKER_NAME).is_file() else None
_GENERATION = re.compile(r"^gen-(\d+)-[0-9a-f]+$")


def write_outputs(result: BuildResult, out_dir: Path | str) -> dict[str, Path]:
    """Write the build folder out_dir so that a reader sees the previous build or the new one, never a mix.

    Every output of a build is written into a new generation folder, out_dir/.ipgraph/gen-PID-HEX
    (marked by a file inside it), and then published by one atomic rename of the link
    out_dir/.ipgraph/current; out_dir/ipgraph.ttl, ipgraph.nt, store, summary.json and graph.html
    are links through it, so a process killed at any point (even SIGKILL) leaves the previous
    build or the new one whole. The previous generation is removed afterwards; the next build
    removes what killed ones left (only marked generation folders, never an input of the build).

    Other files in out_dir are left alone. An entry that has one of the output names but is not
    ipgraph's (no .ipgraph marker) is never replaced: the build is refused with OutputError, before
    anything is written.

    Returns:
        name → path of each file written (inside out_dir).
    """
    from ipgraph.store import BUILD_META_DIR, GENERATION_MARKER

    target = Path(out_dir)
    final = target.resolve()  # a symlinked build folder: the folder it points to is written, the link kept
    if final.exists() and not final.is_dir():
        raise OutputError(f"{target}: exists and is not a folder")
    if final.parent == final:
        raise OutputError(f"{target}: cannot write a build into the root folder")
    foreign = _foreign_entry(final)
    if foreign:
        raise OutputError(foreign)
    created = not final.exists()
    meta = final / BUILD_META_DIR
    final.mkdir(parents=True, exist_ok=True)
    meta.mkdir(exist_ok=True)
    if not (meta / BUILD_MARKER_NAME).is_file():
        atomic_write_text(meta / BUILD_MARKER_NAME, json.dumps({"written_by": "ipgraph build"}) + "\n")
    protect = [p.resolve() for p in result.inputs]
    _clean_leftovers(final, protect)
    generation = meta / f"gen-{os.getpid()}-{os.urandom(4).hex()}"
    generation.mkdir()
    (generation / GENERATION_MARKER).write_text(json.dumps({"pid": os.getpid()}) + "\n", encoding="utf-8")
    published = _current(meta)
    previous = meta / published if published else None  # the build being replaced: its store is reused
    from ipgraph.stream.gcpolicy import fewer_collections

    try:
        with fewer_collections():
            written = _write_files(result, generation, previous)
        _keep_build_state(result, generation)
        _fsync_dir(generation)
        _kill_point("staged")
        _publish(meta, generation.name)
        _kill_point("swapped")
        _link_outputs(final)
    except BaseException:
        if _current(meta) != generation.name:
            shutil.rmtree(generation, ignore_errors=True)
            if created:
                shutil.rmtree(final, ignore_errors=True)
        raise
    _clean_leftovers(final, protect)
    return {key: target / path.relative_to(generation) if path.is_relative_to(generation) else path
            for key, path in written.items()}


def _keep_build_state(result: BuildResult, generation: Path) -> None:
    """What the next build and `ipgraph add` start from, inside the generation (published with it):
    the paths given (inputs.json) and the record cache this build used (cache/)."""
    atomic_write_text(generation / INPUTS_NAME,
                      json.dumps({"paths": [str(p) for p in result.given]}, ensure_ascii=False) + "\n")
    result.cache_ready()
    if result.cache is not None and result.cache.is_dir():
        try:
            shutil.move(str(result.cache), str(generation / CACHE_NAME))  # a rename on the same file system
        except OSError:
            shutil.rmtree(generation / CACHE_NAME, ignore_errors=True)  # the cache is an optimisation only


def _kill_point(name: str) -> None:
    """Test hook: IPGRAPH_TEST_KILL_AT=<name> kills the build here with SIGKILL (tests/test_build_safety.py)."""
    if os.environ.get("IPGRAPH_TEST_KILL_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _current(meta: Path) -> str | None:
    from ipgraph.store import CURRENT_LINK

    try:
        return os.readlink(meta / CURRENT_LINK)
    except OSError:
        return None


def _publish(meta: Path, name: str) -> None:
    """Point meta/current at generation `name` in one rename (a reader sees the old link or the new one)."""
    from ipgraph.store import CURRENT_LINK

    tmp = meta / f".{CURRENT_LINK}-{os.getpid()}-{os.urandom(4).hex()}"
    os.symlink(name, tmp)
    try:
        os.replace(tmp, meta / CURRENT_LINK)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(meta)


def _link_target(name: str) -> str:
    from ipgraph.store import BUILD_META_DIR, CURRENT_LINK

    return f"{BUILD_META_DIR}/{CURRENT_LINK}/{name}"


def _is_our_link(path: Path, name: str) -> bool:
    try:
        return os.readlink(path) == _link_target(name)
    except OSError:
        return False


def _foreign_entry(final: Path) -> str | None:
    """Why out_dir cannot be written (an output name taken by something not ipgraph's), or None.

    Ours: the links a build makes, and everything in a folder whose .ipgraph holds the marker; a
    folder written by an earlier ipgraph (plain files, and store/ipgraph-store.json beside an
    ipgraph summary.json) is recognised too and converted.
    """
    from ipgraph.store import BUILD_META_DIR, STORE_META_NAME

    if not final.is_dir():
        return None
    meta = final / BUILD_META_DIR
    if os.path.lexists(meta) and not (meta.is_dir() and not meta.is_symlink() and (meta / BUILD_MARKER_NAME).is_file()):
        return f"{meta}: exists and is not ipgraph's (no {BUILD_MARKER_NAME} in it); refusing to write the build here"
    if _is_legacy_build(final, STORE_META_NAME):
        return None
    for name in PUBLIC_NAMES:
        path = final / name
        if os.path.lexists(path) and not _is_our_link(path, name):
            return (f"{path}: exists and was not written by ipgraph build; refusing to replace it "
                    f"(move it away or choose another --out)")
    return None


def _is_legacy_build(final: Path, store_meta: str) -> bool:
    """A build folder of ipgraph before generations: store/ipgraph-store.json and its summary.json."""
    store, summary = final / STORE_NAME, final / SUMMARY_NAME
    if store.is_symlink() or summary.is_symlink() or not (store / store_meta).is_file():
        return False
    try:
        data = json.loads(summary.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and {"summary", "documents", "skipped"} <= set(data)


def _link_outputs(final: Path) -> None:
    """Make each output name of final a link through .ipgraph/current (once; an earlier ipgraph's
    plain files and store/ are replaced by their links here)."""
    from ipgraph.store import BUILD_META_DIR

    for name in PUBLIC_NAMES:
        path = final / name
        if _is_our_link(path, name):
            continue
        tmp = final / BUILD_META_DIR / f".link-{name}-{os.getpid()}-{os.urandom(4).hex()}"
        os.symlink(_link_target(name), tmp)
        aside = None
        if path.is_dir() and not path.is_symlink():  # an earlier ipgraph's store/: rename(2) cannot replace it
            aside = final / BUILD_META_DIR / f".old-{name}-{os.getpid()}-{os.urandom(4).hex()}"
            os.rename(path, aside)
        os.replace(tmp, path)
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
    _fsync_dir(final)


def _clean_leftovers(final: Path, protect: Iterable[Path] = ()) -> None:
    """Remove the generations that are not current: those of finished or killed builds.

    Only folders in final/.ipgraph named gen-PID-HEX that hold the generation marker are removed,
    never one of a live build (its PID) and never one that is or holds an input of the running
    build (`protect`, resolved paths).
    """
    from ipgraph.store import BUILD_META_DIR, GENERATION_MARKER

    meta = final / BUILD_META_DIR
    if not (meta / BUILD_MARKER_NAME).is_file():
        return
    current = _current(meta)
    protected = list(protect)
    for entry in sorted(meta.iterdir()):
        m = _GENERATION.match(entry.name)
        pid = int(m.group(1)) if m else None
        if m and entry.name != current and not entry.is_symlink() and (entry / GENERATION_MARKER).is_file():
            if (pid == os.getpid() or not _alive(pid)) and not _overlaps(entry.resolve(), protected):  # type: ignore[arg-type]
                shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith((".current-", ".link-", ".old-", EARLY_PREFIX)) and entry.is_symlink() | entry.is_dir():
            dead = re.search(r"-(\d+)-[0-9a-f]+$", entry.name)
            if dead and not _alive(int(dead.group(1))) and not _overlaps(entry.resolve(), protected):
                if entry.is_symlink():
                    entry.unlink()
                else:
                    shutil.rmtree(entry, ignore_errors=True)


def _overlaps(path: Path, protect: list[Path]) -> bool:
    """Whether removing `path` would remove an input: it is one or holds one. (A folder given as input
    is read without its subfolders, so a generation deep inside it is not part of the input.)"""
    return any(p == path or p.is_relative_to(path) for p in protect)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_files(result: BuildResult, out_dir: Path | str, previous: Path | None = None) -> dict[str, Path]:
    """Write the sorted N-Triples, the store, Turtle, a summary, the quality report and the page into
    out_dir (write_outputs passes its new generation folder), all from result.ntriples: no rdflib Graph
    unless the caller already made one (result.graph). `previous`: the generation being replaced, whose
    store the new one is made from when little changed (ipgraph.store.update_store)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    timings = result.timings
    nt = out / NTRIPLES_NAME
    if result.ntriples is None:
        raise OutputError("the build has no graph to write")
    _place_file(result.ntriples, nt)
    written["ntriples"] = nt
    if result.search is not None:  # the index made by build_graph, published with the rest
        written["search"] = _place_tree(result.search.folder, out / SEARCH_NAME)
    # the store that `ipgraph query` and `serve` open
    from ipgraph.store import BULK_LOAD_PEAK, update_store, write_store
    from ipgraph.stream.tail import Tail
    from ipgraph.stream.turtle import update_turtle, write_turtle

    # the store and Turtle need only the merged file: with -j > 1 they run in child processes while
    # this one writes the summary, the report and the page
    tail = Tail(result.jobs > 1, timings)
    turtle = out / TURTLE_NAME
    delta = result.delta  # an incremental build knows its change: no diff of the two files
    changes = ((delta.removed_lines, delta.added_lines) if previous is not None and delta is not None
               and delta.exact and Path(delta.base) == previous.resolve() else None)
    staged, result.staged = result.staged, None
    staged_page, result.staged_page = result.staged_page, None
    early, result.early_outputs = result.early_outputs, None
    if early is not None and not early.matches(previous, changes):
        early.cancel()  # made over another generation, or with another change
        early = None

    def store_and_turtle() -> None:
        if staged is not None:  # loaded beside the search stage: the echoes added, the store moved in
            tail.adopt(staged.tail)
            staged.finish(result.search.echo_lines() if result.search is not None else [], nt, out)
        elif previous is not None and (previous / STORE_NAME).is_dir():
            tail.run("store", update_store, previous, nt, out, changes, peak=BULK_LOAD_PEAK, spare=changes is not None)
        else:
            tail.run("store", write_store, nt, out, peak=BULK_LOAD_PEAK)
        # the serialiser streams; it waits for the store when both would pass the budget
        if changes is not None and previous is not None:  # only the slices of the Turtle the change falls into
            tail.run("turtle", update_turtle, previous / TURTLE_NAME, nt, turtle, TURTLE_PREFIXES,
                     changes[0] + changes[1], peak=64 * 2**20, spare=True)
        else:
            tail.run("turtle", write_turtle, nt, turtle, TURTLE_PREFIXES, peak=64 * 2**20)

    try:
        if early is None:
            store_and_turtle()
        started = time.perf_counter()
        summary = out / SUMMARY_NAME
        atomic_write_text(summary, json.dumps({
            "summary": result.summary(),
            "documents": list(result.names),
            "skipped": [describe_error(e) for e in result.skipped],
        }, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
        from ipgraph.report import page_lines, report_json  # where the build is thin

        reports = result.quality()
        atomic_write_text(out / REPORT_NAME, report_json(reports))
        timings["summary and report"] = time.perf_counter() - started
        # imported here: only the page needs it
        from ipgraph.view import FOLD_STATE, TripleIndex, drawn_count, render_page, write_page

        started = time.perf_counter()
        page = out / GRAPH_PAGE_NAME
        search_data = result.search.page_data if result.search is not None else None
        parts = None
        if staged_page is not None:  # drawn beside the search stage: joined with the search data here
            try:
                parts = staged_page.finish()
            except (OSError, EOFError, pickle.UnpicklingError):
                parts = None  # drawn here instead (a failure that is not the child's own comes back from it)
        if parts is not None:
            write_page(parts, page, search_data)
            assert staged_page is not None  # the parts are its child's
            try:
                staged_page.keep_fold(out)
            except OSError:  # no fold kept: the next add folds the whole graph once
                (out / FOLD_STATE).unlink(missing_ok=True)
        else:
            # the page's triples straight from the merged file (pyoxigraph's parser), not back through the
            # store; an aggregated page folds the measures into counts as it reads them and is kept in the
            # generation, so that the next `add` patches it with the change (view.patch_fold)
            graph: Any = (result._graph if result._graph is not None
                          else TripleIndex.for_build_page(
                              nt, drawn_count(result.counts) if result.counts else None, keep=out,
                              previous=previous if changes is not None else None,
                              changes=changes[0] + changes[1] if changes is not None else None))
            # written atomically, like the files above; the search data: the page's measure search and echoes
            render_page(graph, page, quality=page_lines(reports), search_data=search_data)
            del graph
        timings["page" if parts is None else "page, joined"] = time.perf_counter() - started
        if early is not None and not early.take(out, nt):  # its child failed: both written here after all
            early.cancel()
            early = None
            store_and_turtle()
        tail.wait()
    finally:
        tail.stop()
        if staged_page is not None:
            staged_page.tail.stop()
        if early is not None:
            early.cancel()
    written["store"] = out / STORE_NAME
    written["turtle"] = turtle
    written["summary"] = summary
    written["report"] = out / REPORT_NAME
    written["page"] = page
    return written


def _place_file(source: Path, target: Path) -> None:
    """Put the merged N-Triples at target: a second name for it on the same file system, else a copy."""
    try:
        os.link(source, target)
        return
    except OSError:
        pass
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def _place_tree(source: Path, target: Path) -> Path:
    """A copy of the folder `source` at target, by hard links where the file system allows."""
    try:
        shutil.copytree(source, target, copy_function=os.link)
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)
    return target
