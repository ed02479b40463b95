"""The build's search stage, bounded and proportional (issue 14): measures streamed through a spool and
indexed one document at a time, BM25 built from flat token counts, echo rows from the same counts, and
`ipgraph add` patching the echoes into the previous graph. Each is held to the list-based reference
(bm25s's own index(), echo rows from token lists, a full build) answer for answer, bit for bit."""
from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipgraph.pipeline import build_graph, cache_folder, write_outputs
from ipgraph.search import search
from ipgraph.search.echoes import echo_links, echo_matrix, weighted_counts, weighted_rows
from ipgraph.search.index import Postings, _bm25, index_docs, load_index
from ipgraph.search.rank import Filters
from ipgraph.search.stage import docs_from_ntriples, page_data
from ipgraph.search.tokenise import gram_tokens

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
QUERIES = ["质押融资 风险补偿", "知识产权", "专利导航", "强市", "数据知识产权", "示范企业", "地理标志", "沈阳", "商标品牌"]


def _columns(bm25) -> dict[str, tuple[list[int], bytes]]:
    """Token → (rows, float32 score bytes) of a bm25s index: what a query reads, whatever the token ids."""
    scores, out = bm25.scores, {}
    for token, tid in bm25.vocab_dict.items():
        if tid + 1 < len(scores["indptr"]):
            a, b = scores["indptr"][tid], scores["indptr"][tid + 1]
            out[token] = (scores["indices"][a:b].tolist(), scores["data"][a:b].tobytes())
    return out


def test_postings_give_bm25s_scores_bit_for_bit_in_any_order():
    rng = random.Random(14)
    for _ in range(12):
        texts = [[rng.choice("abcdefghij"[:rng.randint(1, 10)]) * rng.randint(1, 2) for _ in range(rng.randint(0, 30))]
                 for _ in range(rng.randint(0, 60))]
        added = list(range(len(texts)))
        rng.shuffle(added)  # added in another order than the index's: rows placed by `order`
        postings = Postings()
        for n in added:
            postings.add(texts[n])
        place = {n: k for k, n in enumerate(added)}
        mine = postings.bm25([place[n] for n in range(len(texts))])
        ref = _bm25(texts)
        assert _columns(mine) == _columns(ref)
        assert mine.scores["num_docs"] == ref.scores["num_docs"]
        in_order = Postings()  # added in index order (the build's stage): no permutation
        for words in texts:
            in_order.add(words)
        assert _columns(in_order.bm25()) == _columns(ref)


def test_echo_rows_from_counts_are_the_rows_from_token_lists(corpus_build):
    index = corpus_build.search.index
    tokens = [*index.tokens, []]  # and an empty text: no row entries, no placeholder word
    postings = Postings()
    for words in tokens:
        postings.add(words)
    rows, cols, counts, vocab = postings.counts()
    a, b = weighted_rows(tokens), weighted_counts(rows, cols, counts, vocab, len(tokens))
    assert a.shape == b.shape
    for name in ("indptr", "indices", "data"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name


def _reference(built: Path):
    """The list-based index of the build's graph: every SearchDoc and token list held, bm25s's index()."""
    docs, names = docs_from_ntriples(built / "ipgraph.nt")
    made = load_index(built / "search").made()
    index = index_docs(docs, "jieba", names, {}, doc_words={}, made=made)
    index.bm25 = _bm25(index.tokens)
    index.grams = _bm25([gram_tokens(d.gram_text()) for d in docs])
    index.ranked = None  # ranked again from the reference fields
    return index


def _answers(index) -> list:
    return [[(h.iri, h.score, h.snippet, h.lead) for h in search(index, q, f, limit=40)]
            for q in QUERIES for f in (None, Filters(level="municipal"), Filters(agency="知识产权局"))]


def test_streamed_stage_answers_and_echoes_as_the_list_based_index(built_dir):
    ref, stage = _reference(built_dir), load_index(built_dir / "search")
    assert [d.iri for d in stage.docs] == [d.iri for d in ref.docs]
    assert stage.docs == ref.docs and stage.keys == ref.keys
    assert any(_answers(ref)) and _answers(stage) == _answers(ref)
    # the echoes the build stated are those of the token lists, all pairs (echo_links)
    built = sorted((e.a, e.b, e.score) for e in echo_links(ref))
    assert len(built) >= 20
    from ipgraph.search.echoes import _read_state

    state = _read_state(built_dir / "search" / "echoes.tsv")
    assert state is not None
    assert [(a, b, float(s)) for a, b, s in state["echoes"]] == built
    assert echo_matrix(ref).full.shape[0] == len(ref.docs)


def test_page_keeps_only_echoed_measures_above_its_cut(corpus_build, monkeypatch):
    import ipgraph.search.stage as stage

    index = corpus_build.search.index
    echoes = corpus_build.search.echoes
    whole = page_data(index, echoes)
    assert whole["index"] is not None and len(whole["measures"]) == len(index.docs)
    monkeypatch.setattr(stage, "MAX_MEASURES", 10)
    cut = page_data(index, echoes)
    ends = {m for e in echoes for m in (e.a, e.b)}
    assert cut["index"] is None and set(cut["measures"]) == ends and len(ends) < len(index.docs)
    assert all(cut["measures"][m] == whole["measures"][m] for m in ends)
    assert cut["echoes"] == whole["echoes"]


@pytest.fixture()
def four(four_documents):
    return four_documents


def _build(folder: Path, out: Path, cache: bool = True):
    result = build_graph([folder], jobs=2, cache=cache, cache_dir=cache_folder(out) if cache else None,
                         keep_records=False)
    write_outputs(result, out)
    return result


def test_add_updates_the_index_and_patches_the_echoes_as_a_full_build(four, tmp_path, monkeypatch):
    out, full = tmp_path / "out", tmp_path / "full"
    _build(four, out)
    fifth = sorted(CORPUS.glob("*.txt"))[4]
    shutil.copy(fifth, four / fifth.name)
    from ipgraph.stream import merge

    merged: list[int] = []
    real = merge.merge_runs
    monkeypatch.setattr(merge, "merge_runs", lambda runs, *a, **k: merged.append(len(runs)) or real(runs, *a, **k))
    added = _build(four, out)  # the 5th document: an incremental build
    assert added.delta is not None and added.delta.added == [fifth.name]
    assert not merged  # the echoes were patched into the previous graph, not merged
    assert added.search.stats["segmented_here"] == 0  # the previous index's spool lent the 4 documents' tokens
    assert added.search.stats["echoes"]["mode"] == "incremental"
    monkeypatch.setattr(merge, "merge_runs", real)
    _build(four, full, cache=False)
    for name in ("ipgraph.nt", "ipgraph.ttl", "report.json", "search/echoes.tsv"):
        assert (out / name).read_bytes() == (full / name).read_bytes(), name
    a, b = load_index(out / "search"), load_index(full / "search")
    assert a.docs == b.docs and any(_answers(a)) and _answers(a) == _answers(b)
    assert added.counts == build_graph([four]).counts


@settings(max_examples=200, deadline=None)
@given(cells=st.sets(st.tuples(st.integers(0, 30), st.integers(0, 40)), max_size=300), shuffle=st.booleans(),
       seed=st.integers(0, 2**16))
def test_by_column_orders_entries_as_a_lexsort_by_column_then_row(cells, shuffle, seed):
    """Postings.bm25's CSC: scipy's counting sorts give np.lexsort((rows, cols))'s order, whether the
    entries come in row order (the build) or permuted (an update's order)."""
    import numpy as np

    from ipgraph.search.index import _by_column

    entries = sorted(cells)
    if shuffle:
        random.Random(seed).shuffle(entries)
    rows = np.asarray([r for r, _c in entries], dtype=np.int32)
    cols = np.asarray([c for _r, c in entries], dtype=np.int32)
    values = np.random.default_rng(seed).random(len(entries)).astype(np.float32)
    data, indices, indptr = _by_column(values, rows, cols, 31, 41)
    order = np.lexsort((rows, cols))
    assert data.dtype == np.float32 and indices.dtype == np.int32
    assert np.array_equal(data, values[order]) and np.array_equal(indices, rows[order])
    assert indptr.dtype == np.int64 and np.array_equal(np.diff(indptr), np.bincount(cols, minlength=41))
