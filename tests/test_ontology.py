"""The ontology (ontology/ipgraph.ttl), the SHACL shapes (ontology/shapes.ttl) and ipgraph.validate.

The ontology is checked against ipgraph.vocab.IPG and against the tables of the contract
(docs/ONTOLOGY_CONTRACT.md); the shapes against hand-made graphs, one conforming and several
broken in one way each.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, Namespace, Node, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SH, SKOS, XSD

from ipgraph.graph import place_iri
from ipgraph.validate import INFERENCE, ValidationReport, load_ontology, load_shapes, validate
from ipgraph.vocab import DATA, ELI, IPG, ONTOLOGY_IRI, ORG

REPO = Path(__file__).resolve().parent.parent
ONTOLOGY_FILE = REPO / "ontology" / "ipgraph.ttl"
SHAPES_FILE = REPO / "ontology" / "shapes.ttl"
CONTRACT_FILE = REPO / "docs" / "ONTOLOGY_CONTRACT.md"
NS = str(IPG._NS)
PREFIXES: dict[str, str] = {
    "ipg": NS,
    "eli": str(ELI),
    "org": str(ORG),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "xsd": str(XSD),
    "rdf": str(RDF),
}
LEVELS = ["International", "National", "Provincial", "Municipal", "District"]


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_FILE, format="turtle")


def ipg(name: str) -> URIRef:
    """The IRI of ipg:<name> (IPG[name] reads as a generic type to mypy)."""
    return URIRef(NS + name)


def vocab_names() -> list[str]:
    """Every term the DefinedNamespace declares (its annotations), in declaration order."""
    return [name for name in IPG.__annotations__ if not name.startswith("_")]


def defined_terms(graph: Graph) -> set[str]:
    """Local names of the ipg: IRIs that the ontology types (defines)."""
    return {
        str(s)[len(NS) :]
        for s in graph.subjects(RDF.type, None)
        if isinstance(s, URIRef) and str(s).startswith(NS)
    }


def contract_tables() -> list[list[str]]:
    """The rows of the contract's Markdown tables, as lists of cells (header and rule rows dropped)."""
    rows = []
    for line in CONTRACT_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] == "term":
            continue
        rows.append(cells)
    return rows


def contract_terms() -> set[str]:
    return {m for row in contract_tables() for m in re.findall(r"ipg:(\w+)", " ".join(row))}


def curie(text: str) -> URIRef:
    prefix, local = text.split(":", 1)
    return URIRef(PREFIXES[prefix] + local)


def union_members(graph: Graph, node: Node) -> set[URIRef]:
    """A class or an owl:unionOf blank node → the set of named classes it stands for."""
    if isinstance(node, BNode):
        members = graph.value(node, OWL.unionOf)
        assert members is not None, f"blank class {node} is not an owl:unionOf"
        return {m for m in Collection(graph, members) if isinstance(m, URIRef)}
    assert isinstance(node, URIRef), node
    return {node}


# ---------------------------------------------------------------- the ontology


def test_ontology_parses_and_declares_itself(ontology: Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in ontology
    assert len(ontology) > 300


def test_packaged_ontology_is_the_source_file(ontology: Graph) -> None:
    # load_ontology() reads ipgraph/ontology/ipgraph.ttl through importlib.resources (the symlink)
    assert isomorphic(load_ontology(), ontology)
    assert isomorphic(load_shapes(), Graph().parse(SHAPES_FILE, format="turtle"))


@pytest.mark.parametrize("name", vocab_names())
def test_vocab_term_is_defined_with_labels_and_comment(ontology: Graph, name: str) -> None:
    term = ipg(name)
    assert (term, RDF.type, None) in ontology, f"ipg:{name} is not defined in ontology/ipgraph.ttl"
    labels = list(ontology.objects(term, RDFS.label))
    languages = sorted(lab.language for lab in labels if isinstance(lab, Literal) and lab.language)
    assert "zh" in languages and "en" in languages, f"ipg:{name} needs rdfs:label @zh and @en, has {labels}"
    assert languages.count("zh") == 1 and languages.count("en") == 1, f"ipg:{name}: one label per language"
    comments = [c for c in ontology.objects(term, RDFS.comment) if isinstance(c, Literal)]
    assert any(c.language == "en" and len(c) > 20 for c in comments), (
        f"ipg:{name} needs an English rdfs:comment"
    )


def test_vocab_and_ontology_define_the_same_terms(ontology: Graph) -> None:
    names = set(vocab_names())
    defined = defined_terms(ontology)
    assert len(names) >= 50
    assert names - defined == set(), "in ipgraph.vocab.IPG but not defined in the ontology"
    assert defined - names == set(), "defined in the ontology but missing from ipgraph.vocab.IPG"


def test_every_contract_term_is_defined(ontology: Graph) -> None:
    terms = contract_terms()
    # the tables name 9 classes, 5 levels and 26 properties; a parse that finds fewer is broken
    assert len(terms) >= 40, f"only {sorted(terms)} found in {CONTRACT_FILE}"
    assert terms - defined_terms(ontology) == set()
    assert terms - set(vocab_names()) == set()


def test_terms_have_the_right_kind(ontology: Graph) -> None:
    kinds = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty}
    for name in vocab_names():
        types = set(ontology.objects(ipg(name), RDF.type))
        if name in LEVELS:
            assert {IPG.AdministrativeLevel, SKOS.Concept} <= types, name
        else:
            assert len(types & kinds) == 1, (
                f"ipg:{name} must be exactly one of class / object / datatype property"
            )
    for row in contract_tables():
        if len(row) == 3 and "→" in row[1]:  # a property row: term | from → to | meaning
            target = row[1].split("→")[1]
            for name in re.findall(r"ipg:(\w+)", row[0]):
                expected = (
                    OWL.DatatypeProperty if "literal" in target or "xsd:" in target else OWL.ObjectProperty
                )
                assert (ipg(name), RDF.type, expected) in ontology, f"ipg:{name} should be {expected}"


def test_contract_alignments_are_stated(ontology: Graph) -> None:
    checked = 0
    for row in contract_tables():
        if len(row) == 3 and "→" not in row[1]:  # a class row: term | meaning | align with
            for name in re.findall(r"ipg:(\w+)", row[0]):
                for parent in re.findall(r"\b(?:eli|org|skos):\w+", row[2]):
                    assert (ipg(name), RDFS.subClassOf, curie(parent)) in ontology, f"ipg:{name} ⊑ {parent}"
                    checked += 1
    assert checked == 7


@pytest.mark.parametrize(
    ("term", "parent"),
    [
        (IPG.PolicyDocument, ELI.LegalResource),
        (IPG.Directive, ELI.LegalResource),
        (IPG.Section, ELI.LegalResourceSubdivision),
        (IPG.Measure, ELI.LegalResourceSubdivision),
        (IPG.Agency, ORG.Organization),
        (IPG.Programme, SKOS.Concept),
        (IPG.AdministrativeLevel, SKOS.Concept),
    ],
)
def test_class_alignment(ontology: Graph, term: URIRef, parent: URIRef) -> None:
    assert (term, RDFS.subClassOf, parent) in ontology


@pytest.mark.parametrize(
    ("term", "parent"),
    [
        (IPG.partOf, DCTERMS.isPartOf),
        (IPG.partOf, ELI.is_part_of),
        (IPG.issuedBy, ELI.passed_by),
        (IPG.cites, ELI.cites),
        (IPG.cites, DCTERMS.references),
        (IPG.dateSigned, ELI.date_document),
        (IPG.datePublished, ELI.date_publication),
        (IPG.docNumber, ELI.id_local),
        (IPG.number, ELI.number),
        (IPG.leadAgency, IPG.responsibleAgency),
    ],
)
def test_property_alignment(ontology: Graph, term: URIRef, parent: URIRef) -> None:
    assert (term, RDFS.subPropertyOf, parent) in ontology


def test_domains_and_ranges_follow_the_contract(ontology: Graph) -> None:
    """Each property row "A/B → C": rdfs:domain covers A and B, rdfs:range is C."""
    classes = {str(c)[len(NS) :] for c in ontology.subjects(RDF.type, OWL.Class) if str(c).startswith(NS)}
    checked = 0
    for row in contract_tables():
        if len(row) != 3 or "→" not in row[1]:
            continue
        source, target = (side.strip() for side in row[1].split("→"))
        for name in re.findall(r"ipg:(\w+)", row[0]):
            term = ipg(name)
            domain_classes = [c for c in source.split("/") if c in classes]
            if domain_classes and name != "sourceFile":  # sourceFile is also used on evidence and targets
                domains = list(ontology.objects(term, RDFS.domain))
                assert len(domains) == 1, f"ipg:{name} needs one rdfs:domain"
                assert {ipg(c) for c in domain_classes} <= union_members(ontology, domains[0]), name
                checked += 1
            ranges = list(ontology.objects(term, RDFS.range))
            if target in classes:
                assert ranges == [ipg(target)], f"ipg:{name} rdfs:range should be ipg:{target}"
                checked += 1
            elif target == "xsd:date":
                # xsd:date is outside the OWL 2 datatype map: the OWL range is rdfs:Literal and
                # the shapes check the datatype (the case "document date not xsd:date")
                assert ranges == [RDFS.Literal], name
            elif target == "literal@zh":
                assert ranges == [RDF.PlainLiteral], name  # OWL 2's datatype for tagged strings
    assert checked >= 25


def test_levels_form_a_concept_scheme(ontology: Graph) -> None:
    scheme = IPG.AdministrativeLevel
    assert (scheme, RDF.type, SKOS.ConceptScheme) in ontology
    for name in LEVELS:
        level = ipg(name)
        assert (level, RDF.type, IPG.AdministrativeLevel) in ontology
        assert (level, RDF.type, SKOS.Concept) in ontology
        assert (level, SKOS.inScheme, scheme) in ontology
        assert (level, SKOS.topConceptOf, scheme) in ontology
    notations = {str(n) for name in LEVELS for n in ontology.objects(ipg(name), SKOS.notation)}
    assert notations == {name.lower() for name in LEVELS}


def test_no_cycle_among_named_individuals(ontology: Graph) -> None:
    """pySHACL deep-copies owl:NamedIndividual nodes ten links deep: a cycle makes that exponential."""
    individuals = set(ontology.subjects(RDF.type, OWL.NamedIndividual))
    for start in individuals:
        seen: set = set()
        frontier = {start}
        while frontier:
            node = frontier.pop()
            for o in ontology.objects(node, None):
                if isinstance(o, URIRef) and o not in seen and (o, None, None) in ontology:
                    assert o != start, f"{start} reaches itself"
                    seen.add(o)
                    frontier.add(o)


# ---------------------------------------------------------------- the shapes

D = Namespace(str(DATA))


def conforming_graph() -> Graph:
    """A small graph that satisfies every shape: one document, a section, two measures, …"""
    g = Graph()
    doc, sec, m1, m2 = (
        D["document/t"],
        D["document/t/section/1"],
        D["document/t/measure/1"],
        D["document/t/measure/2"],
    )
    lead, other, prog, law, place, target = (
        D["agency/甲局"],
        D["agency/乙委"],
        D["programme/专利导航"],
        D["directive/纲要"],
        D["place/天津市"],
        D["document/t/target/1"],
    )
    zh = lambda text: Literal(text, lang="zh")  # noqa: E731
    for triple in [
        (doc, RDF.type, IPG.PolicyDocument),
        (doc, IPG.sourceFile, Literal("t.txt")),
        (doc, DCTERMS.title, zh("天津市知识产权实施方案")),
        (doc, RDFS.label, zh("天津市知识产权实施方案")),
        (doc, IPG.dateSigned, Literal("2020-09-28", datatype=XSD.date)),
        (doc, IPG.level, IPG.Municipal),
        (doc, IPG.jurisdiction, place),
        (doc, IPG.issuedBy, other),
        (doc, IPG.cites, law),
        (doc, IPG.hasTarget, target),
        (place, RDF.type, IPG.Jurisdiction),
        (place, RDFS.label, zh("天津市")),
        (sec, RDF.type, IPG.Section),
        (sec, IPG.partOf, doc),
        (sec, IPG.number, Literal("1")),
        (sec, RDFS.label, zh("一、重点任务")),
        (m1, RDF.type, IPG.Measure),
        (m1, IPG.partOf, doc),
        (m1, IPG.section, sec),
        (m1, IPG.number, Literal("1")),
        (m1, IPG.text, zh("培育高价值专利。(甲局牵头,乙委负责)")),
        (m1, RDFS.label, zh("1 培育高价值专利")),
        (m1, IPG.leadAgency, lead),
        (m1, IPG.responsibleAgency, lead),
        (m1, IPG.responsibleAgency, other),
        (m1, IPG.mentions, prog),
        (m1, IPG.start, Literal(10)),
        (m1, IPG.end, Literal(30)),
        (m2, RDF.type, IPG.Measure),
        (m2, IPG.partOf, doc),
        (m2, IPG.text, zh("加强保护。")),
        (m2, RDFS.label, zh("2 加强保护")),
        (lead, RDF.type, IPG.Agency),
        (lead, RDFS.label, zh("天津市甲局")),
        (lead, IPG.level, IPG.Municipal),
        (other, RDF.type, IPG.Agency),
        (other, RDFS.label, zh("天津市乙委")),
        (other, SKOS.altLabel, zh("天津市乙委员会")),
        (prog, RDF.type, IPG.Programme),
        (prog, RDFS.label, zh("专利导航")),
        (law, RDF.type, IPG.Directive),
        (law, RDFS.label, zh("知识产权强国建设纲要")),
        (law, DCTERMS.title, zh("知识产权强国建设纲要")),
        (law, IPG.level, IPG.National),
        (target, RDF.type, IPG.Target),
        (target, RDFS.label, zh("每万人口发明专利拥有量 >= 55件")),
        (target, IPG.indicator, zh("每万人口发明专利拥有量")),
        (target, IPG.value, Literal(Decimal("55.0"))),
        (target, IPG.unit, zh("件")),
        (target, IPG.year, Literal(2025)),
        (target, IPG.comparator, Literal(">=")),
    ]:
        g.add(triple)
    # an evidence node as the graph builder writes it
    ev = D["evidence/1"]
    for triple in [
        (ev, RDF.type, RDF.Statement),
        (ev, RDF.subject, m1),
        (ev, RDF.predicate, IPG.leadAgency),
        (ev, RDF.object, lead),
        (ev, IPG.evidence, zh("(甲局牵头,乙委负责)")),
        (ev, IPG.sourceFile, Literal("t.txt")),
        (ev, IPG.start, Literal(20)),
        (ev, IPG.end, Literal(30)),
    ]:
        g.add(triple)
    return g


M1 = D["document/t/measure/1"]
DOC = D["document/t"]
LEAD = D["agency/甲局"]
LAW = D["directive/纲要"]
TARGET = D["document/t/target/1"]


def _remove(*patterns: tuple) -> Callable[[Graph], None]:
    def mutate(g: Graph) -> None:
        for pattern in patterns:
            g.remove(pattern)

    return mutate


def _add(*triples: tuple) -> Callable[[Graph], None]:
    def mutate(g: Graph) -> None:
        for triple in triples:
            g.add(triple)

    return mutate


def _both(*mutations: Callable[[Graph], None]) -> Callable[[Graph], None]:
    def mutate(g: Graph) -> None:
        for m in mutations:
            m(g)

    return mutate


def _second_document(g: Graph) -> None:
    """A second, valid document, so that only the extra link is wrong."""
    other = D["document/u"]
    g.add((other, RDF.type, IPG.PolicyDocument))
    g.add((other, IPG.sourceFile, Literal("u.txt")))
    g.add((other, DCTERMS.title, Literal("另一文件", lang="zh")))
    g.add((other, RDFS.label, Literal("另一文件", lang="zh")))


# name → (mutation, focus node, path or None, a fragment of the expected message)
BROKEN: dict[str, tuple[Callable[[Graph], None], URIRef, URIRef | None, str]] = {
    "measure without text": (_remove((M1, IPG.text, None)), M1, IPG.text, "exactly one ipg:text"),
    "measure with two texts": (
        _add((M1, IPG.text, Literal("又一段", lang="zh"))),
        M1,
        IPG.text,
        "exactly one ipg:text",
    ),
    "measure text without @zh": (
        _both(_remove((M1, IPG.text, None)), _add((M1, IPG.text, Literal("培育高价值专利。")))),
        M1,
        IPG.text,
        "Chinese (@zh)",
    ),
    "measure with two partOf": (
        _both(_second_document, _add((M1, IPG.partOf, D["document/u"]))),
        M1,
        IPG.partOf,
        "exactly one ipg:partOf",
    ),
    "measure partOf a non-document": (
        _both(_remove((M1, IPG.partOf, None)), _add((M1, IPG.partOf, LAW))),
        M1,
        IPG.partOf,
        "ipg:PolicyDocument",
    ),
    "measure with two numbers": (
        _add((M1, IPG.number, Literal("9"))),
        M1,
        IPG.number,
        "at most one ipg:number",
    ),
    "section in another document": (
        _both(
            _second_document,
            _remove((D["document/t/section/1"], IPG.partOf, None)),
            _add((D["document/t/section/1"], IPG.partOf, D["document/u"])),
        ),
        M1,
        None,
        "belongs to a different document",
    ),
    "agency without label": (
        _remove((LEAD, RDFS.label, None)),
        LEAD,
        RDFS.label,
        "Agency must have exactly one rdfs:label",
    ),
    "agency with two labels": (
        _add((LEAD, RDFS.label, Literal("甲局", lang="zh"))),
        LEAD,
        RDFS.label,
        "Agency must have exactly one rdfs:label",
    ),
    "lead not among responsible": (
        _remove((M1, IPG.responsibleAgency, LEAD)),
        M1,
        None,
        "is not also an ipg:responsibleAgency",
    ),
    "lead agency not an Agency": (
        _add((M1, IPG.leadAgency, LAW), (M1, IPG.responsibleAgency, LAW)),
        M1,
        IPG.leadAgency,
        "ipg:leadAgency must be an ipg:Agency",
    ),
    "issuer not an Agency": (
        _add((DOC, IPG.issuedBy, D["programme/专利导航"])),
        DOC,
        IPG.issuedBy,
        "ipg:issuedBy must be an ipg:Agency",
    ),
    "mentions a non-programme": (_add((M1, IPG.mentions, LEAD)), M1, IPG.mentions, "ipg:Programme"),
    "cites a non-directive": (
        _add((DOC, IPG.cites, D["document/t/measure/2"])),
        DOC,
        IPG.cites,
        "ipg:Directive",
    ),
    "drafts a non-directive": (_add((DOC, IPG.drafts, LEAD)), DOC, IPG.drafts, "ipg:Directive"),
    "directive with neither title nor number": (
        _remove((LAW, DCTERMS.title, None)),
        LAW,
        None,
        "dcterms:title or an ipg:docNumber",
    ),
    "directive without level": (_remove((LAW, IPG.level, None)), LAW, IPG.level, "exactly one ipg:level"),
    "directive with two levels": (
        _add((LAW, IPG.level, IPG.Municipal)),
        LAW,
        IPG.level,
        "exactly one ipg:level",
    ),
    "document without source file": (
        _remove((DOC, IPG.sourceFile, None)),
        DOC,
        IPG.sourceFile,
        "exactly one ipg:sourceFile",
    ),
    "document with two titles": (
        _add((DOC, DCTERMS.title, Literal("又一个标题", lang="zh"))),
        DOC,
        DCTERMS.title,
        "at most one dcterms:title",
    ),
    "document date not xsd:date": (
        _both(_remove((DOC, IPG.dateSigned, None)), _add((DOC, IPG.dateSigned, Literal("2020年9月28日")))),
        DOC,
        IPG.dateSigned,
        "xsd:date",
    ),
    "target year as xsd:gYear": (
        # ontology 0.2.0: xsd:gYear is outside OWL 2, ipg:year is xsd:integer (contract change)
        _both(_remove((TARGET, IPG.year, None)), _add((TARGET, IPG.year, Literal("2025", datatype=XSD.gYear)))),
        TARGET,
        IPG.year,
        "xsd:integer",
    ),
    "section without partOf": (
        _remove((D["document/t/section/1"], IPG.partOf, None)),
        D["document/t/section/1"],
        IPG.partOf,
        "Section must have exactly one ipg:partOf",
    ),
    "target value not decimal": (
        _both(_remove((TARGET, IPG.value, None)), _add((TARGET, IPG.value, Literal(55.0)))),
        TARGET,
        IPG.value,
        "xsd:decimal",
    ),
    "target without indicator": (
        _remove((TARGET, IPG.indicator, None)),
        TARGET,
        IPG.indicator,
        "exactly one ipg:indicator",
    ),
    "target with unknown comparator": (
        _both(_remove((TARGET, IPG.comparator, None)), _add((TARGET, IPG.comparator, Literal("达到")))),
        TARGET,
        IPG.comparator,
        "ipg:comparator",
    ),
    "evidence start after end": (
        _both(_remove((D["evidence/1"], IPG.start, None)), _add((D["evidence/1"], IPG.start, Literal(40)))),
        D["evidence/1"],
        IPG.start,
        "not greater than ipg:end",
    ),
}


def errors(report: ValidationReport) -> list:
    return [v for v in report.violations if v.severity == "Violation"]


def test_shapes_parse() -> None:
    shapes = Graph().parse(SHAPES_FILE, format="turtle")
    assert len(set(shapes.subjects(RDF.type, SH.NodeShape))) >= 15
    for message in shapes.objects(None, SH.message):
        assert isinstance(message, Literal) and message.language == "en" and len(message) > 15


def test_hand_made_graph_conforms() -> None:
    graph = conforming_graph()
    size = len(graph)
    report = validate(graph)
    assert report.violations == [], report.text
    assert report.conforms is True
    assert len(graph) == size, "validate() must not change its input"


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_graph_fails_with_message(case: str) -> None:
    mutate, focus, path, fragment = BROKEN[case]
    graph = conforming_graph()
    mutate(graph)
    report = validate(graph)
    assert report.conforms is False
    found = errors(report)
    assert found, report.text
    matching = [v for v in found if fragment in v.message]
    assert matching, f"no violation says {fragment!r}: {[v.message for v in found]}"
    assert any(v.focus == focus and v.path == path for v in matching), [(v.focus, v.path) for v in matching]
    # the break is the only thing wrong: nothing else in the graph is reported
    assert {v.focus for v in found} == {focus}, [(v.focus, v.message) for v in found]
    assert fragment in report.text or "Results (" in report.text


def test_lead_check_is_not_masked_by_inference() -> None:
    # ipg:leadAgency ⊑ ipg:responsibleAgency: RDFS inference would hide a missing responsibleAgency
    assert INFERENCE == "none"


def test_warnings_are_reported_without_failing() -> None:
    graph = conforming_graph()
    graph.remove((LEAD, RDFS.label, None))
    graph.add((LEAD, RDFS.label, Literal("天津市甲局")))  # no language tag
    graph.remove((D["document/t/measure/2"], RDFS.label, None))
    report = validate(graph)
    assert report.conforms is True
    assert {(v.focus, v.severity) for v in report.violations} == {
        (LEAD, "Warning"),
        (D["document/t/measure/2"], "Warning"),
    }
    assert errors(report) == []


def test_violations_are_sorted_tuples() -> None:
    graph = conforming_graph()
    graph.remove((M1, IPG.text, None))
    graph.remove((LEAD, RDFS.label, None))
    report = validate(graph)
    assert report.violations == sorted(
        report.violations, key=lambda v: (str(v.focus), str(v.path), v.message)
    )
    focus, path, message, severity = report.violations[0]
    assert isinstance(message, str) and severity == "Violation"


def _synthetic_graph(documents: int, measures: int) -> Graph:
    """A contract-shaped graph of about 200 triples per 10 measures, for timing."""
    g = conforming_graph()
    agencies = [D[f"agency/{i}"] for i in range(30)]
    for a, node in enumerate(agencies):
        g.add((node, RDF.type, IPG.Agency))
        g.add((node, RDFS.label, Literal(f"天津市第{a}局", lang="zh")))
    for d in range(documents):
        doc = D[f"document/s{d}"]
        for triple in [
            (doc, RDF.type, IPG.PolicyDocument),
            (doc, IPG.sourceFile, Literal(f"s{d}.txt")),
            (doc, DCTERMS.title, Literal(f"文件{d}", lang="zh")),
            (doc, IPG.cites, LAW),
        ]:
            g.add(triple)
        for m in range(measures):
            node = D[f"document/s{d}/measure/{m}"]
            for triple in [
                (node, RDF.type, IPG.Measure),
                (node, IPG.partOf, doc),
                (node, IPG.number, Literal(str(m))),
                (node, IPG.text, Literal("加强保护。" * 5, lang="zh")),
                (node, RDFS.label, Literal(f"{m} 加强保护", lang="zh")),
                (node, IPG.leadAgency, agencies[m % 30]),
            ]:
                g.add(triple)
            for k in range(3):
                g.add((node, IPG.responsibleAgency, agencies[(m + k) % 30]))
            ev = D[f"evidence/s{d}-{m}"]
            for triple in [
                (ev, RDF.type, RDF.Statement),
                (ev, RDF.subject, node),
                (ev, RDF.predicate, IPG.leadAgency),
                (ev, RDF.object, agencies[m % 30]),
                (ev, IPG.evidence, Literal("(牵头)", lang="zh")),
                (ev, IPG.start, Literal(1)),
                (ev, IPG.end, Literal(5)),
            ]:
                g.add(triple)
    return g


def test_validation_of_5000_triples_takes_seconds_not_minutes() -> None:
    graph = _synthetic_graph(documents=12, measures=25)
    assert 4500 < len(graph) < 6500
    started = time.perf_counter()
    report = validate(graph)
    elapsed = time.perf_counter() - started
    assert report.conforms, report.text
    assert elapsed < 15, f"validation took {elapsed:.1f} s"


def test_the_corpus_graph_conforms(corpus_graph: Graph) -> None:
    report = validate(corpus_graph)
    assert errors(report) == [], report.text


# ---------------------------------------------------------------- terms in use (issue 11)


def test_districts_are_within_their_city(corpus_graph: Graph) -> None:
    """ipg:within is stated from the gazetteer: a place named after a known place lies in it."""
    within = {(str(corpus_graph.value(s, RDFS.label)), str(corpus_graph.value(o, RDFS.label)))
              for s, o in corpus_graph.subject_objects(IPG.within)}
    assert ("天津市滨海新区", "天津市") in within
    assert ("天津市西青区", "天津市") in within
    for place, city in within:
        assert place.startswith(city) and place != city
        assert (None, RDFS.label, Literal(city, lang="zh")) in corpus_graph
    # a city named on its own is inside nothing that the graph names
    tianjin = place_iri("天津市")
    assert (tianjin, RDF.type, IPG.Jurisdiction) in corpus_graph
    assert (tianjin, IPG.within, None) not in corpus_graph


def test_containing_place_comes_from_the_gazetteer() -> None:
    from ipgraph.graph import containing_place

    assert containing_place("沈阳市浑南区") == "沈阳市"
    assert containing_place("天津市") is None
    assert containing_place("某某区") is None  # no known place at its start


def test_every_term_is_used(corpus_graph: Graph) -> None:
    """No declared-and-unused terms: each ipg: term is in a built graph, in the shipped programme
    scheme, or written by the code (IPG.<term>, or ipg("<term>") in the writer ipgraph.stream.triples)
    — the echo terms come from ipgraph.search."""
    scheme = Graph().parse(REPO / "ipgraph" / "data" / "programmes.ttl", format="turtle")
    in_graphs = {str(t) for g in (corpus_graph, scheme) for triple in g for t in triple if isinstance(t, URIRef)}
    code = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "ipgraph").rglob("*.py") if p.name != "vocab.py")
    unused = [name for name in vocab_names()
              if NS + name not in in_graphs and not re.search(rf'\bIPG\.{name}\b|\bipg\("{name}"\)', code)]
    assert unused == []


def test_dropped_terms_are_gone_and_the_contract_says_so(ontology: Graph) -> None:
    contract = CONTRACT_FILE.read_text(encoding="utf-8")
    for name in ("Assignment", "role", "evidenceOf"):
        assert (ipg(name), None, None) not in ontology
        assert name not in vocab_names()
        assert f"ipg:{name}" in contract.split("## Changes", 1)[1]
