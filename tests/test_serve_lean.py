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


def test_a_reply_written_in_pieces_is_read_whole_without_blocking() -> None:
    import multiprocessing
    import os

    from ipgraph.serve import Reply, _frame, _Inbox

    ours, theirs = multiprocessing.Pipe()
    reply = Reply(200, "application/sparql-results+json", b"x" * 100_000)  # over 16 KiB: once two writes
    data = _frame(__import__("pickle").dumps(reply))
    os.set_blocking(ours.fileno(), False)
    inbox = _Inbox()
    assert inbox.feed(ours.fileno()) is None  # nothing there yet: no wait
    os.write(theirs.fileno(), data[:3])
    assert inbox.feed(ours.fileno()) is None  # not even the length
    os.write(theirs.fileno(), data[3:50_000])
    assert inbox.feed(ours.fileno()) is None
    os.write(theirs.fileno(), data[50_000:])
    assert inbox.feed(ours.fileno()) == reply
    theirs.close()
    with pytest.raises(EOFError):
        _Inbox().feed(ours.fileno())


def test_send_message_is_what_connection_recv_reads() -> None:
    import multiprocessing
    import threading

    from ipgraph.serve import Reply, send_message

    ours, theirs = multiprocessing.Pipe()
    for size in (0, 10, 20_000, 300_000):  # the last is larger than a socket buffer: sent by a thread
        reply = Reply(200, "text/plain", b"y" * size)
        thread = threading.Thread(target=send_message, args=(theirs, reply))
        thread.start()
        assert ours.recv() == reply
        thread.join()


def test_a_page_written_in_the_worker_is_the_page_of_the_three_selects(built_dir: Path, store) -> None:
    from ipgraph.query import _all_queries, bind
    from ipgraph.serve import Term, page_job, resource_page

    prefixes = default_prefixes()
    this = [Term.iri(agency_iri("天津市知识产权局"))]
    app = App(InlineExecutor(built_dir), ServeLimits())

    def select(name: str):
        steps = app.select(bind(_all_queries()[name].text, {"this": this}))
        job = next(steps)
        try:
            steps.send(execute_job(store, job))
        except StopIteration as done:
            return done.value

    expected = resource_page(
        this[0].value, select("_resource-out"), select("_resource-in"), select("_resource-evidence"),
        prefixes, prefixes["id"],
    )
    reply = page_job(store, Job(query="", page=(this[0].value,), trusted=True))
    assert reply.status == 200 and reply.body.decode("utf-8") == expected
    missing = page_job(store, Job(query="", page=(this[0].value + "-none",), trusted=True))
    assert missing.status == 404
    assert page_job(store, Job(query="", page=(this[0].value,), max_rows=2, trusted=True)).status == 400


def test_a_tie_for_a_worker_goes_to_the_client_whose_queries_are_short() -> None:
    import threading
    import time

    from ipgraph.serve import FairPool

    pool = FairPool(size=2)
    for worker in (object(), object()):
        pool.add(worker)  # type: ignore[arg-type]
    slow = pool.acquire("10.0.0.2", timeout=1)  # an expensive client's query
    fast = pool.acquire("10.0.0.1", timeout=1)
    assert slow is not None and fast is not None
    slow.started -= 5.0  # it ran 5 s
    pool.release(slow, keep=False)  # stopped, its worker being replaced: one worker left
    got: dict[str, object] = {}

    def want(client: str) -> None:
        got[client] = pool.acquire(client, timeout=1.5)

    threads = [threading.Thread(target=want, args=(c,)) for c in ("10.0.0.2", "10.0.0.1")]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while not all(pool._waiting.get(c) for c in ("10.0.0.2", "10.0.0.1")) and time.monotonic() < deadline:
        time.sleep(0.01)
    pool.release(fast, keep=True)  # the one worker is free; both hold none, both wait for it
    for thread in threads:
        thread.join()
    assert got["10.0.0.1"] is not None  # the client of short queries gets it ...
    assert got["10.0.0.2"] is None  # ... and the expensive one waits (here: until its timeout)
