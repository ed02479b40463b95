"""SPARQL Protocol details of issue 11 (item 6): base IRI, graph IRIs, format= fallback, POST
without a query, ASK formats, the Service Description with the dataset's VoID."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pyoxigraph
import pytest

from ipgraph.iri import agency_iri
from ipgraph.serve import App, InlineExecutor, ServeLimits, start_server
from ipgraph.store import load_memory_store

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"


@pytest.fixture(scope="module")
def app(built_dir: Path) -> App:
    return App(InlineExecutor(built_dir), ServeLimits())


def sparql(app: App, accept: str | None = None, **params: str):
    return app.handle("GET", "/sparql?" + urlencode(params), {"Accept": accept} if accept else {})


def test_relative_iris_resolve_against_the_endpoint(app: App) -> None:
    r = app.handle(
        "POST", "/sparql", {"Content-Type": "application/sparql-query", "Host": "127.0.0.1:8123",
                            "Accept": "application/n-triples"},
        b"CONSTRUCT { <s> <p> 1 } WHERE {}",
    )
    assert r.status == 200, r.text
    (triple,) = list(pyoxigraph.parse(r.body, format=pyoxigraph.RdfFormat.N_TRIPLES))
    assert triple.subject == pyoxigraph.NamedNode("http://127.0.0.1:8123/s")


@pytest.mark.parametrize("key", ["default-graph-uri", "named-graph-uri"])
def test_a_bad_graph_iri_is_a_client_error(app: App, key: str) -> None:
    r = sparql(app, query="ASK {}", **{key: "not an iri"})
    assert r.status == 400 and key in r.text


def test_an_unknown_format_leaves_the_choice_to_accept(app: App) -> None:
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 3"
    r = sparql(app, "application/rdf+xml", query=query, format="rdf")  # SPARQLWrapper's name
    assert r.status == 200 and r.content_type.startswith("application/rdf+xml")
    assert len(list(pyoxigraph.parse(r.body, format=pyoxigraph.RdfFormat.RDF_XML))) == 3
    r = sparql(app, "application/ld+json", query=query, format="json-ld")
    assert r.status == 200 and r.content_type.startswith("application/ld+json")
    r = sparql(app, None, query="SELECT * {} ", format="application/sparql-results+xml")  # a media type
    assert r.content_type.startswith("application/sparql-results+xml")


def test_post_without_a_query_is_refused_not_the_page(app: App) -> None:
    for ctype in ("application/x-www-form-urlencoded", "application/sparql-query"):
        r = app.handle("POST", "/sparql", {"Content-Type": ctype, "Accept": "text/html"}, b"")
        assert r.status == 400 and "no query" in r.text


def test_ask_is_json_or_xml_never_csv(app: App) -> None:
    assert sparql(app, "text/csv", query="ASK {}").status == 406
    assert sparql(app, "text/tab-separated-values", query="ASK {}").status == 406
    r = sparql(app, "text/csv, application/sparql-results+xml;q=0.5", query="ASK {}")
    assert r.status == 200
    assert bool(pyoxigraph.parse_query_results(r.body, format=pyoxigraph.QueryResultsFormat.XML))
    assert sparql(app, "text/csv", query="SELECT * {}").status == 200  # SELECT keeps CSV


def test_a_body_in_another_charset_is_refused(app: App) -> None:
    r = app.handle(
        "POST", "/sparql", {"Content-Type": "application/sparql-query; charset=UTF-16"}, "ASK {}".encode("utf-16")
    )
    assert r.status == 415


def test_the_service_description_counts_the_graph(app: App, built_dir: Path) -> None:
    r = app.handle("GET", "/sparql", {"Accept": "text/turtle", "Host": "localhost:9"})
    assert r.status == 200 and r.content_type.startswith("text/turtle")
    g = pyoxigraph.Store()
    g.load(r.body, format=pyoxigraph.RdfFormat.TURTLE)
    endpoint = pyoxigraph.NamedNode("http://localhost:9/sparql")
    assert bool(g.query(f"ASK {{ <{endpoint.value}> a <{SD}Service> ; <{SD}endpoint> <{endpoint.value}> }}"))
    (row,) = list(g.query(f"SELECT ?n WHERE {{ ?d <{VOID}sparqlEndpoint> ?e ; <{VOID}triples> ?n }}"))
    assert int(row[0].value) == len(load_memory_store(built_dir))
    # The same description where VoID says to look for it.
    void = app.handle("GET", "/.well-known/void", {"Accept": "text/turtle", "Host": "localhost:9"})
    assert void.status == 200 and void.body == r.body
    # A browser still gets the query page.
    page = app.handle("GET", "/sparql", {"Accept": "text/html,*/*;q=0.8"})
    assert page.content_type.startswith("text/html")


def test_the_service_description_over_http(built_dir: Path) -> None:
    with start_server(built_dir, workers=1) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        r = client.get("/sparql", headers={"Accept": "application/rdf+xml"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/rdf+xml")
        triples = list(pyoxigraph.parse(r.content, format=pyoxigraph.RdfFormat.RDF_XML))
        assert pyoxigraph.NamedNode(server.url.rstrip("/") + "/sparql") in {t.subject for t in triples}


def test_named_binds_a_named_query_in_the_worker(app: App) -> None:
    r = app.handle("GET", "/named/leads?agency=" + quote("天津市知识产权局"), {})
    assert r.status == 200, r.text
    text = json.loads(r.body)["query"]
    assert "VALUES ?agency" in text and f"<{agency_iri('天津市知识产权局')}>" in text  # the agency's IRI
    bad = app.handle("GET", "/named/leads?agency=" + quote("没有这个机关"), {})
    assert bad.status == 400 and "没有这个机关" in json.loads(bad.body)["error"]
    assert app.handle("GET", "/named/leads?bogus=1", {}).status == 400
    assert app.handle("GET", "/named/_find-agency", {}).status == 404
    assert app.handle("GET", "/named/nothing", {}).status == 404
