"""Small helpers for Chinese policy text: numerals, compare-forms, dates, sentences."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_WS = re.compile(r"\s+")  # compiled once: the module-level re functions look it up on every call

CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMERAL = "零〇○一二三四五六七八九十百千两"


def cn_to_int(numeral: str) -> int | None:
    """Chinese numeral ("三十四", "十", "一百零五") or digits → int; None when it is neither."""
    numeral = numeral.strip()
    if not numeral:
        return None
    if numeral.isdigit():
        return int(unicodedata.normalize("NFKC", numeral))
    if any(ch not in CN_DIGITS and ch not in CN_UNITS for ch in numeral):
        return None
    if not any(ch in CN_UNITS for ch in numeral):  # digit by digit: 二〇一〇
        return int("".join(str(CN_DIGITS[ch]) for ch in numeral))
    total, current = 0, 0
    for ch in numeral:
        if ch in CN_DIGITS:
            current = CN_DIGITS[ch]
        else:
            total += (current or 1) * CN_UNITS[ch]
            current = 0
    return total + current


def compare_form(text: str) -> str:
    """The form two strings are compared in: NFKC, no whitespace, one kind of bracket, dash and quote."""
    # a citation's title is compared several times: short strings are kept (bounded: 4096 × 200 characters)
    return _short_compare_form(text) if len(text) <= 200 else _compare_form(text)


_DASHES = re.compile(r"[—–―−-]+")
_QUOTES = re.compile(r"[“”\"「」『』‘’']")


def _compare_form(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _WS.sub("", text)
    text = text.replace("〔", "[").replace("〕", "]").replace("【", "[").replace("】", "]")
    text = _DASHES.sub("-", text)
    text = _QUOTES.sub("", text)
    return text.replace("《", "").replace("》", "").replace("〈", "<").replace("〉", ">")


@lru_cache(maxsize=4096)
def _short_compare_form(text: str) -> str:
    return _compare_form(text)


_DATE_ARABIC = re.compile(r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?")
_DATE_CN = re.compile(rf"([{CN_NUMERAL}]{{4}})年([{CN_NUMERAL}]{{1,3}})月([{CN_NUMERAL}]{{1,4}})日")


def parse_date(text: str) -> str | None:
    """The first date in `text` as ISO yyyy-mm-dd ("2020年9月28日", "2020.07.06", "二〇一〇年三月十五日")."""
    best: tuple[int, str] | None = None
    for pattern, convert in ((_DATE_ARABIC, int), (_DATE_CN, cn_to_int)):
        m = pattern.search(text)
        if not m:
            continue
        y, mo, d = (convert(g) for g in m.groups())
        if y is None or mo is None or d is None or not (1 <= mo <= 12 and 1 <= d <= 31 and 1900 < y < 2200):
            continue
        iso = f"{y:04d}-{mo:02d}-{d:02d}"
        if best is None or m.start() < best[0]:
            best = (m.start(), iso)
    return best[1] if best else None


DATE_ONLY = re.compile(
    rf"^\s*(?:\d{{4}}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日|[{CN_NUMERAL}]{{4}}年[{CN_NUMERAL}]{{1,3}}月[{CN_NUMERAL}]{{1,4}}日)\s*$"
)

CJK = re.compile(r"[\u3400-\u9fff]")


def is_cjk(ch: str) -> bool:
    return bool(CJK.match(ch))


# A sentence ends at 。;!? or a blank line; a single line break does not end one, since text
# copied from PDFs breaks lines inside sentences.
_SENTENCE_END = re.compile(r"[。;；!！?？]|\n\s*\n")


def sentence_around(text: str, start: int, end: int, limit: int = 400) -> tuple[int, int]:
    """Offsets of the sentence of `text` that holds [start, end), at most `limit` characters long."""
    # no sentence end within `limit` characters before: the sentence is cut there (starting it
    # at 0 made the evidence, and the work, grow with the text)
    left = max(0, start - limit)
    for m in _SENTENCE_END.finditer(text, max(0, start - limit), start):
        left = m.end()
    # the sentence is cut at `limit` characters anyway: looking further would make every call
    # read to the end of a text without sentence ends (quadratic over many calls)
    right_match = _SENTENCE_END.search(text, end, end + limit)
    right = right_match.end() if right_match else len(text)
    while left < start and text[left].isspace():
        left += 1
    right = min(right, max(end, left + limit))
    return left, right


def inside(pos: int, spans) -> bool:
    """Does offset `pos` fall in any of the spans (objects with .start and .end)?"""
    return any(s.start <= pos < s.end for s in spans)


def longest_first(words: Iterable[str]) -> str:
    """A pattern that matches, where any of `words` starts, the longest of them there: the same as
    their alternation sorted longest first, but as a trie ("知识产权(?:示范(?:企业)?|局)"), which the regex
    engine tries with one character test per position instead of one per word."""
    trie: dict[str, dict] = {}
    for word in filter(None, words):  # an empty word would match everywhere
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def emit(node: dict[str, dict]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body  # greedy: the longer word first, then the one ending here

    return emit(trie)
