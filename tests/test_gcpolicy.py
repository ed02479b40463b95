"""The build's garbage-collection setting (ipgraph.stream.gcpolicy)."""
from __future__ import annotations

import gc

import pytest

from ipgraph.stream.gcpolicy import BUILD_THRESHOLD, fewer_collections


def test_fewer_collections_raises_the_youngest_threshold_and_puts_it_back():
    before = gc.get_threshold()
    with fewer_collections():
        inside = gc.get_threshold()
    assert inside == (max(BUILD_THRESHOLD, before[0]), *before[1:])
    assert gc.get_threshold() == before


def test_fewer_collections_never_collects_more_often_and_restores_on_error():
    before = gc.get_threshold()
    gc.set_threshold(500_000, *before[1:])
    try:
        with pytest.raises(RuntimeError), fewer_collections(1_000):
            assert gc.get_threshold()[0] == 500_000  # a caller's higher threshold is kept
            raise RuntimeError("boom")
        assert gc.get_threshold() == (500_000, *before[1:])
    finally:
        gc.set_threshold(*before)


def test_a_build_runs_with_fewer_collections(tmp_path, monkeypatch):
    """build_graph and write_outputs do their work inside the block (and leave the setting as it was)."""
    from ipgraph import pipeline

    seen = []
    real = pipeline._build_graph

    def spy(*args, **kwargs):
        seen.append(gc.get_threshold()[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_build_graph", spy)
    doc = tmp_path / "plan.txt"
    doc.write_text("某市知识产权工作实施方案\n一、主要任务\n（一）加强专利导航。（市知识产权局负责）\n", encoding="utf-8")
    before = gc.get_threshold()
    result = pipeline.build_graph([doc], file_timeout=None)
    assert seen == [max(BUILD_THRESHOLD, before[0])]
    assert gc.get_threshold() == before
    written = []
    real_files = pipeline._write_files
    monkeypatch.setattr(pipeline, "_write_files",
                        lambda *a, **k: written.append(gc.get_threshold()[0]) or real_files(*a, **k))
    pipeline.write_outputs(result, tmp_path / "out")
    assert written == [max(BUILD_THRESHOLD, before[0])] and gc.get_threshold() == before
