"""Segmenting the new texts in several processes gives the index one process gives."""
from __future__ import annotations

from ipgraph.search import index as search_index
from ipgraph.search.stage import docs_from_ntriples


def test_parallel_segmentation_equals_one_process(corpus_build, monkeypatch) -> None:
    docs, names = docs_from_ntriples(corpus_build.ntriples)
    one = search_index.index_docs(docs, "jieba", names, {})
    monkeypatch.setattr(search_index, "PARALLEL_MIN_TEXTS", 0)  # the corpus is small: segment in processes anyway
    calls: list[int] = []
    real = search_index._segment_in_processes
    monkeypatch.setattr(search_index, "_segment_in_processes", lambda *a: calls.append(real(*a)) or calls[-1])
    two = search_index.index_docs(docs, "jieba", names, {}, jobs=2)
    assert calls == [one.stats["segmented"]] and calls[0] > 100  # every new text went through the processes
    assert two.stats["segmented"] == one.stats["segmented"]
    assert two.tokens == one.tokens
    assert any(two.tokens)


def test_few_new_texts_are_segmented_here(corpus_build) -> None:
    docs, names = docs_from_ntriples(corpus_build.ntriples)
    cache: dict[str, list[str]] = {}
    texts = [d.indexed_text() for d in docs]
    keys = [search_index._sha(text) for text in texts]
    assert search_index._segment_in_processes(texts, keys, names, cache, 2) == 0 and cache == {}  # under the floor
