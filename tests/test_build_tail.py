"""The build's tail (issue 14): the page from the merged N-Triples, the stages after the merge run concurrently."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ipgraph.pipeline import build_graph, write_outputs
from ipgraph.store import load_graph
from ipgraph.stream.tail import Tail
from ipgraph.view import TripleIndex, read_view, render_page

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
OUTPUTS = ("ipgraph.nt", "ipgraph.ttl", "summary.json", "report.json", "graph.html")


@pytest.fixture(scope="module")
def corpus_result():
    return build_graph([CORPUS])


@pytest.fixture(scope="module")
def corpus_build(tmp_path_factory, corpus_result):
    out = tmp_path_factory.mktemp("tail") / "build"
    write_outputs(corpus_result, out)
    return out


def test_the_index_reads_the_same_view_as_rdflib(corpus_build):
    # every predicate the page reads must be kept by the index: the views are equal field by field
    index = TripleIndex.from_ntriples(corpus_build / "ipgraph.nt")
    by_index, by_rdflib = read_view(index), read_view(load_graph(corpus_build))
    assert list(by_index.nodes) == list(by_rdflib.nodes)
    assert by_index.nodes == by_rdflib.nodes
    assert by_index.edges == by_rdflib.edges
    assert any(n.cls == "measure" and n.info for n in by_index.nodes.values())


def test_the_build_page_equals_the_page_of_the_parsed_graph(corpus_build, corpus_result, tmp_path):
    # the same search data (the build's index and echoes) on both sides: the graph is what differs in how it is read
    page = render_page(load_graph(corpus_build), tmp_path / "rdflib.html", search_data=corpus_result.search.page_data)
    assert page.path.read_bytes() == (corpus_build / "graph.html").read_bytes()


def test_outputs_do_not_depend_on_the_concurrent_tail(corpus_build, tmp_path):
    result = build_graph([CORPUS], jobs=2)
    assert result.jobs == 2
    write_outputs(result, tmp_path / "j2")
    for name in OUTPUTS:
        assert (tmp_path / "j2" / name).read_bytes() == (corpus_build / name).read_bytes(), name
    assert {"store", "turtle", "page", "merge", "documents"} <= set(result.timings)
    assert (tmp_path / "j2" / "store" / "ipgraph-store.json").is_file()


def test_a_failing_child_stage_is_raised_and_the_others_finish(tmp_path):
    timings: dict[str, float] = {}
    (tmp_path / "src").write_text("done", encoding="utf-8")
    tail = Tail(True, timings)
    tail.run("store", shutil.copyfile, str(tmp_path / "missing"), str(tmp_path / "x"))  # raises in the child
    tail.run("turtle", shutil.copyfile, str(tmp_path / "src"), str(tmp_path / "t"))
    with pytest.raises(OSError, match="store: FileNotFoundError: .*missing"):
        tail.wait()
    assert (tmp_path / "t").read_text(encoding="utf-8") == "done"
    assert set(timings) == {"turtle"}


def test_a_build_that_opened_a_store_still_loads_one_concurrently(corpus_build, tmp_path):
    # a fork of this process (it has RocksDB open) would hang in the bulk load: the tail spawns
    from ipgraph.store import open_store

    store = open_store(corpus_build)
    assert len(store) > 0
    result = build_graph([CORPUS], jobs=2)
    write_outputs(result, tmp_path / "after")
    assert len(open_store(tmp_path / "after")) == len(store)


def test_a_call_bigger_than_the_pipe_does_not_wait_for_the_child_to_read_it(tmp_path, monkeypatch):
    # the child reads its call only once its interpreter has started; run() hands it over from a thread
    import threading

    import ipgraph.stream.tail as tail_module

    gate = tmp_path / "gate"
    monkeypatch.setattr(tail_module, "_CHILD", "import sys, time, pathlib\n"
                        f"while not pathlib.Path({str(gate)!r}).exists(): time.sleep(0.01)\n"
                        "from ipgraph.stream.tail import _child; _child(int(sys.argv[1]))")
    opened = threading.Timer(60, gate.touch)  # a run() that blocked would end here, and fail below
    opened.start()
    try:
        data = os.urandom(4 << 20)  # 64 times a pipe's buffer
        tail = Tail(True, {})
        tail.run("big", Path.write_bytes, tmp_path / "out", data)
        returned_first = not gate.exists()
        gate.touch()
        tail.wait()
    finally:
        opened.cancel()
    assert returned_first
    assert (tmp_path / "out").read_bytes() == data
    assert tail.feeders == []


def test_a_child_that_dies_before_reading_its_call_is_named(tmp_path, monkeypatch):
    import ipgraph.stream.tail as tail_module

    monkeypatch.setattr(tail_module, "_CHILD", "import os; os._exit(3)")
    tail = Tail(True, {})
    tail.run("lost", Path.write_bytes, tmp_path / "out", os.urandom(1 << 20))
    with pytest.raises(OSError, match="lost: its process ended without an answer .exit status 3"):
        tail.wait()
    assert not (tmp_path / "out").exists()


def test_a_child_can_be_niced_below_the_build(tmp_path):
    # coreutils' `nice` without a command prints the niceness it runs at (the child's, inherited)
    tail = Tail(True, {})
    tail.run("niced", os.system, f"nice > {tmp_path / 'niced'}", nice=7)
    tail.run("plain", os.system, f"nice > {tmp_path / 'plain'}")
    tail.wait()
    here = os.nice(0)
    assert int((tmp_path / "plain").read_text(encoding="ascii")) == here
    assert int((tmp_path / "niced").read_text(encoding="ascii")) == min(19, here + 7)


def _write_pid_and_object(path: str, data: dict) -> None:
    Path(path).write_text(f"{os.getpid()} {os.getppid()} {len(data['rows'])} {os.nice(0)}", encoding="ascii")


def _sleep_forever() -> None:
    import time

    time.sleep(3600)


def test_a_forked_child_runs_the_call_on_this_process_objects(tmp_path):
    """Tail.run(fork=True): a fork of this process runs the call on its own objects (nothing pickled: an
    unpicklable argument is fine), niced as asked, timed; a failure comes back named; stop() kills one."""
    import threading

    timings: dict[str, float] = {}
    tail = Tail(True, timings)
    data = {"rows": list(range(1000)), "lock": threading.Lock()}  # a lock cannot be pickled
    tail.run("forked", _write_pid_and_object, str(tmp_path / "out"), data, nice=3, fork=True)
    tail.run("fails", shutil.copyfile, str(tmp_path / "missing"), str(tmp_path / "x"), fork=True)
    with pytest.raises(OSError, match="fails: FileNotFoundError: .*missing"):
        tail.wait()
    pid, parent, rows, niceness = (int(x) for x in (tmp_path / "out").read_text(encoding="ascii").split())
    assert pid != os.getpid() and parent == os.getpid() and rows == 1000
    assert niceness == min(19, os.nice(0) + 3)
    assert set(timings) == {"forked"}
    tail.run("forever", _sleep_forever, fork=True)
    (_stage, child), = tail.children
    assert child.poll() is None
    tail.stop()
    assert child.returncode is not None and child.returncode < 0  # killed, and reaped
    with pytest.raises(ProcessLookupError):
        os.kill(child.pid, 0)


def test_a_spare_child_takes_a_later_call_and_unused_spares_are_ended(tmp_path):
    import ipgraph.stream.tail as tail_module

    spares = tail_module.prestart(2, ["ipgraph.store"], nice=5)
    others = tail_module.prestart(1, [])  # another build's (taken after those): left alone by discard_spares(only=…)
    try:
        tail = Tail(True, {})
        tail.run("niced", os.system, f"nice > {tmp_path / 'niced'}", nice=7, spare=True)  # 5 < 7: not a spare
        tail.run("spare", os.system, f"nice > {tmp_path / 'spare'}", spare=True)
        tail.run("plain", os.system, f"nice > {tmp_path / 'plain'}")  # not asked for: a new child
        pids = {stage: process.pid for stage, process in tail.children}
        tail.wait()
        assert pids["spare"] in {p.pid for p in spares}
        assert pids["niced"] not in {p.pid for p in spares} and pids["plain"] not in {p.pid for p in spares}
        here = os.nice(0)
        assert int((tmp_path / "spare").read_text(encoding="ascii")) == min(19, here + 5)  # niced as it was made
        assert int((tmp_path / "niced").read_text(encoding="ascii")) == min(19, here + 7)
        left = [p for p, _nice in tail_module._SPARES if p in spares]
        assert len(left) == 1 and left[0].poll() is None
    finally:
        tail_module.discard_spares(spares)
    assert all(p.poll() is not None for p in spares)
    assert [p for p, _nice in tail_module._SPARES] == others and others[0].poll() is None
    tail_module.discard_spares()
    assert tail_module._SPARES == [] and others[0].poll() is not None


def test_the_serial_tail_runs_in_this_process(tmp_path):
    pids: list[int] = []
    tail = Tail(False, {})
    tail.run("one", lambda: pids.append(os.getpid()))
    tail.wait()
    assert pids == [os.getpid()]


def test_an_aggregated_page_from_the_lean_index_equals_the_full_one(corpus_build, tmp_path):
    nt = corpus_build / "ipgraph.nt"
    lean, full = TripleIndex.from_ntriples(nt, lean=True), TripleIndex.from_ntriples(nt)
    assert sum(len(v) for v in lean.by_predicate.values()) < sum(len(v) for v in full.by_predicate.values()) / 2
    a = render_page(lean, tmp_path / "lean.html", node_budget=60)
    b = render_page(full, tmp_path / "full.html", node_budget=60)
    assert a.aggregated and a.path.read_bytes() == b.path.read_bytes()
    # under the budget the page draws the measures: for_page reads everything then
    whole = TripleIndex.for_page(nt, node_budget=100_000)
    assert sum(len(v) for v in whole.by_predicate.values()) == sum(len(v) for v in full.by_predicate.values())
    assert TripleIndex.for_page(nt, node_budget=60).by_predicate.keys() == lean.by_predicate.keys()


def _store_triples(build: Path) -> set[str]:
    from ipgraph.store import open_store

    return {f"{q.subject} {q.predicate} {q.object} ." for q in open_store(build)}


def test_a_staged_store_holds_the_graph_with_its_echoes(corpus_build, tmp_path):
    # loaded beside the search stage from the graph without its echoes; the echoes added at write_outputs
    result = build_graph([CORPUS], jobs=2, stage_store=True)
    assert result.staged is not None and result.search.echo_lines()  # the corpus has echoes to add
    child = result.staged.tail.children[0][1]
    write_outputs(result, tmp_path / "staged")
    assert child.poll() is not None and result.staged is None
    for name in OUTPUTS:
        assert (tmp_path / "staged" / name).read_bytes() == (corpus_build / name).read_bytes(), name
    lines = (tmp_path / "staged" / "ipgraph.nt").read_text(encoding="utf-8").splitlines()
    assert _store_triples(tmp_path / "staged") == set(lines)
    from ipgraph.store import store_info

    info, nt = store_info(tmp_path / "staged"), (tmp_path / "staged" / "ipgraph.nt").stat()
    assert (info.triples, info.source_size, info.source_mtime_ns) == (len(lines), nt.st_size, nt.st_mtime_ns)
    assert not list(result.work_dir.glob(".store-staged-*"))  # moved into the build, not left behind


def _ended(process, seconds: float = 20.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return process.poll() is not None


def test_a_staged_store_never_written_stops_with_its_result():
    import gc

    result = build_graph([CORPUS], jobs=2, stage_store=True)
    child = result.staged.tail.children[0][1]
    assert child.poll() is None  # waiting for write_outputs' word
    del result
    gc.collect()
    assert _ended(child)


def test_a_failed_search_stage_stops_the_staged_store(monkeypatch, tmp_path):
    import tempfile

    import ipgraph.search.stage as stage

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the build makes its scratch folder

    children = []
    original = Tail.run

    def run(self, name, function, *args, **kwargs):
        original(self, name, function, *args, **kwargs)
        children.append(self.children[-1][1])

    def fail(*args, **kwargs):
        raise RuntimeError("search stage failed")

    monkeypatch.setattr(Tail, "run", run)
    monkeypatch.setattr(stage, "search_stage", fail)
    with pytest.raises(RuntimeError, match="search stage failed"):
        build_graph([CORPUS], jobs=2, stage_store=True)
    assert len(children) == 1 and _ended(children[0], 5.0)
    assert not list(tmp_path.glob("ipgraph-build-*"))  # nor is its scratch folder left (the staged store's base in it)


def test_a_staged_store_is_copied_across_file_systems(corpus_build, tmp_path, monkeypatch):
    import json

    import ipgraph.store as store_module

    nt = corpus_build / "ipgraph.nt"
    lines = nt.read_text(encoding="utf-8").splitlines()
    (tmp_path / "base.nt").write_text("".join(f"{t}\n" for t in lines[::2]), encoding="utf-8")
    (tmp_path / "rest.nt").write_text("".join(f"{t}\n" for t in lines[1::2]), encoding="utf-8")
    (tmp_path / "out" / "store").mkdir(parents=True)  # a previous build's store: replaced, nothing left aside
    (tmp_path / "out" / "store" / "previous").write_text("x", encoding="utf-8")
    (tmp_path / "word.json").write_text(json.dumps({"lines": str(tmp_path / "rest.nt"), "nt": str(nt),
                                                    "build_dir": str(tmp_path / "out")}), encoding="utf-8")
    real = os.replace

    def cross_device(src, dst):
        if Path(src).name.startswith(".store-staged-"):
            raise OSError(18, "Invalid cross-device link")
        return real(src, dst)

    monkeypatch.setattr(store_module.os, "replace", cross_device)
    target = store_module.staged_store(tmp_path / "base.nt", tmp_path, tmp_path / "word.json")
    assert target == tmp_path / "out" / "store"
    assert _store_triples(tmp_path / "out") == set(lines)
    assert store_module.store_info(tmp_path / "out").triples == len(lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.nt", "out", "rest.nt", "word.json"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["store"]
    assert not (tmp_path / "out" / "store" / "previous").exists()


def test_a_graph_too_big_for_both_peaks_loads_its_store_after_the_search_stage(corpus_build, tmp_path, monkeypatch):
    # the search stage's peak and the bulk load's would add up past the tail's budget: no staged store
    from ipgraph.pipeline import StagedStore

    monkeypatch.setattr(StagedStore, "SEARCH_PEAK_PER_BYTE", 10_000.0)
    result = build_graph([CORPUS], jobs=2, stage_store=True)
    assert result.staged is None
    write_outputs(result, tmp_path / "late")
    lines = (tmp_path / "late" / "ipgraph.nt").read_text(encoding="utf-8").splitlines()
    assert _store_triples(tmp_path / "late") == set(lines)
    assert (tmp_path / "late" / "ipgraph.nt").read_bytes() == (corpus_build / "ipgraph.nt").read_bytes()
