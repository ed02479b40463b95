"""What search indexes: one SearchDoc per measure, read from a built graph with SPARQL.

The same queries run on an rdflib Graph (a BuildResult's graph), an Oxigraph store (build/store)
or a build folder, through ipgraph.query's engines, so the index can be built wherever the graph is.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipgraph.query import Engine, OxigraphEngine, RdflibEngine
from ipgraph.search.tokenise import with_readings


@dataclass
class SearchDoc:
    """One measure as search sees it."""

    iri: str
    doc_iri: str
    document: str  # the document's label (its title)
    source_file: str
    doc_number: str  # 文号, "" where none
    level: str  # national | provincial | municipal | district | ""
    number: str
    order: int
    text: str
    title: str = ""
    section_title: str = ""
    lead: list[str] = field(default_factory=list)  # labels of the lead agencies
    agencies: list[str] = field(default_factory=list)  # labels and aliases of every assigned agency
    targets: list[str] = field(default_factory=list)  # indicator names of the measure's targets

    def indexed_text(self) -> str:
        """What the index reads: title, section heading, text and target indicators."""
        return "\n".join(p for p in (self.title, self.section_title, self.text, *self.targets) if p)

    def gram_text(self) -> str:
        """What the bigram fields read: indexed_text and the readings of its coordinated forms
        (tokenise.with_readings: 示范(优势)企业 is read as 示范企业 and 优势企业 too)."""
        return with_readings(self.indexed_text())


_MEASURES = """
SELECT ?m ?doc ?document ?file ?docNumber ?level ?number ?order ?text ?title ?sectionTitle WHERE {
  ?m a ipg:Measure ; ipg:partOf ?doc ; ipg:number ?number ; ipg:order ?order ; ipg:text ?text .
  ?doc rdfs:label ?document .
  OPTIONAL { ?doc ipg:sourceFile ?file }
  OPTIONAL { ?doc ipg:docNumber ?docNumber }
  OPTIONAL { ?doc ipg:level ?level }
  OPTIONAL { ?m ipg:title ?title }
  OPTIONAL { ?m ipg:section/ipg:sectionTitle ?sectionTitle }
}"""

_AGENCIES = """
SELECT ?m ?p ?name WHERE {
  VALUES ?p { ipg:leadAgency ipg:responsibleAgency }
  ?m a ipg:Measure ; ?p ?a .
  { ?a rdfs:label ?name } UNION { ?a skos:altLabel ?name }
}"""

_TARGETS = """
SELECT ?m ?indicator WHERE { ?m a ipg:Measure ; ipg:hasTarget/ipg:indicator ?indicator }"""

# Every name the graph knows: the user dictionary of the jieba tokeniser.
_NAMES = """
SELECT DISTINCT ?name WHERE {
  { ?x a ipg:Agency } UNION { ?x a ipg:Programme } UNION { ?x a ipg:Directive }
  { ?x rdfs:label ?name } UNION { ?x skos:altLabel ?name } UNION { ?x skos:prefLabel ?name }
  UNION { ?x dcterms:title ?name }
}"""

# Per document, the names of the agencies, programmes and directives it names (issuer, cited or
# drafted directive, a measure's lead or responsible agency, a mentioned programme): the words
# added to the jieba dictionary for its texts only (ipgraph.search.tokenise.segment_texts).
_DOC_NAMES = """
SELECT DISTINCT ?doc ?name WHERE {
  { VALUES ?p { ipg:issuedBy ipg:cites ipg:drafts } ?doc a ipg:PolicyDocument ; ?p ?x . }
  UNION
  { VALUES ?p { ipg:leadAgency ipg:responsibleAgency ipg:mentions } ?m a ipg:Measure ; ipg:partOf ?doc ; ?p ?x . }
  { ?x rdfs:label ?name } UNION { ?x skos:altLabel ?name } UNION { ?x skos:prefLabel ?name }
  UNION { ?x dcterms:title ?name }
}"""


def engine_for(source: Any) -> Engine:
    """An engine over `source`: a build folder, a pyoxigraph Store, an rdflib Graph, a BuildResult,
    or an engine already."""
    if hasattr(source, "execute"):
        return source
    if isinstance(source, (str, Path)):
        return OxigraphEngine.open(source)
    if hasattr(source, "graph") and hasattr(source, "records"):  # a pipeline BuildResult
        source = source.graph
    if type(source).__module__.startswith("pyoxigraph"):
        return OxigraphEngine(source)
    if hasattr(source, "serialize"):
        # rdflib's SPARQL engine takes seconds for these joins on the corpus; a copy in Oxigraph's
        # memory store answers them in milliseconds (the copy costs ~0.1 s per 10k triples)
        import pyoxigraph

        store = pyoxigraph.Store()
        store.load(source.serialize(format="nt", encoding="utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES)
        return OxigraphEngine(store, name="memory")
    return RdflibEngine(source)


def _level(iri: str | None) -> str:
    return iri.rsplit("#", 1)[-1].lower() if iri else ""


def read_docs(source: Any) -> list[SearchDoc]:
    """Every measure of the graph, in a stable order (document IRI, then order in the document)."""
    engine = engine_for(source)
    docs: dict[str, SearchDoc] = {}
    for r in engine.execute(_MEASURES).records():
        iri = r["m"] or ""
        if iri in docs:  # a second title or section heading: keep the first (sorted below)
            continue
        docs[iri] = SearchDoc(
            iri=iri, doc_iri=r["doc"] or "", document=r["document"] or "", source_file=r["file"] or "",
            doc_number=r["docNumber"] or "", level=_level(r["level"]), number=r["number"] or "",
            order=int(r["order"] or 0), text=r["text"] or "", title=r["title"] or "",
            section_title=r["sectionTitle"] or "",
        )
    lead: dict[str, set[str]] = defaultdict(set)
    names: dict[str, set[str]] = defaultdict(set)
    for r in engine.execute(_AGENCIES).records():
        names[r["m"] or ""].add(r["name"] or "")
    lead_rows = engine.execute(
        "SELECT ?m ?name WHERE { ?m a ipg:Measure ; ipg:leadAgency/rdfs:label ?name }").records()
    for r in lead_rows:
        lead[r["m"] or ""].add(r["name"] or "")
    targets: dict[str, set[str]] = defaultdict(set)
    for r in engine.execute(_TARGETS).records():
        targets[r["m"] or ""].add(r["indicator"] or "")
    out = sorted(docs.values(), key=lambda d: (d.doc_iri, d.order, d.iri))
    for d in out:
        d.lead = sorted(lead.get(d.iri, ()))
        d.agencies = sorted(names.get(d.iri, ()))
        d.targets = sorted(targets.get(d.iri, ()))
    return out


def read_names(source: Any) -> list[str]:
    """Every agency, programme and directive name and alias in the graph, sorted."""
    engine = engine_for(source)
    return sorted({r["name"] for r in engine.execute(_NAMES).records() if r["name"]})


def read_doc_names(source: Any) -> dict[str, list[str]]:
    """Document IRI → the names of the agencies, programmes and directives it names, sorted."""
    engine = engine_for(source)
    out: dict[str, set[str]] = defaultdict(set)
    for r in engine.execute(_DOC_NAMES).records():
        if r["doc"] and r["name"]:
            out[r["doc"]].add(r["name"])
    return {doc: sorted(names) for doc, names in sorted(out.items())}
