"""Quantitative targets (rules named target.*.v1).

Sentences: "到2025年,每万人口高价值发明专利拥有量达到55件", "专利转让超过6300件",
"年均增幅20%以上", "培育10家左右…", "培育90家国家知识产权优势示范企业", "至少2家…、1家…".
Comparators: 达到/不低于/不少于/至少/以上 → ">=", 超过/突破 → ">", 左右 → "≈",
不超过/以下/以内 → "<=", a plain planned count (培育N家 …) → "=".

Indicator tables (表N with a header row of years): each row is one target, valued in the last
year column. Where a plan has such a table, the table is its list of targets and the prose
that repeats it is not read again.

Parts that describe the past (发展现状 …) hold achievements, not targets.
"""
from __future__ import annotations

import re

from ipgraph.model import ParsedDocument, Span, Target
from ipgraph.textutil import inside

UNIT = (r"(?:亿元|万元|千元|元|个百分点|百分点|%|％|平方米|万平方米|人次|件次|项次|家|个|项|件|人|名|期|单|所|次|篇|部|座|条|户|分|倍|场|批|套|种|门)")
NUM = r"(?P<num>\d+(?:\.\d+)?)(?:\s*[-—~～至]\s*(?P<num2>\d+(?:\.\d+)?))?"
_BEFORE = {
    "达到": ">=", "力争达到": ">=", "提高到": ">=", "提升到": ">=", "增加到": ">=", "增长到": ">=", "达": ">=",
    "超过": ">", "突破": ">", "高于": ">", "多于": ">",
    "不低于": ">=", "不少于": ">=", "至少": ">=", "不下于": ">=",
    "保持在": "=", "稳定在": "=", "控制在": "<=", "不超过": "<=", "不高于": "<=", "低于": "<", "少于": "<",
}
_AFTER = {"以上": ">=", "左右": "≈", "以下": "<=", "以内": "<=", "上下": "≈"}
_VERBS = ("新培育", "培育", "新增", "建设", "建成", "引进", "打造", "认定", "组建", "培训", "再培训", "发行", "举办", "完成",
          "创建", "成立", "设立", "形成", "开展", "推动", "支持", "实施", "引导支持", "集聚", "评选", "建立", "争创", "服务")
CMP_BEFORE = re.compile(
    r"(?P<cmp>" + "|".join(sorted(map(re.escape, _BEFORE), key=len, reverse=True)) + r")\s*" + NUM + r"\s*(?P<unit>" + UNIT + r")\s*(?P<post>以上|左右|以下|以内)?"
)
CMP_AFTER = re.compile(NUM + r"\s*(?P<unit>" + UNIT + r")(?P<post>以上|左右|以下|以内|上下)")
VERB_COUNT = re.compile(
    r"(?P<verb>" + "|".join(sorted(_VERBS, key=len, reverse=True)) + r")(?:了)?\s*" + NUM + r"\s*(?P<unit>(?:家|个|项|名|人|期|单|所|件|批|座))(?=[\u4e00-\u9fff“])"
)
LIST_COUNT = re.compile(r"[、,，]\s*" + NUM + r"\s*(?P<unit>(?:家|个|项|名|人|期|单|所|件))(?=[\u4e00-\u9fff“])")
END_COUNT = re.compile(NUM + r"\s*(?P<unit>项|个|家|件|名|人|期|单|所|批|座)(?=[,，。;；、]|$)")
_OBJECT = re.compile(r"(?:[^,，。;；、:：()（）\d]|、(?!\d))(?:[^,，。;；:：()（）]|、(?!\d)){1,29}")
YEAR = re.compile(r"(?:到|至|截至|截止到|力争到|预计到)?\s*(?P<year>20[2-9]\d)\s*年(?:底|末)?")
_CLAUSE_BOUNDARY = re.compile(r"[,，;；:：。!！?？()（）]")
_LEAD_NOISE = re.compile(r"^(?:到20\d\d年(?:底|末)?|力争|全区|全市|全省|实现|推动|其中|并且|同时|以|使|确保|争取)+")


def _sentences(text: str, start: int, end: int):
    """Sentences of text[start:end] with their offsets; a single line break does not end one
    (text copied from PDFs breaks lines inside sentences), a blank line does."""
    pos = start
    for m in re.finditer(r"[。;；!！?？]|\n\s*\n", text[start:end]):
        stop = start + m.end()
        if stop - pos > 1:
            yield pos, stop
        pos = stop
    if end - pos > 1:
        yield pos, end


def _value(m: re.Match[str]) -> float:
    return float(m.group("num"))


def _year(sentence: str, upto: int) -> int | None:
    years = [int(y.group("year")) for y in YEAR.finditer(sentence[:upto]) if y.group(0).startswith(("到", "至", "截", "力", "预"))]
    if years:
        return years[-1]
    after = re.match(r"^[^,，。;；]*?(?:到|至)(20[2-9]\d)年", sentence[upto:])
    return int(after.group(1)) if after else None


_ITEM_MARK = re.compile(r"^(?:\d{1,3}[.．、]|[(（][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、)")


def _indicator_before(sentence: str, upto: int) -> str:
    left = _CLAUSE_BOUNDARY.split(sentence[:upto])[-1]
    left = _ITEM_MARK.sub("", left)
    left = _LEAD_NOISE.sub("", left)
    return left.strip("“”\"")


def _indicator_around_bracket(sentence: str, upto: int) -> str:
    """"每年筛选一批(不低于20家)": the clause before the bracket names what is counted."""
    left = re.split(r"[,，;；:：。!！?？]", sentence[:upto])[-1]
    left = re.sub(r"[(（][^()（）]*$", "", left)
    return _LEAD_NOISE.sub("", _ITEM_MARK.sub("", left)).strip("“”\"")


def _object_after(sentence: str, start: int) -> str:
    """The thing counted after "N家": up to the clause end; 、 joins words unless a new count follows."""
    m = _OBJECT.match(sentence[start:])
    return re.sub(r"^(以上|左右|以下|以内)", "", m.group(0)) if m else ""


# full-width ASCII (２０２５, ％, ．) to ASCII, one character for one, so offsets stay valid
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def _compact(text: str) -> tuple[str, list[int]]:
    keep = [(i, ch) for i, ch in enumerate(text) if not ch.isspace()]
    return "".join(ch for _, ch in keep).translate(_HALF_WIDTH), [i for i, _ in keep]


def sentence_targets(text: str, start: int, end: int, year_hint: int | None = None) -> list[Target]:
    out: list[Target] = []
    for s_start, s_end in _sentences(text, start, end):
        # match on the sentence without spaces and line breaks; map offsets back for the evidence
        sentence, index = _compact(text[s_start:s_end])
        if not sentence:
            continue
        taken: list[tuple[int, int]] = []

        def add(m: re.Match[str], comparator: str, indicator: str, *, sentence: str = sentence,
                taken: list[tuple[int, int]] = taken, s_start: int = s_start, index: list[int] = index) -> None:
            if any(a < m.end() and m.start() < b for a, b in taken):
                return
            if sentence[m.end():m.end() + 1] == "的":
                return  # "3%以内的…": a condition, not a target
            indicator = indicator.strip("“”\"(（")
            if len(indicator) < 2:
                return
            taken.append((m.start(), m.end()))
            first = max(0, m.start() - len(indicator) - 2)
            span_start = s_start + index[first]
            span_end = s_start + index[m.end() - 1] + 1
            out.append(Target(indicator=indicator, value=_value(m), unit=m.group("unit").replace("％", "%"),
                              year=_year(sentence, m.start()) or year_hint, comparator=comparator,
                              span=Span(span_start, span_end, text[span_start:span_end])))

        for m in CMP_BEFORE.finditer(sentence):
            comparator = _AFTER.get(m.group("post") or "", _BEFORE[m.group("cmp")])
            indicator = _indicator_before(sentence, m.start())
            obj = _object_after(sentence, m.end())
            if obj and (m.group("cmp") in ("至少", "不少于") or len(indicator) < 3):
                indicator += obj  # "成立至少2家X": the thing counted follows the number
            if len(indicator) < 2:
                indicator = _indicator_around_bracket(sentence, m.start())
            add(m, comparator, indicator)
        for m in VERB_COUNT.finditer(sentence):
            post = re.match(r"^(以上|左右|以下|以内)", sentence[m.end("unit"):])
            comparator = _AFTER[post.group(1)] if post else (">=" if m.group("num2") else "=")
            add(m, comparator, m.group("verb") + _object_after(sentence, m.end("unit")))
        for m in CMP_AFTER.finditer(sentence):
            add(m, _AFTER[m.group("post")], _indicator_before(sentence, m.start()))
        for m in LIST_COUNT.finditer(sentence):
            if taken and min(a for a, _ in taken) < m.start():
                obj = _object_after(sentence, m.end("unit"))
                post = re.match(r"^(以上|左右)", sentence[m.end("unit"):])
                add(m, _AFTER[post.group(1)] if post else out[-1].comparator if out else "=", obj)
        for m in END_COUNT.finditer(sentence):
            # "开展产业规划类专利导航6项": a planned count closing its clause
            add(m, ">=" if m.group("num2") else "=", _indicator_before(sentence, m.start()))
    return out


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
        for s_start, s_end in _sentences(text, parsed.body_start, len(text)):
            if inside(s_start, skip):
                continue
            targets.extend(sentence_targets(text, s_start, s_end))
    unique: dict[tuple, Target] = {}
    for target in targets:
        unique.setdefault((target.span.start, target.span.end, target.value), target)
    result = sorted(unique.values(), key=lambda t: (t.span.start, t.span.end))
    for target in result:
        for measure in parsed.measures:
            if measure.span.start <= target.span.start < measure.span.end:
                target.measure = measure.number
                break
    return result
