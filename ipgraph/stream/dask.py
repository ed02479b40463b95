"""The build on a Dask cluster: `ipgraph build --scheduler tcp://HOST:PORT` or `--dask local`.

The per-document function is the one the local worker pool runs (read, extract, make the
triples and the quality report); on Dask each task also writes the document's own triples as a
sorted N-Triples shard into a folder every worker and the client can reach (`shard_dir`: on a
real cluster a shared file system), and sends back only the record and its claims on shared
nodes. The client takes the results in document order (duplicates, IRIs, the shared-node table,
as in build_graph), then merges the kept shards and the table into the sorted file and loads it.

The per-file time budget is not enforced on Dask (a task cannot be killed from the client);
Dask's own worker memory limits apply.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ipgraph.errors import InputError


def dask_document(path: Path, max_bytes: int, shard_dir: str, index: int) -> tuple:
    """Runs on a Dask worker: (source, record, triples without lines, shard path, error)."""
    from ipgraph.pipeline import _extract_verbatim, _triples
    from ipgraph.read import read_document
    from ipgraph.stream.merge import _write_lines
    from ipgraph.stream.triples import document_triples

    source = None
    try:
        source = read_document(path, max_bytes=max_bytes)
        record = _extract_verbatim(path, source)
        triples = _triples(path, record, document_triples)
    except InputError as exc:
        return source, None, None, None, (type(exc), exc.path, exc.cause, exc.line)
    except Exception as exc:  # noqa: BLE001 - one file's bug must not stop the build
        return source, None, None, None, (InputError, path, f"internal error ({type(exc).__name__}: {exc}); "
                                                           f"this is an ipgraph bug, please report it", None)
    shard = Path(shard_dir) / f"doc-{index:07d}.nt"
    tmp = shard.with_name(f".{shard.name}.{os.getpid()}")
    _write_lines(tmp, sorted(triples.lines))
    os.replace(tmp, shard)
    triples.lines = set()
    return source, record, triples, str(shard), None


class DaskPool:
    """Submits every file at once; result(i) waits for file i. Same interface as pipeline._Pool."""

    def __init__(self, scheduler: str, jobs: int, shard_dir: Path) -> None:
        from distributed import Client, LocalCluster

        self.cluster: Any = None
        if scheduler == "local":  # worker processes on loopback only
            # The scheduler always opens an HTTP server (health, metrics); without an address it takes
            # port 8787 on every interface, so a second build at once failed and the port was public.
            self.cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                                        dashboard_address="127.0.0.1:0")
            self.client = Client(self.cluster)
        else:
            self.client = Client(scheduler)
        self.shard_dir = shard_dir
        shard_dir.mkdir(parents=True, exist_ok=True)
        self.futures: list[Any] = []

    def prime(self, order: list[Path], max_bytes: int) -> None:
        self.futures = [self.client.submit(dask_document, path, max_bytes, str(self.shard_dir), i, pure=False)
                        for i, path in enumerate(order)]

    def result(self, i: int, path: Path, max_bytes: int) -> tuple:
        try:
            source, record, triples, shard, error = self.futures[i].result()
        except Exception as exc:  # noqa: BLE001 - a lost worker or task: this file is skipped, named
            raise InputError(path, f"the Dask task reading it failed ({type(exc).__name__}: {exc}); skipped") from None
        finally:
            self.futures[i] = None  # the client lets go of the result
        failure = error[0](*error[1:]) if error else None
        if source is None:
            assert failure is not None
            raise failure
        if triples is not None:
            triples.shard = shard
        return source, record, triples, failure, None  # the dedupe fingerprint is made by the client

    def next(self, i: int, order: list[Path], max_bytes: int) -> None:
        pass  # everything was submitted by prime()

    def stop(self) -> None:
        for future in self.futures:
            if future is not None:
                future.cancel()
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
