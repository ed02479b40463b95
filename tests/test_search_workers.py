"""Issues 13 and 14: measure tokens are a pure function of the text, its own document and versioned data,
made in the extraction workers, carried in the per-document cache entry; the search stage segments nothing."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ipgraph.pipeline import build_graph, cache_folder, write_outputs
from ipgraph.search import segment, tokenise
from ipgraph.search.tokenise import added_words, base_words, jieba_tokeniser, segment_texts

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
TEXT = "建设宜昌市知识产权保护中心，推进专利导航产业发展"
NAME = "宜昌市知识产权保护中心"  # a name that, added to the dictionary, keeps the compound whole


def test_added_words_are_removed_exactly():
    jieba_tokeniser(base_words(), grams=False)("知识产权")  # loads the Tokenizer
    jt = tokenise._tokenizer(tokenise.dictionary_fingerprint(base_words()), base_words())
    freq, total = dict(jt.FREQ), jt.total
    words = ["宜昌市知识产权保护中心", "数据知识产权登记平台", "知识产权"]  # new words, a word jieba knows
    with added_words(jt, words):
        assert jt.FREQ["宜昌市知识产权保护中心"] > 0 and jt.FREQ["数据知识产权登记平台"] > 0
        assert "宜昌市知识产权保护" in jt.FREQ  # a prefix, as jieba's add_word puts it
    assert jt.total == total and jt.FREQ == freq  # del_word would leave `total` raised and prefixes behind


def test_a_document_s_names_are_its_own():
    alone = segment_texts([TEXT], [])[0]
    with_name = segment_texts([TEXT], [NAME])[0]
    assert NAME in with_name and NAME not in alone  # the name changes the tokens: a leak would show
    a_first = segment_texts([TEXT], ["专利导航"])
    tokenise._MEMO.clear()  # segmented again below, not remembered
    b = segment_texts(["宜昌市知识产权保护中心建设"], [NAME])  # document B brings the name
    tokenise._MEMO.clear()
    a_again = segment_texts([TEXT], ["专利导航"])
    assert a_first == a_again and NAME not in a_again[0] and NAME in b[0]


def test_a_text_s_tokens_depend_on_the_names_it_holds_only():
    other = ["天津市知识产权局", "沈阳市市场监督管理局", "专利导航产业发展工程"]  # names the text does not hold
    assert segment_texts([TEXT], [NAME, *other]) == segment_texts([TEXT], [NAME])
    assert segment_texts([TEXT], [*reversed(other), NAME]) == segment_texts([TEXT], [NAME])
    keyed = tokenise.segment_keyed([TEXT, "天津市知识产权局牵头"], [NAME, *other])
    assert keyed[0] == tokenise.segment_keyed([TEXT], [NAME])[0]  # the same key: the index cache holds across documents
    assert keyed[1][0] != keyed[0][0] and "天津市知识产权局" in keyed[1][1]


def test_tokens_do_not_depend_on_the_other_documents_nor_on_the_workers(tmp_path):
    one = CORPUS / "001_e51e42527fa59d8a.txt"
    alone = build_graph([one], jobs=1)
    every = build_graph([CORPUS], jobs=1)
    two = build_graph([CORPUS], jobs=2)
    mine = alone.search.index.made()
    assert mine and all(every.search.index.made()[iri] == value for iri, value in mine.items())
    assert two.search.index.tokens == every.search.index.tokens and two.search.index.keys == every.search.index.keys
    assert two.ntriples.read_bytes() == every.ntriples.read_bytes()
    for result in (alone, every, two):  # the workers made every measure's tokens
        assert result.search.index.stats["segmented_here"] == 0
        assert result.search.index.stats["segmented"] == result.search.index.stats["measures"]


def test_the_main_process_loads_no_jieba_for_a_build(monkeypatch):
    monkeypatch.setattr(tokenise, "_TOKENISERS", {})  # this process's loaded dictionaries: none yet
    result = build_graph([CORPUS], jobs=2)  # the workers are forked after this: what they load stays there
    assert tokenise._TOKENISERS == {}  # nothing was segmented here
    assert result.search.index.stats["measures"] == 184 and all(result.search.index.tokens)


def test_the_cache_entry_keeps_the_tokens_and_a_new_file_alone_is_segmented(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    files = sorted(CORPUS.glob("*.txt"))
    for f in files[:4]:
        shutil.copy(f, src / f.name)
    out = tmp_path / "out"
    first = build_graph([src], jobs=2, cache=True, cache_dir=cache_folder(out))
    write_outputs(first, out)
    assert first.search.index.stats["segmented"] == first.search.index.stats["measures"]
    shutil.copy(files[4], src / files[4].name)  # what `ipgraph add` builds: the old files from the cache
    second = build_graph([src], jobs=2, cache=True, cache_dir=cache_folder(out))
    stats = second.search.index.stats
    new = sum(1 for d in second.search.index.docs if d.source_file == files[4].name)
    assert new > 0 and stats["segmented"] == new and stats["reused"] == stats["measures"] - new
    assert stats["segmented_here"] == 0
    every = build_graph([CORPUS], jobs=1)
    assert second.search.index.tokens == every.search.index.tokens  # the same tokens as a build from scratch


def test_changed_data_files_segment_the_cached_documents_again(tmp_path, monkeypatch):
    out = tmp_path / "out"
    one = CORPUS / "000_5d276028dea57057.txt"
    write_outputs(build_graph([one], cache=True, cache_dir=cache_folder(out)), out)
    calls: list[str] = []
    real = segment.document_tokens
    monkeypatch.setattr(segment, "document_tokens", lambda t: calls.append(t.name) or real(t))
    monkeypatch.setattr(segment, "base_fingerprint", lambda: "another-dictionary")  # as if a data file changed
    again = build_graph([one], cache=True, cache_dir=cache_folder(out))
    assert again.reused == 1 and calls == [one.name]  # the cached record kept, its tokens made again
    assert all(again.search.index.tokens)


def test_dask_workers_make_the_same_tokens(tmp_path):
    pytest.importorskip("distributed")
    single = build_graph([CORPUS], jobs=1)
    dask = build_graph([CORPUS], jobs=2, scheduler="local", work_dir=tmp_path / "work")
    assert dask.search.index.stats["segmented_here"] == 0
    assert dask.search.index.tokens == single.search.index.tokens
    assert dask.ntriples.read_bytes() == single.ntriples.read_bytes()
