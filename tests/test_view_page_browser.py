"""The page's first view and its panel in headless Chromium (issue 11, item 7): the overview with
readable, non-overlapping labels, edge counts that follow the filters, the selected node picked out,
and the side panel's wording. Skipped without /usr/bin/chromium, like tests/test_view_browser.py."""
from __future__ import annotations

from pathlib import Path

import pytest
from test_view_browser import Session

from ipgraph.view import render_page

pytestmark = [pytest.mark.browser]  # Chromium: the `browser` fixture (conftest) skips without it
TJ = "天津市知识产权局"
OVERLAPS = """() => {
  const boxes = ipgraph.visibleIds().map(id => network.getBoundingBox(id));
  let n = 0;
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) n++;
  }
  return n;
}"""
# the smallest label on screen, in CSS pixels, at the page's zoom
SMALLEST_LABEL_PX = """() => Math.min(...ipgraph.visibleIds().map(id => network.body.nodes[id].options.font.size))
  * network.getScale()"""


@pytest.fixture(scope="module")
def page_path(tmp_path_factory, corpus_graph) -> Path:
    return render_page(corpus_graph, tmp_path_factory.mktemp("page") / "graph.html").path


@pytest.fixture()
def page(browser, page_path):
    session = Session(browser, page_path)
    yield session
    session.close()


def test_the_page_opens_on_agencies_and_documents_labelled_without_overlaps(page) -> None:
    assert page.eval("ipgraph.state.mode") == "overview"
    shown = page.eval("ipgraph.visibleIds().map(id => allNodes[id].ipg.cls)")
    assert set(shown) == {"document", "agency"}
    assert page.eval(OVERLAPS) == 0
    assert page.eval(SMALLEST_LABEL_PX) >= 8  # every label drawn (vis-network skips those under 5 px)
    # the agency that leads most is the biggest agency on the canvas
    sizes = page.eval("ipgraph.visibleIds().filter(id => allNodes[id].ipg.cls === 'agency')"
                      ".map(id => [allNodes[id].ipg.leads, network.body.nodes[id].options.size])")
    assert max(sizes)[1] == max(size for _, size in sizes) > min(size for _, size in sizes)
    assert "总览 overview" in page.page.text_content("#counts")
    # programmes join the overview with a tick, still without overlaps
    page.page.check('#legend input[data-class="programme"]')
    page.eval("network.fit({animation: false})")  # vis-network measures a label when it draws it on screen
    page.page.wait_for_timeout(300)
    assert "programme" in set(page.eval("ipgraph.visibleIds().map(id => allNodes[id].ipg.cls)"))
    assert page.eval(OVERLAPS) == 0
    assert page.errors == []


def test_a_focus_page_draws_readable_labels(browser, corpus_graph, tmp_path) -> None:
    info = render_page(corpus_graph, tmp_path / "tj.html", focus=TJ, depth=2)
    session = Session(browser, info.path)
    try:
        assert session.eval("ipgraph.state.mode") == "detail"
        assert session.page.locator("#mode").is_hidden()
        assert session.eval(OVERLAPS) == 0
        assert session.eval(SMALLEST_LABEL_PX) >= 8
    finally:
        session.close()


def test_the_edge_count_follows_what_is_shown(page) -> None:
    def shown_edges() -> int:
        return page.eval("ipgraph.visibleEdgeIds().length")

    total = page.eval("edges.get().filter(e => !e.ipg.ov).length")
    counts = page.page.text_content("#counts")
    assert f"边 edges {shown_edges()} / {total}" in counts
    page.page.click("#mode")
    assert shown_edges() == total and f"边 edges {total}" in page.page.text_content("#counts")
    doc = page.eval("edges.get().find(e => e.ipg.rel === 'lead').to")
    doc = page.eval("id => allNodes[id].ipg.docs[0]", doc)
    page.page.select_option("#doc-filter", doc)
    assert 0 < shown_edges() < total
    assert f"边 edges {shown_edges()} / {total}" in page.page.text_content("#counts")


def test_the_selected_node_and_its_edges_stand_out(page) -> None:
    tj = page.eval("q => ipgraph.search(q, 1)[0]", TJ)
    page.click_node(tj)
    assert page.eval("network.getSelectedNodes()") == [tj]
    incident = set(page.eval("id => ipgraph.visibleEdgeIds().filter(e => allEdges[e].from === id || allEdges[e].to === id)", tj))
    assert incident and set(page.eval("network.getSelectedEdges()")) >= incident
    assert page.eval("id => network.body.nodes[id].options.borderWidthSelected", tj) >= 4
    # a selected edge is drawn at least twice as wide (vis-network calls selectionWidth with the width)
    widths = page.eval("ids => ids.map(e => { const o = network.body.edges[e].options;"
                       " return [o.width, o.selectionWidth(o.width)]; })", sorted(incident))
    assert all(selected >= 2 * width for width, selected in widths)


def test_the_measure_panel_names_its_document_and_says_each_sentence_once(page) -> None:
    # the measure with the most agencies named in one sentence
    measure = page.eval("""() => {
      const by = new Map();
      edges.get().filter(e => !e.ipg.ov && (e.ipg.rel === 'lead' || e.ipg.rel === 'responsible'))
        .forEach(e => by.set(e.to, (by.get(e.to) || []).concat(e.ipg.evidence)));
      let best = null, most = 0;
      by.forEach((sentences, id) => { const dup = sentences.length - new Set(sentences).size;
        if (dup > most) { most = dup; best = id; } });
      return best;
    }""")
    assert measure, "the corpus has a sentence naming several agencies of one measure"
    page.eval("id => ipgraph.focusNode(id)", measure)
    sentences = page.eval("[...document.querySelectorAll('#panel .evidence')].map(e => e.textContent)")
    assert sentences and len(sentences) == len(set(sentences))
    document = page.eval("id => allNodes[allNodes[id].ipg.docs[0]].ipg.name", measure)
    fields = page.eval("[...document.querySelectorAll('#panel dt')].map(e => e.textContent + '=' + e.nextSibling.textContent)")
    assert f"文件 document={document}" in fields
    # a measure with targets heads them as its targets
    with_target = page.eval("edges.get().find(e => e.ipg.rel === 'hasTarget' && allNodes[e.from].ipg.cls === 'measure').from")
    page.eval("id => ipgraph.focusNode(id)", with_target)
    assert page.page.text_content('#panel h3:has(+ ul[data-rel="hasTarget:out"])').startswith("设定的目标 targets")
    assert page.errors == []


def test_hard_wrapped_evidence_is_shown_joined_with_the_verbatim_sentence_on_hover(page) -> None:
    edge = page.eval("edges.get().find(e => !e.ipg.ov && e.ipg.verbatim && e.ipg.verbatim[0].includes('\\n'))")
    assert edge, "the corpus has a hard-wrapped evidence sentence"
    page.eval("id => ipgraph.showEdge(id)", edge["id"])
    line = page.page.locator("#panel .evidence").first
    assert line.text_content() == edge["ipg"]["evidence"][0] and "\n" not in line.text_content()
    assert line.get_attribute("title") == "原文 verbatim: " + edge["ipg"]["verbatim"][0]
