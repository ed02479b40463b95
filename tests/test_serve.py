"""The endpoint: SPARQL 1.1 Protocol, content negotiation, resource pages, the query page, and the
read-only limits. Most tests answer requests without a socket (App.handle); a real server with
worker processes is tested with a real HTTP client (httpx), including the time limit and a
short concurrent load."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pyoxigraph
import pytest
from click.testing import CliRunner
from rdflib import Graph, URIRef

from ipgraph.bench import load_test, request_mix
from ipgraph.cli import main
from ipgraph.graph import agency_iri
from ipgraph.query import list_queries
from ipgraph.serve import (
    App,
    InlineExecutor,
    Refused,
    ServeLimits,
    check_query,
    negotiate,
    start_server,
)

TJ_IP = agency_iri("天津市知识产权局")
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?m ipg:leadAgency ?a }"
CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # 10^12 rows: never ends


@pytest.fixture(scope="module")
def app(built_dir: Path) -> App:
    return App(InlineExecutor(built_dir), ServeLimits(max_rows=5000, max_query_length=2000))


def get(app: App, path: str, accept: str | None = None):
    return app.handle("GET", path, {"Accept": accept} if accept else {})


def sparql_get(app: App, query: str, accept: str | None = None, **params: str):
    return get(app, "/sparql?" + urlencode({"query": query, **params}), accept)


def results(body: bytes, fmt=pyoxigraph.QueryResultsFormat.JSON) -> list:
    return list(pyoxigraph.parse_query_results(body, format=fmt))


# ---------------------------------------------------------------------------------------------
# Content negotiation and the read-only checks


@pytest.mark.parametrize(
    "accept,offers,chosen",
    [
        (None, ["a/x", "b/y"], "a/x"),
        ("*/*", ["a/x", "b/y"], "a/x"),
        ("b/y", ["a/x", "b/y"], "b/y"),
        ("b/y;q=0.5, a/x;q=0.9", ["a/x", "b/y"], "a/x"),
        ("text/*", ["application/json", "text/csv"], "text/csv"),
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ["text/turtle", "text/html"],
            "text/html",
        ),
        ("image/png", ["a/x"], None),
        ("a/x;q=0", ["a/x"], None),
    ],
)
def test_negotiate(accept, offers, chosen) -> None:
    assert negotiate(accept, offers) == chosen


def test_the_check_reads_the_query_not_its_words() -> None:
    text = 'SELECT ?service WHERE { ?s <http://x/SERVICE> "SERVICE LOAD" . # SERVICE\n ?s ipg:insert ?load }'
    check_query(text, ServeLimits())  # no exception: strings, IRIs, comments and variables are not keywords
    with pytest.raises(Refused) as info:
        check_query("SELECT * { service <http://other/sparql> { ?s ?p ?o } }", ServeLimits())
    assert info.value.status == 403


@pytest.mark.parametrize(
    "query,status",
    [
        ("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", 403),
        ("INSERT DATA { <http://a> <http://b> <http://c> }", 403),
        ("LOAD <http://example.org/data.ttl>", 403),
        ("DROP ALL", 403),
        ("SELECT * {} #" + "x" * 3000, 413),
    ],
)
def test_check_query_refuses(query: str, status: int) -> None:
    with pytest.raises(Refused) as info:
        check_query(query, ServeLimits(max_query_length=2000))
    assert info.value.status == status


# ---------------------------------------------------------------------------------------------
# The SPARQL 1.1 Protocol (no socket)


def test_get_query_json_results(app) -> None:
    response = sparql_get(app, COUNT)
    assert response.status == 200 and response.content_type == "application/sparql-results+json"
    [row] = results(response.body)
    assert int(row["n"].value) > 40
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    "accept,fmt,ctype",
    [
        (
            "application/sparql-results+xml",
            pyoxigraph.QueryResultsFormat.XML,
            "application/sparql-results+xml",
        ),
        ("text/csv", pyoxigraph.QueryResultsFormat.CSV, "text/csv; charset=utf-8"),
        (
            "text/tab-separated-values",
            pyoxigraph.QueryResultsFormat.TSV,
            "text/tab-separated-values; charset=utf-8",
        ),
        ("application/json", pyoxigraph.QueryResultsFormat.JSON, "application/json"),
    ],
)
def test_result_formats_by_accept(app, accept, fmt, ctype) -> None:
    response = sparql_get(app, "SELECT ?d ?t WHERE { ?d a ipg:PolicyDocument ; rdfs:label ?t }", accept)
    assert response.status == 200 and response.content_type == ctype
    if fmt is pyoxigraph.QueryResultsFormat.CSV:
        lines = response.text.splitlines()
        assert lines[0] == "d,t" and len(lines) == 6
    else:
        rows = results(response.body, fmt)
        assert len(rows) == 5 and any("知识产权" in r["t"].value for r in rows)


def test_format_parameter_overrides_accept(app) -> None:
    response = sparql_get(app, COUNT, "application/sparql-results+json", format="csv")
    assert response.content_type.startswith("text/csv")


def test_ask(app) -> None:
    response = sparql_get(app, "ASK { ?a a ipg:Agency }")
    assert json.loads(response.body) == {"head": {}, "boolean": True}


def test_post_form_and_direct(app) -> None:
    form = app.handle(
        "POST",
        "/sparql",
        {"Content-Type": "application/x-www-form-urlencoded"},
        urlencode({"query": COUNT}).encode(),
    )
    direct = app.handle(
        "POST", "/sparql", {"Content-Type": "application/sparql-query; charset=utf-8"}, COUNT.encode()
    )
    assert form.status == direct.status == 200 and form.body == direct.body


@pytest.mark.parametrize(
    "accept,parse_as",
    [
        (None, "turtle"),
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/n-triples", "nt"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_construct_and_describe_by_accept(app, accept, parse_as) -> None:
    query = "CONSTRUCT { ?a rdfs:label ?l } WHERE { ?a a ipg:Agency ; rdfs:label ?l } "
    response = sparql_get(app, query, accept)
    assert response.status == 200
    graph = Graph().parse(data=response.body, format=parse_as)
    assert len(graph) > 50
    describe = sparql_get(app, f"DESCRIBE <{TJ_IP}>", accept)
    assert (URIRef(TJ_IP), None, None) in Graph().parse(data=describe.body, format=parse_as)


def test_unacceptable_type_is_406(app) -> None:
    assert sparql_get(app, "CONSTRUCT WHERE { ?s a ipg:Agency }", "text/csv").status == 406
    assert sparql_get(app, COUNT, "image/png").status == 406


def test_default_graph_uri_selects_a_graph(app) -> None:
    response = sparql_get(app, COUNT, **{"default-graph-uri": "https://example.org/no-such-graph"})
    assert results(response.body)[0]["n"].value == "0"


@pytest.mark.parametrize(
    "method,path,headers,body,status,message",
    [
        ("POST", "/sparql", {"Content-Type": "application/sparql-update"}, b"DROP ALL", 403, "read-only"),
        (
            "POST",
            "/sparql",
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"update=DROP%20ALL",
            403,
            "read-only",
        ),
        (
            "GET",
            "/sparql?" + urlencode({"query": "INSERT DATA { <a:b> <a:c> 1 }"}),
            {},
            b"",
            403,
            "read-only",
        ),
        (
            "GET",
            "/sparql?" + urlencode({"query": "SELECT * { SERVICE <http://evil/> { ?s ?p ?o } }"}),
            {},
            b"",
            403,
            "SERVICE",
        ),
        (
            "GET",
            "/sparql?" + urlencode({"query": "SELECT * {} #" + "x" * 3000}),
            {},
            b"",
            413,
            "at most 2000",
        ),
        ("GET", "/sparql?query=SELECT%20*%20WHERE%20%7B", {}, b"", 400, "syntax error"),
        ("GET", "/sparql?query=ASK%7B%7D&query=ASK%7B%7D", {}, b"", 400, "exactly one"),
        ("GET", "/sparql", {"Accept": "application/sparql-results+json"}, b"", 400, "no query"),
        ("POST", "/sparql", {"Content-Type": "text/plain"}, b"ASK {}", 415, "application/sparql-query"),
        ("PUT", "/sparql", {}, b"", 405, "read-only"),
        ("DELETE", "/id/agency/x", {}, b"", 405, "read-only"),
        ("GET", "/sparql?" + urlencode({"query": "SELECT * WHERE { ?s ?p ?o }"}), {}, b"", 400, "LIMIT"),
        ("GET", "/nowhere", {}, b"", 404, "nothing at /nowhere"),
    ],
)
def test_refusals_are_clear(app, method, path, headers, body, status, message) -> None:
    response = app.handle(method, path, headers, body)
    assert response.status == status
    assert response.content_type.startswith("text/plain")
    assert message in response.text and len(response.text.strip().splitlines()) == 1


def test_service_in_a_string_is_not_refused(app) -> None:
    response = sparql_get(app, 'SELECT ("SERVICE <http://x/>" AS ?s) WHERE {}')
    assert response.status == 200


def test_head_and_options(app) -> None:
    head = app.handle("HEAD", "/sparql?" + urlencode({"query": COUNT}))
    full = sparql_get(app, COUNT)
    assert head.status == 200 and head.body == b"" and head.headers["Content-Length"] == str(len(full.body))
    options = app.handle("OPTIONS", "/sparql")
    assert options.status == 204 and "POST" in options.headers["Access-Control-Allow-Methods"]


# ---------------------------------------------------------------------------------------------
# Resources under /id/


def test_resource_html_for_browsers(app) -> None:
    response = get(app, "/id/agency/" + quote("天津市知识产权局", safe=""), "text/html,*/*;q=0.8")
    assert response.status == 200 and response.content_type.startswith("text/html")
    page = response.text
    assert "<h1>天津市知识产权局</h1>" in page
    # the measures it leads link to their own pages
    assert re.search(
        r'<a href="/id/document/004_fd40c90dbaa4972a/measure/23"[^>]*>[^<]+</a></td><th>'
        r'<span title="https://w3id.org/ipgraph/ontology#leadAgency">ipg:leadAgency',
        page,
    )


def test_resource_turtle_otherwise(app) -> None:
    response = get(app, "/id/agency/" + quote("天津市知识产权局", safe=""))
    assert response.content_type.startswith("text/turtle")
    graph = Graph().parse(data=response.body, format="turtle")
    assert (
        str(graph.value(URIRef(TJ_IP), URIRef("http://www.w3.org/2000/01/rdf-schema#label")))
        == "天津市知识产权局"
    )
    assert len(list(graph.subjects(None, URIRef(TJ_IP)))) >= 6  # what points at it: measures, documents
    jsonld = get(app, "/id/agency/" + quote("天津市知识产权局", safe=""), "application/ld+json")
    assert len(Graph().parse(data=jsonld.body, format="json-ld")) == len(graph)


def test_resource_path_as_typed_and_evidence(app) -> None:
    # a path typed with raw Chinese characters names the same resource as the percent-encoded IRI
    measure = get(app, "/id/document/004_fd40c90dbaa4972a/measure/23", "text/html")
    assert measure.status == 200 and "Evidence" in measure.text and "天津市知识产权局" in measure.text
    raw = get(app, "/id/agency/天津市知识产权局", "text/html")
    assert raw.status == 200 and "<h1>天津市知识产权局</h1>" in raw.text


def test_missing_resource_is_404(app) -> None:
    assert get(app, "/id/agency/nothing", "text/html").status == 404
    assert get(app, "/id/agency/nothing").status == 404


def test_resource_page_escapes_text(app) -> None:
    page = get(app, "/id/agency/%3Cscript%3E", "text/html")
    assert page.status == 404 and "<script>" not in page.text


# ---------------------------------------------------------------------------------------------
# The query page (YASGUI, bundled)


def test_query_page_lists_the_named_queries_and_loads_only_local_files(app) -> None:
    page = get(app, "/", "text/html").text
    data = json.loads(re.search(r"const QUERIES = (.*);\n", page).group(1))
    assert [q["name"] for q in data] == [q.name for q in list_queries()]
    assert data[0]["query"] == list_queries()[0].text
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert url.startswith("/"), url  # nothing from a CDN
    for url in ("/static/yasgui/yasgui.min.js", "/static/yasgui/yasgui.min.css"):
        response = get(app, url)
        assert response.status == 200 and len(response.body) > 10_000
    assert get(app, "/static/yasgui/yasgui.min.js").content_type.startswith("text/javascript")
    assert get(app, "/static/yasgui/../../cli.py").status == 404
    assert get(app, "/sparql", "text/html").text == page  # a browser opening the endpoint gets the page


def test_serve_get_without_socket(built_dir) -> None:
    runner = CliRunner()
    ok = runner.invoke(
        main,
        [
            "serve",
            "--graph",
            str(built_dir),
            "--get",
            "/sparql?" + urlencode({"query": COUNT}),
            "--accept",
            "text/csv",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.splitlines()[0] == "n" and ok.stderr.startswith("200 text/csv")
    refused = runner.invoke(main, ["serve", "--graph", str(built_dir), "--get", "/sparql?query=DROP%20ALL"])
    assert refused.exit_code == 1 and "read-only" in refused.stdout and refused.stderr.startswith("403")


# ---------------------------------------------------------------------------------------------
# A real server, worker processes, a real HTTP client


@pytest.fixture(scope="module")
def server(built_dir):
    running = start_server(built_dir, limits=ServeLimits(timeout=2.0, max_request_bytes=100_000), workers=2)
    yield running
    running.close()


def test_server_binds_loopback_by_default(server) -> None:
    assert server.server.server_address[0] == "127.0.0.1"


def test_server_on_the_disk_store(built_dir) -> None:
    with start_server(built_dir, workers=1, store="disk") as disk:
        answer = httpx.get(disk.url + "/sparql", params={"query": COUNT}, timeout=30)
    assert answer.status_code == 200 and int(answer.json()["results"]["bindings"][0]["n"]["value"]) > 40


def test_http_protocol(server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        got = client.get("/sparql", params={"query": COUNT})
        posted = client.post(
            "/sparql", data={"query": COUNT}, headers={"Accept": "text/tab-separated-values"}
        )
        direct = client.post(
            "/sparql", content=COUNT.encode(), headers={"Content-Type": "application/sparql-query"}
        )
    assert got.status_code == posted.status_code == direct.status_code == 200
    assert got.headers["content-type"] == "application/sparql-results+json"
    assert posted.text.splitlines()[0] == "?n"
    assert got.json() == direct.json()


def test_http_refuses_update_service_and_big_requests(server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        update = client.post(
            "/sparql", content=b"DROP ALL", headers={"Content-Type": "application/sparql-update"}
        )
        service = client.get(
            "/sparql", params={"query": "SELECT * { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }"}
        )
        big = client.post(
            "/sparql", content=b"#" * 200_000, headers={"Content-Type": "application/sparql-query"}
        )
        long_get = client.get("/sparql", params={"query": "ASK {} #" + "x" * 30_000})
    assert (update.status_code, service.status_code, big.status_code, long_get.status_code) == (
        403,
        403,
        413,
        413,
    )
    assert "200000 bytes" in big.text and "at most 20000" in long_get.text


def test_http_timeout_stops_the_query_and_the_server_goes_on(server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        slow = client.get("/sparql", params={"query": CROSS})
        assert slow.status_code == 503 and "time limit" in slow.text
        for _ in range(3):  # the worker that ran it was replaced: every worker answers again
            assert client.get("/sparql", params={"query": COUNT}).status_code == 200


def test_http_resource_negotiation(server) -> None:
    path = "/id/agency/" + quote("天津市知识产权局", safe="")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        html = client.get(path, headers={"Accept": "text/html"})
        turtle = client.get(path, headers={"Accept": "*/*"})
    assert html.headers["content-type"].startswith("text/html") and "天津市知识产权局" in html.text
    assert turtle.headers["content-type"].startswith("text/turtle") and html.headers["vary"] == "Accept"


def test_concurrent_clients_smoke(server, built_dir) -> None:
    port = server.server.server_address[1]
    report = load_test(port, request_mix(built_dir), clients=5, seconds=2.0)
    assert report["errors"] == 0, report["error_samples"]
    assert report["requests"] >= 5


# ---------------------------------------------------------------------------------------------
# The query page in a real browser (skipped without Debian's chromium)


@pytest.mark.browser
def test_query_page_runs_a_named_query_offline(server) -> None:
    from ipgraph.view import CHROMIUM_PATH, headless_chromium

    if not Path(CHROMIUM_PATH).is_file():
        pytest.skip(f"{CHROMIUM_PATH} absent: install Debian `chromium` (bash scripts/test.sh does)")
    outside: list[str] = []
    errors: list[str] = []
    with headless_chromium() as browser:
        page = browser.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        def route(r) -> None:
            if r.request.url.startswith(server.url):
                r.continue_()
            else:
                outside.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.goto(server.url + "/")
        page.wait_for_function(
            "window.ipgraphYasgui && Object.keys(window.ipgraphYasgui._tabs).length > 0", timeout=60_000
        )
        names = page.evaluate("Object.values(window.ipgraphYasgui._tabs).map(t => t.name())")
        assert names == [q.name for q in list_queries()]
        page.evaluate("window.ipgraphYasgui.getTab().query()")
        page.wait_for_selector(".yasr table tbody tr", timeout=60_000)
        assert "天津市" in page.inner_text(".yasr")
    assert errors == [] and outside == []
