"""The endpoint's cheaper paths (issue 9's last bar) answer exactly what the row-by-row ones did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ipgraph import serve
from ipgraph.iri import agency_iri
from ipgraph.query import default_prefixes
from ipgraph.serve import App, InlineExecutor, Job, ServeLimits, execute_job, serialize_answer


@pytest.fixture(scope="module")
def store(built_dir: Path):
    return serve.open_for_serving(built_dir, "memory")


QUERIES = [
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 300",
    'SELECT ?a ?b ?c ?u WHERE { BIND("x"@zh AS ?a) BIND("y\\n\\"z\\"" AS ?b) BIND(3 AS ?c) OPTIONAL { FILTER(false) BIND(1 AS ?u) } }',
    "SELECT ?m ?label WHERE { ?m a ipg:Measure ; rdfs:label ?label } ORDER BY ?m",
    "SELECT * WHERE {}",
    "SELECT ?x WHERE { ?x a ipg:NoSuchClass }",
]


@pytest.mark.parametrize("query", QUERIES)
def test_json_written_by_pyoxigraph_is_the_row_by_row_json(store, query: str) -> None:
    job = Job(query=query, accept="application/sparql-results+json")
    fast = execute_job(store, job)
    rows = serialize_answer(store.query(query, prefixes=default_prefixes()), job, float("inf"))  # no retry: row by row
    assert fast.status == rows.status == 200
    assert fast.content_type == rows.content_type
    assert json.loads(fast.body) == json.loads(rows.body)


def test_an_answer_over_max_rows_is_refused_as_before(store) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    reply = execute_job(store, Job(query=query, accept="application/sparql-results+json", max_rows=50))
    assert reply.status == 400 and "50" in reply.body.decode()
    small = execute_job(store, Job(query=query + " LIMIT 50", accept="application/sparql-results+json", max_rows=50))
    assert small.status == 200 and len(json.loads(small.body)["results"]["bindings"]) == 50


def test_an_answer_over_max_bytes_is_refused_as_before(store) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    reply = execute_job(store, Job(query=query, accept="application/sparql-results+json", max_bytes=20_000))
    assert reply.status == 400 and "larger than 20000 bytes" in reply.body.decode()


def test_a_resource_page_shows_each_statement_once(built_dir: Path) -> None:
    app = App(InlineExecutor(built_dir), ServeLimits())
    iri = agency_iri("天津市知识产权局")
    rest = iri[len(default_prefixes()["id"]):]
    from urllib.parse import quote

    for path in ("/id/" + rest, "/id/" + quote(rest)):  # readable and percent-encoded: one resource
        page = app.handle("GET", path, {"Accept": "text/html"})
        assert page.status == 200
        rows = [r.split("</tr>")[0] for r in page.text.split("<tr>")[1:]]
        assert rows and len(rows) == len(set(rows)), path
