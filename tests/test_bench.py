"""The benchmark helpers: the string-level scaler makes exactly ipgraph.synthetic's graph, the
comparisons and percentiles are right, and the query benchmark runs end to end on the corpus.
(No timing is asserted: figures belong in the README, not in tests.)"""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph

from ipgraph.bench import (
    CASES,
    canonical_rows,
    canonical_term,
    percentile,
    run_query_bench,
    scaled_ntriples,
    write_scaled,
)
from ipgraph.query import QueryResult, Term, list_queries
from ipgraph.store import load_graph
from ipgraph.synthetic import scaled_graph


def test_scaled_ntriples_is_the_synthetic_graph(built_dir: Path) -> None:
    lines = (built_dir / "ipgraph.nt").read_text(encoding="utf-8").splitlines()
    made = list(scaled_ntriples(lines, 13))  # 13 copies: renamed agencies, programmes and directives too
    assert len(made) == len(set(made))  # no line twice
    graph = Graph().parse(data="\n".join(made), format="nt")
    assert set(graph) == set(scaled_graph(load_graph(built_dir), 13))


def test_write_scaled_reaches_the_size(built_dir: Path, tmp_path: Path) -> None:
    count = write_scaled(built_dir / "ipgraph.nt", tmp_path / "x.nt", 25_000)
    assert 25_000 <= count < 25_000 + 10_000
    assert sum(1 for _ in (tmp_path / "x.nt").read_text(encoding="utf-8").splitlines()) == count


def test_canonical_rows_compare_numbers_by_value() -> None:
    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert canonical_term(Term.literal("10.0", datatype=xsd + "decimal")) == canonical_term(
        Term.literal("10", datatype=xsd + "decimal")
    )
    assert canonical_term(Term.literal("10", lang="zh")) != canonical_term(Term.literal("10"))
    a = QueryResult(kind="select", variables=["x"], rows=[(Term.literal("b"),), (Term.literal("a"),)])
    b = QueryResult(kind="select", variables=["x"], rows=[(Term.literal("a"),), (Term.literal("b"),)])
    assert canonical_rows(a) == canonical_rows(b)


def test_percentile() -> None:
    values = [float(i) for i in range(1, 101)]
    assert (
        percentile(values, 50) == 50.0 and percentile(values, 99) == 99.0 and percentile(values, 100) == 100.0
    )
    assert percentile([], 99) == 0.0


def test_every_named_query_is_benchmarked() -> None:
    assert {name for name, _, _ in CASES} == {q.name for q in list_queries()}


def test_query_bench_on_the_corpus(built_dir: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    report = run_query_bench(
        built_dir,
        triples=0,
        repeat=1,
        rdflib_repeat=1,
        process_runs=1,
        json_out=tmp_path / "bench.json",
        echo=lines.append,
    )
    [corpus] = report["graphs"]
    assert len(corpus["cases"]) == len(CASES)
    assert all(case["agree"] for case in corpus["cases"])  # the three engines give the same rows
    assert report["process_query_leads_s"] > 0
    assert (tmp_path / "bench.json").is_file() and any("rdflib/memory" in line for line in lines)
