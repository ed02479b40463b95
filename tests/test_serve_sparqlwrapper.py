"""SPARQLWrapper, the Python client users compare us with, in each of its return formats against a
real `ipgraph serve` on loopback (issue 11, item 6: its RDF/XML, JSON-LD and N3 modes failed on
an unknown `format=`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from ipgraph.serve import start_server

SPARQLWrapper = pytest.importorskip("SPARQLWrapper")
CONSTRUCT = "CONSTRUCT { ?m a ipg:Measure } WHERE { ?m a ipg:Measure } LIMIT 5"


@pytest.fixture(scope="module")
def endpoint(built_dir: Path):
    with start_server(built_dir, workers=1) as server:
        yield server.url + "/sparql"


@pytest.mark.parametrize("fmt", ["xml", "json-ld", "n3", "turtle"])
def test_construct_in_every_rdf_mode(endpoint: str, fmt: str) -> None:
    client = SPARQLWrapper.SPARQLWrapper(endpoint)
    client.setQuery(CONSTRUCT)
    client.setReturnFormat({"xml": SPARQLWrapper.XML, "json-ld": SPARQLWrapper.JSONLD,
                            "n3": SPARQLWrapper.N3, "turtle": SPARQLWrapper.TURTLE}[fmt])
    result = client.query()
    graph = result.convert()
    if not isinstance(graph, Graph):  # N3 and Turtle come back as bytes
        graph = Graph().parse(data=graph, format="turtle")
    assert len(graph) == 5


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_select_in_every_results_mode(endpoint: str, fmt: str) -> None:
    client = SPARQLWrapper.SPARQLWrapper(endpoint)
    client.setQuery("SELECT ?m WHERE { ?m a ipg:Measure } LIMIT 3")
    client.setReturnFormat(fmt)
    result = client.query().convert()
    if fmt == "json":
        assert len(result["results"]["bindings"]) == 3
    elif fmt == "xml":
        assert len(result.getElementsByTagName("result")) == 3
    else:
        assert len(result.decode("utf-8").strip().splitlines()) == 4  # a header and three rows


def test_ask_as_json(endpoint: str) -> None:
    client = SPARQLWrapper.SPARQLWrapper(endpoint)
    client.setQuery("ASK { ?m a ipg:Measure }")
    client.setReturnFormat(SPARQLWrapper.JSON)
    assert client.query().convert()["boolean"] is True
