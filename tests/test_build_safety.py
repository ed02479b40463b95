"""A build never leaves a broken build folder, is idempotent, and says through its exit status what happened.

Kill tests run `python -m ipgraph build` in a subprocess and SIGKILL it: at named points of the
publication of a generation (IPGRAPH_TEST_KILL_AT, a hook in ipgraph.pipeline.write_outputs), as
soon as its generation folder appears, and after a few delays. Whenever it dies, the build folder must be
byte-for-byte the previous build or the complete new one, and loadable.
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
from click.testing import CliRunner
from fixture_files import write_docx, write_pdf
from rdflib import Graph

from ipgraph.cli import main
from ipgraph.iri import document_iri
from ipgraph.store import load_graph

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "data" / "corpus"
DOCS = sorted(CORPUS.glob("*.txt"))
FILES = ("ipgraph.nt", "ipgraph.ttl", "summary.json")  # at least these; other outputs are compared too


def run_build(*args: str, env: dict[str, str] | None = None, wait: bool = True) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "ipgraph", "build", *args], cwd=REPO,
        env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    if wait:
        process.communicate(timeout=300)
    return process


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, object]:
    """An 'old' build (one document) and a 'new' one (two documents), built in subprocesses.

    The new one is built twice with different hash seeds: the files that come out byte-identical
    (the graph files at least) are the ones compared; a store's own files may differ run to run.
    """
    base = tmp_path_factory.mktemp("safety")
    inputs = {}
    for name, docs in (("one", DOCS[:1]), ("two", DOCS[:2])):
        inputs[name] = base / name
        inputs[name].mkdir()
        for doc in docs:
            shutil.copy(doc, inputs[name])
    old, new1, new2 = base / "old", base / "new1", base / "new2"
    assert run_build(str(inputs["one"]), "-o", str(old)).returncode == 0
    assert run_build(str(inputs["two"]), "-o", str(new1), env={"PYTHONHASHSEED": "1"}).returncode == 0
    assert run_build(str(inputs["two"]), "-o", str(new2), env={"PYTHONHASHSEED": "2"}).returncode == 0
    first, second = files(new1), files(new2)
    stable = sorted(name for name in first if second.get(name) == first[name])
    return {"input": inputs["two"], "stable": stable, "old_dir": old, "new1": first, "new2": second,
            "old": snapshot(old, stable), "new": snapshot(new1, stable),
            "old_names": sorted(os.listdir(old)), "new_names": sorted(os.listdir(new1))}


def snapshot(folder: Path, names) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in names if (folder / name).is_file()}


def previous_build(builds, tmp_path: Path) -> Path:
    out = tmp_path / "build"
    shutil.copytree(builds["old_dir"], out, symlinks=True)  # the outputs are links through .ipgraph/current
    return out


def assert_whole(out: Path, builds) -> str:
    """out is exactly the old or the new build, loadable; returns which."""
    assert out.is_dir(), "the build folder is gone"
    state = snapshot(out, builds["stable"])
    which = "old" if state == builds["old"] else "new" if state == builds["new"] else "mixed"
    assert which != "mixed", "the build folder mixes files of two builds"
    assert sorted(os.listdir(out)) == builds[f"{which}_names"]
    assert len(load_graph(out)) > 0
    return which


def leftovers(out: Path) -> list[str]:
    """What builds left beside out and, inside out/.ipgraph, besides the current generation."""
    beside = sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))
    meta = out / ".ipgraph"
    if not meta.is_dir():
        return beside
    current = os.readlink(meta / "current") if (meta / "current").is_symlink() else None
    return beside + sorted(p.name for p in meta.iterdir() if p.name not in (current, "current", "ipgraph-build.json"))


@pytest.mark.slow
@pytest.mark.parametrize(("point", "expected"), [
    ("staged", "old"),  # the new generation written, not yet published
    ("swapped", "new"),  # published, the previous generation not yet removed
])
def test_killed_at_a_point_of_the_swap_leaves_a_whole_build(builds, tmp_path, point, expected):
    out = previous_build(builds, tmp_path)
    process = run_build(str(builds["input"]), "-o", str(out), env={"IPGRAPH_TEST_KILL_AT": point})
    assert process.returncode == -signal.SIGKILL
    assert assert_whole(out, builds) == expected
    assert leftovers(out)  # the killed build's generation (or the previous one) is still there …
    from ipgraph.pipeline import _clean_leftovers

    _clean_leftovers(out)  # … until the next build starts by removing it
    assert leftovers(out) == []
    assert assert_whole(out, builds) == expected


def test_the_next_build_removes_what_a_killed_one_left(builds, tmp_path):
    out = previous_build(builds, tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = out / ".ipgraph" / f"gen-{dead.stdout.strip()}-0123abcd"
    stale.mkdir()
    (stale / ".ipgraph-generation").write_text("{}")
    (stale / "ipgraph.nt").write_text("half a file")
    running = out / ".ipgraph" / "gen-1-4567abcd"  # pid 1 is alive: a live build's, left alone
    running.mkdir()
    (running / ".ipgraph-generation").write_text("{}")
    unmarked = out / ".ipgraph" / f"gen-{dead.stdout.strip()}-89abcdef"  # no marker: not ipgraph's to remove
    unmarked.mkdir()
    assert CliRunner().invoke(main, ["build", str(builds["input"]), "-o", str(out)]).exit_code == 0
    assert assert_whole(out, builds) == "new"
    assert leftovers(out) == sorted([running.name, unmarked.name])


@pytest.mark.slow
def test_killed_while_writing_the_staging_folder(builds, tmp_path):
    out = previous_build(builds, tmp_path)
    process = run_build(str(builds["input"]), "-o", str(out), wait=False)
    deadline = time.monotonic() + 120
    while not any(name.startswith("gen-") for name in leftovers(out)) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.002)
    process.kill()
    process.communicate()
    assert assert_whole(out, builds) in ("old", "new")


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.5, 1.5, 3.0])
def test_killed_after_a_delay(builds, tmp_path, delay):
    out = previous_build(builds, tmp_path)
    process = run_build(str(builds["input"]), "-o", str(out), wait=False)
    time.sleep(delay)
    process.kill()
    process.communicate()
    assert assert_whole(out, builds) in ("old", "new")


def test_rebuilding_is_byte_identical(builds):
    # built in two processes with different hash seeds: nothing may depend on set or dict order
    assert set(FILES) <= set(builds["stable"])
    assert builds["new1"]["ipgraph.nt"] == builds["new2"]["ipgraph.nt"]


def test_rebuilding_the_corpus_gives_the_same_ntriples(corpus_build, tmp_path):
    from ipgraph.pipeline import build_graph, sorted_ntriples, write_outputs

    out = tmp_path / "build"
    write_outputs(corpus_build, out)
    first = (out / "ipgraph.nt").read_bytes()
    write_outputs(build_graph([CORPUS]), out)  # a second build of the same input, into the same folder
    assert (out / "ipgraph.nt").read_bytes() == first == sorted_ntriples(corpus_build.graph).encode("utf-8")
    assert leftovers(out) == []


def test_an_interrupted_write_removes_its_staging_folder(builds, tmp_path, monkeypatch):
    import ipgraph.pipeline as pipeline

    out = previous_build(builds, tmp_path)

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "_place_file", fail)  # the first file written into the generation
    result = CliRunner().invoke(main, ["build", str(builds["input"]), "-o", str(out)])
    assert result.exit_code != 0
    assert snapshot(out, builds["stable"]) == builds["old"]
    assert leftovers(out) == []


def test_a_folder_with_files_of_its_own_keeps_them(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"precious")
    (mine / "log").write_text("a log another tool writes here\n")
    for _ in range(2):  # the second build finds a build's files beside the foreign ones
        result = CliRunner().invoke(main, ["build", str(DOCS[0]), "-o", str(mine)])
        assert result.exit_code == 0, result.output
        assert (mine / "thesis.docx").read_bytes() == b"precious"
        assert (mine / "log").read_text() == "a log another tool writes here\n"
        assert (mine / "ipgraph.ttl").is_file() and (mine / "summary.json").is_file()
        assert len(load_graph(mine)) > 100
    assert leftovers(mine) == []


# ---------------------------------------------------------------- exit codes and messages


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> Path:
    """The corpus plus every kind of bad input (and good inputs in other formats and names)."""
    folder = tmp_path_factory.mktemp("messy")
    for doc in DOCS[:2]:
        shutil.copy(doc, folder)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (folder / "undecodable.txt").write_bytes("关于加强知识产权保护的通知".encode() + b"\xff\xfe\xfd" + "推进".encode("gbk"))
    (folder / "readme.txt").write_text("How to install this tool.\n" * 10, encoding="utf-8")
    (folder / "poem.txt").write_text("床前明月光，疑是地上霜。举头望明月，低头思故乡。\n", encoding="utf-8")
    with (folder / "huge.txt").open("wb") as handle:
        handle.truncate(64 * 1024 ** 3)  # sparse
    (folder / "copy of 000.txt").write_bytes(DOCS[0].read_bytes())
    (folder / "legacy.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    write_pdf(folder / "scan.pdf", [[]])
    # good documents in other encodings, formats and names
    lines = DOCS[3].read_text(encoding="utf-8").splitlines()
    (folder / "gbk 方案.txt").write_bytes("\n".join(lines[:60]).encode("gb18030"))
    (folder / "utf16.txt").write_bytes("\n".join(lines[60:120]).encode("utf-16"))
    other = DOCS[4].read_text(encoding="utf-8").splitlines()
    write_docx(folder / "方案 word.docx", other[:120])
    write_pdf(folder / "方案.pdf", [other[120:160], other[160:200]])
    return folder


MESSY_SKIPS = {
    "copy of 000.txt": f"duplicate of {DOCS[0].name} (identical text); left out of the graph",
    "empty.txt": "empty file",
    "huge.txt": "too large: 64.0 GB, above the 10.0 MB limit (raise it with --max-size)",
    "image.txt": "binary file: a PNG image, not text",
    "legacy.docx": "binary file: a legacy Office file (.doc/.xls/.ppt); save it as .docx, not text",
    "poem.txt": "not a policy document: Chinese text without the vocabulary of policy prose: "
                "none of 通知, 实施, 推进, 负责, 政府 …",
    "readme.txt": "not a policy document: no Chinese text",
    "scan.pdf": "PDF has no text layer (1 page(s) of images?); OCR it first",
    "undecodable.txt": "undecodable: not UTF-8 (invalid UTF-8 at byte 39), UTF-16, GB18030/GBK or Big5 text",
}


GOOD = 6  # two corpus documents and the GBK, UTF-16, docx and PDF ones


@pytest.fixture(scope="module")
def messy_build(messy, tmp_path_factory):
    out = tmp_path_factory.mktemp("messy-build") / "build"
    return out, CliRunner().invoke(main, ["build", str(messy), "-o", str(out)])


def test_bad_inputs_are_named_once_each_and_the_rest_builds(messy, messy_build):
    out, result = messy_build
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[-1] == f"{len(MESSY_SKIPS)} of {len(MESSY_SKIPS) + GOOD} file(s) skipped (named above); exit status 1"
    # the other stderr lines are the quality report's table (the fragments here have no place to resolve 市/区)
    skips = [line for line in lines[:-1] if line.startswith("skipped ")]
    assert sorted(skips) == sorted(f"skipped {messy / name}: {cause}" for name, cause in MESSY_SKIPS.items())
    assert f"documents   {GOOD}\n" in result.stdout
    names = {str(o) for o in load_graph(out).objects(None, None) if str(o).endswith((".txt", ".docx", ".pdf"))}
    assert {"gbk 方案.txt", "utf16.txt", "方案 word.docx", "方案.pdf"} <= names


def test_names_with_spaces_and_chinese_make_valid_iris(messy_build):
    out, _ = messy_build
    graph = Graph().parse(out / "ipgraph.nt", format="nt")  # a space in an IRI would not parse
    docs = {str(s) for s in graph.subjects() if "/document/" in str(s)}
    assert document_iri("gbk 方案.txt") in docs and document_iri("gbk 方案.txt").endswith("/document/gbk%20方案")


def test_strict_fails_with_exit_2_and_leaves_the_build(messy, builds, tmp_path):
    out = previous_build(builds, tmp_path)
    result = CliRunner().invoke(main, ["build", str(messy), "-o", str(out), "--strict"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (f"Error: {len(MESSY_SKIPS)} of {len(MESSY_SKIPS) + GOOD} file(s) skipped "
                                              f"and --strict is set; {out} left as it was")
    assert result.stdout == ""
    assert snapshot(out, builds["stable"]) == builds["old"]


def test_strict_with_nothing_skipped_builds(builds, tmp_path):
    result = CliRunner().invoke(main, ["build", str(builds["input"]), "-o", str(tmp_path / "b"), "--strict"])
    assert result.exit_code == 0
    assert result.stderr == ""


def test_nothing_usable_is_exit_3_and_leaves_the_build(builds, tmp_path):
    out = previous_build(builds, tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    result = CliRunner().invoke(main, ["build", str(bad), "-o", str(out)])
    assert result.exit_code == 3
    assert result.stderr == (f"skipped {bad / 'empty.txt'}: empty file\n"
                             f"Error: nothing built: none of the 1 file(s) could be used; {out} left as it was\n")
    assert snapshot(out, builds["stable"]) == builds["old"]
    empty = tmp_path / "none"
    empty.mkdir()
    result = CliRunner().invoke(main, ["build", str(empty), "-o", str(out)])
    assert result.exit_code == 3
    assert "no .txt/.html/.htm/.docx/.pdf files found" in result.stderr


def test_missing_path_is_exit_3(tmp_path):
    result = CliRunner().invoke(main, ["build", str(tmp_path / "nope"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 3
    assert result.stderr == f"Error: {tmp_path / 'nope'}: no such file or folder\n"


def test_max_size_option(tmp_path):
    result = CliRunner().invoke(main, ["build", str(DOCS[1]), str(DOCS[2]), "-o", str(tmp_path / "b"),
                                       "--max-size", "20K"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (f"skipped {DOCS[1]}: too large: 50.4 KB, above the 20.0 KB limit "
                                             f"(raise it with --max-size)")
    result = CliRunner().invoke(main, ["build", str(DOCS[1]), "-o", str(tmp_path / "b"), "--max-size", "1M"])
    assert result.exit_code == 0
    result = CliRunner().invoke(main, ["build", "--max-size", "lots"])
    assert result.exit_code == 2
    assert "'lots' is not a size such as 500K, 10M or 1G" in result.stderr
