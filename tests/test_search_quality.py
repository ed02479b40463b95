"""The jieba index's two fields (issue 13, ranking quality): jieba words and character bigrams are
separate BM25 fields and each query token is scored once (ipgraph.search.rank.query_fields); the
bigram field finds fragments no text holds as a word and credits words written side by side; the
evaluation reports the normalised recall@10 beside the plain one; jieba is ahead of both baselines
on the name queries of the corpus and of shared/dev."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import GOLD, SHARED

from ipgraph.search import build_index, search
from ipgraph.search.eval import evaluate_search, measure_relevance, passage_docs, passage_relevance
from ipgraph.search.page import page_index, page_query_fields, page_search
from ipgraph.search.rank import query_fields, scores
from ipgraph.search.records import SearchDoc
from ipgraph.search.tokenise import normalise


@pytest.fixture(scope="module")
def index(built_dir, tmp_path_factory):
    return build_index(built_dir, tmp_path_factory.mktemp("q") / "search")


def test_a_word_that_is_also_a_bigram_is_scored_once(index) -> None:
    # 质押 is a jieba word and a bigram of every text holding it: in one vocabulary it was one token
    # counted twice; now the words field scores it and the bigram field does not again
    assert "质押" in index.bm25.vocab_dict and "质押" in index.grams.vocab_dict
    assert query_fields(index, "质押") == (["质押"], [])
    words_only = np.asarray(index.bm25.get_scores(["质押"]), dtype=np.float32)
    assert np.allclose(scores(index, "质押"), words_only) and words_only.max() > 0


def test_a_fragment_no_text_holds_as_a_word_is_found_by_its_bigram(index) -> None:
    words, grams = query_fields(index, "强市")  # inside 知识产权强市建设, never a word of its own
    assert words == [] and grams == ["强市"]
    hits = search(index, "强市", limit=10)
    assert hits and all("强市" in normalise(h.snippet) for h in hits)


def test_the_bigram_between_two_words_credits_them_side_by_side(index) -> None:
    words, grams = query_fields(index, "示范企业")
    assert {"示范", "企业"} <= set(words) and grams == ["范企"]  # 范企: only where the two words touch
    values = scores(index, "示范企业")
    together = [i for i, d in enumerate(index.docs) if "示范企业" in normalise(d.indexed_text())]
    apart = [i for i, d in enumerate(index.docs) if i not in together
             and "示范" in normalise(d.indexed_text()) and "企业" in normalise(d.indexed_text())]
    assert together and apart
    assert min(values[together]) > max(values[apart])  # every measure saying 示范企业 first


def test_the_page_splits_a_query_as_the_index_does(index) -> None:
    data = page_index(index)
    assert data["grams"] and "范企" in data["grams"] and "范企" not in data["postings"]
    assert page_query_fields(data, "质押") == (["质押"], [])
    words, grams = page_query_fields(data, "示范企业")
    assert {"示范", "企业"} <= set(words) and grams == ["范企"]
    for query in ("示范企业", "强市", "质押", "专利导航"):
        assert page_search(data, query, 5) == [h.iri for h in search(index, query, limit=5)]


def test_normalised_recall_is_reported_beside_the_plain_one() -> None:
    # 15 relevant passages: the top 10 can hold only 10 of them, so plain recall@10 caps at 10/15
    docs = [SearchDoc(iri=f"p:{n}", doc_iri="p:", document="p", source_file="p.txt", doc_number="", level="",
                      number=str(n), order=n, text=f"第{n}项 推进知识产权质押工作") for n in range(15)]
    report = evaluate_search(docs, {"知识产权质押融资": {d.iri for d in docs}}, [])
    assert report["largest_relevant"] == 15
    jieba = report["methods"]["jieba"]
    assert jieba["recall@10"] == round(10 / 15, 3) and jieba["nrecall@10"] == 1.0 and jieba["mrr"] == 1.0


def test_jieba_is_ahead_of_both_baselines_on_the_corpus_names(index) -> None:
    relevance = measure_relevance(index.docs, GOLD)
    names = read_names_of(index)
    report = evaluate_search(index.docs, relevance, names, "names")
    m = report["methods"]
    assert m["jieba"]["recall@10"] > m["bigram"]["recall@10"] > m["substring"]["recall@10"]
    assert m["jieba"]["mrr"] >= m["bigram"]["mrr"] and m["jieba"]["mrr"] > m["substring"]["mrr"]
    fragments = evaluate_search(index.docs, relevance, names)["methods"]
    assert fragments["jieba"]["mrr"] >= fragments["bigram"]["mrr"]
    assert fragments["jieba"]["recall@10"] > fragments["substring"]["recall@10"]


@pytest.mark.skipif(not (SHARED / "dev").is_dir(), reason="shared/dev is not beside the repository")
def test_jieba_is_ahead_of_both_baselines_on_dev() -> None:
    docs = passage_docs(SHARED / "dev")
    relevance = passage_relevance(docs, SHARED / "dev")
    names = evaluate_search(docs, relevance, [], "names")["methods"]
    assert names["jieba"]["recall@10"] > names["bigram"]["recall@10"] > names["substring"]["recall@10"]
    assert names["jieba"]["mrr"] > names["bigram"]["mrr"]
    fragments = evaluate_search(docs, relevance, [])["methods"]
    assert fragments["jieba"]["recall@10"] == fragments["bigram"]["recall@10"] == 1.0
    assert fragments["jieba"]["mrr"] >= fragments["bigram"]["mrr"] and fragments["jieba"]["mrr"] > fragments["substring"]["mrr"]


def read_names_of(index) -> list[str]:
    return index.words  # the user dictionary the index was built with (its names and domain terms)
