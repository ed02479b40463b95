"""The build's search stage (ipgraph.search.stage, issue 13): the index is a published output of
the build, the echoes are in ipgraph.nt (so the store, Turtle, SHACL and the page see them), the
stage reads the merged N-Triples as the SPARQL reader reads the store, rebuilds segment only new
texts, and the sparse echo candidates give the exact pairs."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from conftest import CORPUS

from ipgraph.pipeline import build_graph, write_outputs
from ipgraph.query import open_engine, run_named
from ipgraph.search import load_index
from ipgraph.search.echoes import THRESHOLD, echo_links, echo_matrix, similar_pairs, sparse_pairs
from ipgraph.search.records import read_docs, read_names
from ipgraph.search.stage import docs_from_ntriples
from ipgraph.vocab import IPG


@pytest.fixture(scope="module")
def built(tmp_path_factory, corpus_build) -> Path:
    out = tmp_path_factory.mktemp("stage") / "build"
    write_outputs(corpus_build, out)
    return out


def test_the_build_publishes_the_index_beside_the_graph(built, corpus_build):
    assert (built / "search").is_symlink()  # a link through .ipgraph/current, like store/
    assert (built / "search").resolve().parent == (built / "ipgraph.nt").resolve().parent
    index = load_index(built / "search")
    assert len(index.docs) == corpus_build.summary()["measures"] == 184


def test_the_graph_holds_the_echoes_the_index_gives(built, corpus_build):
    index = load_index(built / "search")
    links = echo_links(index)
    assert len(links) >= 20
    text = (built / "ipgraph.nt").read_text(encoding="utf-8")
    echoes = [line for line in text.splitlines() if f"<{IPG.echoes}>" in line]
    assert len(echoes) == 2 * len(links)  # symmetric
    assert corpus_build.summary()["triples"] == len(text.splitlines())
    assert corpus_build.counts[str(IPG.Echo)] == len(links)
    # the store answers the named query with them; the pairs are the links
    rows = run_named(open_engine(built), "echoes", {}).rows
    assert len(rows) >= len(links)


def test_the_built_graph_with_echoes_conforms_to_the_shapes(corpus_build):
    from ipgraph.validate import validate

    assert set(corpus_build.graph.subjects(object=IPG.Echo))
    report = validate(corpus_build.graph)
    assert report.conforms, report


def test_reading_the_ntriples_equals_reading_the_store(built):
    docs, names = docs_from_ntriples(built / "ipgraph.nt")
    engine = open_engine(built)
    assert names == read_names(engine)
    expected = read_docs(engine)
    assert [dataclasses.asdict(d) for d in docs] == [dataclasses.asdict(d) for d in expected]
    assert any(d.lead for d in docs) and any(d.targets for d in docs) and any(d.section_title for d in docs)


def test_sparse_candidates_give_the_exact_pairs(built):
    index = load_index(built / "search")
    exact = [e for e in similar_pairs(index, floor=THRESHOLD - 1e-9) if e.score >= THRESHOLD]
    assert sparse_pairs(index) == exact
    # the candidates come from the rows' prefixes (ipgraph.search.echoes.echo_matrix): far fewer
    # words than the rows hold, and still every pair
    em = echo_matrix(index)
    assert em.prefix.nnz < 0.8 * em.full.nnz


def test_echo_links_keep_each_measures_best_of_the_exact_pairs(built):
    from ipgraph.search.echoes import PER_MEASURE

    index = load_index(built / "search")
    exact = [e for e in similar_pairs(index, floor=THRESHOLD - 1e-9) if e.score >= THRESHOLD]
    for per in (1, PER_MEASURE):
        best: dict[str, list] = {}
        for e in exact:  # best first
            best.setdefault(e.a, []).append(e)
            best.setdefault(e.b, []).append(e)
        expected = sorted({e for lst in best.values() for e in lst[:per]}, key=lambda e: (e.a, e.b))
        assert echo_links(index, per_measure=per) == expected
    assert len(echo_links(index, per_measure=1)) < len(echo_links(index))


def test_a_rebuild_segments_no_text_again(tmp_path):
    from ipgraph.pipeline import cache_folder

    out = tmp_path / "out"
    first = build_graph([CORPUS], cache=True, cache_dir=cache_folder(out))
    write_outputs(first, out)
    stats = first.search.index.stats
    assert stats["segmented"] == stats["measures"] == 184
    again = build_graph([CORPUS], cache=True, cache_dir=cache_folder(out))  # `ipgraph add` builds the same way
    write_outputs(again, out)
    assert again.search.index.stats["segmented"] == 0 and again.search.index.stats["reused"] == 184
    assert again.ntriples.read_bytes() == first.ntriples.read_bytes()
    tokens = json.loads((out / "search" / "tokens.json").read_text(encoding="utf-8"))
    assert len(tokens) == len({d.indexed_text() for d in again.search.index.docs})


def test_the_graph_file_is_the_same_whatever_the_workers(tmp_path):
    one, two = build_graph([CORPUS], jobs=1), build_graph([CORPUS], jobs=2)  # kept: each owns its file
    assert one.ntriples.read_bytes() == two.ntriples.read_bytes()
    assert f"<{IPG.echoes}>".encode() in one.ntriples.read_bytes()


def test_an_empty_build_has_an_empty_index(tmp_path):
    (tmp_path / "src").mkdir()
    result = build_graph([tmp_path / "src"])
    assert result.search.echoes == [] and result.search.index.docs == []
    write_outputs(result, tmp_path / "out")
    assert load_index(tmp_path / "out" / "search").docs == []
