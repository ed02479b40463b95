"""The served graph page of a big build searches measure texts through /search (issue 13), in
headless Chromium: a build whose page carries no inlined index (the threshold set low here, as a
build over MAX_MEASURES measures has it) opened at `ipgraph serve`'s /graph lists the measures
/search ranks, under the page's own CSP, and a result opens the measure.
Skipped without /usr/bin/chromium, like the other browser tests."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from conftest import CORPUS

from ipgraph.serve import start_server
from ipgraph.view import VIEWPORT

pytestmark = [pytest.mark.browser]  # Chromium: the `browser` fixture (conftest) skips without it
QUERY = "质押融资"


@pytest.fixture(scope="module")
def big_build(tmp_path_factory) -> Path:
    """The corpus built with the page's inline-index threshold below its 184 measures."""
    import ipgraph.search.stage as stage
    from ipgraph.pipeline import build_graph, write_outputs

    out = tmp_path_factory.mktemp("big") / "build"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stage, "MAX_MEASURES", 10)
        write_outputs(build_graph([CORPUS]), out)
    return out


@pytest.fixture(scope="module")
def server(big_build: Path):
    with start_server(big_build, workers=1) as running:
        yield running


def test_the_served_page_asks_search_on_its_own_origin(browser, server, big_build: Path) -> None:
    html = (big_build / "graph.html").read_text(encoding="utf-8")
    start = html.index('id="ipgraph-search">') + len('id="ipgraph-search">')
    data = json.loads(html[start:html.index("</script>", start)])
    assert data["index"] is None and data["endpoint"] == "/search"  # the endpoint mode
    expected = [h["measure"] for h in httpx.get(server.url + "/search", params={"q": QUERY, "limit": 10},
                                                timeout=120).json()["hits"]]
    assert expected
    errors: list[str] = []
    asked: list[str] = []
    page = browser.new_page(viewport=VIEWPORT)
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda request: asked.append(request.url))
    reply = page.goto(server.url + "/graph")
    assert reply is not None and reply.status == 200
    assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]
    page.wait_for_function("window.ipgraphReady === true", timeout=60_000)
    page.fill("#search", QUERY)
    page.wait_for_selector("#search-results button[data-measure]", timeout=60_000)
    shown = page.eval_on_selector_all("#search-results button[data-measure]",
                                      "bs => bs.map(b => b.getAttribute('data-measure'))")
    assert shown == expected  # the server's ranking, listed in its order
    page.locator("#search-results button[data-measure]").first.click()
    assert page.locator("#panel").get_attribute("data-node") == expected[0]
    page.close()
    assert any(u.startswith(server.url + "/search?") for u in asked)
    assert all(u.startswith(server.url) or u.startswith("data:") for u in asked)  # nothing leaves the origin
    assert errors == []  # no script error, no CSP violation
