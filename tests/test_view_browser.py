"""The graph page in a real headless Chromium (Debian `chromium`, driven by Playwright).

scripts/test.sh installs Chromium and the CJK font; without /usr/bin/chromium these tests are skipped.
Every page is opened from disk with all network requests refused, as on an offline machine.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import URIRef
from rdflib.namespace import RDF
from test_view import HOSTILE_TEXT, HOSTILE_TITLE, TJ, drawn_subjects, write_hostile

from ipgraph.graph import agency_iri
from ipgraph.pipeline import build_graph
from ipgraph.view import VIEWPORT, display_text, render_page
from ipgraph.vocab import IPG

pytestmark = [pytest.mark.browser]  # Chromium: the `browser` fixture (conftest) skips without it


class Session:
    """One page with everything the page reports: console errors, script errors, dialogs, requests."""

    def __init__(self, browser, path: Path) -> None:
        self.page = browser.new_page(viewport=VIEWPORT)
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", self._route)
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("window.ipgraphReady === true", timeout=60_000)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route) -> None:
        self.requests.append(route.request.url)
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            route.abort()  # offline: nothing but the file itself

    def eval(self, script: str, arg=None):
        return self.page.evaluate(script, arg)

    def click_node(self, node_id: str) -> None:
        """Click the node where it is drawn on the canvas, as a user does."""
        self.eval("id => network.focus(id, {scale: 1.5, animation: false})", node_id)
        self.page.wait_for_timeout(100)
        pos = self.eval("id => network.canvasToDOM(network.getPosition(id))", node_id)
        box = self.page.locator("#mynetwork").bounding_box()
        self.page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])

    def hover_node(self, node_id: str) -> str:
        """Hover the node and return the tooltip's text once it shows."""
        self.eval("id => network.focus(id, {scale: 1.5, animation: false})", node_id)
        pos = self.eval("id => network.canvasToDOM(network.getPosition(id))", node_id)
        box = self.page.locator("#mynetwork").bounding_box()
        self.page.mouse.move(box["x"] + pos["x"] - 3, box["y"] + pos["y"] - 3)
        self.page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
        tip = self.page.locator(".vis-tooltip")
        self.page.wait_for_function("document.querySelector('.vis-tooltip')?.style.visibility === 'visible'")
        return tip.text_content()

    def close(self) -> None:
        self.page.close()


@pytest.fixture(scope="module")
def corpus_page(tmp_path_factory, corpus_graph) -> Path:
    return render_page(corpus_graph, tmp_path_factory.mktemp("page") / "graph.html").path


@pytest.fixture()
def corpus(browser, corpus_page):
    session = Session(browser, corpus_page)
    yield session
    session.close()


def test_corpus_page_loads_offline_without_errors_and_draws_every_node(corpus, corpus_graph) -> None:
    assert corpus.errors == []
    assert all(url.startswith("file:") for url in corpus.requests), corpus.requests
    assert corpus.eval("network.body.data.nodes.length") == len(drawn_subjects(corpus_graph))
    assert corpus.eval("nodes.length") == len(drawn_subjects(corpus_graph))  # pyvis's global too
    assert corpus.eval("Object.keys(network.body.nodes).length") == len(drawn_subjects(corpus_graph))
    assert "节点 nodes" in corpus.page.text_content("#counts")


def test_search_finds_the_agency_and_one_more_click_shows_a_measure_it_leads(corpus, corpus_graph) -> None:
    corpus.page.fill("#search", TJ)
    first = corpus.page.locator("#search-results li").first
    assert TJ in first.text_content()
    first.locator("button").click()  # click 1: the agency and the measures it leads
    assert corpus.page.text_content("#panel h2") == TJ
    leads = corpus.page.locator('#panel ul[data-rel="lead:out"] li > button')
    assert leads.count() >= 1
    agency = agency_iri("天津市知识产权局")
    assert (agency, RDF.type, IPG.Agency) in corpus_graph
    assert leads.count() == len(set(corpus_graph.subjects(IPG.leadAgency, agency)))
    measure_id = leads.first.get_attribute("data-node")
    leads.first.click()  # click 2: that measure's full text
    assert corpus.page.text_content("#panel .fulltext") == display_text(str(corpus_graph.value(URIRef(measure_id),
                                                                                                 IPG.text)))
    assert corpus.eval("network.getSelectedNodes()") == [measure_id]
    assert corpus.eval("ipgraph.state.mode") == "detail"  # the measure was hidden in the overview: now shown
    assert corpus.errors == []


def test_clicking_a_measure_on_the_canvas_shows_its_text(corpus, corpus_graph) -> None:
    measure = sorted(corpus_graph.subjects(RDF.type, IPG.Measure))[7]
    corpus.page.click("#mode")  # the page opens on the overview: measures are one click away
    corpus.click_node(str(measure))
    corpus.page.wait_for_selector("#panel .fulltext")
    assert corpus.page.text_content("#panel .fulltext") == display_text(str(corpus_graph.value(measure, IPG.text)))


def test_clicking_a_lead_edge_shows_its_source_sentence(corpus, corpus_graph) -> None:
    edge = corpus.eval("edges.get().find(e => e.ipg.rel === 'lead').id")
    corpus.eval("id => ipgraph.showEdge(id)", edge)
    sentence = corpus.page.locator("#panel .evidence").first.text_content()
    statements = {str(s) for s in corpus_graph.objects(None, IPG.evidence)}
    assert sentence in statements


def test_filters_ego_view_and_reset(corpus, corpus_graph) -> None:
    total = len(drawn_subjects(corpus_graph))
    measures = len(set(corpus_graph.subjects(RDF.type, IPG.Measure)))
    corpus.page.click("#mode")  # from the overview to every node
    assert len(corpus.eval("ipgraph.visibleIds()")) == total
    corpus.page.uncheck('#legend input[data-class="measure"]')
    assert len(corpus.eval("ipgraph.visibleIds()")) == total - measures
    doc = sorted(corpus_graph.subjects(RDF.type, IPG.PolicyDocument))[0]
    corpus.page.select_option("#doc-filter", str(doc))
    shown = corpus.eval("ipgraph.visibleIds()")
    assert str(doc) in shown and len(shown) < total - measures
    corpus.page.click("#reset")
    assert corpus.eval("ipgraph.state.mode") == "overview"
    corpus.page.click("#mode")
    assert len(corpus.eval("ipgraph.visibleIds()")) == total
    tj = corpus.eval("q => ipgraph.search(q, 1)[0]", TJ)
    corpus.eval("id => ipgraph.setEgo(id, 1)", tj)
    ego = set(corpus.eval("ipgraph.visibleIds()"))
    neighbours = set(corpus.eval("id => edges.get().filter(e => !e.ipg.ov && (e.from === id || e.to === id))"
                                 ".map(e => e.from === id ? e.to : e.from)", tj))  # the detailed view's edges
    assert ego == neighbours | {tj}
    corpus.page.check("#ego-on-click")
    corpus.page.click("#reset")
    assert corpus.eval("ipgraph.state.mode") == "overview" and corpus.eval("ipgraph.state.ego") is None
    corpus.page.click("#physics")
    assert corpus.eval("network.physics.physicsEnabled") is True
    corpus.page.click("#physics")
    assert corpus.eval("network.physics.physicsEnabled") is False
    assert corpus.errors == []


def test_hostile_document_renders_as_text(browser, tmp_path) -> None:
    graph = build_graph([write_hostile(tmp_path)]).graph
    page_path = render_page(graph, tmp_path / "hostile.html").path
    session = Session(browser, page_path)
    try:
        doc = next(iter(graph.subjects(RDF.type, IPG.PolicyDocument)))
        measure = next(s for s in graph.subjects(RDF.type, IPG.Measure) if "alert" in str(graph.value(s, IPG.text)))
        # the tooltip (vis-network's popup) shows the title as text
        assert HOSTILE_TITLE in session.hover_node(str(doc))
        # made of the page's own elements only: div.tip > b (name) + span (class)
        assert session.eval("[...document.querySelectorAll('.vis-tooltip *')].map(e => e.tagName)") == [
            "DIV", "B", "SPAN"]
        # the side panel too, for the document and for the measure
        session.page.fill("#search", "工作方案")
        session.page.locator("#search-results li button").first.click()
        assert session.page.text_content("#panel h2") == HOSTILE_TITLE
        session.page.click("#mode")
        session.click_node(str(measure))
        session.page.wait_for_selector("#panel .fulltext")
        assert session.page.text_content("#panel .fulltext") == HOSTILE_TEXT
        # nothing ran and no element was made from the text
        assert session.dialogs == [] and session.errors == []
        assert session.eval("document.querySelectorAll('script').length") == 6
        assert session.eval("document.querySelectorAll('#panel script, #panel div > div').length") == 0
        assert session.eval("document.title") == "ipgraph 知识产权政策图谱"
    finally:
        session.close()


def test_aggregated_page_says_so(browser, corpus_graph, tmp_path) -> None:
    info = render_page(corpus_graph, tmp_path / "agg.html", node_budget=60)
    session = Session(browser, info.path)
    try:
        assert info.aggregated and session.eval("nodes.length") == 60
        assert "Aggregated view" in session.page.text_content("#note")
        assert "聚合" in session.page.text_content("#counts")
        assert session.errors == []
    finally:
        session.close()
