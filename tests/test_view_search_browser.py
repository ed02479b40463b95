"""A page made by `ipgraph view` searches measure texts in headless Chromium (issue 13): its script
ranks with the inlined index as ipgraph.search.page.page_search does, and a measure the focus page
does not draw opens a panel of its own. Skipped without /usr/bin/chromium."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_view_browser import Session
from test_view_search import TJ, search_data

from ipgraph.cli import main
from ipgraph.search.page import page_search

pytestmark = [pytest.mark.browser]  # Chromium: the `browser` fixture (conftest) skips without it


def test_a_focus_page_finds_measures_by_their_text(browser, built_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "tj.html"
    result = CliRunner().invoke(main, ["view", "--focus", TJ, "--depth", "1", "-o", str(out), "--graph", str(built_dir)])
    assert result.exit_code == 0, result.output
    data = search_data(out)
    assert data is not None and data["index"] is not None
    session = Session(browser, out)
    try:
        page = session.page
        drawn = set(page.evaluate("() => nodes.getIds()"))  # pyvis's DataSet: the page's nodes
        for query in ("质押融资", "专利导航", "知识产权保护"):
            expected = page_search(data["index"], query, 10)
            assert expected and page.evaluate("q => ipgraph.searchMeasures(q, 10)", query) == expected
        page.fill("#search", "专利导航")
        page.wait_for_selector("#search-results button[data-measure]")
        shown = page.eval_on_selector_all("#search-results button[data-measure]",
                                          "bs => bs.map(b => b.getAttribute('data-measure'))")
        assert shown == page_search(data["index"], "专利导航", 10)
        elsewhere = [iri for iri in shown if iri not in drawn]
        assert elsewhere  # the focus page draws TJ's neighbourhood, not every navigation measure
        target = elsewhere[0]
        page.locator(f'#search-results button[data-measure="{target}"]').click()
        assert page.locator("#panel").get_attribute("data-node") == target
    finally:
        errors = list(session.errors)
        session.close()
    assert errors == []
