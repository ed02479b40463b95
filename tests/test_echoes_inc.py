"""Echoes that a new document does not reshuffle (issues 13 and 14): a pair's score depends on its two
measures and versioned data only, and adding, changing or removing a document computes only its pairs
(and repairs the neighbours whose best it touched), giving byte for byte the full computation."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import CORPUS

from ipgraph.search import load_index
from ipgraph.search.echoes import (
    ECHO_STATE,
    THRESHOLD,
    echo_lines,
    echo_links,
    echo_links_since,
    pair_score,
    similar_pairs,
    sparse_pairs,
    token_weight,
    update_links,
    weighted_rows,
)
from ipgraph.search.index import SearchIndex


@pytest.fixture(scope="module")
def index(built_dir) -> SearchIndex:
    return load_index(built_dir / "search")


def subset(index: SearchIndex, docs: set[str], tokens: dict[str, list[str]] | None = None) -> SearchIndex:
    """The index of the measures of `docs` only (their words as built, or as `tokens` replaces them)."""
    rows = [n for n, d in enumerate(index.docs) if d.doc_iri in docs]
    return SearchIndex(docs=[index.docs[n] for n in rows], method=index.method, words=index.words,
                       _tokens=[(tokens or {}).get(index.docs[n].iri, index.tokens[n]) for n in rows], bm25=None)


def documents(index: SearchIndex) -> list[str]:
    return sorted({d.doc_iri for d in index.docs})


def lines(links) -> list[str]:
    return sorted(echo_lines(links))


def test_adding_removing_and_adding_again_each_document_gives_the_full_lines(index):
    full = echo_links(index)
    assert len(full) >= 20
    everything = set(documents(index))
    for doc in documents(index):
        rest = subset(index, everything - {doc})
        before = echo_links(rest)
        added = update_links(index, before, {doc})
        assert lines(added) == lines(full), doc
        removed = update_links(rest, added, {doc})
        assert lines(removed) == lines(before), doc
        assert lines(update_links(index, removed, {doc})) == lines(full), doc
        # the document had echoes: the test moved pairs, not nothing
        assert any(doc in (e.a.split("/measure/")[0], e.b.split("/measure/")[0]) for e in full)


def test_a_changed_document_gives_the_full_lines(index):
    doc = documents(index)[2]
    mine = [(d, t) for d, t in zip(index.docs, index.tokens, strict=True) if d.doc_iri == doc]
    # half of its measures lose the second half of their words
    edited = {d.iri: t[: len(t) // 2] for n, (d, t) in enumerate(mine) if n % 2 == 0}
    changed = subset(index, set(documents(index)), edited)
    expected = echo_links(changed)
    assert lines(expected) != lines(echo_links(index))  # the edit changed the echoes
    assert lines(update_links(changed, echo_links(index), {doc})) == lines(expected)
    assert lines(update_links(index, expected, {doc})) == lines(echo_links(index))


def test_a_pair_scores_the_same_in_any_corpus(index):
    """The score of each echo pair is the same bits in the whole corpus and in the index of its two
    documents alone (no corpus statistics)."""
    doc_of = {d.iri: d.doc_iri for d in index.docs}
    for e in echo_links(index)[:15]:
        two = subset(index, {doc_of[e.a], doc_of[e.b]})
        rows = {d.iri: n for n, d in enumerate(two.docs)}
        alone = pair_score(weighted_rows(two.tokens), np.asarray([rows[e.a]]), np.asarray([rows[e.b]]))
        assert float(alone[0]) == e.score
        assert e in sparse_pairs(two)  # and the pair is found in its own corpus with that score


def test_prefix_candidates_give_every_pair_of_the_brute_force(index):
    for cut in (0.15, THRESHOLD, 0.4):
        exact = [e for e in similar_pairs(index) if e.score >= cut]
        assert exact and sparse_pairs(index, cut) == exact


def test_weights_come_from_versioned_data_not_the_corpus():
    # a word every IP plan has weighs little; a rare one much; a figure nothing
    assert token_weight("知识产权") < 0.5 < 3 < token_weight("布图设计")
    assert token_weight("2025") == 0.0 and token_weight("30") == 0.0
    # in the domain table: -log(share of the reference); elsewhere jieba's frequency (集成电路 is in
    # its dictionary, 布图设计 is not) on the same scale, never below the table's rarest word
    assert token_weight("知识产权") < token_weight("经济") < token_weight("质押") < token_weight("集成电路")
    assert token_weight("集成电路") < token_weight("布图设计")


def test_the_state_in_the_search_folder_makes_the_next_run_incremental(index, tmp_path):
    everything = set(documents(index))
    doc = documents(index)[1]
    rest = subset(index, everything - {doc})
    first, info = echo_links_since(rest, None, tmp_path / "a")
    assert info["mode"] == "full" and lines(first) == lines(echo_links(rest))
    assert (tmp_path / "a" / ECHO_STATE).is_file()
    second, info = echo_links_since(index, tmp_path / "a", tmp_path / "b")
    assert info == {"mode": "incremental", "changed": 1}
    assert lines(second) == lines(echo_links(index))
    same, info = echo_links_since(index, tmp_path / "b", tmp_path / "c")
    assert info == {"mode": "incremental", "changed": 0} and same == second
    assert (tmp_path / "b" / ECHO_STATE).read_bytes() == (tmp_path / "c" / ECHO_STATE).read_bytes()
    # the document removed again: its pairs go, and the state is the first one byte for byte
    back, info = echo_links_since(rest, tmp_path / "c", tmp_path / "d")
    assert info == {"mode": "incremental", "changed": 1} and lines(back) == lines(first)
    assert (tmp_path / "d" / ECHO_STATE).read_bytes() == (tmp_path / "a" / ECHO_STATE).read_bytes()


def test_a_state_of_other_weights_or_unreadable_is_recomputed(index, tmp_path):
    echo_links_since(index, None, tmp_path / "a")
    path = tmp_path / "a" / ECHO_STATE
    head, *rows = path.read_text(encoding="utf-8").splitlines()
    assert head.startswith("# ipgraph echoes ") and rows == sorted(rows)
    # another fingerprint, and no echo left: were it trusted, no echo would come back
    path.write_text("# ipgraph echoes other\n" + "".join(f"{r}\n" for r in rows if r.startswith("doc\t")),
                    encoding="utf-8")
    links, info = echo_links_since(index, tmp_path / "a")
    assert info["mode"] == "full" and lines(links) == lines(echo_links(index))
    for broken in ("{not a state", head + "\necho\ta\tb\tnot-a-number\n", head + "\nstray line\n"):
        path.write_text(broken, encoding="utf-8")
        links, info = echo_links_since(index, tmp_path / "a")
        assert info["mode"] == "full" and lines(links) == lines(echo_links(index))


def test_a_rebuild_with_the_cache_computes_no_pair_again(tmp_path):
    from ipgraph.pipeline import build_graph, cache_folder, write_outputs

    out = tmp_path / "out"
    first = build_graph([CORPUS], cache=True, cache_dir=cache_folder(out))
    write_outputs(first, out)
    assert first.search.index.stats["echoes"]["mode"] == "full"
    again = build_graph([CORPUS], cache=True, cache_dir=cache_folder(out))
    assert again.search.index.stats["echoes"] == {"mode": "incremental", "changed": 0}
    assert again.ntriples.read_bytes() == first.ntriples.read_bytes()
    write_outputs(again, out)
    assert (out / "search" / ECHO_STATE).is_file()


def _counts(token_rows: list[list[str]]):
    """index.Postings.counts of token lists: (row, column, count) arrays and the columns' tokens (first sight)."""
    from collections import Counter

    vocab: dict[str, int] = {}
    rows, cols, counts = [], [], []
    for n, tokens in enumerate(token_rows):
        for token, c in Counter(tokens).items():
            rows.append(n)
            cols.append(vocab.setdefault(token, len(vocab)))
            counts.append(c)
    return (np.asarray(rows, dtype=np.int32), np.asarray(cols, dtype=np.int32), np.asarray(counts, dtype=np.int32),
            list(vocab))


def test_spliced_echo_rows_are_the_rows_weighed_again(index, tmp_path):
    """A build keeps its weighted rows (save_echo_rows); the next splices the kept documents' rows with
    the new ones' (weighed alone): the matrix echo_rows_of gives for the final rows, bit for bit, with
    documents left out (their words may go from the columns) and others added."""
    import random

    from ipgraph.search.echoes import echo_rows_of, load_echo_rows, save_echo_rows, splice_echo_rows

    rng = random.Random(3)
    tokens = index.tokens
    docs = documents(index)
    rows_of = {d: [n for n, x in enumerate(index.docs) if x.doc_iri == d] for d in docs}
    old_docs = docs[:-1]
    old_rows = [n for d in old_docs for n in rows_of[d]]
    kept = echo_rows_of(*_counts([tokens[n] for n in old_rows]), len(old_rows))
    save_echo_rows(kept, tmp_path)
    kept = load_echo_rows(tmp_path)
    assert kept is not None
    for _ in range(5):
        final = sorted(set(rng.sample(old_docs, rng.randint(1, len(old_docs)))) | {docs[-1]})
        new_docs = [d for d in final if d not in old_docs or rng.random() < 0.3]  # some documents weighed again
        new_rows = [n for d in new_docs for n in rows_of[d]]
        mine = echo_rows_of(*_counts([tokens[n] for n in new_rows]), len(new_rows),
                            dict(zip(kept.tokens, kept.weights.tolist(), strict=True)))
        at_old: dict[str, tuple[int, int]] = {}
        at_new: dict[str, tuple[int, int]] = {}
        start = 0
        for d in old_docs:
            at_old[d] = (start, start + len(rows_of[d]))
            start += len(rows_of[d])
        start = 0
        for d in new_docs:
            at_new[d] = (start, start + len(rows_of[d]))
            start += len(rows_of[d])
        parts = [(mine, *at_new[d]) if d in at_new else (kept, *at_old[d]) for d in final]
        spliced = splice_echo_rows(parts)
        whole = echo_rows_of(*_counts([tokens[n] for d in final for n in rows_of[d]]), sum(len(rows_of[d]) for d in final))
        assert spliced.tokens == whole.tokens and spliced.weights.tobytes() == whole.weights.tobytes()
        a, b = spliced.matrix, whole.matrix
        assert a.shape == b.shape
        assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
        assert a.data.tobytes() == b.data.tobytes()
