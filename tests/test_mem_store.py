"""The store's bulk load in slices of the sorted N-Triples (issue 14): the same store as one load."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph

import ipgraph.store as store_module
from ipgraph.store import bulk_load_chunks, open_store, store_info, write_store


def _quads(store: pyoxigraph.Store) -> list[str]:
    return sorted(str(q) for q in store)


def test_a_store_loaded_in_small_slices_answers_the_same(built_dir: Path, tmp_path, monkeypatch):
    nt = built_dir / "ipgraph.nt"
    whole = pyoxigraph.Store()
    whole.bulk_load(path=str(nt), format=pyoxigraph.RdfFormat.N_TRIPLES)
    monkeypatch.setattr(store_module, "BULK_CHUNK_TRIPLES", 97)  # a hundred-odd bulk loads
    write_store(nt, tmp_path / "b")
    sliced = open_store(tmp_path / "b")
    assert len(sliced) == len(whole) == store_info(tmp_path / "b").triples
    assert _quads(sliced) == _quads(whole)
    query = ("PREFIX ipg: <https://w3id.org/ipgraph/ontology#> "
             "SELECT ?a (COUNT(?m) AS ?n) WHERE { ?m ipg:leadAgency ?a } GROUP BY ?a ORDER BY ?a")
    assert [tuple(map(str, r)) for r in sliced.query(query)] == [tuple(map(str, r)) for r in whole.query(query)]


def test_a_blank_node_split_across_slices_stays_one_node(tmp_path):
    nt = tmp_path / "b.nt"
    lines = [f'_:b1 <http://example.org/p{i}> "v{i}" .\n' for i in range(5)]
    lines += ['<http://example.org/s> <http://example.org/q> _:b1 .\n']
    nt.write_text("".join(lines), encoding="utf-8")
    store = pyoxigraph.Store()
    assert bulk_load_chunks(store, nt, chunk=2) == 6
    answer = list(store.query("SELECT (COUNT(DISTINCT ?b) AS ?n) WHERE { ?b ?p ?o . FILTER(isBlank(?b)) }"))
    assert int(answer[0][0].value) == 1
    joined = list(store.query("SELECT (COUNT(*) AS ?n) WHERE { <http://example.org/s> ?q ?b . ?b ?p ?o }"))
    assert int(joined[0][0].value) == 5


def test_an_empty_file_loads_an_empty_store(tmp_path):
    nt = tmp_path / "empty.nt"
    nt.write_bytes(b"")
    write_store(nt, tmp_path / "out")
    assert store_info(tmp_path / "out").triples == 0
