"""Issue 9, items 3 and 4: memory and bytes per query, fairness, hang-ups, slow connections, orphans.

Every server here listens on loopback; every load is a handful of requests with a deadline.
"""

from __future__ import annotations

import glob
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from ipgraph.bench import free_port, wait_for
from ipgraph.serve import ServeLimits, start_server

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?m ipg:leadAgency ?a }"
CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # 10^12 rows: never ends
HUNGRY = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f LIMIT 1"  # sorts 10^8 rows: gigabytes
REPO = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS"))


def children(pid: int) -> list[int]:
    found = []
    for name in glob.glob(f"/proc/{pid}/task/*/children"):
        with open(name) as fh:
            found += [int(p) for p in fh.read().split()]
    return found


def get_from(source: str, port: int, query: str, timeout: float = 60) -> tuple[int, float]:
    """GET /sparql?query= from the loopback address `source`; (status, seconds)."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0)) as sock:
        sock.sendall(
            f"GET /sparql?query={quote(query)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), time.monotonic() - start


def get_quietly(source: str, port: int, query: str, timeout: float = 60) -> None:
    """get_from() for a background thread: its outcome does not matter, only its load."""
    try:
        get_from(source, port, query, timeout)
    except (OSError, IndexError, ValueError):
        pass


def test_a_query_past_the_memory_cap_gets_503_and_its_worker_is_replaced(built_dir) -> None:
    cap = 700 * 1024 * 1024
    with start_server(built_dir, limits=ServeLimits(timeout=60.0, max_memory=cap), workers=1) as server:
        with httpx.Client(base_url=server.url, timeout=90) as client:
            start = time.monotonic()
            hungry = client.get("/sparql", params={"query": HUNGRY})
            took = time.monotonic() - start
            after = client.get("/sparql", params={"query": COUNT})
    assert hungry.status_code == 503 and "more memory" in hungry.text and "700 MiB" in hungry.text, hungry.text
    assert took < 30  # stopped by the cap, not by the 60 s time limit
    assert after.status_code == 200


def test_response_bytes_are_capped(built_dir) -> None:
    with start_server(built_dir, limits=ServeLimits(timeout=20.0, max_bytes=100_000), workers=1) as server:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            select = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
            graph = client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
            small = client.get("/sparql", params={"query": COUNT})
    for response in (select, graph):
        assert response.status_code == 400 and "larger than 100000 bytes" in response.text
        assert len(response.content) < 1000
    assert small.status_code == 200


def test_a_client_that_hangs_up_stops_its_query(built_dir) -> None:
    with start_server(built_dir, limits=ServeLimits(timeout=30.0), workers=1) as server:
        port = server.server.server_address[1]
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(f"GET /sparql?query={quote(CROSS)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        time.sleep(1.0)
        sock.close()  # the only worker is busy with CROSS for 30 s unless the hang-up stops it
        status, seconds = get_from("127.0.0.1", port, COUNT)
    assert status == 200 and seconds < 8, (status, seconds)


def test_one_client_with_expensive_queries_cannot_starve_another(built_dir) -> None:
    with start_server(built_dir, limits=ServeLimits(timeout=8.0), workers=2) as server:
        port = server.server.server_address[1]
        # fairness, not start-up, is under test: on a loaded machine the low-priority spare that makes a
        # preempted worker's replacement instant can take seconds to come up
        assert server.executor.warm(60)
        hostile = [threading.Thread(target=get_quietly, args=("127.0.0.2", port, CROSS), daemon=True) for _ in range(4)]
        for thread in hostile:
            thread.start()
        time.sleep(1.0)  # the expensive queries hold what they may
        answers = [get_from("127.0.0.1", port, COUNT) for _ in range(5)]
        for thread in hostile:
            thread.join(timeout=60)
    assert all(status == 200 for status, _ in answers), answers
    assert max(seconds for _, seconds in answers) < 3, answers


def test_slow_connections_are_capped_and_dropped_after_the_header_timeout(built_dir) -> None:
    limits = ServeLimits(timeout=5.0, max_connections=40, max_connections_per_client=20, header_timeout=1.0)
    with start_server(built_dir, limits=limits, workers=1) as server:
        port = server.server.server_address[1]
        slow = []
        for _ in range(30):  # more than one address may hold
            sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.3", 0))
            sock.sendall(b"GET / HTTP/1.1\r\n")  # and never the rest of the head
            slow.append(sock)
        time.sleep(0.3)
        closed_at_once = 0
        for sock in slow:
            sock.settimeout(0.05)
            try:
                closed_at_once += sock.recv(10) == b""
            except TimeoutError:
                pass
            except OSError:
                closed_at_once += 1
        status, _ = get_from("127.0.0.1", port, COUNT)  # others are still served
        time.sleep(1.5)  # past the header deadline
        dropped = 0
        for sock in slow:
            sock.settimeout(1.0)
            try:
                dropped += sock.recv(10) == b""
            except TimeoutError:
                pass
            except OSError:
                dropped += 1
            sock.close()
    assert closed_at_once >= 10, closed_at_once
    assert status == 200
    assert dropped == len(slow), dropped


def test_the_http_process_does_no_quadratic_work_on_a_long_query(built_dir) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "ipgraph", "serve", "--graph", str(built_dir), "--port", str(port), "--quiet"]
    server = subprocess.Popen(cmd + ["--workers", "1"], cwd=REPO, env=env, stderr=subprocess.DEVNULL)
    try:
        wait_for("127.0.0.1", port)
        with open(f"/proc/{server.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        before = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        text = "SELECT * WHERE { ?s ?p ?o } LIMIT 1 " + "a" * 19_900  # the old keyword scan took seconds
        for _ in range(5):
            status, _ = get_from("127.0.0.1", port, text)
            assert status == 400
        with open(f"/proc/{server.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        spent = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") - before
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert spent < 1.0, spent


def test_workers_die_with_the_server(built_dir) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "ipgraph", "serve", "--graph", str(built_dir), "--port", str(port), "--quiet"]
    server = subprocess.Popen(cmd + ["--workers", "2", "--timeout", "60"], cwd=REPO, env=env, stderr=subprocess.DEVNULL)
    try:
        wait_for("127.0.0.1", port)
        workers = children(server.pid)
        assert len(workers) >= 2
        threading.Thread(target=get_quietly, args=("127.0.0.1", port, CROSS, 10), daemon=True).start()
        time.sleep(1.0)  # one worker is now deep inside the query
        server.send_signal(signal.SIGKILL)  # no cleanup code runs: the kernel must end the workers
        server.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [pid for pid in workers if alive(pid)]
    finally:
        if server.poll() is None:
            server.kill()
    for pid in left:  # do not leave them behind even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left


@pytest.mark.parametrize("clients", [8])
def test_clients_that_never_read_do_not_grow_the_server(built_dir, clients) -> None:
    with start_server(built_dir, limits=ServeLimits(timeout=5.0, max_bytes=4_000_000), workers=1) as server:
        port = server.server.server_address[1]
        before = rss_kb(os.getpid())
        socks = []
        for _ in range(clients):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            query = quote("SELECT * WHERE { ?s ?p ?o }")
            sock.sendall(f"GET /sparql?query={query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            socks.append(sock)
        time.sleep(3.0)
        grown_mb = (rss_kb(os.getpid()) - before) / 1024
        status, seconds = get_from("127.0.0.1", port, COUNT)
        for sock in socks:
            sock.close()
    assert grown_mb < 8 * 4 + 40, grown_mb  # at most one capped body per client, plus buffers
    assert status == 200 and seconds < 3


def test_clients_that_hang_up_leave_no_traceback_in_the_log(built_dir) -> None:
    # Issue 9, item 10: the log of a server whose clients go away mid-request, mid-query and mid-answer.
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "ipgraph", "serve", "--graph", str(built_dir), "--port", str(port),
           "--workers", "1", "--timeout", "20"]
    server = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for("127.0.0.1", port)
        head = f"Host: 127.0.0.1:{port}\r\n"
        everything = quote("SELECT * WHERE { ?s ?p ?o }")
        for request in (
            "GET /sparql?query=",  # mid-head
            f"POST /sparql HTTP/1.1\r\n{head}Content-Type: application/sparql-query\r\nContent-Length: 500\r\n\r\nSELECT",  # mid-body
            f"GET /sparql?query={quote(CROSS)} HTTP/1.1\r\n{head}\r\n",  # mid-query
            f"GET /sparql?query={everything} HTTP/1.1\r\n{head}\r\n",  # mid-answer: reads 100 bytes of it
        ):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(request.encode())
            if "?s ?p ?o" in request or "%3Fs%20%3Fp" in request:
                sock.recv(100)
            time.sleep(0.5)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # a reset
            sock.close()
        status, _ = get_from("127.0.0.1", port, COUNT)  # and the server still answers
    finally:
        server.send_signal(signal.SIGINT)
        try:
            log, _ = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            log, _ = server.communicate()
    assert status == 200
    assert "Traceback" not in log and "Exception" not in log, log
