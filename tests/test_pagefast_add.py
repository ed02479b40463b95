"""The page of an `add` (issue 14): the previous build's fold patched with the change, not the graph read again."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ipgraph.view import (
    FoldedGraph,
    TripleIndex,
    fold_ntriples,
    load_fold,
    patch_fold,
    render_page,
    save_fold,
)

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"


@pytest.fixture(scope="module")
def four(tmp_path_factory) -> Path:
    """A build of four of the five shipped documents (the fifth is what an add brings)."""
    from ipgraph.pipeline import build_graph, write_outputs

    files = sorted(p for p in CORPUS.iterdir() if p.is_file())[:4]
    out = tmp_path_factory.mktemp("four")
    write_outputs(build_graph(files), out)
    return out


def _lines(path: Path) -> set[str]:
    return set(path.read_text(encoding="utf-8").splitlines())


def _same(a: FoldedGraph, b: FoldedGraph) -> None:
    assert a.counts == b.counts and a.measures == b.measures and a.drawn == b.drawn
    assert {k: v for k, v in a.members.items() if v} == {k: v for k, v in b.members.items() if v}
    assert {k: v for k, v in a.index.typed.items() if v} == {k: v for k, v in b.index.typed.items() if v}
    assert ({p: dict(v) for p, v in a.index.by_predicate.items() if v}
            == {p: dict(v) for p, v in b.index.by_predicate.items() if v})


@pytest.mark.parametrize("direction", ["add", "remove"])
def test_the_patched_fold_is_the_fold_of_the_new_graph(four, built_dir, tmp_path, direction):
    old, new = (four, built_dir) if direction == "add" else (built_dir, four)
    old_nt, new_nt = old / "ipgraph.nt", new / "ipgraph.nt"
    changed = sorted(_lines(old_nt) ^ _lines(new_nt))  # what ipgraph.stream.delta hands the page
    assert changed
    save_fold(fold_ntriples(old_nt), tmp_path)
    patched = patch_fold(load_fold(tmp_path), old_nt, new_nt, changed)
    whole = fold_ntriples(new_nt)
    _same(patched, whole)
    patched.bounded = False  # as for_build_page sets it under BOUNDED_NODES: the aggregated page
    a = render_page(patched, tmp_path / "patched.html", node_budget=60)
    b = render_page(TripleIndex.from_ntriples(new_nt), tmp_path / "whole.html", node_budget=60)
    assert a.aggregated and a.path.read_bytes() == b.path.read_bytes()


def test_the_kept_fold_reads_back_as_it_was(built_dir, tmp_path):
    folded = fold_ntriples(built_dir / "ipgraph.nt")
    save_fold(folded, tmp_path)
    _same(load_fold(tmp_path), folded)
    kept = json.loads((tmp_path / ".page-fold.json").read_text(encoding="utf-8"))
    assert len(kept["strings"]) == len(set(kept["strings"]))  # each term spelt once
    for damage in ("{not json", json.dumps({**kept, "version": 1}),  # another release's layout
                   json.dumps({**kept, "typed": [[len(kept["strings"]), []]]})):  # a number past the table
        (tmp_path / ".page-fold.json").write_text(damage, encoding="utf-8")
        assert load_fold(tmp_path) is None  # a damaged state: the next build folds the whole file
    assert load_fold(tmp_path / "none") is None


def test_the_build_page_keeps_and_patches_its_fold(four, built_dir, tmp_path):
    old_nt, new_nt = four / "ipgraph.nt", built_dir / "ipgraph.nt"
    keep_old, keep_new = tmp_path / "old", tmp_path / "new"
    keep_old.mkdir(), keep_new.mkdir()
    first = TripleIndex.for_build_page(old_nt, None, node_budget=60, keep=keep_old)
    assert isinstance(first, FoldedGraph) and (keep_old / ".page-fold.json").is_file()
    (keep_old / "ipgraph.nt").symlink_to(old_nt)  # the previous generation holds its N-Triples
    changed = sorted(_lines(old_nt) ^ _lines(new_nt))
    calls = []
    real = sys.modules["ipgraph.view"].fold_ntriples
    try:
        sys.modules["ipgraph.view"].fold_ntriples = lambda path: calls.append(path) or real(path)
        second = TripleIndex.for_build_page(new_nt, None, node_budget=60, keep=keep_new, previous=keep_old,
                                            changes=changed)
    finally:
        sys.modules["ipgraph.view"].fold_ntriples = real
    assert calls == []  # patched, not read again
    assert isinstance(second, FoldedGraph)
    _same(second, fold_ntriples(new_nt))
    _same(load_fold(keep_new), second)


def test_a_bounded_pages_fold_is_not_kept(built_dir, tmp_path):
    folded = TripleIndex.for_build_page(built_dir / "ipgraph.nt", None, node_budget=40, bounded_above=100, keep=tmp_path)
    assert isinstance(folded, FoldedGraph) and folded.bounded
    assert not (tmp_path / ".page-fold.json").exists()  # its size grows with the graph: the next add folds again


def test_without_the_previous_file_the_fold_is_made_whole(four, built_dir, tmp_path):
    old_nt, new_nt = four / "ipgraph.nt", built_dir / "ipgraph.nt"
    previous = tmp_path / "previous"
    previous.mkdir()
    save_fold(fold_ntriples(old_nt), previous)  # its fold kept, but no ipgraph.nt beside it
    folded = TripleIndex.for_build_page(new_nt, None, node_budget=60, previous=previous,
                                        changes=sorted(_lines(old_nt) ^ _lines(new_nt)))
    assert isinstance(folded, FoldedGraph)
    _same(folded, fold_ntriples(new_nt))
