"""The endpoint's hot path (issue 9, last bar): a response's head goes out in the same write as
its body, the HTTP layer runs on uvloop when it is installed, and `bench serve --compare`
alternates two checkouts' servers. The protocol is driven with a transport that records what
the server writes, so the number of writes per response is seen exactly."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ipgraph.bench import serve_table
from ipgraph.cli import main
from ipgraph.serve import (
    BODY_PIECE,
    HTTP_LOOPS,
    App,
    AsgiApp,
    InlineExecutor,
    ServeLimits,
    Server,
    _guarded_protocol,
    event_loop,
)

HOST = "127.0.0.1:8000"


class RecordingTransport(asyncio.Transport):
    """What the server writes, one entry per write() call."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class _AsyncInline:
    """The inline executor behind the async interface the ASGI app uses (no worker processes)."""

    def __init__(self, build_dir: Path) -> None:
        self.inline = InlineExecutor(build_dir)

    async def run_async(self, job: Any, client: str, gone: Any, urgent: bool = False) -> Any:
        return self.inline.run(job, client)

    def close(self) -> None:
        self.inline.close()


@pytest.fixture(scope="module")
def executor(built_dir: Path):
    ex = _AsyncInline(built_dir)
    yield ex
    ex.close()


async def _connection(executor: _AsyncInline) -> tuple[Any, RecordingTransport]:
    import uvicorn
    from uvicorn.server import ServerState

    limits = ServeLimits()
    protocol_class = _guarded_protocol(limits)
    asgi = AsgiApp(App(executor, limits), {HOST})
    config = uvicorn.Config(asgi, http=protocol_class, lifespan="off", log_config=None, access_log=False)
    config.load()
    protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
    transport = RecordingTransport()
    protocol.connection_made(transport)
    return protocol, transport


async def _until(predicate: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server did not write what was expected in time")


def _responses(writes: list[bytes]) -> int:
    return b"".join(writes).count(b"HTTP/1.1 ")


def _split(response: bytes) -> tuple[dict[bytes, bytes], bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    return {k.lower(): v for k, v in fields.items()}, body


def test_a_small_response_is_one_write(executor: _AsyncInline) -> None:
    async def scenario() -> list[bytes]:
        protocol, transport = await _connection(executor)
        protocol.data_received(f"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        await _until(lambda: _responses(transport.writes) == 1 and protocol.cycle.response_complete)
        protocol.connection_lost(None)
        return transport.writes

    writes = asyncio.run(scenario())
    assert len(writes) == 1, [w[:60] for w in writes]
    assert writes[0].startswith(b"HTTP/1.1 200 ")
    fields, body = _split(writes[0])
    assert int(fields[b"content-length"]) == len(body)
    assert b'"boolean"' in body  # the head and the whole body in the one write


def test_a_large_response_sends_its_head_with_the_first_piece(executor: _AsyncInline) -> None:
    async def scenario() -> list[bytes]:
        protocol, transport = await _connection(executor)
        protocol.data_received(f"GET /static/yasgui/yasgui.min.js HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        await _until(lambda: protocol.cycle is not None and protocol.cycle.response_complete)
        protocol.connection_lost(None)
        return transport.writes

    writes = asyncio.run(scenario())
    assert writes[0].startswith(b"HTTP/1.1 200 ")
    fields, first_piece = _split(writes[0])
    length = int(fields[b"content-length"])
    assert length > BODY_PIECE  # the file really comes in pieces
    assert len(first_piece) == BODY_PIECE  # ... and the head went out with the first of them
    assert len(first_piece) + sum(len(w) for w in writes[1:]) == length


def test_100_continue_is_not_held_back(executor: _AsyncInline) -> None:
    """A client that waits for 100 Continue before its body must get it at once."""
    body = b"ASK {}"

    async def scenario() -> tuple[list[bytes], list[bytes]]:
        protocol, transport = await _connection(executor)
        protocol.data_received(
            (f"POST /sparql HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/sparql-query\r\n"
             f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n").encode()
        )
        await _until(lambda: bool(transport.writes))
        before_body = list(transport.writes)
        protocol.data_received(body)
        await _until(lambda: _responses(transport.writes) == 2 and protocol.cycle.response_complete)
        protocol.connection_lost(None)
        return before_body, transport.writes

    before_body, writes = asyncio.run(scenario())
    assert len(before_body) == 1 and before_body[0].startswith(b"HTTP/1.1 100 ")
    assert len(writes) == 2 and writes[1].startswith(b"HTTP/1.1 200 ")


def test_pipelined_requests_are_answered_in_order_one_write_each(executor: _AsyncInline) -> None:
    async def scenario() -> list[bytes]:
        protocol, transport = await _connection(executor)
        protocol.data_received(
            (f"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: {HOST}\r\n\r\n"
             f"GET /nowhere HTTP/1.1\r\nHost: {HOST}\r\n\r\n").encode()
        )
        await _until(lambda: _responses(transport.writes) == 2 and protocol.cycle.response_complete)
        protocol.connection_lost(None)
        return transport.writes

    writes = asyncio.run(scenario())
    assert [w.split(b" ", 2)[1] for w in writes] == [b"200", b"404"]


def test_the_http_loop_is_uvloop_when_installed(built_dir: Path) -> None:
    pytest.importorskip("uvloop")
    assert event_loop() == "uvloop"
    server = Server(("127.0.0.1", 0), App(_AsyncInline(built_dir), ServeLimits()), quiet=True)
    try:
        assert [s.config.loop for s in server.uvicorns] == ["uvloop"] * HTTP_LOOPS
    finally:
        server.server_close()


def test_serve_table_has_every_run_and_each_servers_median() -> None:
    def run(server: str, rps: float, p99: float) -> dict[str, Any]:
        return {"server": server, "load_average": 2.0, "requests": int(rps * 10), "errors": 0,
                "throughput_rps": rps, "p50_ms": 50.0, "p95_ms": 70.0, "p99_ms": p99, "max_ms": 200.0}

    runs = [run("old", 800, 90), run("new", 900, 80), run("old", 600, 120), run("new", 1000, 70)]
    lines = serve_table(runs)
    assert len(lines) == 2 + 4 + 2
    medians = {line.split(" | ")[0].lstrip("| "): line for line in lines[-2:]}
    assert "| 700 |" in medians["old, median of 2"] and "| 105 ms |" in medians["old, median of 2"]
    assert "| 950 |" in medians["new, median of 2"] and "| 75 ms |" in medians["new, median of 2"]


def test_compare_with_a_folder_that_is_no_checkout_is_one_line(built_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["bench", "serve", "--graph", str(built_dir), "--seconds", "1", "--compare", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert "not a checkout of ipgraph" in result.output and str(tmp_path) in result.output
    assert "Traceback" not in result.output
