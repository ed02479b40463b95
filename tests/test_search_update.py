"""ipgraph.search.update.splice: counts of texts counted in several places, spliced, equal one count of all.

The whole stage (update_stage) is checked against full builds in tests/test_add_inc.py; here the
splice itself, on random texts cut into documents, two of which were counted apart (as `add` counts
the touched documents) and one dropped."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipgraph.search.index import Postings
from ipgraph.search.update import FieldCounts, splice

TOKEN = st.sampled_from(["专利", "商标", "导航", "贯标", "知识产权", "保护", "运用", "a", "b", "\u3000"])
TEXT = st.lists(TOKEN, max_size=6)
DOCS = st.lists(st.lists(TEXT, min_size=1, max_size=4), min_size=1, max_size=8)


def _count(texts: list[list[str]]) -> Postings:
    postings = Postings()
    for tokens in texts:
        postings.add(tokens)
    return postings


def _same(a: FieldCounts, b: FieldCounts) -> None:
    assert a.vocab == b.vocab
    for name in ("per_row", "cols", "tf", "lengths", "empty"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@settings(max_examples=60, deadline=None)
@given(docs=DOCS, recount=st.sets(st.integers(0, 7), max_size=3), drop=st.integers(0, 7))
def test_splice_equals_one_count_of_the_documents_in_order(docs: list[list[list[str]]], recount: set[int],
                                                           drop: int) -> None:
    # the previous build counted every document; the new one drops one and counts `recount` again apart
    old = FieldCounts.of(_count([text for doc in docs for text in doc]))
    starts = np.cumsum([0] + [len(doc) for doc in docs]).tolist()
    again = [i for i in sorted(recount) if i < len(docs) and i != drop]
    new = FieldCounts.of(_count([text for i in again for text in docs[i]]))
    new_starts = np.cumsum([0] + [len(docs[i]) for i in again]).tolist()
    parts = []
    for i in range(len(docs)):
        if i == drop:
            continue
        if i in again:
            k = again.index(i)
            parts.append((new, new_starts[k], new_starts[k + 1]))
        else:
            parts.append((old, starts[i], starts[i + 1]))
    kept = [text for i, doc in enumerate(docs) if i != drop for text in doc]
    spliced = splice(parts)
    _same(spliced, FieldCounts.of(_count(kept)))
    # and back into a Postings whose BM25 is the full count's
    mine, full = spliced.postings().bm25(), _count(kept).bm25()
    assert mine.vocab_dict == full.vocab_dict
    for key in ("data", "indices", "indptr"):
        assert np.array_equal(mine.scores[key], full.scores[key]), key


def test_splice_of_nothing_is_empty() -> None:
    out = splice([])
    assert out.vocab == [] and len(out.cols) == 0 and len(out.per_row) == 0


def test_in_thread_gives_the_value_or_the_exception_and_leaves_no_thread():
    import threading

    from ipgraph.search.update import in_thread

    gate = threading.Event()
    pending = in_thread(lambda x: gate.wait(30) and x * 2, 21)
    assert not pending.done()  # this thread went on while the call waits
    gate.set()
    assert pending.result(timeout=30) == 42

    def fails() -> None:
        raise ValueError("no page data")

    with pytest.raises(ValueError, match="no page data"):
        in_thread(fails).result(timeout=30)
    for thread in threading.enumerate():
        if thread.name.startswith("ipgraph-"):
            thread.join(timeout=30)
    assert not [t for t in threading.enumerate() if t.name.startswith("ipgraph-")]
