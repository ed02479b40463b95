"""The jieba index's two fields (issue 13, ranking quality): jieba words and character bigrams are
separate BM25 fields and each query token scores once, in the field where its saturated frequency is
larger (ipgraph.search.rank.scores); the bigram field finds fragments no text holds as a word, credits
words written side by side and reads coordinated forms (示范(优势)企业) as both their readings; the
evaluation reports the normalised recall@10 beside the plain one; jieba is ahead of both baselines
on the name queries of the corpus and of shared/dev."""
from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import GOLD, SHARED

from ipgraph.search import build_index, search
from ipgraph.search.eval import evaluate_search, measure_relevance, passage_docs, passage_relevance
from ipgraph.search.page import page_index, page_query_tokens, page_search
from ipgraph.search.rank import query_units, scores
from ipgraph.search.records import SearchDoc
from ipgraph.search.tokenise import coordinated_readings, normalise


@pytest.fixture(scope="module")
def index(built_dir, tmp_path_factory):
    return build_index(built_dir, tmp_path_factory.mktemp("q") / "search")


def _lucene_idf(n: int, df: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def test_a_word_that_is_also_a_bigram_is_scored_once(index) -> None:
    # 质押 is a jieba word and a bigram of every text holding it: summing the two fields counted it
    # twice; it scores once, with one idf, in the field where its saturated frequency is larger
    assert "质押" in index.bm25.vocab_dict and "质押" in index.grams.vocab_dict
    assert query_units(index, "质押") == ["质押"]
    n = len(index.docs)
    per_field = []
    for field in (index.bm25, index.grams):
        w = np.asarray(field.get_scores(["质押"]), dtype=np.float64)  # idf_f · saturated frequency
        per_field.append((w, int(np.count_nonzero(w))))
    saturated = np.maximum(*(w / np.float32(_lucene_idf(n, df)) for w, df in per_field))
    expected = _lucene_idf(n, max(df for _, df in per_field)) * saturated
    got = scores(index, "质押")
    assert np.allclose(got, expected, rtol=1e-5) and got.max() > 0
    both = (per_field[0][0] > 0) & (per_field[1][0] > 0)
    assert both.any() and np.all(got[both] < (per_field[0][0] + per_field[1][0])[both])


def test_a_fragment_no_text_holds_as_a_word_is_found_by_its_bigram(index) -> None:
    assert query_units(index, "强市") == ["强市"]  # inside 知识产权强市建设, never a word of its own
    assert "强市" not in index.bm25.vocab_dict
    hits = search(index, "强市", limit=10)
    assert hits and all("强市" in normalise(h.snippet) for h in hits)


def test_the_bigram_between_two_words_credits_them_side_by_side(index) -> None:
    assert {"示范", "企业", "范企"} <= set(query_units(index, "示范企业"))  # 范企: only where the two words touch
    values = scores(index, "示范企业")
    said = [i for i, d in enumerate(index.docs) if "示范企业" in normalise(d.indexed_text())]
    apart = [i for i, d in enumerate(index.docs) if i not in said
             and "示范" in normalise(d.indexed_text()) and "企业" in normalise(d.indexed_text())
             and not coordinated_readings(d.indexed_text())]
    assert said and apart
    assert min(values[said]) > max(values[apart])  # every measure saying 示范企业 first


def test_a_coordinated_form_is_found_by_either_reading(index) -> None:
    # 示范(优势)企业 says 示范企业 and 优势企业: the brackets break 范企 and 势企, the readings restore them
    assert coordinated_readings("争创知识产权示范（优势）企业。") == ["示范企业", "优势企业"]
    assert coordinated_readings("各区、县(市)政府") == ["县政府", "市政府"]
    assert coordinated_readings("示范(试点)高校(院所)建设") == ["示范高校", "试点高校", "高校建设", "院所建设"]
    assert coordinated_readings("管理办法(试行)。(一)加强") == []
    coordinated = [i for i, d in enumerate(index.docs) if "示范(优势)企业" in normalise(d.indexed_text())]
    assert coordinated
    for query in ("示范企业", "优势企业"):
        top10 = [h.iri for h in search(index, query, limit=10)]
        assert all(index.docs[i].iri in top10 for i in coordinated), query
def test_the_page_scores_a_query_as_the_index_does(index) -> None:
    data = page_index(index)
    assert set(data) == {"measures", "postings"} and "范企" in data["postings"] and "质押" in data["postings"]
    assert page_query_tokens(data, "质押") == ["质押"]
    tokens = page_query_tokens(data, "示范企业")  # the part as typed where it is a word, then the bigrams
    assert tokens[-3:] == ["示范", "范企", "企业"] and len(tokens) == len(set(tokens))
    for query in ("示范企业", "强市", "质押", "专利导航", "优势企业"):
        assert page_search(data, query, 5) == [h.iri for h in search(index, query, limit=5)], query
    # a token's page score is its score in `search`, rounded: one query token, one lookup
    rows, weights = data["postings"]["质押"]
    assert np.allclose(weights, scores(index, "质押")[rows], atol=6e-4)


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


def test_the_ranked_field_takes_each_rows_larger_saturated_frequency() -> None:
    # two fields over the same 40 texts, tokens held by one or both: the ranked field's weight is
    # idf(larger df) · max over the fields of w / idf_f, and a token one field holds keeps its weights
    from ipgraph.search.index import _bm25, lucene_idf, ranked_field

    rng = np.random.default_rng(7)
    words = [[f"w{k}" for k in rng.integers(0, 6, rng.integers(1, 5))] for _ in range(40)]
    grams = [[f"w{k}" for k in rng.integers(3, 9, rng.integers(1, 6))] for _ in range(40)]
    a, g = _bm25(words), _bm25(grams)
    ranked = ranked_field([a, g])
    n = 40
    for token in {t for doc in words + grams for t in doc}:
        dense = [np.asarray(f.get_scores([token]), dtype=np.float64) if token in f.vocab_dict else np.zeros(n)
                 for f in (a, g)]
        dfs = [int(np.count_nonzero(d)) for d in dense]
        saturated = np.maximum(*(d / np.float32(lucene_idf(n, df)) if df else d for d, df in zip(dense, dfs,
                                                                                                 strict=True)))
        expected = np.float32(lucene_idf(n, max(dfs))) * saturated
        got = np.asarray(ranked.get_scores([token]), dtype=np.float64)
        assert np.allclose(got, expected, rtol=1e-6), token
        if min(dfs) == 0:  # one field's token: its weights bit for bit
            only = dense[0] if dfs[0] else dense[1]
            assert np.array_equal(got.astype(np.float32), only.astype(np.float32)), token
