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
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipgraph.search.echoes import Echo, echo_lines, echo_links_since
from ipgraph.search.index import SearchIndex, _read_cache, index_docs, save_index
from ipgraph.search.page import MAX_MEASURES, page_index
from ipgraph.search.records import SearchDoc, _level
from ipgraph.search.tokenise import base_fingerprint

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
_TITLE = "http://purl.org/dc/terms/title"


@dataclass
class SearchStage:
    """What the stage made: the index, the echoes, the page's data and the time of each step."""

    index: SearchIndex
    echoes: list[Echo]
    page_data: dict[str, Any]
    folder: Path  # where the index was written
    seconds: dict[str, float] = field(default_factory=dict)


def _ipg(name: str) -> str:
    from ipgraph.vocab import IPG

    return str(IPG[name])


def docs_from_ntriples(path: Path | str) -> tuple[list[SearchDoc], list[str]]:
    """Every measure of the N-Triples file as a SearchDoc (the order and fields of records.read_docs),
    and every agency, programme and directive name (records.read_names), in one streaming pass."""
    import pyoxigraph

    return _docs_from_quads(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.N_TRIPLES))


def docs_from_lines(lines: Iterable[str]) -> tuple[list[SearchDoc], list[str]]:
    """docs_from_ntriples of N-Triples lines (one document's own, in a build worker)."""
    import pyoxigraph

    data = "\n".join(sorted(lines)).encode("utf-8") + b"\n"  # sorted: "first value" as in the sorted file
    return _docs_from_quads(pyoxigraph.parse(data, format=pyoxigraph.RdfFormat.N_TRIPLES))


def _docs_from_quads(quads: Iterable[Any]) -> tuple[list[SearchDoc], list[str]]:
    measure_cls, named_cls = _ipg("Measure"), {_ipg("Agency"), _ipg("Programme"), _ipg("Directive")}
    single = {_ipg(n): n for n in ("partOf", "number", "order", "text", "title", "section", "sectionTitle",
                                   "sourceFile", "docNumber", "level")}
    lead_p, resp_p, target_p, indicator_p = (_ipg("leadAgency"), _ipg("responsibleAgency"), _ipg("hasTarget"),
                                             _ipg("indicator"))
    measures: set[str] = set()
    named: set[str] = set()
    first: dict[str, dict[str, str]] = defaultdict(dict)  # subject → field → the smallest value (sorted file)
    labels: dict[str, str] = {}
    aliases: dict[str, set[str]] = defaultdict(set)  # subject → skos:altLabel, prefLabel and dcterms:title
    alts: dict[str, set[str]] = defaultdict(set)  # subject → skos:altLabel only (an agency's aliases)
    links: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    indicators: dict[str, set[str]] = defaultdict(set)
    for quad in quads:
        s, p, o = quad.subject.value, quad.predicate.value, quad.object.value
        if p == _RDF_TYPE:
            if o == measure_cls:
                measures.add(s)
            elif o in named_cls:
                named.add(s)
        elif p == _LABEL:
            labels.setdefault(s, o)
        elif p in (_ALT, _PREF, _TITLE):
            aliases[s].add(o)
            if p == _ALT:
                alts[s].add(o)
        elif p in single:
            first[s].setdefault(single[p], o)
        elif p in (lead_p, resp_p):
            links[s][p].add(o)
        elif p == target_p:
            links[s][p].add(o)
        elif p == indicator_p:
            indicators[s].add(o)
    docs = []
    for m in measures:
        f = first.get(m, {})
        if not {"partOf", "number", "order", "text"} <= f.keys():
            continue  # what records._MEASURES requires of a measure
        doc = f["partOf"]
        d = first.get(doc, {})
        if doc not in labels:
            continue
        section = f.get("section")
        lead = links[m][lead_p]
        assigned = lead | links[m][resp_p]
        docs.append(SearchDoc(
            iri=m, doc_iri=doc, document=labels[doc], source_file=d.get("sourceFile", ""),
            doc_number=d.get("docNumber", ""), level=_level(d.get("level")), number=f["number"],
            order=int(f["order"]), text=f["text"], title=f.get("title", ""),
            section_title=first.get(section, {}).get("sectionTitle", "") if section else "",
            lead=sorted({labels[a] for a in lead if a in labels}),
            agencies=sorted({n for a in assigned for n in ({labels[a]} if a in labels else set()) | alts.get(a, set())}),
            targets=sorted({i for t in links[m][target_p] for i in indicators.get(t, ())}),
        ))
    docs.sort(key=lambda d: (d.doc_iri, d.order, d.iri))
    names = sorted({n for x in named for n in ({labels[x]} if x in labels else set()) | aliases.get(x, set()) if n})
    return docs, names


def page_data(index: SearchIndex, echoes: list[Echo]) -> dict[str, Any]:
    """What the graph page's search box and measure panel read (ipgraph/templates/graph.js):

    "index": page_index of every measure, or None above MAX_MEASURES (the page asks "endpoint");
    "measures": IRI → [document label, number]; "echoes": IRI → [[other IRI, score] …], best first."""
    by_measure: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for e in echoes:
        by_measure[e.a].append((e.b, e.score))
        by_measure[e.b].append((e.a, e.score))
    return {
        "index": page_index(index) if len(index.docs) <= MAX_MEASURES else None,
        "endpoint": "/search",
        "measures": {d.iri: [d.document, d.number] for d in index.docs},
        "echoes": {m: [[o, s] for o, s in sorted(lst, key=lambda x: (-x[1], x[0]))]
                   for m, lst in sorted(by_measure.items())},
    }


def search_stage(result: Any, folder: Path | str, previous: Path | str | None = None,
                 made: dict[str, tuple[str, str, list[str]]] | None = None, fresh: int = 0) -> SearchStage:
    """Index result.ntriples (a BuildResult's) into `folder` and merge its echoes into result.ntriples
    (a new sorted file in result.work_dir; result.counts updated). `made`: the measures' tokens the
    build's workers made (segment.DocumentTokens.made; `fresh` of them for this build): only BM25 is
    built here. Without `made`, `previous` (the last build's search folder) lends the tokens of the
    texts it has seen and the rest are segmented here."""
    from ipgraph.stream.merge import _write_lines, merge_runs

    folder = Path(folder)
    lender = Path(previous) if previous is not None else folder
    started = time.perf_counter()
    docs, names = docs_from_ntriples(result.ntriples)
    read = time.perf_counter()
    if made is not None:  # a text the workers did not segment (none, in a build) gets the base dictionary alone
        index = index_docs(docs, "jieba", names, {}, doc_words={}, made=made, fresh=fresh)
    else:
        cache = _read_cache(lender, "jieba", base_fingerprint()) if lender.is_dir() else {}
        index = index_docs(docs, "jieba", names, cache)
    save_index(index, folder)
    indexed = time.perf_counter()
    # only the pairs of the documents that changed since the previous build's echo state (all without one)
    echoes, index.stats["echoes"] = echo_links_since(index, previous, folder)
    found = time.perf_counter()
    lines = sorted(set(echo_lines(echoes)))
    if lines:
        work = Path(result.work_dir) if result.work_dir is not None else folder.parent
        run = work / "echoes.nt"
        _write_lines(run, lines)
        merged = work / "ipgraph-echoes.nt"
        total, classes = merge_runs([Path(result.ntriples), run], merged, work)
        run.unlink()
        os.replace(merged, result.ntriples)  # the graph's file, now with the echoes, under its name
        result.counts = {**classes, "triples": total}
    done = time.perf_counter()
    seconds = {"read": read - started, "index": indexed - read, "echoes": found - indexed, "merge": done - found}
    return SearchStage(index=index, echoes=echoes, page_data=page_data(index, echoes), folder=folder,
                       seconds={k: round(v, 3) for k, v in seconds.items()})
