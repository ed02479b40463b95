"""Stage 5: DocumentRecords → an rdflib Graph in the contract vocabulary (docs/ONTOLOGY_CONTRACT.md).

IRIs are derived from content only (file name, measure number, canonical name, text offset),
never from processing order, so the same corpus always gives the same graph. No blank nodes
are made, so sorted N-Triples of the graph are byte-identical from run to run.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import PurePath
from urllib.parse import quote

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from ipgraph import knowledge
from ipgraph.extract.programmes import scheme_aliases
from ipgraph.model import AgencyRef, Citation, DocumentRecord, Measure, Span, Target
from ipgraph.vocab import DATA, ELI, IPG, ORG

LEVELS = {
    "international": IPG.International,
    "national": IPG.National,
    "provincial": IPG.Provincial,
    "municipal": IPG.Municipal,
    "district": IPG.District,
}
LEVEL_LABELS = {
    "international": ("国际", "international"),
    "national": ("国家级", "national"),
    "provincial": ("省级", "provincial"),
    "municipal": ("市级", "municipal"),
    "district": ("区县级", "district"),
}
PROGRAMME_SCHEME = DATA["programme-scheme"]


def slug(text: str) -> str:
    """A path segment for an IRI: the text itself, percent-encoded (stable, readable once decoded)."""
    return quote(text, safe="")


def document_iri(source_name: str) -> URIRef:
    return DATA[f"document/{slug(PurePath(source_name).stem)}"]


def agency_iri(canonical: str) -> URIRef:
    return DATA[f"agency/{slug(canonical)}"]


def programme_iri(canonical: str) -> URIRef:
    return DATA[f"programme/{slug(canonical)}"]


def directive_iri(key: str) -> URIRef:
    return DATA[f"directive/{slug(key)}"]


def place_iri(name: str) -> URIRef:
    return DATA[f"place/{slug(name)}"]


def containing_place(name: str) -> str | None:
    """天津市西青区 → 天津市: the gazetteer place that the name starts with and goes on from.

    Jurisdictions below a city are named with the city in front (resolve.py writes 天津市 + 西青区),
    so the longest known place at the start of the name, shorter than the name, contains it.
    """
    found = [place for start, place in knowledge.find_places(name) if start == 0 and len(place) < len(name)]
    return found[0] if found else None


def _zh(text: str) -> Literal:
    return Literal(text, lang="zh")


def _short(text: str, limit: int = 24) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class GraphBuilder:
    """Accumulates documents into one graph; agencies, programmes and directives are shared nodes."""

    def __init__(self) -> None:
        self.graph = Graph()
        bind_prefixes(self.graph)
        self._agency_labels: dict[URIRef, set[str]] = {}
        self._agency_canonical: dict[URIRef, str] = {}
        self._directive_titles: dict[URIRef, set[str]] = {}
        self._add_levels()

    # ---- shared nodes

    def _add_levels(self) -> None:
        g = self.graph
        for key, node in LEVELS.items():
            zh, en = LEVEL_LABELS[key]
            g.add((node, RDF.type, IPG.AdministrativeLevel))
            g.add((node, RDFS.label, _zh(zh)))

    def place(self, name: str) -> URIRef:
        node = place_iri(name)
        if (node, RDF.type, IPG.Jurisdiction) in self.graph:
            return node
        self.graph.add((node, RDF.type, IPG.Jurisdiction))
        self.graph.set((node, RDFS.label, _zh(name)))
        container = containing_place(name)
        if container:
            self.graph.add((node, IPG.within, self.place(container)))
        return node

    def agency(self, ref: AgencyRef) -> URIRef:
        g = self.graph
        node = agency_iri(ref.canonical)
        if node not in self._agency_canonical:
            self._agency_canonical[node] = ref.canonical
            g.add((node, RDF.type, IPG.Agency))
            g.add((node, RDFS.label, _zh(ref.canonical)))
            if ref.level in LEVELS:
                g.add((node, IPG.level, LEVELS[ref.level]))
            if ref.jurisdiction:
                g.add((node, IPG.jurisdiction, self.place(ref.jurisdiction)))
        labels = self._agency_labels.setdefault(node, {ref.canonical})
        for form in [ref.with_jurisdiction, *ref.aliases]:
            if form and form not in labels:
                labels.add(form)
                g.add((node, SKOS.altLabel, _zh(form)))
        if ref.later_name:
            other = self.agency(AgencyRef(canonical=ref.later_name, surface=ref.later_name,
                                          with_jurisdiction=ref.later_name, jurisdiction=ref.jurisdiction,
                                          level=ref.level))
            former = knowledge.national_bodies().get(ref.canonical) if ref.level == "national" else None
            if former and ref.later_name in former.plates:
                # 新闻出版广电总局(版权局): one central body with two nameplates (data/national_bodies.csv)
                g.add((node, IPG.alsoNamed, other))
                g.add((other, IPG.alsoNamed, node))
            else:
                # 市市场监管局(知识产权局): the bracketed body was merged into this one; two nodes, one relation
                g.add((other, IPG.reorganisedAs, node))
        if ref.level == "national":
            # a former central body (工商总局) points at the bodies that took over its work (data/national_bodies.csv)
            former = knowledge.national_bodies().get(ref.canonical)
            for name in former.successors if former else ():
                body = knowledge.national_bodies()[name]
                successor = self.agency(AgencyRef(canonical=name, surface=name, with_jurisdiction=name,
                                                  aliases=list(body.aliases), level="national"))
                g.add((node, IPG.reorganisedAs, successor))
        return node

    def programme(self, canonical: str, surface: str, aliases: Iterable[str] = (), discovered: bool = False) -> URIRef:
        g = self.graph
        node = programme_iri(canonical)
        if (node, RDF.type, IPG.Programme) not in g:
            g.add((node, RDF.type, IPG.Programme))
            g.add((node, RDF.type, SKOS.Concept))
            g.add((node, RDFS.label, _zh(canonical)))
            g.add((node, SKOS.prefLabel, _zh(canonical)))
            g.add((node, SKOS.inScheme, PROGRAMME_SCHEME))
            if discovered:
                g.add((node, IPG.discovered, Literal(True)))
            for alias in aliases:
                if alias != canonical:
                    g.add((node, SKOS.altLabel, _zh(alias)))
        if surface != canonical:
            g.add((node, SKOS.altLabel, _zh(surface)))
        return node

    def directive(self, citation: Citation) -> URIRef:
        g = self.graph
        node = directive_iri(citation.key)
        if (node, RDF.type, IPG.Directive) not in g:
            g.add((node, RDF.type, IPG.Directive))
            name = citation.title or citation.doc_number or citation.key
            g.add((node, RDFS.label, _zh(name)))
            if citation.title:
                g.add((node, DCTERMS.title, _zh(citation.title)))
            if citation.level in LEVELS:
                g.add((node, IPG.level, LEVELS[citation.level]))
        if citation.doc_number and (node, IPG.docNumber, None) not in g:
            g.add((node, IPG.docNumber, Literal(citation.doc_number)))
        if citation.title and (node, DCTERMS.title, None) not in g:
            g.add((node, DCTERMS.title, _zh(citation.title)))
            g.set((node, RDFS.label, _zh(citation.title)))
        for surface in citation.surfaces:
            g.add((node, IPG.citedAs, _zh(surface)))
        return node

    def evidence(self, subject: URIRef, predicate: URIRef, obj: URIRef, span: Span, source_name: str) -> URIRef:
        """A reified statement that carries the sentence a statement was read from."""
        g = self.graph
        digest = hashlib.sha1(f"{subject}|{predicate}|{obj}|{span.start}".encode()).hexdigest()[:16]
        node = DATA[f"evidence/{digest}"]
        g.add((node, RDF.type, RDF.Statement))
        g.add((node, RDF.type, IPG.Evidence))
        g.add((node, RDF.subject, subject))
        g.add((node, RDF.predicate, predicate))
        g.add((node, RDF.object, obj))
        g.add((node, IPG.evidence, _zh(span.text)))
        g.add((node, IPG.sourceFile, Literal(source_name)))
        g.add((node, IPG.start, Literal(span.start)))
        g.add((node, IPG.end, Literal(span.end)))
        return node

    # ---- documents

    def add_document(self, record: DocumentRecord) -> URIRef:
        g = self.graph
        parsed = record.parsed
        meta = parsed.meta
        name = parsed.source.name
        doc = document_iri(name)
        g.add((doc, RDF.type, IPG.PolicyDocument))
        g.add((doc, IPG.sourceFile, Literal(name)))
        title = meta.title or PurePath(name).stem
        g.add((doc, RDFS.label, _zh(title)))
        if meta.title:
            g.add((doc, DCTERMS.title, _zh(meta.title)))
        if meta.notice_title:
            g.add((doc, IPG.noticeTitle, _zh(meta.notice_title)))
        if meta.doc_number:
            g.add((doc, IPG.docNumber, Literal(meta.doc_number)))
        if meta.date_signed:
            g.add((doc, IPG.dateSigned, Literal(meta.date_signed, datatype=XSD.date)))
        if meta.date_published:
            g.add((doc, IPG.datePublished, Literal(meta.date_published, datatype=XSD.date)))
        if meta.doc_type:
            g.add((doc, IPG.docType, _zh(meta.doc_type)))
        if meta.level in LEVELS:
            g.add((doc, IPG.level, LEVELS[meta.level]))
        if meta.jurisdiction:
            g.add((doc, IPG.jurisdiction, self.place(meta.jurisdiction)))
        for issuer in record.issuers:
            g.add((doc, IPG.issuedBy, self.agency(issuer)))

        section_nodes: dict[str, URIRef] = {}
        for order, section in enumerate(parsed.sections, start=1):
            node = URIRef(f"{doc}/section/{section.number}")
            section_nodes[section.number] = node
            g.add((node, RDF.type, IPG.Section))
            g.add((node, RDFS.label, _zh(f"{section.printed}{_short(section.title, 30)}")))
            g.add((node, IPG.number, Literal(section.number)))
            g.add((node, IPG.sectionTitle, _zh(section.title)))
            g.add((node, IPG.partOf, doc))
            g.add((node, IPG.order, Literal(order)))
        for section in parsed.sections:
            if section.parent and section.parent in section_nodes:
                g.add((section_nodes[section.number], DCTERMS.isPartOf, section_nodes[section.parent]))

        measure_nodes: dict[str, URIRef] = {}
        for order, measure in enumerate(parsed.measures, start=1):
            node = self._add_measure(doc, measure, order, section_nodes)
            measure_nodes[measure.number] = node
        g.add((doc, IPG.measureCount, Literal(len(parsed.measures))))

        for assignment in record.assignments:
            m_node = measure_nodes.get(assignment.measure)
            if m_node is None:
                continue
            for ref in assignment.lead:
                a_node = self.agency(ref)
                g.add((m_node, IPG.leadAgency, a_node))
                self.evidence(m_node, IPG.leadAgency, a_node, assignment.evidence, name)
            for ref in assignment.responsible:
                a_node = self.agency(ref)
                g.add((m_node, IPG.responsibleAgency, a_node))
                self.evidence(m_node, IPG.responsibleAgency, a_node, assignment.evidence, name)

        for mention in record.programmes:
            p_node = self.programme(mention.canonical, mention.surface, aliases=scheme_aliases(mention.canonical),
                                    discovered=mention.discovered)
            subject = measure_nodes.get(mention.measure) if mention.measure else None
            if subject is not None:
                g.add((subject, IPG.mentions, p_node))
                self.evidence(subject, IPG.mentions, p_node, mention.span, name)

        for citation in record.citations:
            d_node = self.directive(citation)
            predicate = IPG.drafts if citation.kind == "drafts" else IPG.cites
            g.add((doc, predicate, d_node))
            self.evidence(doc, predicate, d_node, citation.span, name)

        for target in record.targets:
            self._add_target(doc, target, measure_nodes, name)
        return doc

    def _add_measure(self, doc: URIRef, measure: Measure, order: int, sections: dict[str, URIRef]) -> URIRef:
        g = self.graph
        node = URIRef(f"{doc}/measure/{measure.number}")
        g.add((node, RDF.type, IPG.Measure))
        label = measure.title or _short(measure.text)
        g.add((node, RDFS.label, _zh(f"{measure.printed} {label}".strip())))
        g.add((node, IPG.number, Literal(measure.number)))
        g.add((node, IPG.text, _zh(measure.text)))
        g.add((node, IPG.partOf, doc))
        g.add((node, IPG.order, Literal(order)))
        g.add((node, IPG.start, Literal(measure.span.start)))
        g.add((node, IPG.end, Literal(measure.span.end)))
        if measure.title:
            g.add((node, IPG.title, _zh(measure.title)))
        if measure.section and measure.section in sections:
            g.add((node, IPG.section, sections[measure.section]))
        return node

    def _add_target(self, doc: URIRef, target: Target, measures: dict[str, URIRef], source_name: str) -> None:
        g = self.graph
        node = URIRef(f"{doc}/target/{target.span.start}-{target.span.end}")
        g.add((node, RDF.type, IPG.Target))
        value = _decimal(target.value)
        label = f"{target.indicator} {target.comparator} {value.removesuffix('.0')}{target.unit or ''}"
        if target.year:
            label += f" ({target.year})"
        g.add((node, RDFS.label, _zh(label)))
        g.add((node, IPG.indicator, _zh(target.indicator)))
        g.add((node, IPG.value, Literal(value, datatype=XSD.decimal)))
        if target.unit:
            g.add((node, IPG.unit, _zh(target.unit)))
        if target.year:
            g.add((node, IPG.year, Literal(target.year, datatype=XSD.integer)))
        g.add((node, IPG.comparator, Literal(target.comparator)))
        g.add((node, IPG.evidence, _zh(target.span.text)))
        g.add((node, IPG.sourceFile, Literal(source_name)))
        g.add((node, IPG.start, Literal(target.span.start)))
        g.add((node, IPG.end, Literal(target.span.end)))
        owner = measures.get(target.measure) if target.measure else None
        g.add((owner if owner is not None else doc, IPG.hasTarget, node))

    def finish(self) -> Graph:
        """Add the programme scheme node and return the graph."""
        g = self.graph
        if (None, SKOS.inScheme, PROGRAMME_SCHEME) in g:
            g.add((PROGRAMME_SCHEME, RDF.type, SKOS.ConceptScheme))
            g.add((PROGRAMME_SCHEME, RDF.type, IPG.ProgrammeScheme))
            g.add((PROGRAMME_SCHEME, RDFS.label, _zh("知识产权政策项目")))
        return g


def _decimal(value: float) -> str:
    """Canonical xsd:decimal lexical form ("3000.0", "7.5"), the form Turtle writes back."""
    text = f"{value:.6f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def bind_prefixes(graph: Graph) -> None:
    graph.bind("ipg", IPG._NS)
    graph.bind("id", DATA)
    graph.bind("dcterms", DCTERMS)
    graph.bind("skos", SKOS)
    graph.bind("prov", PROV)
    graph.bind("eli", ELI)
    graph.bind("org", ORG)
    graph.bind("owl", OWL)
    graph.bind("xsd", XSD)


def build_graph_from_records(records: Iterable[DocumentRecord]) -> Graph:
    builder = GraphBuilder()
    for record in records:
        builder.add_document(record)
    return builder.finish()
