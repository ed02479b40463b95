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

import base64
import hashlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

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
        handlers += [
            urllib.request.HTTPDigestAuthHandler(passwords),
            urllib.request.HTTPBasicAuthHandler(passwords),
        ]
    return urllib.request.build_opener(*handlers)


def digest_response(
    user: str,
    password: str,
    realm: str,
    method: str,
    uri: str,
    nonce: str,
    nc: str,
    cnonce: str,
    qop: str | None,
) -> str:
    """The `response` field of an HTTP Digest (MD5) Authorization header (RFC 2617 section 3.2.2)."""
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    if qop:
        return hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode()).hexdigest()
    return hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()


class _Credentials:
    """HTTP authentication sent up front with each request (RFC 7617 Basic, RFC 7616 Digest MD5).

    urllib answers a 401 by sending the request again, which is no use for a large upload: the
    server refuses it and closes the connection while the body is still being sent. So the
    challenge is fetched once with a bodiless HEAD request, and every upload carries its answer.
    """

    def __init__(self, url: str, user: str, password: str) -> None:
        self.user = user
        self.password = password
        self.challenge: dict[str, str] | None = None
        self.scheme = "basic"
        self.count = 0
        self._probe(url)
        self._verify(url)

    def _verify(self, url: str) -> None:
        """A wrong password is told apart here: on an upload the server just drops the connection."""
        request = urllib.request.Request(
            url, method="HEAD", headers={"Authorization": self.header("HEAD", url)}
        )
        try:
            with urllib.request.urlopen(request, timeout=60):
                pass
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code in (401, 403):
                raise RemoteError(
                    f"{url}: HTTP {exc.code}: the server refused user {self.user!r}; check --user/--password"
                ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise RemoteError(_fail(url, exc)) from exc

    def _probe(self, url: str) -> None:
        request = urllib.request.Request(url, method="HEAD")
        try:
            with urllib.request.urlopen(request, timeout=60):
                return  # no authentication asked for: Basic is sent anyway, harmless
        except urllib.error.HTTPError as exc:
            header = exc.headers.get("WWW-Authenticate", "") if exc.code == 401 else ""
            exc.close()
        except (urllib.error.URLError, OSError) as exc:
            raise RemoteError(_fail(url, exc)) from exc
        scheme, _, rest = header.partition(" ")
        if scheme.lower() == "digest":
            self.scheme = "digest"
            self.challenge = urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest))
            self.count = 0

    def header(self, method: str, url: str) -> str:
        if self.scheme == "basic" or not self.challenge:
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
            return f"Basic {token}"
        chal = self.challenge
        realm, nonce = chal.get("realm", ""), chal.get("nonce", "")
        parts = urlsplit(url)
        uri = parts.path + (f"?{parts.query}" if parts.query else "")
        self.count += 1
        nc = f"{self.count:08x}"
        cnonce = os.urandom(8).hex()
        qop = "auth" if "auth" in [q.strip() for q in chal.get("qop", "").split(",")] else None
        response = digest_response(self.user, self.password, realm, method, uri, nonce, nc, cnonce, qop)
        fields = [
            f'username="{self.user}"',
            f'realm="{realm}"',
            f'nonce="{nonce}"',
            f'uri="{uri}"',
            f'response="{response}"',
            "algorithm=MD5",
        ]
        if qop:
            fields += [f"qop={qop}", f"nc={nc}", f'cnonce="{cnonce}"']
        if "opaque" in chal:
            fields.append(f'opaque="{chal["opaque"]}"')
        return "Digest " + ", ".join(fields)


def _fail(url: str, exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        try:
            detail = exc.read().decode("utf-8", "replace").strip().splitlines()
        except Exception:  # an HTTPError made by urllib itself (e.g. "digest auth failed") has no body
            detail = []
        finally:
            exc.close()
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
        yield lines[start : start + size]


def push_graph(
    build_dir: Path | str,
    endpoint: str,
    graph: str | None = None,
    user: str | None = None,
    password: str | None = None,
    chunk_triples: int = 50_000,
    timeout: float = 600.0,
) -> int:
    """Replace `graph` (default: the default graph) on the Graph Store at `endpoint` with build_dir's graph.

    The first chunk of triples is sent with PUT (which replaces the graph), the rest with POST
    (which adds), so a large graph never has to fit in one request. Returns the number of
    triples sent. Raises RemoteError when the server refuses or cannot be reached.
    """
    from ipgraph.errors import GraphNotFoundError
    from ipgraph.store import NTRIPLES_NAME

    nt = Path(build_dir) / NTRIPLES_NAME
    if not nt.is_file():
        raise GraphNotFoundError(
            f"{build_dir}: no built graph here (run `ipgraph build -o {build_dir}` first)"
        )
    lines = [line for line in nt.read_text(encoding="utf-8").splitlines() if line.strip()]
    if any("_:" in line for line in lines):
        chunk_triples = max(chunk_triples, len(lines))  # blank-node labels only hold within one request
    url = graph_store_url(endpoint, graph)
    credentials = _Credentials(url, user, password or "") if user else None
    for n, chunk in enumerate(_chunks(lines, chunk_triples) if lines else iter([[]])):
        # N-Triples is a subset of Turtle, which every Graph Store accepts.
        body = ("\n".join(chunk) + "\n").encode("utf-8")
        method = "PUT" if n == 0 else "POST"
        for attempt in range(2):
            request = urllib.request.Request(
                url, data=body, method=method, headers={"Content-Type": "text/turtle; charset=utf-8"}
            )
            if credentials:
                request.add_header("Authorization", credentials.header(method, url))
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    response.read()
                break
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and credentials and attempt == 0:
                    exc.close()
                    credentials._probe(url)  # the nonce went stale: ask for a new one, once
                    continue
                raise RemoteError(_fail(endpoint, exc)) from exc
            except (urllib.error.URLError, OSError) as exc:
                raise RemoteError(_fail(endpoint, exc)) from exc
    return len(lines)


class RemoteEngine:
    """A SPARQL 1.1 Protocol endpoint as a query engine (POST, form-encoded)."""

    name = "endpoint"

    def __init__(
        self,
        endpoint: str,
        default_graph: str | None = None,
        user: str | None = None,
        password: str | None = None,
        timeout: float = 120.0,
    ) -> None:
        self.endpoint = endpoint
        self.default_graph = default_graph
        self.timeout = timeout
        self._opener = _opener(endpoint, user, password)

    def execute(self, sparql: str) -> QueryResult:
        fields = [("query", with_prefixes(sparql))]
        if self.default_graph:
            fields.append(("default-graph-uri", self.default_graph))
        request = urllib.request.Request(
            self.endpoint,
            data=urlencode(fields).encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8",
            },
        )
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
        rows = [
            tuple(Term.from_json(b[v]) if v in b else None for v in variables)
            for b in data["results"]["bindings"]
        ]
        return QueryResult(kind="select", variables=variables, rows=rows)
    import pyoxigraph

    fmt = pyoxigraph.RdfFormat.from_media_type(content_type)
    if fmt is None:
        raise QueryError(f"the endpoint answered with {content_type}, which ipgraph does not read")
    try:
        triples = [
            (Term.from_oxigraph(q.subject), Term.from_oxigraph(q.predicate), Term.from_oxigraph(q.object))
            for q in pyoxigraph.parse(body, format=fmt)
        ]
    except SyntaxError as exc:
        raise QueryError(f"the endpoint sent invalid {content_type}: {exc}") from exc
    return QueryResult(kind="graph", triples=triples)
