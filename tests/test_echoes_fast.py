"""The fast echo computation (a pair of identical-row classes scored once) gives the reference's echoes
byte for byte: on the shipped corpus and on a small synthetic corpus of copied and altered measures."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ipgraph.search import load_index
from ipgraph.search.echoes import echo_lines, echo_links, echo_matrix, pair_score, query_pairs, update_links
from ipgraph.search.index import SearchIndex


@pytest.fixture(scope="module")
def index(built_dir) -> SearchIndex:
    return load_index(built_dir / "search")


@pytest.fixture(scope="module")
def synthetic(index) -> SearchIndex:
    """Six renamed copies of the corpus' documents, as the bench corpus recombines plans: copy k keeps
    the measures whose place is not a multiple of k + 2, and alters every 3rd of them (drops a word),
    so there are exact copies (across copies), near copies and the originals."""
    docs, tokens = [], []
    for k in range(6):
        for n, (d, words) in enumerate(zip(index.docs, index.tokens, strict=True)):
            if n % (k + 2) == 0:
                continue
            docs.append(replace(d, iri=f"{d.iri}~{k}", doc_iri=f"{d.doc_iri}~{k}"))
            tokens.append(words[:k] + words[k + 1:] if n % 3 == k % 3 and len(words) > k + 1 else list(words))
    return SearchIndex(docs=docs, method=index.method, words=index.words, _tokens=tokens, bm25=None)


def lines(links) -> list[str]:
    return sorted(echo_lines(links))


def test_the_fast_echoes_equal_the_reference_on_the_corpus(index):
    fast = echo_links(index)
    assert len(fast) >= 20
    assert lines(fast) == lines(echo_links(index, reference=True))


def test_the_fast_echoes_equal_the_reference_on_copied_plans(synthetic):
    em = echo_matrix(synthetic)
    assert em.first.size < 2 * len(em.iris) // 3  # a third of the rows are copies: their pairs are scored once
    fast = echo_links(synthetic)
    assert len(fast) > 3 * len(em.iris) // 2
    assert lines(fast) == lines(echo_links(synthetic, reference=True))


def test_every_pair_above_the_threshold_gets_the_reference_bits(synthetic):
    em = echo_matrix(synthetic)
    rows = np.arange(len(em.iris))
    for keep in (None, 3):
        fast = query_pairs(em, rows, keep=keep)
        slow = query_pairs(em, rows, keep=keep, reference=True)
        assert fast[0].size > 1000
        fast_order, slow_order = np.lexsort((fast[1], fast[0])), np.lexsort((slow[1], slow[0]))
        for a, b in zip(fast, slow, strict=True):  # the same pairs with the same score bits
            assert a[fast_order].tobytes() == b[slow_order].tobytes()


def test_identical_rows_have_one_class_and_score_as_their_first_row(synthetic):
    em = echo_matrix(synthetic)
    full = em.full
    for n in range(0, len(em.iris), 7):
        f = int(em.first[em.copy_of[n]])
        assert f <= n
        assert full.indices[full.indptr[n]:full.indptr[n + 1]].tobytes() == full.indices[full.indptr[f]:full.indptr[f + 1]].tobytes()
        assert full.data[full.indptr[n]:full.indptr[n + 1]].tobytes() == full.data[full.indptr[f]:full.indptr[f + 1]].tobytes()
    # rows of different classes differ
    firsts = em.first
    keys = {full.indices[full.indptr[f]:full.indptr[f + 1]].tobytes() + full.data[full.indptr[f]:full.indptr[f + 1]].tobytes()
            for f in firsts}
    assert len(keys) == firsts.size
    # a pair scores the same from either side and from any copy
    i, j = np.arange(0, 200, dtype=np.int64), np.arange(200, 400, dtype=np.int64)
    assert pair_score(full, i, j).tobytes() == pair_score(full, j, i).tobytes()
    assert pair_score(full, i, j).tobytes() == pair_score(full, em.first[em.copy_of[i]], em.first[em.copy_of[j]]).tobytes()


def test_adding_a_copied_plan_gives_the_full_fast_lines(synthetic):
    full = echo_links(synthetic)
    doc = sorted({d.doc_iri for d in synthetic.docs})[-1]
    keep = [n for n, d in enumerate(synthetic.docs) if d.doc_iri != doc]
    rest = SearchIndex(docs=[synthetic.docs[n] for n in keep], method=synthetic.method, words=synthetic.words,
                       _tokens=[synthetic.tokens[n] for n in keep], bm25=None)
    assert lines(update_links(synthetic, echo_links(rest), {doc})) == lines(full)



def test_small_blocks_and_the_kept_scores_let_go_give_the_reference_pairs(synthetic, monkeypatch):
    # many tiny blocks: most pairs are asked again from a later block, after the kept scores were pruned
    from ipgraph.search import echoes

    kept: list[int] = []
    finish = echoes._ClassScores.finish

    def watched(self, block):
        finish(self, block)
        kept.append(self.keys.size)

    monkeypatch.setattr(echoes, "_CANDIDATES", 200)
    monkeypatch.setattr(echoes._ClassScores, "finish", watched)
    em = echo_matrix(synthetic)
    rows = np.arange(len(em.iris))
    most: dict[int | None, int] = {}
    for keep in (3, 1, None):
        kept.clear()
        fast = query_pairs(em, rows, keep=keep)
        slow = query_pairs(em, rows, keep=keep, reference=True)
        assert len(kept) > 20 and fast[0].size > 500
        fast_order, slow_order = np.lexsort((fast[1], fast[0])), np.lexsort((slow[1], slow[0]))
        for a, b in zip(fast, slow, strict=True):
            assert a[fast_order].tobytes() == b[slow_order].tobytes()
        assert kept[-1] == 0  # what is kept is let go: nothing at the end
        most[keep] = max(kept)
    assert most[1] < most[3] < most[None]  # with `keep`, the scores below a class's cutoff go early
