"""The ipg: vocabulary (docs/ONTOLOGY_CONTRACT.md) as an rdflib DefinedNamespace.

Every IRI of the vocabulary is written here once; the rest of the code uses these
names. tests/test_ontology.py checks that this list and ontology/ipgraph.ttl agree.
"""
from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

DATA = Namespace("https://w3id.org/ipgraph/id/")
ONTOLOGY_IRI = URIRef("https://w3id.org/ipgraph/ontology")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
ORG = Namespace("http://www.w3.org/ns/org#")


class IPG(DefinedNamespace):
    """Terms of https://w3id.org/ipgraph/ontology#."""

    _fail = True
    _NS = Namespace("https://w3id.org/ipgraph/ontology#")

    # classes of the contract
    PolicyDocument: URIRef
    Section: URIRef
    Measure: URIRef
    Agency: URIRef
    Programme: URIRef
    Directive: URIRef
    Target: URIRef
    Jurisdiction: URIRef
    AdministrativeLevel: URIRef
    # the five levels
    International: URIRef
    National: URIRef
    Provincial: URIRef
    Municipal: URIRef
    District: URIRef
    # properties of the contract
    sourceFile: URIRef
    noticeTitle: URIRef
    docNumber: URIRef
    dateSigned: URIRef
    datePublished: URIRef
    issuedBy: URIRef
    jurisdiction: URIRef
    level: URIRef
    partOf: URIRef
    section: URIRef
    number: URIRef
    text: URIRef
    leadAgency: URIRef
    responsibleAgency: URIRef
    mentions: URIRef
    cites: URIRef
    drafts: URIRef
    hasTarget: URIRef
    indicator: URIRef
    value: URIRef
    unit: URIRef
    year: URIRef
    comparator: URIRef
    evidence: URIRef
    start: URIRef
    end: URIRef
    # extensions beyond the contract
    Evidence: URIRef
    ProgrammeScheme: URIRef
    docType: URIRef
    title: URIRef
    sectionTitle: URIRef
    discovered: URIRef
    within: URIRef
    reorganisedAs: URIRef
    alsoNamed: URIRef
    citedAs: URIRef
    order: URIRef
    measureCount: URIRef
    pattern: URIRef
    # cross-plan echoes (ipgraph.search.echoes)
    echoes: URIRef
    Echo: URIRef
    between: URIRef
    score: URIRef
