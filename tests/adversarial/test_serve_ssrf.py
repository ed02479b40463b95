"""Issue 9, item 1: SERVICE must never make `ipgraph serve` open a connection (SSRF).

Two independent layers, each tested on its own against a listener on loopback that must see
nothing: the query's parse (every spelling of SERVICE is refused with the same 403), and the
worker's sandbox (a SERVICE that reaches Oxigraph still cannot connect anywhere).
"""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlencode

import httpx
import pytest

from ipgraph.serve import Job, ServeLimits, start_server


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it is offered."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.seen += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture()
def listener():
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture(scope="module")
def server(built_dir):
    running = start_server(built_dir, limits=ServeLimits(timeout=5.0), workers=1)
    yield running
    running.close()


def spellings(port: int) -> list[str]:
    url = f"http://127.0.0.1:{port}/"
    return [
        f"PREFIX : <{url}> SELECT * {{ SERVICE:x {{ ?s ?p ?o }} }}",
        f"PREFIX p: <{url}> SELECT * {{ SERVICEp:x {{ ?s ?p ?o }} }}",
        f"PREFIX : <{url}> SELECT * {{ sErViCe:x {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ ?a ?b ?c OPTIONAL {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} LIMIT 1",
        f"SELECT * {{ ?a ?b ?c FILTER EXISTS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} LIMIT 1",
        f"SELECT * {{ ?a ?b ?c FILTER NOT EXISTS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} LIMIT 1",
        f"ASK {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ {{ SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
        f"SELECT * {{ BIND(<{url}> AS ?u) SERVICE ?u {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE#comment\n<{url}> {{ ?s ?p ?o }} }}",
    ]


def test_every_spelling_of_service_is_refused_and_nothing_connects(server, listener) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for query in spellings(listener.port):
            got = client.get("/sparql", params={"query": query})
            posted = client.post("/sparql", content=query.encode(), headers={"Content-Type": "application/sparql-query"})
            assert got.status_code in (400, 403), (query, got.status_code, got.text)
            assert posted.status_code == got.status_code
    assert listener.seen == 0


def test_the_refusal_does_not_tell_open_ports_from_closed(server, listener) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    with httpx.Client(base_url=server.url, timeout=30) as client:
        answers = {
            (client.get("/sparql", params={"query": f"SELECT * {{ SERVICE <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}"}).text)
            for port in (listener.port, closed_port)
        }
    assert len(answers) == 1 and "SERVICE is refused" in answers.pop()
    assert listener.seen == 0


def test_the_worker_cannot_connect_even_when_a_service_query_reaches_oxigraph(server, listener) -> None:
    # trusted=True skips the parse check: this is the second layer alone (the worker's sandbox).
    if any("network sandbox refused" in note for note in server.executor.notes):
        pytest.skip(f"this OS gives no network sandbox: {server.executor.notes}")
    assert any("network namespace" in note or "seccomp" in note for note in server.executor.notes)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    replies = []
    for port in (listener.port, closed_port):
        job = Job(query=f"SELECT * {{ SERVICE <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}", trusted=True, timeout=5)
        replies.append(server.executor.run(job))
    assert all(r.status >= 400 for r in replies), replies
    assert listener.seen == 0
    # Open and closed ports give the same error: the worker never got as far as a connection.
    assert replies[0].body.replace(str(listener.port).encode(), b"") == replies[1].body.replace(
        str(closed_port).encode(), b""
    )


def test_cors_only_on_the_sparql_and_data_routes(server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        page = client.get("/")
        sparql = client.get("/sparql?" + urlencode({"query": "ASK {}"}))
        static = client.get("/static/yasgui/yasgui.min.js")
        options_page = client.options("/")
        options_sparql = client.options("/sparql")
    assert "access-control-allow-origin" not in page.headers
    assert "access-control-allow-origin" not in static.headers
    assert "access-control-allow-methods" not in options_page.headers
    assert sparql.headers["access-control-allow-origin"] == "*"
    assert "POST" in options_sparql.headers["access-control-allow-methods"]
