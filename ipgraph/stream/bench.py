"""`ipgraph bench build`: the build's throughput on synthetic corpora, beside a bare jieba pass.

For each size, a corpus is generated (ipgraph.stream.corpus) and built by `ipgraph build` in a
fresh process per configuration (-j 1, -j 2, --dask local); each is timed with wait4(2): wall,
CPU (user + system, the build's worker processes included) and the peak RSS of its whole process
tree (the build, its extraction workers and its tail's children, sampled every 0.1 s: issue 14's bar),
beside the peak of its largest process (wait4's ru_maxrss). The same files are then read and cut by
`jieba.lcut` in one process, in the same run, as the yardstick. `add` times `ipgraph add` of one new
document to the -j 2 build and the rebuild without it (a removal), alternately, ADD_ROUNDS times each:
their medians.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ipgraph.stream.corpus import generate_corpus

ADD_ROUNDS = 3  # `ipgraph add` of one document and its removal, alternately

_JIEBA = """
import sys, pathlib, jieba
jieba.initialize()
for path in sorted(pathlib.Path(sys.argv[1]).glob('*.txt')):
    jieba.lcut(path.read_text(encoding='utf-8'))
"""


def tree_peak(pid: int, stop: threading.Event, peak: list[int], every: float = 0.1) -> None:
    """Keep peak[0] the largest sum of the RSS of `pid` and all its descendants seen until `stop` is set
    (and peak[1], when there, the largest RSS of any one of them)."""
    from ipgraph.bench import _tree_rss

    while not stop.is_set():
        rss = _tree_rss(pid)
        peak[0] = max(peak[0], sum(rss.values()))
        if len(peak) > 1:
            peak[1] = max([peak[1], *rss.values()])
        stop.wait(every)


def _timed(command: list[str]) -> dict[str, float]:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    stop, peak = threading.Event(), [0, 0]
    sampler = threading.Thread(target=tree_peak, args=(process.pid, stop, peak), daemon=True)
    sampler.start()
    stderr = process.stderr.read()
    stop.set()  # the build closed its stderr: it is ending (wait4 reaps it below)
    sampler.join()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: Popen must not wait again
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} failed: {stderr.decode('utf-8', 'replace')[-400:]}")
    # The largest process from the samples, not wait4's ru_maxrss: Linux carries the high-water mark
    # across exec, so a child of a big process (a test run, a notebook) reports at least its parent's RSS.
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": peak[0] / 2**20,
            "largest_mb": peak[1] / 2**20}


def run_build_bench(sizes: list[int], corpus: Path, dask: bool = True, json_out: Path | None = None,
                    echo: Callable[[str], None] = print) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    ipgraph = [sys.executable, "-m", "ipgraph"]
    echo(f"{'docs':>6} {'MB':>6}  {'config':<12} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'largest':>8} {'docs/s':>8} {'MB/s':>6}")
    for size in sizes:
        work = Path(tempfile.mkdtemp(prefix=f"ipgraph-bench-{size}-"))
        try:
            files = generate_corpus(work / "corpus", size, corpus)
            megabytes = sum(p.stat().st_size for p in files) / 1e6
            configs = [("jieba.lcut", [sys.executable, "-c", _JIEBA, str(work / "corpus")]),
                       ("-j 1", ipgraph + ["build", str(work / "corpus"), "-o", str(work / "b1"), "-j", "1", "-q"]),
                       ("-j 2", ipgraph + ["build", str(work / "corpus"), "-o", str(work / "b2"), "-j", "2", "-q"])]
            if dask:
                configs.append(("--dask local", ipgraph + ["build", str(work / "corpus"), "-o", str(work / "bd"),
                                                           "-j", "2", "-q", "--dask", "local", "--no-cache"]))
            for label, command in configs:
                row = {"docs": size, "mb": round(megabytes, 2), "config": label, **_timed(command)}
                rows.append(row)
                echo(_line(row))
            same = (work / "b1" / "ipgraph.nt").read_bytes() == (work / "b2" / "ipgraph.nt").read_bytes()
            if dask:
                same = same and (work / "b1" / "ipgraph.nt").read_bytes() == (work / "bd" / "ipgraph.nt").read_bytes()
            echo(f"{'':>6} sorted N-Triples byte-identical across -j 1, -j 2{', Dask' if dask else ''}: {same}")
            rows.append({"docs": size, "config": "identical", "identical": same})
            extra = generate_corpus(work / "extra", size + 1, corpus)[-1]  # one more plan, not in the corpus
            added = extra.rename(work / f"added-{extra.name}")
            # add it, then build without it again (a removal), ADD_ROUNDS times: medians of alternating runs
            adds, removals = [], []
            for _ in range(ADD_ROUNDS):
                adds.append(_timed(ipgraph + ["add", str(added), "-o", str(work / "b2"), "-j", "2", "-q"]))
                removals.append(_timed(ipgraph + ["build", str(work / "corpus"), "-o", str(work / "b2"), "-j", "2", "-q"]))
            for label, runs in (("add 1 to -j 2", adds), ("remove it again", removals)):
                row = {"docs": size, "mb": round(added.stat().st_size / 1e6, 3), "config": label,
                       **{k: statistics.median(r[k] for r in runs) for k in ("wall", "cpu", "rss_mb", "largest_mb")},
                       "walls": [round(r["wall"], 2) for r in runs]}
                rows.append(row)
                echo(_line(row, docs=1))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if json_out:
        json_out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return rows


def _line(row: dict[str, Any], docs: int | None = None) -> str:
    n = docs if docs is not None else row["docs"]
    return (f"{row['docs']:>6} {row['mb']:>6}  {row['config']:<12} {row['wall']:>8.1f} {row['cpu']:>8.1f} "
            f"{row['rss_mb']:>8.0f} {row.get('largest_mb', 0):>8.0f} {n / row['wall']:>8.2f} {row['mb'] / row['wall']:>6.2f}")
