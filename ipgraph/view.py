"""The interactive graph page: a vis-network HTML page for the whole graph or a part of it.

    from ipgraph.view import render_page
    info = render_page(result.graph, "build/graph.html")                      # the whole graph
    render_page(graph, "tj.html", focus="天津市知识产权局", depth=2)             # one agency's neighbourhood

Pure steps on plain dataclasses, then the page:

1. `read_view(graph)` reads the RDF graph through the contract vocabulary (classes, relations, and the
   evidence sentences carried by rdf:Statement nodes) into a `ViewGraph`;
2. `select_view(view, focus=…, document=…, types=…, depth=…)` keeps a part of it;
3. `aggregate_view(view, node_budget)` collapses measures, sections and targets into counts when the
   part is too big to draw (agencies ↔ documents ↔ programmes ↔ directives remain);
4. `layout(view)` places the nodes in pure Python (no physics in the browser, which freezes
   vis-network long before 2,000 nodes) and `spread_labels` moves them until no two labels overlap;
   `overview_view` / `overview_layout` make the whole graph's first view (documents and agencies,
   agencies sized by the measures they lead; measures counted on the edges);
5. `page_html(view)` writes one self-contained HTML file with Jinja (no pyvis, which pulls IPython
   into every install): vis-network is inlined (the page works opened from disk with no network),
   pyvis's global `network`, `nodes` and `edges` objects are kept, and all text reaches the DOM
   through `textContent` only (the graph data sits in `<script type="application/json">` with `<`,
   `>`, `&` escaped), so a document cannot inject markup or script.

`run_view_bench` (`ipgraph bench view`) and `take_screenshot` drive the system's headless Chromium
through Playwright (the `test` extra); the page itself needs neither.
"""
from __future__ import annotations

import json
import math
import os
import re
import statistics
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from importlib.resources import files
from operator import attrgetter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS
from rdflib.term import Node

from ipgraph.atomic import atomic_write, atomic_write_bytes, atomic_write_text
from ipgraph.errors import IpgraphError
from ipgraph.stream.merge import PatchedFile, opened_lines, parse_ntriples
from ipgraph.stream.tail import in_fork
from ipgraph.vocab import IPG

DEFAULT_NODE_BUDGET = 6000
"""Above this many nodes a page shows the aggregated view (measured: a 5,000-node page is usable in Chromium
within a few seconds with positions computed here; see `ipgraph bench view`)."""

BOUNDED_NODES = 100_000
# the bounded page draws at most this many edges per node (its best-counted), and lists only the drawn
# documents of a node: at 10,000 documents agencies' lists and agency → document edges were 85 of 94 MB
BOUNDED_EDGES_PER_NODE = 60
"""Above this many drawn nodes (measures, sections and targets included) the build's page is bounded
(`bounded_view`): one streaming pass folds the measures into counts as it reads them, instead of an index
of every measure's relations (~1.5 GB at 10,000 documents); the page carries the best-connected documents,
agencies, programmes and directives up to the node budget. At or below it the page is made as before."""

DETAILED_LIMIT = 1500
"""Pages with more nodes draw plain edges (no dashes, labels or arrows), to stay quick to draw."""
TEMPLATE_NAME = "graph.html.j2"
VIS_JS = "vis-network.min.js"


class ViewError(IpgraphError):
    """A page cannot be made as asked (unknown focus name or document, unknown class)."""


# ---------------------------------------------------------------- styles: one colour and shape per class

@dataclass(frozen=True)
class ClassStyle:
    """How one class of node is drawn and named on the page."""

    key: str
    rdf_class: URIRef
    zh: str
    en: str
    color: str
    shape: str
    size: int
    label_chars: int  # longer names are shortened on the canvas; the full name is on hover and in the panel
    font_size: int  # labels under ~5 px on screen are not drawn: big fonts stay readable when zoomed out


CLASS_STYLES: dict[str, ClassStyle] = {s.key: s for s in (
    ClassStyle("document", IPG.PolicyDocument, "文件", "document", "#4e79a7", "box", 30, 12, 32),
    ClassStyle("section", IPG.Section, "章节", "section", "#76b7b2", "square", 10, 10, 12),
    ClassStyle("measure", IPG.Measure, "措施", "measure", "#59a14f", "dot", 9, 10, 12),
    ClassStyle("agency", IPG.Agency, "机构", "agency", "#e15759", "hexagon", 18, 12, 16),
    ClassStyle("programme", IPG.Programme, "项目", "programme", "#f28e2b", "star", 16, 10, 14),
    ClassStyle("directive", IPG.Directive, "政策文书", "directive", "#b07aa1", "triangle", 15, 12, 14),
    ClassStyle("target", IPG.Target, "目标", "target", "#c9a800", "triangleDown", 9, 10, 12),
)}
CLASS_ORDER = {key: i for i, key in enumerate(CLASS_STYLES)}


@dataclass(frozen=True)
class RelationStyle:
    """How one relation is drawn: colour, dashes and width make lead and responsible distinct at a glance.

    Edges point the way the page reads (agency → measure for 牵头 and 负责, although the RDF triple is
    measure ipg:leadAgency agency); `out_zh`/`in_zh` head the lists in the side panel.
    """

    key: str
    zh: str
    en: str
    color: str
    width: float
    dashes: bool | tuple[int, ...]
    labelled: bool
    out_zh: str
    out_en: str
    in_zh: str
    in_en: str


RELATION_STYLES: dict[str, RelationStyle] = {s.key: s for s in (
    RelationStyle("lead", "牵头", "leads", "#d62728", 3.0, False, True,
                  "牵头的措施", "leads", "牵头单位", "lead agency"),
    RelationStyle("responsible", "负责", "responsible", "#8c8c8c", 1.2, (6, 4), True,
                  "参与的措施", "responsible for", "责任单位", "responsible agencies"),
    RelationStyle("mentions", "提及", "mentions", "#f28e2b", 1.2, (2, 4), True,
                  "提及的项目", "mentions", "提及它的措施", "mentioned in"),
    RelationStyle("cites", "引用", "cites", "#b07aa1", 2.0, False, True,
                  "引用的文书", "cites", "引用它的文件", "cited by"),
    RelationStyle("drafts", "要求制定", "drafts", "#b07aa1", 2.0, (8, 4), True,
                  "要求制定", "orders drafting of", "要求制定它的文件", "drafting ordered by"),
    RelationStyle("issuedBy", "发布", "issued", "#4e79a7", 2.0, False, True,
                  "发布的文件", "issued", "发布机关", "issued by"),
    RelationStyle("partOf", "属于", "part of", "#c8c8c8", 1.0, False, False,
                  "属于", "part of", "包含", "contains"),
    RelationStyle("hasTarget", "目标", "target", "#c9a800", 1.2, False, False,
                  "设定的目标", "targets", "所属", "set by"),
    RelationStyle("reorganisedAs", "改组为", "reorganised as", "#e15759", 1.0, (2, 2), True,
                  "改组为", "reorganised as", "由其改组", "reorganised from"),
)}


# ---------------------------------------------------------------- plain data

@dataclass(frozen=True)
class ViewNode:
    """One node of the page. `documents` are the ids of the documents it belongs to or appears in."""

    id: str
    cls: str
    label: str
    aliases: tuple[str, ...] = ()
    info: tuple[tuple[str, str], ...] = ()  # (field name, text) pairs shown in the side panel
    documents: tuple[str, ...] = ()
    count: int = 0  # aggregated view: measures collapsed into this node
    warnings: tuple[tuple[str, str], ...] = ()  # a document's quality report: (severity, text) pairs
    # the bounded page: documents of `documents` and edges left off the page (the panel says "+N more")
    more_documents: int = 0
    more_edges: int = 0


@dataclass(frozen=True)
class ViewEdge:
    """One edge, oriented as drawn (see RelationStyle), with the sentences it was extracted from."""

    source: str
    target: str
    relation: str
    evidence: tuple[str, ...] = ()
    count: int = 0  # aggregated view: how many measure-level edges this edge stands for


@dataclass
class ViewGraph:
    """A graph ready to draw: nodes in a stable order (class, then id) and sorted edges."""

    nodes: dict[str, ViewNode]
    edges: list[ViewEdge]
    aggregated: bool = False
    selected_nodes: int = 0  # size of the selection before aggregation
    note: str = ""
    root: str | None = None  # the focus node, drawn at the centre

    def __post_init__(self) -> None:
        if not self.selected_nodes:
            self.selected_nodes = len(self.nodes)


@dataclass(frozen=True)
class PageInfo:
    """What `render_page` wrote."""

    path: Path
    nodes: int
    edges: int
    selected_nodes: int
    aggregated: bool
    bytes: int
    seconds: float


# ---------------------------------------------------------------- 1. read the RDF graph

# the predicates read_view reads (tests/test_build_page.py checks the page equals one read through rdflib)
_VIEW_PREDICATES = frozenset(str(p) for p in (
    RDF.type, RDF.subject, RDF.predicate, RDF.object, RDFS.label, SKOS.prefLabel, SKOS.altLabel,
    DCTERMS.title, DCTERMS.isPartOf, IPG.evidence, IPG.leadAgency, IPG.responsibleAgency, IPG.mentions,
    IPG.cites, IPG.drafts, IPG.issuedBy, IPG.hasTarget, IPG.reorganisedAs, IPG.partOf, IPG.section, IPG.order,
    IPG.citedAs, IPG.noticeTitle, IPG.docNumber, IPG.dateSigned, IPG.datePublished, IPG.docType, IPG.level,
    IPG.jurisdiction, IPG.sourceFile, IPG.number, IPG.sectionTitle, IPG.title, IPG.text, IPG.comparator,
    IPG.value, IPG.unit, IPG.indicator, IPG.year))

_RDF_PREDICATE = str(RDF.predicate)
_MEASURE_RELATIONS = frozenset(str(p) for p in (IPG.leadAgency, IPG.responsibleAgency, IPG.mentions, IPG.hasTarget))
_UNREAD_CLASSES = frozenset({str(IPG.Echo)})  # the page never reads these nodes from the graph
_COLLAPSED_CLASSES = frozenset(str(c) for c in (IPG.Measure, IPG.Section, IPG.Target))
# what a collapsed node keeps in a lean index: its classes and the relations that are counted or place it
_LEAN_PREDICATES = frozenset(str(p) for p in (
    RDF.type, IPG.leadAgency, IPG.responsibleAgency, IPG.mentions, IPG.cites, IPG.drafts, IPG.hasTarget,
    IPG.partOf, IPG.section, DCTERMS.isPartOf))


class TripleIndex:
    """The triples read_view reads, from a build's N-Triples file, answering the three rdflib calls it makes.

    Why: the build already has the merged file; the page used to be read back from the new store through
    rdflib/oxrdflib (~4.8 s per 100 documents). pyoxigraph parses the file (Rust), only the page's
    predicates are kept, IRIs become URIRef (interned) and literals their lexical form, which is all the
    page takes from them (str()).
    """

    def __init__(self) -> None:
        self.by_predicate: dict[str, dict[Node, list[Any]]] = defaultdict(lambda: defaultdict(list))
        self.typed: dict[Node, list[Node]] = defaultdict(list)  # class → subjects

    @classmethod
    def from_ntriples(cls, path: Path | str | PatchedFile, lean: bool = False) -> TripleIndex:
        """The page's triples of the N-Triples file at `path` (sorted by subject, as a build writes it;
        or a PatchedFile, read as it would be written).

        `lean`: only what an aggregated page shows (aggregate_view): measures, sections and targets
        keep their types and relations, not their texts, and the reified statements of their
        relations are left out; `lean_nodes` counts the drawn nodes, to tell whether the page is
        aggregated at all (for_page).
        """
        import pyoxigraph

        index = cls()
        iris: dict[str, URIRef] = {}

        def term(node: Any) -> Any:
            if isinstance(node, pyoxigraph.NamedNode):
                value = node.value
                found = iris.get(value)
                if found is None:
                    found = iris[value] = URIRef(value)
                return found
            if isinstance(node, pyoxigraph.BlankNode):
                from rdflib import BNode

                return BNode(node.value)
            return node.value  # a literal: its lexical form

        rdf_type = str(RDF.type)
        group: list[tuple[str, Any, Any]] = []  # one subject's triples (the file is sorted by subject)

        def keep(triples: list[tuple[str, Any, Any]]) -> None:
            if lean and triples:
                types = {str(o) for p, _s, o in triples if p == rdf_type}
                relation = next((str(o) for p, _s, o in triples if p == _RDF_PREDICATE), None)
                if relation in _MEASURE_RELATIONS:
                    return  # a statement on a measure-level relation: its evidence is folded into counts
                if types & _COLLAPSED_CLASSES:
                    triples = [t for t in triples if t[0] in _LEAN_PREDICATES]
            for predicate, subject, obj in triples:
                if predicate == rdf_type:
                    index.typed[obj].append(subject)
                index.by_predicate[predicate][subject].append(obj)

        for triple in parse_ntriples(path):
            predicate = triple.predicate.value
            if predicate not in _VIEW_PREDICATES:
                continue
            subject = term(triple.subject)
            if group and group[0][1] != subject:
                keep(group)
                group = []
            group.append((predicate, subject, term(triple.object)))
        keep(group)
        return index

    @classmethod
    def for_page(cls, path: Path | str, node_budget: int = DEFAULT_NODE_BUDGET,
                 bounded_above: int = BOUNDED_NODES, drawn: int | None = None) -> TripleIndex | FoldedGraph:
        """What render_page of the whole graph needs: all of it when every node is drawn (at most
        node_budget), the lean index when the page is aggregated, and above `bounded_above` drawn nodes
        the FoldedGraph of one streaming pass (bounded_view: memory no longer grows with the measures).

        `drawn`: the build's count of typed nodes of the drawn classes (drawn_count; never fewer than the
        distinct nodes) chooses without a first pass; without it a FoldedGraph pass counts them.
        """
        if drawn is None:
            folded = fold_ntriples(path)
            if folded.drawn > bounded_above:
                return folded
            drawn = folded.drawn
            del folded
            return cls.from_ntriples(path, lean=drawn > node_budget)
        if drawn > bounded_above:
            return fold_ntriples(path)
        if drawn <= node_budget:
            return cls.from_ntriples(path)
        lean = cls.from_ntriples(path, lean=True)
        exact = {s for style in CLASS_STYLES.values() for s in lean.typed.get(style.rdf_class, ())
                 if isinstance(s, URIRef)}
        if len(exact) > node_budget:
            return lean
        del lean
        return cls.from_ntriples(path)

    @classmethod
    def for_build_page(cls, path: Path | str | PatchedFile, drawn: int | None, node_budget: int = DEFAULT_NODE_BUDGET,
                       bounded_above: int = BOUNDED_NODES, *, keep: Path | str | None = None,
                       previous: Path | str | None = None, changes: Iterable[str] | None = None,
                       previous_file: Path | str | None = None,
                       base: FoldedGraph | None = None) -> TripleIndex | FoldedGraph:
        """What the build's page reads: every triple when every node is drawn, else the FoldedGraph of
        one streaming pass (`bounded` above `bounded_above`): an aggregated page counts the measures as
        it reads them instead of indexing them (at 1,000 documents that index was most of the page's time).

        `drawn`: as for for_page (the build's class counts; an over-count is corrected by the pass).
        `keep`: the generation folder to keep the fold in (save_fold); `previous`, `changes`: the
        generation this build patches and the lines of its N-Triples that changed (the file at `path`
        named in `previous`, or `previous_file`): the fold is then that generation's, patched (patch_fold),
        when it kept one; `base`: that fold, already read (load_fold of `previous`).
        """
        if drawn is not None and drawn <= node_budget:
            return cls.from_ntriples(path)
        folded = None
        if previous is not None and changes is not None:
            base = base if base is not None else load_fold(previous)
            if base is not None:
                try:
                    old_file = (Path(previous_file) if previous_file is not None
                                else Path(previous) / Path(str(path)).name)
                    folded = patch_fold(base, old_file, path, changes)
                except (OSError, ValueError, SyntaxError):  # the previous file gone or unreadable: a full pass
                    folded = None
        if folded is None:
            folded = fold_ntriples(path)
        if folded.drawn <= node_budget:  # the counts over-counted: every node is drawn after all
            del folded
            return cls.from_ntriples(path)
        folded.bounded = folded.drawn > bounded_above
        if keep is not None and not folded.bounded:
            # kept for aggregated pages only (24 MB of JSON at 1,000 documents): a bounded page's fold
            # grows with its agencies and edges, and reading it back would cost the memory the pass saves
            save_fold(folded, keep)
        return folded

    def subjects(self, predicate: Node, obj: Node) -> Iterator[Node]:
        if str(predicate) == str(RDF.type):
            yield from self.typed.get(obj, ())
            return
        for subject, objects in self.by_predicate.get(str(predicate), {}).items():
            if obj in objects:
                yield subject

    def objects(self, subject: Node, predicate: Node) -> Iterable[Any]:
        # the list itself, not a generator over it: the page asks this ~160,000 times at 1,000 plans
        return self.by_predicate.get(str(predicate), _NO_OBJECTS).get(subject, ())

    def subject_objects(self, predicate: Node) -> Iterator[tuple[Node, Any]]:
        for subject, objects in self.by_predicate.get(str(predicate), {}).items():
            for obj in objects:
                yield subject, obj


_NO_OBJECTS: dict[Node, list[Any]] = {}


_PART_OF = str(IPG.partOf)
_LEAD, _RESPONSIBLE = str(IPG.leadAgency), str(IPG.responsibleAgency)
# a collapsed node's relations that an aggregated page counts, oriented as drawn: (relation, object is the source)
_FOLDED_RELATIONS = {_LEAD: ("lead", True), _RESPONSIBLE: ("responsible", True), str(IPG.mentions): ("mentions", False),
                     str(IPG.cites): ("cites", False), str(IPG.drafts): ("drafts", False),
                     str(IPG.issuedBy): ("issuedBy", True)}


@dataclass
class FoldedGraph:
    """A graph too big to draw, read in one pass with memory bounded by its non-measure nodes.

    `index`: every triple of the documents, agencies, programmes and directives (and the statements of
    their document-level relations); each measure, section or target is folded as it is read:
    `counts` (source, target, relation) → how many measure-level edges the document-level edge stands for,
    `measures` document → its measures, `members` node → the documents it appears in through them.
    `drawn`: the nodes of the drawn classes in the whole graph.
    """

    index: TripleIndex
    counts: dict[tuple[str, str, str], int]
    measures: dict[str, int]
    members: dict[str, set[str]]
    drawn: int
    # above BOUNDED_NODES the bounded page (bounded_view); else the aggregated page (folded_aggregate_view)
    bounded: bool = True


class _Folder:
    """The state of a fold: what fold_ntriples makes in one pass, and patch_fold changes subject by subject."""

    def __init__(self, folded: FoldedGraph | None = None) -> None:
        import pyoxigraph

        self.named_node, self.blank_node = pyoxigraph.NamedNode, pyoxigraph.BlankNode
        self.index = folded.index if folded is not None else TripleIndex()
        self.counts: dict[tuple[str, str, str], int] = defaultdict(int, folded.counts if folded is not None else {})
        self.measures: dict[str, int] = defaultdict(int, folded.measures if folded is not None else {})
        self.members: dict[str, set[str]] = defaultdict(set)
        self.drawn = folded.drawn if folded is not None else 0
        self.iris: dict[str, URIRef] = {}
        self.names: dict[str, str] = {}  # one str object per IRI the counts hold (agencies, documents …)
        self.drawn_classes = {str(style.rdf_class) for style in CLASS_STYLES.values()}
        self.measure_class, self.rdf_type = str(IPG.Measure), str(RDF.type)

    def term(self, node: Any) -> Any:
        if isinstance(node, self.named_node):
            value = node.value
            found = self.iris.get(value)
            if found is None:
                found = self.iris[value] = URIRef(value)
            return found
        if isinstance(node, self.blank_node):
            from rdflib import BNode

            return BNode(node.value)
        return node.value

    def fold(self, subject: Any, triples: list[tuple[str, Any]], sign: int = 1) -> None:
        """Fold one subject's triples ((predicate IRI, object term), plain tuples: each value read from
        the parser's objects once; this pass is most of the build page's time); sign -1 takes back what
        sign 1 did for the same triples (patch_fold). Members are added only when sign is 1 (patch_fold
        derives them from the counts)."""
        rdf_type, named_node = self.rdf_type, self.named_node
        types = {o.value for p, o in triples if p == rdf_type}
        named = isinstance(subject, named_node)
        if named and not types.isdisjoint(self.drawn_classes):
            self.drawn += sign
        if not types.isdisjoint(_COLLAPSED_CLASSES):
            if not named:
                return
            homes = sorted(o.value for p, o in triples if p == _PART_OF)
            if not homes:
                return  # no document to fold into (an aggregated page leaves it out too)
            home = self.names.setdefault(homes[0], homes[0])
            if self.measure_class in types:
                self.measures[home] += sign
            leads = {o.value for p, o in triples if p == _LEAD}
            for p, o in triples:
                rel = _FOLDED_RELATIONS.get(p)
                if rel is None or not isinstance(o, named_node):
                    continue
                other = self.names.setdefault(o.value, o.value)
                if rel[0] == "responsible" and other in leads:
                    continue  # a lead is responsible too: counted once, as the lead
                self.counts[(other, home, rel[0]) if rel[1] else (home, other, rel[0])] += sign
                if sign > 0:
                    self.members[other].add(home)
            return
        relation = next((o.value for p, o in triples if p == _RDF_PREDICATE), None)
        if relation in _MEASURE_RELATIONS:
            return  # a statement on a measure-level relation: its evidence is folded into counts
        if types and types <= _UNREAD_CLASSES:
            return  # an echo: the page's echoes come with its search data, not from the graph
        me = self.term(subject)
        index = self.index
        if sign < 0:  # the subject's old triples all go (its new ones, if any, are folded next)
            for p, o in triples:
                index.by_predicate[p].pop(me, None)
                if p == rdf_type:
                    listed = index.typed.get(self.term(o))
                    if listed is not None and me in listed:
                        listed.remove(me)
            return
        for p, o in triples:
            obj = self.term(o)
            if p == rdf_type:
                index.typed[obj].append(me)
            index.by_predicate[p][me].append(obj)

    def result(self, derive_members: bool = False) -> FoldedGraph:
        counts = {k: n for k, n in self.counts.items() if n}
        members = self.members
        if derive_members:  # every counted relation names its document: the members are the counts' ends
            members = defaultdict(set)
            oriented = {name: other_is_source for name, other_is_source in _FOLDED_RELATIONS.values()}
            for (a, b, rel) in counts:
                other, home = (a, b) if oriented[rel] else (b, a)
                members[other].add(home)
        return FoldedGraph(index=self.index, counts=counts, measures={k: n for k, n in self.measures.items() if n},
                           members=dict(members), drawn=self.drawn)


def _groups(quads: Iterable[Any]) -> Iterator[tuple[Any, list[tuple[str, Any]]]]:
    """(subject, [(predicate IRI, object)]) of sorted N-Triples, the page's predicates only."""
    group: list[tuple[str, Any]] = []  # one subject's triples (the file is sorted by subject)
    current: Any = None
    for triple in quads:
        predicate = triple.predicate.value
        if predicate not in _VIEW_PREDICATES:
            continue
        subject = triple.subject
        if group and subject != current:
            yield current, group
            group = []
        current = subject
        group.append((predicate, triple.object))
    if group:
        yield current, group


def fold_ntriples(path: Path | str | PatchedFile) -> FoldedGraph:
    """FoldedGraph of the N-Triples file at `path` (sorted by subject, as a build writes it; or a
    PatchedFile, read as it would be written): one pass."""
    folder = _Folder()
    for subject, triples in _groups(parse_ntriples(path)):
        folder.fold(subject, triples)
    return folder.result()


def patch_fold(folded: FoldedGraph, old_nt: Path | str, new_nt: Path | str | PatchedFile,
               changed_lines: Iterable[str]) -> FoldedGraph | None:
    """The FoldedGraph of `new_nt` from that of `old_nt` and the lines that differ between the two
    (ipgraph.stream.delta's exact change): each subject a changed line names is taken back as it was in
    old_nt and folded again as it is in new_nt, both read by bisection (the files are sorted), so the
    work follows the change, not the graph (tests/test_pagefast_add.py: the same page as a full fold).
    None when a changed line's subject is a blank node (no stable spelling to look up)."""
    import pyoxigraph

    subjects = sorted({line.split(" ", 1)[0] for line in changed_lines if line.strip()})
    if any(not (s.startswith("<") and s.endswith(">")) for s in subjects):
        return None
    folder = _Folder(folded)
    for path, sign in ((old_nt, -1), (new_nt, 1)):
        with opened_lines(path) as lines:
            data = b"".join(lines.starting_with(s.encode("utf-8") + b" ") for s in subjects)
        for subject, triples in _groups(pyoxigraph.parse(data, format=pyoxigraph.RdfFormat.N_TRIPLES)):
            folder.fold(subject, triples, sign)
    # a subject folded again went to the end of its lists: back into the file's order, as a full pass has it
    index = folder.index
    for cls_key, listed in index.typed.items():
        index.typed[cls_key] = sorted(listed, key=_nt_key)
    for predicate, by_subject in index.by_predicate.items():
        index.by_predicate[predicate] = defaultdict(list, sorted(by_subject.items(), key=lambda kv: _nt_key(kv[0])))
    return folder.result(derive_members=True)


def _nt_key(node: Any) -> bytes:
    """A subject's place in sorted N-Triples (its lines start with its spelling and a space)."""
    return (f"<{node}> " if isinstance(node, URIRef) else f"_:{node} ").encode("utf-8")


FOLD_STATE = ".page-fold.json"  # a build's FoldedGraph, for the next build's patch_fold


def _enc(node: Any) -> str:
    if isinstance(node, URIRef):
        return "i" + str(node)
    from rdflib import BNode

    return ("b" if isinstance(node, BNode) else "l") + str(node)


_FOLD_VERSION = 2  # 2: every string once, in a table the rest refer to by number


def save_fold(folded: FoldedGraph, folder: Path | str) -> None:
    """Keep `folded` in the build's generation `folder` (JSON: no code runs when it is read back). Each
    term is spelt once, in a table (48,000 strings for 219,000 uses at 1,000 documents), so that
    reading it back makes each rdflib term once."""
    table: dict[str, int] = {}
    seen: dict[int, int] = {}  # id of a term object → its number: a fold reuses its terms' objects

    def ref(node: Any) -> int:
        at = seen.get(id(node))  # the objects stay alive (the fold holds them): an id is not reused meanwhile
        if at is None:
            text = _enc(node)
            at = table.get(text)
            if at is None:
                at = table[text] = len(table)
            seen[id(node)] = at
        return at

    index = folded.index
    typed = [[ref(c), [ref(x) for x in xs]] for c, xs in index.typed.items()]
    by_predicate = [[p, [[ref(x), [ref(o) for o in objs]] for x, objs in subjects.items()]]
                    for p, subjects in index.by_predicate.items()]
    data = {"version": _FOLD_VERSION, "drawn": folded.drawn, "measures": folded.measures,
            "counts": [[a, b, r, n] for (a, b, r), n in folded.counts.items()],
            "strings": list(table), "typed": typed, "by_predicate": by_predicate}
    atomic_write_bytes(Path(folder) / FOLD_STATE, orjson.dumps(data))  # ~10× json's speed


def load_fold(folder: Path | str) -> FoldedGraph | None:
    """save_fold's FoldedGraph of a previous generation, or None when there is none or it cannot be read."""
    from rdflib import BNode

    def dec(text: str) -> Any:
        kind, value = text[0], text[1:]
        if kind == "i":
            return URIRef(value)
        return BNode(value) if kind == "b" else value

    try:
        data = orjson.loads((Path(folder) / FOLD_STATE).read_bytes())
        if data.get("version") != _FOLD_VERSION:
            return None  # another release's layout: the next build folds the whole file
        terms = [dec(text) for text in data["strings"]]
        index = TripleIndex()
        for c, xs in data["typed"]:
            index.typed[terms[c]] = [terms[x] for x in xs]
        for p, subjects in data["by_predicate"]:
            by_subject = index.by_predicate[p]
            for x, objs in subjects:
                by_subject[terms[x]] = [terms[o] for o in objs]
        counts = {(a, b, r): int(n) for a, b, r, n in data["counts"]}
        folder_ = _Folder(FoldedGraph(index=index, counts=counts, measures=dict(data["measures"]), members={},
                                      drawn=int(data["drawn"])))
        return folder_.result(derive_members=True)
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


def drawn_count(counts: Mapping[str, int]) -> int:
    """The typed nodes of the drawn classes in a build's class counts (BuildResult.counts: class IRI →
    subjects typed with it), for TripleIndex.for_page."""
    return sum(counts.get(str(style.rdf_class), 0) for style in CLASS_STYLES.values())


def _class_quota_rank(nodes: Mapping[str, ViewNode], weight: Mapping[str, int], budget: int) -> list[str]:
    """Up to `budget` node ids: each class present gets an equal share of its best-weighted nodes (so
    10,000 documents cannot crowd out every agency), the share a class does not fill goes to the
    best-weighted of the rest. Deterministic: ties by id."""
    def key(n: str) -> tuple:
        return (-weight.get(n, 0) - nodes[n].count, n)

    by_class: dict[str, list[str]] = defaultdict(list)
    for n in nodes:
        by_class[nodes[n].cls].append(n)
    share = budget // max(1, len(by_class))
    kept: list[str] = []
    for cls in sorted(by_class, key=CLASS_ORDER.__getitem__):
        kept += sorted(by_class[cls], key=key)[:share]
    chosen = set(kept)
    rest = sorted((n for n in nodes if n not in chosen), key=key)
    return kept + rest[:max(0, budget - len(kept))]


def _folded_parts(folded: FoldedGraph) -> tuple[dict[str, ViewNode], dict[tuple[str, str, str], int],
                                                 dict[tuple[str, str, str], tuple[str, ...]]]:
    """What aggregate_view's collapse gives for the whole graph, from a FoldedGraph: the documents,
    agencies, programmes and directives (documents with their measures counted), the counted edges and
    the evidence of the document-level ones."""
    # documents, agencies, programmes, directives and their own relations (a TripleIndex answers read_view)
    small = read_view(folded.index)  # type: ignore[arg-type]
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    sentences: dict[tuple[str, str, str], tuple[str, ...]] = {}
    for edge in small.edges:
        key = (edge.source, edge.target, edge.relation)
        counts[key] += 1
        sentences[key] = edge.evidence
    for key, n in folded.counts.items():
        if key[0] in small.nodes and key[1] in small.nodes and key[0] != key[1]:
            counts[key] += n
    nodes: dict[str, ViewNode] = {}
    for node_id, node in small.nodes.items():
        docs = set(node.documents) | {d for d in folded.members.get(node_id, ()) if d in small.nodes}
        n = folded.measures.get(node_id, 0) if node.cls == "document" else 0
        info = node.info + ((("措施 measures", f"{n} 项（已折叠 collapsed）"),) if n else ())
        nodes[node_id] = replace(node, documents=tuple(sorted(docs)), count=n, info=info)
    return nodes, counts, sentences


def folded_aggregate_view(folded: FoldedGraph, node_budget: int = DEFAULT_NODE_BUDGET) -> ViewGraph:
    """aggregate_view(read_view(graph), node_budget) of a graph over the budget, from its FoldedGraph:
    the same nodes, edges and note (tests/test_pagefast_fold.py), without an index of the measures
    (the build's page of 1,000 documents read 73,000 measure nodes only to count them)."""
    nodes, counts, sentences = _folded_parts(folded)
    edges = [ViewEdge(s, t, r, sentences.get((s, t, r), ()), count=n) for (s, t, r), n in counts.items()]
    return _aggregated(nodes, edges, folded.drawn, node_budget, None)


def _cap_edges(edges: list[ViewEdge], cap: int) -> tuple[list[ViewEdge], dict[str, int]]:
    """At most `cap` edges per node: each node keeps its best-counted (ties by the other end's id), an
    edge stays when both its ends keep it. Returns the edges kept and, per node, how many of its edges
    were dropped (the panel's "+N more"). Deterministic."""
    incident: dict[str, list[ViewEdge]] = defaultdict(list)
    for e in edges:
        incident[e.source].append(e)
        incident[e.target].append(e)
    dropped: set[tuple[str, str, str]] = set()
    for node, mine in incident.items():
        if len(mine) > cap:
            mine.sort(key=lambda e: (-e.count, e.target if e.source == node else e.source, e.relation))
            dropped.update(_edge_key(e) for e in mine[cap:])
    more: dict[str, int] = defaultdict(int)
    kept = []
    for e in edges:
        if _edge_key(e) in dropped:
            more[e.source] += 1
            more[e.target] += 1
        else:
            kept.append(e)
    return kept, dict(more)


def bounded_view(folded: FoldedGraph, node_budget: int = DEFAULT_NODE_BUDGET,
                 edge_cap: int = BOUNDED_EDGES_PER_NODE) -> ViewGraph:
    """The page of a graph too big to draw: its documents, agencies, programmes and directives with the
    measures counted on the edges (as aggregate_view counts them), the best-connected of each class up to
    `node_budget`, at most `edge_cap` edges per node (_cap_edges), and a note of what is left out and
    where to see it. A node lists the drawn documents it appears in; its panel counts the others and
    the edges left off ("+N more", and where to see them)."""
    nodes, counts, sentences = _folded_parts(folded)
    weight: dict[str, int] = defaultdict(int)
    for (source, target, _r), n in counts.items():
        weight[source] += n
        weight[target] += n
    kept = set(_class_quota_rank(nodes, weight, node_budget))
    edges, more_edges = _cap_edges([ViewEdge(s, t, r, sentences.get((s, t, r), ()), count=n)
                                    for (s, t, r), n in counts.items() if s in kept and t in kept], edge_cap)
    shown = {}
    for k, v in sorted(nodes.items(), key=lambda kv: (CLASS_ORDER[kv[1].cls], kv[0])):
        if k in kept:
            drawn_docs = tuple(d for d in v.documents if d in kept)  # the page's document filter knows only these
            shown[k] = replace(v, documents=drawn_docs, more_documents=len(v.documents) - len(drawn_docs),
                               more_edges=more_edges.get(k, 0))
    left: dict[str, int] = defaultdict(int)
    for node in nodes.values():
        if node.id not in kept:
            left[node.cls] += 1
    collapsed = folded.drawn - len(nodes)
    dropped = sum(more_edges.values()) // 2  # each dropped edge is counted at both its ends
    left_zh = "、".join(f"{CLASS_STYLES[c].zh} {n}" for c, n in sorted(left.items(), key=lambda x: CLASS_ORDER[x[0]]))
    left_en = ", ".join(f"{CLASS_STYLES[c].en} {n}" for c, n in sorted(left.items(), key=lambda x: CLASS_ORDER[x[0]]))
    note = (f"大图：全图有 {folded.drawn} 个节点，本页只画联系最多的 {len(shown)} 个文件、机构、项目和政策文书"
            f"（上限 {node_budget}）；{collapsed} 个措施、章节和目标折叠为连线上的计数"
            + (f"；未显示：{left_zh}" if left else "") + "。"
            + (f"每个节点最多画 {edge_cap} 条联系最多的连线，另有 {dropped} 条未画（节点面板写明数目）。" if dropped else "")
            + f" Big graph: {folded.drawn} nodes; this page draws the {len(shown)} best-connected documents, agencies,"
            f" programmes and directives (budget {node_budget}); {collapsed} measures, sections and targets are"
            f" counted on the edges" + (f"; left out: {left_en}" if left else "") + "."
            + (f" At most {edge_cap} edges per node are drawn (its best-counted); {dropped} more are left off"
               " (a node's panel counts its own)." if dropped else "")
            +
            " 查看全部 See everything: `ipgraph serve` (SPARQL /sparql, measure search /search, any node at /id/…),"
            " `ipgraph query`, or a part with `ipgraph view --focus NAME`, `--document DOC`, `--type CLASSES`.")
    return ViewGraph(nodes=shown, edges=sorted(edges, key=_edge_key), aggregated=True,
                     selected_nodes=folded.drawn, note=note)


def bounded_search_data(search_data: Mapping[str, Any] | None,
                        drawn: ViewGraph | set[str]) -> dict[str, Any] | None:
    """The search data a bounded page carries: the endpoint, and the measures and echoes of the drawn nodes
    only (a view, or their ids; a measure found through /search is named by the answer; its echoes are
    the endpoint's to give)."""
    if search_data is None:
        return None
    ids = drawn.nodes if isinstance(drawn, ViewGraph) else drawn
    return {**search_data, "index": None,
            "measures": {k: v for k, v in (search_data.get("measures") or {}).items() if k in ids},
            "echoes": {k: v for k, v in (search_data.get("echoes") or {}).items() if k in ids}}


# the terms read_view and _info look up, made once: an rdflib DefinedNamespace makes a new URIRef at each
# attribute access (~90,000 of them for the page of 1,000 plans)
_IPG = SimpleNamespace(**{name: IPG[name] for name in (
    "citedAs", "cites", "comparator", "datePublished", "dateSigned", "docNumber", "docType", "drafts", "evidence",
    "hasTarget", "indicator", "issuedBy", "jurisdiction", "leadAgency", "level", "mentions", "noticeTitle", "number",
    "order", "partOf", "reorganisedAs", "responsibleAgency", "section", "sectionTitle", "sourceFile", "text", "title",
    "unit", "value", "year")})
_RDFS = SimpleNamespace(label=RDFS.label)
_SKOS = SimpleNamespace(altLabel=SKOS.altLabel, prefLabel=SKOS.prefLabel)
_DCTERMS = SimpleNamespace(isPartOf=DCTERMS.isPartOf, title=DCTERMS.title)
_RDF = SimpleNamespace(object=RDF.object, predicate=RDF.predicate, subject=RDF.subject, type=RDF.type)


def _first(graph: Graph, subject: Node, predicate: URIRef) -> str:
    """The smallest value (deterministic when there are several)."""
    return min(map(str, graph.objects(subject, predicate)), default="")


def _label_of(graph: Graph, node: Node) -> str:
    return (_first(graph, node, _RDFS.label) or _first(graph, node, _SKOS.prefLabel)
            or str(node).rstrip("/").rsplit("/", 1)[-1])


def _info(graph: Graph, node: Node, cls: str) -> tuple[tuple[str, str], ...]:
    def value(pred: URIRef) -> str:
        return _first(graph, node, pred)

    def label_of(pred: URIRef) -> str:
        target = min(graph.objects(node, pred), key=str, default=None)
        return _label_of(graph, target) if target is not None else ""

    fields: list[tuple[str, str]] = []
    if cls == "document":
        fields = [("标题 title", value(_DCTERMS.title)), ("通知 notice", value(_IPG.noticeTitle)),
                  ("文号 number", value(_IPG.docNumber)), ("成文日期 signed", value(_IPG.dateSigned)),
                  ("发布日期 published", value(_IPG.datePublished)), ("文种 type", value(_IPG.docType)),
                  ("级别 level", label_of(_IPG.level)), ("地区 jurisdiction", label_of(_IPG.jurisdiction)),
                  ("源文件 file", value(_IPG.sourceFile))]
    elif cls == "section":
        fields = [("编号 number", value(_IPG.number)), ("标题 title", value(_IPG.sectionTitle))]
    elif cls == "measure":
        fields = [("编号 number", value(_IPG.number)), ("标题 title", value(_IPG.title)),
                  ("全文 text", value(_IPG.text))]
    elif cls == "agency":
        fields = [("级别 level", label_of(_IPG.level)), ("地区 jurisdiction", label_of(_IPG.jurisdiction))]
    elif cls == "directive":
        fields = [("文号 number", value(_IPG.docNumber)), ("标题 title", value(_DCTERMS.title)),
                  ("级别 level", label_of(_IPG.level))]
    elif cls == "target":
        amount = " ".join(x for x in (value(_IPG.comparator), value(_IPG.value) + value(_IPG.unit)) if x)
        fields = [("指标 indicator", value(_IPG.indicator)), ("目标值 value", amount),
                  ("年份 year", value(_IPG.year)), ("原文 evidence", value(_IPG.evidence))]
    return tuple((k, v) for k, v in fields if v)


def _evidence_index(graph: Graph) -> dict[tuple[Node | None, Node | None, Node | None], list[str]]:
    """Sentences of the reified statements (rdf:Statement with ipg:evidence), by the triple they support."""
    index: dict[tuple[Node | None, Node | None, Node | None], set[str]] = defaultdict(set)
    # one pass per predicate (not three look-ups per statement): ~4× faster on big graphs
    subjects, predicates, objects = (dict(graph.subject_objects(p)) for p in (_RDF.subject, _RDF.predicate, _RDF.object))
    for statement, sentence in graph.subject_objects(_IPG.evidence):
        if statement in subjects:
            index[(subjects[statement], predicates.get(statement), objects.get(statement))].add(str(sentence))
    return {key: sorted(values) for key, values in index.items()}


def read_view(graph: Graph) -> ViewGraph:
    """Read every node of the seven drawn classes and the relations between them from `graph`.

    Reads only the contract vocabulary (plus dcterms:isPartOf between sections and ipg:reorganisedAs
    between agencies); evidence sentences come from the rdf:Statement nodes.
    """
    cls_of: dict[Node, str] = {}
    for key, style in CLASS_STYLES.items():
        for subject in graph.subjects(_RDF.type, style.rdf_class):
            if isinstance(subject, URIRef):
                cls_of.setdefault(subject, key)
    evidence = _evidence_index(graph)

    edges: dict[tuple[str, str, str], set[str]] = {}

    def add(source: Node, target: Node, relation: str, sentences: Iterable[str] = ()) -> None:
        if source in cls_of and target in cls_of and source != target:
            edges.setdefault((str(source), str(target), relation), set()).update(sentences)

    leads = set(graph.subject_objects(_IPG.leadAgency))
    for measure, agency in leads:
        add(agency, measure, "lead", evidence.get((measure, _IPG.leadAgency, agency), [])
            + evidence.get((measure, _IPG.responsibleAgency, agency), []))
    for measure, agency in graph.subject_objects(_IPG.responsibleAgency):
        if (measure, agency) not in leads:  # a lead is responsible too: one edge, drawn as the lead
            add(agency, measure, "responsible", evidence.get((measure, _IPG.responsibleAgency, agency), []))
    for predicate, relation in ((_IPG.mentions, "mentions"), (_IPG.cites, "cites"), (_IPG.drafts, "drafts")):
        for subject, obj in graph.subject_objects(predicate):
            add(subject, obj, relation, evidence.get((subject, predicate, obj), []))
    for document, agency in graph.subject_objects(_IPG.issuedBy):
        add(agency, document, "issuedBy", evidence.get((document, _IPG.issuedBy, agency), []))
    for owner, target in graph.subject_objects(_IPG.hasTarget):
        add(owner, target, "hasTarget")
    for former, current in graph.subject_objects(_IPG.reorganisedAs):
        add(former, current, "reorganisedAs")

    # containment: each measure or section hangs from its nearest container only (section, else document)
    parent: dict[Node, Node] = {}
    for child, container in sorted(graph.subject_objects(_IPG.partOf)):
        parent.setdefault(child, container)
    for child, section in sorted(graph.subject_objects(_IPG.section)):
        parent[child] = section
    for child, container in sorted(graph.subject_objects(_DCTERMS.isPartOf)):
        if cls_of.get(child) == "section" and cls_of.get(container) == "section":
            parent[child] = container
    for child, container in parent.items():
        add(child, container, "partOf")

    documents = _document_membership(cls_of, parent, graph)

    def reading_order(subject: Node) -> tuple:
        # sections and measures in the order printed (ipg:order), not by IRI ("measure/10" < "measure/2")
        homes = sorted(str(d) for d in documents.get(subject, ()))
        printed = [int(str(o)) for o in graph.objects(subject, _IPG.order) if str(o).isdigit()]
        return (CLASS_ORDER[cls_of[subject]], homes[0] if homes else "", min(printed, default=0), str(subject))

    nodes = {}
    for subject in sorted(cls_of, key=reading_order):
        cls = cls_of[subject]
        label = _label_of(graph, subject)
        alias_preds = (_SKOS.altLabel, _IPG.citedAs) if cls == "directive" else (_SKOS.altLabel,)
        aliases = sorted({str(a) for p in alias_preds for a in graph.objects(subject, p)} - {label})
        info = _info(graph, subject, cls)
        homes = sorted(documents.get(subject, ()), key=str)
        if cls in COLLAPSED and len(homes) == 1:  # a measure's panel names its document
            info = (("文件 document", _label_of(graph, homes[0])), *info)
        nodes[str(subject)] = ViewNode(id=str(subject), cls=cls, label=label, aliases=tuple(aliases), info=info,
                                       documents=tuple(sorted(str(d) for d in documents.get(subject, ()))))
    edge_list = [ViewEdge(s, t, r, tuple(sorted(ev))) for (s, t, r), ev in edges.items()]
    return ViewGraph(nodes=nodes, edges=sorted(edge_list, key=_edge_key))


def _document_membership(cls_of: Mapping[Node, str], parent: Mapping[Node, Node],
                         graph: Graph) -> dict[Node, set[Node]]:
    """The documents each node belongs to (its container chain) or appears in (through measures)."""
    def home(start: Node) -> Node | None:
        node: Node | None = start
        seen = set()
        while node is not None and cls_of.get(node) != "document" and node not in seen:
            seen.add(node)
            node = parent.get(node)
        return node if node is not None and cls_of.get(node) == "document" else None

    member: dict[Node, set[Node]] = defaultdict(set)
    for node, cls in cls_of.items():
        if cls in ("document", "section", "measure"):
            doc = node if cls == "document" else home(node)
            if doc is not None:
                member[node].add(doc)
    for predicate in (IPG.leadAgency, IPG.responsibleAgency, IPG.mentions, IPG.hasTarget):
        for subject, obj in graph.subject_objects(predicate):
            if obj in cls_of:
                member[obj].update(member.get(subject, ()))
    for predicate in (IPG.cites, IPG.drafts, IPG.issuedBy):
        for doc, obj in graph.subject_objects(predicate):
            if doc in cls_of and obj in cls_of:
                member[obj].add(doc)
    return member


# an edge's (source, target, relation), the order edges are listed in: C-level, as ~60,000 edges are sorted
_edge_key: Callable[[ViewEdge], tuple[str, str, str]] = attrgetter("source", "target", "relation")


# ---------------------------------------------------------------- 2. select a part

def _matches(node: ViewNode, name: str) -> bool:
    return name in (node.label, *node.aliases, node.id)


def find_node(view: ViewGraph, name: str) -> ViewNode:
    """The node called `name` (its label, an alias or its IRI; else the one node whose name contains it).

    Raises ViewError when no node or several nodes match.
    """
    exact = [n for n in view.nodes.values() if _matches(n, name)]
    if len(exact) == 1:
        return exact[0]
    candidates = exact or [n for n in view.nodes.values() if any(name in x for x in (n.label, *n.aliases))]
    # a name is more likely meant for an agency, programme, directive or document than for a measure's text
    candidates.sort(key=lambda n: (n.cls in COLLAPSED, CLASS_ORDER[n.cls], n.label))
    named = [n for n in candidates if n.cls not in COLLAPSED]
    if len(candidates) == 1 or len(named) == 1:
        return candidates[0]
    if not candidates:
        raise ViewError(f"--focus {name}: no node has this name or alias; "
                        "hint: `ipgraph query` lists agencies, programmes and directives")
    shown = "; ".join(f"{n.label} ({CLASS_STYLES[n.cls].en})" for n in candidates[:5])
    more = f" and {len(candidates) - 5} more" if len(candidates) > 5 else ""
    raise ViewError(f"--focus {name}: {len(candidates)} nodes match ({shown}{more}); give the full name")


def find_document(view: ViewGraph, name: str) -> ViewNode:
    """The document given by its file name (with or without extension), its IRI or its title."""
    docs = [n for n in view.nodes.values() if n.cls == "document"]
    for doc in docs:
        source = dict(doc.info).get("源文件 file", "")
        keys = {doc.id, doc.label, source, Path(source).stem, dict(doc.info).get("标题 title", "")}
        if name in keys or Path(name).name in keys or Path(name).stem in keys:
            return doc
    known = ", ".join(sorted(dict(d.info).get("源文件 file", d.label) for d in docs)[:8])
    raise ViewError(f"--document {name}: no such document in the graph; known: {known or 'none'}")


def parse_types(types: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """'agency,programme' (or an iterable of names) → validated class keys; None means every class."""
    if types is None:
        return None
    items = [t.strip().lower() for t in (types.split(",") if isinstance(types, str) else types)]
    items = [t for t in items if t]
    unknown = [t for t in items if t not in CLASS_STYLES]
    if unknown:
        raise ViewError(f"--type {','.join(unknown)}: unknown class; choose from {','.join(CLASS_STYLES)}")
    return tuple(sorted(set(items), key=CLASS_ORDER.__getitem__)) or None


def select_view(view: ViewGraph, *, focus: str | None = None, document: str | None = None,
                types: str | Iterable[str] | None = None, depth: int = 1) -> ViewGraph:
    """The part of `view` to draw.

    `document` keeps the nodes of one document (its sections, measures and targets, and the agencies,
    programmes and directives that appear in it); `types` keeps the named classes; `focus` then keeps
    the named node and everything within `depth` edges of it (through kept nodes). The focus node is
    kept whatever its class.
    """
    if depth < 0:
        raise ViewError(f"--depth {depth}: must be 0 or more")
    classes = parse_types(types)
    keep = set(view.nodes)
    if document is not None:
        doc = find_document(view, document).id
        keep = {n for n in keep if doc in view.nodes[n].documents}
    if classes is not None:
        keep = {n for n in keep if view.nodes[n].cls in classes}
    root = None
    if focus is not None:
        root = find_node(view, focus).id
        keep.add(root)
        neighbours = _adjacency(view.edges, keep)
        reached = {root: 0}
        queue = deque([root])
        while queue:
            node = queue.popleft()
            if reached[node] >= depth:
                continue
            for other in neighbours[node]:
                if other not in reached:
                    reached[other] = reached[node] + 1
                    queue.append(other)
        keep = set(reached)
    nodes = {k: v for k, v in view.nodes.items() if k in keep}
    edges = [e for e in view.edges if e.source in keep and e.target in keep]
    return ViewGraph(nodes=nodes, edges=edges, root=root)


def _adjacency(edges: Iterable[ViewEdge], keep: set[str] | None = None) -> dict[str, list[str]]:
    adj: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        if keep is None or (e.source in keep and e.target in keep):
            adj[e.source].add(e.target)
            adj[e.target].add(e.source)
    return defaultdict(list, {k: sorted(v) for k, v in adj.items()})


# ---------------------------------------------------------------- 3. aggregate when too big

COLLAPSED = ("section", "measure", "target")


def _collapse(view: ViewGraph, source: ViewGraph | None = None) -> tuple[dict[str, ViewNode], list[ViewEdge]]:
    """Documents, agencies, programmes and directives, with measure-level edges counted (see aggregate_view)."""
    lookup = source.nodes if source is not None else view.nodes
    nodes: dict[str, ViewNode] = {k: v for k, v in view.nodes.items() if v.cls not in COLLAPSED}
    measure_count: dict[str, int] = defaultdict(int)
    for node in view.nodes.values():
        if node.cls == "measure":
            for doc in node.documents:
                measure_count[doc] += 1
                if doc not in nodes and doc in lookup:
                    nodes[doc] = lookup[doc]

    def home(node_id: str) -> str | None:
        node = view.nodes[node_id]
        if node.cls not in COLLAPSED:
            return node_id
        return node.documents[0] if node.documents else None

    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    sentences: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for edge in view.edges:
        if edge.relation in ("partOf", "hasTarget"):
            continue
        source_id, target_id = home(edge.source), home(edge.target)
        if source_id is None or target_id is None or source_id == target_id:
            continue
        key = (source_id, target_id, edge.relation)
        counts[key] += edge.count or 1
        if edge.source == source_id and edge.target == target_id:
            sentences[key].update(edge.evidence)  # a document-level edge keeps its evidence
    for doc, n in measure_count.items():
        if doc in nodes:
            nodes[doc] = replace(nodes[doc], count=n,
                                 info=nodes[doc].info + (("措施 measures", f"{n} 项（已折叠 collapsed）"),))
    edges = [ViewEdge(s, t, r, tuple(sorted(sentences[(s, t, r)])), count=c)
             for (s, t, r), c in counts.items() if s in nodes and t in nodes]
    return nodes, edges


def overview_view(view: ViewGraph, source: ViewGraph | None = None) -> ViewGraph:
    """The page's first view: documents, agencies, programmes and directives, measures counted on the edges.

    It answers the first question (which agency leads what) at a glance; the measures are one click
    away (the side panel, or the detailed view).
    """
    nodes, edges = _collapse(view, source)
    nodes = dict(sorted(nodes.items(), key=lambda kv: (CLASS_ORDER[kv[1].cls], kv[0])))
    return ViewGraph(nodes=nodes, edges=sorted(edges, key=_edge_key), selected_nodes=len(view.nodes))


def _has_overview(view: ViewGraph) -> bool:
    """Whether an overview differs from the view: it has measures and is not aggregated already."""
    return not view.aggregated and any(n.cls == "measure" for n in view.nodes.values())


def _lead_counts(view: ViewGraph) -> dict[str, int]:
    """Per agency, how many measures it leads (aggregated edges count the measures they stand for)."""
    counts: dict[str, int] = defaultdict(int)
    for edge in view.edges:
        if edge.relation == "lead":
            counts[edge.source] += edge.count or 1
    return counts


def aggregate_view(view: ViewGraph, node_budget: int = DEFAULT_NODE_BUDGET,
                   source: ViewGraph | None = None) -> ViewGraph:
    """`view` itself if it has at most `node_budget` nodes, else its aggregated form.

    The aggregated form keeps documents, agencies, programmes and directives; measures, sections and
    targets are collapsed into counts: an agency → document edge says how many of the document's
    measures the agency leads (a separate edge: is responsible for), a programme edge how many
    measures mention it, and each document how many measures it has. Documents that the collapsed
    nodes belong to are taken from `source` (the whole graph) when the selection lacks them. If even
    that is over budget, the least connected nodes are left out, and the note says how many.
    """
    if len(view.nodes) <= node_budget:
        return view
    nodes, edges = _collapse(view, source)
    return _aggregated(nodes, edges, len(view.nodes), node_budget, view.root)


def _aggregated(nodes: dict[str, ViewNode], edges: list[ViewEdge], selected: int, node_budget: int,
                root: str | None) -> ViewGraph:
    """aggregate_view's page of collapsed nodes and counted edges: the least connected left out over
    the budget, and the note."""
    left_out = 0
    if len(nodes) > node_budget:
        weight: dict[str, int] = defaultdict(int)
        for e in edges:
            weight[e.source] += e.count
            weight[e.target] += e.count
        ranked = sorted(nodes, key=lambda n: (nodes[n].cls != "document", -weight[n] - nodes[n].count, n))
        kept = set(ranked[:node_budget])
        left_out = len(nodes) - len(kept)
        nodes = {k: v for k, v in nodes.items() if k in kept}
        edges = [e for e in edges if e.source in kept and e.target in kept]
    nodes = dict(sorted(nodes.items(), key=lambda kv: (CLASS_ORDER[kv[1].cls], kv[0])))
    note = (f"聚合视图：所选部分有 {selected} 个节点，超过上限 {node_budget}，措施、章节和目标已折叠为计数。"
            f" Aggregated view: the selection has {selected} nodes, more than the budget of "
            f"{node_budget}; measures, sections and targets are collapsed into counts.")
    if left_out:
        note += f" 另有 {left_out} 个联系最少的节点未显示 ({left_out} least connected nodes left out)."
    note += " Use --focus, --document or --type for a detailed page."
    return ViewGraph(nodes=nodes, edges=sorted(edges, key=_edge_key), aggregated=True,
                     selected_nodes=selected, note=note, root=root if root in nodes else None)


# ---------------------------------------------------------------- 4. layout (pure Python, deterministic)

def layout(view: ViewGraph, spacing: float = 60.0) -> dict[str, tuple[float, float]]:
    """Fixed positions for every node, computed in linear time, with no randomness.

    Each document (or the focus node) is the centre of a radial tree: its sections, then its measures,
    then the agencies, programmes and targets that belong to that document only, on rings sized so
    neighbours stay `spacing` apart. The document clusters sit on a ring; nodes shared by several
    documents (or by none) fill the middle, each as near as free room allows to the documents it
    belongs to. Physics in the browser would do the same work on every load and freezes above a few
    thousand nodes.
    """
    nodes = view.nodes
    if not nodes:
        return {}
    adjacency = _adjacency(view.edges)
    order = {node_id: i for i, node_id in enumerate(nodes)}
    if view.root in nodes:
        roots = [view.root]
        cluster_of = {n: view.root for n in nodes}
    else:
        roots = [n for n, v in nodes.items() if v.cls == "document"]
        root_set = set(roots)
        cluster_of = {}
        for node_id, node in nodes.items():
            if node_id in root_set:
                cluster_of[node_id] = node_id
            else:
                homes = [d for d in node.documents if d in root_set]
                if len(homes) == 1:
                    cluster_of[node_id] = homes[0]

    members: dict[str, list[str]] = defaultdict(list)
    for node_id in nodes:
        if node_id in cluster_of:
            members[cluster_of[node_id]].append(node_id)
    local: dict[str, dict[str, tuple[float, float]]] = {}
    radius: dict[str, float] = {}
    for root in roots:
        local[root], radius[root] = _radial_tree(root, members[root], adjacency, order, spacing)

    commons = [n for n in nodes if n not in cluster_of]
    centres = _place_clusters(roots, radius, len(commons), spacing)
    positions: dict[str, tuple[float, float]] = {}
    for root in roots:
        cx, cy = centres[root]
        for node_id, (x, y) in local[root].items():
            positions[node_id] = (cx + x, cy + y)
    if commons:
        positions.update(_place_commons(commons, nodes, centres, radius, spacing))
    if len(nodes) <= DETAILED_LIMIT:  # pages whose labels are drawn: no label may cover another
        positions = spread_labels(view, positions)
    return {n: (round(x, 1), round(y, 1)) for n, (x, y) in positions.items()}


OVERVIEW_CORE = ("document", "agency")


def overview_layout(view: ViewGraph) -> dict[str, tuple[float, float]]:
    """Positions for the overview: documents and agencies first, as compact as their labels allow;
    programmes and directives then round their documents, outside, in the room left free (so that
    the picture answers "who leads what" first, and showing programmes moves no agency)."""
    if len(view.nodes) > DETAILED_LIMIT:  # labels are not drawn at that size: the plain layout will do
        return layout(view)
    core_nodes = {k: v for k, v in view.nodes.items() if v.cls in OVERVIEW_CORE}
    core = ViewGraph(nodes=core_nodes, edges=[e for e in view.edges if e.source in core_nodes and e.target in core_nodes],
                     root=view.root if view.root in core_nodes else None)
    first = layout(core)
    if not first:
        return layout(view)
    cx = sum(x for x, _ in first.values()) / len(first)
    cy = sum(y for _, y in first.values()) / len(first)
    wanted = {}
    for node_id, node in view.nodes.items():
        if node_id in first:
            continue
        homes = [first[d] for d in node.documents if d in first]
        mx = sum(x for x, _ in homes) / len(homes) if homes else cx
        my = sum(y for _, y in homes) / len(homes) if homes else cy
        wanted[node_id] = (cx + (mx - cx) * 1.3, cy + (my - cy) * 1.3)
    placed = spread_labels(view, wanted, fixed=first, shrink=1.0)
    return {n: (round(x, 1), round(y, 1)) for n, (x, y) in placed.items()}


Box = tuple[float, float, float, float]  # left, top, right, bottom, relative to the node's centre


def _text_width(line: str, font: float) -> float:
    # a Chinese character is about one em wide, a Latin letter or digit about 0.6 em
    # (“”、… are full width in CJK fonts too)
    return sum(font if ord(c) >= 0x2000 else 0.6 * font for c in line)


def label_box(node: ViewNode, leads: int = 0) -> Box:
    """The area a node and its label cover on the canvas, as vis-network draws them (box shapes hold
    their label; the other shapes draw it below)."""
    label, size, font = node_look(node, leads)
    lines = label.split("\n")
    width = max(_text_width(line, font) for line in lines)
    height = font * 1.2 * len(lines)
    if CLASS_STYLES[node.cls].shape == "box":
        return (-width / 2 - 12, -height / 2 - 8, width / 2 + 12, height / 2 + 8)  # vis-network: margin 5 and the border
    half = max(size, width / 2)
    return (-half, -size, half, size + 4 + height)


_PRIORITY = {"document": 0, "agency": 1, "programme": 2, "directive": 3, "section": 4, "measure": 5, "target": 6}


SCREEN_ASPECT = 1.1
PULL_TRIES_LIMIT = 300
"""Width / height of the page's canvas at the usual window size (the legend and panel take the sides)."""


def spread_labels(view: ViewGraph, positions: Mapping[str, tuple[float, float]], gap: float = 8.0,
                  fixed: Mapping[str, tuple[float, float]] | None = None,
                  shrink: float | None = None) -> dict[str, tuple[float, float]]:
    """Move nodes so that no two label boxes overlap, each as near as free room allows to where the
    layout wanted it, first pulled in towards the middle so the picture is compact enough for its
    labels to be readable when the whole page is fitted to the screen. Without `shrink`, a few pulls
    are tried and the picture that fits the canvas at the biggest zoom is kept.

    The focus node, documents and the agencies that lead most are placed first and so move least;
    the search spirals out from the wanted spot, starting away from the middle, with a grid of cells
    so that each try looks at its neighbours only. Nodes in `fixed` stay where they are (others avoid
    them).
    """
    fixed = fixed or {}
    leads = _lead_counts(view)
    boxes = {n: label_box(node, leads.get(n, 0)) for n, node in view.nodes.items() if n in positions or n in fixed}
    if not boxes:
        return dict(positions)
    order = {n: i for i, n in enumerate(view.nodes)}
    wanted = {**positions, **fixed}
    if view.root is not None or sum(v.cls == "document" for v in view.nodes.values()) == 1:
        # one radial tree: inner rings first, so the tree keeps its rings (the focus's own measures
        # stay round it, the agencies of those measures outside)
        def rank(n: str) -> tuple:
            return (n != view.root, round(math.hypot(*wanted[n]), 1), order[n])
    else:  # several clusters: documents, then the agencies that lead most, then the rest by class
        def rank(n: str) -> tuple:
            return (n != view.root, _PRIORITY[view.nodes[n].cls], -leads.get(n, 0), order[n])
    ranked = sorted(boxes, key=rank)
    if shrink is not None:
        return _place_boxes(ranked, positions, boxes, fixed, shrink, gap)
    moving = [n for n in boxes if n not in fixed]
    need = sum((boxes[n][2] - boxes[n][0] + gap) * (boxes[n][3] - boxes[n][1] + gap) for n in moving)
    xs = [positions[n][0] for n in moving] or [0.0]
    ys = [positions[n][1] for n in moving] or [0.0]
    have = (max(xs) - min(xs) + 1.0) * (max(ys) - min(ys) + 1.0)
    # most of the picture is labels: dense, yet room to move; on big pages a looser pull, since a crowd
    # makes each node try many spots (0.3 s instead of 1 s for the corpus's 512 nodes)
    small = len(moving) <= PULL_TRIES_LIMIT
    first = min(1.0, math.sqrt((1.3 if small else 2.5) * need / have))

    def extent(placed: Mapping[str, tuple[float, float]]) -> float:
        # the size the fitted page must show: the wider of the picture's width and its height × aspect
        lefts = [placed[n][0] + boxes[n][0] for n in boxes]
        rights = [placed[n][0] + boxes[n][2] for n in boxes]
        tops = [placed[n][1] + boxes[n][1] for n in boxes]
        bottoms = [placed[n][1] + boxes[n][3] for n in boxes]
        return max(max(rights) - min(lefts), (max(bottoms) - min(tops)) * SCREEN_ASPECT)

    best: dict[str, tuple[float, float]] = {}
    best_extent = math.inf
    # a stronger pull packs tighter, until the spirals push back out; on big pages each try costs
    # seconds for a few per cent, so they keep the first
    factors = (1.0, 0.75, 0.55, 0.4) if small else (1.0,)
    for factor in factors:
        placed = _place_boxes(ranked, positions, boxes, fixed, first * factor, gap)
        size = extent(placed)
        if size >= best_extent - 1e-6:
            break  # packed as tight as it gets: a stronger pull only makes the spirals (and the time) longer
        best, best_extent = placed, size
    return best


def _place_boxes(ranked: Sequence[str], positions: Mapping[str, tuple[float, float]], boxes: Mapping[str, Box],
                 fixed: Mapping[str, tuple[float, float]], shrink: float, gap: float) -> dict[str, tuple[float, float]]:
    """One placement for spread_labels: fixed nodes first, then each node of `ranked` in the free
    spot nearest to its wanted position × `shrink`."""
    cell = 80.0
    grid: dict[tuple[int, int], list[Box]] = defaultdict(list)

    def cells(box: Box) -> Iterator[tuple[int, int]]:
        for i in range(math.floor(box[0] / cell), math.floor(box[2] / cell) + 1):
            for j in range(math.floor(box[1] / cell), math.floor(box[3] / cell) + 1):
                yield (i, j)

    def free(box: Box) -> bool:
        x0, y0, x1, y1 = box
        for i in range(math.floor(x0 / cell), math.floor(x1 / cell) + 1):
            for j in range(math.floor(y0 / cell), math.floor(y1 / cell) + 1):
                for o in grid.get((i, j), ()):
                    if x0 < o[2] and o[0] < x1 and y0 < o[3] and o[1] < y1:
                        return False
        return True

    def claim(node_id: str, x: float, y: float) -> None:
        left, top, right, bottom = boxes[node_id]
        box = (x + left - gap / 2, y + top - gap / 2, x + right + gap / 2, y + bottom + gap / 2)
        for c in cells(box):
            grid[c].append(box)

    placed: dict[str, tuple[float, float]] = {}
    for node_id, (x, y) in fixed.items():
        if node_id in boxes:
            claim(node_id, x, y)
            placed[node_id] = (x, y)
    for node_id in ranked:
        if node_id in placed:
            continue
        wx, wy = positions[node_id][0] * shrink, positions[node_id][1] * shrink
        left, top, right, bottom = boxes[node_id]
        start = math.atan2(wy, wx)
        # rings half the node's height apart, spots on a ring a third of its width apart: finer would
        # only try more spots that touch the same neighbours
        step = max(10.0, (bottom - top) / 2)
        along = max(step, (right - left) / 3)
        ring = 0
        spot = None
        while spot is None:
            radius = ring * step
            count = 1 if ring == 0 else max(8, int(2 * math.pi * radius / along))
            for k in range(count):
                angle = start + 2 * math.pi * k / count
                x, y = wx + radius * math.cos(angle), wy + radius * math.sin(angle)
                if free((x + left - gap / 2, y + top - gap / 2, x + right + gap / 2, y + bottom + gap / 2)):
                    spot = (x, y)
                    break
            ring += 1
        placed[node_id] = spot
        claim(node_id, *spot)
    placed.update({n: xy for n, xy in positions.items() if n not in placed})
    return placed


def _radial_tree(root: str, members: list[str], adjacency: Mapping[str, list[str]], order: Mapping[str, int],
                 spacing: float) -> tuple[dict[str, tuple[float, float]], float]:
    """Positions of a cluster around its root (at 0,0) and the cluster's radius."""
    allowed = set(members)
    children: dict[str, list[str]] = defaultdict(list)
    depth = {root: 0}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for other in sorted(adjacency.get(node, ()), key=order.__getitem__):
            if other in allowed and other not in depth:
                depth[other] = depth[node] + 1
                children[node].append(other)
                queue.append(other)
    for node in members:  # not reachable inside the cluster (its links were filtered out): hang it on the root
        if node not in depth:
            depth[node] = 1
            children[root].append(node)

    leaves: dict[str, int] = {}

    def count(node: str) -> int:
        # iterative post-order: clusters can be thousands deep in degenerate graphs
        stack = [(node, False)]
        while stack:
            current, done = stack.pop()
            if done:
                leaves[current] = sum(leaves[c] for c in children[current]) or 1
            else:
                stack.append((current, True))
                stack.extend((c, False) for c in children[current])
        return leaves[node]

    total = count(root)
    max_depth = max(depth.values())
    if max_depth == 0:
        return {root: (0.0, 0.0)}, spacing
    outer = max(max_depth * spacing * 2.5, total * spacing / (2 * math.pi))
    positions = {root: (0.0, 0.0)}
    stack = [(root, 0.0, 2 * math.pi)]
    while stack:
        node, start, span = stack.pop()
        offset = start
        for child in children[node]:
            share = span * leaves[child] / leaves[node]
            angle = offset + share / 2
            # a leaf hanging from a shallow node (a directive or target of the document itself) goes to
            # the outer rings: on an inner ring its small angular share would pile it onto its siblings
            level = depth[child] if children[child] else max(depth[child], max_depth - 1)
            r = outer * level / max_depth
            positions[child] = (r * math.cos(angle), r * math.sin(angle))
            stack.append((child, offset, share))
            offset += share
    return positions, outer + spacing


def _place_clusters(roots: Sequence[str], radius: Mapping[str, float], commons: int,
                    spacing: float) -> dict[str, tuple[float, float]]:
    """Cluster centres on a ring around the middle, where the shared nodes go."""
    if not roots:
        return {}
    if len(roots) == 1:
        return {roots[0]: (0.0, 0.0)}
    widths = [2 * radius[r] + spacing for r in roots]
    middle = spacing * math.sqrt(commons / math.pi) + spacing if commons else 0.0
    ring = max(sum(widths) / (2 * math.pi), middle + max(radius.values()) + spacing)
    centres = {}
    offset = 0.0
    total = sum(widths)
    for root, width in zip(roots, widths, strict=True):
        angle = 2 * math.pi * (offset + width / 2) / total - math.pi / 2
        centres[root] = (ring * math.cos(angle), ring * math.sin(angle))
        offset += width
    return centres


def _place_commons(commons: list[str], nodes: Mapping[str, ViewNode], centres: Mapping[str, tuple[float, float]],
                   radius: Mapping[str, float], spacing: float) -> dict[str, tuple[float, float]]:
    """Each shared node in the nearest free grid cell to (half way towards) the clusters it belongs to."""
    taken: set[tuple[int, int]] = set()
    for root, (cx, cy) in centres.items():  # cluster discs are not free
        reach = int(radius[root] / spacing) + 1
        ci, cj = round(cx / spacing), round(cy / spacing)
        for i in range(ci - reach, ci + reach + 1):
            for j in range(cj - reach, cj + reach + 1):
                if math.hypot(i * spacing - cx, j * spacing - cy) <= radius[root]:
                    taken.add((i, j))

    def wanted(node_id: str) -> tuple[float, float]:
        homes = [centres[d] for d in nodes[node_id].documents if d in centres]
        if not homes:
            return (0.0, 0.0)
        return (0.5 * sum(x for x, _ in homes) / len(homes), 0.5 * sum(y for _, y in homes) / len(homes))

    # most shared first: they get the middle
    ordered = sorted(commons, key=lambda n: (-len(nodes[n].documents), n))
    placed = {}
    for node_id in ordered:
        wx, wy = wanted(node_id)
        gi, gj = round(wx / spacing), round(wy / spacing)
        ring = 0
        while True:
            free = [cell for cell in _square_ring(gi, gj, ring) if cell not in taken]
            if free:
                cell = min(free, key=lambda c: (math.hypot(c[0] * spacing - wx, c[1] * spacing - wy), c))
                taken.add(cell)
                placed[node_id] = (cell[0] * spacing, cell[1] * spacing)
                break
            ring += 1
    return placed


def _square_ring(ci: int, cj: int, ring: int) -> list[tuple[int, int]]:
    """The grid cells at Chebyshev distance `ring` from (ci, cj)."""
    if ring == 0:
        return [(ci, cj)]
    top = [(i, cj - ring) for i in range(ci - ring, ci + ring + 1)]
    bottom = [(i, cj + ring) for i in range(ci - ring, ci + ring + 1)]
    sides = [(ci + d, j) for d in (-ring, ring) for j in range(cj - ring + 1, cj + ring)]
    return top + bottom + sides


# ---------------------------------------------------------------- 5. the page

def short_label(text: str, limit: int) -> str:
    """At most `limit` characters on the canvas (an ellipsis marks a cut); the full name is on hover."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def node_look(node: ViewNode, leads: int = 0) -> tuple[str, float, float]:
    """(canvas label, size, font size) of a node. An agency grows with the measures it leads, so the
    page answers "which agency leads what" before anything is clicked."""
    style = CLASS_STYLES[node.cls]
    label = short_label(node.label, style.label_chars)
    size, font = float(style.size), float(style.font_size)
    if node.count:
        label += f"\n{node.count} 项措施"
    if node.cls == "agency" and leads:
        label += f"\n牵头 {leads}"
        size = round(style.size * 0.8 + 5 * math.sqrt(leads), 1)
        font = round(style.font_size + 1.5 * math.sqrt(leads), 1)
    return label, size, font


def _vis_node(node: ViewNode, position: tuple[float, float] | None, leads: int = 0) -> dict:
    label, size, font = node_look(node, leads)
    item: dict = {"id": node.id, "label": label, "group": node.cls,
                  "ipg": {"cls": node.cls, "name": node.label, "aliases": list(node.aliases),
                          "info": [_display_pair(pair) for pair in node.info], "docs": list(node.documents),
                          "count": node.count, "warnings": [list(w) for w in node.warnings], "leads": leads}}
    if node.more_documents or node.more_edges:  # the bounded page: what the panel says is left off
        item["ipg"]["more"] = {"docs": node.more_documents, "edges": node.more_edges}
    style = CLASS_STYLES[node.cls]
    if size != style.size:
        item["size"] = size
    if font != style.font_size:
        item["font"] = {"size": font}
    if position is not None:
        item["x"], item["y"] = position
    return item


_WRAP_GAP = re.compile(r"(?<=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef0-9])\s+(?=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])"
                       r"|(?<=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])\s+(?=[0-9])")


def display_text(text: str) -> str:
    """The joined form of hard-wrapped Chinese text ("市\n版权局" → "市版权局") for the page to show.

    Only whitespace with Chinese (or full-width punctuation) on one side and Chinese or a digit on the
    other goes: spaces between Latin words stay. The graph keeps the verbatim text.
    """
    return _WRAP_GAP.sub("", text)


def _display_pair(pair: tuple[str, str]) -> list[str]:
    """[field, shown text] plus the verbatim text when joining changed it (the page offers it on hover)."""
    shown = display_text(pair[1])
    return [pair[0], shown] if shown == pair[1] else [pair[0], shown, pair[1]]


def _dashes(style: RelationStyle) -> bool | list[int]:
    return list(style.dashes) if isinstance(style.dashes, tuple) else style.dashes


def _vis_edge(index: int, edge: ViewEdge, detailed: bool = True) -> dict:
    """A vis-network edge. Not `detailed` (big pages): no dashes, labels or arrows, which cost most of the
    drawing time in Chromium's software canvas (measured: 5,000 nodes drew in ~4.5 s with them, ~0.4 s
    without); colour and width still tell lead from responsible."""
    style = RELATION_STYLES[edge.relation]
    # the same colour when selected or hovered: vis-network's default highlight grey would hide lead vs responsible
    colour = {"color": style.color, "highlight": style.color, "hover": style.color, "inherit": False}
    shown = [display_text(e) for e in edge.evidence]  # joined; the verbatim sentences are in the graph (and the panel)
    item: dict = {"id": f"e{index}", "from": edge.source, "to": edge.target, "color": colour,
                  "width": style.width if not edge.count else min(8.0, style.width + math.log2(edge.count)),
                  "dashes": _dashes(style) if detailed else False,
                  "arrows": "to" if detailed and edge.relation != "partOf" else "",
                  "ipg": {"rel": edge.relation, "count": edge.count, "evidence": shown}}
    if shown != list(edge.evidence):  # only when joining changed one: pages stay small
        item["ipg"]["verbatim"] = list(edge.evidence)
    if style.labelled and detailed:
        item["label"] = style.zh + (f"×{edge.count}" if edge.count > 1 else "")
        item["font"] = {"color": style.color}
    return item


def is_detailed(node_count: int) -> bool:
    """Whether a page of this many nodes draws edge labels, dashes and arrows (see _vis_edge)."""
    return node_count <= DETAILED_LIMIT


def vis_options(node_count: int) -> dict:
    """vis-network options: fixed positions, no physics, straight edges, labels hidden when tiny."""
    big = not is_detailed(node_count)
    font_face = '"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif'
    groups = {key: {"shape": s.shape, "size": s.size,
                    "color": {"background": s.color, "border": s.color,
                              "highlight": {"background": s.color, "border": "#222222"},
                              "hover": {"background": s.color, "border": "#222222"}},
                    "font": {"color": "#ffffff" if s.shape == "box" else "#222222", "size": s.font_size}}
              for key, s in CLASS_STYLES.items()}
    return {
        "autoResize": True,
        "groups": groups,
        "nodes": {"font": {"face": font_face, "size": 14, "strokeWidth": 0, "multi": False},
                  "scaling": {"label": {"drawThreshold": 5}}, "borderWidth": 1, "borderWidthSelected": 5},
        "edges": {"smooth": False, "selectionWidth": 2, "hoverWidth": 0.5,
                  "font": {"face": font_face, "size": 11, "strokeWidth": 3, "strokeColor": "#ffffff",
                           "align": "middle", "multi": False},
                  "scaling": {"label": {"drawThreshold": 8}},
                  "arrows": {"to": {"scaleFactor": 0.5}}},
        "physics": {"enabled": False, "solver": "barnesHut",
                    "barnesHut": {"gravitationalConstant": -3000, "springLength": 120, "avoidOverlap": 0.2},
                    "stabilization": {"enabled": False}},
        "layout": {"improvedLayout": False},
        "interaction": {"hover": not big, "tooltipDelay": 200, "hideEdgesOnDrag": big, "hideEdgesOnZoom": big,
                        "navigationButtons": False, "keyboard": False, "multiselect": False},
    }


def attach_quality(view: ViewGraph, quality: Mapping[str, Sequence[tuple[str, str]]]) -> ViewGraph:
    """Give each document node its quality report lines (report.json), keyed by source file name."""
    nodes = {}
    for key, node in view.nodes.items():
        source = dict(node.info).get("源文件 file") if node.cls == "document" else None
        lines = quality.get(Path(source).name, ()) if source else ()
        nodes[key] = replace(node, warnings=tuple((str(a), str(b)) for a, b in lines)) if lines else node
    return replace(view, nodes=nodes)


def _page_meta(view: ViewGraph, title: str, overview: ViewGraph | None, overview_first: bool) -> dict:
    detailed = is_detailed(len(view.nodes))
    return {
        # the overview's classes; "first": the page opens on it (the whole graph, not a chosen part)
        "overview": ({"classes": sorted({n.cls for n in overview.nodes.values()}, key=CLASS_ORDER.__getitem__),
                      # shown at first: documents and agencies; programmes and directives a tick away
                      "start": [c for c in OVERVIEW_CORE if any(n.cls == c for n in overview.nodes.values())],
                      "first": overview_first} if overview is not None else None),
        "legendNote": ("红色粗线=牵头，灰色虚线=负责。Thick red = leads; grey dashes = responsible." if detailed else
                       "红色粗线=牵头，灰色细线=负责；节点多，连线不画箭头和文字。Thick red = leads; thin grey = "
                       "responsible; a big page draws edges without arrows or labels."),
        "title": title,
        "note": view.note,
        "aggregated": view.aggregated,
        "selectedNodes": view.selected_nodes,
        "root": view.root,
        "classes": [{"key": s.key, "zh": s.zh, "en": s.en, "color": s.color, "shape": s.shape}
                    for s in CLASS_STYLES.values()],
        "relations": [{"key": s.key, "zh": s.zh, "en": s.en, "color": s.color, "width": s.width,
                       "dashes": _dashes(s) if detailed else False,
                       "outZh": s.out_zh, "outEn": s.out_en, "inZh": s.in_zh, "inEn": s.in_en}
                      for s in RELATION_STYLES.values()],
    }


def _inline(folder: str, name: str, closing: str) -> str:
    """A packaged file's text for inlining into the page; it must not contain its own closing tag."""
    text = (files("ipgraph") / folder / name).read_text(encoding="utf-8")
    text = re.sub(r"^//# sourceMappingURL=\S*\s*$", "", text, flags=re.M)  # no map file ships with the page
    if closing in text.lower():  # would end the inline element early
        raise ViewError(f"ipgraph/{folder}/{name}: contains '{closing}'; cannot be inlined")
    return text


class _Serialized(str):
    """JSON page_json already made (PageParts): the template's |tojson passes it through as it is."""


def page_json(value: Any) -> Any:  # markupsafe.Markup
    """The page's |tojson: Jinja's escapes (< > & ' as \\u escapes, so no "</script>" can end a data block),
    keys sorted, UTF-8 (half the size of \\u escapes), through orjson: the page's ~40 MB of nodes, edges
    and search data at 1,000 documents in a quarter of json's time."""
    from markupsafe import Markup

    if isinstance(value, _Serialized):
        return Markup(str(value))
    return Markup(page_json_bytes(value).decode("utf-8"))


def page_json_bytes(value: Any) -> bytes:
    """page_json's text as UTF-8 bytes (what the page file holds)."""
    data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    for char, escape in ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"), (b"'", b"\\u0027")):
        data = data.replace(char, escape)
    return data


@dataclass
class PageParts:
    """A page without its search data: everything drawn, laid out and serialised (page_parts), so that
    it can be made in another process while the search stage runs and joined with the search data
    afterwards (page_from_parts). Plain values: pickled between processes."""

    title: str
    meta: dict[str, Any]
    options: dict[str, Any]
    nodes_json: str  # page_json of the vis nodes
    edges_json: str
    drawn: list[str]  # the ids of the nodes drawn: a bounded page's search data keeps theirs only
    bounded: bool
    nodes: int
    edges: int
    selected_nodes: int
    aggregated: bool


def graph_parts(view: ViewGraph, *, title: str = "ipgraph", overview_first: bool = False,
                bounded: bool = False, fork_edges: bool = False) -> PageParts:
    """The PageParts of `view`: positions, vis nodes and edges, the overview, meta and options.
    `fork_edges` (a process of the build's own, which may fork: write_page_parts): above SPLIT_EDGES the
    edges' JSON, which needs no position, is made in a fork of this process while this one lays out the
    nodes (at 1,000 plans 58,000 edges: ~0.35 s of the ~0.55 s)."""
    # the whole graph gets an overview; a chosen part is drawn as chosen (its documents may be left out)
    overview = overview_view(view) if overview_first and _has_overview(view) else None
    beside = in_fork(_edges_json, view, overview) if fork_edges and len(view.edges) > SPLIT_EDGES else None
    positions = layout(view)
    lead_counts = _lead_counts(view)
    vis_nodes = [_vis_node(node, positions.get(node.id), lead_counts.get(node.id, 0)) for node in view.nodes.values()]
    if overview is not None:  # the overview's positions ride along: the page switches between the two views
        by_id = {item["id"]: item for item in vis_nodes}
        for node_id, (x, y) in overview_layout(overview).items():
            by_id[node_id]["ipg"]["ov"] = [x, y]
    nodes_json = str(page_json(vis_nodes))
    edges_json = None
    if beside is not None:
        try:
            edges_json = beside()
        except OSError:  # the fork gave no answer: made here
            pass
    if edges_json is None:
        edges_json = _edges_json(view, overview)
    return PageParts(title=title, meta=_page_meta(view, title, overview, overview_first),
                     options=vis_options(len(view.nodes)), nodes_json=nodes_json,
                     edges_json=edges_json, drawn=sorted(view.nodes) if bounded else [],
                     bounded=bounded, nodes=len(view.nodes), edges=len(view.edges),
                     selected_nodes=view.selected_nodes, aggregated=view.aggregated)


SPLIT_EDGES = 20_000  # graph_parts(fork_edges=True) makes the edges' JSON in a fork above this many edges


def _edges_json(view: ViewGraph, overview: ViewGraph | None) -> str:
    """page_json of _vis_edges."""
    return page_json_bytes(_vis_edges(view, overview)).decode("utf-8")


def _vis_edges(view: ViewGraph, overview: ViewGraph | None) -> list[dict]:
    """The page's vis edges: the view's, then the overview's (marked, drawn when the page shows it)."""
    detailed = is_detailed(len(view.nodes))
    vis_edges = [_vis_edge(i, edge, detailed) for i, edge in enumerate(view.edges)]
    if overview is not None:
        base = len(vis_edges)
        for i, edge in enumerate(overview.edges):
            item = _vis_edge(base + i, edge, True)
            item["ipg"]["ov"] = True
            vis_edges.append(item)
    return vis_edges


def page_from_parts(parts: PageParts, search_data: Mapping[str, Any] | None = None) -> str:
    """The whole page as one HTML string: `parts` and the search data (ipgraph.search.stage.page_data:
    the measure-text index and the echoes, read by graph.js; a bounded page keeps its drawn nodes' only).

    Rendered with Jinja directly: pyvis's Network.generate_html only filled this template, and pyvis
    pulls IPython, jedi and prompt_toolkit into every install (+1.5 s to import). The page keeps
    pyvis's globals (`network`, `nodes`, `edges` …) so scripts written for pyvis pages still work.
    """
    return b"".join(page_pieces(parts, search_data)).decode("utf-8")


# where the page's data blocks go in the rendered template: NUL cannot come out of the template, the meta
# or the options (JSON spells it \u0000), so each marker is found exactly once
_DATA_MARKS = {name: f"\x00ipgraph-{name}\x00" for name in ("nodes", "edges", "search")}


def page_pieces(parts: PageParts, search_data: Mapping[str, Any] | None = None) -> list[bytes]:
    """page_from_parts as UTF-8 pieces in order: the template rendered around markers, with the nodes, the
    edges and the search data (~40 MB at 1,000 documents) put in as bytes, never joined into one string
    (write_page writes them one after the other: no copy of the whole page)."""
    from jinja2 import Environment, PackageLoader, select_autoescape
    from markupsafe import Markup

    if parts.bounded:
        search_data = bounded_search_data(search_data, set(parts.drawn))
    env = Environment(loader=PackageLoader("ipgraph", "templates"), autoescape=select_autoescape(["j2", "html"]))
    env.filters["tojson"] = page_json
    ipgraph = {
        "meta": parts.meta,
        "options": parts.options,
        # package files, not graph data: inlined verbatim so the page needs no network and no other file
        "vis_js": Markup(_inline("static", VIS_JS, "</script")),
        "app_js": Markup(_inline("templates", "graph.js", "</script")),
        "css": Markup(_inline("templates", "graph.css", "</style")),
    }
    template = env.get_template(TEMPLATE_NAME)
    data = {"nodes": parts.nodes_json.encode("utf-8"), "edges": parts.edges_json.encode("utf-8")}
    if search_data:  # the template leaves the block out for no search data
        data["search"] = page_json_bytes(search_data)
    html = template.render(heading=parts.title, nodes=_Serialized(_DATA_MARKS["nodes"]),
                           edges=_Serialized(_DATA_MARKS["edges"]), ipgraph=ipgraph,
                           search=_Serialized(_DATA_MARKS["search"]) if search_data else search_data)
    pieces: list[bytes] = []
    rest = html
    for name in sorted(data, key=lambda n: html.index(_DATA_MARKS[n])):
        before, mark, rest = rest.partition(_DATA_MARKS[name])
        if not mark or _DATA_MARKS[name] in rest:
            raise ValueError(f"the page template must hold the {name} block once")
        pieces += [before.encode("utf-8"), data[name]]
    pieces.append(rest.encode("utf-8"))
    return pieces


def page_html(view: ViewGraph, *, title: str = "ipgraph", overview_first: bool = False,
              search_data: Mapping[str, Any] | None = None) -> str:
    """The whole page of `view` as one HTML string (vis-network inlined; deterministic for the same view)."""
    return page_from_parts(graph_parts(view, title=title, overview_first=overview_first), search_data)


def page_parts(graph: Graph | FoldedGraph, *, focus: str | None = None, document: str | None = None,
               types: str | Iterable[str] | None = None, depth: int = 1,
               node_budget: int = DEFAULT_NODE_BUDGET, title: str | None = None,
               quality: Mapping[str, Sequence[tuple[str, str]]] | None = None, fork_edges: bool = False) -> PageParts:
    """render_page's PageParts: what it draws of `graph`, without the search data (fork_edges: graph_parts')."""
    bounded = False
    if isinstance(graph, FoldedGraph):  # a graph too big to draw (TripleIndex.for_page): the bounded page
        if focus or document or types:
            raise ViewError("a folded graph makes the bounded page of the whole graph only: "
                            "give --focus, --document or --type to `ipgraph view`")
        if graph.bounded:
            shown = bounded_view(graph, node_budget)
            bounded = True
        elif graph.drawn > node_budget:  # the page aggregate_view makes of the whole graph, read without its measures
            shown = folded_aggregate_view(graph, node_budget)
        else:
            raise ViewError(f"a folded graph of {graph.drawn} nodes is drawn whole under a budget of {node_budget}: "
                            "read it with TripleIndex.from_ntriples")
    else:
        whole = read_view(graph)
        selected = select_view(whole, focus=focus, document=document, types=types, depth=depth)
        shown = aggregate_view(selected, node_budget, source=whole)
    if quality:
        shown = attach_quality(shown, quality)
    if title is None:
        named = [f"焦点 {focus}" if focus else "", f"文件 {document}" if document else "",
                 f"类 {','.join(parse_types(types) or ())}" if types else ""]
        title = "ipgraph 知识产权政策图谱" + (" · " + " · ".join(p for p in named if p) if any(named) else "")
    # the whole graph opens on its overview; a chosen part (focus, document, classes) opens on itself
    return graph_parts(shown, title=title, overview_first=not (focus or document or types), bounded=bounded,
                       fork_edges=fork_edges)


def write_page(parts: PageParts, out_path: Path | str, search_data: Mapping[str, Any] | None = None,
               started: float | None = None) -> PageInfo:
    """Write page_from_parts to `out_path`, atomically."""
    started = time.perf_counter() if started is None else started
    pieces = page_pieces(parts, search_data)
    out = Path(out_path)
    with atomic_write(out, "wb") as handle:
        for piece in pieces:
            handle.write(piece)
    return PageInfo(path=out, nodes=parts.nodes, edges=parts.edges, selected_nodes=parts.selected_nodes,
                    aggregated=parts.aggregated, bytes=sum(len(p) for p in pieces), seconds=time.perf_counter() - started)


def write_page_parts(nt: str | PatchedFile, drawn: int | None, previous: str | None, previous_file: str | None,
                     changes: list[str] | None, quality: Mapping[str, Sequence[tuple[str, str]]], folder: str,
                     parts_path: str, base: FoldedGraph | None = None, forks: bool = False) -> None:
    """The build page's PageParts of the N-Triples file `nt`, pickled into parts_path, then its fold kept in
    `folder` (TripleIndex.for_build_page: the fold of the generation `previous`, whose graph is
    `previous_file`, patched by `changes`; `base`: that fold, already read): what ipgraph.pipeline.StagedPage
    runs beside an incremental build's search stage. The parts come first, so that the build can read them
    while the fold is written. `forks` (run in a child process of the build's own): the fold is written by a
    fork of it while the page is drawn, and the edges' JSON made by another (graph_parts(fork_edges=True))."""
    import pickle

    graph: Any = TripleIndex.for_build_page(nt, drawn, previous=previous, changes=changes,
                                            previous_file=previous_file, base=base)
    del base
    keep = isinstance(graph, FoldedGraph) and not graph.bounded  # the fold for_build_page(keep=…) keeps
    kept = in_fork(save_fold, graph, folder) if keep and forks else None
    parts = page_parts(graph, quality=quality, fork_edges=forks)  # leaves the fold as it was
    atomic_write_bytes(Path(parts_path), pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL))
    del parts
    if keep:
        try:
            if kept is None:
                raise OSError("not forked")
            kept()
        except OSError:  # not forked, or the fork failed: written here
            save_fold(graph, folder)


def write_page_parts_when_told(previous: str, previous_file: str, folder: str, told: str, parts_path: str) -> None:
    """write_page_parts started before the change is known (ipgraph.pipeline.StagedPage.early): the fold of
    the generation `previous` is read first, then the call waits for the file `told` (the pickled nt, drawn,
    changes and quality) and draws the page."""
    import pickle

    base = load_fold(previous)
    while not os.path.exists(told):  # written atomically by the build, which this process dies with
        time.sleep(0.005)
    with open(told, "rb") as handle:  # the build's own file, in its scratch folder
        nt, drawn, changes, quality = pickle.load(handle)
    write_page_parts(nt, drawn, previous, previous_file, changes, quality, folder, parts_path, base=base, forks=True)


def render_page(graph: Graph | FoldedGraph, out_path: Path | str, *, focus: str | None = None, document: str | None = None,
                types: str | Iterable[str] | None = None, depth: int = 1,
                node_budget: int = DEFAULT_NODE_BUDGET, title: str | None = None,
                quality: Mapping[str, Sequence[tuple[str, str]]] | None = None,
                search_data: Mapping[str, Any] | None = None) -> PageInfo:
    """Write the page for `graph` (or the part chosen by focus/document/types/depth) to `out_path`.

    `quality` (ipgraph.report.page_lines): per source file, the (severity, text) lines of its
    quality report, shown in the document's panel. `search_data` (ipgraph.search.stage.page_data): the
    search box ranks measure texts with it, and a measure's panel lists its echoes.

    Raises ViewError for an unknown focus name, document or class. The file is written atomically.
    """
    started = time.perf_counter()
    parts = page_parts(graph, focus=focus, document=document, types=types, depth=depth, node_budget=node_budget,
                       title=title, quality=quality)
    return write_page(parts, out_path, search_data, started)


# ---------------------------------------------------------------- benchmark (`ipgraph bench view`)

CHROMIUM_PATH = "/usr/bin/chromium"
# Headless Chromium on a closed network, possibly as root: no sandbox (root), no GPU, and none of the
# background traffic (updates, sync, first-run pages) that would wait on the network.
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage")
VIEWPORT = {"width": 1600, "height": 1000}


@contextmanager
def headless_chromium(executable: Path | str = CHROMIUM_PATH) -> Iterator[Any]:
    """A Playwright Browser on the system's Chromium (Debian `chromium`); never downloads a browser.

    Raises ViewError when Playwright or the executable is missing.
    """
    if not Path(executable).is_file():
        raise ViewError(f"{executable}: no Chromium here; install Debian's `chromium` (scripts/test.sh does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise ViewError("playwright is not installed; run `pip install -e '.[test]'`") from exc
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


def page_load_seconds(browser: Any, path: Path | str, timeout_s: float = 120.0) -> float:
    """Seconds from navigation start to the page's first drawing of the network, in a fresh page.

    With fixed positions and physics off the first drawing is the stable picture. Raises ViewError
    when the page reports a script error or does not draw within `timeout_s`.
    """
    page = browser.new_page(viewport=VIEWPORT)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        page.goto(Path(path).resolve().as_uri())
        try:
            page.wait_for_function("window.ipgraphReady === true", timeout=timeout_s * 1000)
        except Exception as exc:  # playwright's TimeoutError
            raise ViewError(f"{path}: not drawn within {timeout_s:.0f} s ({'; '.join(errors) or exc})") from exc
        if errors:
            raise ViewError(f"{path}: page errors: {'; '.join(errors)}")
        return float(page.evaluate("window.ipgraphLoadMs")) / 1000.0
    finally:
        page.close()


def run_view_bench(build_dir: Path | str = "build", nodes: int = 5000, repeat: int = 5,
                   chromium: Path | str = CHROMIUM_PATH, keep: Path | str | None = None,
                   json_out: Path | str | None = None, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Time the corpus page and a page of about `nodes` nodes (the corpus graph copied by
    ipgraph.synthetic.scaled_graph): Python render time and Chromium load-to-drawn time, medians of
    `repeat` runs each. Pages are written to `keep` (kept) or a temporary folder.
    """
    import tempfile

    from ipgraph.store import load_graph
    from ipgraph.synthetic import scaled_graph

    def drawn(graph: Graph) -> int:
        return len({s for style in CLASS_STYLES.values() for s in graph.subjects(RDF.type, style.rdf_class)})

    base = load_graph(build_dir)
    copies = max(1, math.ceil(nodes / max(1, drawn(base))))
    scaled = scaled_graph(base, copies)
    while drawn(scaled) < nodes:  # shared nodes make growth sublinear: add copies until big enough
        copies += 1
        scaled = scaled_graph(base, copies)
    graphs = [("corpus", base), (f"scaled ×{copies}", scaled)]

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ipgraph-bench-view-") as tmp:
        folder = Path(keep) if keep is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        with headless_chromium(chromium) as browser:
            version = browser.version
            for name, graph in graphs:
                out = folder / f"{name.split()[0]}.html"
                renders = []
                for _ in range(repeat):
                    info = render_page(graph, out)
                    renders.append(info.seconds)
                loads = [page_load_seconds(browser, out) for _ in range(repeat)]
                rows.append({"page": name, "nodes": info.nodes, "edges": info.edges, "aggregated": info.aggregated,
                             "bytes": info.bytes, "render_s": statistics.median(renders),
                             "load_s": statistics.median(loads), "load_max_s": max(loads), "runs": repeat})
    echo(f"{'page':14s} {'nodes':>6s} {'edges':>6s} {'size':>8s} {'render (Python)':>16s} {'load (Chromium)':>16s}")
    for row in rows:
        echo(f"{row['page']:14s} {row['nodes']:6d} {row['edges']:6d} {row['bytes'] / 1e6:6.1f}MB "
             f"{row['render_s']:14.2f} s {row['load_s']:14.2f} s")
    echo(f"medians of {repeat} runs; Chromium {version} headless; load = navigation start → network first drawn")
    report = {"chromium": version, "repeat": repeat, "pages": rows}
    if json_out is not None:
        atomic_write_text(json_out, json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    return report


def take_screenshot(html: Path | str, png: Path | str, *, chromium: Path | str = CHROMIUM_PATH,
                    select: str | None = None) -> Path:
    """A PNG of the page as headless Chromium draws it (docs/graph-page.png is made with this).

    With `select`, the name is typed into the search box and the first result clicked, as a user
    would, and the whole graph is then fitted back into view with that node selected and its panel open.
    """
    with headless_chromium(chromium) as browser:
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(Path(html).resolve().as_uri())
        page.wait_for_function("window.ipgraphReady === true", timeout=120_000)
        if select:
            page.fill("#search", select)
            page.click("#search-results li:first-child button")
            page.evaluate("network.fit({animation: false})")
        page.wait_for_timeout(300)  # let the last redraw land
        atomic_write_bytes(png, page.screenshot())
    return Path(png)
