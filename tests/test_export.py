"""Exports analysts load directly: GraphML and GEXF open in networkx with the CSV's counts; JSON-LD
declares only the prefixes it uses; every export is byte-identical from run to run."""
from __future__ import annotations

import csv
import json

import networkx as nx
import pytest
from click.testing import CliRunner
from conftest import GOLD
from rdflib import Graph
from rdflib.namespace import RDF

from ipgraph.cli import main
from ipgraph.export import NODE_CLASSES, entity_network, export_graph, used_prefixes, write_csv
from ipgraph.vocab import IPG


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def csv_tables(corpus_graph, tmp_path_factory):
    folder = tmp_path_factory.mktemp("csv")
    done = write_csv(corpus_graph, folder)
    return done, read_csv(done.nodes), read_csv(done.edges)


@pytest.mark.parametrize("fmt,reader", [("graphml", nx.read_graphml), ("gexf", nx.read_gexf)])
def test_network_files_load_in_networkx_with_the_csv_counts(corpus_graph, csv_tables, tmp_path, fmt, reader):
    done, nodes, edges = csv_tables
    path = tmp_path / f"g.{fmt}"
    path.write_bytes(export_graph(corpus_graph, fmt))
    loaded = reader(path)
    assert loaded.number_of_nodes() == len(nodes) == done.node_count
    assert loaded.number_of_edges() == len(edges) == done.edge_count
    by_id = {row["id"]: row for row in nodes}
    for node, data in loaded.nodes(data=True):
        for key in ("label", "class", "level", "document"):
            assert (data.get(key) or "") == by_id[node][key], (node, key)
    csv_edges = sorted((e["source"], e["target"], e["property"]) for e in edges)
    assert sorted((s, t, d["property"]) for s, t, d in loaded.edges(data=True)) == csv_edges


def test_nodes_are_the_entities_of_the_graph_and_edges_its_links(corpus_graph, csv_tables):
    _, nodes, edges = csv_tables
    classes = {}
    for name in NODE_CLASSES:
        for node in corpus_graph.subjects(RDF.type, IPG[name]):
            classes.setdefault(str(node), name)
    assert {row["id"]: row["class"] for row in nodes} == classes
    leads = {(str(m), str(a)) for m, a in corpus_graph.subject_objects(IPG.leadAgency)}
    assert {(e["source"], e["target"]) for e in edges if e["property"] == "ipg:leadAgency"} == leads
    by_id = {row["id"]: row["label"] for row in nodes}
    assert all(e["sourceLabel"] == by_id[e["source"]] and e["targetLabel"] == by_id[e["target"]] for e in edges)
    assert "天津市知识产权局" in {row["label"] for row in nodes if row["class"] == "Agency"}
    # every measure is filed under its document, whose file name the graph gives
    files = {str(d): str(corpus_graph.value(d, IPG.sourceFile)) for d in corpus_graph.subjects(RDF.type, IPG.PolicyDocument)}
    for m in corpus_graph.subjects(RDF.type, IPG.Measure):
        row = next(r for r in nodes if r["id"] == str(m))
        assert row["document"] == files[str(corpus_graph.value(m, IPG.partOf))]
    levels = {row["document"]: row["level"] for row in nodes if row["class"] == "PolicyDocument"}
    assert levels == {p.name.replace(".json", ".txt"): json.loads(p.read_text(encoding="utf-8"))["document"]["level"]
                      for p in GOLD.glob("*.json")}


def test_exports_are_deterministic(corpus_graph):
    for fmt in ("graphml", "gexf", "jsonld", "nt"):
        assert export_graph(corpus_graph, fmt) == export_graph(corpus_graph, fmt), fmt
    assert entity_network(corpus_graph).number_of_nodes() > 0


def test_jsonld_context_has_only_the_prefixes_used(corpus_graph):
    data = json.loads(export_graph(corpus_graph, "jsonld"))
    context = data["@context"]
    assert context == used_prefixes(corpus_graph)
    bound = {p for p, _ in corpus_graph.namespaces() if p}
    assert set(context) < bound  # owl:, prov:, eli: … are bound but unused here
    text = corpus_graph.serialize(format="nt")
    for prefix, ns in context.items():
        assert f"<{ns}" in text or f"^^<{ns}" in text, prefix
    again = Graph().parse(data=export_graph(corpus_graph, "jsonld"), format="json-ld")
    assert len(again) == len(corpus_graph)


def test_export_command(built_dir, tmp_path):
    runner = CliRunner()
    done = runner.invoke(main, ["export", "--graph", str(built_dir), "--format", "csv", "-o", str(tmp_path / "t")])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "t" / "nodes.csv").exists() and (tmp_path / "t" / "edges.csv").exists()
    done = runner.invoke(main, ["export", "--graph", str(built_dir), "--format", "csv"])
    assert done.exit_code == 2 and "give the folder with -o" in done.output
    done = runner.invoke(main, ["export", "--graph", str(built_dir), "--format", "gexf", "-o", str(tmp_path / "g.gexf")])
    assert done.exit_code == 0
    assert nx.read_gexf(tmp_path / "g.gexf").number_of_nodes() == len(read_csv(tmp_path / "t" / "nodes.csv"))
