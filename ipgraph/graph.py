"""The graph's IRIs and prefixes, for users of rdflib.

The graph itself is written by one writer, ipgraph.stream.triples (records → N-Triples lines);
this module keeps what callers of the rdflib API need: the IRI of a document, agency,
programme, directive or place as an rdflib URIRef (minted by ipgraph.iri), the prefixes to
bind on a Graph, and `load_graph` for a built graph.
"""
from __future__ import annotations

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, SKOS, XSD

from ipgraph import iri
from ipgraph.iri import KIND_PREFIXES, slug
from ipgraph.store import load_graph
from ipgraph.stream.triples import containing_place
from ipgraph.vocab import DATA, ELI, IPG, ORG

__all__ = ["slug", "document_iri", "agency_iri", "programme_iri", "directive_iri", "place_iri",
           "containing_place", "bind_prefixes", "load_graph", "PROGRAMME_SCHEME"]

PROGRAMME_SCHEME = URIRef(iri.PROGRAMME_SCHEME)


def document_iri(source_name: str) -> URIRef:
    return URIRef(iri.document_iri(source_name))


def agency_iri(canonical: str) -> URIRef:
    return URIRef(iri.agency_iri(canonical))


def programme_iri(canonical: str) -> URIRef:
    return URIRef(iri.programme_iri(canonical))


def directive_iri(key: str) -> URIRef:
    return URIRef(iri.directive_iri(key))


def place_iri(name: str) -> URIRef:
    return URIRef(iri.place_iri(name))


def bind_prefixes(graph: Graph) -> None:
    """The prefixes of ipgraph/queries/_prefixes.rq: agency:天津市知识产权局 in Turtle and JSON-LD too."""
    graph.bind("ipg", IPG._NS)
    graph.bind("id", DATA)
    for kind, ns in KIND_PREFIXES.items():
        graph.bind(kind, ns)
    graph.bind("dcterms", DCTERMS)
    graph.bind("skos", SKOS)
    graph.bind("prov", PROV)
    graph.bind("eli", ELI)
    graph.bind("org", ORG)
    graph.bind("owl", OWL)
    graph.bind("xsd", XSD)
