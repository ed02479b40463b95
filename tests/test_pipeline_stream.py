"""The streaming build (issue 14): records → N-Triples lines, external merge, outputs without rdflib.

ipgraph.stream.triples is the graph's one writer (the rdflib GraphBuilder it was once compared
with is retired): the golden cases (tests/test_graph.py) pin its triples per case, and the
corpus-level invariants below guard what a second writer once guarded — every node the graph
names is typed and labelled, the counts agree with the file, no shared-node triple is lost.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyoxigraph
import pytest

from ipgraph.iri import DATA, place_iri
from ipgraph.pipeline import build_graph, write_outputs
from ipgraph.stream import merge
from ipgraph.stream.triples import containing_place

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
DEV = ROOT.parent / "shared" / "dev"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
IPG = "https://w3id.org/ipgraph/ontology#"


def _check_invariants(result) -> list[pyoxigraph.Triple]:
    """The build's file is sorted unique N-Triples whose counts are the summary's; every node of
    ours that a triple names is typed, every typed node but evidence has exactly one label."""
    text = result.ntriples.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines == sorted(set(lines)) and len(lines) == result.summary()["triples"] > 1000
    triples = list(pyoxigraph.parse(text.encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES))
    assert len(triples) == len(lines)
    types: dict[str, set[str]] = {}
    labels: Counter[str] = Counter()
    ours: set[str] = set()
    for t in triples:
        for term in (t.subject, t.object):
            if isinstance(term, pyoxigraph.NamedNode) and term.value.startswith(DATA):
                ours.add(term.value)
        if t.predicate.value == RDF + "type":
            types.setdefault(t.subject.value, set()).add(t.object.value)
        if t.predicate.value == LABEL:
            labels[t.subject.value] += 1
    assert ours - set(types) == set()  # a node named only as an object lost its first-claim triples
    for node, classes in types.items():
        if IPG + "Evidence" not in classes:
            assert labels[node] == 1, node
    counted = Counter(c for classes in types.values() for c in classes)
    for cls, n in result.counts.items():
        if cls != "triples":
            assert counted[cls] == n, cls
    # 天津市西青区 ipg:within 天津市: the shared-node triple a second writer once lost
    within = {(t.subject.value, t.object.value) for t in triples if t.predicate.value == IPG + "within"}
    places = [t for t in triples if t.predicate.value == LABEL and IPG + "Jurisdiction" in types.get(t.subject.value, ())]
    for t in places:
        container = containing_place(t.object.value)
        assert (container is None) == all(s != t.subject.value for s, _ in within)
        if container:
            assert (t.subject.value, place_iri(container)) in within
    return triples


def test_streaming_ntriples_hold_the_graph_invariants_on_the_corpus():
    result = build_graph([CORPUS])
    assert result.ntriples is not None
    _check_invariants(result)
    assert result.summary()["documents"] == len(result.records) == 5
    assert result.summary()["agencies"] > 50 and result.summary()["targets"] > 50


@pytest.mark.skipif(not DEV.is_dir(), reason="the shared dev documents are not here")
def test_streaming_ntriples_hold_the_graph_invariants_on_the_dev_documents_with_the_corpus():
    # the dev documents cite directives and name agencies the corpus does too: the shared-node table is exercised
    result = build_graph([DEV, CORPUS], jobs=2)
    triples = _check_invariants(result)
    assert any(t.predicate.value == IPG + "within" for t in triples)
    assert build_graph([DEV, CORPUS], jobs=1).ntriples.read_bytes() == result.ntriples.read_bytes()


def test_small_runs_and_merge_passes_give_the_same_file(monkeypatch, tmp_path):
    reference = build_graph([CORPUS])
    whole = reference.ntriples.read_text(encoding="utf-8")
    passes = []
    original_merged = merge._merged
    monkeypatch.setattr(merge, "MERGE_FAN_IN", 3)  # ~20 runs merged in several passes
    monkeypatch.setattr(merge, "_merged", lambda paths, stack, **kw: passes.append(len(paths)) or original_merged(paths, stack, **kw))
    original = merge.RunWriter.__init__
    monkeypatch.setattr(merge.RunWriter, "__init__",
                        lambda self, folder, run_lines=500: original(self, folder, run_lines))
    result = build_graph([CORPUS], work_dir=tmp_path / "work")
    assert result.ntriples == tmp_path / "work" / "ipgraph.nt"
    assert result.ntriples.read_text(encoding="utf-8") == whole
    assert len(passes) >= 3 and max(passes) <= 3  # grouped passes, then the final merge


def test_scratch_folder_goes_with_the_result():
    import gc

    result = build_graph([CORPUS])
    work = result.work_dir
    assert work is not None and (work / "ipgraph.nt").is_file()
    del result
    gc.collect()
    assert not work.exists()


def test_jobs_do_not_change_the_output():
    one, three = build_graph([CORPUS], jobs=1), build_graph([CORPUS], jobs=3)
    assert one.ntriples.read_bytes() == three.ntriples.read_bytes()
    assert [r.parsed.source.name for r in one.records] == [r.parsed.source.name for r in three.records]


def test_build_outputs_come_from_the_ntriples_and_turtle_is_deterministic(tmp_path):
    result = build_graph([CORPUS])
    write_outputs(result, tmp_path / "a")
    other = build_graph([CORPUS], jobs=2)
    write_outputs(other, tmp_path / "b")
    nt = (tmp_path / "a" / "ipgraph.nt").read_bytes()
    assert nt == result.ntriples.read_bytes()
    ttl = (tmp_path / "a" / "ipgraph.ttl").read_bytes()
    assert ttl == (tmp_path / "b" / "ipgraph.ttl").read_bytes()
    # the Turtle holds exactly the N-Triples' triples
    from_ttl = set(pyoxigraph.parse(ttl, format=pyoxigraph.RdfFormat.TURTLE))
    from_nt = set(pyoxigraph.parse(nt, format=pyoxigraph.RdfFormat.N_TRIPLES))
    assert from_ttl == from_nt and len(from_nt) == result.summary()["triples"]
    store = pyoxigraph.Store.read_only(str(tmp_path / "a" / "store"))
    assert len(store) == len(from_nt)


def test_graph_property_parses_the_streamed_file_lazily():
    result = build_graph([CORPUS])
    assert result._graph is None  # nothing parsed by the build itself
    assert len(result.graph) == result.summary()["triples"]
