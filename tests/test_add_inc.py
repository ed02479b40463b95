"""`ipgraph add` and rebuilds made from the previous build by their changes (ipgraph.stream.delta).

Every step of a sequence of additions, removals and changes must give the same outputs, byte for
byte, as a fresh full build of the same final folder: ipgraph.nt, the store's triples, Turtle,
summary.json and report.json."""
from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import pyoxigraph
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipgraph.pipeline import build_graph, cache_folder, write_outputs
from ipgraph.store import generation_dir, store_info, store_path
from ipgraph.stream import delta, merge

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
DEV = ROOT.parent / "shared" / "dev"


def _build(folder: Path, out: Path, cache: bool = True):
    # the reference full build (cache=False) reads in this process: the workers' start-up (about 1.5 s
    # each under load) is not under test there; the builds under test keep them (the delta path needs them)
    result = build_graph([folder], jobs=2, cache=cache, cache_dir=cache_folder(out) if cache else None,
                         keep_records=False, **({} if cache else {"file_timeout": None}))
    write_outputs(result, out)
    return result


def _store_lines(out: Path) -> list[str]:
    store = pyoxigraph.Store.read_only(str(store_path(generation_dir(out))))
    lines = sorted(f"{q.subject} {q.predicate} {q.object} ." for q in store)
    del store
    return lines


def _same_as_full(folder: Path, out: Path, tmp: Path) -> None:
    fresh = tmp / f"full-{len(list(tmp.iterdir()))}"
    _build(folder, fresh, cache=False)
    for name in ("ipgraph.nt", "ipgraph.ttl", "report.json"):
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name
    assert json.loads((out / "summary.json").read_text()) == json.loads((fresh / "summary.json").read_text())
    nt = (out / "ipgraph.nt").read_text(encoding="utf-8").split("\n")[:-1]
    assert _store_lines(out) == sorted(nt) == _store_lines(fresh)
    info = store_info(out)
    assert info is not None and info.triples == len(nt)  # the count an update wrote is the store's
    _same_search(out / "search", fresh / "search")
    assert (out / "graph.html").read_bytes() == (fresh / "graph.html").read_bytes()


def _same_search(index: Path, full: Path) -> None:
    """The search folder an update patched is the full build's: the same files byte for byte, the same
    tokens per document in the spool (whose blocks an update appends), the same counts kept."""
    from ipgraph.search.segment import TokenSpool
    from ipgraph.search.update import load_state

    for name in ("meta.json", "docs.json", "tokens.json", "echoes.tsv"):
        if (full / name).exists() or (index / name).exists():
            assert (index / name).read_bytes() == (full / name).read_bytes(), name
    ranked = sorted(p.name for p in (full / "ranked").iterdir())
    assert ranked and sorted(p.name for p in (index / "ranked").iterdir()) == ranked
    for name in ranked:
        assert (index / "ranked" / name).read_bytes() == (full / "ranked" / name).read_bytes(), name
    mine, theirs = TokenSpool.open(index), TokenSpool.open(full)
    assert mine is not None and theirs is not None and set(mine.at) == set(theirs.at)
    assert all(mine.document(d) == theirs.document(d) for d in theirs.at)
    a, b = load_state(index), load_state(full)
    assert a is not None and b is not None
    for name in ("documents", "docs", "starts", "iris", "labels", "keys", "signatures", "characters", "doc_spans",
                 "token_spans", "refs", "named"):
        assert getattr(a, name) == getattr(b, name), name
    for field in ("words", "grams"):
        x, y = getattr(a, field), getattr(b, field)
        assert x.vocab == y.vocab
        for array in ("per_row", "cols", "tf", "lengths", "empty"):
            assert (getattr(x, array) == getattr(y, array)).all(), (field, array)


@pytest.fixture()
def folder(four_documents):
    return four_documents


def _dev(name: str) -> Path:
    path = DEV / name
    if not path.is_file():
        pytest.skip("the shared dev documents are not here")
    return path


def test_adds_removals_and_changes_give_the_full_build_byte_for_byte(folder, tmp_path, monkeypatch):
    import ipgraph.search.echoes as echoes

    spliced = []  # the echoes' weighted rows: the previous build's kept, only the new documents' weighed
    real = echoes.splice_echo_rows
    monkeypatch.setattr(echoes, "splice_echo_rows", lambda parts: spliced.append(len(parts)) or real(parts))
    out, fulls = tmp_path / "out", tmp_path / "fulls"
    fulls.mkdir()
    first = _build(folder, out)
    assert first.delta is None  # nothing to start from: a full build
    steps = [
        ("add a document that sorts last", lambda: shutil.copy(_dev("H01.txt"), folder / "H01.txt")),
        # a document sorting first: its claims on shared nodes win over the others'
        ("add a document that sorts first", lambda: shutil.copy(_dev("H02.txt"), folder / "0000_first.txt")),
        ("remove a document", lambda: next(iter(sorted(folder.glob("00[0-9]_*.txt")))).unlink()),
        ("change a document", lambda: shutil.copy(_dev("H03.txt"), folder / "0000_first.txt")),
        ("remove the first one", lambda: (folder / "0000_first.txt").unlink()),
    ]
    for label, step in steps:
        step()
        result = _build(folder, out)
        assert result.delta is not None, label  # made from the previous build
        assert result.search.stats["update"]["mode"] == "incremental", label  # the index patched, not made again
        assert len(spliced) == steps.index((label, step)) + 1, label
        _same_as_full(folder, out, fulls)


def test_unchanged_rebuild_reads_no_entry_and_changes_nothing(folder, tmp_path, monkeypatch):
    out = tmp_path / "out"
    _build(folder, out)
    before = (out / "ipgraph.nt").read_bytes()
    read = []
    original = delta.peek
    monkeypatch.setattr(delta, "peek", lambda cache, key: read.append(key) or original(cache, key))
    result = _build(folder, out)
    assert result.delta is not None and result.delta.added == [] and result.delta.removed == []
    assert result.reused == 4 and read == []
    assert (out / "ipgraph.nt").read_bytes() == before


def test_a_copy_is_left_out_as_the_full_build_leaves_it(folder, tmp_path):
    out, fulls = tmp_path / "out", tmp_path / "fulls"
    fulls.mkdir()
    _build(folder, out)
    original = sorted(folder.glob("*.txt"))[1]
    shutil.copy(original, folder / "zzz_copy.txt")  # later by name: the copy is the one skipped
    result = _build(folder, out)
    assert result.delta is not None
    assert [e.path.name for e in result.skipped] == ["zzz_copy.txt"]
    _same_as_full(folder, out, fulls)
    shutil.copy(original, folder / "000_aaa_copy.txt")  # earlier by name: the full build keeps this one instead
    result = _build(folder, out)
    assert result.delta is None  # which document is kept changed: built in full
    assert sorted(e.path.name for e in result.skipped) == sorted([original.name, "zzz_copy.txt"])
    _same_as_full(folder, out, fulls)
    # and the next change is incremental again, from the full build's index
    (folder / "zzz_copy.txt").unlink()
    assert _build(folder, out).delta is not None
    _same_as_full(folder, out, fulls)


def test_patch_sorted_matches_a_set_computation(tmp_path, monkeypatch):
    import random

    rng = random.Random(7)
    for _ in range(100):
        # tiny windows: galloping, bisection and scans at every line; stretches copied by the kernel,
        # through this process, and gathered; old files with and without a last newline
        monkeypatch.setattr(merge, "SCAN", rng.choice([1, 8, 64, 1 << 13]))
        monkeypatch.setattr(merge, "COPY", rng.choice([1, 16, 1 << 18]))
        monkeypatch.setattr(merge, "RELEASE", rng.choice([1, 1 << 25]))  # pages let go behind the pass, or not
        kernel = rng.random() < 0.7
        monkeypatch.setattr(merge._Output, "__init__", _output_init(kernel))
        def line() -> str:
            return f'<http://x/{rng.randint(0, 300)}> <http://p/{rng.randint(0, 3)}> "{chr(0x4E00 + rng.randint(0, 50))}" .'
        old = sorted({line() for _ in range(rng.randint(0, 200))})
        text = "".join(f"{t}\n" for t in old)
        (tmp_path / "old.nt").write_text(text[:-1] if old and rng.random() < 0.2 else text, encoding="utf-8")
        queries = sorted({line() for _ in range(rng.randint(0, 40))} | set(rng.sample(old, min(len(old), 10))))
        wanted = {q: rng.random() < 0.5 for q in queries}
        present = merge.patch_sorted(tmp_path / "old.nt", tmp_path / "new.nt", queries, lambda q, _f, w=wanted: w[q])
        assert present == [q in set(old) for q in queries]
        expected = sorted((set(old) - {q for q in queries if not wanted[q]}) | {q for q in queries if wanted[q]})
        assert (tmp_path / "new.nt").read_text(encoding="utf-8").split("\n")[:-1] == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(old=st.sets(st.integers(0, 300), max_size=100), gone=st.sets(st.integers(0, 300), max_size=40),
       new=st.sets(st.integers(301, 600), max_size=40), terminated=st.booleans(),
       scan=st.sampled_from([1, 8, 1 << 13]), prefix=st.integers(0, 60),
       keys=st.tuples(st.none() | st.integers(0, 61), st.none() | st.integers(0, 61)))
def test_a_patched_file_reads_as_the_file_patch_sorted_writes(tmp_path_factory, old, gone, new, terminated, scan,
                                                              prefix, keys):
    """merge.PatchedFile (the graph an add reads before writing it): whole, by prefix, by key range (the
    Turtle's slices) and by presence, the lines patch_sorted would write for the same change, whatever the
    bisection's window."""
    folder = tmp_path_factory.mktemp("pf")
    saved = merge.SCAN
    merge.SCAN = scan
    try:
        def line(n: int) -> str:  # new lines fall between old ones: the same subjects, other objects
            return f'<http://x/{n % 300 // 5:02d}> <http://p/{n % 5}> "{n}" .'
        old_lines = sorted(line(n) for n in old)
        text = "".join(f"{t}\n" for t in old_lines)
        (folder / "old.nt").write_text(text if terminated or not text else text[:-1], encoding="utf-8")
        removed = sorted(line(n) for n in old & gone)
        added = sorted(set(line(n) for n in new) - set(old_lines))
        change = set(removed) | set(added)
        merge.patch_sorted(folder / "old.nt", folder / "new.nt", sorted(change), lambda q, _f: q in set(added))
        written = (folder / "new.nt").read_bytes()
        patched = merge.PatchedFile(str(folder / "old.nt"), tuple(removed), tuple(added))
        with patched.opened() as lines:
            assert lines.reader().read() == written
            spelled = f"<http://x/{prefix:02d}>".encode()
            assert lines.starting_with(spelled) == b"".join(x + b"\n" for x in written.split(b"\n") if x.startswith(spelled))
            lo, hi = (None if k is None else f"<http://x/{k:02d}> ".encode() for k in keys)
            assert lines.between(lo, hi) == b"".join(
                x + b"\n" for x in written.split(b"\n") if x and (lo is None or x >= lo) and (hi is None or x < hi))
        queries = sorted(change | set(old_lines[:5]))
        assert merge.lines_held(folder / "old.nt", queries) == [q in set(old_lines) for q in queries]
    finally:
        merge.SCAN = saved


def _output_init(kernel: bool):
    original = merge._Output.__init__

    def init(self, *args):
        original(self, *args)
        self.kernel = self.kernel and kernel  # False: every stretch through this process

    return init


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(old=st.sets(st.integers(0, 400), max_size=120), new=st.sets(st.integers(0, 400), max_size=120),
       scan=st.sampled_from([1, 8, 64, 1 << 13]), copy=st.sampled_from([1, 64, 1 << 18]))
def test_insert_sorted_is_the_union_and_counts_the_new_lines(tmp_path_factory, old, new, scan, copy):
    """insert_sorted (the echoes' merge): the sorted union of the file and the lines, whatever the
    bisection's windows and the copies' sizes; `present` says which the file held; merge_lines_into
    counts lines and classes as a full count."""
    folder = tmp_path_factory.mktemp("ins")
    saved = merge.SCAN, merge.COPY, merge.BLOCK
    merge.SCAN, merge.COPY, merge.BLOCK = scan, copy, 64  # runs of new lines at the start, the end, between
    try:
        def line(n: int) -> str:  # a type line every 7th: the class counts move too
            kind = f"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://c/{n % 3}>" if n % 7 == 0 else '<http://p> "值"'
            return f"<http://x/{n:04d}> {kind} ."
        old_lines = sorted(line(n) for n in old)
        lines = sorted(line(n) for n in new)
        (folder / "old.nt").write_text("".join(f"{t}\n" for t in old_lines), encoding="utf-8")
        total, classes = merge.merge_lines_into(folder / "old.nt", lines, folder / "new.nt")
        union = sorted(set(old_lines) | set(lines))
        assert (folder / "new.nt").read_text(encoding="utf-8").split("\n")[:-1] == union
        merge._COUNTS.clear()  # counted from the file itself, not remembered
        expected = Counter(f"http://c/{n % 3}" for n in old | new if n % 7 == 0)
        assert (total, classes) == merge.count_lines(folder / "new.nt") == (len(union), expected)
        assert merge.insert_sorted(folder / "old.nt", folder / "again.nt", lines) == [t in set(old_lines) for t in lines]
    finally:
        merge.SCAN, merge.COPY, merge.BLOCK = saved


def test_merge_counts_the_sources_of_shared_lines(tmp_path):
    writer = merge.RunWriter(tmp_path / "runs", run_lines=3)
    writer.add({"a", "b"})
    writer.add({"b", "c"})
    writer.add(["c", "c", "d"])  # one source: its own repeats count once
    writer.add({"b"})
    writer.flush()
    shared: dict[str, int] = {}
    total, _ = merge.merge_runs(writer.runs, tmp_path / "out.nt", tmp_path, shared=shared)
    assert (tmp_path / "out.nt").read_text().split("\n")[:-1] == ["a", "b", "c", "d"] and total == 4
    assert shared == {"b": 3, "c": 2}


def test_turtle_in_slices_is_the_whole_serialization_and_updates_exactly(tmp_path, monkeypatch):
    import random

    from ipgraph.pipeline import TURTLE_PREFIXES
    from ipgraph.stream import turtle

    monkeypatch.setattr(turtle, "CHUNK", 2048)  # many slices on the corpus
    built = build_graph([CORPUS], keep_records=False)  # its scratch folder lives as long as the result
    nt = built.ntriples
    merge.turtle_from_ntriples(nt, tmp_path / "whole.ttl", TURTLE_PREFIXES)  # pyoxigraph over the whole file
    turtle.write_turtle(nt, tmp_path / "sliced.ttl", TURTLE_PREFIXES)
    assert (tmp_path / "sliced.ttl").read_bytes() == (tmp_path / "whole.ttl").read_bytes()
    assert len(turtle._load_map(turtle.map_path(tmp_path / "sliced.ttl")).starts) > 20
    lines = nt.read_text(encoding="utf-8").split("\n")[:-1]
    rng = random.Random(5)
    gone = set(rng.sample(lines, 150))
    new = [*(t for t in lines if t not in gone),
           '<https://w3id.org/ipgraph/id/zzz> <http://www.w3.org/2000/01/rdf-schema#label> "新"@zh .',
           '<https://w3id.org/ipgraph/id/000> <http://www.w3.org/2000/01/rdf-schema#label> "新"@zh .']
    (tmp_path / "new.nt").write_text("".join(f"{t}\n" for t in sorted(new)), encoding="utf-8")
    changed = sorted(gone | set(new[-2:]))
    turtle.update_turtle(tmp_path / "sliced.ttl", tmp_path / "new.nt", tmp_path / "updated.ttl", TURTLE_PREFIXES, changed)
    merge.turtle_from_ntriples(tmp_path / "new.nt", tmp_path / "whole-new.ttl", TURTLE_PREFIXES)
    assert (tmp_path / "updated.ttl").read_bytes() == (tmp_path / "whole-new.ttl").read_bytes()
    turtle.update_turtle(tmp_path / "updated.ttl", nt, tmp_path / "back.ttl", TURTLE_PREFIXES, changed)
    assert (tmp_path / "back.ttl").read_bytes() == (tmp_path / "whole.ttl").read_bytes()
    # from the previous file and the change, the new one not written (an add's Turtle made early)
    patched = merge.PatchedFile(str(nt), tuple(sorted(gone)), tuple(sorted(new[-2:])))
    turtle.update_turtle(tmp_path / "sliced.ttl", patched, tmp_path / "early.ttl", TURTLE_PREFIXES, changed)
    assert (tmp_path / "early.ttl").read_bytes() == (tmp_path / "whole-new.ttl").read_bytes()
    assert turtle.map_path(tmp_path / "early.ttl").read_bytes() == turtle.map_path(tmp_path / "updated.ttl").read_bytes()
    turtle.map_path(tmp_path / "sliced.ttl").unlink()  # no slice map: the whole Turtle cannot be made from a change
    with pytest.raises(OSError):
        turtle.update_turtle(tmp_path / "sliced.ttl", patched, tmp_path / "refused.ttl", TURTLE_PREFIXES, changed)
    assert not (tmp_path / "refused.ttl").exists()


def test_split_echoes_takes_out_exactly_the_lines_the_search_stage_added(folder, tmp_path):
    from ipgraph.search.stage import split_echoes

    result = _build(folder, tmp_path / "out")
    echoes = split_echoes(tmp_path / "out" / "ipgraph.nt", tmp_path / "rest.nt")
    assert echoes and echoes == result.search.echo_lines()
    whole = (tmp_path / "out" / "ipgraph.nt").read_text(encoding="utf-8").split("\n")[:-1]
    assert (tmp_path / "rest.nt").read_text(encoding="utf-8").split("\n")[:-1] == sorted(set(whole) - set(echoes))


@pytest.mark.parametrize("fallback", ["index counted whole", "echoes computed whole", "graph merged whole"])
def test_an_add_whose_shortcut_fails_still_gives_the_full_build(folder, tmp_path, monkeypatch, fallback):
    """An add reads the new graph as the previous file with the documents' change and writes it once;
    when a step cannot use that (the search index counted whole, the echoes computed whole, the
    previous file not what the index describes), the graph without echoes is written and the result is
    still the full build's."""
    import ipgraph.search.stage as stage_module
    import ipgraph.search.update as update_module
    from ipgraph.search.echoes import ECHO_STATE

    out, fulls = tmp_path / "out", tmp_path / "fulls"
    fulls.mkdir()
    _build(folder, out)
    if fallback == "index counted whole":
        monkeypatch.setattr(update_module, "update_stage", lambda *a, **k: None)
    elif fallback == "echoes computed whole":
        (out / "search" / ECHO_STATE).unlink()  # no echo state: every pair computed, no change spelled
    else:
        monkeypatch.setattr(stage_module, "patch_echoes", lambda *a, **k: False)
    shutil.copy(_dev("H01.txt"), folder / "H01.txt")
    result = _build(folder, out)
    assert result.delta is not None
    _same_as_full(folder, out, fulls)
    monkeypatch.undo()
    (folder / "H01.txt").unlink()  # and the next add starts from what that one left
    assert _build(folder, out).delta is not None
    _same_as_full(folder, out, fulls)


@pytest.mark.parametrize("early", ["taken", "its child fails"])
def test_the_store_and_turtle_made_once_the_change_is_known_are_the_full_builds(folder, tmp_path, early):
    """An add makes its store and Turtle in one child as soon as the whole change is known, in a staging
    folder beside the generations, and write_outputs moves them in: the full build's, the store stamped
    with the new ipgraph.nt. When that child fails (here: the previous Turtle's slice map is gone, so
    the Turtle cannot be made from the change), both are written the usual way: still the full build's,
    and no staging folder is left."""
    from ipgraph.store import store_is_current
    from ipgraph.stream.turtle import map_path

    out, fulls = tmp_path / "out", tmp_path / "fulls"
    fulls.mkdir()
    _build(folder, out)
    if early == "its child fails":
        map_path(generation_dir(out) / "ipgraph.ttl").unlink()
    shutil.copy(_dev("H01.txt"), folder / "H01.txt")
    result = build_graph([folder], jobs=2, cache=True, cache_dir=cache_folder(out), keep_records=False)
    staging = result.early_outputs.folder
    assert staging.parent == out / ".ipgraph" and staging.is_dir()
    write_outputs(result, out)
    # a stage is timed when its child answered: the early one, else the usual store and Turtle children
    assert ("store and turtle" in result.timings) == (early == "taken") == ("turtle" not in result.timings)
    assert not staging.exists() and not list((out / ".ipgraph").glob(".early-*"))
    assert store_is_current(out)
    _same_as_full(folder, out, fulls)


def test_a_staging_folder_of_a_build_gone_is_removed_by_the_next(folder, tmp_path):
    """A killed add leaves its staging folder (.early-PID-HEX); the next build removes it, not a live build's."""
    import os

    out = tmp_path / "out"
    _build(folder, out)
    dead = out / ".ipgraph" / ".early-99999999-abcd0123"  # above any pid_max: no such process
    live = out / ".ipgraph" / f".early-{os.getppid()}-abcd0123"
    for staging in (dead, live):
        (staging / "store").mkdir(parents=True)
    shutil.copy(_dev("H01.txt"), folder / "H01.txt")
    _build(folder, out)
    assert not dead.exists() and live.is_dir()


@pytest.mark.parametrize("echoes_fork", ["answers", "fails"])
def test_the_ranked_field_and_echoes_made_beside_are_the_full_builds(folder, tmp_path, monkeypatch, echoes_fork):
    """Above the page's inline index (MAX_MEASURES; lowered here) an add makes the BM25 fields in a child
    process, and the echoes with the page's search data in a fork, while this one writes the rest of the
    index: the same index, echoes and page, byte for byte. When the fork fails, the echoes are made here."""
    import ipgraph.search.page as page
    import ipgraph.search.stage as stage
    import ipgraph.search.update as update

    monkeypatch.setattr(page, "MAX_MEASURES", 0)
    monkeypatch.setattr(stage, "MAX_MEASURES", 0)
    out, fulls = tmp_path / "out", tmp_path / "fulls"
    fulls.mkdir()
    _build(folder, out)
    if echoes_fork == "fails":
        monkeypatch.setattr(update, "echoes_beside", lambda *a: os._exit(3))  # the fork dies without an answer
    shutil.copy(_dev("H01.txt"), folder / "H01.txt")
    result = _build(folder, out)
    assert result.delta is not None and "search ranked" in result.timings
    assert ("search echoes" in result.timings) == (echoes_fork == "answers")
    assert result.search._echoes is None if echoes_fork == "answers" else result.search._echoes
    _same_as_full(folder, out, fulls)
    full = _build(folder, tmp_path / "again", cache=False)
    assert result.search.echoes == full.search.echoes and result.search.echoes  # read back from the echo state


def test_an_add_that_falls_under_the_inline_index_tells_the_echoes_fork_to_stop(folder, tmp_path, monkeypatch):
    """The echoes' fork starts when the previous index is above the page's inline index; when the new one is
    not (a removal crossed it), the fork is told it is not needed and the echoes are made here: the full
    build's outputs still."""
    import ipgraph.search.page as page
    import ipgraph.search.stage as stage
    import ipgraph.search.update as update

    out, fulls = tmp_path / "out", tmp_path / "fulls"
    fulls.mkdir()
    measures = _build(folder, out).search.stats["measures"]
    next(iter(sorted(folder.glob("00[0-9]_*.txt")))).unlink()
    monkeypatch.setattr(page, "MAX_MEASURES", measures - 1)  # the previous index above it, the new one not
    monkeypatch.setattr(stage, "MAX_MEASURES", measures - 1)
    started = tmp_path / "fork-started"
    real = update.echoes_beside
    monkeypatch.setattr(update, "echoes_beside", lambda *a: started.touch() or real(*a))  # runs in the fork
    result = _build(folder, out)
    assert started.exists()  # the fork was started, then told to stop
    assert result.delta is not None and result.search.stats["measures"] <= measures - 1
    assert "search echoes" not in result.timings and result.search._echoes  # made here, not by the fork
    _same_as_full(folder, out, fulls)


def test_the_index_of_a_dask_build_serves_the_next_add(folder, tmp_path):
    pytest.importorskip("distributed")
    out, fulls = tmp_path / "out", tmp_path / "fulls"
    fulls.mkdir()
    result = build_graph([folder], jobs=2, cache=True, cache_dir=cache_folder(out), keep_records=False,
                         scheduler="local")  # each document's lines come back as a shard: one source each
    write_outputs(result, out)
    shutil.copy(_dev("H01.txt"), folder / "000_0_first.txt")
    assert _build(folder, out).delta is not None
    _same_as_full(folder, out, fulls)


def test_an_aggregated_page_is_drawn_beside_the_search_stage(tmp_path, monkeypatch):
    """80 plans: more nodes than the page draws, so the page folds the measures; an add draws it in a
    child process while the search stage runs, from the previous build's fold patched by the documents'
    change, and joins it with the search data: the full build's page, byte for byte. When the child's
    parts cannot be had, the page is drawn in this process instead, the same page."""
    from ipgraph import view
    from ipgraph.pipeline import StagedPage
    from ipgraph.stream.corpus import generate_corpus
    from ipgraph.view import FOLD_STATE

    corpus = Path(__file__).resolve().parents[1] / "data" / "corpus"
    plans = tmp_path / "plans"
    last = generate_corpus(plans, 80, corpus)[-1]
    held = tmp_path / last.name
    shutil.move(last, held)
    out, fulls = tmp_path / "out", tmp_path / "fulls"
    fulls.mkdir()
    first = _build(plans, out)  # 79 plans, in full
    assert "page" in first.timings and "page, joined" not in first.timings  # a full build draws it itself
    assert (out / ".ipgraph" / "current" / FOLD_STATE).is_file()  # aggregated: its fold kept for the next add
    page_79 = (out / "graph.html").read_bytes()
    shutil.move(held, plans / last.name)
    # its child is started before the documents are read (it reads the previous fold meanwhile) and told
    # the change once they are; it writes the page's parts before it keeps the patched fold
    early: list[StagedPage] = []
    real_early, real_incremental = StagedPage.early, delta.incremental_build
    monkeypatch.setattr(StagedPage, "early", classmethod(lambda cls, *a: early.append(real_early(*a)) or early[-1]))
    monkeypatch.setattr(delta, "incremental_build", lambda *a, **k: (early and early[-1].tail.running()
                                                                    and real_incremental(*a, **k)) or None)
    added = _build(plans, out)
    monkeypatch.undo()
    assert added.delta is not None and "page, joined" in added.timings
    assert len(early) == 1 and added.staged_page is None and not early[0].tail.running()
    _same_as_full(plans, out, fulls)  # every output, the page too
    page_80 = (out / "graph.html").read_bytes()
    assert (out / ".ipgraph" / "current" / FOLD_STATE).is_file()
    # with -j 1 the same parts are drawn here, before the stage: the previous fold patched, not the graph folded
    shutil.move(plans / last.name, held)
    folded = []
    real = view.fold_ntriples
    monkeypatch.setattr(view, "fold_ntriples", lambda path: folded.append(path) or real(path))
    result = build_graph([plans], jobs=1, cache=True, cache_dir=cache_folder(out), keep_records=False)
    write_outputs(result, out)
    assert result.delta is not None and "page, joined" in result.timings and folded == []
    assert (out / "graph.html").read_bytes() == page_79
    monkeypatch.undo()

    def fails(self):
        raise OSError("page: its process ended without an answer")

    monkeypatch.setattr(StagedPage, "finish", fails)
    shutil.move(held, plans / last.name)
    again = _build(plans, out)
    assert again.delta is not None and "page, joined" not in again.timings
    assert (out / "graph.html").read_bytes() == page_80
    monkeypatch.undo()
    # an add made in full after all (here: the delta refused) stops the child it started early
    shutil.move(plans / last.name, held)
    early.clear()
    monkeypatch.setattr(StagedPage, "early", classmethod(lambda cls, *a: early.append(real_early(*a)) or early[-1]))
    monkeypatch.setattr(delta, "incremental_build", lambda *a, **k: None)
    full = _build(plans, out)
    assert full.delta is None and len(early) == 1 and not early[0].tail.running()
    assert (out / "graph.html").read_bytes() == page_79


def test_only_a_small_or_patched_page_is_drawn_beside_the_search_stage(tmp_path):
    """A bounded page folds the whole graph (gigabytes at 10,000 plans): drawn before the stage, so its
    peak and the stage's do not add up; a small graph's page, or one patched from a kept fold, beside it."""
    from ipgraph.pipeline import StagedPage
    from ipgraph.view import BOUNDED_NODES, DEFAULT_NODE_BUDGET, FOLD_STATE

    previous = tmp_path / "gen"
    previous.mkdir()
    assert StagedPage.fits(None, previous) and StagedPage.fits(DEFAULT_NODE_BUDGET, previous)
    assert not StagedPage.fits(BOUNDED_NODES + 1, previous)  # no fold kept: the whole graph folded
    assert not StagedPage.fits(DEFAULT_NODE_BUDGET + 1, previous)
    (previous / FOLD_STATE).write_text("{}", encoding="utf-8")
    assert StagedPage.fits(DEFAULT_NODE_BUDGET + 1, previous)  # the previous fold patched


def test_a_pass_over_a_big_file_keeps_little_of_it_resident(tmp_path):
    """patch_sorted reads the old file through an mmap; a page read that way counts in the process's
    resident set, so the pages behind the pass are let go (at 10,000 plans the 4.3 GB file took the pass
    to 4.1 GB without it). A 96 MB file, a change every 200 KB (stretches too short for the kernel's copy):
    the pass's process stays far below the file's size."""
    import subprocess
    import sys

    big = tmp_path / "big.nt"
    with open(big, "w", encoding="utf-8") as out:
        for n in range(1_200_000):
            out.write(f'<http://x/{n:08d}> <http://p> "{"值" * 20}" .\n')
    script = f"""
import os
from ipgraph.stream import merge
size = os.path.getsize({str(big)!r})
queries = sorted({{f'<http://x/{{n:08d}}> <http://q> "new" .' for n in range(0, 1_200_000, 2_500)}})
merge.patch_sorted({str(big)!r}, {str(tmp_path / "out.nt")!r}, queries, lambda q, found: True)
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) // 1024)
"""
    peak_mb = int(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)
    assert (tmp_path / "out.nt").stat().st_size > big.stat().st_size
    assert peak_mb < 40 + merge.RELEASE // 2**20, peak_mb  # the interpreter, one window of the map, the pieces
