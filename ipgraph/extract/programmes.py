"""Programmes a measure names (rules named programme.*.v1).

Known programmes come from the SKOS scheme in data/programmes.ttl: every prefLabel, altLabel
and ipg:pattern is matched in the measure's text with quotes and spaces ignored, longest form
first. New named schemes are discovered from patterns that Chinese plans use to name them:

* a 专栏 box title ("专栏5 重点产业专利导航示范工程") and a measure's "(见专栏5)" pointing at it;
* "实施/推进/开展 X工程|计划|行动" and quoted names with a scheme word (“蓝天”专项整治行动);

Campaigns of the scheme (“剑网”专项行动 …) are also found by their core name where the text shows a
campaign: quoted (“铁拳”) or listed before one shared 行动 (剑网、护航等专项行动). A 、-list after a
name that ends in a head noun names one programme per item (示范城市、园区和企业: three).

Discovered programmes are marked ipg:discovered true, so the scheme grows with the corpus.
"""
from __future__ import annotations

import csv
import io
import re
import sys
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache

from rdflib import Graph, Namespace
from rdflib.namespace import SKOS

from ipgraph import knowledge
from ipgraph.model import Measure, ProgrammeMention, Span
from ipgraph.textutil import longest_first, sentence_around

IPG_NS = Namespace("https://w3id.org/ipgraph/ontology#")
_IGNORED = "“”\"'‘’「」『』 \u3000\n\t"
_SCHEME_WORD = r"(?:专项整治行动|专项行动|行动计划|行动|工程|计划|体系|模式|活动|机制)"
_BOX = re.compile(r"^专栏\s*(?P<n>[\d一二三四五六七八九十]+)\s*(?P<title>[^\n]{2,40}?)\s*$", re.M)
_SEE_BOX = re.compile(r"[(（]\s*(?:详)?见专栏\s*(?P<n>[\d一二三四五六七八九十]+)\s*[)）]")
_QUOTED = re.compile(r"[“\"「](?P<name>[^“”\"「」\n]{2,14})[”\"」](?P<word>" + _SCHEME_WORD + r")")
_IMPLEMENT = re.compile(
    r"(?:实施|推进|开展|推动|启动|组织实施|深入实施|着力推进|持续推进)(?P<name>[\u4e00-\u9fff“”\"+、]{4,18}?(?:工程|计划|专项行动|行动))"
)


@dataclass(frozen=True)
class KnownProgramme:
    canonical: str
    forms: tuple[str, ...]
    patterns: tuple[str, ...]


_IGNORED_TABLE = str.maketrans("", "", _IGNORED)
_KEPT_RUN = re.compile(f"[^{re.escape(_IGNORED)}]+")


def normalise(text: str) -> tuple[str, list[int]]:
    """Drop quotes and spaces; return the text and, for each kept character, its original offset."""
    out: list[str] = []
    index: list[int] = []
    for m in _KEPT_RUN.finditer(text):  # runs of kept characters, not a Python step per character
        out.append(m.group(0))
        index.extend(range(m.start(), m.end()))
    return "".join(out), index


def key_of(text: str) -> str:
    """normalise(text)[0]: the form a name is compared in, without the offsets."""
    return text.translate(_IGNORED_TABLE)


@lru_cache(maxsize=1)
def known_programmes() -> tuple[KnownProgramme, ...]:
    graph = Graph().parse(data=knowledge.data_text("programmes.ttl"), format="turtle")
    out = []
    for concept in sorted(set(graph.subjects(SKOS.prefLabel, None)), key=str):
        pref = str(graph.value(concept, SKOS.prefLabel))
        forms = {pref} | {str(o) for o in graph.objects(concept, SKOS.altLabel)}
        patterns = tuple(sorted(str(o) for o in graph.objects(concept, IPG_NS.pattern)))
        out.append(KnownProgramme(pref, tuple(sorted(forms)), patterns))
    return tuple(out)


@lru_cache(maxsize=1)
def _matcher() -> tuple[tuple[tuple[re.Pattern[str], str | None], ...], dict[str, str]]:
    """The scheme's patterns, each compiled alone with its programme, then all its forms in one pattern
    (programme None: the form says which), and the programme of each form.

    Matching is that of one alternation of them all (patterns first, then the longest form): compiled
    as one, the patterns that open with a character class were tried at every position before the forms."""
    by_form: dict[str, str] = {}
    alternatives: list[tuple[re.Pattern[str], str | None]] = []
    for programme in known_programmes():
        for form in programme.forms:
            key, _ = normalise(form)
            if len(key) >= 2:
                by_form.setdefault(key, programme.canonical)
        for pattern in programme.patterns:
            compiled = re.compile(pattern)
            if compiled.fullmatch(""):
                raise ValueError(f"programmes.ttl: the pattern {pattern!r} of {programme.canonical} matches nothing")
            alternatives.append((compiled, programme.canonical))
    if by_form:
        alternatives.append((re.compile(longest_first(by_form)), None))
    return tuple(alternatives), by_form


@lru_cache(maxsize=1)
def _known_keys() -> dict[str, str]:
    """The compared form of every form of the scheme → its programme (the last programme for a shared form)."""
    return {key_of(f): p.canonical for p in known_programmes() for f in p.forms}


def _leftmost(normal: str, alternatives: tuple[tuple[re.Pattern[str], str | None], ...]
              ) -> list[tuple[re.Match[str], str | None]]:
    """What finditer of the alternation of `alternatives` finds, from their own searches: at each step the
    leftmost match, the earliest alternative among those that start there. A match found ahead of the
    current position is kept until the scan reaches it (the same match: a search is told where to start)."""
    ahead: list[re.Match[str] | None] = [None] * len(alternatives)  # each one's next match (None: search again)
    spent = [False] * len(alternatives)  # no match of its own after the position
    found: list[tuple[re.Match[str], str | None]] = []
    pos = 0
    while True:
        best: re.Match[str] | None = None
        programme: str | None = None
        for k, (regex, canonical) in enumerate(alternatives):
            if spent[k]:
                continue
            m = ahead[k]
            if m is None or m.start() < pos:
                m = ahead[k] = regex.search(normal, pos)
                if m is None:
                    spent[k] = True
                    continue
            if best is None or m.start() < best.start():
                best, programme = m, canonical
        if best is None:
            return found
        found.append((best, programme))
        pos = best.end()


def required_literal(pattern: str) -> str:
    """The longest run of plain characters every match of `pattern` holds ("" when none is sure): the
    literals of its top level, which a match spells out in order (知识产权保护中心 in "(?:…){2,5}知识产权保护中心")."""
    try:
        import re._parser as parser  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # Python 3.10
        import sre_parse as parser  # type: ignore[no-redef,unused-ignore]
    try:
        parsed = parser.parse(pattern)
    except re.error:
        return ""
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return ""
    best = run = ""
    for op, value in parsed:
        if op is parser.LITERAL:
            run += chr(value)
        else:
            best, run = max(best, run, key=len), ""
    return max(best, run, key=len)


@lru_cache(maxsize=1)
def _literals() -> tuple[str, ...]:
    """required_literal of each of _matcher()'s alternatives."""
    return tuple(required_literal(regex.pattern) if programme else "" for regex, programme in _matcher()[0])


def match_known(text: str) -> list[tuple[str, int, int]]:
    """(canonical, start, end) of every known programme form in the text (offsets into `text`)."""
    normal, index = normalise(text)
    alternatives, by_form = _matcher()
    # a pattern whose literal the text lacks finds nothing: leaving it out keeps the others' order,
    # so the leftmost-first answer is the same
    present = tuple(a for a, literal in zip(alternatives, _literals(), strict=True) if literal in normal)
    found = []
    for m, programme in _leftmost(normal, present):
        canonical = programme or by_form[m.group(0)]
        start, end = index[m.start()], index[m.end() - 1] + 1
        if start > 0 and text[start - 1] in "“\"「" and any(q in text[start:end] for q in "”\"」"):
            start -= 1  # keep the opening quote of “铁拳”行动 with its closing one
        found.append((canonical, start, end))
    return found


@lru_cache(maxsize=1)
def _campaigns() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]] | None:
    """Campaigns of the scheme by their core name (“剑网”专项行动 → 剑网): a list of cores before one
    scheme word ("剑网、护航、铁拳等专项行动"), and a quoted core on its own (“铁拳”)."""
    cores = {}
    for programme in known_programmes():
        m = re.match(r"^“([^”]{2,6})”.*行动$", programme.canonical)
        if m:
            cores[m.group(1)] = programme.canonical
    if not cores:
        return None
    core = "|".join(sorted(map(re.escape, cores), key=len, reverse=True))
    one = rf"[“\"「]?(?:{core})[”\"」]?"
    listed = re.compile(rf"{one}(?:[、和及与]{one}){{1,8}}(?=等?(?:系列)?(?:专项)?(?:整治)?(?:执法)?行动)")
    quoted = re.compile(rf"[“\"「](?P<core>{core})[”\"」]")
    return listed, quoted, cores


def campaign_mentions(text: str) -> list[tuple[str, int, int]]:
    """(canonical, start, end) of campaigns named by their core alone, where the text shows it is the
    campaign: quoted, or listed before a shared 行动 ("开展剑网、护航等专项行动"; 保驾护航 is not one)."""
    campaigns = _campaigns()
    if campaigns is None:
        return []
    listed, quoted, cores = campaigns
    found = [(cores[q.group("core")], q.start(), q.end()) for q in quoted.finditer(text)]
    for m in listed.finditer(text):
        for name in re.finditer(r"[\u4e00-\u9fff]+", m.group(0)):
            canonical = cores.get(name.group(0))
            if canonical:
                found.append((canonical, m.start() + name.start(), m.start() + name.end()))
    return found


def box_titles(text: str) -> dict[str, str]:
    """专栏 number → the box's title (a named programme of the plan)."""
    out = {}
    for m in _BOX.finditer(text):
        out[m.group("n")] = m.group("title").strip()
    return out


_NOT_A_NAME = re.compile(r"(?:的|落实|推动|支持|加强|开展|围绕|以及|等)|^(?:全市|全区|全省|全县|本市|新一轮|一批|各类|系列)")
_IP_TOPIC = re.compile(r"知识产权|专利|商标|版权|地理标志|品牌|著作权|植物新品种|集成电路")


def discover(text: str) -> list[tuple[str, int, int, bool]]:
    """Named schemes found by pattern: (name, start, end, strong).

    Strong: a quoted name with a scheme word (“蓝天”专项整治行动). Weak: "实施X工程", kept only
    when X is about IP and reads as a name (no verbs, no 的, no determiners such as 全市).
    """
    found = []
    for m in _QUOTED.finditer(text):
        name = m.group("name")
        if re.search(r"\d", name) and "+" not in name:
            continue
        found.append((f"“{name}”{m.group('word')}", m.start(), m.end(), True))
    for m in _IMPLEMENT.finditer(text):
        name = m.group("name").strip("“”\"")
        if 6 <= len(name) <= 16 and not re.search(r"[,，。;；]", name) and _IP_TOPIC.search(name) \
                and not _NOT_A_NAME.search(name):
            found.append((name, m.start("name"), m.end("name"), False))
    return found


def _quoted_core(name: str) -> str:
    m = re.match(r"^“(.+?)”", name)
    return m.group(1) if m else name


# The longest name a mention can have (a 专栏 title is at most 40 characters): containment
# between mentions is looked up among the spans that start at most this far before, so the
# work per mention is bounded instead of growing with the number of mentions.
_LONGEST_NAME = 64


@dataclass
class _SpanIndex:
    """Spans (start, end) sorted by start, for "is this span inside / around another" lookups."""

    spans: list[tuple[int, int]]

    @classmethod
    def of(cls, spans: list[tuple[int, int]]) -> _SpanIndex:
        return cls(sorted(spans))

    def _near(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """Spans starting in [lo, hi]."""
        return self.spans[bisect_left(self.spans, (lo, -1)):bisect_right(self.spans, (hi, sys.maxsize))]

    def around(self, start: int, end: int, *, longer: bool = False) -> bool:
        """Does a span hold [start, end) (and, with longer, is it longer)?"""
        return any(a <= start and end <= b and (not longer or b - a > end - start)
                   for a, b in self._near(start - _LONGEST_NAME, start))

    def within(self, start: int, end: int) -> bool:
        """Does a span stand inside [start, end)?"""
        return any(b <= end for _, b in self._near(start, end))


@lru_cache(maxsize=1)
def _list_words() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """(a head ending a name, the next item of a 、-list, a trailing qualifier) from data/programme_heads.csv."""
    lines = [line for line in knowledge.data_text("programme_heads.csv").splitlines() if not line.startswith("#")]
    words: dict[str, list[str]] = {}
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        words.setdefault(row["kind"].strip(), []).append(row["word"].strip())
    heads = "|".join(sorted(map(re.escape, words["head"]), key=len, reverse=True))  # longest first
    qualifiers = "|".join(sorted(map(re.escape, words["qualifier"]), key=len, reverse=True))
    return (re.compile(f"(?:{heads})$"),
            re.compile(rf"[ \t]*(?:、|和|及|与|以及)[ \t]*(?P<item>(?P<q>{qualifiers})?(?:{heads}))(?![家主])"),
            re.compile(f"(?:{qualifiers})$"))


def _resolve(name: str, known_keys: dict[str, str]) -> str | None:
    """The known programme a built name is: a form of the scheme, or one after a level word
    (国家知识产权示范企业 is 知识产权示范企业)."""
    listed = known_keys.get(key_of(name))
    if listed:
        return listed
    for canonical, start, end in match_known(name):
        if end == len(name) and start <= 3:
            return canonical
    return None


_MODIFIER = re.compile(r"^(?:知识产权|专利|商标|版权|地理标志)")
_MODIFIER_ITEM = re.compile(r"[ \t]*(?:、|和|及|与)[ \t]*(?P<item>[\u4e00-\u9fff]{2,6}?)(?=[、和及与等,，。;；]|$)")


def shared_modifier_list(text: str, start: int, end: int) -> list[tuple[str, int, int]]:
    """"知识产权质押、保险、证券化": after a programme name that opens with a modifier (知识产权), the
    items of the list that follows, each with the modifier: (name, start, end)."""
    m = _MODIFIER.match(key_of(text[start:end]))
    if not m:
        return []
    out: list[tuple[str, int, int]] = []
    pos = end
    while len(out) < 12:
        nxt = _MODIFIER_ITEM.match(text, pos)
        if not nxt:
            break
        out.append((m.group(0) + nxt.group("item"), nxt.start("item"), nxt.end("item")))
        pos = nxt.end()
    return out


def shared_head_list(text: str, start: int, end: int) -> list[tuple[str, int, int]]:
    """"省级知识产权示范县、园区、企业": after a programme name ending in a head noun (县), the
    items of the list that follows, each with the name's modifier: (name, start, end)."""
    head, item, qualifier = _list_words()
    name = key_of(text[start:end])
    m = head.search(name)
    if not m or m.start() < 2:
        return []
    stem = name[:m.start()]
    out: list[tuple[str, int, int]] = []
    pos = end
    while True:
        nxt = item.match(text, pos)
        if not nxt:
            return out
        word = nxt.group("item")
        # 示范县、试点园区: the item's own qualifier replaces the stem's
        base = qualifier.sub("", stem) if nxt.group("q") else stem
        out.append((base + word, nxt.start("item"), nxt.end("item")))
        pos = nxt.end()


def extract_programmes(measures: list[Measure], full_text: str) -> list[ProgrammeMention]:
    """Programme mentions per measure (rule programme.match.v1 / programme.discover.v1).

    A known form that stands inside a longer named programme (a 专栏 title, a quoted name) is
    part of that name, not a mention of its own: "地理标志运用促进工程" names the 工程, not 地理标志运用促进.
    """
    boxes = box_titles(full_text)
    box_keys = {key_of(t) for t in boxes.values()}
    known_keys = _known_keys()
    mentions: list[ProgrammeMention] = []
    for measure in measures:
        text = measure.span.text
        base = measure.span.start
        known = match_known(text)
        known += campaign_mentions(text)
        known_spans = _SpanIndex.of([(a, b) for _, a, b in known])
        strong: list[tuple[str, int, int]] = []
        for name, start, end, is_strong in discover(text):
            key = key_of(name)
            if key in known_keys or key_of(_quoted_core(name)) in known_keys:
                continue  # a known programme: matched by the scheme
            if is_strong or key in box_keys:
                strong.append((name, start, end))
            elif not known_spans.within(start, end) and not known_spans.around(start, end):
                strong.append((name, start, end))
        for m in _SEE_BOX.finditer(text):
            title = boxes.get(m.group("n"))
            if not title:
                continue
            # the name usually stands right before "(见专栏N)", in the same sentence
            where = text.rfind(title, max(0, m.start() - _LONGEST_NAME - len(title)), m.start())
            start = where if where != -1 else m.start()
            end = where + len(title) if where != -1 else m.end()
            canonical = known_keys.get(key_of(title))
            strong.append((canonical or title, start, end))
        named: dict[tuple[int, int], str] = {}  # list items: the name they stand for
        for _, start, end in list(known):
            for name, a, b in shared_head_list(text, start, end):
                named[(a, b)] = name
                listed = _resolve(name, known_keys)
                if listed:
                    known.append((listed, a, b))
                else:
                    strong.append((name, a, b))  # a new programme of the same family
            for name, a, b in shared_modifier_list(text, start, end):
                listed = known_keys.get(key_of(name))
                if listed:  # only what the scheme knows: a bare word after 、 is no name of its own
                    named[(a, b)] = name
                    known.append((listed, a, b))
        strong_spans = _SpanIndex.of([(a, b) for _, a, b in strong])
        seen: dict[str, ProgrammeMention] = {}
        for canonical, start, end in known:
            if canonical in seen or strong_spans.around(start, end, longer=True):
                continue
            a, b = sentence_around(text, start, end)
            surface = named.get((start, end), text[start:end])
            seen[canonical] = ProgrammeMention(canonical, surface, Span(base + a, base + b, text[a:b]), measure.number)
        for name, start, end in strong:
            key = key_of(name)
            canonical = known_keys.get(key, name)
            if canonical in seen:
                continue
            a, b = sentence_around(text, start, end)
            seen[canonical] = ProgrammeMention(canonical, named.get((start, end), text[start:end]),
                                               Span(base + a, base + b, text[a:b]), measure.number,
                                               discovered=key not in known_keys)
        mentions.extend(seen.values())
    return mentions


def scheme_aliases(canonical: str) -> tuple[str, ...]:
    """Every form the scheme knows for a programme (for the graph's skos:altLabel)."""
    for programme in known_programmes():
        if programme.canonical == canonical:
            return programme.forms
    return ()
