"""The faster paths of the per-document extraction (issue 14) answer exactly as the slower ones they replace.

Each fast path is checked against the plain formulation it stands for (an alternation sorted longest
first, finditer over one combined pattern, opencc's own pass, a set intersection, a pattern compiled per
word), on random inputs as well as on the shipped documents.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from ipgraph.dedupe import _jaccard_packed, _packed, jaccard
from ipgraph.extract.programmes import _leftmost, _matcher, match_known, normalise
from ipgraph.read import _t2s, _t2s_keys, matching_form, read_document
from ipgraph.resolve import AgencyResolver, split_agency_list
from ipgraph.structure import _SPACE, _cached_marker, _find_spaced, match_marker, parse_document
from ipgraph.textutil import longest_first

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"


def _corpus_texts() -> list[str]:
    return [read_document(p).text for p in sorted(CORPUS.glob("*.txt"))]


def _alternation(words: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))


def test_longest_first_finds_what_the_sorted_alternation_finds() -> None:
    rng = random.Random(14)
    for _ in range(300):
        alphabet = "知识产权局市区县"[: rng.randint(2, 8)]
        words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))) for _ in range(rng.randint(1, 12))]
        text = "".join(rng.choice(alphabet + "。,") for _ in range(rng.randint(0, 60)))
        trie = re.compile(longest_first(words + [""]))  # an empty word is left out, as the alternation needs
        assert [m.span() for m in trie.finditer(text)] == [m.span() for m in _alternation(words).finditer(text)]


def test_longest_first_escapes_pattern_characters() -> None:
    pattern = re.compile(longest_first(["a.b", "(x)", "a"]))
    assert [m.group(0) for m in pattern.finditer("a.b axb (x) x")] == ["a.b", "a", "(x)"]


def test_leftmost_is_finditer_of_the_alternation() -> None:
    rng = random.Random(7)
    pieces = ["专利", "行动", "[一二三]{1,2}号", "计划", "2\\d\\d", "知识产权(?:示范)?", "[^。]{0,3}?企业"]
    for _ in range(300):
        patterns = rng.sample(pieces, rng.randint(1, 4))
        combined = re.compile("|".join(f"(?P<p{i}>{p})" for i, p in enumerate(patterns)))
        text = "".join(rng.choice(["专利", "行动", "一号", "计划", "2025", "知识产权示范", "企业", "。", "和"])
                       for _ in range(rng.randint(0, 25)))
        alternatives = tuple((re.compile(p), f"p{i}") for i, p in enumerate(patterns))
        expected = [(m.span(), m.lastgroup) for m in combined.finditer(text)]
        assert [(m.span(), name) for m, name in _leftmost(text, alternatives)] == expected


def test_known_programmes_match_as_one_alternation_of_the_scheme() -> None:
    alternatives, by_form = _matcher()
    patterns = [f"(?P<p{i}>{regex.pattern})" for i, (regex, programme) in enumerate(alternatives) if programme]
    forms = sorted(by_form, key=len, reverse=True)
    combined = re.compile("|".join(patterns + [f"(?P<form>{'|'.join(map(re.escape, forms))})"]))
    programmes = [programme for _, programme in alternatives if programme]
    for text in _corpus_texts():
        normal, index = normalise(text)
        expected = []
        for m in combined.finditer(normal):
            name = m.lastgroup or ""
            canonical = by_form[m.group(0)] if name == "form" else programmes[int(name[1:])]
            expected.append((canonical, index[m.start()], index[m.end() - 1] + 1))
        found = [(c, a, b) for c, a, b in match_known(text)]
        # match_known may widen a start by one opening quote; the programme and the end are the alternation's
        assert [(c, b) for c, _, b in found] == [(c, b) for c, _, b in expected]
        assert all(e - f in (0, 1) for (_, f, _), (_, e, _) in zip(found, expected, strict=True))
        assert expected  # the shipped plans do name programmes


def _opencc_form(text: str) -> str:
    """matching_form as it was: opencc's pass over the text's distinct characters decides."""
    converter = _t2s()
    distinct = "".join(sorted(set(re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]", text))))
    if converter.convert(distinct) == distinct:
        return text
    whole = converter.convert(text)
    if len(whole) == len(text):
        return whole
    return "\n".join(c if len(c := converter.convert(line)) == len(line)
                     else "".join(x if len(x := converter.convert(ch)) == 1 else ch for ch in line)
                     for line in text.split("\n"))


def test_matching_form_shortcut_agrees_with_opencc() -> None:
    import opencc

    s2t = opencc.OpenCC("s2t")
    singles, phrases = _t2s_keys()
    assert singles and phrases  # the dictionaries were read
    texts = _corpus_texts()
    texts += [s2t.convert(t[:2000]) for t in texts]  # traditional copies
    texts += ["推进知识产权" + p + "工作" for p in phrases]  # the keys a sorted character run can hold
    texts += ["".join(sorted(set(p))) for p in phrases]
    for text in texts:
        assert matching_form(text) == _opencc_form(text), text[:40]
    traditional = s2t.convert("实施知识产权强国战略")
    assert traditional != "实施知识产权强国战略"
    assert matching_form(traditional) == "实施知识产权强国战略"
    assert len(matching_form(traditional)) == len(traditional)


def test_sorted_jaccard_equals_the_set_jaccard() -> None:
    rng = random.Random(3)
    for _ in range(200):
        a = {rng.randrange(1 << 32) for _ in range(rng.randint(0, 300))}
        b = set(rng.sample(sorted(a), len(a) // 2)) | {rng.randrange(1 << 32) for _ in range(rng.randint(0, 300))}
        assert _jaccard_packed(_packed(a), _packed(b)) == jaccard(a, b)


def test_find_spaced_is_the_spaced_pattern() -> None:
    rng = random.Random(5)
    text = "".join(_corpus_texts())[:40000]
    for _ in range(2000):
        i = rng.randrange(len(text) - 10)
        word = text[i:i + rng.randint(1, 8)]
        for w in (word, "".join(c for c in word if c not in _SPACE), word[:1] + "\u3000" + word[1:]):
            m = re.search(f"[{_SPACE}]*".join(map(re.escape, w)), text)
            assert _find_spaced(w, text) == (m.span() if m else None)
    assert _find_spaced("国家知识产权局", "关于 国  家\u3000知识 产权局 印发") == (3, 14)


def test_resolver_answers_are_kept_but_never_shared_lists() -> None:
    resolver = AgencyResolver("天津市", "municipal")
    first = resolver.resolve_list("市知识产权局、市财政局")
    assert [r.canonical for r in first] == ["天津市知识产权局", "天津市财政局"]
    first.clear()  # a caller changing its list changes no later answer
    again = AgencyResolver("天津市", "municipal").resolve_list("市知识产权局、市财政局")
    assert [r.canonical for r in again] == ["天津市知识产权局", "天津市财政局"]
    # another place: its own answers, not the first place's
    other = AgencyResolver("湖北省", "provincial").resolve_list("省知识产权局")
    assert [r.canonical for r in other] == ["湖北省知识产权局"]


def test_agency_lists_split_alike_with_and_without_brackets() -> None:
    plain = "市发展改革委、市财政局 市科技局;市商务局,,市教委\n市人社局"
    assert split_agency_list(plain) == ["市发展改革委", "市财政局", "市科技局", "市商务局", "市教委", "市人社局"]
    # a bracket keeps its separators: one collective body
    assert split_agency_list("市发展改革委、各区、县(市)政府") == ["市发展改革委", "各区、县(市)政府"]
    assert split_agency_list("市知识产权局(市场监管局、版权局)、市财政局") == ["市知识产权局(市场监管局、版权局)", "市财政局"]


def test_marker_cache_keeps_only_short_lines() -> None:
    _cached_marker.cache_clear()
    long_line = "(一)" + "加强知识产权保护" * 100
    assert match_marker(long_line) == ("paren_cn", 1, "(一)")
    assert _cached_marker.cache_info().currsize == 0
    assert match_marker("(二)加强知识产权保护") == ("paren_cn", 2, "(二)")
    assert match_marker("(二)加强知识产权保护") == ("paren_cn", 2, "(二)")
    assert _cached_marker.cache_info().hits == 1
    assert match_marker("加强知识产权保护") is None
    assert match_marker("2. 5%") is None


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.name)
def test_paragraphs_are_cut_once_per_text(path: Path) -> None:
    from ipgraph.structure import _paragraphs, split_paragraphs

    source = read_document(path)
    _paragraphs.cache_clear()
    parse_document(source)
    first = split_paragraphs(source.text)
    assert _paragraphs.cache_info().hits >= 1  # the structure's cut, reused
    first.clear()  # a fresh list each time: a caller's change is its own
    assert split_paragraphs(source.text)


def test_dedupe_keys_from_the_sorted_array_are_the_set_keys() -> None:
    from ipgraph.dedupe import _SKETCH, _bottom, band_keys, normalise, shingles

    for text in _corpus_texts() + ["知识产", ""]:
        found = shingles(normalise(text))
        values = _packed(found)
        assert band_keys(values) == band_keys(found)
        assert set(values[:_SKETCH].tolist()) == _bottom(found)


def test_required_literal_is_in_every_match() -> None:
    from ipgraph.extract.programmes import required_literal

    assert required_literal("a(?:b|c)de") == "de"
    assert required_literal("ab|cd") == ""  # either side: nothing is sure
    assert required_literal("x?yz") == "yz"
    assert required_literal("(?i)abc") == ""  # a case-blind pattern spells no literal exactly
    assert required_literal("[") == ""  # not a pattern
    alternatives, _ = _matcher()
    texts = [normalise(t)[0] for t in _corpus_texts()]
    for regex, programme in alternatives:
        literal = required_literal(regex.pattern) if programme else ""
        for text in texts:
            for m in regex.finditer(text):
                assert literal in m.group(0)
