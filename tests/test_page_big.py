"""The page of a graph too big to draw (issue 14): one streaming pass, measures folded into counts as read."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ipgraph.view import (
    CLASS_STYLES,
    FoldedGraph,
    TripleIndex,
    ViewError,
    aggregate_view,
    bounded_search_data,
    bounded_view,
    fold_ntriples,
    read_view,
    render_page,
)
from ipgraph.vocab import IPG


@pytest.fixture(scope="module")
def nt(built_dir: Path) -> Path:
    return built_dir / "ipgraph.nt"


def test_the_folded_page_equals_the_aggregated_one_when_nothing_is_left_out(nt):
    view = read_view(TripleIndex.from_ntriples(nt))
    collapsed_size = sum(1 for n in view.nodes.values() if n.cls not in ("measure", "section", "target"))
    budget = collapsed_size + 10  # aggregate_view collapses (fewer than all nodes) but leaves nothing out
    assert budget < len(view.nodes)
    aggregated = aggregate_view(view, budget)
    folded = fold_ntriples(nt)
    bounded = bounded_view(folded, budget)
    assert folded.drawn == len(view.nodes)
    assert bounded.nodes == aggregated.nodes  # the same documents (measure counts), agencies … with their panels
    assert bounded.edges == aggregated.edges  # the same counted edges, with the same evidence
    assert bounded.aggregated and bounded.selected_nodes == len(view.nodes)


def test_the_folded_index_holds_no_measure_section_or_target(nt):
    folded = fold_ntriples(nt)
    kept = {str(s) for subjects in folded.index.typed.values() for s in subjects}
    for cls in (IPG.Measure, IPG.Section, IPG.Target):
        assert not folded.index.typed.get(cls)
    assert kept, "documents, agencies … are kept"
    assert sum(folded.measures.values()) == len(set(TripleIndex.from_ntriples(nt).typed[IPG.Measure]))


def _with_more_measures(nt: Path, out: Path, copies: int) -> Path:
    """nt with `copies` more measures per measure (same relations, new IRIs), sorted as a build writes it."""
    measure = f"<{IPG.Measure}>"
    lines = nt.read_text(encoding="utf-8").splitlines(keepends=True)
    subjects = {line.split(" ", 1)[0] for line in lines if line.split(" ")[2:3] == [measure]}
    extra = [f"{line.split(' ', 1)[0][:-1]}-copy{k}> {line.split(' ', 1)[1]}"
             for line in lines if line.split(" ", 1)[0] in subjects for k in range(copies)]
    out.write_text("".join(sorted(set(lines + extra))), encoding="utf-8")
    return out


def test_memory_of_the_pass_does_not_grow_with_the_measures(nt, tmp_path):
    bigger = fold_ntriples(_with_more_measures(nt, tmp_path / "x4.nt", 3))
    base = fold_ntriples(nt)
    assert sum(bigger.measures.values()) == 4 * sum(base.measures.values())
    # what the pass keeps is the same: the measures only raised the counts
    size = lambda f: sum(len(o) for by in f.index.by_predicate.values() for o in by.values())  # noqa: E731
    assert size(bigger) == size(base)
    assert bigger.counts.keys() == base.counts.keys()
    assert all(bigger.counts[k] == 4 * n for k, n in base.counts.items())
    # and the page says so: the same nodes, 4× the counts
    a, b = bounded_view(base, 1000), bounded_view(bigger, 1000)
    assert a.nodes.keys() == b.nodes.keys()
    assert sum(e.count for e in b.edges) > 3 * sum(e.count for e in a.edges)


def test_over_budget_every_class_keeps_its_best_connected_nodes(nt):
    folded = fold_ntriples(nt)
    whole = bounded_view(folded, 10_000)
    small = bounded_view(folded, 20)
    assert len(small.nodes) == 20
    classes = {n.cls for n in whole.nodes.values()}
    assert {n.cls for n in small.nodes.values()} == classes  # no class crowded out by another
    weight = {n: 0 for n in whole.nodes}
    for e in whole.edges:
        weight[e.source] += e.count
        weight[e.target] += e.count
    for cls in classes:
        kept = [n for n, v in small.nodes.items() if v.cls == cls]
        others = [n for n, v in whole.nodes.items() if v.cls == cls and n not in small.nodes]
        if others and kept:  # a kept node is at least as connected as any left out of its class
            assert min(weight[n] + whole.nodes[n].count for n in kept) >= max(
                weight[n] + whole.nodes[n].count for n in others)
    left_out = len(whole.nodes) - 20
    assert f"{folded.drawn}" in small.note and "ipgraph serve" in small.note and "--focus" in small.note
    counts_in_note = [int(part.split()[-1]) for part in small.note.split("未显示：")[1].split("。")[0].split("、")]
    assert sum(counts_in_note) == left_out


def test_the_build_page_above_the_threshold_is_bounded(nt, tmp_path):
    graph = TripleIndex.for_page(nt, node_budget=40, bounded_above=100)
    assert isinstance(graph, FoldedGraph)
    search = {"index": {"big": 1}, "endpoint": "/search", "measures": {"m": ["d", "1"]}, "echoes": {"m": [["n", 1.0]]}}
    info = render_page(graph, tmp_path / "big.html", node_budget=40, search_data=search)
    assert info.aggregated and info.nodes == 40 and info.selected_nodes == graph.drawn
    html = (tmp_path / "big.html").read_text(encoding="utf-8")
    key = '<script type="application/json" id="ipgraph-search">'
    inlined = json.loads(html[html.index(key) + len(key):html.index("</script>", html.index(key))])
    assert "ipgraph serve" in html and inlined["index"] is None and inlined["endpoint"] == "/search"
    with pytest.raises(ViewError):
        render_page(graph, tmp_path / "part.html", focus="x")


def test_below_the_threshold_the_page_is_made_as_before(nt, tmp_path):
    for budget in (40, 100_000):  # aggregated, and every node drawn
        graph = TripleIndex.for_page(nt, node_budget=budget)
        assert isinstance(graph, TripleIndex)
        before = TripleIndex.from_ntriples(nt, lean=budget < 1000)
        a = render_page(graph, tmp_path / "a.html", node_budget=budget)
        b = render_page(before, tmp_path / "b.html", node_budget=budget)
        assert a.path.read_bytes() == b.path.read_bytes()


def test_bounded_search_data_keeps_what_the_drawn_nodes_need(nt):
    view = bounded_view(fold_ntriples(nt), 50)
    doc = next(iter(view.nodes))
    data = bounded_search_data({"index": {"t": []}, "endpoint": "/search",
                                "measures": {doc: ["a", "1"], "elsewhere": ["b", "2"]}, "echoes": {}}, view)
    assert data == {"index": None, "endpoint": "/search", "measures": {doc: ["a", "1"]}, "echoes": {}}
    assert bounded_search_data(None, view) is None
    assert set(CLASS_STYLES) >= {n.cls for n in view.nodes.values()}


def test_the_builds_class_counts_choose_the_page_without_a_first_pass(nt, corpus_build, tmp_path):
    from ipgraph.view import drawn_count

    drawn = drawn_count(corpus_build.counts)
    assert drawn == fold_ntriples(nt).drawn  # every drawn node is typed once with its class
    assert isinstance(TripleIndex.for_page(nt, node_budget=40, bounded_above=100, drawn=drawn), FoldedGraph)
    full, lean = TripleIndex.from_ntriples(nt), TripleIndex.from_ntriples(nt, lean=True)
    for budget, expected in ((100_000, full), (40, lean)):
        chosen = TripleIndex.for_page(nt, node_budget=budget, drawn=drawn)
        assert isinstance(chosen, TripleIndex)
        assert chosen.by_predicate == expected.by_predicate and chosen.typed == expected.typed
    # an over-count (a node typed twice) still gives the page of every node when the exact count fits
    assert TripleIndex.for_page(nt, node_budget=drawn, drawn=drawn + 5).by_predicate == full.by_predicate
