"""A real remote store: the test suite starts Virtuoso Open Source (Debian `virtuoso-opensource`,
installed by scripts/test.sh) on free loopback ports with a fresh database in a temporary folder,
pushes the corpus graph with the Graph Store Protocol and checks that every named query returns the
same rows there as on the embedded store.

Virtuoso's Graph Store endpoint that accepts writes is /sparql-graph-crud-auth (HTTP digest
authentication; a fresh database has the user dba with password dba, who holds SPARQL_UPDATE).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import httpx
import pytest
from click.testing import CliRunner

from ipgraph.bench import CASES, canonical_rows, free_port
from ipgraph.cli import main
from ipgraph.query import list_queries, open_engine, run_named
from ipgraph.remote import RemoteEngine, RemoteError, push_graph

VIRTUOSO = shutil.which("virtuoso-t")
GRAPH = "https://w3id.org/ipgraph/test-graph"

pytestmark = [
    pytest.mark.virtuoso,
    pytest.mark.skipif(
        VIRTUOSO is None,
        reason="virtuoso-t absent: install Debian `virtuoso-opensource` (bash scripts/test.sh does)",
    ),
]

INI = """\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
MaxCheckpointRemap = 2000
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
MaxCheckpointRemap = 2000

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DirsAllowed = .
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
CheckpointInterval = 0

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {db}
ServerThreads = 10
MaxClientConnections = 10
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 120
MaxQueryCostEstimationTime = 0
"""


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    """A Virtuoso server of our own; yields its base URL and stops it afterwards."""
    db = tmp_path_factory.mktemp("virtuoso")
    http_port, sql_port = free_port(), free_port()
    while sql_port == http_port:
        sql_port = free_port()
    ini = db / "virtuoso.ini"
    ini.write_text(INI.format(db=db, http_port=http_port, sql_port=sql_port), encoding="utf-8")
    log = open(db / "stdout.log", "wb")
    process = subprocess.Popen(
        [VIRTUOSO, "+foreground", "+configfile", str(ini)],
        cwd=db,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 180  # a new database is created on the first start
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"virtuoso-t exited with {process.returncode}: "
                    f"{(db / 'stdout.log').read_text(errors='replace')[-2000:]}"
                )
            try:
                if httpx.get(f"{url}/sparql", params={"query": "ASK {}"}, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("Virtuoso did not answer within 180 s")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def pushed(virtuoso, built_dir) -> RemoteEngine:
    count = push_graph(
        built_dir,
        f"{virtuoso}/sparql-graph-crud-auth",
        graph=GRAPH,
        user="dba",
        password="dba",
        chunk_triples=4000,
    )  # several requests: PUT, then POSTs
    assert count == sum(
        1 for line in (built_dir / "ipgraph.nt").read_text(encoding="utf-8").splitlines() if line
    )
    return RemoteEngine(f"{virtuoso}/sparql", default_graph=GRAPH)


def test_push_loads_every_triple(pushed, built_dir) -> None:
    result = pushed.execute("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    local = open_engine(built_dir).execute("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert result.rows[0][0].value == local.rows[0][0].value


CASE_IDS = [" ".join([name, *params.values()]) for name, params, _ in CASES]


@pytest.mark.parametrize("name,params,_kind", CASES, ids=CASE_IDS)
def test_named_queries_agree_with_the_embedded_store(pushed, built_dir, name, params, _kind) -> None:
    remote = run_named(pushed, name, params)
    local = run_named(open_engine(built_dir), name, params)
    assert remote.variables == local.variables
    assert canonical_rows(remote) == canonical_rows(local)
    assert local.rows


def test_every_named_query_is_covered() -> None:
    assert {name for name, _, _ in CASES} == {q.name for q in list_queries()}


def test_ambiguous_names_resolve_the_same_way(pushed, built_dir) -> None:
    remote = run_named(pushed, "leads", {"agency": "市场监管局"})
    local = run_named(open_engine(built_dir), "leads", {"agency": "市场监管局"})
    assert remote.notes == local.notes and remote.notes
    assert canonical_rows(remote) == canonical_rows(local)


def test_push_replaces_the_graph(pushed, virtuoso, built_dir) -> None:
    push_graph(built_dir, f"{virtuoso}/sparql-graph-crud-auth", graph=GRAPH, user="dba", password="dba")
    again = pushed.execute("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    local = open_engine(built_dir).execute("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert again.rows[0][0].value == local.rows[0][0].value  # not doubled


def test_cli_push_and_query_endpoint(virtuoso, built_dir) -> None:
    graph = "https://w3id.org/ipgraph/cli-graph"
    runner = CliRunner()
    pushed = runner.invoke(
        main,
        [
            "push",
            "--endpoint",
            f"{virtuoso}/sparql-graph-crud-auth",
            "--graph",
            graph,
            "--user",
            "dba",
            "--from",
            str(built_dir),
        ],
        env={"IPGRAPH_ENDPOINT_PASSWORD": "dba"},
    )
    assert pushed.exit_code == 0, pushed.output
    assert pushed.stdout.startswith("pushed ") and graph in pushed.stdout
    answer = runner.invoke(
        main,
        [
            "query",
            "leads",
            "--agency",
            "天津市知识产权局",
            "--endpoint",
            f"{virtuoso}/sparql",
            "--default-graph",
            graph,
        ],
    )
    assert answer.exit_code == 0, answer.output
    assert "23 29 48 49 58 63" in answer.stdout


def test_wrong_password_is_one_line(virtuoso, built_dir) -> None:
    with pytest.raises(RemoteError, match="HTTP 401: the server refused user .dba.; check --user/--password"):
        push_graph(built_dir, f"{virtuoso}/sparql-graph-crud-auth", graph=GRAPH, user="dba", password="wrong")
    result = CliRunner().invoke(
        main,
        [
            "push",
            "--endpoint",
            f"{virtuoso}/sparql-graph-crud-auth",
            "--graph",
            GRAPH,
            "--user",
            "dba",
            "--password",
            "wrong",
            "--from",
            str(built_dir),
        ],
    )
    assert result.exit_code == 1 and "Traceback" not in result.output and "401" in result.stderr
