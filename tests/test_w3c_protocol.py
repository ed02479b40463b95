"""The W3C SPARQL 1.1 Protocol tests (tests/w3c: manifest and data, W3C test-suite licence), run
with a real HTTP client against a real `ipgraph serve` on loopback whose store holds the suite's
three graphs as named graphs.

Every query test must pass as the manifest says (status class, result format, boolean). The
update tests (`update_*`) must be refused as read-only (403); the `bad_update_*` tests expect a
4xx anyway. `python tests/test_w3c_protocol.py` prints the table test name → pass/refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph
import pytest
from rdflib import RDF, Graph, Namespace
from rdflib.collection import Collection

from ipgraph.serve import start_server
from ipgraph.store import STORE_META_NAME, store_path

W3C = Path(__file__).parent / "w3c"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
HTS = "http://www.w3.org/2011/http-statusCodes#StatusCode"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: frozenset[int]  # acceptable status classes: 2, 3, 4 …
    result_format: str | None  # "boolean", "tabular", "RDF"
    boolean: bool | None


@dataclass(frozen=True)
class ProtocolTest:
    name: str
    requests: tuple[Request, ...]

    @property
    def is_update(self) -> bool:
        return "update" in self.name


def load_manifest() -> list[ProtocolTest]:
    g = Graph().parse(W3C / "manifest.ttl", format="turtle")
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    tests = []
    for entry in Collection(g, g.value(manifest, MF.entries)):
        action = g.value(entry, MF.action)
        requests = []
        for req in Collection(g, g.value(action, HT.requests)):
            headers = {}
            if g.value(req, HT.headers) is not None:
                for h in Collection(g, g.value(req, HT.headers)):
                    headers[str(g.value(h, HT.fieldName))] = str(g.value(h, HT.fieldValue))
            body = g.value(req, HT.body)
            resp = g.value(req, HT.resp)
            statuses = frozenset(
                int(str(s)[len(HTS)]) for s in g.objects(resp, MF.expectedStatus) if str(s).startswith(HTS)
            )
            fmt = g.value(resp, MF.expectedFormat)
            boolean = g.value(resp, MF.expectedBoolean)
            # The manifest's paths start with /sparql/; this endpoint is /sparql.
            path = str(g.value(req, HT.absolutePath)).replace("/sparql/", "/sparql", 1)
            requests.append(
                Request(
                    method=str(g.value(req, HT.methodName)),
                    path=path,
                    headers=headers,
                    body=None if body is None else str(g.value(body, CNT.chars)).encode("utf-8"),
                    statuses=statuses,
                    result_format=None if fmt is None else str(fmt),
                    boolean=None if boolean is None else bool(boolean.toPython()),
                )
            )
        tests.append(ProtocolTest(str(entry).rsplit("#", 1)[-1], tuple(requests)))
    return tests


def graph_data() -> dict[str, Path]:
    """The named graphs the dataset tests load: graph IRI → data file."""
    g = Graph().parse(W3C / "manifest.ttl", format="turtle")
    found = {}
    for item in g.objects(None, UT.graphData):
        found[str(g.value(item, RDFS.label))] = W3C / Path(str(g.value(item, UT.graph))).name
    return found


def make_build(build_dir: Path) -> Path:
    """A build folder whose store holds the suite's graphs (named graphs, as the manifest names them)."""
    target = store_path(build_dir)
    store = pyoxigraph.Store(str(target))
    for iri, path in sorted(graph_data().items()):
        store.load(path=str(path), format=pyoxigraph.RdfFormat.N_TRIPLES, to_graph=pyoxigraph.NamedNode(iri))
    store.flush()
    triples = len(store)
    del store
    meta = {"triples": triples, "source_size": None, "source_mtime_ns": None}
    (target / STORE_META_NAME).write_text(json.dumps(meta) + "\n", encoding="utf-8")
    return build_dir


def check_response(request: Request, response: httpx.Response) -> str | None:
    """What is wrong with the response (None: it is what the manifest expects)."""
    if response.status_code // 100 not in request.statuses:
        return f"status {response.status_code}, expected {sorted(request.statuses)}xx: {response.text[:200]}"
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if request.result_format in ("boolean", "tabular"):
        try:
            fmt = pyoxigraph.QueryResultsFormat.from_media_type(media)
            answer = pyoxigraph.parse_query_results(response.content, format=fmt)
        except (ValueError, SyntaxError) as exc:
            return f"not SPARQL results ({media}): {exc}"
        if request.result_format == "boolean":
            if not isinstance(answer, pyoxigraph.QueryBoolean):
                return f"expected a boolean, got {type(answer).__name__}"
            if request.boolean is not None and bool(answer) != request.boolean:
                return f"expected {request.boolean}, got {bool(answer)}"
        elif not isinstance(answer, pyoxigraph.QuerySolutions):
            return f"expected a table, got {type(answer).__name__}"
    if request.result_format == "RDF":
        try:
            list(pyoxigraph.parse(response.content, format=pyoxigraph.RdfFormat.from_media_type(media)))
        except (ValueError, SyntaxError) as exc:
            return f"not RDF ({media}): {exc}"
    return None


def run_test(client: httpx.Client, test: ProtocolTest) -> tuple[str, str | None]:
    """(verdict, problem): "pass", or "refused" for an update answered 403 as read-only."""
    for request in test.requests:
        response = client.request(request.method, request.path, headers=request.headers, content=request.body)
        if test.name.startswith("update_"):
            if response.status_code == 403 and "read-only" in response.text:
                return "refused", None
            return "fail", f"an update was answered {response.status_code}, not refused: {response.text[:200]}"
        problem = check_response(request, response)
        if problem:
            return "fail", problem
    return "pass", None


TESTS = load_manifest()


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Iterator[httpx.Client]:
    build = make_build(tmp_path_factory.mktemp("w3c-build"))
    with start_server(build, workers=1, store="disk") as server:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield http


def test_the_manifest_is_read_whole() -> None:
    names = [t.name for t in TESTS]
    assert len(names) == 34 and len(set(names)) == 34
    assert sum(t.name.startswith("query_") for t in TESTS) == 13
    assert set(graph_data()) == {f"http://kasei.us/2009/09/sparql/data/data{n}.rdf" for n in (1, 2, 3)}


@pytest.mark.parametrize("test", TESTS, ids=[t.name for t in TESTS])
def test_w3c_protocol(client: httpx.Client, test: ProtocolTest) -> None:
    verdict, problem = run_test(client, test)
    assert problem is None, f"{test.name}: {problem}"
    assert verdict == ("refused" if test.name.startswith("update_") else "pass")


if __name__ == "__main__":  # the table for the report
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        with start_server(make_build(Path(tmp)), workers=1, store="disk") as server:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                for t in TESTS:
                    verdict, problem = run_test(http, t)
                    print(f"| {t.name} | {verdict} |" + (f" {problem}" if problem else ""))
