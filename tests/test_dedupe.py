"""ipgraph.dedupe and the build: the same document twice is reported and not doubled in the graph."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ipgraph.dedupe import DuplicateFinder, find_duplicates, jaccard, normalise, shingles
from ipgraph.errors import DuplicateError
from ipgraph.pipeline import build_graph, sorted_ntriples
from ipgraph.read import read_document

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"
DOCS = sorted(CORPUS.glob("*.txt"))


def text_of(i: int) -> str:
    return DOCS[i].read_text(encoding="utf-8")


def test_identical_text_is_a_duplicate_of_the_first_name():
    found = find_duplicates([("b.txt", text_of(0)), ("a.txt", text_of(0)), ("c.txt", text_of(1))])
    assert set(found) == {"b.txt"}
    assert found["b.txt"].of == "a.txt"
    assert found["b.txt"].identical
    assert found["b.txt"].describe() == "duplicate of a.txt (identical text); left out of the graph"


def test_layout_and_width_differences_do_not_matter():
    text = text_of(2)
    relaid = text.replace("\n\n", "\n").replace("，", ",").replace("。", ".") + "\n\n\n"
    assert normalise(relaid) == normalise(text)
    assert find_duplicates([("a.txt", text), ("b.txt", relaid)])["b.txt"].identical


def test_traditional_copy_is_a_duplicate():
    import opencc

    text = text_of(3)
    traditional = opencc.OpenCC("s2t").convert(text)
    assert traditional != text
    match = find_duplicates([("a.txt", text), ("b.txt", traditional)]).get("b.txt")
    assert match is not None and match.similarity >= 0.9


@pytest.mark.parametrize("edit", [
    lambda t: re.sub(r"20\d\d", "2099", t, count=1),  # a changed date
    lambda t: "来源:天津政务网 发布时间:2021-01-05\n" + t + "\n(责任编辑:张三)\n",  # page furniture around it
    lambda t: "\n".join(line for i, line in enumerate(t.splitlines()) if i != 10),  # a paragraph dropped
])
def test_near_identical_copies(edit):
    text = text_of(0)
    match = find_duplicates([("a.txt", text), ("b.txt", edit(text))]).get("b.txt")
    assert match is not None
    assert not match.identical
    assert 0.9 <= match.similarity < 1.0
    assert match.describe().startswith("near-duplicate of a.txt (")


def test_a_substantial_revision_is_a_different_document():
    text = text_of(4)
    lines = text.splitlines()
    revised = "\n".join(lines[: len(lines) * 3 // 4])  # a quarter removed
    assert find_duplicates([("a.txt", text), ("b.txt", revised)]) == {}


def test_the_corpus_documents_are_all_different():
    assert find_duplicates([(p.name, p.read_text(encoding="utf-8")) for p in DOCS]) == {}


def test_shingles_and_jaccard():
    assert jaccard(shingles("知识产权保护"), shingles("知识产权保护")) == 1.0
    assert jaccard(shingles("知识产权保护"), shingles("专利转化运用")) == 0.0
    assert shingles("") == set()
    assert len(shingles("知识产")) == 1


def test_finder_remembers_only_what_is_added():
    finder = DuplicateFinder()
    assert finder.match(text_of(0)) is None
    assert finder.match(text_of(0)) is None  # matching does not register
    finder.add("a.txt", text_of(0))
    assert finder.match(text_of(0)) is not None


def test_build_keeps_the_first_by_name_and_reports_the_copy(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    gbk_copy = corpus / "zz 副本.txt"  # the same document, in GBK, under another name
    gbk_copy.write_bytes(text_of(0).encode("gbk"))
    html_copy = corpus / "zz-page.html"
    html_copy.write_text("<html><body><div id='zoom'>" + "".join(
        f"<p>{line}</p>" for line in text_of(1).splitlines()) + "</div></body></html>", encoding="utf-8")
    reported = []
    result = build_graph([corpus], on_skip=reported.append)
    assert [type(e) for e in reported] == [DuplicateError, DuplicateError]
    assert {e.path.name for e in reported} == {"zz 副本.txt", "zz-page.html"}
    assert str(reported[0]) == f"{corpus / 'zz 副本.txt'}: duplicate of {DOCS[0].name} (identical text); left out of the graph"
    assert [r.parsed.source.name for r in result.records] == [p.name for p in DOCS]
    # not doubled: the graph is exactly the corpus graph
    assert sorted_ntriples(result.graph) == sorted_ntriples(build_graph([CORPUS]).graph)


def test_same_file_named_twice_is_read_once():
    result = build_graph([CORPUS, DOCS[0]])
    assert result.skipped == []
    assert len(result.records) == len(DOCS)


def test_two_different_documents_with_the_same_stem(tmp_path):
    (tmp_path / "plan.txt").write_bytes(DOCS[0].read_bytes())
    (tmp_path / "plan.html").write_text("<html><body><p>" + "</p><p>".join(text_of(2).splitlines()) + "</p></body></html>",
                                        encoding="utf-8")
    result = build_graph([tmp_path])
    assert [r.parsed.source.name for r in result.records] == ["plan.html"]
    assert [str(e) for e in result.skipped] == [
        f"{tmp_path / 'plan.txt'}: same document name as {tmp_path / 'plan.html'} "
        f"(a document's IRI is its file name without the suffix); rename one"]


def test_reading_is_independent_of_the_kind(tmp_path):
    gbk = tmp_path / "a.txt"
    gbk.write_bytes(text_of(2).encode("gb18030"))
    assert normalise(read_document(gbk).text) == normalise(text_of(2))
