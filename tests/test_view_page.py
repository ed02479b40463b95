"""The page's first view and panel, without a browser (issue 11, items 7 and 10): the overview,
label boxes that never overlap, the joined display form of hard-wrapped text, a measure's document,
the target headings, and a page made without pyvis (tests/test_view_page_browser.py opens the pages)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from configparser import ConfigParser
from pathlib import Path

import pytest

from ipgraph.view import (
    CLASS_STYLES,
    RELATION_STYLES,
    Box,
    display_text,
    label_box,
    layout,
    node_look,
    overview_layout,
    overview_view,
    page_html,
    read_view,
    render_page,
    select_view,
)

REPO = Path(__file__).resolve().parent.parent
TJ = "天津市知识产权局"


@pytest.fixture(scope="module")
def view(corpus_graph):
    return read_view(corpus_graph)


def page_data(html: str, name: str):
    match = re.search(rf'<script type="application/json" id="ipgraph-{name}">(.*?)</script>', html, re.S)
    assert match, name
    return json.loads(match.group(1))


def overlapping(view, positions) -> list[tuple[str, str]]:
    """Pairs of nodes whose label boxes (as label_box estimates them) overlap at these positions."""
    leads: dict[str, int] = {}
    for e in view.edges:
        if e.relation == "lead":
            leads[e.source] = leads.get(e.source, 0) + (e.count or 1)
    boxes: list[tuple[str, Box]] = []
    for node_id, (x, y) in positions.items():
        left, top, right, bottom = label_box(view.nodes[node_id], leads.get(node_id, 0))
        boxes.append((node_id, (x + left, y + top, x + right, y + bottom)))
    boxes.sort(key=lambda item: item[1][0])
    pairs = []
    for i, (a, ba) in enumerate(boxes):  # sweep on x: only boxes starting before this one ends
        for b, bb in boxes[i + 1:]:
            if bb[0] >= ba[2]:
                break
            if ba[1] < bb[3] and bb[1] < ba[3]:
                pairs.append((a, b))
    return pairs


# ---- the overview: which agency leads what, at a glance

def test_overview_keeps_documents_agencies_programmes_directives_and_counts_every_lead(view) -> None:
    ov = overview_view(view)
    assert {n.cls for n in ov.nodes.values()} == {"document", "agency", "programme", "directive"}
    assert sum(e.count for e in ov.edges if e.relation == "lead") == sum(1 for e in view.edges if e.relation == "lead")
    tj = next(n for n in ov.nodes.values() if n.label == TJ)
    led = {e.target for e in view.edges if e.relation == "lead" and e.source == tj.id}
    assert sum(e.count for e in ov.edges if e.relation == "lead" and e.source == tj.id) == len(led) > 0


def test_agencies_grow_with_what_they_lead(view) -> None:
    agency = next(n for n in view.nodes.values() if n.cls == "agency")
    sizes = [node_look(agency, leads)[1] for leads in (0, 1, 4, 16)]
    fonts = [node_look(agency, leads)[2] for leads in (0, 1, 4, 16)]
    assert sizes == sorted(sizes) and len(set(sizes)) == 4 and fonts == sorted(fonts)
    assert node_look(agency, 6)[0].endswith("\n牵头 6")
    html = page_html(view)
    nodes = {n["ipg"]["name"]: n for n in page_data(html, "nodes")}
    top = max((n for n in nodes.values() if n["ipg"]["cls"] == "agency"), key=lambda n: n["ipg"]["leads"])
    assert top["size"] > CLASS_STYLES["agency"].size and nodes[TJ]["ipg"]["leads"] == 6


def test_overview_labels_never_overlap(view) -> None:
    ov = overview_view(view)
    positions = overview_layout(ov)
    assert set(positions) == set(ov.nodes)
    assert overlapping(ov, positions) == []
    core = {k: v for k, v in positions.items() if ov.nodes[k].cls in ("document", "agency")}
    assert overlapping(ov, core) == []


@pytest.mark.parametrize("part", [{}, {"focus": TJ, "depth": 2}, {"types": "agency,programme"}])
def test_detailed_and_focused_labels_never_overlap(view, part) -> None:
    chosen = select_view(view, **part)
    assert overlapping(chosen, layout(chosen)) == []


def test_whole_page_opens_on_the_overview_and_a_part_on_itself(corpus_graph, tmp_path) -> None:
    whole = page_data(render_page(corpus_graph, tmp_path / "a.html").path.read_text(encoding="utf-8"), "meta")
    assert whole["overview"]["first"] is True and whole["overview"]["start"] == ["document", "agency"]
    html = (tmp_path / "a.html").read_text(encoding="utf-8")
    edges = page_data(html, "edges")
    overview_edges = [e for e in edges if e["ipg"].get("ov")]
    assert overview_edges and all(e["ipg"]["count"] >= 1 for e in overview_edges)
    assert len({e["id"] for e in edges}) == len(edges)
    assert all("ov" in n["ipg"] for n in page_data(html, "nodes") if n["ipg"]["cls"] in whole["overview"]["classes"])
    part = render_page(corpus_graph, tmp_path / "b.html", focus=TJ, depth=2).path.read_text(encoding="utf-8")
    assert page_data(part, "meta")["overview"] is None
    assert not any(e["ipg"].get("ov") for e in page_data(part, "edges"))


# ---- the panel

def test_display_text_joins_hard_wrapped_chinese_only() -> None:
    assert display_text("市\n版权局牵头") == "市版权局牵头"
    assert display_text("市 版权局牵头") == "市版权局牵头"
    assert display_text("培育10家\n左右具有国际竞争优势的企业,100家") == "培育10家左右具有国际竞争优势的企业,100家"
    assert display_text("(市科委、市经\n济和信息化委负责)") == "(市科委、市经济和信息化委负责)"
    # a space next to Latin letters stays; digits bind to the Chinese that follows
    assert display_text("贯彻 ISO 9001 标准") == "贯彻 ISO 9001标准"


def test_page_shows_joined_evidence_and_keeps_the_verbatim_sentence(view, corpus_graph) -> None:
    edges = page_data(page_html(view), "edges")
    wrapped = [e for e in edges if "verbatim" in e["ipg"]]
    assert wrapped, "the corpus has hard-wrapped evidence"
    assert all(any("\n" in v or " " in v for v in e["ipg"]["verbatim"]) for e in wrapped)
    assert all(e["ipg"]["evidence"] == [display_text(v) for v in e["ipg"]["evidence"]]
               for e in edges if "verbatim" not in e["ipg"])  # nothing to join: no copy
    for e in wrapped:
        assert e["ipg"]["evidence"] == [display_text(v) for v in e["ipg"]["verbatim"]]
        assert not any(re.search(r"[\u4e00-\u9fff]\s+[\u4e00-\u9fff]", s) for s in e["ipg"]["evidence"])
    from ipgraph.vocab import IPG
    sentences = {str(o) for o in corpus_graph.objects(None, IPG.evidence)}
    assert all(v in sentences for e in wrapped for v in e["ipg"]["verbatim"])  # verbatim = the graph's


def test_a_measure_panel_names_its_document(view) -> None:
    measures = [n for n in view.nodes.values() if n.cls == "measure"]
    assert measures
    for m in measures:
        info = dict(m.info)
        assert info["文件 document"] == view.nodes[m.documents[0]].label


def test_a_measure_lists_its_targets_under_targets_not_set_by() -> None:
    style = RELATION_STYLES["hasTarget"]
    assert (style.out_zh, style.out_en) == ("设定的目标", "targets")
    assert (style.in_zh, style.in_en) == ("所属", "set by")


# ---- no pyvis (item 10)

def test_the_page_is_made_without_pyvis_or_ipython(tmp_path) -> None:
    script = ("import sys\nfrom ipgraph.pipeline import build_graph\nfrom ipgraph.view import render_page\n"
              f"render_page(build_graph([{str(REPO / 'data' / 'corpus')!r}]).graph, {str(tmp_path / 'p.html')!r})\n"
              "print(sorted(m for m in ('pyvis', 'IPython', 'jedi', 'prompt_toolkit') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert "var nodes, edges, network" in (tmp_path / "p.html").read_text(encoding="utf-8")


def test_setup_cfg_needs_jinja2_not_pyvis() -> None:
    config = ConfigParser()
    config.read(REPO / "setup.cfg", encoding="utf-8")
    requires = [line.split(">")[0].split("=")[0].strip().lower()
                for line in config["options"]["install_requires"].splitlines() if line.strip()]
    assert "pyvis" not in requires and "jinja2" in requires


def test_page_json_is_html_safe_sorted_utf8_json():
    import json

    from ipgraph.view import page_json

    value = {"b": ["</script><script>alert('x')</script>", "A&B", 2.5, None], "a": {"中": [1, True]}, 3: "three"}
    text = str(page_json(value))
    assert not {"<", ">", "&", "'"} & set(text)  # nothing can close the <script> block or an attribute
    assert "中" in text and "\\u4e2d" not in text  # UTF-8, not escapes
    assert json.loads(text) == {"3": "three", "a": {"中": [1, True]}, "b": value["b"]}
    assert list(json.loads(text)) == ["3", "a", "b"]  # keys sorted: the same page every run


@pytest.mark.parametrize("search", [None, {}, {"endpoint": "/search", "echoes": {"m</script>": [["n", 0.5]]},
                                            "index": None, "measures": {"m": ["文件 & 'x'", "1"]}}])
def test_the_page_written_in_pieces_is_the_page_as_one_string(view, tmp_path, search) -> None:
    # write_page writes the template's text and the data blocks one after the other (no copy of the
    # whole page): the file holds exactly page_from_parts's string, whatever the data blocks hold
    from ipgraph.view import graph_parts, page_from_parts, page_pieces, write_page

    parts = graph_parts(view, title="页 <&>", overview_first=True)
    info = write_page(parts, tmp_path / "graph.html", search)
    whole = page_from_parts(parts, search)
    assert (tmp_path / "graph.html").read_bytes() == whole.encode("utf-8")
    assert info.bytes == len(whole.encode("utf-8"))
    html = whole
    assert page_data(html, "nodes") == json.loads(parts.nodes_json)
    assert ('id="ipgraph-search"' in html) == bool(search)
    if search:
        assert page_data(html, "search") == search
    assert "\x00" not in html
    assert len(page_pieces(parts, search)) == (7 if search else 5)


def test_edges_made_in_a_fork_are_the_edges_made_here(view, monkeypatch) -> None:
    # graph_parts(fork_edges=True) (the build's page child) makes the edges' JSON in a fork while it lays out
    # the nodes: the same parts, overview edges included, as one process makes them
    import os

    import ipgraph.view as view_module
    from ipgraph.view import graph_parts

    here = graph_parts(view, title="t", overview_first=True)
    monkeypatch.setattr(view_module, "SPLIT_EDGES", 0)
    forks = []
    real_fork = os.fork
    monkeypatch.setattr(view_module.os, "fork", lambda: forks.append(1) or real_fork())
    forked = graph_parts(view, title="t", overview_first=True, fork_edges=True)
    assert forks == [1]
    assert forked == here and '"ov":true' in forked.edges_json
