"""A remote triple store: push the graph with the SPARQL 1.1 Graph Store Protocol, query it
with the SPARQL 1.1 Protocol.

    ipgraph push --endpoint http://localhost:8890/sparql-graph-crud-auth --graph https://example.org/ipgraph \\
                 --user dba --password dba
    ipgraph query leads --endpoint http://localhost:8890/sparql --default-graph https://example.org/ipgraph

Works with any server that implements the two protocols (Virtuoso, Fuseki, GraphDB,
Oxigraph server …). Virtuoso: the Graph Store endpoint that accepts writes is
/sparql-graph-crud-auth, with HTTP digest authentication as a user with the SPARQL_UPDATE
role (dba in a fresh database). Only the standard library's HTTP client is used.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

from ipgraph.errors import IpgraphError, QueryError
from ipgraph.query import QueryResult, Term, with_prefixes


class RemoteError(IpgraphError):
    """The remote server refused a request or could not be reached."""


def _opener(url: str, user: str | None, password: str | None) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = []
    if user:
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, url, user, password or "")
        # The server's challenge picks the scheme: Virtuoso asks for Digest, others for Basic.
        handlers += [urllib.request.HTTPDigestAuthHandler(passwords), urllib.request.HTTPBasicAuthHandler(passwords)]
    return urllib.request.build_opener(*handlers)


def _fail(url: str, exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        try:
            detail = exc.read().decode("utf-8", "replace").strip().splitlines()
        except OSError:
            detail = []
        first = next((line for line in detail if line.strip()), exc.reason)
        hint = "; check --user/--password" if exc.code in (401, 403) else ""
        return f"{url}: HTTP {exc.code}: {str(first)[:300]}{hint}"
    reason = getattr(exc, "reason", exc)
    return f"{url}: cannot reach the server ({reason})"


def graph_store_url(endpoint: str, graph: str | None) -> str:
    """The Graph Store Protocol URL of `graph` (the default graph when None)."""
    sep = "&" if "?" in endpoint else "?"
    return f"{endpoint}{sep}graph={quote(graph, safe='')}" if graph else f"{endpoint}{sep}default"


def _chunks(lines: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(lines), size):
        yield lines[start:start + size]


def push_graph(build_dir: Path | str, endpoint: str, graph: str | None = None, user: str | None = None,
               password: str | None = None, chunk_triples: int = 50_000, timeout: float = 600.0) -> int:
    """Replace `graph` (default: the default graph) on the Graph Store at `endpoint` with build_dir's graph.

    The first chunk of triples is sent with PUT (which replaces the graph), the rest with POST
    (which adds), so a large graph never has to fit in one request. Returns the number of
    triples sent. Raises RemoteError when the server refuses or cannot be reached.
    """
    from ipgraph.errors import GraphNotFoundError
    from ipgraph.store import NTRIPLES_NAME

    nt = Path(build_dir) / NTRIPLES_NAME
    if not nt.is_file():
        raise GraphNotFoundError(f"{build_dir}: no built graph here (run `ipgraph build -o {build_dir}` first)")
    lines = [line for line in nt.read_text(encoding="utf-8").splitlines() if line.strip()]
    if any("_:" in line for line in lines):
        chunk_triples = max(chunk_triples, len(lines))  # blank-node labels only hold within one request
    url = graph_store_url(endpoint, graph)
    opener = _opener(endpoint, user, password)
    for n, chunk in enumerate(_chunks(lines, chunk_triples) if lines else iter([[]])):
        # N-Triples is a subset of Turtle, which every Graph Store accepts.
        body = ("\n".join(chunk) + "\n").encode("utf-8")
        request = urllib.request.Request(url, data=body, method="PUT" if n == 0 else "POST",
                                         headers={"Content-Type": "text/turtle; charset=utf-8"})
        try:
            with opener.open(request, timeout=timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError) as exc:
            raise RemoteError(_fail(endpoint, exc)) from exc
    return len(lines)


class RemoteEngine:
    """A SPARQL 1.1 Protocol endpoint as a query engine (POST, form-encoded)."""

    name = "endpoint"

    def __init__(self, endpoint: str, default_graph: str | None = None, user: str | None = None,
                 password: str | None = None, timeout: float = 120.0) -> None:
        self.endpoint = endpoint
        self.default_graph = default_graph
        self.timeout = timeout
        self._opener = _opener(endpoint, user, password)

    def execute(self, sparql: str) -> QueryResult:
        fields = [("query", with_prefixes(sparql))]
        if self.default_graph:
            fields.append(("default-graph-uri", self.default_graph))
        request = urllib.request.Request(self.endpoint, data=urlencode(fields).encode("utf-8"), method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8",
        })
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                ctype = response.headers.get_content_type()
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise QueryError(_fail(self.endpoint, exc)) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise QueryError(_fail(self.endpoint, exc)) from exc
        return parse_response(body, ctype)


def parse_response(body: bytes, content_type: str) -> QueryResult:
    """A SPARQL JSON results document, or an RDF document (CONSTRUCT/DESCRIBE), as a QueryResult."""
    if content_type in ("application/sparql-results+json", "application/json"):
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise QueryError(f"the endpoint sent invalid JSON: {exc}") from exc
        if "boolean" in data:
            return QueryResult(kind="ask", boolean=bool(data["boolean"]))
        variables = data["head"].get("vars", [])
        rows = [tuple(Term.from_json(b[v]) if v in b else None for v in variables)
                for b in data["results"]["bindings"]]
        return QueryResult(kind="select", variables=variables, rows=rows)
    import pyoxigraph

    fmt = pyoxigraph.RdfFormat.from_media_type(content_type)
    if fmt is None:
        raise QueryError(f"the endpoint answered with {content_type}, which ipgraph does not read")
    try:
        triples = [(Term.from_oxigraph(q.subject), Term.from_oxigraph(q.predicate), Term.from_oxigraph(q.object))
                   for q in pyoxigraph.parse(body, format=fmt)]
    except SyntaxError as exc:
        raise QueryError(f"the endpoint sent invalid {content_type}: {exc}") from exc
    return QueryResult(kind="graph", triples=triples)
