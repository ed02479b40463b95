"""The streaming build (issue 14): records → N-Triples lines, external merge, outputs without rdflib.

The rdflib path (ipgraph.graph.GraphBuilder over the same records, serialised and sorted) is
the reference until it is retired: the streaming output must be byte-identical to it.
"""
from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest

from ipgraph.graph import build_graph_from_records
from ipgraph.pipeline import build_graph, sorted_ntriples, write_outputs
from ipgraph.stream import merge

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
DEV = ROOT.parent / "shared" / "dev"


def _rdflib_path(result) -> str:
    import tempfile

    from ipgraph.search.wiring import add_search_to_build

    graph = build_graph_from_records(result.records)
    with tempfile.TemporaryDirectory() as folder:  # the echoes, by the SPARQL-read index (ipgraph.search.records)
        add_search_to_build(graph, folder)
    return sorted_ntriples(graph)


def test_streaming_ntriples_equal_the_rdflib_path_on_the_corpus():
    result = build_graph([CORPUS])
    assert result.ntriples is not None
    streamed = result.ntriples.read_text(encoding="utf-8")
    assert streamed == _rdflib_path(result)
    assert result.summary()["triples"] == len(streamed.splitlines())
    assert result.summary()["documents"] == len(result.records) == 5


@pytest.mark.skipif(not DEV.is_dir(), reason="the shared dev documents are not here")
def test_streaming_ntriples_equal_the_rdflib_path_on_the_dev_documents_with_the_corpus():
    # the dev documents cite directives and name agencies the corpus does too: the shared-node table is exercised
    result = build_graph([DEV, CORPUS], jobs=2)
    assert result.ntriples.read_text(encoding="utf-8") == _rdflib_path(result)


def test_small_runs_and_merge_passes_give_the_same_file(monkeypatch, tmp_path):
    reference = build_graph([CORPUS])
    whole = reference.ntriples.read_text(encoding="utf-8")
    passes = []
    original_merged = merge._merged
    monkeypatch.setattr(merge, "MERGE_FAN_IN", 3)  # ~20 runs merged in several passes
    monkeypatch.setattr(merge, "_merged", lambda paths, stack: passes.append(len(paths)) or original_merged(paths, stack))
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
