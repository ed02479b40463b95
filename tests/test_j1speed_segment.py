"""Issue 14: the workers' segmentation cuts each CJK run once per process (tokenise._RUNS), with the
same tokens as cutting every text whole."""
from __future__ import annotations

from ipgraph.search import tokenise
from ipgraph.search.tokenise import (
    added_words,
    base_words,
    dictionary_fingerprint,
    jieba_tokeniser,
    segment_keyed,
)

NAME = "宜昌市知识产权保护中心"  # a document's name: added to the dictionary it keeps the compound whole
TEXTS = [
    "建设宜昌市知识产权保护中心，推进专利导航产业发展。",
    "推进专利导航产业发展，建设宜昌市知识产权保护中心，开展2025年度评估",  # the same runs, in another order
    "宜昌市知识产权保护中心",  # a run that is the name alone
    "宜昌市知识产权保护工作",  # a prefix of the name, not the name: its cut must not see the name
]


def _whole(texts: list[str], names: list[str]) -> list[list[str]]:
    """Every text cut whole by the tokeniser, the text's own added words in the dictionary (no memo)."""
    base = base_words()
    segment = jieba_tokeniser(base, grams=False, instance=tokenise._SEGMENT)
    segment("知识产权")  # loads the Tokenizer
    jt = tokenise._tokenizer(tokenise._SEGMENT + dictionary_fingerprint(base), base)
    extra = tokenise.document_words(names)
    out = []
    for text in texts:
        with added_words(jt, tokenise.text_words(text, extra)):
            out.append(segment(text))
    return out


def test_runs_cut_once_give_the_tokens_of_whole_texts():
    tokenise._MEMO.clear()
    tokenise._RUNS.clear()
    names = [NAME, "天津市知识产权局"]  # one name no text holds
    keyed = segment_keyed(TEXTS, names)
    assert [tokens for _, tokens in keyed] == _whole(TEXTS, names)
    assert NAME in keyed[0][1] and NAME not in keyed[3][1]
    runs = {run for text in TEXTS for run in tokenise._CJK.findall(tokenise.normalise(text))}
    assert {run for _, run in tokenise._RUNS} == runs  # each distinct run cut once, none twice
    assert len(tokenise._RUNS) == len(runs)


def test_a_run_s_entry_is_keyed_by_the_names_it_holds():
    tokenise._MEMO.clear()
    tokenise._RUNS.clear()
    without = segment_keyed([TEXTS[2]], [])[0][1]
    with_name = segment_keyed([TEXTS[2]], [NAME])[0][1]
    assert with_name == [NAME] or NAME in with_name
    assert without != with_name  # the run without the name is another entry, not the remembered cut
    assert len(tokenise._RUNS) == 2


def test_the_lines_read_for_tokens_give_the_docs_and_names_of_all_lines():
    from pathlib import Path

    from ipgraph.pipeline import _extract_verbatim
    from ipgraph.read import read_document
    from ipgraph.search.segment import document_lines, read_lines
    from ipgraph.search.stage import docs_from_lines
    from ipgraph.stream.triples import document_triples

    corpus = Path(__file__).resolve().parents[1] / "data" / "corpus"
    for path in sorted(corpus.glob("*.txt"))[:2]:
        triples = document_triples(_extract_verbatim(path, read_document(path)))
        lines = document_lines(triples)
        kept = read_lines(lines)
        assert 0 < len(kept) < len(lines)  # the evidence spans and the like are left out
        docs, names = docs_from_lines(lines)
        assert docs and names and docs_from_lines(kept) == (docs, names)
