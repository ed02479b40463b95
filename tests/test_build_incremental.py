"""The incremental build (issue 14): a content-hash cache of per-document results, and `ipgraph add`."""
from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from ipgraph.cli import main
from ipgraph.pipeline import build_graph, cache_folder

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"


def _corpus_copy(tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in names:
        shutil.copy(CORPUS / name, folder / name)
    return folder


def test_rebuild_extracts_only_new_or_changed_files_and_drops_removed_ones(tmp_path):
    names = sorted(p.name for p in CORPUS.glob("*.txt"))
    folder = _corpus_copy(tmp_path, names[:4])
    out = tmp_path / "build"
    runner = CliRunner()
    assert runner.invoke(main, ["build", str(folder), "-o", str(out), "-q"]).exit_code == 0
    cache = cache_folder(out)
    assert cache is not None and len(list(cache.rglob("*.pickle"))) == 4

    again = build_graph([folder], cache=True, cache_dir=cache)
    assert again.reused == 4
    # one changed, one removed, one new: the changed and the new are extracted, the removed is gone
    changed = folder / names[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n附件:无\n", encoding="utf-8")
    (folder / names[1]).unlink()
    shutil.copy(CORPUS / names[4], folder / names[4])
    third = build_graph([folder], cache=True, cache_dir=cache)
    assert third.reused == 2
    fresh = build_graph([folder], file_timeout=None)  # the reference reads in-process: no workers to start
    assert third.ntriples.read_bytes() == fresh.ntriples.read_bytes()
    assert [r.parsed.source.name for r in third.records] == [r.parsed.source.name for r in fresh.records]


def test_add_one_file_equals_a_full_build(tmp_path):
    names = sorted(p.name for p in CORPUS.glob("*.txt"))
    folder = _corpus_copy(tmp_path, names[:4])
    out = tmp_path / "build"
    runner = CliRunner()
    assert runner.invoke(main, ["build", str(folder), "-o", str(out), "-q"]).exit_code == 0
    extra = tmp_path / names[4]
    shutil.copy(CORPUS / names[4], extra)
    added = runner.invoke(main, ["add", str(extra), "-o", str(out), "-q"])
    assert added.exit_code == 0, added.output
    assert "documents   5" in added.stdout
    full = tmp_path / "full"
    assert runner.invoke(main, ["build", str(folder), str(extra), "-o", str(full), "-q", "--no-cache",
                                 "--file-timeout", "0"]).exit_code == 0
    assert (out / "ipgraph.nt").read_bytes() == (full / "ipgraph.nt").read_bytes()
    assert len(list(cache_folder(out).rglob("*.pickle"))) == 5


def test_add_to_a_folder_without_a_build_says_so(tmp_path):
    result = CliRunner().invoke(main, ["add", str(CORPUS / "001_e51e42527fa59d8a.txt"), "-o", str(tmp_path / "none")])
    assert result.exit_code == 3
    assert "no ipgraph build here to add to" in result.output


def test_workers_write_the_cache_entries_of_the_documents_kept(tmp_path, monkeypatch):
    from ipgraph.stream.cache import RecordCache

    names = sorted(p.name for p in CORPUS.glob("*.txt"))
    folder = _corpus_copy(tmp_path, names[:2])
    shutil.copy(folder / names[0], folder / f"zz-copy-{names[0]}")  # a duplicate: skipped, not cached

    def put(*_args):  # this process pickles no new entry: each worker wrote its own
        raise AssertionError("the build pickled an entry a worker had written")

    monkeypatch.setattr(RecordCache, "put", put)
    first = build_graph([folder], jobs=2, cache=True, cache_dir=tmp_path / "none", work_dir=tmp_path / "w1")
    assert [s.path.name for s in first.skipped] == [f"zz-copy-{names[0]}"]
    entries = sorted(p.name for p in first.cache.rglob("*") if p.is_file())
    assert len([e for e in entries if e.endswith(".pickle")]) == 2
    assert not [e for e in entries if e.endswith(".spill")]  # the duplicate's, written by its worker, is gone
    monkeypatch.undo()
    again = build_graph([folder], jobs=2, cache=True, cache_dir=first.cache, work_dir=tmp_path / "w2")
    assert again.reused == 2 and again.ntriples.read_bytes() == first.ntriples.read_bytes()
