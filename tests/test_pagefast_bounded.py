"""The bounded page's size (issue 14): at most N edges per node, only drawn documents listed, "+N more" kept."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from ipgraph.view import bounded_view, fold_ntriples, page_html


@pytest.fixture(scope="module")
def folded(built_dir: Path):
    return fold_ntriples(built_dir / "ipgraph.nt")


def _degrees(view) -> Counter:
    degree: Counter = Counter()
    for e in view.edges:
        degree[e.source] += 1
        degree[e.target] += 1
    return degree


def test_a_small_cap_bounds_every_nodes_edges_and_counts_the_rest(folded):
    whole = bounded_view(folded, 40, edge_cap=10_000)
    capped = bounded_view(folded, 40, edge_cap=3)
    assert capped.nodes.keys() == whole.nodes.keys()
    full, kept = _degrees(whole), _degrees(capped)
    assert max(full.values()) > 3  # the corpus has nodes the cap cuts
    assert max(kept.values()) <= 3
    assert {(e.source, e.target, e.relation) for e in capped.edges} < {(e.source, e.target, e.relation) for e in whole.edges}
    for node_id, node in capped.nodes.items():
        assert node.more_edges == full[node_id] - kept[node_id]  # "+N more" is what was left off
    dropped = len(whole.edges) - len(capped.edges)
    assert f"另有 {dropped} 条未画" in capped.note and f"{dropped} more are left off" in capped.note
    assert "条未画" not in whole.note  # nothing dropped: nothing said
    # each node keeps its best-counted edges: no dropped edge outranks a kept one at both its ends
    kept_keys = {(e.source, e.target, e.relation) for e in capped.edges}
    for e in whole.edges:
        if (e.source, e.target, e.relation) not in kept_keys:
            assert any(sum(1 for k in capped.edges if end in (k.source, k.target) and k.count >= e.count) >= 3
                       for end in (e.source, e.target))


def test_nodes_list_only_the_drawn_documents_and_count_the_others(folded):
    small = bounded_view(folded, 12)
    big = bounded_view(folded, 10_000)
    drawn = set(small.nodes)
    assert any(n.more_documents for n in small.nodes.values())
    for node_id, node in small.nodes.items():
        assert set(node.documents) <= drawn
        assert len(node.documents) + node.more_documents == len(big.nodes[node_id].documents)


def test_the_page_carries_the_counts_only_where_something_is_left_off(folded):
    capped = page_html(bounded_view(folded, 40, edge_cap=3), title="t", overview_first=True)
    whole = page_html(bounded_view(folded, 40, edge_cap=10_000), title="t", overview_first=True)
    nodes = json.loads(re.search(r'id="ipgraph-nodes">(.*?)</script>', capped, re.S).group(1))
    more = {n["id"]: n["ipg"]["more"] for n in nodes if "more" in n["ipg"]}
    assert more and all(m["edges"] > 0 or m["docs"] > 0 for m in more.values())
    assert len(capped.encode()) < len(whole.encode())
    whole_nodes = json.loads(re.search(r'id="ipgraph-nodes">(.*?)</script>', whole, re.S).group(1))
    assert not any("more" in n["ipg"] for n in whole_nodes)  # every document drawn, no edge dropped


@pytest.mark.browser
def test_the_panel_says_how_many_edges_and_documents_are_not_drawn(folded, tmp_path, browser):
    from test_view_browser import Session

    view = bounded_view(folded, 40, edge_cap=3)
    node = max(view.nodes.values(), key=lambda n: n.more_edges)
    path = tmp_path / "capped.html"
    path.write_text(page_html(view, title="t", overview_first=True), encoding="utf-8")
    session = Session(browser, path)
    try:
        assert session.eval("ipgraph => window.ipgraph.showNode(ipgraph)", node.id) is True
        text = session.page.text_content("#panel")
        assert f"+{node.more_edges} more edges" in text and f"+{node.more_documents} more documents" in text
        assert session.errors == []
    finally:
        session.close()
