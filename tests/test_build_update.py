"""The incremental generation (issue 14): the store of a rebuild or `ipgraph add` made from the previous one."""
from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph
import pytest

from ipgraph import store as store_module
from ipgraph.pipeline import build_graph, cache_folder, write_outputs
from ipgraph.store import generation_dir, open_store, update_store

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
OUTPUTS = ("ipgraph.nt", "ipgraph.ttl", "summary.json", "report.json", "graph.html")


def _triples(build: Path) -> set[str]:
    return {str(q.triple) for q in open_store(build)}


def _build(sources: list[Path], out: Path, jobs: int = 1) -> None:
    result = build_graph(sources, jobs=jobs, cache=True, cache_dir=cache_folder(out), keep_records=False)
    write_outputs(result, out)


@pytest.fixture
def four_then_five(tmp_path):
    names = sorted(p.name for p in CORPUS.glob("*.txt"))
    folder = tmp_path / "in"
    folder.mkdir()
    for name in names[:4]:
        shutil.copy(CORPUS / name, folder / name)
    full = tmp_path / "full"
    _build([CORPUS], full)
    return folder, CORPUS / names[4], full


@pytest.mark.parametrize("jobs", [1, 2])
def test_adding_a_document_updates_the_store_and_equals_a_full_build(four_then_five, tmp_path, monkeypatch, jobs):
    folder, fifth, full = four_then_five
    out = tmp_path / "out"
    _build([folder], out, jobs)
    before = _triples(out)
    monkeypatch.setattr(store_module, "UPDATE_LIMIT", 0.9)  # one of five documents is a large share
    loads: list[str] = []
    original = store_module.write_store
    monkeypatch.setattr(store_module, "write_store", lambda *a: loads.append("bulk") or original(*a))
    _build([folder, fifth], out, jobs)
    if jobs == 1:  # in this process: the spy sees every bulk load (with -j 2 the store is made in a child)
        assert loads == []
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (full / name).read_bytes(), name
    after = _triples(out)
    assert after == _triples(full) and after != before
    assert len(open_store(out)) == (out / "ipgraph.nt").read_bytes().count(b"\n")


def test_too_many_changes_load_the_store_afresh(four_then_five, tmp_path, monkeypatch):
    folder, fifth, full = four_then_five
    out = tmp_path / "out"
    _build([folder], out)
    monkeypatch.setattr(store_module, "UPDATE_LIMIT", 0.0)
    loads: list[str] = []
    original = store_module.write_store
    monkeypatch.setattr(store_module, "write_store", lambda *a: loads.append("bulk") or original(*a))
    _build([folder, fifth], out)
    assert loads == ["bulk"]
    assert _triples(out) == _triples(full)


def test_the_previous_store_is_left_whole(four_then_five, tmp_path):
    folder, fifth, full = four_then_five
    out = tmp_path / "out"
    _build([folder], out)
    previous = generation_dir(out)
    count = len(open_store(out))
    update_store(previous, full / "ipgraph.nt", tmp_path / "next")
    assert len(pyoxigraph.Store.read_only(str(previous / "store"))) == count
    updated = {str(q.triple) for q in pyoxigraph.Store.read_only(str(tmp_path / "next" / "store"))}
    assert updated == _triples(full)
    assert not list((tmp_path / "next").glob(".store-*"))  # no scratch folder left


def test_a_previous_build_without_a_store_is_loaded_afresh(four_then_five, tmp_path):
    _folder, _fifth, full = four_then_five
    empty = tmp_path / "old"
    empty.mkdir()
    update_store(empty, full / "ipgraph.nt", tmp_path / "next")
    assert len(pyoxigraph.Store.read_only(str(tmp_path / "next" / "store"))) == len(open_store(full))


def test_a_store_made_before_its_graph_file_needs_a_usable_change(four_then_five, tmp_path, monkeypatch):
    """update_store(new_nt=None) (an add's store made while its ipgraph.nt is written): from the change
    alone, stamped once the file is there (stamp_store); refused, with nothing left, when the change
    cannot be used (too much of it, or no previous store), since there is no file to load instead."""
    from ipgraph.store import stamp_store, store_info, store_is_current

    folder, fifth, full = four_then_five
    out = tmp_path / "out"
    _build([folder], out)
    previous = generation_dir(out)
    old = (previous / "ipgraph.nt").read_text(encoding="utf-8").split("\n")[:-1]
    new = (full / "ipgraph.nt").read_text(encoding="utf-8").split("\n")[:-1]
    change = (sorted(set(old) - set(new)), sorted(set(new) - set(old)))
    target = tmp_path / "next"
    target.mkdir()
    monkeypatch.setattr(store_module, "UPDATE_LIMIT", 1.0)  # a fifth plan of five: more than a fifth changes
    update_store(previous, None, target, change)
    assert {str(q.triple) for q in pyoxigraph.Store.read_only(str(target / "store"))} == _triples(full)
    shutil.copy(full / "ipgraph.nt", target / "ipgraph.nt")
    assert store_info(target).source_size is None  # no file to stamp it with yet
    stamp_store(target / "store", target / "ipgraph.nt")
    assert store_is_current(target) and store_info(target).triples == len(new)
    (tmp_path / "empty").mkdir()
    for refused, change_given, limit in ((tmp_path / "empty", change, 1.0), (previous, None, 1.0),
                                         (previous, change, 0.2)):
        monkeypatch.setattr(store_module, "UPDATE_LIMIT", limit)
        with pytest.raises(OSError):
            update_store(refused, None, tmp_path / "none", change_given)
    assert not (tmp_path / "none").exists() or not list((tmp_path / "none").iterdir())
