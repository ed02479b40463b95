"""The query page in headless Chromium (issue 11, item 5; issue 13): simple view by default, label
columns before IRI columns, local /id/ links, a parameter form per named query, the search box.
Skipped without /usr/bin/chromium, like the other browser tests."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ipgraph.serve import start_server

pytestmark = [pytest.mark.browser]  # Chromium: the `browser` fixture (conftest) skips without it
TJ = "天津市知识产权局"


@pytest.fixture(scope="module")
def server(built_dir: Path):
    with start_server(built_dir, workers=1) as running:
        yield running


@pytest.fixture()
def page(browser, server):
    errors: list[str] = []
    page = browser.new_page()  # a fresh page per test on the module's browser (conftest)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/")
    page.wait_for_function("() => window.ipgraphYasgui && window.ipgraphYasgui.getTab()", timeout=60_000)
    yield page
    page.close()
    assert errors == []


CURRENT = "window.ipgraphYasgui.getTab().getYasr().rootEl"  # the results of the open tab


def wait_for_rows(page) -> None:
    page.wait_for_function(f"() => !!{CURRENT}.querySelector('table tbody tr td')", timeout=60_000)


def run(page, sparql: str) -> None:
    page.evaluate("q => { const y = window.ipgraphYasgui.getTab().getYasqe(); y.setValue(q); y.query(); }", sparql)
    wait_for_rows(page)


def test_results_are_simple_with_labels_first_and_local_links(page, server) -> None:
    run(page, "SELECT ?m (STRLEN(?label) AS ?n) ?label WHERE { ?m a ipg:Measure ; rdfs:label ?label } "
              "ORDER BY ?m LIMIT 3")
    headers = page.eval_on_selector_all(".yasr table thead th", "ths => ths.map(t => t.textContent.trim())")
    assert [h for h in headers if h] == ["n", "label", "m"]  # the literal columns first, in their order
    text = page.inner_text(".yasr table tbody")
    assert "^^" not in text and "<http" not in text  # simple view: "16", not "16"^^<…#integer>
    numbers = page.eval_on_selector_all(".yasr table tbody tr td:nth-child(2)", "tds => tds.map(t => t.innerText)")
    assert numbers and all(n.strip().isdigit() for n in numbers)
    hrefs = page.eval_on_selector_all(".yasr table tbody a.iri", "as => as.map(a => a.getAttribute('href'))")
    assert hrefs and all(h.startswith("/id/") for h in hrefs)
    assert httpx.get(server.url + hrefs[0], headers={"Accept": "text/html"}, timeout=30).status_code == 200
    run(page, "SELECT (COUNT(*) AS ?count) WHERE { ?m a ipg:Measure }")
    # the previous table is still drawn until the new answer replaces it
    page.wait_for_function(f"() => {CURRENT}.querySelector('table thead').textContent.includes('count')",
                           timeout=60_000)
    cell = page.inner_text(".yasr table tbody td.ipg-label")
    assert cell.strip().isdigit()


def test_a_named_query_takes_its_parameter_from_the_form(page) -> None:
    page.evaluate("""() => { const y = window.ipgraphYasgui;
        const id = Object.keys(y._tabs).find(k => y._tabs[k].getName() === 'leads'); y.selectTabId(id); }""")
    page.wait_for_selector("#params:not([hidden]) input[name=agency]")
    page.fill("#params input[name=agency]", TJ)
    page.click("#params button")
    page.wait_for_function("() => window.ipgraphYasgui.getTab().getYasqe().getValue().includes('VALUES ?agency')")
    wait_for_rows(page)
    assert TJ in page.evaluate(f"() => {CURRENT}.innerText")
    page.fill("#params input[name=agency]", "没有这个机关")
    page.click("#params button")
    page.wait_for_function("() => document.getElementById('params-note').textContent.length > 0")
    assert "没有这个机关" in page.inner_text("#params-note")


def test_the_search_box_lists_ranked_measures(page, server) -> None:
    page.fill("#search input[name=q]", "质押融资")
    page.click("#search button")
    page.wait_for_selector("#search-hits li a", timeout=60_000)
    hrefs = page.eval_on_selector_all("#search-hits li a", "as => as.map(a => a.getAttribute('href'))")
    assert hrefs and all(h.startswith("/id/") for h in hrefs)
    assert "质押" in page.inner_text("#search-hits")
    assert httpx.get(server.url + hrefs[0], headers={"Accept": "text/html"}, timeout=30).status_code == 200


def test_a_search_refused_in_plain_text_is_shown_not_thrown(page) -> None:
    # the server answers some refusals (the time limit, a busy pool) as text/plain, not JSON
    message = "the query ran longer than the time limit of this endpoint"
    page.route("**/search?*", lambda route: route.fulfill(status=503, body=message, content_type="text/plain"))
    page.fill("#search input[name=q]", "质押融资")
    page.click("#search button")
    page.wait_for_function("m => document.getElementById('search-hits').textContent === m", arg=message,
                           timeout=30_000)
