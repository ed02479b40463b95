"""The build on Dask (issue 14): a LocalCluster of worker processes on loopback gives the same bytes."""
from __future__ import annotations

from pathlib import Path

import pytest

from ipgraph.pipeline import build_graph

pytest.importorskip("distributed")

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"


def test_local_cluster_gives_byte_identical_sorted_ntriples(tmp_path):
    single = build_graph([CORPUS], jobs=1)
    dask = build_graph([CORPUS], jobs=2, scheduler="local", work_dir=tmp_path / "work")
    assert dask.ntriples.read_bytes() == single.ntriples.read_bytes()
    assert [r.parsed.source.name for r in dask.records] == [r.parsed.source.name for r in single.records]
    shards = sorted((tmp_path / "work" / "shards").glob("doc-*.nt"))
    assert len(shards) == len(single.records)  # each worker wrote its documents' shards


def test_a_file_that_cannot_be_read_is_named_on_dask_too(tmp_path):
    bad = tmp_path / "in"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "a.txt").write_text((CORPUS / "000_5d276028dea57057.txt").read_text(encoding="utf-8"), encoding="utf-8")
    skipped = []
    result = build_graph([bad], jobs=2, scheduler="local", on_skip=skipped.append)
    assert [r.parsed.source.name for r in result.records] == ["a.txt"]
    assert len(skipped) == 1 and "empty.txt" in str(skipped[0].path)


def test_the_local_cluster_listens_on_loopback_only_and_not_on_a_fixed_port(tmp_path):
    # Dask's scheduler always opens an HTTP server; on its default port 8787 a second build at once
    # could not start, and it listened on every interface.
    import socket

    from ipgraph.stream.dask import DaskPool

    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        taken.bind(("127.0.0.1", 8787))
        taken.listen()
    except OSError:
        pass  # someone holds it already: the same condition
    pool = DaskPool("local", 1, tmp_path / "shards")
    try:
        addresses = [sock.getsockname() for sock in pool.cluster.scheduler.http_server._sockets.values()]
        assert addresses and all(host == "127.0.0.1" for host, _port in addresses), addresses
        assert str(pool.cluster.scheduler.address).startswith("tcp://127.0.0.1:")
    finally:
        pool.stop()
        taken.close()
