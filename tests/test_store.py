"""The embedded store: written atomically from N-Triples or a Graph, opened read-only, kept current."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from ipgraph.errors import GraphNotFoundError
from ipgraph.store import (
    STORE_META_NAME,
    ensure_store,
    load_graph,
    open_store,
    rdflib_view,
    store_info,
    store_is_current,
    store_path,
    write_store,
)

EX = "https://example.org/"


def _nt(path: Path, triples: list[tuple[str, str, str]]) -> Path:
    lines = [f'<{EX}{s}> <{EX}{p}> "{o}"@zh .' for s, p, o in triples]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _labels(store) -> set[str]:
    return {row[0].value for row in store.query(f"SELECT ?o WHERE {{ ?s <{EX}label> ?o }}")}


def test_write_store_from_ntriples_and_open_read_only(tmp_path: Path) -> None:
    nt = _nt(tmp_path / "ipgraph.nt", [("a", "label", "天津市知识产权局"), ("b", "label", "沈阳市财政局")])
    written = write_store(nt, tmp_path)
    assert written == store_path(tmp_path) and (written / STORE_META_NAME).is_file()
    assert store_info(tmp_path).triples == 2
    store = open_store(tmp_path)
    assert _labels(store) == {"天津市知识产权局", "沈阳市财政局"}
    with pytest.raises(RuntimeError, match="read-write"):  # read-only: the store itself refuses writes
        store.update(f'INSERT DATA {{ <{EX}c> <{EX}label> "x" }}')
    second = open_store(tmp_path)  # several readers at once (the server's workers)
    assert len(second) == 2


def test_write_store_from_graph(tmp_path: Path) -> None:
    graph = Graph()
    graph.add((URIRef(EX + "a"), URIRef(EX + "label"), Literal("专利导航", lang="zh")))
    write_store(graph, tmp_path)
    assert _labels(open_store(tmp_path)) == {"专利导航"}


def test_rewriting_replaces_the_store_and_leaves_no_temporary_folders(tmp_path: Path) -> None:
    write_store(_nt(tmp_path / "ipgraph.nt", [("a", "label", "old")]), tmp_path)
    write_store(_nt(tmp_path / "ipgraph.nt", [("a", "label", "new"), ("b", "label", "newer")]), tmp_path)
    assert _labels(open_store(tmp_path)) == {"new", "newer"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ipgraph.nt", "store"]


def test_a_failed_load_keeps_the_previous_store(tmp_path: Path) -> None:
    write_store(_nt(tmp_path / "ipgraph.nt", [("a", "label", "kept")]), tmp_path)
    bad = tmp_path / "bad.nt"
    bad.write_text("<not n-triples\n", encoding="utf-8")
    with pytest.raises(SyntaxError):
        write_store(bad, tmp_path)
    assert _labels(open_store(tmp_path)) == {"kept"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".store")]


def test_open_store_without_a_store_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(GraphNotFoundError, match="ipgraph build"):
        open_store(tmp_path)


def test_ensure_store_loads_a_missing_or_stale_store_once(tmp_path: Path) -> None:
    nt = _nt(tmp_path / "ipgraph.nt", [("a", "label", "一")])
    assert ensure_store(tmp_path) is True  # a build folder from before the store existed
    assert ensure_store(tmp_path) is False
    assert store_is_current(tmp_path)
    _nt(nt, [("a", "label", "一"), ("b", "label", "二")])
    os.utime(nt, ns=(store_info(tmp_path).source_mtime_ns + 10**9,) * 2)
    assert not store_is_current(tmp_path)
    assert ensure_store(tmp_path) is True
    assert _labels(open_store(tmp_path)) == {"一", "二"}


def test_ensure_store_without_any_graph(tmp_path: Path) -> None:
    with pytest.raises(GraphNotFoundError, match="no built graph"):
        ensure_store(tmp_path)


def test_store_holds_the_built_graph(built_dir: Path) -> None:
    ensure_store(built_dir)
    graph = load_graph(built_dir)
    assert len(open_store(built_dir)) == len(graph) == store_info(built_dir).triples


def test_store_module_does_not_import_rdflib() -> None:
    code = "import sys, ipgraph.store, ipgraph.query; print(sorted(m for m in sys.modules if m.split('.')[0] == 'rdflib'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_rdflib_view_reads_the_store_without_parsing(built_dir: Path) -> None:
    ensure_store(built_dir)
    view = rdflib_view(built_dir)
    parsed = load_graph(built_dir)
    assert len(view) == len(parsed)

    # oxrdflib gives plain literals as xsd:string-typed ones (the same RDF 1.1 term) and rdflib's parser
    # writes the decimal 1 as 1.0: compare the values
    def values(graph):
        return {(s, p, o.toPython() if isinstance(o, Literal) else o) for s, p, o in graph}

    assert values(view) == values(parsed)
    rows = list(view.query("SELECT (COUNT(*) AS ?n) WHERE { ?m ipg:leadAgency ?a }"))
    assert int(rows[0][0]) == len(
        list(parsed.subject_objects(URIRef("https://w3id.org/ipgraph/ontology#leadAgency")))
    )
