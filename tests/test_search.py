"""Full-text search (ipgraph.search): tokenisers, the index under the build folder, ranking,
filters, snippets, the `ipgraph search` command and the labelled evaluation (issue 13).

The index is built from the corpus build (conftest's built_dir / corpus_build), not by the
pipeline, so these tests do not depend on how the build wires search in.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import GOLD, REPO, SHARED

from ipgraph.cli import main
from ipgraph.search import Filters, SearchIndexError, build_index, load_index, open_index, search
from ipgraph.search.eval import evaluate_search, measure_relevance, passage_docs, passage_relevance
from ipgraph.search.index import FORMAT, index_docs
from ipgraph.search.records import read_doc_names, read_docs, read_names
from ipgraph.search.tokenise import bigram_tokenise, domain_terms, jieba_tokeniser, normalise, user_words


@pytest.fixture(scope="module")
def index_dir(built_dir, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("search") / "search"
    build_index(built_dir, folder)
    return folder


@pytest.fixture(scope="module")
def index(index_dir):
    return load_index(index_dir)


@pytest.fixture(scope="module")
def relevance(index) -> dict[str, set[str]]:
    return measure_relevance(index.docs, GOLD)


# ------------------------------------------------------------------ tokenisers


def test_user_dictionary_keeps_graph_names_and_domain_terms_whole():
    tokenise = jieba_tokeniser(user_words(["宜昌市知识产权保护中心"]))  # what build_index does
    tokens = tokenise("建设宜昌市知识产权保护中心,开展数据知识产权登记和知识产权质押融资")
    assert "宜昌市知识产权保护中心" in tokens  # a graph name
    assert "数据知识产权" in tokens and "知识产权质押融资" in tokens  # domain terms (ipgraph/data)
    assert "知识产权" in tokens and "质押" in tokens  # the words inside stay findable
    assert "数据知识产权" in domain_terms()


def test_tokens_are_normalised_and_function_words_dropped():
    tokens = jieba_tokeniser([])("ＧＢ／Ｔ２９４９０ 进一步 加强 的 专利")
    assert tokens[:2] == ["gb", "t29490"]  # NFKC: full-width to half-width, lower case
    assert "专利" in tokens and not {"进一步", "加强", "的"} & set(tokens)  # function words dropped
    assert bigram_tokenise("专利导航") == ["专利", "利导", "导航"]


def test_query_fragment_finds_word_inside_a_compound(index):
    # jieba cuts the query 专利奖 into 专利 + 奖; its bigram 利奖 finds it inside the word 中国专利奖
    hits = search(index, "专利奖")
    assert hits and all("专利奖" in normalise(index.docs[[d.iri for d in index.docs].index(h.iri)].indexed_text())
                        for h in hits[:3])


# ------------------------------------------------------------------ ranking (asserted on gold)


def test_top_results_for_pledge_financing_name_that_programme(index, relevance):
    hits = search(index, "知识产权质押融资", limit=5)
    gold = relevance["知识产权质押融资"]
    assert [h.iri in gold for h in hits[:3]] == [True, True, True]
    assert sum(h.iri in gold for h in hits) >= 4
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_top_results_for_navigation_fragment_are_patent_navigation(index, relevance):
    hits = search(index, "导航", limit=5)
    assert all(h.iri in relevance["专利导航"] for h in hits[:3])


def test_two_part_query_ranks_the_measure_with_both_first(index):
    top = search(index, "质押融资 风险补偿", limit=3)[0]
    text = next(d.text for d in index.docs if d.iri == top.iri)
    assert "融资" in text and "风险补偿" in text


def test_no_match_is_no_hit(index):
    assert search(index, "足球比赛") == []
    assert search(index, "") == []


# ------------------------------------------------------------------ filters and hits


def test_level_document_and_agency_filters(index):
    municipal = search(index, "专利", Filters(level="municipal"), limit=50)
    assert municipal and {h.level for h in municipal} == {"municipal"}
    shenyang = search(index, "专利", Filters(document="沈阳"), limit=50)
    assert shenyang and {h.source_file for h in shenyang} == {"002_842afa8849cffd08.txt"}
    by_agency = search(index, "知识产权", Filters(agency="天津市知识产权局"), limit=50)
    docs = {d.iri: d for d in index.docs}
    assert by_agency and all(any("天津市知识产权局" in a for a in docs[h.iri].agencies) for h in by_agency)
    everything = search(index, "知识产权", limit=500)
    assert len(by_agency) < len(everything)


def test_unknown_level_is_a_clear_error(index):
    with pytest.raises(SearchIndexError, match="unknown level"):
        search(index, "专利", Filters(level="planet"))


def test_hit_carries_document_number_lead_and_highlighted_snippet(index):
    hit = search(index, "知识产权质押融资", Filters(document="沈阳"), limit=1)[0]
    assert hit.document.startswith("沈阳市知识产权运营服务体系建设实施方案")
    assert hit.number == "12" and hit.lead == ["沈阳市市场监督管理局"]
    assert hit.highlights and all(hit.snippet[s:e] in ("知识产权质押融资", "质押融资", "知识产权", "质押", "融资")
                                  or hit.snippet[s:e] for s, e in hit.highlights)
    assert "【知识产权质押融资】" in hit.marked()
    assert len(hit.snippet) <= 82


# ------------------------------------------------------------------ the index on disk


def test_index_is_deterministic_and_incremental(built_dir, index_dir, tmp_path):
    again = tmp_path / "search"
    first = build_index(built_dir, again)  # the build's own tokens (its workers made them): none segmented here
    assert first.stats["segmented"] == 0 and first.stats["measures"] == 184
    assert first.tokens == load_index(built_dir / "search").tokens
    for name in ("docs.json", "tokens.json", "meta.json"):
        assert (again / name).read_bytes() == (index_dir / name).read_bytes()
    second = build_index(built_dir, again)  # the same graph: every text's tokens come from the cache
    assert second.stats["segmented"] == 0 and second.stats["reused"] == 184
    staged = build_index(built_dir, tmp_path / "stage" / "search", previous=again)  # a build's staging folder
    assert staged.stats["segmented"] == 0
    assert (tmp_path / "stage" / "search" / "tokens.json").read_bytes() == (again / "tokens.json").read_bytes()
    changed = [*second.docs]
    changed[0] = type(changed[0])(**{**changed[0].__dict__, "text": changed[0].text + "新增数据知识产权登记试点。"})
    cache = json.loads((again / "tokens.json").read_text(encoding="utf-8"))
    third = index_docs(changed, "jieba", read_names(built_dir), cache, doc_words=read_doc_names(built_dir),
                       made=second.made())
    assert third.stats["segmented"] == 1
    assert "数据知识产权" in third.tokens[0]


def test_index_from_rdflib_graph_equals_index_from_store(corpus_build, index):
    from_graph = read_docs(corpus_build)
    assert [d.iri for d in from_graph] == [d.iri for d in index.docs]
    assert [d.text for d in from_graph] == [d.text for d in index.docs]


def test_broken_index_is_one_clear_error_and_open_index_rebuilds(built_dir, tmp_path):
    import shutil

    build = tmp_path / "b"
    shutil.copytree(built_dir, build)
    folder = build / "search"
    shutil.rmtree(folder, ignore_errors=True)  # the build's index (copied): replaced by a broken one
    folder.mkdir()
    (folder / "meta.json").write_text(json.dumps({"format": FORMAT}), encoding="utf-8")
    with pytest.raises(SearchIndexError, match="no search index here"):  # docs.json is missing
        load_index(folder)
    (folder / "meta.json").write_text(json.dumps({"format": FORMAT - 1}), encoding="utf-8")
    with pytest.raises(SearchIndexError, match="expected"):
        load_index(folder)
    notes: list[str] = []
    rebuilt = open_index(build, notes)
    assert len(rebuilt.docs) == 184 and any("rebuilding" in n for n in notes)


# ------------------------------------------------------------------ the command


def test_search_command_table_csv_json(built_dir, index_dir):
    import shutil

    if not (built_dir / "search").exists():
        shutil.copytree(index_dir, built_dir / "search")
    runner = CliRunner()
    table = runner.invoke(main, ["search", "知识产权质押融资", "--graph", str(built_dir), "--limit", "3"])
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["rank", "score", "document", "number", "lead", "snippet"]
    assert len(lines) == 5 and "【知识产权质押融资】" in table.stdout
    rows = json.loads(runner.invoke(main, ["search", "导航", "--graph", str(built_dir), "--format", "json",
                                           "--level", "municipal"]).stdout)
    assert rows and {r["level"] for r in rows} == {"municipal"} and rows[0]["rank"] == 1
    csv_out = runner.invoke(main, ["search", "导航", "--graph", str(built_dir), "--format", "csv"]).stdout
    assert csv_out.splitlines()[0] == "rank,score,document,number,lead,snippet,measure"


def test_search_command_without_graph_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["search", "专利", "--graph", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no built graph here" in result.stderr and "Traceback" not in result.output


def test_query_command_and_package_import_do_not_load_jieba(built_dir):
    code = textwrap.dedent(f"""
        import sys
        import ipgraph.search
        from ipgraph.cli import main
        try:
            main(["query", "documents", "--graph", {str(built_dir)!r}], standalone_mode=False)
        finally:
            print("JIEBA", "jieba" in sys.modules, "bm25s" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                         env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    assert "JIEBA False False" in out.stdout


# ------------------------------------------------------------------ the labelled evaluation


def test_evaluation_on_the_shipped_corpus(index, relevance):
    report = evaluate_search(index.docs, relevance, read_names_from(index))
    assert report["queries"] == 15
    m = report["methods"]
    assert m["jieba"]["recall@10"] >= 0.9 and m["jieba"]["mrr"] >= 0.95
    assert m["jieba"]["recall@10"] > m["substring"]["recall@10"] and m["jieba"]["mrr"] > m["substring"]["mrr"]
    # jieba words alone miss fragments that are no dictionary word: why the index adds in-word bigrams
    assert m["words"]["recall@10"] < m["jieba"]["recall@10"]


@pytest.mark.skipif(not (SHARED / "dev").is_dir(), reason="shared/dev is not beside the repository")
def test_evaluation_on_dev_passages(index):
    docs = passage_docs(SHARED / "dev")
    report = evaluate_search(docs, passage_relevance(docs, SHARED / "dev"), [])
    assert report["queries"] >= 5
    m = report["methods"]
    assert m["jieba"]["recall@10"] >= 0.9 and m["jieba"]["recall@10"] > m["words"]["recall@10"]


def read_names_from(index) -> list[str]:
    return index.words


# ------------------------------------------------------------------ the graph page's index


def test_page_index_ranks_like_search_for_typed_fragments(index, relevance):
    from ipgraph.search.page import page_index, page_search

    data = page_index(index)
    assert len(data["measures"]) == 184 and json.dumps(data, ensure_ascii=False)  # JSON-ready
    assert page_index(index) == data  # deterministic
    for query in ("质押", "导航", "证券化", "知识产权质押融资"):
        page = page_search(data, query, 5)
        assert page[:3] == [h.iri for h in search(index, query, limit=3)]
    assert all(iri in relevance["专利导航"] for iri in page_search(data, "导航", 3))
    part = page_index(index, data["measures"][:10])
    assert len(part["measures"]) == 10 and all(max(rows) < 10 for rows, _ in part["postings"].values())


# ------------------------------------------------------------------ entry points for the build and the server


def test_add_search_to_build_writes_the_index_and_the_echoes(corpus_build, built_dir, tmp_path):
    from rdflib import Graph

    from ipgraph.search.wiring import add_search_to_build
    from ipgraph.vocab import IPG

    built = corpus_build.graph
    echo_nodes = set(built.subjects(object=IPG.Echo))

    def without_echoes() -> Graph:  # the built graph without its echoes, as a user's rdflib Graph
        graph = Graph()
        for s, p, o in built:
            if s not in echo_nodes and p != IPG.echoes:
                graph.add((s, p, o))
        return graph

    graph = without_echoes()
    before = len(graph)
    assert not set(graph.subjects(object=IPG.Echo))
    index = add_search_to_build(graph, tmp_path / "alone", previous=tmp_path / "none")
    assert (tmp_path / "alone" / "search" / "meta.json").is_file() and len(index.docs) == 184
    echoes = set(graph.subjects(object=IPG.Echo))
    assert len(echoes) >= 20 and len(graph) == before + 7 * len(echoes)  # 2 echoes, type, 2 between, score, label
    # Alone, a Graph's texts are segmented with the names the merged graph gives each document, which
    # can differ from what its own extractor found (the build's tokens): most echoes are the same.
    assert len(echoes & echo_nodes) >= 0.9 * len(echo_nodes)
    # Lent the build's tokens (its search folder), it states exactly the streaming build's echoes.
    graph = without_echoes()
    add_search_to_build(graph, tmp_path / "lent", previous=built_dir)
    assert set(graph.subjects(object=IPG.Echo)) == echo_nodes


def test_search_response_for_the_endpoint(built_dir, index_dir):
    import shutil

    from ipgraph.search.wiring import search_response

    if not (built_dir / "search").exists():
        shutil.copytree(index_dir, built_dir / "search")
    status, body = search_response(built_dir, {"q": "知识产权质押融资", "level": "municipal", "limit": "3"})
    data = json.loads(body)
    assert status == 200 and data["query"] == "知识产权质押融资"
    assert [h["rank"] for h in data["hits"]] == [1, 2, 3] and {h["level"] for h in data["hits"]} == {"municipal"}
    assert search_response(built_dir, {"q": ""})[0] == 400
    assert search_response(built_dir, {"q": "专利", "level": "x"})[0] == 400
    assert search_response(built_dir, {"q": "专" * 500})[0] == 400
    assert search_response(built_dir, {"q": "专利", "limit": "many"})[0] == 400
