"""Quantitative targets (rules named target.*.v1).

Sentences: "到2025年,每万人口高价值发明专利拥有量达到55件", "专利转让超过6300件",
"年均增幅20%以上", "培育10家左右…", "培育90家国家知识产权优势示范企业", "至少2家…、1家…".
Comparators: 达到/不低于/不少于/至少/以上 → ">=", 超过/突破 → ">", 左右 → "≈",
不超过/以下/以内 → "<=", a plain planned count (培育N家 …) → "=".

Indicator tables (表N with a header row of years): each row is one target, valued in the last
year column. Where a plan has such a table, the table is its list of targets and the prose
that repeats it is not read again.

Parts that describe the past (发展现状 …) hold achievements, not targets.

Units (with a magnitude: 2.5万件, 1800亿元), comparator words and planned-count verbs are data:
data/target_words.csv. A line "到2020年:" or a paragraph opening "到2025年底," dates what follows
up to the next heading.
"""
from __future__ import annotations

import csv
import io
import re
from bisect import bisect_right
from dataclasses import dataclass

from ipgraph import knowledge
from ipgraph.model import ParsedDocument, Span, Target
from ipgraph.textutil import inside


def _words() -> dict[str, list[tuple[str, str]]]:
    """data/target_words.csv by kind: [(term, comparator)], longest term first."""
    lines = [line for line in knowledge.data_text("target_words.csv").splitlines() if not line.startswith("#")]
    out: dict[str, list[tuple[str, str]]] = {}
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        out.setdefault(row["kind"].strip(), []).append((row["term"].strip(), (row["comparator"] or "").strip()))
    return {kind: sorted(terms, key=lambda t: -len(t[0])) for kind, terms in out.items()}


_WORDS = _words()


def _alternatives(kind: str) -> str:
    return "|".join(re.escape(term) for term, _ in _WORDS[kind])


# a unit: %, 个百分点 … as they are, or a unit of measure with its magnitude (2.5万件, 1800亿元)
_MAGNITUDE = r"(?:" + _alternatives("magnitude") + r")?"
UNIT = r"(?:" + _alternatives("whole") + r"|" + _MAGNITUDE + r"(?:" + _alternatives("unit") + r"))"
COUNT_UNIT = r"(?:" + _MAGNITUDE + r"(?:" + _alternatives("count") + r"))"
# "100余家", "20多个": more than the number
NUM = r"(?P<num>\d+(?:\.\d+)?)(?:\s*[-—~～至]\s*(?P<num2>\d+(?:\.\d+)?))?(?P<more>余|多)?"
# A pattern that starts with a number starts only where a run of digits starts: tried at every
# digit of a long run, \d+ would rescan the rest of the run each time (quadratic on "1111…").
NUM_START = r"(?<![\d.])" + NUM
_BEFORE = dict(_WORDS["before"])
_AFTER = dict(_WORDS["after"])
_POST_WORDS = _alternatives("after")
CMP_BEFORE = re.compile(
    r"(?P<cmp>" + _alternatives("before") + r")\s*" + NUM + r"\s*(?P<unit>" + UNIT + r")\s*(?P<post>" + _POST_WORDS + r")?"
)
CMP_AFTER = re.compile(NUM_START + r"\s*(?P<unit>" + UNIT + r")(?P<post>" + _POST_WORDS + r")")
VERB_COUNT = re.compile(
    r"(?P<verb>" + _alternatives("verb") + r")(?:了)?\s*" + NUM + r"\s*(?P<unit>" + COUNT_UNIT + r")(?=[\u4e00-\u9fff“])"
)
LIST_COUNT = re.compile(r"[、,，]\s*" + NUM + r"\s*(?P<unit>" + COUNT_UNIT + r")(?=[\u4e00-\u9fff“])")
END_COUNT = re.compile(NUM_START + r"\s*(?P<unit>" + COUNT_UNIT + r")(?=[,，。;；、\t]|$)")
# "、" joins the words of one object ("转让、许可数量") but a "、" before a number starts the next
# count of a list ("300家市级专利试点、500家区级专利试点"): neither character class may take it.
_OBJECT = re.compile(r"(?:[^,，。;；、:：()（）\t\d]|、(?!\d))(?:[^,，。;；、:：()（）\t]|、(?!\d)){1,29}")
YEAR = re.compile(r"(?:到|至|截至|截止到|力争到|预计到)?\s*(?P<year>20[2-9]\d)\s*年(?:底|末)?")
# a tab separates the cells of a table row: a clause ends there too
_CLAUSE_BOUNDARY = re.compile(r"[,，;；:：。!！?？()（）\t]")
_LEAD_NOISE = re.compile(r"^(?:到20\d\d年(?:底|末)?|力争|全区|全市|全省|实现|推动|其中|并且|同时|以|使|确保|争取)+")


_SENTENCE_END = re.compile(r"[。;；!！?？]|\n\s*\n")


def _sentences(text: str, start: int, end: int):
    """Sentences of text[start:end] with their offsets; a single line break does not end one
    (text copied from PDFs breaks lines inside sentences), a blank line does."""
    pos = start
    for m in _SENTENCE_END.finditer(text[start:end]):
        stop = start + m.end()
        if stop - pos > 1:
            yield pos, stop
        pos = stop
    if end - pos > 1:
        yield pos, end


def _value(m: re.Match[str]) -> float:
    return float(m.group("num"))


# How far an indicator or a trailing year is looked for around a number. Indicators are short
# noun phrases; a bounded window keeps the work per number constant, so a sentence with
# thousands of numbers is read in linear time (the unbounded left context was quadratic).
_REACH = 80
_YEAR_AFTER = re.compile(r"[^,，。;；]{0," + str(_REACH) + r"}?(?:到|至)(20[2-9]\d)年")
_POST = re.compile(r"以上|左右|以下|以内")
# words that go on about the indicator just named: 累计, 总额, 总量, 其中 …
_CONTINUES = re.compile(r"^(?:累计|总额|总量|总数|合计|其中|年均|每年|全年)")
_LIST_POST = re.compile(r"以上|左右")
_BRACKET_TAIL = re.compile(r"[(（][^()（）]*$")
_SENTENCE_BOUNDARY = re.compile(r"[,，;；:：。!！?？\t]")
_TARGET_YEAR_PREFIX = ("到", "至", "截", "力", "预")


@dataclass
class _Sentence:
    """A compacted sentence with what every number in it looks up, computed once."""

    text: str
    years: list[tuple[int, int]]  # (end offset, year) of "到2025年"-like phrases
    clauses: list[int]  # offsets just after each clause boundary (,;:。() …)
    commas: list[int]  # offsets just after each boundary other than brackets

    @classmethod
    def of(cls, text: str) -> _Sentence:
        years = [(y.end(), int(y.group("year"))) for y in YEAR.finditer(text) if y.group(0).startswith(_TARGET_YEAR_PREFIX)]
        return cls(text, years, [b.end() for b in _CLAUSE_BOUNDARY.finditer(text)],
                   [b.end() for b in _SENTENCE_BOUNDARY.finditer(text)])

    def left(self, bounds: list[int], upto: int) -> str:
        """The text from the last boundary before `upto` (at most _REACH characters) to `upto`."""
        i = bisect_right(bounds, upto) - 1
        start = bounds[i] if i >= 0 else 0
        return self.text[max(start, upto - _REACH):upto]


def _year(sentence: _Sentence, upto: int) -> int | None:
    i = bisect_right(sentence.years, (upto, 10_000)) - 1
    if i >= 0:
        return sentence.years[i][1]
    after = _YEAR_AFTER.match(sentence.text, upto)
    return int(after.group(1)) if after else None


_ITEM_MARK = re.compile(r"^(?:\d{1,3}[.．、]|[(（][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、)")


def _indicator_before(sentence: _Sentence, upto: int) -> str:
    left = sentence.left(sentence.clauses, upto)
    left = _ITEM_MARK.sub("", left)
    left = _LEAD_NOISE.sub("", left)
    return left.strip("“”\"")


def _indicator_around_bracket(sentence: _Sentence, upto: int) -> str:
    """"每年筛选一批(不低于20家)": the clause before the bracket names what is counted."""
    left = _BRACKET_TAIL.sub("", sentence.left(sentence.commas, upto))
    return _LEAD_NOISE.sub("", _ITEM_MARK.sub("", left)).strip("“”\"")


def _object_after(sentence: _Sentence, start: int) -> str:
    """The thing counted after "N家": up to the clause end; 、 joins words unless a new count follows."""
    m = _OBJECT.match(sentence.text, start)
    return re.sub(r"^(以上|左右|以下|以内)", "", m.group(0)) if m else ""


def _object_end(sentence: _Sentence, start: int) -> int:
    """Where the object read by _object_after(start) ends (start if there is none)."""
    m = _OBJECT.match(sentence.text, start)
    return m.end() if m else start


# full-width ASCII (２０２５, ％, ．) to ASCII, one character for one, so offsets stay valid
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


_KEPT = re.compile(r"[\S\t]+")  # runs of what _compact keeps: all but whitespace; tabs part table cells
_DIGIT = re.compile(r"\d")


def _compact(text: str) -> tuple[str, list[int]]:
    pieces: list[str] = []
    index: list[int] = []
    for m in _KEPT.finditer(text):  # a run at a time, not a Python step per character
        pieces.append(m.group(0))
        index.extend(range(m.start(), m.end()))
    return "".join(pieces).translate(_HALF_WIDTH), index


def sentence_targets(text: str, start: int, end: int, year_hint: int | None = None) -> list[Target]:
    out: list[Target] = []
    for s_start, s_end in _sentences(text, start, end):
        if not _DIGIT.search(text, s_start, s_end):
            continue  # every pattern below reads a number (a full-width digit is one too, before and after)
        # match on the sentence without spaces and line breaks; map offsets back for the evidence
        compact, index = _compact(text[s_start:s_end])
        if not compact:
            continue
        sentence = _Sentence.of(compact)
        in_sentence = len(out)  # targets before this sentence
        # characters already read as part of a target: one flag each, so the overlap test
        # costs the match's length, not the number of targets found so far
        taken = bytearray(len(compact))
        first_taken = [len(compact)]

        def add(m: re.Match[str], comparator: str, indicator: str, *, begin: int | None = None,
                stop: int | None = None, sentence: _Sentence = sentence, taken: bytearray = taken,
                first_taken: list[int] = first_taken, s_start: int = s_start, index: list[int] = index) -> None:
            """One target; its evidence runs from `begin` to `stop` (default: the indicator read before
            the number, up to the number), so that a count whose indicator follows it quotes both."""
            if any(taken[m.start():m.end()]):
                return
            if sentence.text[m.end():m.end() + 1] == "的":
                return  # "3%以内的…": a condition, not a target
            indicator = indicator.strip("“”\"(（")
            if len(indicator) < 2:
                return
            if m.group("more") and comparator in ("=", ">="):
                comparator = ">"
            taken[m.start():m.end()] = b"\x01" * (m.end() - m.start())
            first_taken[0] = min(first_taken[0], m.start())
            first = max(0, m.start() - len(indicator) - 2) if begin is None else begin
            last = max(m.end(), stop or 0)
            span_start = s_start + index[first]
            span_end = s_start + index[last - 1] + 1
            out.append(Target(indicator=indicator, value=_value(m), unit=m.group("unit").replace("％", "%"),
                              year=_year(sentence, m.start()) or year_hint, comparator=comparator,
                              span=Span(span_start, span_end, text[span_start:span_end])))

        for m in CMP_BEFORE.finditer(compact):
            comparator = _AFTER.get(m.group("post") or "", _BEFORE[m.group("cmp")])
            indicator = _indicator_before(sentence, m.start())
            obj = _object_after(sentence, m.end())
            begin = stop = None
            if obj and (m.group("cmp") in ("至少", "不少于") or len(indicator) < 3):
                begin = max(0, m.start() - len(indicator))
                indicator += obj  # "成立至少2家X": the thing counted follows the number
                stop = _object_end(sentence, m.end())
            if len(indicator) < 2:
                indicator = _indicator_around_bracket(sentence, m.start())
            elif len(indicator) <= 3 and len(out) > in_sentence and _CONTINUES.match(indicator):
                # "质押融资额年均增长20%，累计突破5亿元": the clause goes on about the last indicator
                indicator = out[-1].indicator + indicator
            add(m, comparator, indicator, begin=begin, stop=stop)
        for m in VERB_COUNT.finditer(compact):
            post = _POST.match(compact, m.end("unit"))
            comparator = _AFTER[post.group(0)] if post else (">=" if m.group("num2") else "=")
            add(m, comparator, m.group("verb") + _object_after(sentence, m.end("unit")),
                begin=m.start(), stop=_object_end(sentence, m.end("unit")))
        for m in CMP_AFTER.finditer(compact):
            add(m, _AFTER[m.group("post")], _indicator_before(sentence, m.start()))
        for m in LIST_COUNT.finditer(compact):
            if first_taken[0] < m.start():
                obj = _object_after(sentence, m.end("unit"))
                post = _LIST_POST.match(compact, m.end("unit"))
                # one target per count of the list, quoted from its number to the end of its object
                add(m, _AFTER[post.group(0)] if post else out[-1].comparator if out else "=", obj,
                    begin=m.start("num"), stop=_object_end(sentence, m.end("unit")))
        for m in END_COUNT.finditer(compact):
            # "开展产业规划类专利导航6项": a planned count closing its clause
            add(m, ">=" if m.group("num2") else "=", _indicator_before(sentence, m.start()))
    return out


# "到2020年:" on a line of its own, or "到2025年底,…" opening a paragraph, dates every target
# that follows, up to the next heading (一、 / (二) / 第三章).
_SCOPE_LINE = re.compile(r"^[ \t\u3000]*(?:力争|预计)?(?:到|至)\s*(20[2-9]\d)\s*年(?:底|末)?", re.M)
_HEADING_LINE = re.compile(r"^[ \t\u3000]*(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）]|第[一二三四五六七八九十]+[章节部分条])", re.M)


@dataclass
class _YearScope:
    years: list[tuple[int, int]]  # (line start, year) of scope lines
    headings: list[int]  # line starts of headings

    @classmethod
    def of(cls, text: str) -> _YearScope:
        return cls([(m.start(), int(m.group(1))) for m in _SCOPE_LINE.finditer(text)],
                   [m.start() for m in _HEADING_LINE.finditer(text)])

    def year_at(self, pos: int) -> int | None:
        i = bisect_right(self.years, (pos, 10_000)) - 1
        if i < 0:
            return None
        line, year = self.years[i]
        j = bisect_right(self.headings, pos) - 1
        return year if j < 0 or self.headings[j] <= line else None


def table_targets(table: list[Span]) -> list[Target]:
    """Rows of an indicator table: name, unit, values by year; the last year's value is the target."""
    header = re.split(r"\s+", table[1].text.strip()) if len(table) > 1 else []
    years = [int(y) for h in header for y in re.findall(r"(20\d\d)年?", h)]
    if not years:
        return []
    target_year = max(years)
    out = []
    for row in table[2:]:
        cells = re.split(r"\s+", row.text.strip())
        if len(cells) < 2:
            continue
        name = re.sub(r"[①-⑳]", "", cells[0])
        numbers = [(i, c) for i, c in enumerate(cells[1:], start=1) if re.fullmatch(r"[≥≤>＜<＞]?\d+(?:\.\d+)?%?", c)]
        if not numbers or not re.search(r"[\u4e00-\u9fff]", name):
            continue
        index, raw = numbers[-1]
        comparator = ">=" if raw.startswith(("≥", ">")) else "<=" if raw.startswith(("≤", "<")) else "="
        value = float(re.sub(r"[^\d.]", "", raw))
        units = [c for c in cells[1:index] if not re.search(r"\d", c)]
        unit = units[0] if units else None
        out.append(Target(indicator=name, value=value, unit=unit, year=target_year, comparator=comparator,
                          span=Span(row.start, row.end, row.text)))
    return out


def extract_targets(parsed: ParsedDocument) -> list[Target]:
    """Targets of the whole document; each is attached to the measure it stands in, if any."""
    text = parsed.source.text
    tabled = [t for table in parsed.tables for t in table_targets(table)]
    if tabled:
        targets = tabled
    else:
        targets = []
        skip = parsed.background + [Span(row[0].start, row[-1].end, "") for row in parsed.tables]
        scope = _YearScope.of(text)
        for s_start, s_end in _sentences(text, parsed.body_start, len(text)):
            if inside(s_start, skip):
                continue
            targets.extend(sentence_targets(text, s_start, s_end, scope.year_at(s_start)))
    unique: dict[tuple, Target] = {}
    for target in targets:
        unique.setdefault((target.span.start, target.span.end, target.value), target)
    result = sorted(unique.values(), key=lambda t: (t.span.start, t.span.end))
    # measures are the lowest numbered items and do not nest: the one starting last before a
    # target is the only one that can hold it
    spans = sorted((m.span.start, m.span.end, i) for i, m in enumerate(parsed.measures))
    starts = [start for start, _, _ in spans]
    for target in result:
        i = bisect_right(starts, target.span.start) - 1
        if i >= 0 and target.span.start < spans[i][1]:
            target.measure = parsed.measures[spans[i][2]].number
    return result
