"""`ipgraph serve` serves the build's graph page at /graph (issue 13): the page of a big build asks
/search for measure texts, which works only from the page's own origin. The page gets the HTML
routes' security headers (CSP with its inline scripts' hashes, nosniff, no framing) and no CORS."""
from __future__ import annotations

import base64
import hashlib
import re
import shutil
from pathlib import Path

import pytest

from ipgraph.serve import App, InlineExecutor, ServeLimits


@pytest.fixture(scope="module")
def app(built_dir: Path) -> App:
    return App(InlineExecutor(built_dir), ServeLimits())


def test_graph_is_the_builds_page_with_the_html_security_headers(app: App, built_dir: Path) -> None:
    page = (built_dir / "graph.html").read_bytes()
    for path in ("/graph", "/graph.html"):
        reply = app.handle("GET", path)
        assert reply.status == 200 and reply.content_type.startswith("text/html")
        assert reply.body == page
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["X-Frame-Options"] == "DENY"
        assert "Access-Control-Allow-Origin" not in reply.headers  # an HTML route, not a data route
        csp = reply.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp and "default-src 'none'" in csp
        # every executable inline script of the page is allowed by its hash, and nothing else is
        scripts = re.findall(r"<script>(.*?)</script>", page.decode("utf-8"), flags=re.DOTALL)
        hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode() + "'"
                  for s in scripts}
        script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src")).split()[1:]
        assert hashes and set(script_src) == hashes
    head = app.handle("HEAD", "/graph")
    assert head.status == 200 and head.body == b"" and head.headers["Content-Length"] == str(len(page))


def test_a_new_page_is_served_after_a_rebuild(built_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "build"
    shutil.copytree(built_dir, folder, symlinks=False)
    app = App(InlineExecutor(folder), ServeLimits())
    first = app.handle("GET", "/graph").body
    page = folder / "graph.html"
    page.write_text(page.read_text(encoding="utf-8").replace("<title>", "<title>new "), encoding="utf-8")
    second = app.handle("GET", "/graph").body
    assert second != first and second == page.read_bytes()


def test_a_build_without_a_page_is_a_clear_404(built_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "build"
    shutil.copytree(built_dir, folder, symlinks=False)
    (folder / "graph.html").unlink()
    reply = App(InlineExecutor(folder), ServeLimits()).handle("GET", "/graph")
    assert reply.status == 404 and b"graph.html" in reply.body and b"Traceback" not in reply.body
    assert reply.body.count(b"\n") == 1
