"""The bounded page (a graph too big to draw) in headless Chromium: it opens, says what it leaves out, no errors."""
from __future__ import annotations

import pytest
from test_view_browser import Session

from ipgraph.view import FoldedGraph, TripleIndex, render_page

pytestmark = [pytest.mark.browser]  # Chromium: the `browser` fixture (conftest) skips without it


def test_the_bounded_page_opens_and_says_what_it_leaves_out(browser, built_dir, tmp_path):
    graph = TripleIndex.for_page(built_dir / "ipgraph.nt", node_budget=40, bounded_above=100)
    assert isinstance(graph, FoldedGraph)
    search = {"index": None, "endpoint": "/search", "measures": {}, "echoes": {}}
    info = render_page(graph, tmp_path / "big.html", node_budget=40, search_data=search)
    session = Session(browser, info.path)
    try:
        assert session.eval("nodes.length") == 40
        classes = set(session.eval("nodes.get().map(n => n.ipg.cls)"))
        assert classes == {"document", "agency", "programme", "directive"}
        note = session.page.text_content("#note")
        assert "Big graph" in note and "left out" in note and "ipgraph serve" in note
        assert "聚合" in session.page.text_content("#counts")
        assert session.errors == []
    finally:
        session.close()
