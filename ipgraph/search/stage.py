"""The build's search stage: the index and the echoes made from the merged N-Triples, no rdflib Graph.

pipeline.build_graph calls `search_stage(result, WORK/search, previous)` once, after the merge of the
runs (so BuildResult.ntriples holds the echoes, and the store, Turtle, SHACL and the page see them):

1. one streaming pass over result.ntriples (pyoxigraph's parser) gathers each measure's SearchDoc
   and the names of the user dictionary: what ipgraph.search.records reads with SPARQL, without a
   store (the IRIs are read back, never minted here, so they are spelled as the writer spelled them);
2. the index is written into WORK/search (write_outputs publishes it as OUT/search, like store/)
   from the tokens the extraction workers made (each document's measures segmented beside its
   triples, kept in its record-cache entry: ipgraph.search.segment), so nothing is segmented here
   and `ipgraph add` and a rebuild segment new or changed documents only;
3. the echoes (ipgraph.search.echoes.echo_links_since: from the previous build's echo state, only the
   pairs of the documents that changed; all pairs without one) become N-Triples lines in the
   stream writer's spelling, one more sorted run merged into result.ntriples (counts updated).

The page data (ipgraph.search.page) comes back for render_page: the inlined index of a corpus-sized
graph (the endpoint /search above MAX_MEASURES) and each measure's echoes.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ipgraph.search.echoes import ECHO_LINES, Echo, EchoChange, echo_lines, links_and_change, read_echoes
from ipgraph.search.index import (
    IndexWriter,
    SearchIndex,
    _read_cache,
    load_index,
    publish_index,
    staging_folder,
)
from ipgraph.search.page import MAX_MEASURES
from ipgraph.search.records import SearchDoc, _level
from ipgraph.search.tokenise import base_fingerprint

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
_TITLE = "http://purl.org/dc/terms/title"


@dataclass
class SearchStage:
    """What the stage made: the index's statistics (the index itself is in `folder`, loaded on first
    use of .index), the echoes, the page's data and the time of each step."""

    stats: dict[str, Any]
    # the echoes; None: read from the index's echo state when asked for (update_stage's fork made them)
    _echoes: list[Echo] | None
    # the page's data (page_data), or the concurrent.futures.Future of it (made in a thread: update_stage)
    _page_data: Any
    folder: Path  # where the index was written
    seconds: dict[str, float] = field(default_factory=dict)
    _index: SearchIndex | None = None
    echo_change: EchoChange | None = None  # against the previous build's echoes, when they were updated
    _lines: list[str] | None = None

    @property
    def echoes(self) -> list[Echo]:
        """Every echo, sorted by its measures' IRIs."""
        if self._echoes is None:
            self._echoes = read_echoes(self.folder)
        return self._echoes

    @property
    def page_data(self) -> dict[str, Any]:
        """What the graph page's search box and measure panel read (page_data), waited for if still being made."""
        if isinstance(self._page_data, Future):
            self._page_data = self._page_data.result()
        return self._page_data

    @page_data.setter
    def page_data(self, value: dict[str, Any]) -> None:
        self._page_data = value

    def echo_lines(self) -> list[str]:
        """The echoes' N-Triples lines, sorted: spelled once (the graph's merge, the build index)."""
        if self._lines is None:
            self._lines = sorted(set(echo_lines(self.echoes)))
        return self._lines

    @property
    def index(self) -> SearchIndex:
        """The index written (read from `folder`: the stage keeps no SearchDoc)."""
        if self._index is None:
            self._index = load_index(self.folder)
            self._index.stats = self.stats
        return self._index


def _ipg(name: str) -> str:
    from ipgraph.vocab import IPG

    return str(IPG[name])


def docs_from_ntriples(path: Path | str) -> tuple[list[SearchDoc], list[str]]:
    """Every measure of the N-Triples file as a SearchDoc (the order and fields of records.read_docs),
    and every agency, programme and directive name (records.read_names), in one streaming pass."""
    import pyoxigraph

    spool = read_measures(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.N_TRIPLES))
    return [d for docs in spool.documents() for d in docs], spool.names


def docs_from_lines(lines: Iterable[str]) -> tuple[list[SearchDoc], list[str]]:
    """docs_from_ntriples of N-Triples lines (one document's own, in a build worker)."""
    import pyoxigraph

    data = "\n".join(sorted(lines)).encode("utf-8") + b"\n"  # sorted: "first value" as in the sorted file
    spool = read_measures(pyoxigraph.parse(data, format=pyoxigraph.RdfFormat.N_TRIPLES))
    return [d for docs in spool.documents() for d in docs], spool.names


@dataclass
class MeasureSpool:
    """The measures of a graph read in one pass (read_measures): each measure's own values pickled
    into a spool file as its subject ends, in memory only its sort key and where its record is, and
    the small tables the measures are joined with (documents, sections, agencies, targets' indicators)."""

    spool: Any  # a binary file (a temporary file, or memory for one document's lines)
    keys: list[tuple[str, int, str, int, int]]  # (doc IRI, order, IRI, offset, length), sorted: index order
    labels: dict[str, str]  # subject → its first rdfs:label (not of measures, sections, targets)
    alts: dict[str, list[str]]  # subject → skos:altLabel (an agency's aliases)
    fields: dict[str, dict[str, str]]  # document or section → sourceFile, docNumber, level, sectionTitle
    indicators: dict[str, list[str]]  # target → its indicators
    names: list[str]  # every agency, programme and directive name and alias, sorted
    # what ipgraph.search.update keeps to patch the index: per document, the nodes outside it its
    # measures read (agencies; sections and targets outside the document's IRI too); per named node, its names
    refs: dict[str, set[str]] = field(default_factory=dict)
    named: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.keys)

    def documents(self) -> Iterator[list[SearchDoc]]:
        """Each document's measures as SearchDocs, in index order (document IRI, order, IRI), one
        document at a time: a SearchDoc lives only while its document is indexed."""
        import pickle

        docs: list[SearchDoc] = []
        for doc, order, iri, at, size in self.keys:
            if docs and docs[-1].doc_iri != doc:
                yield docs
                docs = []
            if doc not in self.labels:
                continue  # what records._MEASURES requires of a measure: its document's label
            self.spool.seek(at)
            f, lead, assigned, targets = pickle.loads(self.spool.read(size))
            d = self.fields.get(doc, {})
            section = f.get("section")
            labels, alts = self.labels, self.alts
            docs.append(SearchDoc(
                iri=iri, doc_iri=doc, document=labels[doc], source_file=d.get("sourceFile", ""),
                doc_number=d.get("docNumber", ""), level=_level(d.get("level")), number=f["number"],
                order=order, text=f["text"], title=f.get("title", ""),
                section_title=self.fields.get(section, {}).get("sectionTitle", "") if section else "",
                lead=sorted({labels[a] for a in lead if a in labels}),
                agencies=sorted({n for a in assigned for n in ({labels[a]} if a in labels else set()) | set(alts.get(a, ()))}),
                targets=sorted({i for t in targets for i in self.indicators.get(t, ())}),
            ))
        if docs:
            yield docs


def read_measures(quads: Iterable[Any], spool: Any = None) -> MeasureSpool:
    """Read a graph's measures for the index from parsed N-Triples sorted by subject (as every file the
    build writes; docs_from_lines sorts): a subject's triples come together, so each measure's values
    are complete when its subject ends and are spooled then. `spool`: the binary file to spool into
    (default: memory)."""
    import io
    import pickle

    spool = spool if spool is not None else io.BytesIO()
    measure_cls, named_cls = _ipg("Measure"), {_ipg("Agency"), _ipg("Programme"), _ipg("Directive")}
    unlabelled = {_ipg("Section"), _ipg("Target")}  # nodes as many as the measures whose labels nothing reads
    single = {_ipg(n): n for n in ("partOf", "number", "order", "text", "title", "section")}
    kept = {_ipg(n): n for n in ("sourceFile", "docNumber", "level", "sectionTitle")}
    lead_p, resp_p, target_p, indicator_p = (_ipg("leadAgency"), _ipg("responsibleAgency"), _ipg("hasTarget"),
                                             _ipg("indicator"))
    keys: list[tuple[str, int, str, int, int]] = []
    labels: dict[str, str] = {}
    alts: dict[str, list[str]] = {}
    fields: dict[str, dict[str, str]] = {}
    indicators: dict[str, list[str]] = {}
    names: set[str] = set()
    refs: dict[str, set[str]] = {}
    named: dict[str, list[str]] = {}
    documents: dict[str, str] = {}  # one string per document IRI, shared by its measures' keys

    def take(s: str, block: list[tuple[str, str]]) -> None:
        types = {o for p, o in block if p == _RDF_TYPE}
        if measure_cls in types:
            f: dict[str, str] = {}
            lead: set[str] = set()
            assigned: set[str] = set()
            targets: set[str] = set()
            for p, o in block:
                if p in single:
                    f.setdefault(single[p], o)  # the smallest value: the block is sorted
                elif p == lead_p:
                    lead.add(o)
                    assigned.add(o)
                elif p == resp_p:
                    assigned.add(o)
                elif p == target_p:
                    targets.add(o)
            if not {"partOf", "number", "order", "text"} <= f.keys():
                return  # what records._MEASURES requires of a measure
            record = pickle.dumps((f, sorted(lead), sorted(assigned), sorted(targets)), pickle.HIGHEST_PROTOCOL)
            at = spool.tell()
            spool.write(record)
            doc = documents.setdefault(f["partOf"], f["partOf"])
            inside = doc + "/"
            outside = {n for n in (*assigned, *targets, f.get("section", "")) if n and not n.startswith(inside)}
            if not s.startswith(inside):
                outside.add(s)  # a measure outside its document's IRI: update.py patches no index of it
            refs.setdefault(doc, set()).update(outside)
            keys.append((doc, int(f["order"]), s, at, len(record)))
            return
        label = next((o for p, o in block if p == _LABEL), None)
        if label is not None and not types & unlabelled:
            labels.setdefault(s, label)
        own = sorted({o for p, o in block if p == _ALT})
        if own:
            alts[s] = sorted({*alts.get(s, ()), *own})
        for p, o in block:
            if p in kept:
                fields.setdefault(s, {}).setdefault(kept[p], o)
            elif p == indicator_p:
                indicators.setdefault(s, []).append(o)
        if types & named_cls:  # its first label and every alias (records.read_names)
            own_names = {o for p, o in block if p in (_ALT, _PREF, _TITLE) and o} | ({label} if label else set())
            names.update(own_names)
            named[s] = sorted(own_names)

    subject: str | None = None
    block: list[tuple[str, str]] = []
    for quad in quads:
        s = quad.subject.value
        if s != subject:
            if subject is not None:
                take(subject, block)
            subject, block = s, []
        block.append((quad.predicate.value, quad.object.value))
    if subject is not None:
        take(subject, block)
    keys.sort(key=lambda k: (k[0], k[1], k[2]))
    return MeasureSpool(spool=spool, keys=keys, labels=labels, alts=alts, fields=fields, indicators=indicators,
                        names=sorted(names), refs=refs, named=named)


def page_data(index: SearchIndex, echoes: list[Echo], iris: list[str] | None = None,
              labels: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """What the graph page's search box and measure panel read (ipgraph/templates/graph.js):

    "index": page_index of every measure, or None above MAX_MEASURES (the page asks "endpoint");
    "measures": IRI → [document label, number] — above MAX_MEASURES only of the measures in echoes
    (the page labels an echo's other end with it; a hit from /search brings its own label);
    "echoes": IRI → [[other IRI, score] …], best first. `iris` and `labels` (per row, its document
    label and number): the index's rows when it holds no SearchDocs (IndexWriter(stream=…))."""
    from ipgraph.search.page import _postings

    if iris is None:
        iris = [d.iri for d in index.docs]
        labels = [(d.document, d.number) for d in index.docs]
    assert labels is not None
    by_measure: dict[str, list[tuple[float, str]]] = defaultdict(list)  # (-score, other): sorted best first
    for e in echoes:
        by_measure[e.a].append((-e.score, e.b))
        by_measure[e.b].append((-e.score, e.a))
    inline = None
    if len(iris) <= MAX_MEASURES:  # page_index of every row
        rows = {n: n for n in range(len(iris))}
        inline = {"measures": list(iris), "postings": _postings(index, rows)}
    return {
        "index": inline,
        "endpoint": "/search",
        "measures": {iri: [doc, number] for iri, (doc, number) in zip(iris, labels, strict=True)
                     if inline is not None or iri in by_measure},
        "echoes": {m: [[o, -s] for s, o in sorted(lst)] for m, lst in sorted(by_measure.items())},
    }


class _Tokens:
    """The tokens made for the measures, looked up per document: layers of Made dicts or token spools
    (segment.TokenSpool), the first that knows a measure wins."""

    def __init__(self, *layers: Any) -> None:
        self.layers = [layer for layer in layers if layer is not None]

    def document(self, doc_iri: str) -> dict[str, tuple[str, str, list[str]]]:
        out: dict[str, tuple[str, str, list[str]]] = {}
        for layer in reversed(self.layers):
            out.update(layer.document(doc_iri) if hasattr(layer, "document") else layer)
        return out


def search_stage(result: Any, folder: Path | str, previous: Path | str | None = None,
                 made: Any = None, fresh: int = 0, merge: bool = True,
                 documents: list[str] | None = None) -> SearchStage:
    """Index result.ntriples (a BuildResult's) into `folder` and merge its echoes into result.ntriples
    (result.counts updated). `made`: the measures' tokens the build's workers made (a Made dict,
    segment.TokenSpool, or a list of those, the first that knows a measure winning; `fresh` of them
    for this build): only BM25 is built here. Without `made`, `previous` (the last build's search
    folder) lends the tokens of the texts it has seen and the rest are segmented here. `merge` False:
    the echoes are not merged (the caller patches them in: patch_echoes). `documents` (every document of
    the build): the counts are kept beside the index for the next build (ipgraph.search.update).

    Memory: the measures are read in one pass into a spool file (read_measures) and indexed one
    document at a time (IndexWriter(stream=…): the SearchDocs and their words written out as they
    come), so what stays per measure is its IRI, document and label, its token key and its entries
    in the flat BM25 and echo arrays."""
    import pyoxigraph

    folder = Path(folder)
    lender = Path(previous) if previous is not None else folder
    work = Path(result.work_dir) if getattr(result, "work_dir", None) is not None else folder.parent
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryFile(dir=work, prefix="measures-") as handle:
        spool = read_measures(pyoxigraph.parse(path=str(result.ntriples), format=pyoxigraph.RdfFormat.N_TRIPLES),
                              handle)
        read = time.perf_counter()
        stage = staging_folder(folder)
        try:
            if made is not None:  # a text the workers did not segment (none, in a build) gets the base dictionary alone
                tokens = _Tokens(*(made if isinstance(made, list) else [made]))
                writer = IndexWriter("jieba", spool.names, {}, doc_words={}, fresh=fresh, stream=stage)
                for docs in spool.documents():
                    writer.add(docs, tokens.document(docs[0].doc_iri))
            else:
                cache = _read_cache(lender, "jieba", base_fingerprint()) if lender.is_dir() else {}
                writer = IndexWriter("jieba", spool.names, cache, fresh=fresh, stream=stage)
                for docs in spool.documents():
                    writer.add(docs)
                cache = {}
            refs, named = spool.refs, spool.named
            del spool
            index = writer.finish()
            held = list(writer.field.counts())  # the words' counts: the echo rows, made once and let go
            iris, doc_iris, labels, signatures = writer.iris, writer.doc_iris, writer.labels, writer.signatures
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
    publish_index(index, stage, folder)
    if documents is not None and made is not None:  # what the next build's update_stage patches
        from ipgraph.search.update import save_state, state_of

        save_state(state_of(writer, refs, named, documents, index.docs_at), folder)
    del writer, refs, named  # its Postings: the BM25 fields are built
    indexed = time.perf_counter()

    def matrix() -> Any:
        from ipgraph.search.echoes import echo_matrix_of, echo_rows_of, save_echo_rows

        rows, cols, counts, vocab = held
        held.clear()
        weighted = echo_rows_of(rows, cols, counts, vocab, len(iris))
        if documents is not None and made is not None:  # what the next build's update_stage splices
            save_echo_rows(weighted, folder)
        return echo_matrix_of(weighted.matrix, iris, doc_iris)

    # only the pairs of the documents that changed since the previous build's echo state (all without one)
    echoes, index.stats["echoes"], change = links_and_change(matrix, doc_iris, signatures, previous, folder)
    found = time.perf_counter()
    made_stage = SearchStage(stats=index.stats, _echoes=echoes, _page_data={}, folder=folder, echo_change=change)
    if merge:
        merge_echoes(result, made_stage.echo_lines(), work)
    done = time.perf_counter()
    seconds = {"read": read - started, "index": indexed - read, "echoes": found - indexed, "merge": done - found}
    made_stage.page_data = page_data(index, echoes, iris, labels)
    index.stats["update"] = {"mode": "full"}
    made_stage.seconds = {k: round(v, 3) for k, v in seconds.items()}
    return made_stage


def merge_echoes(result: Any, lines: list[str], work: Path) -> None:
    """Merge the echoes' lines (sorted, unique) into result.ntriples as one more sorted run (result.counts updated)."""
    from ipgraph.stream.merge import merge_lines_into

    if not lines:
        return
    merged = work / "ipgraph-echoes.nt"
    # the echoes sort together (one IRI prefix): inserted as one run of bytes, the rest copied in blocks
    total, classes = merge_lines_into(Path(result.ntriples), lines, merged)
    os.replace(merged, result.ntriples)  # the graph's file, now with the echoes, under its name
    result.counts = {**classes, "triples": total}


PATCH_SWITCH_INTERVAL = 1e-4  # seconds: sys.setswitchinterval while patch_echoes copies


def patch_echoes(result: Any, published: Path, removed: list[str], added: list[str], echo_lines: int) -> bool:
    """Write result.ntriples (an incremental build's graph, not written yet; result.counts: its counts
    without the echoes) as `published` (the previous build's graph with its echoes) patched by the lines
    `removed` and `added` (the whole change between the two, the echoes' included; merge.patch_sorted
    copies the stretches no line falls into as bytes), `echo_lines` of it the echoes'. Counts are
    updated arithmetically (each echo has one typed line, of ipg:Echo). False, with nothing written,
    when `published` does not hold every removed line and none of the added ones: not the file the
    change was computed against."""
    from collections import Counter

    from ipgraph.stream.merge import patch_sorted, remember_counts

    adds = set(added)
    queries = sorted(set(removed) | adds)
    out = Path(f"{result.ntriples}.patched")
    # a thread may be running Python beside it (the page's search data, update.in_thread): each of the
    # patch's kernel copies gives the GIL up, and taking it back waits out the other thread's switch
    # interval (5 ms), which made the patch of 1,000 plans 0.45 s alone and 3.8 s beside a busy thread
    # (0.7 s with 0.1 ms)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, PATCH_SWITCH_INTERVAL))
    try:
        present = patch_sorted(published, out, queries, lambda line, _found: line in adds)
    finally:
        sys.setswitchinterval(interval)
    if any(found == (line in adds) for line, found in zip(queries, present, strict=True)):
        out.unlink(missing_ok=True)
        return False
    os.replace(out, result.ntriples)
    counts: Counter[str] = Counter({k: v for k, v in result.counts.items() if k != "triples"})
    if echo_lines:
        counts[_ipg("Echo")] += echo_lines // ECHO_LINES
    total = result.counts.get("triples", 0) + echo_lines
    remember_counts(result.ntriples, total, counts)
    result.counts = {**counts, "triples": total}
    return True


def is_echo_line(line: bytes) -> bool:
    """Whether an N-Triples line is one the search stage adds (echo_lines): a measure's ipg:echoes, or
    a line of an ipg:Echo node (its IRI under DATA/echo/)."""
    node, predicate = _echo_marks()
    return line.startswith(node) or predicate in line


@lru_cache(maxsize=1)
def _echo_marks() -> tuple[bytes, bytes]:
    from ipgraph.vocab import DATA

    return f"<{DATA}echo/".encode(), f" <{_ipg('echoes')}> ".encode()


def split_echoes(source: Path | Any, out: Path | None) -> list[str]:
    """One pass over a sorted graph file (or merge.PatchedFile): its echo lines, sorted (is_echo_line),
    and, with `out`, the other lines written there (what an incremental build falls back to when the
    change it computed cannot be used as it is)."""
    from ipgraph.stream.merge import PatchedFile, _read_block, _write_all

    echoes: list[str] = []
    with ExitStack() as stack:
        if isinstance(source, PatchedFile):
            reader: Any = stack.enter_context(source.opened()).reader()
        else:
            reader = stack.enter_context(open(source, "rb"))
        fd = None
        if out is not None:
            tmp = Path(f"{out}.tmp-{os.getpid()}")
            stack.callback(tmp.unlink, missing_ok=True)
            fd = stack.enter_context(open(tmp, "wb", buffering=0)).fileno()
        while block := _read_block(reader):
            if not block.endswith(b"\n"):
                block += b"\n"
            kept = []
            for line in block.split(b"\n")[:-1]:
                if is_echo_line(line):
                    echoes.append(line.decode("utf-8"))
                else:
                    kept.append(line)
            if fd is not None and kept:
                _write_all(fd, b"\n".join(kept) + b"\n")
        if out is not None:
            os.replace(tmp, out)
    return echoes
