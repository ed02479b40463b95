"""The graph page without a browser: reading the graph, selecting and aggregating parts, layout,
styles, escaping and determinism (tests/test_view_browser.py opens the pages in Chromium)."""
from __future__ import annotations

import json
import math
import re
from importlib.resources import files
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph
from rdflib.namespace import RDF, SKOS

from ipgraph.cli import main
from ipgraph.pipeline import build_graph, sorted_ntriples
from ipgraph.view import (
    CLASS_STYLES,
    DETAILED_LIMIT,
    RELATION_STYLES,
    ViewError,
    _vis_edge,
    aggregate_view,
    find_node,
    is_detailed,
    layout,
    page_html,
    parse_types,
    read_view,
    render_page,
    select_view,
    short_label,
    vis_options,
)
from ipgraph.vocab import IPG

TJ = "天津市知识产权局"
HOSTILE_TITLE = '<script>alert(1)</script>"试点"</div>工作方案'
HOSTILE_TEXT = '推进<script>alert(2)</script>"专利导航"</div>工作。由天津市知识产权局牵头,市科技局配合。'
HOSTILE_DOC = f"""天津市知识产权局关于印发{HOSTILE_TITLE}的通知

发文机构:天津市知识产权局 | 发文时间:2021-03-01

{HOSTILE_TITLE}

一、主要任务
(一){HOSTILE_TEXT}
(二)开展知识产权贯标工作,到2025年每万人口高价值发明专利拥有量达到10件。由市市场监管委负责。
"""


def write_hostile(folder: Path) -> Path:
    """A small policy text whose title and first measure carry markup (also used by the browser tests)."""
    path = folder / "hostile.txt"
    path.write_text(HOSTILE_DOC, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def view(corpus_graph):
    return read_view(corpus_graph)


def drawn_subjects(graph: Graph) -> set:
    return {s for style in CLASS_STYLES.values() for s in graph.subjects(RDF.type, style.rdf_class)}


def page_data(html: str, name: str):
    match = re.search(rf'<script type="application/json" id="ipgraph-{name}">(.*?)</script>', html, re.S)
    assert match, name
    return json.loads(match.group(1))


# ---- reading the graph

def test_every_node_of_the_seven_classes_is_read(view, corpus_graph) -> None:
    assert set(view.nodes) == {str(s) for s in drawn_subjects(corpus_graph)}
    assert {n.cls for n in view.nodes.values()} == set(CLASS_STYLES)


def test_lead_edges_point_from_agency_to_measure_and_carry_their_sentence(view, corpus_graph) -> None:
    leads = [e for e in view.edges if e.relation == "lead"]
    assert len(leads) == len(set(corpus_graph.subject_objects(IPG.leadAgency)))
    for edge in leads:
        assert view.nodes[edge.source].cls == "agency" and view.nodes[edge.target].cls == "measure"
        assert edge.evidence, edge
    # a lead is responsible too, but is drawn once, as the lead
    pairs = {(e.source, e.target) for e in view.edges if e.relation == "responsible"}
    assert not pairs & {(e.source, e.target) for e in leads}


def test_measure_text_and_agency_aliases_are_in_the_panel_data(view, corpus_graph) -> None:
    measure = next(n for n in view.nodes.values() if n.cls == "measure")
    text = str(corpus_graph.value(next(s for s in corpus_graph.subjects(IPG.text, None) if str(s) == measure.id),
                                  IPG.text))
    assert dict(measure.info)["全文 text"] == text
    tj = find_node(view, TJ)
    assert tj.cls == "agency" and tj.documents
    aliased = [n for n in view.nodes.values() if n.cls == "agency" and n.aliases]
    assert aliased
    subject = next(s for s in corpus_graph.subjects(RDF.type, IPG.Agency) if str(s) == aliased[0].id)
    assert set(aliased[0].aliases) == {str(a) for a in corpus_graph.objects(subject, SKOS.altLabel)} - {aliased[0].label}


def test_directive_panel_data_has_its_number_and_citing_documents(view) -> None:
    numbered = [n for n in view.nodes.values() if n.cls == "directive" and "文号 number" in dict(n.info)]
    assert numbered
    citing = {e.source for e in view.edges if e.relation == "cites" and e.target == numbered[0].id}
    assert citing and all(view.nodes[c].cls == "document" for c in citing)


def test_nodes_are_in_reading_order(view) -> None:
    measures = [n for n in view.nodes.values() if n.cls == "measure"]
    first_doc = [n for n in measures if n.documents == measures[0].documents]
    numbers = [dict(n.info)["编号 number"] for n in first_doc[:12]]
    assert numbers[:3] == ["1", "2", "3"], numbers


# ---- selecting a part

def test_focus_keeps_the_node_and_its_neighbours(view) -> None:
    part = select_view(view, focus=TJ, depth=1)
    root = find_node(view, TJ).id
    assert part.root == root
    neighbours = {e.target for e in view.edges if e.source == root} | {e.source for e in view.edges if e.target == root}
    assert set(part.nodes) == neighbours | {root}
    assert any(e.relation == "lead" for e in part.edges)
    assert set(select_view(view, focus=TJ, depth=0).nodes) == {root}
    assert len(select_view(view, focus=TJ, depth=2).nodes) > len(part.nodes)


def test_types_and_document_filters(view) -> None:
    only = select_view(view, types="agency,programme")
    assert {n.cls for n in only.nodes.values()} == {"agency", "programme"}
    assert all(only.nodes[e.source] and only.nodes[e.target] for e in only.edges)
    doc = next(n for n in view.nodes.values() if n.cls == "document")
    source_file = dict(doc.info)["源文件 file"]
    for name in (source_file, Path(source_file).stem, doc.label):
        part = select_view(view, document=name)
        assert doc.id in part.nodes
        assert all(doc.id in n.documents for n in part.nodes.values())
    # focus through a type filter: the agency and only its measures
    mine = select_view(view, focus=TJ, types="measure")
    assert {n.cls for n in mine.nodes.values()} == {"agency", "measure"}


@pytest.mark.parametrize("kwargs,message", [
    ({"focus": "没有这个机构"}, "no node has this name"),
    ({"focus": "知识产权局"}, "nodes match"),
    ({"types": "agency,foo"}, "unknown class"),
    ({"document": "nope.txt"}, "no such document"),
    ({"depth": -1}, "must be 0 or more"),
])
def test_bad_selection_is_a_view_error(view, kwargs, message) -> None:
    with pytest.raises(ViewError, match=message):
        select_view(view, **kwargs)


def test_parse_types() -> None:
    assert parse_types(None) is None
    assert parse_types(" Programme ,agency") == ("agency", "programme")


# ---- aggregation

def test_small_views_are_not_aggregated(view) -> None:
    assert aggregate_view(view, node_budget=len(view.nodes)) is view


def test_aggregated_view_collapses_measures_into_counts(view) -> None:
    agg = aggregate_view(view, node_budget=len(view.nodes) - 1)
    assert agg.aggregated and agg.selected_nodes == len(view.nodes)
    assert "Aggregated view" in agg.note and "聚合视图" in agg.note
    assert not {"measure", "section", "target"} & {n.cls for n in agg.nodes.values()}
    # every lead edge of the detailed view is counted once in an agency → document edge
    leads = sum(e.count for e in agg.edges if e.relation == "lead")
    assert leads == sum(1 for e in view.edges if e.relation == "lead")
    assert all(view.nodes[e.source].cls == "agency" and agg.nodes[e.target].cls == "document"
               for e in agg.edges if e.relation in ("lead", "responsible"))
    docs = [n for n in agg.nodes.values() if n.cls == "document"]
    assert sum(d.count for d in docs) == sum(1 for n in view.nodes.values() if n.cls == "measure")


def test_aggregated_view_over_budget_keeps_documents_and_says_so(view) -> None:
    agg = aggregate_view(view, node_budget=40)
    assert len(agg.nodes) == 40
    assert sum(n.cls == "document" for n in agg.nodes.values()) == 5
    assert "least connected nodes left out" in agg.note


def test_aggregation_of_a_part_takes_its_documents_from_the_whole(view) -> None:
    part = select_view(view, types="measure,agency")
    agg = aggregate_view(part, node_budget=10, source=view)
    assert any(n.cls == "document" for n in agg.nodes.values())


# ---- layout and styles

def test_layout_places_every_node_apart(view) -> None:
    positions = layout(view)
    assert set(positions) == set(view.nodes)
    assert all(math.isfinite(x) and math.isfinite(y) for x, y in positions.values())
    assert len(set(positions.values())) == len(positions), "two nodes on the same spot"


def test_layout_of_a_focus_view_centres_the_focus(view) -> None:
    part = select_view(view, focus=TJ, depth=1)
    assert layout(part)[part.root] == (0.0, 0.0)


def test_one_colour_and_shape_per_class_and_distinct_relations() -> None:
    assert len({s.color for s in CLASS_STYLES.values()}) == len(CLASS_STYLES)
    assert len({s.shape for s in CLASS_STYLES.values()}) == len(CLASS_STYLES)
    lead, responsible = RELATION_STYLES["lead"], RELATION_STYLES["responsible"]
    assert lead.color != responsible.color and lead.width > 2 * responsible.width
    assert not lead.dashes and responsible.dashes
    groups = vis_options(10)["groups"]
    for key, style in CLASS_STYLES.items():
        assert groups[key]["color"]["background"] == style.color and groups[key]["shape"] == style.shape


def test_page_nodes_use_their_class_group_and_short_labels(view) -> None:
    html = page_html(view)
    nodes = page_data(html, "nodes")
    assert len(nodes) == len(view.nodes)
    for item in nodes:
        assert item["group"] == item["ipg"]["cls"]
        assert len(item["label"].split("\n")[0]) <= CLASS_STYLES[item["group"]].label_chars
        assert isinstance(item["x"], float | int) and "title" not in item  # tooltips are made as DOM in the page
    edges = page_data(html, "edges")
    colours = {e["ipg"]["rel"]: e["color"]["color"] for e in edges}
    assert colours["lead"] != colours["responsible"]
    meta = page_data(html, "meta")
    assert [c["key"] for c in meta["classes"]] == list(CLASS_STYLES)


def test_big_pages_draw_plain_edges(view) -> None:
    html = page_html(view)  # 512 nodes: detailed
    responsible = [e for e in page_data(html, "edges") if e["ipg"]["rel"] == "responsible" and not e["ipg"].get("ov")]
    assert responsible and all(e["dashes"] == [6, 4] and e["label"] == "负责" for e in responsible)
    edge = next(e for e in view.edges if e.relation == "responsible")
    plain = _vis_edge(0, edge, detailed=False)
    assert plain["dashes"] is False and plain["arrows"] == "" and "label" not in plain
    assert plain["color"]["color"] == RELATION_STYLES["responsible"].color
    assert is_detailed(DETAILED_LIMIT) and not is_detailed(DETAILED_LIMIT + 1)
    options = page_data(html, "options")
    assert options["physics"]["enabled"] is False and options["edges"]["smooth"] is False
    # canvas labels are plain text: vis-network's <b>/<i> label markup stays off
    assert options["nodes"]["font"]["multi"] is False and options["edges"]["font"]["multi"] is False
    assert vis_options(5000)["interaction"]["hideEdgesOnDrag"] is True


def test_short_label() -> None:
    assert short_label("天津市知识产权局", 12) == "天津市知识产权局"
    assert short_label("天津市知识产权局 战略 纲要 实施", 8) == "天津市知识产权…"


# ---- the page file: offline, escaped, deterministic

def test_page_is_one_offline_file(view) -> None:
    html = page_html(view)
    assert "vis-network" in html and "vis.Network" in html
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html), "the page loads another file"
    assert "cdn" not in html.lower().split("<script>")[0]  # nothing from a CDN in the head either
    assert "var nodes, edges, network" in html  # pyvis's globals


def test_hostile_text_cannot_inject_markup(tmp_path) -> None:
    graph = build_graph([write_hostile(tmp_path)]).graph
    info = render_page(graph, tmp_path / "hostile.html", title='<b id="t">"title"</b>')
    html = info.path.read_text(encoding="utf-8")
    assert "alert(" in html  # the text is there …
    assert "<script>alert" not in html and "</div>工作" not in html  # … but never as markup
    bundled = (files("ipgraph") / "static" / "vis-network.min.js").read_text(encoding="utf-8")
    # vis-network, 4 data blocks, the page script (and the strings inside vis-network): nothing more
    assert html.count("<script") == 6 + bundled.count("<script")
    assert '<b id="t">' not in html and "&lt;b id=&#34;t&#34;&gt;&#34;title&#34;&lt;/b&gt;" in html
    titles = [n["ipg"]["name"] for n in page_data(html, "nodes")]
    assert HOSTILE_TITLE in titles  # the data block decodes to the literal title


def test_page_is_deterministic_whatever_the_triple_order(corpus_graph, tmp_path) -> None:
    again = Graph().parse(data=sorted_ntriples(corpus_graph), format="nt")
    first = render_page(corpus_graph, tmp_path / "a.html").path.read_bytes()
    second = render_page(again, tmp_path / "b.html").path.read_bytes()
    assert first == second


def test_build_writes_graph_html(built_dir) -> None:
    html = (built_dir / "graph.html").read_text(encoding="utf-8")
    assert len(page_data(html, "nodes")) == len(drawn_subjects(Graph().parse(built_dir / "ipgraph.nt")))


# ---- command line

def test_view_command_writes_a_focus_page(built_dir, tmp_path) -> None:
    out = tmp_path / "tj.html"
    result = CliRunner().invoke(main, ["view", "--graph", str(built_dir), "--focus", TJ, "--depth", "1",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {out}: ")
    nodes = page_data(out.read_text(encoding="utf-8"), "nodes")
    assert any(n["ipg"]["name"] == TJ for n in nodes)


def test_view_command_aggregates_over_budget(built_dir, tmp_path) -> None:
    out = tmp_path / "agg.html"
    result = CliRunner().invoke(main, ["view", "--graph", str(built_dir), "--budget", "50", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "aggregated view of" in result.stdout
    assert "Aggregated view" in out.read_text(encoding="utf-8")


def test_view_command_bad_focus_is_one_line(built_dir, tmp_path) -> None:
    result = CliRunner().invoke(main, ["view", "--graph", str(built_dir), "--focus", "没有这个机构",
                                       "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 1
    assert "no node has this name" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "x.html").exists()
