"""The build's aggregated page read in one folding pass (issue 14): the same bytes as the page of the whole index."""
from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import URIRef

from ipgraph.view import FoldedGraph, TripleIndex, ViewError, drawn_count, render_page
from ipgraph.vocab import IPG


@pytest.fixture(scope="module")
def nt(built_dir: Path) -> Path:
    return built_dir / "ipgraph.nt"


@pytest.mark.parametrize("budget", [60, 20])  # collapsed nodes all drawn; and the least connected left out
def test_the_folded_aggregated_page_is_the_page_of_the_whole_index(nt, corpus_build, tmp_path, budget):
    drawn = drawn_count(corpus_build.counts)
    folded = TripleIndex.for_build_page(nt, drawn, node_budget=budget)
    assert isinstance(folded, FoldedGraph) and not folded.bounded
    assert not folded.index.typed.get(URIRef(str(IPG.Measure)))  # measures were counted, not kept
    search = {"index": None, "endpoint": "/search", "measures": {"m": ["d", "1"]}, "echoes": {"m": [["n", 0.5]]}}
    quality = {"x.txt": [("warning", "thin")]}
    a = render_page(folded, tmp_path / "folded.html", node_budget=budget, search_data=search, quality=quality)
    b = render_page(TripleIndex.from_ntriples(nt), tmp_path / "whole.html", node_budget=budget, search_data=search,
                    quality=quality)
    assert a.aggregated and a.selected_nodes == drawn
    assert a.path.read_bytes() == b.path.read_bytes()


def test_the_build_page_reads_every_triple_when_every_node_is_drawn(nt, corpus_build):
    drawn = drawn_count(corpus_build.counts)
    assert isinstance(TripleIndex.for_build_page(nt, drawn), TripleIndex)
    # an over-count (or no count) is corrected by the pass: the exact count fits, so every triple is read
    whole = TripleIndex.for_build_page(nt, drawn + 10, node_budget=drawn)
    assert isinstance(whole, TripleIndex)
    assert whole.by_predicate == TripleIndex.from_ntriples(nt).by_predicate
    assert isinstance(TripleIndex.for_build_page(nt, None, node_budget=drawn - 1), FoldedGraph)


def test_above_the_threshold_the_fold_is_the_bounded_page(nt, corpus_build, tmp_path):
    folded = TripleIndex.for_build_page(nt, drawn_count(corpus_build.counts), node_budget=40, bounded_above=100)
    assert isinstance(folded, FoldedGraph) and folded.bounded
    info = render_page(folded, tmp_path / "big.html", node_budget=40)
    assert info.nodes == 40 and "Big graph" in (tmp_path / "big.html").read_text(encoding="utf-8")
    unfolded = TripleIndex.for_build_page(nt, None, node_budget=40)
    with pytest.raises(ViewError):  # a fold made for one budget is not drawn whole under another
        render_page(unfolded, tmp_path / "x.html", node_budget=10_000)
