"""Pages made by `ipgraph view` carry the measure search and the echoes of the build's own page
(issue 13): the inline index of the build's search index, the measures and the echoes; a build
without a search index gets the endpoint mode and one note line."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from ipgraph.cli import main
from ipgraph.search import load_index
from ipgraph.search.page import page_index

TJ = "天津市知识产权局"


def search_data(page: Path) -> dict | None:
    text = page.read_text(encoding="utf-8")
    key = '<script type="application/json" id="ipgraph-search">'
    if key not in text:
        return None
    start = text.index(key) + len(key)
    return json.loads(text[start:text.index("</script>", start)])


def test_a_view_page_searches_like_the_build_page(built_dir: Path, tmp_path: Path) -> None:
    build_page = search_data(built_dir / "graph.html")
    assert build_page is not None and build_page["index"] is not None
    for args in (["--focus", TJ, "--depth", "2"], ["--type", "measure,agency"]):
        out = tmp_path / "view.html"
        result = CliRunner().invoke(main, ["view", *args, "-o", str(out), "--graph", str(built_dir)])
        assert result.exit_code == 0, result.output
        data = search_data(out)
        assert data == build_page  # the inline index, the measures and the echoes
    index = load_index(built_dir / "search")
    assert data["index"] == json.loads(json.dumps(page_index(index), ensure_ascii=False))
    assert sum(len(v) for v in data["echoes"].values()) >= 40


def test_a_build_without_a_search_index_gets_the_endpoint_mode(built_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "build"
    shutil.copytree(built_dir, folder, symlinks=False)
    shutil.rmtree(folder / "search")
    out = tmp_path / "view.html"
    result = CliRunner().invoke(main, ["view", "--focus", TJ, "-o", str(out), "--graph", str(folder)])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and str(folder / "search") in notes[0] and "/search" in notes[0]
    assert "Traceback" not in result.output
    data, build_page = search_data(out), search_data(built_dir / "graph.html")
    assert data is not None and build_page is not None
    assert data["index"] is None and data["endpoint"] == "/search"
    assert data["measures"] == build_page["measures"] and data["echoes"] == build_page["echoes"]
    assert not (folder / "search").exists()  # nothing was indexed (no jieba) by drawing a page
