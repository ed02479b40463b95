"""`ipgraph serve`: the graph over HTTP, read-only.

- `/sparql` speaks the SPARQL 1.1 Protocol: GET `?query=`, POST form-encoded or
  `application/sparql-query`; results as SPARQL JSON, XML, CSV or TSV, CONSTRUCT/DESCRIBE as
  Turtle, JSON-LD, N-Triples or RDF/XML, chosen by the Accept header (or `?format=`).
- `/` is a query page (YASGUI, bundled in ipgraph/static/yasgui) with the named queries as tabs.
- `/id/...` shows every `https://w3id.org/ipgraph/id/...` resource: HTML for browsers,
  Turtle (or JSON-LD, N-Triples) otherwise.

Safety: binds 127.0.0.1 unless told otherwise; updates, SERVICE and LOAD are refused (and the
store is opened read-only anyway); a query longer than `max_query_length` characters, a body
larger than `max_request_bytes`, a result over `max_rows` or a query running past `timeout`
seconds gets a clear error. Queries run in worker processes, so a query over its time is
stopped for real (the worker is ended and replaced), not merely abandoned.

`handle_request` (and `get`, behind `ipgraph serve --get PATH`) answer a request without a
socket, which is how most tests drive the protocol.
"""

from __future__ import annotations

import html
import json
import multiprocessing
import os
import queue
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ipgraph.errors import IpgraphError
from ipgraph.query import (
    QueryResult,
    QueryTimeout,
    ResultTooLarge,
    Term,
    bind,
    compact,
    default_prefixes,
    list_queries,
    one_line,
    result_from_oxigraph,
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


RESULT_TYPES = {  # SELECT and ASK; the first is the default
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/xml": "xml",
}
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
STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".map": "application/json",
}


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


_TOKEN = re.compile(
    r'''
    (?P<long>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\')
  | (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<comment>\#[^\n]*)
  | (?P<var>[?$]\w+)
  | (?P<pname>[\w.-]*:[\w.:%-]*)
  | (?P<word>[A-Za-z_]\w*)
''',
    re.VERBOSE | re.DOTALL,
)
UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD"}


def keywords(sparql: str) -> set[str]:
    """The bare words of a query (keywords and function names), upper-cased.

    Strings, IRIs, comments, variables and prefixed names are skipped, so a literal
    "SERVICE" or a variable ?load is not taken for the keyword.
    """
    return {m.group("word").upper() for m in _TOKEN.finditer(sparql) if m.group("word")}


class ServeError(IpgraphError):
    """The server could not start (the port is taken, the store cannot be opened …)."""


class Refused(Exception):
    """A request the endpoint will not answer: HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def check_query(sparql: str, limits: ServeLimits) -> None:
    """Refuse over-long queries, updates, SERVICE (federation) and LOAD."""
    if len(sparql) > limits.max_query_length:
        raise Refused(
            413,
            f"the query is {len(sparql)} characters long; this endpoint takes at most "
            f"{limits.max_query_length}",
        )
    words = keywords(sparql)
    if "SERVICE" in words:
        raise Refused(403, "SERVICE is refused: this endpoint only queries its own graph")
    updates = words & UPDATE_WORDS
    if updates:
        raise Refused(
            403, f"this endpoint is read-only: SPARQL Update ({', '.join(sorted(updates))}) is refused"
        )


# ---------------------------------------------------------------------------------------------
# Running queries: one function, used by the worker processes and by the in-process executor


@dataclass(frozen=True)
class Job:
    """One query to run, with how to answer it."""

    query: str
    accept: str | None = None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    max_rows: int = 100_000
    timeout: float = 10.0


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes


def _text(status: int, message: str) -> Reply:
    return Reply(status, "text/plain; charset=utf-8", (message.rstrip("\n") + "\n").encode("utf-8"))


def execute_job(store: Any, job: Job) -> Reply:
    """Run `job` on a pyoxigraph store and serialise the answer as negotiated."""
    import pyoxigraph

    deadline = time.monotonic() + job.timeout
    kwargs: dict[str, Any] = {"prefixes": default_prefixes()}
    if job.default_graphs:
        kwargs["default_graph"] = [pyoxigraph.NamedNode(g) for g in job.default_graphs]
    if job.named_graphs:
        kwargs["named_graphs"] = [pyoxigraph.NamedNode(g) for g in job.named_graphs]
    try:
        answer = store.query(job.query, **kwargs)
        result = result_from_oxigraph(answer, max_rows=job.max_rows, deadline=deadline)
    except SyntaxError as exc:
        return _text(400, f"SPARQL syntax error: {one_line(str(exc), 400)}")
    except QueryTimeout:
        return _text(503, str(QueryTimeout(job.timeout)))
    except ResultTooLarge as exc:
        return _text(400, str(exc))
    except ValueError as exc:  # e.g. a bad default-graph-uri
        return _text(400, f"bad request: {exc}")
    except OSError as exc:
        return _text(500, f"the store could not be read: {exc}")
    if time.monotonic() > deadline:
        return _text(503, str(QueryTimeout(job.timeout)))
    return serialize_reply(result, job.accept)


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


class InlineExecutor:
    """Runs queries in the calling thread (for `--get` and tests); the time limit is checked between rows."""

    def __init__(self, build_dir: Path | str) -> None:
        from ipgraph.store import ensure_store, open_store

        ensure_store(build_dir)
        self.store = open_store(build_dir)

    def run(self, job: Job) -> Reply:
        return execute_job(self.store, job)

    def close(self) -> None:
        del self.store  # pyoxigraph closes the store when the object goes


STORE_MODES = ("memory", "disk")


def _store_stamp(build_dir: str) -> tuple[int, int] | None:
    """Changes when `ipgraph build` writes a new graph (the store's metadata file is rewritten)."""
    from ipgraph.store import STORE_META_NAME, store_path

    try:
        st = (store_path(build_dir) / STORE_META_NAME).stat()
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


def _worker_main(conn: Any, build_dir: str, mode: str = "memory") -> None:
    """A query worker: opens the store (read-only, or a copy in memory), answers jobs until the pipe closes.

    When `ipgraph build` replaces the graph while the server runs, the worker reopens it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops the workers
    try:
        store = open_for_serving(build_dir, mode)
        stamp = _store_stamp(build_dir)
        conn.send(("ready", None))
    except Exception as exc:  # reported to the server, which gives it to the client
        conn.send(("failed", str(exc)))
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        now = _store_stamp(build_dir)
        if now != stamp and now is not None:
            del store
            store = open_for_serving(build_dir, mode)
            stamp = now
        try:
            reply = execute_job(store, job)
        except Exception as exc:  # never let one query kill the worker silently
            reply = _text(500, f"the query failed: {exc}")
        conn.send(reply)


class _Worker:
    def __init__(self, ctx: Any, build_dir: str, mode: str) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, build_dir, mode), daemon=True)
        self.process.start()
        child.close()
        self.ready = False

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

    def stop(self) -> None:
        try:
            self.conn.close()
        finally:
            if self.process.is_alive():
                self.process.kill()
            self.process.join(timeout=5)


class ProcessExecutor:
    """A pool of worker processes, each with the store open read-only.

    A request waits for a free worker; a query that runs past its time limit has its worker
    ended (the only way to stop Oxigraph mid-query) and a fresh one started in its place.
    """

    def __init__(self, build_dir: Path | str, workers: int | None = None, mode: str = "memory") -> None:
        if mode not in STORE_MODES:
            raise ServeError(f"unknown store mode {mode!r}; choose one of {', '.join(STORE_MODES)}")
        self.build_dir = str(build_dir)
        self.mode = mode
        self.size = workers or max(1, min(4, os.cpu_count() or 1))
        self._ctx = multiprocessing.get_context("spawn")  # fork is unsafe in a threaded server
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        for _ in range(self.size):
            self._idle.put(self._start())

    def _start(self) -> _Worker:
        worker = _Worker(self._ctx, self.build_dir, self.mode)
        with self._lock:
            self._all.append(worker)
        return worker

    def _replace(self, worker: _Worker) -> _Worker:
        worker.stop()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        return self._start()

    def wait_ready(self) -> None:
        """Block until every worker has opened the store (raises Refused when one could not)."""
        workers = [self._idle.get() for _ in range(self.size)]
        try:
            for worker in workers:
                worker.wait_ready()
        finally:
            for worker in workers:
                self._idle.put(worker)

    def run(self, job: Job) -> Reply:
        try:
            worker = self._idle.get(timeout=max(job.timeout, 30.0))
        except queue.Empty:
            return _text(503, "every query worker is busy; try again in a moment")
        try:
            worker.wait_ready()
            worker.conn.send(job)
            # A little grace over the limit: the worker checks the deadline itself while rows stream.
            if not worker.conn.poll(job.timeout + 0.5):
                worker = self._replace(worker)
                return _text(503, str(QueryTimeout(job.timeout)))
            return worker.conn.recv()
        except Refused as exc:
            worker = self._replace(worker)
            return _text(exc.status, exc.message)
        except (EOFError, OSError):
            worker = self._replace(worker)
            return _text(500, "the query worker stopped unexpectedly; try again")
        finally:
            self._idle.put(worker)

    def close(self) -> None:
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
        self, method: str, target: str, headers: Mapping[str, str] | None = None, body: bytes = b""
    ) -> Response:
        """Answer one request. `headers` keys are compared case-insensitively."""
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        try:
            response = self._route(method.upper(), target, headers, body)
        except Refused as exc:
            response = _error(exc.status, exc.message)
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
        if method.upper() == "HEAD":
            response.headers["Content-Length"] = str(len(response.body))
            response.body = b""
        return response

    def _route(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        parts = urlsplit(target)
        path = parts.path
        if method == "OPTIONS":
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
            return self.sparql(method, parts.query, headers, body)
        if method not in ("GET", "HEAD"):
            raise Refused(405, f"{method} is not allowed here; this server is read-only")
        if path in ("/", "/index.html"):
            return Response(200, "text/html; charset=utf-8", self.query_page().encode("utf-8"))
        if path.startswith("/id/"):
            return self.resource(path[len("/id/") :], parse_qs(parts.query), headers)
        if path.startswith("/static/yasgui/"):
            return self.static(path[len("/static/yasgui/") :])
        raise Refused(404, f"nothing at {path}; try / (query page), /sparql or /id/…")

    # -- SPARQL 1.1 Protocol

    def sparql(self, method: str, query_string: str, headers: dict[str, str], body: bytes) -> Response:
        params = parse_qs(query_string, keep_blank_values=True)
        if method == "POST":
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
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
        if not queries:
            accept = headers.get("accept")
            if negotiate(accept, ["text/html", "application/sparql-results+json"]) == "text/html":
                return Response(200, "text/html; charset=utf-8", self.query_page().encode("utf-8"))
            raise Refused(400, "no query: give one as ?query=… (GET) or in the body (POST)")
        if len(queries) > 1:
            raise Refused(400, "give exactly one query parameter")
        query = queries[0]
        check_query(query, self.limits)
        accept = headers.get("accept")
        fmt = next(iter(params.get("format") or params.get("output") or []), None)
        if fmt:
            if fmt.lower() not in FORMAT_PARAM:
                raise Refused(400, f"unknown format {fmt!r}; use one of {', '.join(FORMAT_PARAM)}")
            accept = FORMAT_PARAM[fmt.lower()]
        job = Job(
            query=query,
            accept=accept,
            default_graphs=tuple(params.get("default-graph-uri", [])),
            named_graphs=tuple(params.get("named-graph-uri", [])),
            max_rows=self.limits.max_rows,
            timeout=self.limits.timeout,
        )
        reply = self.executor.run(job)
        return Response(reply.status, reply.content_type, reply.body, {"Vary": "Accept"})

    def select(self, sparql: str) -> QueryResult:
        """Run a SELECT of our own through the executor (same limits) and read its JSON back."""
        reply = self.executor.run(
            Job(
                query=sparql,
                accept="application/sparql-results+json",
                max_rows=self.limits.max_rows,
                timeout=self.limits.timeout,
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

    # -- resources under /id/

    def resource_iris(self, rest: str) -> list[Term]:
        """The IRI a /id/ path names, as sent and in the percent-encoding the graph uses."""
        candidates = [
            self.data_ns + rest,
            self.data_ns + "/".join(quote(unquote(seg), safe="") for seg in rest.split("/")),
        ]
        terms = []
        for iri in dict.fromkeys(candidates):
            term = Term.iri(iri)
            try:
                term.to_oxigraph()  # validates the IRI
            except ValueError:
                continue
            terms.append(term)
        if not terms:
            raise Refused(400, "not a valid resource path")
        return terms

    def resource(self, rest: str, params: dict[str, list[str]], headers: dict[str, str]) -> Response:
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
            out = self.select(bind(queries["_resource-out"].text, {"this": this}))
            incoming = self.select(bind(queries["_resource-in"].text, {"this": this}))
            if not out.rows and not incoming.rows:
                raise Refused(404, f"no resource {this[-1].value} in this graph")
            evidence = self.select(bind(queries["_resource-evidence"].text, {"this": this}))
            page = self.resource_page(this[-1].value, out, incoming, evidence)
            return Response(200, "text/html; charset=utf-8", page.encode("utf-8"), {"Vary": "Accept"})
        reply = self.executor.run(
            Job(
                query=bind(queries["_resource-graph"].text, {"this": this}),
                accept=media,
                max_rows=self.limits.max_rows,
                timeout=self.limits.timeout,
            )
        )
        if reply.status == 200 and not self._has_triples(reply, media):
            raise Refused(404, f"no resource {this[-1].value} in this graph")
        return Response(reply.status, reply.content_type, reply.body, {"Vary": "Accept"})

    @staticmethod
    def _has_triples(reply: Reply, media: str) -> bool:
        import pyoxigraph

        fmt = pyoxigraph.RdfFormat.from_media_type(media)
        try:
            return next(iter(pyoxigraph.parse(reply.body, format=fmt)), None) is not None
        except (SyntaxError, ValueError):
            return True

    def _link(self, term: Term | None, label: Term | None = None) -> str:
        if term is None:
            return ""
        if term.kind == "uri":
            text = html.escape(label.value if label is not None else compact(term, self.prefixes))
            if term.value.startswith(self.data_ns):
                href = "/id/" + term.value[len(self.data_ns) :]
                return f'<a href="{html.escape(href)}" title="{html.escape(term.value)}">{text}</a>'
            return f'<span title="{html.escape(term.value)}">{text}</span>'
        lang = f' <span class="lang">@{html.escape(term.lang)}</span>' if term.lang else ""
        return f'<span class="literal">{html.escape(term.value)}</span>{lang}'

    def resource_page(self, iri: str, out: QueryResult, incoming: QueryResult, evidence: QueryResult) -> str:
        """The HTML page of one resource: its statements, what points at it, and the evidence."""
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
                f"<tr><th>{self._link(p)}</th><td>{self._link(o, ol)}</td></tr>" for p, o, ol in out.rows
            ]
            parts.append("</table>")
        if incoming.rows:
            parts.append("<h2>Referenced by</h2><table>")
            parts += [
                f"<tr><td>{self._link(s, sl)}</td><th>{self._link(p)}</th></tr>" for s, p, sl in incoming.rows
            ]
            parts.append("</table>")
        if evidence.rows:
            parts.append("<h2>Evidence</h2><table>")
            for p, o, ol, sentence, source, _start in evidence.rows:
                where = html.escape(source.value) if source is not None else ""
                parts.append(
                    f"<tr><th>{self._link(p)}</th><td>{self._link(o, ol)}</td>"
                    f'<td>{self._link(sentence)}</td><td class="src">{where}</td></tr>'
                )
            parts.append("</table>")
        return RESOURCE_PAGE.format(title=html.escape(title), body="\n".join(parts))

    # -- the query page and its files

    def query_page(self) -> str:
        tabs = [{"name": q.name, "description": q.description, "query": q.text} for q in list_queries()]
        data = json.dumps(tabs, ensure_ascii=False).replace("</", "<\\/")
        items = " · ".join(
            f'<span title="{html.escape(q.description)}">{html.escape(q.name)}</span>' for q in list_queries()
        )
        return QUERY_PAGE.replace("{{QUERIES}}", data).replace("{{NAMES}}", items)

    def static(self, name: str) -> Response:
        entry = self._static.get(name)
        if entry is None:
            raise Refused(404, f"no static file {name}")
        ctype = STATIC_TYPES.get(Path(name).suffix, "application/octet-stream")
        return Response(200, ctype, entry.read_bytes(), {"Cache-Control": "public, max-age=86400"})


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
</style></head>
<body>
<header><b>ipgraph</b> SPARQL endpoint <code>/sparql</code> (read-only) · named queries: {{NAMES}} ·
resources under <code>/id/…</code></header>
<div id="yasgui"></div>
<script src="/static/yasgui/yasgui.min.js"></script>
<script>
const QUERIES = {{QUERIES}};
const endpoint = new URL("/sparql", window.location.href).toString();
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
window.ipgraphYasgui = yasgui;
</script>
</body></html>
"""


# ---------------------------------------------------------------------------------------------
# HTTP server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ipgraph"
    timeout = 60  # a client that sends nothing for a minute is dropped

    def _dispatch(self, method: str) -> None:
        app: App = self.server.app  # type: ignore[attr-defined]
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._send(_error(411, "send the body with a Content-Length"), close=True)
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._send(_error(400, "bad Content-Length"), close=True)
            return
        if length > app.limits.max_request_bytes:
            self._send(
                _error(
                    413,
                    f"the request body is {length} bytes; this endpoint takes at most "
                    f"{app.limits.max_request_bytes}",
                ),
                close=True,
            )
            return
        body = self.rfile.read(length) if length > 0 else b""
        started = time.perf_counter()
        response = app.handle(method, self.path, dict(self.headers.items()), body)
        self._send(response, head=(method == "HEAD"))
        if not self.server.quiet:  # type: ignore[attr-defined]
            ms = (time.perf_counter() - started) * 1000
            sys.stderr.write(
                f'{self.address_string()} "{method} {self.path[:120]}" {response.status} {ms:.0f}ms\n'
            )

    def _send(self, response: Response, close: bool = False, head: bool = False) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        length = response.headers.pop("Content-Length", None)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", length if head and length else str(len(response.body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if response.body:
            self.wfile.write(response.body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._dispatch("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_OPTIONS(self) -> None:  # noqa: N802
        self._dispatch("OPTIONS")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _dispatch logs each request once, with its time

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if not self.server.quiet:  # type: ignore[attr-defined]
            super().log_message(format, *args)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # 50 clients connecting at once must not be refused

    def __init__(self, address: tuple[str, int], app: App, quiet: bool = False) -> None:
        self.app = app
        self.quiet = quiet
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


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
        self.server.server_close()
        self.executor.close()
        self.thread.join(timeout=10)

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
) -> tuple[Server, ProcessExecutor]:
    """A server over build_dir's graph with its pool of query workers (started, ready).

    store "memory": each worker loads the graph into memory at start (fastest answers);
    "disk": each worker opens build_dir/store read-only (starts at once, answers slower).
    """
    from ipgraph.store import ensure_store

    ensure_store(build_dir)
    executor = ProcessExecutor(build_dir, workers, mode=store)
    try:
        executor.wait_ready()
        server = Server((host, port), App(executor, limits), quiet=quiet)
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
) -> RunningServer:
    """Start a server in a background thread (port 0: any free port)."""
    server, executor = make_server(build_dir, host, port, limits, workers, quiet, store)
    thread = threading.Thread(target=server.serve_forever, name="ipgraph-serve", daemon=True)
    thread.start()
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
) -> None:
    """Serve the graph of build_dir until interrupted (Ctrl-C)."""
    try:
        server, executor = make_server(build_dir, host, port, limits, workers, quiet, store)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    try:
        if on_ready:
            on_ready(server.url)
        server.serve_forever()
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
