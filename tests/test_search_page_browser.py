"""The graph page searches measure texts and shows echoes (issue 13), in headless Chromium: the
page's script ranks as ipgraph.search.page.page_search does (the evaluation queries on the corpus),
a typed query lists measures that open their panel, a measure's panel lists its echoes (document,
number, score) and a click goes to the counterpart; a page without the inlined index asks /search.
Skipped without /usr/bin/chromium, like tests/test_view_browser.py."""
from __future__ import annotations

import json

import pytest
from test_view_browser import Session

from ipgraph.search import load_index
from ipgraph.search.eval import eval_queries
from ipgraph.search.page import page_index, page_search
from ipgraph.view import VIEWPORT, render_page

pytestmark = [pytest.mark.browser]  # Chromium: the `browser` fixture (conftest) skips without it


@pytest.fixture(scope="module")
def data(built_dir) -> dict:
    """The page data the build inlined (ipgraph.search.stage.page_data of the build's index)."""
    text = (built_dir / "graph.html").read_text(encoding="utf-8")
    start = text.index('<script type="application/json" id="ipgraph-search">') + len(
        '<script type="application/json" id="ipgraph-search">')
    return json.loads(text[start:text.index("</script>", start)])


@pytest.fixture()
def page(browser, built_dir):
    session = Session(browser, built_dir / "graph.html")
    yield session
    assert not session.errors, session.errors
    session.close()


def test_the_build_inlines_the_index_and_the_echoes(built_dir, data) -> None:
    index = load_index(built_dir / "search")
    assert data["index"] == json.loads(json.dumps(page_index(index), ensure_ascii=False))
    assert len(data["measures"]) == len(index.docs) == 184
    assert sum(len(v) for v in data["echoes"].values()) >= 40  # each echo listed under both measures


def test_the_script_ranks_like_page_search_on_the_evaluation_queries(page, data) -> None:
    queries = sorted(set(eval_queries().values()))
    assert len(queries) >= 10
    for query in queries:
        expected = page_search(data["index"], query, 10)
        assert page.eval("q => ipgraph.searchMeasures(q, 10)", query) == expected, query
    assert any(page_search(data["index"], q, 10) for q in queries)
    # the typed parts as one query, and a query in full-width letters (NFKC) rank the same too
    for query in ("专利导航 质押融资", "ＰＣＴ 国际申请", "知识产权强市"):
        assert page.eval("q => ipgraph.searchMeasures(q, 10)", query) == page_search(data["index"], query, 10)


def test_typing_a_query_lists_measures_and_a_click_opens_the_panel(page, data) -> None:
    page.page.fill("#search", "质押融资")
    buttons = page.page.locator("#search-results button[data-measure]")
    assert buttons.count() == len(page_search(data["index"], "质押融资", 10)) > 0
    first = buttons.first.get_attribute("data-measure")
    assert first == page_search(data["index"], "质押融资", 1)[0]
    document, number = data["measures"][first]
    assert document[:10] in buttons.first.inner_text() and number in buttons.first.inner_text()
    buttons.first.click()
    assert page.page.locator("#panel").get_attribute("data-node") == first
    assert page.eval("ipgraph.state.mode") == "detail"  # the measure is drawn: the page shows measures


def test_the_measure_panel_lists_echoes_that_lead_to_the_counterpart(page, data) -> None:
    measure, echoes = max(data["echoes"].items(), key=lambda kv: (len(kv[1]), kv[0]))
    page.eval("id => ipgraph.focusNode(id)", measure)
    items = page.page.locator('#panel ul[data-rel="echoes"] li')
    assert items.count() == len(echoes)
    other, score = echoes[0]
    document, number = data["measures"][other]
    first = items.first.inner_text()
    assert number in first and document[:8] in first and f"{score:.4f}" in first
    items.first.locator("button").click()
    assert page.page.locator("#panel").get_attribute("data-node") == other
    back = page.page.locator('#panel ul[data-rel="echoes"] button[data-measure]')
    assert measure in [back.nth(i).get_attribute("data-measure") for i in range(back.count())]  # symmetric


def test_a_page_without_the_index_asks_the_endpoint(browser, built_dir, corpus_graph, data, tmp_path) -> None:
    big = {**data, "index": None}  # what a page above MAX_MEASURES carries
    path = render_page(corpus_graph, tmp_path / "graph.html", search_data=big).path
    hit = next(iter(data["echoes"]))
    asked: list[str] = []

    def answer(route) -> None:
        asked.append(route.request.url)
        document, number = data["measures"][hit]
        route.fulfill(status=200, content_type="application/json", body=json.dumps(
            {"query": "x", "hits": [{"rank": 1, "measure": hit, "document": document, "number": number}]}))

    page = browser.new_page(viewport=VIEWPORT)
    try:
        page.route("**/search?*", answer)
        page.goto(path.resolve().as_uri())
        page.wait_for_function("window.ipgraphReady === true", timeout=60_000)
        page.fill("#search", "质押融资")
        page.wait_for_selector("#search-results button[data-measure]")
        assert asked and "q=%E8%B4%A8%E6%8A%BC%E8%9E%8D%E8%B5%84" in asked[0] and "limit=10" in asked[0]
        assert page.locator("#search-results button[data-measure]").get_attribute("data-measure") == hit
    finally:
        page.close()


def test_screenshot_of_the_search(page, data, screenshot_dir) -> None:
    measure = max(data["echoes"].items(), key=lambda kv: (len(kv[1]), kv[0]))[0]
    page.eval("id => ipgraph.focusNode(id)", measure)  # its panel, with its echoes, beside the results
    page.page.fill("#search", "专利导航")
    page.page.wait_for_selector("#search-results button[data-measure]")
    png = screenshot_dir / "graph-page-search.png"  # docs/ only with UPDATE_SCREENSHOTS=1 (conftest)
    page.page.screenshot(path=str(png))
    assert png.stat().st_size > 20_000
