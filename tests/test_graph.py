"""Golden graphs: each tests/cases/<name>/input.txt must build exactly expected.ttl (compared as graphs).

To accept a deliberate change, run `UPDATE_GOLDEN=1 pytest tests/test_graph.py` and review the diff.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from rdflib import BNode, Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import RDF, RDFS

from ipgraph.pipeline import build_graph, serialize_turtle, sorted_ntriples
from ipgraph.vocab import IPG

CASES = sorted(p for p in (Path(__file__).parent / "cases").iterdir() if (p / "input.txt").is_file())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_graph(case: Path) -> None:
    graph = build_graph([case / "input.txt"]).graph
    expected_file = case / "expected.ttl"
    if os.environ.get("UPDATE_GOLDEN"):
        expected_file.write_bytes(serialize_turtle(graph))
    expected = Graph().parse(expected_file, format="turtle")
    if not isomorphic(graph, expected):
        _, only_built, only_expected = graph_diff(to_isomorphic(graph), to_isomorphic(expected))
        lines = ["only in the built graph:"] + sorted(f"  {t}" for t in only_built.serialize(format="nt").splitlines())
        lines += ["only in expected.ttl:"] + sorted(f"  {t}" for t in only_expected.serialize(format="nt").splitlines())
        pytest.fail("\n".join(lines[:80]))


def test_rebuild_is_byte_identical(corpus_dir) -> None:
    first = sorted_ntriples(build_graph([corpus_dir]).graph)
    second = sorted_ntriples(build_graph([corpus_dir]).graph)
    assert first == second
    assert first.count("\n") > 1000


def test_no_blank_nodes_and_every_typed_node_has_one_label(corpus_graph) -> None:
    assert not any(isinstance(t, BNode) for triple in corpus_graph for t in triple)
    for node in set(corpus_graph.subjects(RDF.type, None)):
        if (node, RDF.type, RDF.Statement) in corpus_graph:
            continue  # evidence nodes carry the sentence, not a name
        labels = list(corpus_graph.objects(node, RDFS.label))
        assert len(labels) == 1, f"{node} has {len(labels)} rdfs:label"


def test_jurisdiction_resolved_in_every_agency_label(corpus_graph) -> None:
    """No agency is labelled with a bare 市/区 prefix (市工商局 is 天津市工商局)."""
    for agency in corpus_graph.subjects(RDF.type, IPG.Agency):
        for label in corpus_graph.objects(agency, RDFS.label):
            assert not str(label).startswith(("市", "区", "县")), label


def test_statements_carry_evidence(corpus_graph) -> None:
    lead_edges = set(corpus_graph.subject_objects(IPG.leadAgency))
    assert lead_edges
    evidenced = {(s, o) for s in corpus_graph.subjects(RDF.predicate, IPG.leadAgency)
                 for s, o in [(corpus_graph.value(s, RDF.subject), corpus_graph.value(s, RDF.object))]}
    assert lead_edges <= evidenced
    for statement in corpus_graph.subjects(RDF.predicate, IPG.leadAgency):
        sentence = str(corpus_graph.value(statement, IPG.evidence))
        assert "牵头" in sentence or "负责" in sentence or "会同" in sentence, sentence


def test_turtle_export_parses_back_to_the_same_graph(corpus_graph) -> None:
    again = Graph().parse(data=serialize_turtle(corpus_graph).decode("utf-8"), format="turtle")
    assert isomorphic(again, corpus_graph)
