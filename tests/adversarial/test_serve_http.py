"""Issue 9, item 2: HTTP parsing (request smuggling), Host check, security headers, Server header.

Raw sockets on loopback: each smuggling attempt must get exactly one error answer and no answer
to the request hidden in its body.
"""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from ipgraph.serve import ServeLimits, start_server


@pytest.fixture(scope="module")
def server(built_dir):
    running = start_server(built_dir, limits=ServeLimits(timeout=5.0), workers=1)
    yield running
    running.close()


def exchange(port: int, raw: bytes, wait: float = 1.5) -> bytes:
    """Send raw bytes, read everything the server answers until it closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        sock.settimeout(0.3)
        data = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            data += chunk
    return data


SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def head(port: int, extra: bytes, body: bytes) -> bytes:
    return (
        b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/sparql-query\r\n" % port
        + extra
        + b"\r\n"
        + body
    )


@pytest.mark.parametrize(
    "extra",
    [
        b"Content-Length: -5\r\n",
        b"Content-Length: 6\r\nContent-Length: 50\r\n",
        b"Content-Length: 6\r\nTransfer-Encoding: identity, chunked\r\n",
        b"Transfer-Encoding: identity, chunked\r\n",
        b"Content-Length: +6\r\n",
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
    ],
    ids=["negative", "duplicate", "te-and-cl", "te-identity-chunked", "plus-sign", "two-te"],
)
def test_smuggling_attempts_get_one_error_and_no_second_answer(server, extra) -> None:
    port = server.server.server_address[1]
    answer = exchange(port, head(port, extra, b"ASK {}" + SMUGGLED))
    assert answer.startswith(b"HTTP/1.1 4") or answer.startswith(b"HTTP/1.1 5"), answer[:200]
    assert answer.count(b"HTTP/1.1 ") == 1, answer
    assert b"/smuggled" not in answer


def test_host_header_must_name_this_server(server) -> None:
    port = server.server.server_address[1]
    with httpx.Client(timeout=30) as client:
        ours = client.get(f"{server.url}/sparql", params={"query": "ASK {}"})
        localhost = client.get(f"{server.url}/sparql", params={"query": "ASK {}"}, headers={"Host": f"localhost:{port}"})
        rebound = client.get(f"{server.url}/sparql", params={"query": "ASK {}"}, headers={"Host": f"evil.example:{port}"})
        other_port = client.get(f"{server.url}/", headers={"Host": "127.0.0.1:1"})
    assert ours.status_code == localhost.status_code == 200
    assert rebound.status_code == other_port.status_code == 421
    assert "evil.example" in rebound.text


def test_security_headers_and_no_python_version(server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        page = client.get("/")
        resource = client.get("/id/agency/nothing-here", headers={"Accept": "text/html"})
        sparql = client.get("/sparql", params={"query": "ASK {}"})
    for response in (page, resource, sparql):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "python" not in response.headers.get("server", "").lower()
    assert page.headers["x-frame-options"] == "DENY"
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
    assert "access-control-allow-origin" not in page.headers


def test_a_huge_request_head_is_refused(server) -> None:
    port = server.server.server_address[1]
    raw = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1:" + str(port).encode()
    raw += b"\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
    answer = exchange(port, raw)
    assert answer.startswith(b"HTTP/1.1 4") or answer == b"", answer[:100]
    assert b"HTTP/1.1 200" not in answer
