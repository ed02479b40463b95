"""The second evaluation query set of ipgraph.search.eval, "names" (issue 13): made by its written
rule (every name the programme scheme knows for each evaluated programme), scored beside the
fragment queries; the figures in README's "Measured, not assumed" come from these runs."""
from __future__ import annotations

import pytest
from conftest import GOLD, SHARED

from ipgraph.extract.programmes import scheme_aliases
from ipgraph.search import load_index
from ipgraph.search.eval import (
    eval_queries,
    evaluate_search,
    measure_relevance,
    name_queries,
    passage_docs,
    passage_relevance,
)
from ipgraph.search.records import read_names


@pytest.fixture(scope="module")
def corpus(built_dir):
    index = load_index(built_dir / "search")
    return index, measure_relevance(index.docs, GOLD), read_names(built_dir)


def test_the_names_set_follows_its_rule():
    programmes = list(eval_queries())
    pairs = name_queries(programmes)
    assert len(pairs) == len(set(pairs))
    for programme in programmes:
        mine = [q for p, q in pairs if p == programme]
        assert mine[0] == programme and set(mine) == {programme, *scheme_aliases(programme)}
    assert sum(1 for p, q in pairs if q != p) >= len(programmes)  # aliases beyond the labels


def test_names_on_the_corpus(corpus):
    index, relevance, names = corpus
    report = evaluate_search(index.docs, relevance, names, "names")
    fragments = evaluate_search(index.docs, relevance, names, "fragments")
    assert report["queries"] > fragments["queries"] == 15
    m = report["methods"]
    # whole names: the word index is ahead of both baselines on recall, plain substring far behind
    assert m["jieba"]["recall@10"] > m["bigram"]["recall@10"] > m["substring"]["recall@10"]
    assert m["jieba"]["mrr"] >= m["bigram"]["mrr"] > m["substring"]["mrr"]


@pytest.mark.skipif(not (SHARED / "dev").is_dir(), reason="shared/dev is not beside the repository")
def test_names_on_dev_passages():
    docs = passage_docs(SHARED / "dev")
    report = evaluate_search(docs, passage_relevance(docs, SHARED / "dev"), [], "names")
    m = report["methods"]
    assert report["queries"] >= 20
    assert m["jieba"]["recall@10"] > m["bigram"]["recall@10"] > m["substring"]["recall@10"]
    assert m["jieba"]["mrr"] > m["bigram"]["mrr"]
