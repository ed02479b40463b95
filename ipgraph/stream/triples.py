"""Records → N-Triples lines, without rdflib: the graph stage, and the graph's one writer.

Stage 5: DocumentRecords in the contract vocabulary (docs/ONTOLOGY_CONTRACT.md). IRIs come from
ipgraph.iri (content only, never processing order); no blank nodes are made, so the sorted
N-Triples of a build are byte-identical from run to run. `document_triples(record)` gives the
triples of one document as N-Triples lines (literals escaped as rdflib's "nt" serializer does):

* `lines`: the triples only this document makes (its document, sections, measures, targets,
  evidence) and those that hold whatever order documents come in (an agency's altLabels …);
* `claims`: triples on shared nodes (agencies, programmes, directives) made only by the first
  document that meets the node, keyed by (node, slot). The merge keeps, per key, the claim of
  the first document in build order: cross-document state is this small table.

Plain data (strings and tuples), so a record's triples pickle cheaply from a worker process.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from ipgraph import knowledge
from ipgraph.extract.programmes import scheme_aliases
from ipgraph.iri import DATA, PROGRAMME_SCHEME, document_iri, slug
from ipgraph.iri import agency_iri as _agency_iri
from ipgraph.iri import directive_iri as _directive_iri
from ipgraph.iri import place_iri as _place_iri
from ipgraph.iri import programme_iri as _programme_iri
from ipgraph.model import AgencyRef, Citation, DocumentRecord, Measure, Span, Target

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_SKOS = "http://www.w3.org/2004/02/skos/core#"
_DCT = "http://purl.org/dc/terms/"
_XSD = "http://www.w3.org/2001/XMLSchema#"
_IPG = "https://w3id.org/ipgraph/ontology#"

LEVELS = {key: f"{_IPG}{key.capitalize()}" for key in ("international", "national", "provincial", "municipal",
                                                        "district")}
LEVEL_LABELS = {
    "international": ("国际", "international"),
    "national": ("国家级", "national"),
    "provincial": ("省级", "provincial"),
    "municipal": ("市级", "municipal"),
    "district": ("区县级", "district"),
}


def containing_place(name: str) -> str | None:
    """天津市西青区 → 天津市: the gazetteer place that the name starts with and goes on from.

    Jurisdictions below a city are named with the city in front (resolve.py writes 天津市 + 西青区),
    so the longest known place at the start of the name, shorter than the name, contains it.
    """
    found = [place for start, place in knowledge.find_places(name) if start == 0 and len(place) < len(name)]
    return found[0] if found else None


def _short(text: str, limit: int = 24) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decimal_text(value: float) -> str:
    """The canonical xsd:decimal lexical form of XSD 1.1 ("3000", "7.5", "0.35"), rounded to 6 places.

    It is the form the store gives back (Oxigraph keeps decimals as values and writes them so),
    so a CONSTRUCT dump of the store is term-identical to ipgraph.nt; "8.0" was XSD 1.0's form.
    """
    text = f"{value:.6f}".rstrip("0").removesuffix(".")
    return "0" if text in ("-0", "") else text

TYPE = f"<{_RDF}type>"
LABEL = f"<{_RDFS}label>"
ALT = f"<{_SKOS}altLabel>"


def iri(value: str) -> str:
    return f"<{value}>"


def ipg(name: str) -> str:
    return f"<{_IPG}{name}>"


def _quote(text: str) -> str:
    # rdflib's nt serializer escapes these four and nothing else (rdflib.plugins.serializers.nt)
    return '"' + text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"').replace("\r", "\\r") + '"'


def zh(text: str) -> str:
    return _quote(text) + "@zh"


def plain(text: str) -> str:
    return _quote(text)


def integer(value: int) -> str:
    return f'"{int(value)}"^^<{_XSD}integer>'


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def date(text: str) -> str:
    if not _ISO_DATE.match(text):  # rdflib would keep (or normalise) an odd form: ask it, off the hot path
        from rdflib import Literal
        from rdflib.namespace import XSD
        from rdflib.plugins.serializers.nt import _quoteLiteral

        return _quoteLiteral(Literal(text, datatype=XSD.date))
    return f'{_quote(text)}^^<{_XSD}date>'


def line(s: str, p: str, o: str) -> str:
    return f"{s} {p} {o} ."


LEVEL_NODES = {key: iri(node) for key, node in LEVELS.items()}
SCHEME = iri(PROGRAMME_SCHEME)


def constant_lines() -> list[str]:
    """The triples every build has (the administrative levels)."""
    out = []
    for key, node in LEVEL_NODES.items():
        out.append(line(node, TYPE, ipg("AdministrativeLevel")))
        out.append(line(node, LABEL, zh(LEVEL_LABELS[key][0])))
    return out


def scheme_lines() -> list[str]:
    """The programme scheme node, present when any programme is."""
    return [line(SCHEME, TYPE, f"<{_SKOS}ConceptScheme>"), line(SCHEME, TYPE, ipg("ProgrammeScheme")),
            line(SCHEME, LABEL, zh("知识产权政策项目"))]


Claim = tuple[str, str, tuple[str, ...], str | None]  # (node, slot, lines, dropped when this slot is claimed)


@dataclass
class DocumentTriples:
    name: str  # the source file name
    lines: set[str] = field(default_factory=set)
    claims: list[Claim] = field(default_factory=list)
    programmes: bool = False  # whether the scheme node is needed
    shard: str | None = None  # on Dask: the sorted file holding `lines` (written by the worker)
    report: Any = None  # the document's quality report (ipgraph.report.DocumentReport), made beside the triples
    search: Any = None  # its measures' jieba words (ipgraph.search.segment.DocumentTokens), made beside them too

    def add(self, s: str, p: str, o: str) -> None:
        self.lines.add(line(s, p, o))

    def claim(self, node: str, slot: str, lines: list[str], unless: str | None = None) -> None:
        self.claims.append((node, slot, tuple(lines), unless))

    # ---- shared nodes: places, agencies, programmes, directives

    def place(self, name: str) -> tuple[str, list[str]]:
        node, lines = _place(name)
        return node, list(lines)

    def agency(self, ref: AgencyRef) -> str:
        node, first = _agency_first(ref.canonical, ref.level, ref.jurisdiction)
        self.claims.append((node, "agency", first, None))
        for form in [ref.with_jurisdiction, *ref.aliases]:
            if form and form != ref.canonical:  # the node's canonical name is its label, never an altLabel
                self.add(node, ALT, zh(form))
        if ref.later_name:
            other = self.agency(AgencyRef(canonical=ref.later_name, surface=ref.later_name,
                                          with_jurisdiction=ref.later_name, jurisdiction=ref.jurisdiction,
                                          level=ref.level))
            former = knowledge.national_bodies().get(ref.canonical) if ref.level == "national" else None
            if former and ref.later_name in former.plates:
                self.add(node, ipg("alsoNamed"), other)
                self.add(other, ipg("alsoNamed"), node)
            else:
                self.add(other, ipg("reorganisedAs"), node)
        if ref.level == "national":
            former = knowledge.national_bodies().get(ref.canonical)
            for name in former.successors if former else ():
                body = knowledge.national_bodies()[name]
                successor = self.agency(AgencyRef(canonical=name, surface=name, with_jurisdiction=name,
                                                  aliases=list(body.aliases), level="national"))
                self.add(node, ipg("reorganisedAs"), successor)
        return node

    def programme(self, canonical: str, surface: str, aliases: list[str], discovered: bool) -> str:
        node = iri(_programme_iri(canonical))
        first = [line(node, TYPE, ipg("Programme")), line(node, TYPE, f"<{_SKOS}Concept>"),
                 line(node, LABEL, zh(canonical)), line(node, f"<{_SKOS}prefLabel>", zh(canonical)),
                 line(node, f"<{_SKOS}inScheme>", SCHEME)]
        if discovered:
            first.append(line(node, ipg("discovered"), f'"true"^^<{_XSD}boolean>'))
        first.extend(line(node, ALT, zh(alias)) for alias in aliases if alias != canonical)
        self.claim(node, "programme", first)
        self.programmes = True
        if surface != canonical:
            self.add(node, ALT, zh(surface))
        return node

    def directive(self, citation: Citation) -> str:
        node = iri(_directive_iri(citation.key))
        first = [line(node, TYPE, ipg("Directive"))]
        if citation.level in LEVEL_NODES:
            first.append(line(node, ipg("level"), LEVEL_NODES[citation.level]))  # type: ignore[index]
        self.claim(node, "directive", first)
        if citation.title:  # the first title seen is the title and the label
            self.claim(node, "title", [line(node, f"<{_DCT}title>", zh(citation.title)),
                                       line(node, LABEL, zh(citation.title))])
        else:  # a label from the 文号 or key, until some document gives a title
            self.claim(node, "label", [line(node, LABEL, zh(citation.doc_number or citation.key))], unless="title")
        if citation.doc_number:
            self.claim(node, "docNumber", [line(node, ipg("docNumber"), plain(citation.doc_number))])
        for surface in citation.surfaces:
            self.add(node, ipg("citedAs"), zh(surface))
        return node

    def evidence(self, subject: str, predicate: str, obj: str, span: Span) -> None:
        # a reified statement carrying the sentence it was read from; named by a digest over the bare IRIs
        digest = hashlib.sha1(f"{subject[1:-1]}|{predicate[1:-1]}|{obj[1:-1]}|{span.start}".encode()).hexdigest()[:16]
        node = f"<{DATA}evidence/{digest}>"
        # the nine lines at once, in line()'s form (`s p o .`): 13,000 statements per 100 generated plans
        self.lines.update((f"{node} {_EVIDENCE_TYPES[0]}", f"{node} {_EVIDENCE_TYPES[1]}",
                           f"{node} {_RDF_SUBJECT} {subject} .", f"{node} {_RDF_PREDICATE} {predicate} .",
                           f"{node} {_RDF_OBJECT} {obj} .", f"{node} {_EVIDENCE_TEXT} {zh(span.text)} .",
                           f"{node} {_SOURCE_FILE} {plain(self.name)} .", f"{node} {_START} {integer(span.start)} .",
                           f"{node} {_END} {integer(span.end)} ."))


_EVIDENCE_TYPES = (f"{TYPE} <{_RDF}Statement> .", f"{TYPE} {ipg('Evidence')} .")
_RDF_SUBJECT, _RDF_PREDICATE, _RDF_OBJECT = f"<{_RDF}subject>", f"<{_RDF}predicate>", f"<{_RDF}object>"
_EVIDENCE_TEXT, _SOURCE_FILE, _START, _END = ipg("evidence"), ipg("sourceFile"), ipg("start"), ipg("end")


# A place's and an agency's lines are a function of the name (and the agency's level and place): made
# once per worker, not for each of the ~90 agency mentions of a document (containing_place scans the gazetteer).
@lru_cache(maxsize=1 << 14)
def _place(name: str) -> tuple[str, tuple[str, ...]]:
    node = iri(_place_iri(name))
    lines = [line(node, TYPE, ipg("Jurisdiction")), line(node, LABEL, zh(name))]
    container = containing_place(name)  # 天津市西青区 ipg:within 天津市
    if container:
        outer, outer_lines = _place(container)
        lines.append(line(node, ipg("within"), outer))
        lines.extend(outer_lines)
    return node, tuple(lines)


@lru_cache(maxsize=1 << 14)
def _agency_first(canonical: str, level: str | None, jurisdiction: str | None) -> tuple[str, tuple[str, ...]]:
    """An agency's node and its first-claim lines (type, label, level, jurisdiction and the place's lines)."""
    node = iri(_agency_iri(canonical))
    first = [line(node, TYPE, ipg("Agency")), line(node, LABEL, zh(canonical))]
    if level in LEVEL_NODES:
        first.append(line(node, ipg("level"), LEVEL_NODES[level]))  # type: ignore[index]
    if jurisdiction:
        place, place_lines = _place(jurisdiction)
        first.append(line(node, ipg("jurisdiction"), place))
        first.extend(place_lines)
    return node, tuple(first)


def document_triples(record: DocumentRecord, report: bool = True) -> DocumentTriples:
    """The triples of one document (see the module docstring), and its quality report (`report`)."""
    from ipgraph.report import build_report

    out = _document_triples(record)
    if report:
        out.report = build_report([record])[0]
    return out


def _document_triples(record: DocumentRecord) -> DocumentTriples:
    parsed = record.parsed
    meta = parsed.meta
    name = parsed.source.name
    out = DocumentTriples(name)
    add = out.add
    doc_iri = document_iri(name)
    doc = iri(doc_iri)
    add(doc, TYPE, ipg("PolicyDocument"))
    add(doc, ipg("sourceFile"), plain(name))
    add(doc, LABEL, zh(meta.title or PurePath(name).stem))
    if meta.title:
        add(doc, f"<{_DCT}title>", zh(meta.title))
    if meta.notice_title:
        add(doc, ipg("noticeTitle"), zh(meta.notice_title))
    if meta.doc_number:
        add(doc, ipg("docNumber"), plain(meta.doc_number))
    if meta.date_signed:
        add(doc, ipg("dateSigned"), date(meta.date_signed))
    if meta.date_published:
        add(doc, ipg("datePublished"), date(meta.date_published))
    if meta.doc_type:
        add(doc, ipg("docType"), zh(meta.doc_type))
    if meta.level in LEVEL_NODES:
        add(doc, ipg("level"), LEVEL_NODES[meta.level])  # type: ignore[index]
    # a national document governs the whole country though its text names no place (as the gold has it)
    governed = meta.jurisdiction or (knowledge.COUNTRY if meta.level == "national" else None)
    if governed:
        place, place_lines = out.place(governed)
        add(doc, ipg("jurisdiction"), place)
        out.lines.update(place_lines)
    for issuer in record.issuers:
        add(doc, ipg("issuedBy"), out.agency(issuer))

    sections: dict[str, str] = {}
    for order, section in enumerate(parsed.sections, start=1):
        node = iri(f"{doc_iri}/section/{slug(section.number)}")
        sections[section.number] = node
        add(node, TYPE, ipg("Section"))
        add(node, LABEL, zh(f"{section.printed}{_short(section.title, 30)}"))
        add(node, ipg("number"), plain(section.number))
        add(node, ipg("sectionTitle"), zh(section.title))
        add(node, ipg("partOf"), doc)
        add(node, ipg("order"), integer(order))
    for section in parsed.sections:
        if section.parent and section.parent in sections:
            add(sections[section.number], f"<{_DCT}isPartOf>", sections[section.parent])

    measures: dict[str, str] = {}
    for order, measure in enumerate(parsed.measures, start=1):
        measures[measure.number] = _measure(out, doc_iri, measure, order, sections)
    add(doc, ipg("measureCount"), integer(len(parsed.measures)))

    for assignment in record.assignments:
        m_node = measures.get(assignment.measure)
        if m_node is None:
            continue
        for role, refs in (("leadAgency", assignment.lead), ("responsibleAgency", assignment.responsible)):
            for ref in refs:
                a_node = out.agency(ref)
                add(m_node, ipg(role), a_node)
                out.evidence(m_node, ipg(role), a_node, assignment.evidence)

    for mention in record.programmes:
        p_node = out.programme(mention.canonical, mention.surface, list(scheme_aliases(mention.canonical)),
                               mention.discovered)
        subject = measures.get(mention.measure) if mention.measure else None
        if subject is not None:
            add(subject, ipg("mentions"), p_node)
            out.evidence(subject, ipg("mentions"), p_node, mention.span)

    for citation in record.citations:
        d_node = out.directive(citation)
        predicate = ipg("drafts" if citation.kind == "drafts" else "cites")
        add(doc, predicate, d_node)
        out.evidence(doc, predicate, d_node, citation.span)

    for target in record.targets:
        _target(out, doc_iri, target, measures)
    return out


def _measure(out: DocumentTriples, doc_iri: str, measure: Measure, order: int, sections: dict[str, str]) -> str:
    add = out.add
    node = iri(f"{doc_iri}/measure/{slug(measure.number)}")
    add(node, TYPE, ipg("Measure"))
    add(node, LABEL, zh(f"{measure.printed} {measure.title or _short(measure.text)}".strip()))
    add(node, ipg("number"), plain(measure.number))
    add(node, ipg("text"), zh(measure.text))
    add(node, ipg("partOf"), iri(doc_iri))
    add(node, ipg("order"), integer(order))
    add(node, ipg("start"), integer(measure.span.start))
    add(node, ipg("end"), integer(measure.span.end))
    if measure.title:
        add(node, ipg("title"), zh(measure.title))
    if measure.section and measure.section in sections:
        add(node, ipg("section"), sections[measure.section])
    return node


def _target(out: DocumentTriples, doc_iri: str, target: Target, measures: dict[str, str]) -> None:
    add = out.add
    node = iri(f"{doc_iri}/target/{target.span.start}-{target.span.end}")
    add(node, TYPE, ipg("Target"))
    value = decimal_text(target.value)
    label = f"{target.indicator} {target.comparator} {value}{target.unit or ''}"
    if target.year:
        label += f" ({target.year})"
    add(node, LABEL, zh(label))
    add(node, ipg("indicator"), zh(target.indicator))
    add(node, ipg("value"), f'{_quote(value)}^^<{_XSD}decimal>')
    if target.unit:
        add(node, ipg("unit"), zh(target.unit))
    if target.year:
        add(node, ipg("year"), integer(target.year))
    add(node, ipg("comparator"), plain(target.comparator))
    add(node, ipg("evidence"), zh(target.span.text))
    add(node, ipg("sourceFile"), plain(out.name))
    add(node, ipg("start"), integer(target.span.start))
    add(node, ipg("end"), integer(target.span.end))
    owner = measures.get(target.measure) if target.measure else None
    add(owner if owner is not None else iri(doc_iri), ipg("hasTarget"), node)


def merge_claims(documents: list[DocumentTriples]) -> set[str]:
    """The shared-node lines of documents in build order (first claim per (node, slot) wins)."""
    table = ClaimTable()
    for doc in documents:
        table.add(doc)
    return table.lines()


class ClaimTable:
    """The build's cross-document state: per (node, slot) the first document's claim."""

    def __init__(self) -> None:
        self.first: dict[tuple[str, str], tuple[tuple[str, ...], str | None]] = {}
        self.programmes = False

    def add(self, doc: DocumentTriples) -> None:
        for node, slot, lines, unless in doc.claims:
            self.first.setdefault((node, slot), (lines, unless))
        self.programmes |= doc.programmes

    def lines(self) -> set[str]:
        out = set(constant_lines())
        for (node, _slot), (lines, unless) in self.first.items():
            if unless is None or (node, unless) not in self.first:
                out.update(lines)
        if self.programmes:
            out.update(scheme_lines())
        return out
