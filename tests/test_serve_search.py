"""`/search?q=` (issue 13) over real HTTP: ranked measures as JSON, answered by the query workers
(jieba and the index load there, never in the HTTP process), and the query page's search box."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from ipgraph.search import search_response
from ipgraph.serve import start_server

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def server(built_dir: Path):
    with start_server(built_dir, workers=1) as running:
        yield running


def test_search_answers_ranked_measures(server, built_dir: Path) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        r = client.get("/search", params={"q": "质押融资", "limit": "5"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json"), r.text
    data = r.json()
    assert data["query"] == "质押融资"
    hits = data["hits"]
    assert 1 <= len(hits) <= 5
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert all(h["measure"].startswith("https://w3id.org/ipgraph/id/") for h in hits)
    # The same answer as the library gives (the server adds nothing and drops nothing).
    status, body = search_response(built_dir, {"q": "质押融资", "limit": "5"})
    assert status == 200 and json.loads(body) == data


def test_search_errors_are_json(server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        r = client.get("/search")
        assert r.status_code == 400 and "error" in r.json()
        r = client.get("/search", params={"q": "专利", "limit": "many"})
        assert r.status_code == 400 and "limit" in r.json()["error"]
        assert client.post("/search", data={"q": "专利"}).status_code == 405


def test_jieba_loads_in_the_workers_only(built_dir: Path) -> None:
    script = (
        "import sys, httpx\n"
        "from ipgraph.serve import start_server\n"
        f"with start_server({str(built_dir)!r}, workers=1) as s:\n"
        f"    r = httpx.get(s.url + '/search?q={quote('专利')}', timeout=60)\n"
        "    print(r.status_code, 'jieba' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.split() == ["200", "False"], out.stderr[-2000:]


def test_the_query_page_has_a_search_box(server) -> None:
    page = httpx.get(server.url + "/", timeout=30).text
    assert 'id="search"' in page and "/search?" in page
