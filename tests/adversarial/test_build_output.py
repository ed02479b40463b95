"""`ipgraph build -o DIR` against folders that hold other things (issue 9, items 7–9).

7: an output name taken by the user's own file or folder is never replaced: one line, exit 3.
8: nothing that is an input of the running build is ever removed, whatever its name.
9: a build killed (SIGKILL) at any point leaves readers one whole generation, also in a folder
   with files of its own, and the next build removes what the killed one left.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = sorted((REPO / "data" / "corpus").glob("*.txt"))


def run_build(*args: str, env: dict[str, str] | None = None, wait: bool = True) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "ipgraph", "build", *args], cwd=REPO,
                               env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    if wait:
        process.stdout_text, process.stderr_text = process.communicate(timeout=300)  # type: ignore[attr-defined]
    return process


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every entry under folder (links not followed): file bytes, None for a folder, 'link' targets."""
    out: dict[str, bytes | None] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        out[key] = (b"->" + os.readlink(path).encode()) if path.is_symlink() else (
            path.read_bytes() if path.is_file() else None)
    return out


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("inputs")
    one, two = base / "one", base / "two"
    for folder, docs in ((one, DOCS[:1]), (two, DOCS[:2])):
        folder.mkdir()
        for doc in docs:
            shutil.copy(doc, folder)
    return {"one": one, "two": two}


# ---------------------------------------------------------------- item 7


@pytest.mark.parametrize("name", ["store", "graph.html", "ipgraph.ttl", "ipgraph.nt", "summary.json", ".ipgraph"])
def test_an_output_name_taken_by_the_users_own_entry_is_refused(tmp_path, inputs, name):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"precious")
    entry = mine / name
    if name in ("store", ".ipgraph"):
        entry.mkdir()
        (entry / "my-data.bin").write_bytes(b"years of work")
    else:
        entry.write_text("my own file\n", encoding="utf-8")
    before = tree(mine)
    process = run_build(str(inputs["one"]), "-o", str(mine))
    assert process.returncode == 3
    lines = process.stderr_text.splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0].startswith(f"Error: cannot write the build: {entry}: exists and ")
    assert "not ipgraph's" in lines[0] or "not written by ipgraph build" in lines[0]
    assert tree(mine) == before  # nothing written, nothing removed


def test_a_folder_built_by_an_earlier_ipgraph_is_taken_over(tmp_path, inputs):
    # the layout before generations: plain files and store/ with its ipgraph-store.json
    from ipgraph.pipeline import build_graph
    from ipgraph.store import load_graph

    legacy = tmp_path / "legacy"
    (legacy / "store").mkdir(parents=True)
    (legacy / "store" / "ipgraph-store.json").write_text('{"triples": 1}\n')
    (legacy / "summary.json").write_text('{"summary": {}, "documents": [], "skipped": []}\n')
    (legacy / "ipgraph.ttl").write_text("old\n")
    process = run_build(str(inputs["one"]), "-o", str(legacy))
    assert process.returncode == 0, process.stderr_text  # type: ignore[attr-defined]
    assert all((legacy / name).is_symlink() for name in ("store", "summary.json", "ipgraph.ttl"))
    assert len(load_graph(legacy)) == len(build_graph([inputs["one"]]).graph)


# ---------------------------------------------------------------- item 8


def test_an_input_named_like_a_dead_builds_staging_folder_is_not_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = dead.stdout.strip()
    out = tmp_path / "build"
    # the old layout's staging name, beside the build folder
    beside = tmp_path / f".build.staging-{pid}-0123abcd"
    beside.mkdir()
    shutil.copy(DOCS[0], beside)
    for _ in range(2):
        process = run_build(str(beside), "-o", str(out))
        assert process.returncode == 0, process.stderr_text  # type: ignore[attr-defined]
        assert beside.is_dir() and any(beside.glob("*.txt")), f"{beside} was removed"
    # and a generation folder of the new layout, marker and all, given as the input
    inside = out / ".ipgraph" / f"gen-{pid}-4567abcd"
    inside.mkdir()
    (inside / ".ipgraph-generation").write_text("{}\n")
    shutil.copy(DOCS[1], inside)
    process = run_build(str(inside), "-o", str(out))
    assert process.returncode == 0, process.stderr_text  # type: ignore[attr-defined]
    assert inside.is_dir() and any(inside.glob("*.txt")), f"{inside} was removed"
    assert run_build(str(DOCS[0]), "-o", str(out)).returncode == 0
    assert not inside.exists()  # once it is not an input, a dead build's marked generation is removed


def test_a_file_inside_a_generation_is_not_removed_when_it_is_an_input(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    out = tmp_path / "build"
    assert run_build(str(DOCS[0]), "-o", str(out)).returncode == 0
    stale = out / ".ipgraph" / f"gen-{dead.stdout.strip()}-89abcdef"
    stale.mkdir()
    (stale / ".ipgraph-generation").write_text("{}\n")
    doc = shutil.copy(DOCS[2], stale / "my.txt")
    assert run_build(str(doc), "-o", str(out)).returncode == 0
    assert Path(doc).is_file()


# ---------------------------------------------------------------- item 9


@pytest.fixture(scope="module")
def generations(tmp_path_factory, inputs) -> dict[str, object]:
    """The graph files of an 'old' (one document) and a 'new' (two documents) build."""
    base = tmp_path_factory.mktemp("generations")
    result = {}
    for name in ("one", "two"):
        assert run_build(str(inputs[name]), "-o", str(base / name)).returncode == 0
        result[name] = {f: (base / name / f).read_bytes() for f in ("ipgraph.nt", "ipgraph.ttl", "summary.json")}
    return result


def foreign_folder(tmp_path: Path, inputs) -> Path:
    """A folder with files of its own, holding the 'old' build."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"precious")
    (mine / "notes").mkdir()
    (mine / "notes" / "a.txt").write_text("notes\n")
    assert run_build(str(inputs["one"]), "-o", str(mine)).returncode == 0
    return mine


def whole(mine: Path, generations) -> str:
    """Which build readers see in mine ('one' or 'two'), checking that every output agrees."""
    from ipgraph.query import open_engine
    from ipgraph.store import load_graph

    seen = {f: (mine / f).read_bytes() for f in ("ipgraph.nt", "ipgraph.ttl", "summary.json")}
    which = [name for name, files in generations.items() if files == seen]
    assert len(which) == 1, "the outputs mix two builds"
    assert (mine / "thesis.docx").read_bytes() == b"precious"
    assert (mine / "notes" / "a.txt").read_text() == "notes\n"
    expected = len(load_graph(mine))
    rows = open_engine(mine).execute("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").records()
    assert int(rows[0]["n"]) == expected  # the store belongs to the same generation as the files
    return which[0]


@pytest.mark.slow
@pytest.mark.parametrize(("point", "expected"), [("staged", "one"), ("swapped", "two")])
def test_killed_while_publishing_into_a_folder_with_files_of_its_own(tmp_path, inputs, generations, point,
                                                                     expected):
    mine = foreign_folder(tmp_path, inputs)
    process = run_build(str(inputs["two"]), "-o", str(mine), env={"IPGRAPH_TEST_KILL_AT": point})
    assert process.returncode == -signal.SIGKILL
    assert whole(mine, generations) == expected
    generations_left = [p for p in (mine / ".ipgraph").iterdir() if p.name.startswith("gen-")]
    assert len(generations_left) == 2  # the killed build's or the previous one is left …
    assert run_build(str(inputs["two"]), "-o", str(mine)).returncode == 0
    assert whole(mine, generations) == "two"
    assert len([p for p in (mine / ".ipgraph").iterdir() if p.name.startswith("gen-")]) == 1  # … and removed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # nothing beside the folder


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.4, 0.9, 1.4, 2.0])
def test_killed_at_any_moment_in_a_folder_with_files_of_its_own(tmp_path, inputs, generations, delay):
    mine = foreign_folder(tmp_path, inputs)
    process = run_build(str(inputs["two"]), "-o", str(mine), wait=False)
    time.sleep(delay)
    process.kill()
    process.communicate(timeout=30)  # the build's worker dies with it: nothing holds its output open
    assert whole(mine, generations) in ("one", "two")
