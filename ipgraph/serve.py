"""`ipgraph serve`: the graph over HTTP, read-only.

- `/sparql` speaks the SPARQL 1.1 Protocol: GET `?query=`, POST form-encoded or
  `application/sparql-query`; results as SPARQL JSON, XML, CSV or TSV, CONSTRUCT/DESCRIBE as
  Turtle, JSON-LD, N-Triples or RDF/XML, chosen by the Accept header (or `?format=`).
- `/` is a query page (YASGUI, bundled in ipgraph/static/yasgui) with the named queries as tabs.
- `/id/...` shows every `https://w3id.org/ipgraph/id/...` resource: HTML for browsers,
  Turtle (or JSON-LD, N-Triples) otherwise.

Safety (issue 9): binds 127.0.0.1 unless told otherwise and answers only to its own Host names;
HTTP is uvicorn on h11 (strict parsing: no request smuggling), with a connection cap and a
deadline for each request's head. SERVICE, updates and LOAD are refused from a parse of the
query (ipgraph.sparqlguard), run in the worker under the query's limits; the workers also have no
network at all (ipgraph.sandbox: own network namespace + seccomp), a memory cap (RLIMIT_AS) and
die with the server. A query past `timeout`, whose client hangs up, or that a fairer share of the
workers calls back is stopped for real (its worker is ended and a warm spare takes its place);
results are serialised row by row up to `max_rows` and `max_bytes`. Workers are shared fairly
between client addresses (FairPool).

`handle_request` (and `get`, behind `ipgraph serve --get PATH`) answer a request without a
socket, which is how most tests drive the protocol.
"""

from __future__ import annotations

import html
import itertools
import json
import multiprocessing
import os
import pickle
import queue
import re
import signal
import struct
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ipgraph.errors import IpgraphError
from ipgraph.query import (
    QueryResult,
    QueryTimeout,
    ResultTooLarge,
    Row,
    Term,
    bind,
    canonical_query,
    compact,
    default_prefixes,
    drop_frames,
    list_queries,
    one_line,
    results_csv,
    results_json,
    results_tsv,
    results_xml,
    serialize_triples,
)

# ---------------------------------------------------------------------------------------------
# Limits and media types


@dataclass(frozen=True)
class ServeLimits:
    """The per-request limits of the endpoint."""

    timeout: float = 10.0  # seconds a query may run
    max_rows: int = 100_000  # rows (SELECT) or triples (CONSTRUCT/DESCRIBE) in one result
    max_query_length: int = 20_000  # characters of query text
    max_request_bytes: int = 1_000_000  # bytes of request body
    max_bytes: int = 32 * 1024 * 1024  # bytes of one response body
    max_memory: int | None = None  # bytes of address space per query worker (None: default_max_memory)
    max_connections: int = 1000  # open connections (more are closed at once)
    max_connections_per_client: int = 256  # open connections from one address
    header_timeout: float = 10.0  # seconds a connection may take to send a request's head


def default_max_memory(workers: int) -> int:
    """Half of the machine's memory shared between the workers, at least 1 GiB each."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        total = 8 * 1024**3
    return max(1024**3, total // 2 // max(1, workers))


RESULT_TYPES = {  # SELECT and ASK; the first is the default
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/xml": "xml",
}
BOOLEAN_TYPES = [t for t, kind in RESULT_TYPES.items() if kind in ("json", "xml")]
GRAPH_TYPES = [
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
    "application/trig",
    "application/n-quads",
]
FORMAT_PARAM = {  # ?format= shortcuts (handy in a browser's address bar)
    "json": "application/sparql-results+json, application/ld+json",
    "xml": "application/sparql-results+xml, application/rdf+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "rdfxml": "application/rdf+xml",
    "html": "text/html",
}
SERVICE_TYPES = ["text/turtle", "application/rdf+xml", "application/ld+json", "application/n-triples"]
# The Service Description (SPARQL 1.1 SD) and the dataset's VoID, computed by the store (the
# triple, subject and class counts are those of the graph being served).
SERVICE_DESCRIPTION = """PREFIX sd: <http://www.w3.org/ns/sparql-service-description#>
PREFIX void: <http://rdfs.org/ns/void#>
PREFIX fmt: <http://www.w3.org/ns/formats/>
CONSTRUCT {
  <{{ENDPOINT}}> a sd:Service ; sd:endpoint <{{ENDPOINT}}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:resultFormat fmt:SPARQL_Results_JSON, fmt:SPARQL_Results_XML, fmt:SPARQL_Results_CSV,
      fmt:SPARQL_Results_TSV, fmt:Turtle, fmt:JSON-LD, fmt:N-Triples, fmt:RDF_XML, fmt:TriG, fmt:N-Quads ;
    sd:defaultDataset <{{ENDPOINT}}#dataset> .
  <{{ENDPOINT}}#dataset> a sd:Dataset ; sd:defaultGraph <{{ENDPOINT}}#default-graph> .
  <{{ENDPOINT}}#default-graph> a sd:Graph, void:Dataset ;
    void:sparqlEndpoint <{{ENDPOINT}}> ; void:uriSpace "{{SPACE}}" ;
    void:triples ?triples ; void:distinctSubjects ?subjects ; void:classes ?classes .
} WHERE {
  { SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) WHERE { ?s ?p ?o } }
  { SELECT (COUNT(DISTINCT ?c) AS ?classes) WHERE { ?x a ?c } }
}"""
STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".map": "application/json",
}


def valid_iri(iri: str) -> bool:
    """An absolute IRI, by Oxigraph's own parser (graph names are checked before any query runs)."""
    import pyoxigraph

    try:
        pyoxigraph.NamedNode(iri)
    except ValueError:
        return False
    return True


def _accept_list(accept: str | None) -> list[tuple[str, float]]:
    prefs = []
    for part in (accept or "").split(","):
        media, *params = [p.strip() for p in part.split(";")]
        if not media:
            continue
        q = 1.0
        for param in params:
            if param.lower().startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        prefs.append((media.lower(), q))
    return prefs


def negotiate(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offered media type the Accept header likes best (ties go to the earlier offer).

    No Accept header means the first offer; None means nothing offered is acceptable.
    """
    prefs = _accept_list(accept)
    if not prefs:
        return offers[0] if offers else None
    best, best_q = None, 0.0
    for offer in offers:
        major = offer.split("/")[0]
        spec, q = -1, 0.0
        for media, mq in prefs:
            rank = 2 if media == offer else 1 if media == f"{major}/*" else 0 if media == "*/*" else -1
            if rank > spec:
                spec, q = rank, mq
        if q > best_q:
            best, best_q = offer, q
    return best


# ---------------------------------------------------------------------------------------------
# Read-only checks


class ServeError(IpgraphError):
    """The server could not start (the port is taken, the store cannot be opened …)."""


class Refused(Exception):
    """A request the endpoint will not answer: HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def check_length(sparql: str, limits: ServeLimits) -> None:
    """Refuse an over-long query (the only check the HTTP process makes: it costs nothing)."""
    if len(sparql) > limits.max_query_length:
        raise Refused(
            413,
            f"the query is {len(sparql)} characters long; this endpoint takes at most "
            f"{limits.max_query_length}",
        )


def check_query(sparql: str, limits: ServeLimits) -> None:
    """Refuse over-long queries, updates, SERVICE (federation) and LOAD, from a parse of the query.

    The query workers call this under the query's time and memory limits (ipgraph.sparqlguard).
    """
    from ipgraph.sparqlguard import inspect_query

    check_length(sparql, limits)
    verdict = inspect_query(sparql, default_prefixes())
    if not verdict.ok:
        raise Refused(verdict.status, verdict.reason)


# ---------------------------------------------------------------------------------------------
# Running queries: one function, used by the worker processes and by the in-process executor


@dataclass(frozen=True)
class Job:
    """One query to run, with how to answer it.

    trusted: the query is one of ipgraph's own (a named query with pyoxigraph-written values),
    so the parse check is skipped.
    """

    query: str
    accept: str | None = None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    max_rows: int = 100_000
    timeout: float = 10.0
    max_bytes: int = 32 * 1024 * 1024
    trusted: bool = False
    base_iri: str | None = None  # resolves the query's relative IRIs (the endpoint's own URL)
    search: dict[str, str] | None = None  # not SPARQL: the parameters of a /search request
    named: tuple[str, tuple[tuple[str, str], ...]] | None = None  # not run: a named query to bind
    page: tuple[str, ...] | None = None  # not SPARQL: the IRIs of one resource whose HTML page to write
    empty_404: str | None = None  # a graph answer without triples is a 404 with this message


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    retire: bool = False  # the worker that sent it has ended itself (it ran out of memory)


def _text(status: int, message: str) -> Reply:
    return Reply(status, "text/plain; charset=utf-8", (message.rstrip("\n") + "\n").encode("utf-8"))


class ResultTooBig(Exception):
    """The serialised result passed the byte cap."""


class _CappedBuffer:
    """A write-only file that keeps at most `cap` bytes and raises past it (pyoxigraph writes here)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parts: list[bytes] = []
        self.size = 0
        self.over = False

    def write(self, data: bytes | str) -> int:
        chunk = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        self.size += len(chunk)
        if self.cap and self.size > self.cap:
            self.over = True
            raise ResultTooBig()
        self.parts.append(chunk)
        return len(chunk)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def _too_big(max_bytes: int) -> Reply:
    return _text(
        400,
        f"the result is larger than {max_bytes} bytes, the limit of this endpoint; "
        f"add a LIMIT or choose fewer variables",
    )


def _counted(answer: Any, max_rows: int, deadline: float) -> Iterator[Any]:
    """The items of a pyoxigraph answer, stopping past max_rows or the deadline."""
    for n, item in enumerate(answer, start=1):
        if max_rows and n > max_rows:
            raise ResultTooLarge(max_rows)
        if n % 256 == 0 and time.monotonic() > deadline:
            raise QueryTimeout()
        yield item


def _select_lines(kind: str, variables: list[str], rows: Iterator[Row]) -> Iterator[str]:
    """SELECT results in `kind` (json, xml, csv, tsv), piece by piece, as results_* write them whole."""
    if kind == "json":
        yield '{"head": {"vars": ' + json.dumps(variables, ensure_ascii=False) + '}, "results": {"bindings": ['
        batch: list[dict[str, Any]] = []
        first = True
        for row in rows:
            batch.append({v: t.to_json() for v, t in zip(variables, row, strict=True) if t is not None})
            if len(batch) == 256:  # one json.dumps per batch: "[a, b]"[1:-1] is how a whole list joins
                yield ("" if first else ", ") + json.dumps(batch, ensure_ascii=False)[1:-1]
                batch, first = [], False
        if batch:
            yield ("" if first else ", ") + json.dumps(batch, ensure_ascii=False)[1:-1]
        yield "]}}"
        return
    if kind == "xml":
        header = results_xml(QueryResult(kind="select", variables=variables))
        head, tail = header.split("<results>\n", 1)
        yield head + "<results>\n"
        for row in rows:
            one = results_xml(QueryResult(kind="select", variables=variables, rows=[row]))
            yield one[one.index("<results>\n") + len("<results>\n") : one.index("</results>")]
        yield tail
        return
    if kind == "csv":
        yield results_csv(QueryResult(kind="select", variables=variables))
        for row in rows:
            yield results_csv(QueryResult(kind="select", variables=[""] * len(row), rows=[row])).split("\r\n", 1)[1]
        return
    yield "\t".join(f"?{v}" for v in variables) + "\n"
    for row in rows:
        yield "\t".join("" if t is None else t.n3() for t in row) + "\n"


# The fewest bytes one more row adds to pyoxigraph's SPARQL JSON: `,{}` (no spaces are written).
MIN_JSON_ROW_BYTES = 3


def serialize_answer(
    answer: Any, job: Job, deadline: float, retry: Callable[[], Any] | None = None
) -> Reply:
    """A pyoxigraph answer serialised as negotiated, within max_rows and max_bytes.

    Nothing is held but the output, which stops at job.max_bytes (a client cannot make the
    worker build a result of any size). retry: runs the query again, for an answer that must be
    serialised row by row after all (SPARQL JSON is first written by pyoxigraph itself).
    """
    import pyoxigraph

    if isinstance(answer, pyoxigraph.QueryBoolean):
        # CSV and TSV are defined for SELECT only: an ASK is served as JSON or XML, or refused.
        media = negotiate(job.accept, BOOLEAN_TYPES)
        if media is None:
            return _text(406, f"ASK results are available as {', '.join(BOOLEAN_TYPES)}")
        return serialize_reply(QueryResult(kind="ask", boolean=bool(answer)), media)
    out = _CappedBuffer(job.max_bytes)
    if isinstance(answer, pyoxigraph.QueryTriples):
        media = negotiate(job.accept, GRAPH_TYPES)
        if media is None:
            return _text(406, f"CONSTRUCT/DESCRIBE results are available as {', '.join(GRAPH_TYPES)}")
        fmt = pyoxigraph.RdfFormat.from_media_type(media)
        kwargs: dict[str, Any] = {}
        if fmt in (pyoxigraph.RdfFormat.TURTLE, pyoxigraph.RdfFormat.TRIG, pyoxigraph.RdfFormat.N3):
            kwargs["prefixes"] = _prefixes()  # agency:天津市知识产权局, as `ipgraph query` prints it
        triples = _counted(answer, job.max_rows, deadline)
        first = next(triples, None)
        if first is None and job.empty_404:
            return _text(404, job.empty_404)  # decided here: the server need not parse the answer back
        try:
            pyoxigraph.serialize(
                itertools.chain([first] if first is not None else [], triples), out, format=fmt, **kwargs  # type: ignore[arg-type]
            )
        except (ResultTooBig, OSError, ValueError):
            if out.over:
                return _too_big(job.max_bytes)
            raise
        charset = "; charset=utf-8" if media.startswith("text/") else ""
        return Reply(200, media + charset, out.getvalue())
    media = negotiate(job.accept, list(RESULT_TYPES))
    if media is None:
        return _text(406, f"SELECT/ASK results are available as {', '.join(RESULT_TYPES)}")
    kind = RESULT_TYPES[media]
    if kind == "json" and retry is not None:
        # pyoxigraph writes SPARQL JSON itself (Rust: a third of the CPU of converting each term
        # in Python), into the capped buffer. It cannot count rows, so an answer that might hold
        # more than max_rows (each row adds at least MIN_JSON_ROW_BYTES) or that passes the byte
        # cap is answered again row by row below, whose refusals say which limit it passed.
        try:
            answer.serialize(out, format=pyoxigraph.QueryResultsFormat.JSON)
            fits = not job.max_rows or out.size < MIN_JSON_ROW_BYTES * job.max_rows
        except (ResultTooBig, OSError, ValueError):
            if not out.over:
                raise
            fits = False
        if fits:
            return Reply(200, media, out.getvalue())
        del answer
        out = _CappedBuffer(job.max_bytes)
        answer = retry()
    variables = [v.value for v in answer.variables]
    conv = Term.from_oxigraph
    rows = (
        tuple(conv(t) if t is not None else None for t in solution)
        for solution in _counted(answer, job.max_rows, deadline)
    )
    try:
        for piece in _select_lines(kind, variables, rows):
            out.write(piece.encode("utf-8"))
    except ResultTooBig:
        return _too_big(job.max_bytes)
    ctype = {"csv": "text/csv; charset=utf-8", "tsv": "text/tab-separated-values; charset=utf-8"}
    return Reply(200, ctype.get(kind, media), out.getvalue())


@lru_cache(maxsize=1)
def _prefixes() -> dict[str, str]:
    """default_prefixes, read once per process (the package's _prefixes.rq does not change while it runs)."""
    return default_prefixes()


@lru_cache(maxsize=256)
def _verdict(sparql: str) -> Any:
    """The parse check of a text, once per text (same text, same algebra: the load repeats texts)."""
    from ipgraph.sparqlguard import inspect_query

    return inspect_query(sparql, _prefixes())


@lru_cache(maxsize=256)
def _canonical_text(sparql: str) -> str:
    """canonical_query, once per text (the same text is rewritten the same way: the load repeats texts)."""
    return canonical_query(sparql)


def execute_job(store: Any, job: Job) -> Reply:
    """Run `job` on a pyoxigraph store and serialise the answer as negotiated."""
    import pyoxigraph

    deadline = time.monotonic() + job.timeout
    if not job.trusted:
        verdict = _verdict(job.query)
        if not verdict.ok:
            return _text(verdict.status, verdict.reason)
    kwargs: dict[str, Any] = {"prefixes": _prefixes(), "base_iri": job.base_iri}
    try:
        if job.default_graphs:
            kwargs["default_graph"] = [pyoxigraph.NamedNode(g) for g in job.default_graphs]
        if job.named_graphs:
            kwargs["named_graphs"] = [pyoxigraph.NamedNode(g) for g in job.named_graphs]
        text = _canonical_text(job.query)  # a percent-encoded IRI of ours is not empty

        def run() -> Any:
            return store.query(text, **kwargs)

        answer = run()
        try:
            reply = serialize_answer(answer, job, deadline, run)
        finally:
            del answer  # dropped here, in the thread that made it (pyoxigraph requires it)
    except SyntaxError as exc:
        return _text(400, f"SPARQL syntax error: {one_line(str(drop_frames(exc)), 400)}")
    except QueryTimeout as exc:
        drop_frames(exc)
        return _text(503, str(QueryTimeout(job.timeout)))
    except ResultTooLarge as exc:
        return _text(400, str(drop_frames(exc)))
    except ValueError as exc:  # e.g. a bad default-graph-uri
        return _text(400, f"bad request: {drop_frames(exc)}")
    except OSError as exc:
        return _text(500, f"the store could not be read: {drop_frames(exc)}")
    if time.monotonic() > deadline:
        return _text(503, str(QueryTimeout(job.timeout)))
    return reply


def run_search(build_dir: Path | str, job: Job) -> Reply:
    """A /search request, answered by ipgraph.search in the worker (it loads jieba and the index
    once per worker, never in the HTTP process)."""
    from ipgraph.search import search_response

    status, body = search_response(build_dir, job.search or {})
    return Reply(status, "application/json; charset=utf-8", body)


def prepare_job(store: Any, job: Job) -> Reply:
    """A named query's text with its parameters bound (names resolved on the store, as
    `ipgraph query NAME --option VALUE` does), as JSON {"query", "notes"}: the query page's form
    puts it in the editor and runs it."""
    from ipgraph.errors import QueryError
    from ipgraph.query import OxigraphEngine, prepare_named

    assert job.named is not None
    name, params = job.named
    try:
        text, notes = prepare_named(OxigraphEngine(store), name, dict(params))
    except QueryError as exc:
        return Reply(400, "application/json", json.dumps({"error": str(exc)}, ensure_ascii=False).encode("utf-8"))
    body = json.dumps({"query": text, "notes": notes}, ensure_ascii=False).encode("utf-8")
    return Reply(200, "application/json", body)


def _select_rows(store: Any, sparql: str, job: Job, deadline: float) -> QueryResult:
    """One of our own SELECTs on the store, its rows as Terms (within max_rows and the deadline)."""
    answer = store.query(_canonical_text(sparql), prefixes=_prefixes())
    try:
        variables = [v.value for v in answer.variables]
        conv = Term.from_oxigraph
        rows = [
            tuple(conv(t) if t is not None else None for t in solution)
            for solution in _counted(answer, job.max_rows, deadline)
        ]
    finally:
        del answer  # dropped in the thread that made it (pyoxigraph requires it)
    return QueryResult(kind="select", variables=variables, rows=rows)


def page_job(store: Any, job: Job) -> Reply:
    """A resource's HTML page, written in the worker: its three queries run here, one round trip
    from the server instead of three (and no JSON written here to be read back there)."""
    from ipgraph.query import _all_queries

    assert job.page is not None
    queries = _all_queries()
    this = [Term.iri(iri) for iri in job.page]
    deadline = time.monotonic() + job.timeout
    try:
        out = _select_rows(store, bind(queries["_resource-out"].text, {"this": this}), job, deadline)
        incoming = _select_rows(store, bind(queries["_resource-in"].text, {"this": this}), job, deadline)
        if not out.rows and not incoming.rows:
            return _text(404, f"no resource {this[-1].value} in this graph")
        evidence = _select_rows(store, bind(queries["_resource-evidence"].text, {"this": this}), job, deadline)
    except QueryTimeout as exc:
        drop_frames(exc)
        return _text(503, str(QueryTimeout(job.timeout)))
    except ResultTooLarge as exc:
        return _text(400, str(drop_frames(exc)))
    except OSError as exc:
        return _text(500, f"the store could not be read: {drop_frames(exc)}")
    prefixes = _prefixes()
    body = resource_page(this[-1].value, out, incoming, evidence, prefixes, prefixes["id"]).encode("utf-8")
    if job.max_bytes and len(body) > job.max_bytes:
        return _too_big(job.max_bytes)
    return Reply(200, "text/html; charset=utf-8", body)


def run_job(build_dir: Path | str, store: Any, job: Job) -> Reply:
    """Any job a worker is given: a SPARQL query, a search, or a named query to bind."""
    if job.search is not None:
        return run_search(build_dir, job)
    if job.named is not None:
        return prepare_job(store, job)
    if job.page is not None:
        return page_job(store, job)
    return execute_job(store, job)


def serialize_reply(result: QueryResult, accept: str | None) -> Reply:
    """The result in the media type `accept` prefers, or 406 when none is offered."""
    if result.kind == "graph":
        media = negotiate(accept, GRAPH_TYPES)
        if media is None:
            return _text(406, f"CONSTRUCT/DESCRIBE results are available as {', '.join(GRAPH_TYPES)}")
        body = serialize_triples(result.triples, media)
        charset = "; charset=utf-8" if media.startswith("text/") else ""
        return Reply(200, media + charset, body)
    media = negotiate(accept, list(RESULT_TYPES))
    if media is None:
        return _text(406, f"SELECT/ASK results are available as {', '.join(RESULT_TYPES)}")
    kind = RESULT_TYPES[media]
    if kind == "json":
        return Reply(200, media, json.dumps(results_json(result), ensure_ascii=False).encode("utf-8"))
    if kind == "xml":
        return Reply(200, media, results_xml(result).encode("utf-8"))
    if kind == "csv":
        return Reply(200, "text/csv; charset=utf-8", results_csv(result).encode("utf-8"))
    return Reply(200, "text/tab-separated-values; charset=utf-8", results_tsv(result).encode("utf-8"))


def _preempted(seconds: float) -> Reply:
    return _text(
        503,
        f"this query was stopped after {seconds:.1f} s so that other clients get their share of the "
        f"query workers; try again later or make it cheaper",
    )


def memory_refusal(max_memory: int | None) -> Reply:
    cap = f" ({max_memory // (1024 * 1024)} MiB, --max-memory)" if max_memory else ""
    return _text(
        503,
        f"the query needed more memory than this endpoint gives one query{cap}; "
        f"it was stopped and its worker replaced: make it more selective or add a LIMIT",
    )


class InlineExecutor:
    """Runs queries in the calling thread (for `--get` and tests); the time limit is checked between rows."""

    def __init__(self, build_dir: Path | str) -> None:
        from ipgraph.store import ensure_store, open_store

        ensure_store(build_dir)
        self.build_dir = build_dir
        self.store = open_store(build_dir)

    def run(self, job: Job, client: str = "", cancel: CancelToken | None = None) -> Reply:
        try:
            return run_job(self.build_dir, self.store, job)
        except MemoryError:
            return memory_refusal(None)

    def close(self) -> None:
        del self.store  # pyoxigraph closes the store when the object goes


STORE_MODES = ("memory", "disk")


@lru_cache(maxsize=8)
def _store_meta(build_dir: str) -> str:
    from ipgraph.store import STORE_META_NAME, store_path

    return str(store_path(build_dir) / STORE_META_NAME)


def _store_stamp(build_dir: str) -> tuple[int, int] | None:
    """Changes when `ipgraph build` writes a new graph (the store's metadata file is rewritten)."""
    try:
        st = os.stat(_store_meta(build_dir))  # one stat a job: the path is made once
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def open_for_serving(build_dir: Path | str, mode: str = "memory") -> Any:
    """The store a worker answers from: the on-disk store, or the graph loaded into memory."""
    from ipgraph.store import load_memory_store, open_store

    if mode == "memory":
        return load_memory_store(build_dir)
    if mode == "disk":
        return open_store(build_dir)
    raise ServeError(f"unknown store mode {mode!r}; choose one of {', '.join(STORE_MODES)}")


@dataclass(frozen=True)
class WorkerLimits:
    """What the OS enforces on a query worker (ipgraph.sandbox)."""

    max_memory: int | None = None  # bytes of address space; None: no cap
    sandbox: bool = True  # no network for the worker


def _worker_main(
    conn: Any, build_dir: str, mode: str = "memory", limits: WorkerLimits | None = None, parent: int = 0
) -> None:
    """A query worker: opens the store (read-only, or a copy in memory), answers jobs until the pipe closes.

    Before anything else it takes the network away from itself, caps its memory and arranges to
    die with the server (ipgraph.sandbox). When `ipgraph build` replaces the graph while the
    server runs, the worker reopens it.
    """
    from ipgraph import sandbox

    limits = limits or WorkerLimits()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops the workers
    if parent:
        sandbox.die_with_parent(parent)
    notes = []
    if limits.sandbox:
        cut, note = sandbox.cut_network()
        notes.append(note if cut else "WARNING: " + note + "; SERVICE is refused by the query parse only")
    try:
        notes.append(sandbox.limit_memory(limits.max_memory))
    except (OSError, ValueError) as exc:
        notes.append(f"WARNING: the memory cap could not be set: {exc}")
    try:
        store = open_for_serving(build_dir, mode)
        stamp = _store_stamp(build_dir)
        from ipgraph.sparqlguard import inspect_query

        inspect_query("ASK {}")  # loads the parser now, not within the first query's time limit
        conn.send(("ready", "; ".join(notes)))
    except Exception as exc:  # reported to the server, which gives it to the client
        conn.send(("failed", str(exc)))
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            now = _store_stamp(build_dir)
            if now != stamp and now is not None:
                del store
                store = open_for_serving(build_dir, mode)
                stamp = now
            reply = run_job(build_dir, store, job)
        except MemoryError:
            send_message(conn, replace(memory_refusal(limits.max_memory), retire=True))
            return  # a worker that ran out of memory is not trusted again: the server replaces it
        except Exception as exc:  # never let one query kill the worker silently
            reply = _text(500, f"the query failed: {exc}")
        send_message(conn, reply)


def _frame(data: bytes) -> bytes:
    """multiprocessing's framing of one message (so Connection.recv reads it): its length, then it."""
    n = len(data)
    return (struct.pack("!i", n) if n <= 0x7FFFFFFF else struct.pack("!iQ", -1, n)) + data


def send_message(conn: Any, message: Any) -> None:
    """Send `message` on a Connection in one write (Connection.send writes a reply over 16 KiB as
    two: the server would wake for the length and then wait for the rest)."""
    view = memoryview(_frame(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)))
    fd = conn.fileno()
    while view:
        view = view[os.write(fd, view):]


class _Inbox:
    """A worker's reply as it arrives on a non-blocking descriptor: the event loop reads what is
    there and goes on, never blocked on a reply the worker is still writing."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = bytearray()

    def _whole(self) -> bool:
        if len(self.buf) < 4:
            return False
        (size,) = struct.unpack_from("!i", self.buf)
        if size == -1:
            return len(self.buf) >= 12 and len(self.buf) >= 12 + struct.unpack_from("!Q", self.buf, 4)[0]
        return len(self.buf) >= 4 + size

    def feed(self, fd: int) -> Any | None:
        """Read what `fd` holds; the message once whole, else None. EOFError when the worker is gone."""
        while not self._whole():  # no read past a whole message (one syscall for most replies)
            try:
                # 64 KiB: most replies in one read, from the heap (a larger buffer is a fresh mmap each time)
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                raise EOFError
            self.buf += chunk
        if len(self.buf) < 4:
            return None
        (size,) = struct.unpack_from("!i", self.buf)
        start = 4
        if size == -1:
            if len(self.buf) < 12:
                return None
            (size,) = struct.unpack_from("!Q", self.buf, 4)
            start = 12
        if len(self.buf) < start + size:
            return None
        with memoryview(self.buf) as view, view[start : start + size] as part:
            return pickle.loads(part)


class _Worker:
    def __init__(self, ctx: Any, build_dir: str, mode: str, limits: WorkerLimits) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_worker_main, args=(child, build_dir, mode, limits, os.getpid()), daemon=True
        )
        self.process.start()
        child.close()
        self.ready = False
        self.notes = ""
        self.demoted = False

    def wait_ready(self, timeout: float = 120.0) -> None:
        if self.ready:
            return
        try:
            if not self.conn.poll(timeout):
                raise Refused(503, "a query worker did not start in time")
            status, detail = self.conn.recv()
        except (EOFError, OSError):
            raise Refused(500, "a query worker stopped while starting") from None
        if status != "ready":
            raise Refused(500, f"a query worker could not open the store: {detail}")
        self.ready = True
        self.notes = detail or ""

    def stop(self) -> None:
        try:
            self.conn.close()
        finally:
            if self.process.is_alive():
                self.process.kill()
            self.process.join(timeout=5)

    def cpu_seconds(self) -> float:
        """CPU time the worker has used (user + system), 0.0 when it cannot be read."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def set_priority(self, nice: int) -> bool:
        """Renice the worker (False when the OS refuses, e.g. raising it back without privilege)."""
        try:
            os.setpriority(os.PRIO_PROCESS, self.process.pid or 0, nice)
        except OSError:
            return False
        self.demoted = nice > 0
        return True

    def death(self) -> int | None:
        """The exit code once the process has ended (negative: the signal that ended it)."""
        self.process.join(timeout=2)
        return self.process.exitcode


# A query still running after DEMOTE_AFTER seconds that burns the CPU (at least DEMOTE_CPU of it
# over the next DEMOTE_WINDOW seconds) has its worker reniced: the cheap queries of everyone else
# get the CPU first, the expensive one what is left. CPU time, not wall time: on a busy machine a
# cheap query may wait for the CPU, and must not be demoted for it.
DEMOTE_AFTER = 0.5
DEMOTE_WINDOW = 0.25
DEMOTE_CPU = 0.5
DEMOTED_NICE = 15


class Cancelled(Exception):
    """The client went away before its query was answered."""


def _settle(future: Any) -> None:
    """Mark an asyncio future done (once)."""
    if not future.done():
        future.set_result(None)


class CancelToken:
    """Set when a request's client hangs up; wakes whoever waits for that request at once."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._wake: list[threading.Event] = []
        self._lock = threading.Lock()

    def set(self) -> None:
        with self._lock:
            self._event.set()
            wake = list(self._wake)
        for event in wake:
            event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wakes(self, event: threading.Event) -> None:
        with self._lock:
            self._wake.append(event)
            if self._event.is_set():
                event.set()


class _Ticket:
    """One query waiting for, then holding, a worker."""

    __slots__ = ("client", "job", "worker", "sent", "event", "notify", "started", "stop", "stopped")

    def __init__(self, client: str, job: Job | None = None, notify: Callable[[], None] | None = None) -> None:
        self.client = client
        self.job = job  # sent to the worker the moment one is handed over: it starts at once
        self.sent: bool | None = None  # True: sent; False: the worker's pipe was broken
        self.worker: _Worker | None = None
        self.event = threading.Event()  # set when a worker is handed over (or the client went away)
        self.notify = notify  # or this is called (an event loop's waiter)
        self.started = 0.0
        self.stop: Callable[[], None] | None = None  # set by whoever runs the job: stops it
        self.stopped = False


class FairPool:
    """Idle workers handed out fairly between clients (one client: its remote address).

    A client may hold at most its share of the workers (all of them when it is the only client
    seen in the last `window` seconds, else workers ÷ active clients, at least one); among the
    clients under their share, the one holding fewest goes first, then the one whose recent
    queries were shortest, then the one served longest ago (while workers are being replaced, an
    expensive client at its share would otherwise win every tie for the last one, and hold it up to
    the time limit). When a client under its share waits and another holds more than its share, the
    other's longest query that has run `preempt_after` seconds is stopped (its worker is
    replaced from a warm spare): expensive queries never hold every worker against newcomers.
    """

    def __init__(self, size: int, window: float = 2.0, max_waiting: int = 64, preempt_after: float = 1.0) -> None:
        self.size = size
        self.window = window
        self.max_waiting = max_waiting
        self.preempt_after = preempt_after
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._waiting: dict[str, list[_Ticket]] = {}
        self._running: dict[str, int] = {}
        self._holding: set[_Ticket] = set()
        self._seen: dict[str, float] = {}
        self._served: dict[str, float] = {}
        self._cost: dict[str, float] = {}  # a client's recent seconds a query (moving average)

    def _share(self, now: float) -> int:
        active = [
            c
            for c, t in self._seen.items()
            if now - t < self.window or self._running.get(c) or self._waiting.get(c)
        ]
        if len(self._seen) > 4 * len(active) + 64:  # forget clients not seen for a minute
            for c in [c for c, t in self._seen.items() if now - t > 60 and c not in active]:
                for table in (self._seen, self._served, self._waiting, self._running, self._cost):
                    table.pop(c, None)  # type: ignore[attr-defined]
        return max(1, self.size // max(1, len(active)))

    def _dispatch(self) -> None:
        now = time.monotonic()
        share = self._share(now)
        while True:
            ready = [c for c, q in self._waiting.items() if q and self._running.get(c, 0) < share]
            if not ready:
                return
            if not self._idle:
                self._preempt(share, now)
                return
            # Fewest held first; then the client whose recent queries were shortest (an expensive
            # client does not win every tie by having been served long ago); then served longest ago.
            client = min(
                ready, key=lambda c: (self._running.get(c, 0), self._cost.get(c, 0.0), self._served.get(c, 0.0))
            )
            ticket = self._waiting[client].pop(0)
            worker = ticket.worker = self._idle.pop()
            if ticket.job is not None:
                try:
                    worker.conn.send(ticket.job)
                    ticket.sent = True
                except (OSError, ValueError):
                    ticket.sent = False
            ticket.started = now
            self._holding.add(ticket)
            self._running[client] = self._running.get(client, 0) + 1
            self._served[client] = now
            if ticket.notify is not None:
                ticket.notify()
            else:
                ticket.event.set()

    def _preempt(self, share: int, now: float) -> None:
        over = {c for c, n in self._running.items() if n > share}
        if not over:
            return
        long_running = [
            t
            for t in self._holding
            if t.client in over and not t.stopped and t.stop is not None and now - t.started >= self.preempt_after
        ]
        if long_running:
            victim = min(long_running, key=lambda t: t.started)
            victim.stopped = True
            victim.stop()  # type: ignore[misc]

    def add(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)
            self._dispatch()

    def _enqueue(self, ticket: _Ticket, urgent: bool = False) -> None:
        with self._lock:
            waiting = self._waiting.setdefault(ticket.client, [])
            if len(waiting) >= self.max_waiting:
                raise Refused(
                    503, f"{len(waiting)} queries from your address are waiting already; try again later"
                )
            # urgent: the next query of a request already under way (a resource page runs three)
            # goes before the client's new requests, so a page waits in the queue once, not thrice.
            waiting.insert(0, ticket) if urgent else waiting.append(ticket)
            self._seen[ticket.client] = time.monotonic()
            self._dispatch()

    def _settle_wait(self, ticket: _Ticket) -> _Ticket | None:
        with self._lock:
            if ticket.worker is not None:
                return ticket
            if ticket in self._waiting.get(ticket.client, []):
                self._waiting[ticket.client].remove(ticket)
        return None

    def _recheck(self) -> None:
        with self._lock:
            self._dispatch()  # a holder may have become preemptible meanwhile

    def acquire(
        self,
        client: str,
        timeout: float,
        cancel: CancelToken | None = None,
        job: Job | None = None,
        urgent: bool = False,
    ) -> _Ticket | None:
        """A ticket holding a worker for `client` (None after `timeout` s); Cancelled when `cancel` is set.

        With `job`, the job is sent to the worker as it is handed over (ticket.sent says whether
        that worked). Give the ticket back with release().
        """
        ticket = _Ticket(client, job)
        self._enqueue(ticket, urgent)
        if cancel is not None:
            cancel.wakes(ticket.event)
        deadline = time.monotonic() + timeout
        while ticket.worker is None and time.monotonic() < deadline:
            if cancel is not None and cancel.is_set():
                break
            ticket.event.wait(min(0.25, max(0.0, deadline - time.monotonic())))
            self._recheck()
        got = self._settle_wait(ticket)
        if got is None and cancel is not None and cancel.is_set():
            raise Cancelled()
        return got

    async def acquire_async(
        self, client: str, timeout: float, gone: Any, job: Job | None = None, urgent: bool = False
    ) -> _Ticket | None:
        """acquire() for an event loop: None after `timeout` s or once the future `gone` is done."""
        import asyncio

        loop = asyncio.get_running_loop()
        handed = loop.create_future()
        ticket = _Ticket(client, job, _notifier(loop, handed))
        self._enqueue(ticket, urgent)
        deadline = time.monotonic() + timeout
        while ticket.worker is None and not gone.done() and time.monotonic() < deadline:
            await asyncio.wait({handed, gone}, timeout=min(0.25, deadline - time.monotonic()), return_when="FIRST_COMPLETED")
            if ticket.worker is None:
                self._recheck()
        return self._settle_wait(ticket)

    def release(self, ticket: _Ticket, keep: bool) -> None:
        """Give back a ticket's worker (keep False: it was stopped; its replacement comes through add())."""
        with self._lock:
            now = time.monotonic()
            if ticket in self._holding:
                cost = self._cost.get(ticket.client)
                took = now - ticket.started
                self._cost[ticket.client] = took if cost is None else 0.8 * cost + 0.2 * took
            self._holding.discard(ticket)
            self._running[ticket.client] = max(0, self._running.get(ticket.client, 0) - 1)
            self._seen[ticket.client] = now
            if keep and ticket.worker is not None:
                self._idle.append(ticket.worker)
            self._dispatch()


def _notifier(loop: Any, future: Any) -> Callable[[], None]:
    """A callable, safe from any thread, that marks `future` (of `loop`) done."""
    loop_thread = threading.get_ident()

    def notify() -> None:
        if threading.get_ident() == loop_thread:
            _settle(future)
        else:
            loop.call_soon_threadsafe(_settle, future)

    return notify


class ProcessExecutor:
    """A pool of worker processes, each with the store open read-only, without a network.

    A request waits for a free worker (FairPool: fair between clients); a query that runs past
    its time limit, whose client hangs up, or whose worker runs out of memory has its worker
    ended (the only way to stop Oxigraph mid-query) and a fresh one started in its place, by
    one long-lived thread (PR_SET_PDEATHSIG follows the thread that started a process).

    run() is for threads; run_async() for the HTTP server's event loop (no thread per query).
    """

    def __init__(
        self,
        build_dir: Path | str,
        workers: int | None = None,
        mode: str = "memory",
        limits: WorkerLimits | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        if mode not in STORE_MODES:
            raise ServeError(f"unknown store mode {mode!r}; choose one of {', '.join(STORE_MODES)}")
        self.build_dir = str(build_dir)
        self.mode = mode
        self.limits = limits or WorkerLimits()
        self.size = workers or max(1, min(4, os.cpu_count() or 1))
        self.log = log or (lambda line: None)
        self._ctx = multiprocessing.get_context("spawn")  # fork is unsafe in a threaded server
        self.pool = FairPool(self.size)
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self._orders: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self._first: list[_Worker] = []
        self._spare: _Worker | None = None
        self._starting: _Worker | None = None  # the worker the spawner thread is bringing up
        self._short = 0
        self.notes: list[str] = []
        self._started = threading.Event()
        self._spawner = threading.Thread(target=self._spawn_loop, name="ipgraph-spawner", daemon=True)
        self._spawner.start()
        self._orders.put(("first", self.size))  # the first workers are started by that thread too

    def _new(self) -> _Worker:
        worker = _Worker(self._ctx, self.build_dir, self.mode, self.limits)
        with self._lock:
            self._all.append(worker)
        return worker

    def _spawn_loop(self) -> None:
        # This thread must outlive every worker it starts (PR_SET_PDEATHSIG): nothing may end it early.
        while True:
            order = self._orders.get()
            if order is None or self._closed:
                return
            try:
                self._carry_out(order)
            except Exception as exc:  # e.g. no process could be started (out of descriptors)
                self.log(f"starting a query worker failed: {exc}; retrying")
                time.sleep(1.0)
                self._orders.put(("spare", None))

    def _carry_out(self, order: tuple[str, Any]) -> None:
        what, arg = order
        if what == "first":  # made ready by wait_ready()
            try:
                self._first = [self._new() for _ in range(arg)]
            finally:
                self._started.set()
            return
        if arg is not None:
            arg.stop()  # kill and reap the old worker here, off the requests' threads
        try:
            worker = self._new()
            with self._lock:
                short = self._short > 0  # the pool lacks a worker now: its replacement is urgent
                if not short:
                    worker.set_priority(DEMOTED_NICE)  # starting up must not slow the queries being answered
                self._starting = worker
            try:
                worker.wait_ready()
            finally:
                with self._lock:
                    self._starting = None
        except Refused as exc:
            if self._closed:
                return
            self.log(f"a replacement query worker failed: {exc.message}; retrying")
            with self._lock:
                if worker in self._all:
                    self._all.remove(worker)
            time.sleep(1.0)
            self._orders.put(("spare", None))
            return
        if self._closed:
            worker.stop()
            return
        with self._lock:
            if self._short:  # a worker was replaced while there was no spare: the pool is short
                self._short -= 1
            elif self._spare is None:
                self._spare = worker  # kept warm (and at low priority): the next replacement is instant
                return
        worker.set_priority(0)
        self.pool.add(worker)

    def warm(self, timeout: float = 30.0) -> bool:
        """Wait until every worker and the warm spare are up (False after `timeout` s): a server on a
        busy machine starts its spare at low priority, and a replacement is instant only once it is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._spare is not None:
                    return True
            time.sleep(0.05)
        return False

    def _replace(self, worker: _Worker) -> None:
        """Stop `worker` (its query too): the warm spare takes its place at once, a new spare is started."""
        if worker.process.is_alive():
            worker.process.kill()  # at once; the spawner thread reaps it
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
            spare, self._spare = self._spare, None
            if spare is None:
                self._short += 1
                if self._starting is not None:
                    # The spare still starting is now the pool's urgent replacement: at low priority
                    # on a busy machine it could take many seconds to come up.
                    self._starting.set_priority(0)
        if spare is not None:
            spare.set_priority(0)
            self.pool.add(spare)
        if not self._closed:
            self._orders.put(("replace", worker))

    def wait_ready(self) -> None:
        """Block until every worker has opened the store (raises Refused when one could not)."""
        self._started.wait()
        if len(self._first) < self.size:
            raise ServeError("the query workers could not be started (see the message above)")
        notes = set()
        for worker in self._first:
            worker.wait_ready()
            notes.add(worker.notes)
        self.notes = sorted(notes)  # what the OS enforces on the workers (sandbox, memory cap)
        for note in self.notes:
            self.log(f"query workers: {note}")
        for worker in self._first:
            self.pool.add(worker)
        self._first = []
        self._orders.put(("spare", None))

    def _failed(self, worker: _Worker) -> Reply:
        """The reply when a worker's pipe broke: it died (out of memory, a crash)."""
        code = worker.process.exitcode  # the caller has waited for it to end
        self._replace(worker)
        if code in (-signal.SIGABRT, -signal.SIGKILL, -signal.SIGBUS):
            # Oxigraph aborts when an allocation fails under RLIMIT_AS (the OOM killer sends SIGKILL).
            return memory_refusal(self.limits.max_memory)
        return _text(500, f"the query worker stopped unexpectedly (exit {code}); it was replaced, try again")

    def _after(self, worker: _Worker, reply: Reply) -> bool:
        """Keep the worker after this reply? A worker that ran out of memory ends itself."""
        if reply.retire:
            self._replace(worker)
            return False
        return True

    def run(
        self, job: Job, client: str = "", cancel: CancelToken | None = None, urgent: bool = False
    ) -> Reply:
        try:
            ticket = self.pool.acquire(client, max(job.timeout, 30.0), cancel, job, urgent)
        except Cancelled:
            return _text(499, "the client went away")
        if ticket is None or ticket.worker is None:
            return _text(503, "every query worker is busy; try again in a moment")
        worker = ticket.worker
        stop = threading.Event()
        ticket.stop = stop.set
        keep = False
        try:
            if not ticket.sent:
                raise EOFError
            # A little grace over the limit: the worker checks the deadline itself while rows stream.
            deadline = time.monotonic() + job.timeout + 0.5
            demote_at = time.monotonic() + DEMOTE_AFTER
            cpu_at: float | None = None
            while not worker.conn.poll(0.05):
                if not worker.demoted and time.monotonic() > demote_at:
                    if cpu_at is None:
                        cpu_at = worker.cpu_seconds()
                    elif time.monotonic() > demote_at + DEMOTE_WINDOW:
                        if worker.cpu_seconds() - cpu_at >= DEMOTE_CPU * DEMOTE_WINDOW:
                            worker.set_priority(DEMOTED_NICE)
                        demote_at = float("inf")
                if cancel is not None and cancel.is_set():
                    self._replace(worker)
                    return _text(499, "the client went away; its query was stopped")
                if stop.is_set():
                    self._replace(worker)
                    return _preempted(time.monotonic() - ticket.started)
                if time.monotonic() > deadline:
                    self._replace(worker)
                    return _text(503, str(QueryTimeout(job.timeout)))
            reply: Reply = worker.conn.recv()
            keep = self._after(worker, reply)
            return reply
        except (EOFError, OSError):
            worker.process.join(timeout=0.5)
            return self._failed(worker)
        finally:
            if keep and worker.demoted and not worker.set_priority(0):
                keep = False  # its priority cannot be raised again (no privilege): retire it
                self._replace(worker)
            self.pool.release(ticket, keep)

    async def run_async(self, job: Job, client: str, gone: Any, urgent: bool = False) -> Reply:
        """run() on the event loop: `gone` is a future done when the client hangs up."""
        import asyncio

        loop = asyncio.get_running_loop()
        ticket = await self.pool.acquire_async(client, max(job.timeout, 30.0), gone, job, urgent)
        if ticket is None or ticket.worker is None:
            if gone.done():
                return _text(499, "the client went away")
            return _text(503, "every query worker is busy; try again in a moment")
        worker = ticket.worker
        stopped = loop.create_future()
        ticket.stop = _notifier(loop, stopped)
        released = False
        try:
            if not ticket.sent:
                raise EOFError
            readable = loop.create_future()
            fd = worker.conn.fileno()
            inbox = _Inbox()

            def on_reply() -> None:
                # Called in the loop's I/O phase the moment the worker answers: the reply is read and
                # the worker goes to the next waiting query at once, not after this task has resumed
                # (with two workers, a worker idle while the loop turns is throughput lost).
                nonlocal released
                try:
                    reply: Reply | None = inbox.feed(fd)
                except (EOFError, OSError) as exc:
                    loop.remove_reader(fd)
                    os.set_blocking(fd, True)
                    readable.set_exception(exc)
                    return
                if reply is None:
                    return  # the rest of it comes with the next readiness
                loop.remove_reader(fd)
                os.set_blocking(fd, True)  # the job that follows is sent, and run() reads, blocking
                keep = self._after(worker, reply)
                if keep and worker.demoted and not worker.set_priority(0):
                    keep = False  # its priority cannot be raised again (no privilege): retire it
                    self._replace(worker)
                released = True
                self.pool.release(ticket, keep)
                readable.set_result(reply)

            os.set_blocking(fd, False)
            loop.add_reader(fd, on_reply)
            try:
                events = {readable, gone, stopped}
                first = min(DEMOTE_AFTER, job.timeout + 0.5)
                await asyncio.wait(events, timeout=first, return_when="FIRST_COMPLETED")
                if not any(e.done() for e in events):
                    cpu_at = worker.cpu_seconds()
                    await asyncio.wait(events, timeout=DEMOTE_WINDOW, return_when="FIRST_COMPLETED")
                    if not any(e.done() for e in events):
                        if worker.cpu_seconds() - cpu_at >= DEMOTE_CPU * DEMOTE_WINDOW:
                            worker.set_priority(DEMOTED_NICE)  # an expensive query: cheap ones go first
                        rest = job.timeout + 0.5 - first - DEMOTE_WINDOW
                        await asyncio.wait(events, timeout=max(0.0, rest), return_when="FIRST_COMPLETED")
            finally:
                if not readable.done():  # else on_reply has already stopped watching
                    loop.remove_reader(fd)
                    os.set_blocking(fd, True)
            if not readable.done():
                self._replace(worker)
                if gone.done():
                    return _text(499, "the client went away; its query was stopped")
                if stopped.done():
                    return _preempted(time.monotonic() - ticket.started)
                return _text(503, str(QueryTimeout(job.timeout)))
            return readable.result()  # raises what reading the reply raised
        except (EOFError, OSError):
            for _ in range(50):  # let it be reaped, without blocking the loop
                if worker.process.exitcode is not None:
                    break
                await asyncio.sleep(0.01)
            return self._failed(worker)
        finally:
            if not released:  # stopped, failed or replaced: the worker is not given back
                self.pool.release(ticket, False)

    def pids(self) -> list[int]:
        """The worker processes' ids (for the benchmark's memory figures)."""
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid]

    def close(self) -> None:
        self._closed = True
        self._orders.put(None)
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.stop()


# ---------------------------------------------------------------------------------------------
# The application: requests in, responses out (no sockets here)


@dataclass
class Response:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def _error(status: int, message: str) -> Response:
    return Response(status, "text/plain; charset=utf-8", (message + "\n").encode("utf-8"))


DATA_ROUTES = ("/sparql", "/search", "/id/")  # the routes other sites' scripts may read (CORS)


def is_data_route(path: str) -> bool:
    return path in ("/sparql", "/search") or path.startswith("/id/")


def _inline_script_hashes(page: str) -> str:
    """CSP source expressions for the inline scripts of `page` (so no 'unsafe-inline' is needed)."""
    import base64
    import hashlib

    found = re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode("ascii") + "'"
        for s in found
    )


def add_security_headers(response: Response, path: str) -> None:
    """nosniff everywhere; CSP and no framing on HTML; CORS only on the SPARQL and data routes."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.content_type.startswith("text/html"):
        if "Content-Security-Policy" not in response.headers:  # /graph brings its own, hashed once
            scripts = _inline_script_hashes(response.body.decode("utf-8", "replace"))
            response.headers["Content-Security-Policy"] = (
                f"default-src 'none'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                "form-action 'self'; frame-ancestors 'none'"
            )
        response.headers.setdefault("X-Frame-Options", "DENY")
    elif is_data_route(path):
        response.headers.setdefault("Access-Control-Allow-Origin", "*")


Steps = Generator[Job, Reply, Response]  # a request being answered: yields queries, returns the response


def finish(response: Response, method: str, target: str) -> Response:
    """The headers every response gets; HEAD: the length without the body."""
    add_security_headers(response, urlsplit(target).path)
    if method.upper() == "HEAD":
        response.headers["Content-Length"] = str(len(response.body))
        response.body = b""
    return response


class App:
    """Routes requests to the SPARQL endpoint, the query page, resource pages and static files."""

    def __init__(self, executor: Any, limits: ServeLimits | None = None) -> None:
        self.executor = executor
        self.limits = limits or ServeLimits()
        prefixes = default_prefixes()
        self.data_ns = prefixes["id"]
        self.prefixes = prefixes
        self._static = {
            entry.name: entry
            for entry in (files("ipgraph") / "static" / "yasgui").iterdir()
            if entry.name.endswith((".js", ".css"))
        }

    # -- entry point

    def handle(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        client: str = "",
        cancel: CancelToken | None = None,
    ) -> Response:
        """Answer one request. `headers` keys are compared case-insensitively.

        client names who asks (its address: queries are shared fairly between clients);
        cancel, once set, stops the request's query (the client has hung up).
        """
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        steps = self.steps(method.upper(), target, lowered, body)
        try:
            job = next(steps)
            while True:
                job = steps.send(self.executor.run(job, client, cancel))
        except StopIteration as done:
            response = done.value
        except Refused as exc:
            response = _error(exc.status, exc.message)
        return finish(response, method, target)

    async def handle_async(
        self, method: str, target: str, headers: dict[str, str], body: bytes, client: str, gone: Any
    ) -> Response:
        """handle() on an event loop (headers lower-cased): each query awaits its worker, no thread waits."""
        steps = self.steps(method.upper(), target, headers, body)
        try:
            job = next(steps)
            job = steps.send(await self.executor.run_async(job, client, gone))
            while True:  # the request's next queries go before new requests
                job = steps.send(await self.executor.run_async(job, client, gone, urgent=True))
        except StopIteration as done:
            response = done.value
        except Refused as exc:
            response = _error(exc.status, exc.message)
        return finish(response, method, target)

    def steps(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Steps:
        """Answer a request as a generator: it yields each query it needs run and is sent the
        worker's reply; it returns the response (so threads and the event loop share one logic)."""
        if False:  # makes this a generator even for the routes that run no query
            yield Job("")
        parts = urlsplit(target)
        path = parts.path
        if method == "OPTIONS":
            if not is_data_route(path):
                return Response(204, "text/plain", b"", {"Allow": "GET, HEAD, OPTIONS"})
            return Response(
                204,
                "text/plain",
                b"",
                {
                    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Content-Type, Accept",
                    "Allow": "GET, HEAD, POST, OPTIONS",
                },
            )
        if path == "/sparql":
            if method not in ("GET", "HEAD", "POST"):
                raise Refused(405, "the SPARQL endpoint takes GET and POST; this endpoint is read-only")
            return (yield from self.sparql(method, parts.query, headers, body))
        if method not in ("GET", "HEAD"):
            raise Refused(405, f"{method} is not allowed here; this server is read-only")
        if path in ("/", "/index.html"):
            return Response(200, "text/html; charset=utf-8", self.query_page().encode("utf-8"))
        if path.startswith("/id/"):
            return (yield from self.resource(path[len("/id/") :], parse_qs(parts.query), headers))
        if path == "/.well-known/void":  # where VoID says to look for a site's dataset description
            media = negotiate(headers.get("accept"), SERVICE_TYPES)
            if media is None:
                raise Refused(406, f"the description is available as {', '.join(SERVICE_TYPES)}")
            return (yield from self.description_job(headers, media))
        if path == "/search":
            return (yield from self.search(parse_qs(parts.query)))
        if path in ("/graph", "/graph.html"):
            return self.graph_page()
        if path.startswith("/named/"):
            return (yield from self.named(unquote(path[len("/named/") :]), parse_qs(parts.query)))
        if path.startswith("/static/yasgui/"):
            return self.static(path[len("/static/yasgui/") :])
        raise Refused(404, f"nothing at {path}; try / (query page), /sparql or /id/…")

    # -- SPARQL 1.1 Protocol

    def sparql(self, method: str, query_string: str, headers: dict[str, str], body: bytes) -> Steps:
        job = self.sparql_job(method, query_string, headers, body)
        if isinstance(job, Response):
            return job
        if not isinstance(job, Job):  # the service description: a query of its own
            return (yield from job)
        reply = yield job
        return Response(reply.status, reply.content_type, reply.body, {"Vary": "Accept"})

    def sparql_job(
        self, method: str, query_string: str, headers: dict[str, str], body: bytes
    ) -> Job | Response | Steps:
        """The query a SPARQL Protocol request asks for (or the page, when it asks for none)."""
        if method not in ("GET", "HEAD", "POST"):
            raise Refused(405, "the SPARQL endpoint takes GET and POST; this endpoint is read-only")
        params = parse_qs(query_string, keep_blank_values=True)
        if method == "POST":
            ctype, *ctype_params = [p.strip().lower() for p in headers.get("content-type", "").split(";")]
            charset = next((p[len("charset="):].strip('"') for p in ctype_params if p.startswith("charset=")), "utf-8")
            if charset not in ("utf-8", "utf8"):  # the Protocol requires UTF-8
                raise Refused(415, f"the body must be UTF-8, not {charset}")
            if ctype == "application/x-www-form-urlencoded":
                try:
                    form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
                except UnicodeDecodeError:
                    raise Refused(400, "the form body is not UTF-8") from None
                for key, values in form.items():
                    params.setdefault(key, []).extend(values)
            elif ctype == "application/sparql-query":
                try:
                    params.setdefault("query", []).append(body.decode("utf-8"))
                except UnicodeDecodeError:
                    raise Refused(400, "the query is not UTF-8") from None
            elif ctype == "application/sparql-update":
                raise Refused(403, "this endpoint is read-only: SPARQL Update is refused")
            else:
                raise Refused(
                    415,
                    "POST a query as application/x-www-form-urlencoded (query=…) "
                    "or as application/sparql-query",
                )
        if "update" in params:
            raise Refused(403, "this endpoint is read-only: SPARQL Update is refused")
        queries = params.get("query", [])
        if queries and not any(q.strip() for q in queries):
            queries = []  # an empty text is no query (the parser would take it for an empty update)
        if not queries:
            if method == "POST":  # a POST is a request for an answer, never for the page
                raise Refused(400, "no query: POST one as query=… (form) or as application/sparql-query")
            accept = headers.get("accept")
            described = negotiate(accept, ["text/html", *SERVICE_TYPES])
            if described == "text/html":
                return Response(200, "text/html; charset=utf-8", self.query_page().encode("utf-8"))
            if described is None:
                raise Refused(400, "no query: give one as ?query=… (GET) or in the body (POST)")
            # No query: the SPARQL Service Description (with the dataset's VoID), as the Protocol suggests.
            return self.description_job(headers, described)
        if len(queries) > 1:
            raise Refused(400, "give exactly one query parameter")
        query = queries[0]
        check_length(query, self.limits)  # the parse check runs in the worker, under the time limit
        accept = headers.get("accept")
        fmt = next(iter(params.get("format") or params.get("output") or []), None)
        # A format= we do not know (SPARQLWrapper sends its own names, or full media types) leaves
        # the choice to the Accept header, as other endpoints do.
        if fmt and fmt.lower() in FORMAT_PARAM:
            accept = FORMAT_PARAM[fmt.lower()]
        elif fmt and "/" in fmt:
            accept = fmt
        graphs = {}
        for key in ("default-graph-uri", "named-graph-uri"):
            for iri in params.get(key, []):
                if not valid_iri(iri):
                    raise Refused(400, f"{key} {iri!r} is not an absolute IRI")
            graphs[key] = tuple(params.get(key, []))
        return Job(
            query=query,
            accept=accept,
            default_graphs=graphs["default-graph-uri"],
            named_graphs=graphs["named-graph-uri"],
            max_rows=self.limits.max_rows,
            timeout=self.limits.timeout,
            max_bytes=self.limits.max_bytes,
            base_iri=self.endpoint_url(headers),
        )

    def endpoint_url(self, headers: dict[str, str]) -> str:
        """This endpoint's URL as the client names it (the Host header was checked against our names)."""
        host = headers.get("host") or "localhost"
        return f"http://{host}/sparql"

    def description_job(self, headers: dict[str, str], media: str) -> Steps:
        """The Service Description of /sparql with a VoID description of its default graph."""
        reply = yield (
            Job(
                query=SERVICE_DESCRIPTION.replace("{{ENDPOINT}}", self.endpoint_url(headers))
                .replace("{{SPACE}}", self.data_ns),
                accept=media,
                max_rows=self.limits.max_rows,
                timeout=self.limits.timeout,
                max_bytes=self.limits.max_bytes,
                trusted=True,
            )
        )
        return Response(reply.status, reply.content_type, reply.body, {"Vary": "Accept"})

    def select(self, sparql: str) -> Generator[Job, Reply, QueryResult]:
        """Run a SELECT of our own through the executor (same limits) and read its JSON back."""
        reply = yield (
            Job(
                query=sparql,
                accept="application/sparql-results+json",
                max_rows=self.limits.max_rows,
                timeout=self.limits.timeout,
                max_bytes=self.limits.max_bytes,
                trusted=True,  # one of our own queries, values written by pyoxigraph
            )
        )
        if reply.status != 200:
            raise Refused(reply.status, reply.body.decode("utf-8").strip())
        data = json.loads(reply.body)
        variables = data["head"]["vars"]
        rows = [
            tuple(Term.from_json(b[v]) if v in b else None for v in variables)
            for b in data["results"]["bindings"]
        ]
        return QueryResult(kind="select", variables=variables, rows=rows)

    # -- /search?q=… (issue 13): ranked measures, as JSON

    def search(self, params: dict[str, list[str]]) -> Steps:
        query = {key: values[0] for key, values in params.items() if values}
        check_length(query.get("q", ""), self.limits)
        reply = yield Job(
            query="", search=query, timeout=self.limits.timeout, max_bytes=self.limits.max_bytes
        )
        return Response(reply.status, reply.content_type, reply.body)

    # -- /graph: the build's graph page (issue 13), so that a big build's page, which asks /search for
    # measure texts, asks it on its own origin (no CORS is needed, none is sent: it is an HTML route)

    _graph_cache: tuple[tuple[str, int, int], bytes, str] | None = None

    def graph_page(self) -> Response:
        build_dir = getattr(self.executor, "build_dir", None)
        path = Path(build_dir or ".") / "graph.html"
        try:
            real = path.resolve(strict=True)  # a build's graph.html links into its current generation
            st = real.stat()
            stamp = (str(real), st.st_mtime_ns, st.st_size)
            cached = self._graph_cache
            if cached is None or cached[0] != stamp:
                body = real.read_bytes()
                csp = (f"default-src 'none'; script-src {_inline_script_hashes(body.decode('utf-8', 'replace'))}; "
                       "style-src 'unsafe-inline'; img-src data:; font-src data:; connect-src 'self'; "
                       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
                cached = self._graph_cache = (stamp, body, csp)  # hashed once per build, not per request
        except OSError:
            raise Refused(404, "this build has no graph page (graph.html); `ipgraph build` writes one") from None
        return Response(200, "text/html; charset=utf-8", cached[1], {"Content-Security-Policy": cached[2]})

    def named(self, name: str, params: dict[str, list[str]]) -> Steps:
        """/named/NAME?option=value: the named query's text with the values bound (JSON)."""
        from ipgraph.query import _all_queries

        if name.startswith("_") or name not in _all_queries():
            raise Refused(404, f"no named query {name!r}")
        given = tuple(sorted((k, v[0]) for k, v in params.items() if v and v[0].strip()))
        for _option, value in given:
            check_length(value, self.limits)
        reply = yield Job(
            query="", named=(name, given), timeout=self.limits.timeout, max_bytes=self.limits.max_bytes
        )
        return Response(reply.status, reply.content_type, reply.body)

    # -- resources under /id/

    def resource_iris(self, rest: str) -> list[Term]:
        """The IRI a /id/ path names: as sent, and in the graph's form (ipgraph.iri.canonical_iri) —
        browsers send /id/agency/%E5%A4%A9…, a pasted link may be /id/agency/天津市知识产权局."""
        from ipgraph.iri import canonical_iri

        # One IRI: the worker rewrites every IRI of a query into the graph's form (canonical_query),
        # so the path as sent next to its canonical form would only match the same node twice
        # (every statement shown twice). As sent only where it has no canonical form.
        for iri in dict.fromkeys([canonical_iri(self.data_ns + rest), self.data_ns + rest]):
            term = Term.iri(iri)
            try:
                term.to_oxigraph()  # validates the IRI
            except ValueError:
                continue
            return [term]
        raise Refused(400, "not a valid resource path")

    def resource(self, rest: str, params: dict[str, list[str]], headers: dict[str, str]) -> Steps:
        from ipgraph.query import _all_queries

        queries = _all_queries()
        this = self.resource_iris(rest)
        accept = headers.get("accept")
        fmt = next(iter(params.get("format") or []), None)
        if fmt:
            if fmt.lower() not in FORMAT_PARAM:
                raise Refused(400, f"unknown format {fmt!r}")
            accept = FORMAT_PARAM[fmt.lower()]
        media = negotiate(accept, ["text/turtle", "text/html", "application/xhtml+xml", *GRAPH_TYPES[1:]])
        # Browsers send text/html first; clients with no preference (curl: */*) get Turtle.
        if media is None:
            raise Refused(406, f"resources are available as text/html, {', '.join(GRAPH_TYPES)}")
        if media in ("text/html", "application/xhtml+xml"):
            reply = yield Job(
                query="",
                page=tuple(t.value for t in this),
                max_rows=self.limits.max_rows,
                timeout=self.limits.timeout,
                max_bytes=self.limits.max_bytes,
                trusted=True,
            )
            if reply.status != 200:
                raise Refused(reply.status, reply.body.decode("utf-8").strip())
            return Response(200, reply.content_type, reply.body, {"Vary": "Accept"})
        reply = yield (
            Job(
                query=bind(queries["_resource-graph"].text, {"this": this}),
                accept=media,
                max_rows=self.limits.max_rows,
                timeout=self.limits.timeout,
                max_bytes=self.limits.max_bytes,
                trusted=True,
                empty_404=f"no resource {this[-1].value} in this graph",
            )
        )
        if reply.status == 404:
            raise Refused(404, reply.body.decode("utf-8").strip())
        return Response(reply.status, reply.content_type, reply.body, {"Vary": "Accept"})

    def _link(self, term: Term | None, label: Term | None = None) -> str:
        return render_link(term, label, self.prefixes, self.data_ns)

    def resource_page(self, iri: str, out: QueryResult, incoming: QueryResult, evidence: QueryResult) -> str:
        """The HTML page of one resource (resource_page, with this server's prefixes)."""
        return resource_page(iri, out, incoming, evidence, self.prefixes, self.data_ns)

    # -- the query page and its files

    def query_page(self) -> str:
        tabs = [
            {
                "name": q.name,
                "description": q.description,
                "query": q.text,
                "params": [{"option": p.option, "kind": p.kind, "description": p.description} for p in q.params],
            }
            for q in list_queries()
        ]
        data = json.dumps(tabs, ensure_ascii=False).replace("</", "<\\/")
        items = " · ".join(
            f'<span title="{html.escape(q.description)}">{html.escape(q.name)}</span>' for q in list_queries()
        )
        ns = json.dumps(self.data_ns).replace("</", "<\\/")
        from ipgraph.iri import pn_local_pattern

        # ipgraph's prefixes, longest namespace first, and the test of a prefixed name's local part:
        # the table shows agency:天津市知识产权局 as `ipgraph query` prints it (ipgraph.iri.compact_iri)
        ordered = sorted(self.prefixes.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        prefixes = json.dumps(ordered, ensure_ascii=False).replace("</", "<\\/")
        return (QUERY_PAGE.replace("{{QUERIES}}", data).replace("{{DATA_NS}}", ns).replace("{{NAMES}}", items)
                .replace("{{PREFIXES}}", prefixes).replace("{{PN_LOCAL}}", json.dumps(pn_local_pattern())))

    def static(self, name: str) -> Response:
        entry = self._static.get(name)
        if entry is None:
            raise Refused(404, f"no static file {name}")
        ctype = STATIC_TYPES.get(Path(name).suffix, "application/octet-stream")
        return Response(200, ctype, entry.read_bytes(), {"Cache-Control": "public, max-age=86400"})


def render_link(term: Term | None, label: Term | None, prefixes: Mapping[str, str], data_ns: str) -> str:
    """A term of a resource page: a link to its /id/ page (ours), its IRI as a title, or the literal."""
    if term is None:
        return ""
    if term.kind == "uri":
        text = html.escape(label.value if label is not None else compact(term, prefixes))
        if term.value.startswith(data_ns):
            href = "/id/" + term.value[len(data_ns) :]
            return f'<a href="{html.escape(href)}" title="{html.escape(term.value)}">{text}</a>'
        return f'<span title="{html.escape(term.value)}">{text}</span>'
    lang = f' <span class="lang">@{html.escape(term.lang)}</span>' if term.lang else ""
    return f'<span class="literal">{html.escape(term.value)}</span>{lang}'


def resource_page(
    iri: str, out: QueryResult, incoming: QueryResult, evidence: QueryResult, prefixes: Mapping[str, str], data_ns: str
) -> str:
    """The HTML page of one resource: its statements, what points at it, and the evidence."""

    def link(term: Term | None, label: Term | None = None) -> str:
        return render_link(term, label, prefixes, data_ns)

    label = next(
        (
            row[1].value
            for row in out.rows
            if row[0] is not None
            and row[1] is not None
            and row[0].value.endswith("#label")
            and row[1].kind == "literal"
        ),
        None,
    )
    title = label or unquote(iri.rsplit("/", 1)[-1])
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="iri">{html.escape(iri)} · <a href="?format=turtle">Turtle</a> · '
        f'<a href="?format=jsonld">JSON-LD</a> · <a href="/">query</a></p>',
    ]
    if out.rows:
        parts.append("<h2>Statements</h2><table>")
        parts += [
            f"<tr><th>{link(p)}</th><td>{link(o, ol)}</td></tr>" for p, o, ol in out.rows
        ]
        parts.append("</table>")
    if incoming.rows:
        parts.append("<h2>Referenced by</h2><table>")
        parts += [
            f"<tr><td>{link(s, sl)}</td><th>{link(p)}</th></tr>" for s, p, sl in incoming.rows
        ]
        parts.append("</table>")
    if evidence.rows:
        parts.append("<h2>Evidence</h2><table>")
        for p, o, ol, sentence, source, _start in evidence.rows:
            where = html.escape(source.value) if source is not None else ""
            parts.append(
                f"<tr><th>{link(p)}</th><td>{link(o, ol)}</td>"
                f'<td>{link(sentence)}</td><td class="src">{where}</td></tr>'
            )
        parts.append("</table>")
    return RESOURCE_PAGE.format(title=html.escape(title), body="\n".join(parts))


RESOURCE_PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>{title} · ipgraph</title>
<style>
body {{ font-family: system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; margin: 2em; max-width: 72em; }}
h1 {{ font-size: 1.5em; margin-bottom: .2em; }} h2 {{ font-size: 1.1em; margin-top: 1.6em; }}
.iri {{ color: #666; font-size: .85em; word-break: break-all; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; vertical-align: top; padding: .25em .6em; border-bottom: 1px solid #eee; }}
th {{ font-weight: normal; color: #555; white-space: nowrap; }}
.lang, .src {{ color: #999; font-size: .8em; }} a {{ color: #0645ad; text-decoration: none; }}
</style></head>
<body>
{body}
</body></html>
"""

QUERY_PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>ipgraph · SPARQL</title>
<link rel="stylesheet" href="/static/yasgui/yasgui.min.css">
<style>
body { margin: 0; font-family: system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; }
header { padding: .6em 1em; background: #f4f4f4; border-bottom: 1px solid #ddd; font-size: .9em; }
header code { background: #fff; padding: 0 .3em; }
#tools { display: flex; flex-wrap: wrap; gap: 1.5em; padding: .5em 1em; border-bottom: 1px solid #eee; font-size: .9em; }
#tools input[type=text] { width: 16em; }
#search-hits { margin: 0; padding: 0 1em .5em 2.5em; font-size: .9em; }
#search-hits li { margin: .3em 0; } #search-hits .doc { color: #777; }
#params-note { color: #a33; }
/* Labels keep room to be read; long IRIs give way (issue 11, item 5). */
.yasr td.ipg-label, .yasr th.ipg-label { min-width: 12em; }
.yasr td.ipg-iri { max-width: 22em; overflow: hidden; text-overflow: ellipsis; }
</style></head>
<body>
<header><b>ipgraph</b> SPARQL endpoint <code>/sparql</code> (read-only) · named queries: {{NAMES}} ·
resources under <code>/id/…</code> · search: <code>/search?q=…</code></header>
<div id="tools">
<form id="search"><label>Search measures <input type="text" name="q" placeholder="质押融资"></label>
<button type="submit">Search</button></form>
<form id="params" hidden><span id="params-title"></span> <span id="params-fields"></span>
<button type="submit">Run</button> <span id="params-note"></span></form>
</div>
<ol id="search-hits"></ol>
<div id="yasgui"></div>
<script src="/static/yasgui/yasgui.min.js"></script>
<script>
const QUERIES = {{QUERIES}};
const DATA_NS = {{DATA_NS}};
const PREFIXES = {{PREFIXES}};
const PN_LOCAL = new RegExp({{PN_LOCAL}}, "u");
// An IRI as ipgraph prints it: a prefixed name where its local part is one (agency:天津市知识产权局), else null.
function ipgraphPrefixed(iri) {
  for (const [prefix, ns] of PREFIXES) {
    if (iri.startsWith(ns) && iri.length > ns.length && PN_LOCAL.test(iri.slice(ns.length))) return [prefix, ns];
  }
  return null;
}
window.ipgraphPrefixed = ipgraphPrefixed;
const endpoint = new URL("/sparql", window.location.href).toString();
const byName = Object.fromEntries(QUERIES.map(q => [q.name, q]));
// IRIs of this graph open their local /id/ page, not w3id.org (which may point elsewhere).
function localHref(iri) {
  return iri.startsWith(DATA_NS) ? "/id/" + iri.slice(DATA_NS.length) : iri;
}
// The result table: simple view (no ^^datatypes) unless unticked, local links, label columns first.
const BaseTable = Yasgui.Yasr.plugins.table;
class Table extends BaseTable {
  constructor(yasr) {
    super(yasr);
    if (this.persistentConfig.compact === undefined) this.persistentConfig.compact = true;
  }
  getUriLinkFromBinding(binding, prefixes) {
    // ipgraph's prefixes, where the result pastes back; an IRI of ours that cannot be a prefixed
    // name is shown whole (never id:document/…/measure/3, which no parser reads)
    const own = ipgraphPrefixed(binding.value);
    const usable = own ? { [own[0]]: own[1] } : binding.value.startsWith(DATA_NS) ? {} : prefixes;
    const link = super.getUriLinkFromBinding(binding, usable);
    if (!binding.value.startsWith(DATA_NS)) return link;
    const a = document.createElement("div");
    a.innerHTML = link;
    a.querySelectorAll("a").forEach(el => el.setAttribute("href", localHref(binding.value)));
    return a.innerHTML;
  }
  getColumns() {
    const columns = super.getColumns();
    const rows = this.yasr.results ? this.yasr.results.getBindings() : [];
    const isIri = name => rows.length > 0 && rows.every(r => !r[name] || r[name].type === "uri");
    const [number, ...vars] = columns;
    vars.forEach(c => { c.className = isIri(c.name) ? "ipg-iri" : "ipg-label"; });
    const labels = vars.filter(c => c.className === "ipg-label");
    const iris = vars.filter(c => c.className === "ipg-iri");
    return [number, ...labels, ...iris];
  }
}
Yasgui.Yasr.registerPlugin("table", Table);
// Offline: no autocompletion from remote vocabularies (LOV), no endpoint list from elsewhere.
Yasgui.Yasqe.defaults.autocompleters = ["prefixes", "variables"];
const yasgui = new Yasgui(document.getElementById("yasgui"), {
  requestConfig: { endpoint: endpoint, method: "POST" },
  copyEndpointOnNewTab: true,
  persistenceId: null,
  autoAddOnInit: false,
  populateFromUrl: false,
  endpointCatalogueOptions: { getData: () => [{ endpoint: endpoint }] },
});
QUERIES.forEach((q, i) => yasgui.addTab(i === 0, {
  name: q.name, yasqe: { value: q.query }, requestConfig: { endpoint: endpoint, method: "POST" },
}));
// A form for the parameters of the named query in the current tab: the server binds the values
// (names resolved as `ipgraph query NAME --option VALUE` does) and the tab runs the bound query.
const form = document.getElementById("params");
function showParams() {
  const tab = yasgui.getTab();
  const q = tab && byName[tab.getName()];
  const fields = document.getElementById("params-fields");
  fields.replaceChildren();
  document.getElementById("params-note").textContent = "";
  form.hidden = !q || q.params.length === 0;
  if (form.hidden) return;
  document.getElementById("params-title").textContent = q.name + ":";
  q.params.forEach(p => {
    const label = document.createElement("label");
    label.title = p.description;
    const input = document.createElement("input");
    input.type = "text"; input.name = p.option; input.placeholder = p.kind;
    label.append(p.option + " ", input);
    fields.append(label, " ");
  });
}
form.addEventListener("submit", async ev => {
  ev.preventDefault();
  const tab = yasgui.getTab();
  const name = tab.getName();
  const params = new URLSearchParams(new FormData(form));
  const note = document.getElementById("params-note");
  const reply = await fetch("/named/" + encodeURIComponent(name) + "?" + params);
  const data = await reply.json();
  note.textContent = data.error || (data.notes || []).join(" ");
  if (!reply.ok) return;
  tab.getYasqe().setValue(data.query);
  tab.getYasqe().query();
});
yasgui.on("tabSelect", () => setTimeout(showParams, 0));
showParams();
// The search box: ranked measures from /search, each linking to its /id/ page.
document.getElementById("search").addEventListener("submit", async ev => {
  ev.preventDefault();
  const q = new FormData(ev.target).get("q");
  const list = document.getElementById("search-hits");
  list.replaceChildren();
  const reply = await fetch("/search?" + new URLSearchParams({ q: q, limit: "10" }));
  const body = await reply.text();  // an error may come as plain text (e.g. the time limit)
  let data = null;
  try { data = JSON.parse(body); } catch (e) { data = null; }
  if (!reply.ok || data === null) {
    list.textContent = (data && data.error) || body || ("HTTP " + reply.status);
    return;
  }
  if (data.hits.length === 0) { list.textContent = "no measure matches"; return; }
  data.hits.forEach(h => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = localHref(h.measure);
    a.textContent = h.snippet;
    const doc = document.createElement("span");
    doc.className = "doc";
    doc.textContent = " · " + h.document + " (" + h.score + ")";
    li.append(a, doc);
    list.append(li);
  });
});
window.ipgraphYasgui = yasgui;
</script>
</body></html>
"""


# ---------------------------------------------------------------------------------------------
# HTTP server: the App behind uvicorn (h11's strict HTTP/1.1 parser), a connection cap and a
# deadline for each request's head


SERVER_HEADER = ("server", "ipgraph")
# Event loops (threads) answering HTTP, all on one socket. Two: on a machine busy with other work
# one loop thread is one runnable thread among many, and each write to a client or a worker wakes
# a thread that may take the CPU from it, holding up every other connection of that loop; with two,
# one loop answers while the other waits (measured at load 8-14 on 2 CPUs, alternating 10 s runs:
# 390 → 527 req/s, the same CPU per request; four or eight loops: no better).
HTTP_LOOPS = 2
BODY_PIECE = 64 * 1024  # the response body goes out in pieces, each waiting for the client to read


def event_loop() -> str:
    """uvicorn's event loop: uvloop (libuv, in C: less CPU per request than asyncio's) when installed.

    It only carries bytes: HTTP is still parsed by h11, and every limit stays where it was.
    """
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def allowed_hosts(host: str, port: int, extra: Sequence[str] = ()) -> set[str] | None:
    """The Host header values this server answers (None: any, when it listens on every address).

    A loopback server answers only to its own names, so a page on another site cannot reach
    it through a DNS name that resolves to 127.0.0.1 (DNS rebinding).
    """
    if host in ("0.0.0.0", "::", "") and not extra:
        return None
    names = {host.lower(), *(e.lower() for e in extra)}
    if host in ("127.0.0.1", "localhost", "::1"):
        names |= {"127.0.0.1", "localhost", "::1"}
    hosts = set()
    for name in names:
        shown = f"[{name}]" if ":" in name else name
        hosts |= {f"{shown}:{port}"} | ({shown} if port == 80 else set())
    return hosts


class _OneWrite:
    """A connection's transport as one response's cycle sees it: the head waits for the body.

    uvicorn writes a response's head and its body separately; with TCP_NODELAY each write is a
    segment of its own and a wakeup of the client. Held back, the head goes out in the same
    send() as the first piece of the body: one syscall and one wakeup per small response.
    Only the cycle's own writes are held (the protocol's 400s and the 100 Continue are not).
    """

    __slots__ = ("_transport", "_cycle", "_held", "_head_seen")

    def __init__(self, transport: Any, cycle: Any) -> None:
        self._transport = transport
        self._cycle = cycle
        self._held = b""
        self._head_seen = False

    def write(self, data: bytes) -> None:
        if not self._head_seen and self._cycle.response_started:
            self._head_seen = True  # the first write after the response started is its head
            self._held = data
            return
        if self._held:
            data, self._held = self._held + data, b""
        if data:
            self._transport.write(data)

    def close(self) -> None:
        if self._held:
            self._transport.write(self._held)
            self._held = b""
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _guarded_protocol(limits: ServeLimits) -> type:
    """uvicorn's h11 protocol with a connection cap (overall and per address) and a header deadline."""
    import socket

    from uvicorn.protocols.http.h11_impl import H11Protocol

    live: set[Any] = set()  # every open connection, whichever event loop holds it

    sweeping: set[Any] = set()  # the event loops whose sweep is scheduled
    sweep_every = min(1.0, limits.header_timeout / 4)

    def _sweep(loop: Any) -> None:
        """Close the connections of `loop` that have not started a request within the header deadline."""
        now = loop.time()
        for conn in [c for c in list(live) if c.loop is loop]:
            # No new request since the deadline was armed: the head did not arrive in time.
            overdue = now - conn._armed_at > limits.header_timeout
            if overdue and conn.cycle is conn._armed_cycle and not conn.transport.is_closing():
                conn.transport.abort()
        loop.call_later(sweep_every, _sweep, loop)

    class GuardedH11(H11Protocol):  # type: ignore[misc]
        _armed_cycle: Any = None
        _armed_at = float("inf")
        _gone: Any = None

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._gone = self.loop.create_future()
            live.add(self)
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                # No Nagle: a response's head and body go out at once, not 40 ms apart (delayed ACK).
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            peer = self.client[0] if self.client else ""
            same = sum(1 for c in list(live) if (getattr(c, "client", None) or ("",))[0] == peer)
            if len(live) > limits.max_connections or same > limits.max_connections_per_client:
                transport.abort()  # refused before a byte is read: the descriptor is freed at once
                return
            self._arm()

        def handle_events(self) -> None:
            super().handle_events()
            if self.scope is not None and self._gone is not None:
                # The app waits on this future to learn that the client hung up: no task per request.
                self.scope["ipgraph.gone"] = self._gone  # type: ignore[typeddict-unknown-key]
            cycle = self.cycle
            if cycle is not None and not isinstance(cycle.transport, _OneWrite):
                cycle.transport = _OneWrite(cycle.transport, cycle)  # type: ignore[assignment]  # before its run_asgi starts

        def _arm(self) -> None:
            # The head deadline starts now; one sweep per loop checks every connection (no timer each).
            self._armed_cycle = self.cycle
            self._armed_at = self.loop.time()
            if self.loop not in sweeping:
                sweeping.add(self.loop)
                self.loop.call_later(sweep_every, _sweep, self.loop)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            live.discard(self)
            if self._gone is not None:
                _settle(self._gone)
            super().connection_lost(exc)

    return GuardedH11


class AsgiApp:
    """The App as an ASGI application: Host check, body limit, disconnect → cancel, paced body."""

    def __init__(self, app: App, hosts: set[str] | None, quiet: bool = True) -> None:
        self.app = app
        self.hosts = hosts
        self.quiet = quiet

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        headers: dict[str, str] = {}
        for key, value in scope["headers"]:
            name = key.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[name] = f"{headers[name]}, {text}" if name in headers else text
        target = scope["raw_path"].decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        method = scope["method"].upper()
        path = urlsplit(target).path
        response = self._precheck(headers)
        body = b""
        if response is None:
            body, response = await self._read_body(receive)
        if response is None:
            response = await self._answer(method, target, headers, body, scope, receive)
        await self._send(send, response, head=(method == "HEAD"), path=path)
        if not self.quiet:
            ms = (time.perf_counter() - started) * 1000
            client = scope.get("client") or ("-", 0)
            sys.stderr.write(f'{client[0]} "{method} {target[:120]}" {response.status} {ms:.0f}ms\n')

    def _precheck(self, headers: dict[str, str]) -> Response | None:
        host = headers.get("host", "").strip().lower()
        if self.hosts is not None and host not in self.hosts:
            return _error(421, f"this server does not answer for the host {host[:100]!r}")
        limit = self.app.limits.max_request_bytes
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return _error(413, f"the request body is {int(length)} bytes; this endpoint takes at most {limit}")
        return None

    async def _read_body(self, receive: Any) -> tuple[bytes, Response | None]:
        limit = self.app.limits.max_request_bytes
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", _error(499, "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:  # a chunked body: its size is known only while it comes
                return b"", _error(413, f"the request body is over {limit} bytes; this endpoint takes at most {limit}")
            parts.append(chunk)
            if not message.get("more_body"):
                return b"".join(parts), None

    async def _answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes, scope: dict[str, Any], receive: Any
    ) -> Response:
        import asyncio

        async def watch() -> None:  # done when the client hangs up: that stops its query
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return

        client = (scope.get("client") or ("", 0))[0]
        gone = scope.get("ipgraph.gone")
        if gone is not None:  # our protocol: done when the connection is lost
            return await self.app.handle_async(method, target, headers, body, client, gone)
        watcher = asyncio.ensure_future(watch())
        try:
            return await self.app.handle_async(method, target, headers, body, client, watcher)
        finally:
            watcher.cancel()

    async def _send(self, send: Any, response: Response, head: bool, path: str) -> None:
        import asyncio

        length = response.headers.pop("Content-Length", None)
        raw = [(b"content-type", response.content_type.encode("latin-1"))]
        raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
        raw.append((b"content-length", (length if head and length else str(len(response.body))).encode()))
        raw.append((SERVER_HEADER[0].encode(), SERVER_HEADER[1].encode()))
        body = b"" if head else response.body

        async def pieces() -> None:
            await send({"type": "http.response.start", "status": response.status, "headers": raw})
            for i in range(0, max(len(body), 1), BODY_PIECE):
                last = i + BODY_PIECE >= len(body)
                await send({"type": "http.response.body", "body": body[i : i + BODY_PIECE], "more_body": not last})

        try:
            if len(body) <= BODY_PIECE:  # fits the transport's buffer: written at once, nothing waits
                await pieces()
                return
            # A client that does not read gets `timeout` seconds, then its connection is closed.
            await asyncio.wait_for(pieces(), max(self.app.limits.timeout, 10.0))
        except (asyncio.TimeoutError, OSError):
            raise ConnectionAbortedError("the client did not read its response in time") from None

    def close(self) -> None:
        pass


def _raise_fd_limit() -> int:
    """Raise the soft limit of open files to the hard one; returns the limit in force."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            target = 65536 if hard == resource.RLIM_INFINITY else hard
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


class Server:
    """uvicorn serving the App on a socket bound at construction (so the port is known at once)."""

    def __init__(
        self,
        address: tuple[str, int],
        app: App,
        quiet: bool = False,
        allow_hosts: Sequence[str] = (),
        log: Callable[[str], None] | None = None,
        loops: int = HTTP_LOOPS,
    ) -> None:
        import logging
        import socket

        import uvicorn

        fds = _raise_fd_limit()
        limits = app.limits
        if limits.max_connections > fds - 64:  # room for workers' pipes, the store, logs
            limits = replace(limits, max_connections=max(16, fds - 64))
            app.limits = limits
            if log:
                log(f"the connection cap is lowered to {limits.max_connections} (open-file limit {fds})")
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind(address)
        except OSError:
            self.socket.close()
            raise
        self.socket.listen(1024)  # 50 clients connecting at once must not be refused
        self.server_address = self.socket.getsockname()[:2]
        self.app = app
        self.quiet = quiet
        self.asgi = AsgiApp(app, allowed_hosts(address[0], self.server_address[1], allow_hosts), quiet=quiet)
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL if quiet else logging.WARNING)
        protocol = _guarded_protocol(limits)  # one class: the connection caps count every loop's connections
        self.uvicorns = [uvicorn.Server(self._config(protocol, limits)) for _ in range(max(1, loops))]
        self.uvicorn = self.uvicorns[0]

    def _config(self, protocol: type, limits: ServeLimits) -> Any:
        import uvicorn

        return uvicorn.Config(
            self.asgi,
            http=protocol,
            lifespan="off",
            log_config=None,
            access_log=False,
            proxy_headers=False,  # X-Forwarded-For from a loopback client would choose its own address
            server_header=False,
            timeout_keep_alive=max(5, int(limits.header_timeout)),
            h11_max_incomplete_event_size=64 * 1024,  # a request head over 64 KiB is refused
            backlog=1024,
            timeout_graceful_shutdown=3,
            loop=event_loop(),
        )

    @property
    def url(self) -> str:
        host, port = self.server_address
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}"

    def serve_forever(self) -> None:
        """Run the event loops (all accept on the one socket) until shutdown() or, in the main thread, a signal."""
        # Each loop gets its own descriptor of the listening socket: each closes its own at the end.
        others = [
            threading.Thread(target=s.run, kwargs={"sockets": [self.socket.dup()]}, name=f"ipgraph-http-{i}", daemon=True)
            for i, s in enumerate(self.uvicorns[1:], start=1)
        ]
        for thread in others:
            thread.start()
        try:
            self.uvicorn.run(sockets=[self.socket])  # handles SIGINT/SIGTERM when in the main thread
        finally:
            for server in self.uvicorns:
                server.should_exit = True
            for thread in others:
                thread.join(timeout=10)

    def shutdown(self) -> None:
        for server in self.uvicorns:
            server.should_exit = True

    def server_close(self) -> None:
        self.asgi.close()
        self.socket.close()


@dataclass
class RunningServer:
    """A server answering in a background thread (tests, benchmarks): use .url, then .close()."""

    server: Server
    executor: Any
    thread: threading.Thread

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
        self.executor.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_server(
    build_dir: Path | str,
    host: str = "127.0.0.1",
    port: int = 8000,
    limits: ServeLimits | None = None,
    workers: int | None = None,
    quiet: bool = False,
    store: str = "memory",
    allow_hosts: Sequence[str] = (),
    sandbox: bool = True,
) -> tuple[Server, ProcessExecutor]:
    """A server over build_dir's graph with its pool of query workers (started, ready).

    store "memory": each worker loads the graph into memory at start (fastest answers);
    "disk": each worker opens build_dir/store read-only (starts at once, answers slower).
    """
    from ipgraph.store import ensure_store

    limits = limits or ServeLimits()
    size = workers or max(1, min(4, os.cpu_count() or 1))
    if limits.max_memory is None:
        limits = replace(limits, max_memory=default_max_memory(size))

    def log(line: str) -> None:
        sys.stderr.write(line + "\n")

    ensure_store(build_dir)
    executor = ProcessExecutor(
        build_dir, size, mode=store, limits=WorkerLimits(max_memory=limits.max_memory, sandbox=sandbox), log=log
    )
    try:
        executor.wait_ready()
        server = Server((host, port), App(executor, limits), quiet=quiet, allow_hosts=allow_hosts, log=log)
    except BaseException:
        executor.close()
        raise
    return server, executor


def start_server(
    build_dir: Path | str,
    host: str = "127.0.0.1",
    port: int = 0,
    limits: ServeLimits | None = None,
    workers: int | None = None,
    quiet: bool = True,
    store: str = "memory",
    allow_hosts: Sequence[str] = (),
) -> RunningServer:
    """Start a server in a background thread (port 0: any free port)."""
    server, executor = make_server(build_dir, host, port, limits, workers, quiet, store, allow_hosts)
    thread = threading.Thread(target=server.serve_forever, name="ipgraph-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.uvicorn.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    return RunningServer(server, executor, thread)


def serve(
    build_dir: Path | str,
    host: str = "127.0.0.1",
    port: int = 8000,
    limits: ServeLimits | None = None,
    workers: int | None = None,
    quiet: bool = False,
    store: str = "memory",
    on_ready: Callable[[str], None] | None = None,
    allow_hosts: Sequence[str] = (),
) -> None:
    """Serve the graph of build_dir until interrupted (Ctrl-C or SIGTERM)."""
    try:
        server, executor = make_server(build_dir, host, port, limits, workers, quiet, store, allow_hosts)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    try:
        if on_ready:
            on_ready(server.url)
        server.serve_forever()  # uvicorn stops on SIGINT and SIGTERM
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        executor.close()


def get(
    build_dir: Path | str, target: str, accept: str | None = None, limits: ServeLimits | None = None
) -> Response:
    """Answer one GET request for `target` (e.g. "/sparql?query=…") without a socket."""
    executor = InlineExecutor(build_dir)
    try:
        app = App(executor, limits)
        return app.handle("GET", target, {"Accept": accept} if accept else {})
    finally:
        executor.close()
