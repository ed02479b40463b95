"""`ipgraph bench search`: index build time per MB, query latency p50/p99 at 1,000 and 10,000 documents.

Scaled corpora copy the built corpus's measures under new document IRIs (as ipgraph.synthetic does
for graphs), without building a graph of that size: only the index is measured. Their texts repeat
the corpus, so beyond the first copy the tokens come from the index's text cache (what an
incremental rebuild does); segmentation speed is measured fresh, on the corpus texts.
"""
from __future__ import annotations

import dataclasses
import gc
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ipgraph.search.eval import eval_queries
from ipgraph.search.index import index_docs, load_index, save_index
from ipgraph.search.rank import Filters, search
from ipgraph.search.records import SearchDoc, read_docs, read_names

EXTRA_QUERIES = ("质押融资 风险补偿", "知识产权质押融资", "数据知识产权", "专利导航 产业", "商标品牌 地理标志",
                 "知识产权保护中心 快速维权", "高价值专利 培育", "人才 培训")


def scaled_docs(docs: list[SearchDoc], documents: int) -> list[SearchDoc]:
    """The measures of `documents` documents: the corpus's documents copied under renamed IRIs."""
    by_doc: dict[str, list[SearchDoc]] = {}
    for d in docs:
        by_doc.setdefault(d.doc_iri, []).append(d)
    groups = list(by_doc.values())
    out: list[SearchDoc] = []
    for n in range(documents):
        copy, group = divmod(n, len(groups))
        for d in groups[group]:
            if copy == 0:
                out.append(d)
                continue
            out.append(dataclasses.replace(
                d, iri=d.iri.replace(d.doc_iri, f"{d.doc_iri}~{copy}"), doc_iri=f"{d.doc_iri}~{copy}",
                document=f"{d.document}~{copy}", source_file=f"{d.source_file}~{copy}"))
    return out


def _percentile(values: list[float], pct: float) -> float:
    from ipgraph.bench import percentile

    return percentile(values, pct)


def latency(index: Any, queries: list[tuple[str, Filters | None]], rounds: int) -> dict[str, float]:
    """Milliseconds per search (top 10 with snippets), warm, over `rounds` passes of the query mix."""
    for q, f in queries:  # warm-up: the jieba dictionary and numpy paths
        search(index, q, f)
    times = []
    for _ in range(rounds):
        for q, f in queries:
            started = time.perf_counter()
            search(index, q, f)
            times.append((time.perf_counter() - started) * 1000)
    return {"queries": len(times), "p50_ms": round(_percentile(times, 50), 2),
            "p99_ms": round(_percentile(times, 99), 2), "max_ms": round(max(times), 2)}


def query_mix() -> list[tuple[str, Filters | None]]:
    mix: list[tuple[str, Filters | None]] = [(q, None) for q in eval_queries().values()]
    mix += [(q, None) for q in EXTRA_QUERIES]
    mix += [("质押融资", Filters(level="municipal")), ("专利导航", Filters(agency="知识产权局"))]
    return mix


def run_search_bench(
    build_dir: Path | str, sizes: tuple[int, ...] = (1000, 10000), rounds: int = 5,
    json_out: Path | None = None, echo: Callable[[str], None] = print, keep: Path | None = None,
) -> dict[str, Any]:
    import tempfile

    docs = read_docs(build_dir)
    names = read_names(build_dir)
    report: dict[str, Any] = {"corpus_measures": len(docs)}

    started = time.perf_counter()
    warm = index_docs(docs[:1], "jieba", names)
    warm.tokeniser("知识产权")
    report["dictionary_load_s"] = round(time.perf_counter() - started, 3)
    corpus = index_docs(docs, "jieba", names)  # fresh: nothing cached
    mb = sum(len(d.indexed_text().encode("utf-8")) for d in docs) / 2**20
    seg = corpus.stats["seconds_segment"]
    report["corpus"] = {"mb": round(mb, 3), "segment_s": seg, "bm25_s": corpus.stats["seconds_bm25"],
                        "build_s_per_mb": round((seg + corpus.stats["seconds_bm25"]) / mb, 2),
                        **latency(corpus, query_mix(), rounds * 4)}
    echo(f"jieba dictionary loaded in {report['dictionary_load_s']} s (once per process)")
    echo(f"corpus: {len(docs)} measures, {mb:.2f} MB: segmented in {seg:.2f} s, BM25 in "
         f"{corpus.stats['seconds_bm25']:.2f} s ({report['corpus']['build_s_per_mb']} s/MB); "
         f"query p50 {report['corpus']['p50_ms']} ms, p99 {report['corpus']['p99_ms']} ms")
    cache = dict(zip(corpus.keys, corpus.tokens, strict=True))  # token key → words (the same names for every text)
    for size in sizes:
        scaled = scaled_docs(docs, size)
        smb = sum(len(d.indexed_text().encode("utf-8")) for d in scaled) / 2**20
        started = time.perf_counter()
        index = index_docs(scaled, "jieba", names, cache)
        built = time.perf_counter() - started
        row: dict[str, Any] = {"documents": size, "measures": len(scaled), "mb": round(smb, 1),
                               "build_s": round(built, 2), "segmented": index.stats["segmented"],
                               "segment_s": index.stats["seconds_segment"], "bm25_s": index.stats["seconds_bm25"]}
        with tempfile.TemporaryDirectory(prefix="ipgraph-bench-search-") as tmp:
            folder = Path(keep or tmp) / f"search-{size}"
            started = time.perf_counter()
            save_index(index, folder)
            row["save_s"] = round(time.perf_counter() - started, 2)
            del index
            gc.collect()
            started = time.perf_counter()
            index = load_index(folder)
            row["load_s"] = round(time.perf_counter() - started, 2)
        row.update(latency(index, query_mix(), rounds))
        report[f"docs_{size}"] = row
        echo(f"{size} documents: {len(scaled)} measures, {smb:.0f} MB of text: indexed in {row['build_s']} s "
             f"({row['segmented']} texts segmented), saved {row['save_s']} s, loaded {row['load_s']} s; "
             f"query p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, max {row['max_ms']} ms")
        del index
        gc.collect()
    if json_out is not None:
        Path(json_out).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return report
