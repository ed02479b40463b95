"""The query page shows IRIs as `ipgraph query` prints them (issue 11 item 1): agency:天津市知识产权局,
an IRI of ours that cannot be a prefixed name whole. In headless Chromium; skipped without it."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest

from ipgraph.iri import DATA, agency_iri, compact_iri
from ipgraph.query import default_prefixes
from ipgraph.serve import start_server

pytestmark = [pytest.mark.browser]  # Chromium: the `browser` fixture (conftest) skips without it
TJ = "天津市知识产权局"
CURRENT = "window.ipgraphYasgui.getTab().getYasr().rootEl"


@pytest.fixture(scope="module")
def page(browser, built_dir: Path):
    errors: list[str] = []
    with start_server(built_dir, workers=1) as server:
        page = browser.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url + "/")
        page.wait_for_function("() => window.ipgraphYasgui && window.ipgraphYasgui.getTab()", timeout=60_000)
        yield page
    assert errors == []


def test_the_page_prefixes_every_corpus_iri_as_the_cli_does(page, built_dir: Path) -> None:
    nt = (built_dir / "ipgraph.nt").read_bytes()
    iris = sorted({t.value for triple in pyoxigraph.parse(nt, format=pyoxigraph.RdfFormat.N_TRIPLES)
                   for t in (triple.subject, triple.object) if isinstance(t, pyoxigraph.NamedNode)})
    shown = page.evaluate("iris => iris.map(i => { const p = window.ipgraphPrefixed(i);"
                          " return p ? p[0] + ':' + i.slice(p[1].length) : '<' + i + '>'; })", iris)
    assert shown == [compact_iri(i, default_prefixes()) for i in iris]
    assert sum(s.startswith(("agency:", "programme:")) for s in shown) > 100


def test_the_table_shows_agency_prefixed_and_measures_whole(page) -> None:
    query = (f"SELECT ?a ?m WHERE {{ ?a a ipg:Agency ; rdfs:label '{TJ}'@zh . ?m ipg:leadAgency ?a }} "
             "ORDER BY ?m LIMIT 1")
    page.evaluate("q => { const y = window.ipgraphYasgui.getTab().getYasqe(); y.setValue(q); y.query(); }", query)
    page.wait_for_function(f"() => !!{CURRENT}.querySelector('table tbody tr td a.iri')", timeout=60_000)
    links = page.eval_on_selector_all(".yasr table tbody a.iri", "as => as.map(a => [a.textContent, a.href])")
    texts = [text.strip() for text, _ in links]
    assert f"agency:{TJ}" in texts
    assert any(t.startswith(DATA + "document/") and "/measure/" in t for t in texts)  # whole, not id:document/…
    assert agency_iri(TJ) not in texts
