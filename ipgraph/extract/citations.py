"""Cited and drafted instruments: every 《…》 title and 文号 (rules named citation.*.v1).

* 《X》(国办发〔2023〕37号): a title with its document number; a 文号 alone also cites.
* "制定/出台/研究制定《X》": the document orders a new instrument (kind "drafts"), unless the
  sentence stands in a background part (发展现状 …), where 出台 tells what was already done.
* Excluded: the document's own title, newspapers and magazines (《中国知识产权报》), and an
  abbreviation introduced by 以下简称, which folds into the title it abbreviates.
* One directive is one key whichever way it is written: the wrapper 关于印发〈X〉的通知 is X,
  dashes and brackets are unified, and an issuer written before 关于 is dropped for the key.
"""
from __future__ import annotations

import csv
import io
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache

from ipgraph import knowledge
from ipgraph.model import Citation, ParsedDocument, Span
from ipgraph.structure import level_of_place, place_of
from ipgraph.textutil import compare_form, inside, sentence_around

_WS = re.compile(r"\s+")  # compiled once: the module-level re functions look it up on every call

TITLE = re.compile(r"《((?:[^《》\n]|\n(?!\n)|《[^《》]*》)+?)》")
DOC_NUMBER = re.compile(
    r"(?P<num>[\u4e00-\u9fff]{1,10}[〔\[【(（]\s*(?:19|20)\d{2}\s*[〕\]】)）]\s*第?\s*\d{1,4}\s*号)"
)
STANDARD = re.compile(r"(?P<num>GB(?:/T|/Z)?\s*\d{3,6}(?:\.\d+)?(?:\s*[-—–]\s*(?:19|20)\d{2})?)", re.I)
MEDIA = re.compile(r"(?:报|日报|晚报|时报|周刊|杂志|期刊|学报|年鉴|新闻|频道|电视台)$")
# 修订/修改 an instrument revises one that exists: it is cited, not drafted (GOLD_SPEC: drafts
# orders a NEW instrument); 制定修订 still makes one.
DRAFT_VERB = re.compile(r"(?:研究制定|研究出台|制定出台|制定完善|制定修订|制定|制订|出台|起草|编制|拟定|研究起草)"
                        r"(?:并实施|并印发|并发布|实施|发布|印发)?\s*$")
# The notice that carries a document names it: "现将《X》印发给你们", "《X》已经市政府同意，现印发给
# 你们", "印发《X》,全文如下". X is the document itself, not an instrument it cites.
_TRANSMITS_AFTER = re.compile(
    r"\s*(?:[,，]?\s*已经[^。;；《》]{1,30}?(?:同意|通过)\s*[,，]?\s*)?(?:现|特)(?:将其|予以?)?(?:印发|发布)"
    r"|\s*(?:印发给你们|印发给你单位|印发给各)|\s*[,，]?\s*全文如下")
_TRANSMITS_BEFORE = re.compile(r"现将\s*$")
# "制定《专利法》实施细则": what is made is the rules under the title; the title itself exists
_DRAFTS_SOMETHING_ELSE = re.compile(r"\s*(?:的)?(?:实施细则|实施办法|配套(?:制度|政策|措施|文件|办法|规定)|细则)")
WRAPPER = re.compile(r"^(?P<issuer>.*?)关于(?:印发|转发|发布)[《〈](?P<inner>.+)[》〉]的(?:通知|通告)$")
ISSUER_BEFORE_GUANYU = re.compile(r"^(?P<issuer>.{2,40}?(?:国务院|中共中央|办公厅|办公室|部|局|委员会|委|政府|院|厅|署|总局|中心))(?P<rest>关于.+)$")
INTERNATIONAL = re.compile(r"(?:条约|公约|协定|议定书|国际|世界知识产权组织)")
# After a place's abbreviation, these characters start the issuing body's own part of a 文号
# (政 政府, 办 办公厅, 知 知识产权局, 市监 市场监管 …): the number is the place's own. Any other
# character names a place below it (津滨政办发: 滨海新区 of 天津).
_BODY_CHARS = "政府办发委知市财科人商工农教公改卫文规字函党经信司法民林水交住建"
_LOWER = {"national": "provincial", "provincial": "municipal", "municipal": "district"}
# words that run into a 文号 written in prose: "落实国办发〔2023〕37号"
_LEADING_WORDS = re.compile(r"^(?:贯彻落实|根据|按照|依据|依照|参照|对照|落实|贯彻|执行|印发|转发|见|和|与|及|的|以)+")
_BACK_REF = re.compile(r"[(（]\s*以下简称\s*《([^《》]{1,20})》\s*[)）]")


def directive_key(title: str | None, number: str | None) -> str:
    """The identity of a directive: its inner title without issuer, else its number."""
    if title:
        inner = title
        m = WRAPPER.match(inner)
        if m:
            inner = m.group("inner")
        m = ISSUER_BEFORE_GUANYU.match(inner)
        if m:
            inner = m.group("rest")
        return compare_form(inner)
    return compare_form(number or "")


def _clean_title(raw: str) -> str:
    title = _WS.sub("", raw)
    # an inner 《》 is written 〈〉 (GOLD_SPEC: inner 〈〉 kept as printed)
    return title.replace("《", "〈").replace("》", "〉")


def _own_title(title: str) -> str:
    """The policy's own title inside a 关于印发〈X〉的通知 wrapper."""
    m = WRAPPER.match(title)
    return m.group("inner").replace("〈", "《").replace("〉", "》") if m else title


@lru_cache(maxsize=1)
def _short_places() -> dict[str, str]:
    """Short forms (广州 for 广州市) that name one place only."""
    count: dict[str, list[str]] = {}
    for place in knowledge.places().values():
        if len(place.short) >= 2:
            count.setdefault(place.short, []).append(place.name)
    return {short: names[0] for short, names in count.items() if len(names) == 1}


def _leading_short_place(title: str) -> str | None:
    """"(关于)印发广州创建…": a title that opens with a place's short form names that place."""
    rest = re.sub(r"^(?:关于)?(?:印发|转发|发布)?", "", title)
    for length in (4, 3, 2):
        place = _short_places().get(rest[:length])
        if place:
            return place
    return None


def citation_level(title: str | None, number: str | None, kind: str, doc_level: str | None,
                   issuer_level: str | None = None, own_number: str | None = None) -> str:
    """national … district: from a place the title names, the body written before it
    (issuer_level), the 文号's abbreviation; a drafted instrument naming none is the document's own."""
    if number and STANDARD.fullmatch(number.strip()):
        return "national"
    if title:
        own = _own_title(title)
        place = place_of(title) or place_of(own) or _leading_short_place(own)
        place_level = _place_level(place) if place else None
        if place_level:
            return place_level
        if issuer_level:
            return issuer_level
        rel = _RELATIVE_TITLE.match(own)
        if rel:  # 《市知识产权局关于…》: the document's own city
            return _RELATIVE_LEVEL[rel.group(1)]
        if own.startswith("政府") and doc_level:  # 《政府工作报告》: "the government" without a place is the document's own
            return doc_level
        if INTERNATIONAL.search(own) and not re.search(r"(?:中国|国家|全国)", own):
            return "international"
        if re.match(r"^(?:国务院|中共中央|国家|全国|中华人民共和国|“十[一二三四五六七八九]五”国家)", title):
            return "national"
    if number:
        level = number_level(number)
        if level:
            return level
        local = doc_level if doc_level and doc_level != "national" else None
        if own_number and own_number[:1] == number[:1] and not _NATIONAL_START.match(number) and local:
            return local  # the abbreviation of the document's own 文号 (宁政发 in a 宁政办发 document)
        if _LOCAL_GOVERNMENT.match(number):
            # X政发 / X府办发: a local government whose abbreviation the data does not know; national
            # bodies number otherwise (国发, 国办发), so the nearest guess is the document's own level
            return local or "provincial"
    if kind == "drafts":
        return doc_level or "national"  # a new instrument is made by the document's own government
    return "national"


@lru_cache(maxsize=1)
def _number_prefixes() -> tuple[tuple[str, str], ...]:
    """(prefix, level) from data/doc_number_prefixes.csv, longest prefix first."""
    lines = [line for line in knowledge.data_text("doc_number_prefixes.csv").splitlines() if not line.startswith("#")]
    rows = [(r["prefix"].strip(), r["level"].strip()) for r in csv.DictReader(io.StringIO("\n".join(lines)))]
    return tuple(sorted(rows, key=lambda r: -len(r[0])))


def number_level(number: str) -> str | None:
    """The level of the body that issued a 文号, from the abbreviation it starts with."""
    prefix = re.split(r"[〔\[【(（]", number, maxsplit=1)[0]
    for abbreviation, level in _number_prefixes():
        if prefix.startswith(abbreviation):
            rest = prefix[len(abbreviation):]
            if level != "national" and len(abbreviation) == 1 and len(rest) >= 2 and rest[0] not in _BODY_CHARS:
                return _LOWER[level]  # 津滨政办发: a place inside 天津
            return level
    return None


def _place_level(place: str) -> str | None:
    """A place's level: the gazetteer's where it lists the place, else from its last character
    (自治区 is a province, though it ends in 区)."""
    known = knowledge.places().get(place)
    if known:
        return known.level
    if place.endswith("自治区"):
        return "provincial"
    return level_of_place(place)


# The body named right before a title: "省委、省政府《…》", "国务院办公厅印发的《…》".
_BODY = (r"(?:[省市区县](?!场)(?:委|人民政府|政府)(?:办公厅|办公室)?|[省市区县](?!场)[\u4e00-\u9fff]{1,8}?(?:厅|局|委员会|办公室)"
         r"|国务院(?:办公厅)?|中共中央(?:办公厅)?|党中央|国家[\u4e00-\u9fff]{1,8}?(?:局|委员会|委|总局|署)|[\u4e00-\u9fff]{2,6}?部"
         r"|[\u4e00-\u9fff]{2,8}?(?:省|市|自治区)[\u4e00-\u9fff]{0,8}?(?:人民政府|政府|委员会|局|厅|委|办公室|办公厅))")
_ISSUER_BEFORE = re.compile(
    r"(?P<who>" + _BODY + r"(?:[、和及与]" + _BODY + r")*)(?:联合)?(?:印发的|发布的|出台的|颁布的|制定的|印发|发布|的)?"
)
_RELATIVE_LEVEL = {"省": "provincial", "市": "municipal", "区": "district", "县": "district"}
# a title issued by "the" province's or city's body: 省知识产权局关于…, 市委办公厅、市政府办公厅关于… (市场 is no city)
_RELATIVE_TITLE = re.compile(r"^(?:关于)?([省市区县])(?!场)(?:委|人民政府|政府|[\u4e00-\u9fff]{1,10}?(?:局|委员会|委|厅|办公室|办))(?:[、和]|关于)")
_NATIONAL_START = re.compile(r"^(?:国|中)")
_LOCAL_GOVERNMENT = re.compile(r"^(?!国|中)[\u4e00-\u9fff]{1,2}(?:政|府)(?:办)?(?:发|函|字|规|令)?[〔\[【(（]")


def issuer_level_before(text: str, start: int) -> str | None:
    """The level of the body written right before the 《 at `start`, if one is.

    The shortest body that ends right there is read (省委、省政府《 → 省政府; 为落实省知识产权局《 →
    省知识产权局), so words before it never pass for a name; its first character tells the level
    (省 provincial, 市 municipal, 区/县 district: 南京市知识产权局 → 市知识产权局), else the body is national.
    """
    window = _WS.sub("", text[max(0, start - 40):start])
    for i in range(len(window) - 2, -1, -1):
        m = _ISSUER_BEFORE.fullmatch(window, i)
        if m:
            break
    else:
        return None
    body = re.split(r"[、和及与]", m.group("who"))[-1]
    if body[0] in _RELATIVE_LEVEL and not body.startswith("市场"):
        if body[0] == "区" and window[:i].endswith("自治"):
            return "provincial"  # 内蒙古自治区人民政府
        return _RELATIVE_LEVEL[body[0]]
    place = place_of(body)
    if place:
        return _place_level(place)
    return "national" if re.match(r"^(?:国务院|中共中央|党中央|国家)", body) or body.endswith("部") else None


def _issuer_of(title: str | None) -> str | None:
    if not title:
        return None
    m = WRAPPER.match(title)
    if m and m.group("issuer"):
        return m.group("issuer")
    m = ISSUER_BEFORE_GUANYU.match(title)
    return m.group("issuer") if m else None


def extract_citations(parsed: ParsedDocument, background: list[Span] | None = None) -> list[Citation]:
    """Every distinct instrument the document cites or orders drafted."""
    text = parsed.source.text
    meta = parsed.meta
    own = {compare_form(t) for t in (meta.title, meta.notice_title) if t}
    own_keys = {directive_key(t, None) for t in (meta.title, meta.notice_title) if t}
    background = background or []
    titles = list(TITLE.finditer(text))
    title_ends = [t.end() for t in titles]
    aliases: dict[str, str] = {}  # 纲要 → 天津市知识产权战略纲要
    for m in _BACK_REF.finditer(text):
        # the last title that closes before the back-reference (found by bisection: one scan of
        # the text for all titles, not one per back-reference)
        i = bisect_right(title_ends, m.start()) - 1
        while i >= 0 and titles[i].start() >= m.start():
            i -= 1
        if i >= 0:
            aliases[compare_form(m.group(1))] = _clean_title(titles[i].group(1))
    own |= _transmitted(text, titles)
    found: dict[str, Citation] = {}
    by_number: dict[str, Citation] = {}
    taken: list[tuple[int, int]] = []  # number spans already attached to a title

    for m in titles:
        raw = m.group(1)
        title = _clean_title(raw)
        if re.match(r"^\s*以下简称", text[max(0, m.start() - 6):m.start()][-6:] + "") or text[max(0, m.start() - 4):m.start()].endswith("以下简称"):
            continue  # the abbreviation itself
        if compare_form(title) in aliases:
            title = aliases[compare_form(title)]
        if MEDIA.search(title) or compare_form(title) in own or directive_key(title, None) in own_keys:
            continue
        if len(compare_form(title)) < 2:
            continue
        number = None
        after = text[m.end(): m.end() + 40]
        nm = re.match(r"^\s*[(（]\s*(?P<inner>[^()（）]{4,36})\s*[)）]", after)
        if nm:
            inner = nm.group("inner")
            dm = DOC_NUMBER.fullmatch(inner.strip()) or STANDARD.fullmatch(inner.strip())
            if dm:
                number = _WS.sub("", dm.group("num"))
                taken.append((m.end() + nm.start("inner"), m.end() + nm.end("inner")))
        kind = "drafts" if _is_draft(text, m.start()) and not _DRAFTS_SOMETHING_ELSE.match(text, m.end()) \
            and not inside(m.start(), background) else "cites"
        sentence = _sentence(text, m.start(), m.end())
        key = directive_key(title, number)
        inner = WRAPPER.match(title)
        _merge(found, by_number, Citation(
            # the policy's own title: 关于印发〈X〉的通知 is X (the printed form stays in surfaces)
            title=inner.group("inner") if inner else title, doc_number=number, kind=kind,
            level=citation_level(title, number, kind, meta.level, issuer_level_before(text, m.start()), meta.doc_number),
            issuer=_issuer_of(title),
            span=sentence, key=key, surfaces=[title]))

    brackets = _Brackets.of(text)
    taken_starts = [a for a, _ in taken]  # in text order: titles are read left to right
    for pattern in (DOC_NUMBER, STANDARD):
        for m in pattern.finditer(text):
            if _in_spans(taken_starts, taken, m.start()) or brackets.inside_title(m.start()):
                continue
            number = _LEADING_WORDS.sub("", _WS.sub("", m.group("num")))
            if meta.doc_number and compare_form(number) == compare_form(meta.doc_number):
                continue
            if m.start() < parsed.body_start and pattern is DOC_NUMBER:
                continue  # the header's own number
            key = directive_key(None, number)
            if key in by_number:
                continue
            _merge(found, by_number, Citation(title=None, doc_number=number, kind="cites",
                                   level=citation_level(None, number, "cites", meta.level, own_number=meta.doc_number), issuer=None,
                                   span=_sentence(text, m.start(), m.end()), key=key, surfaces=[number]))
    return sorted(found.values(), key=lambda c: c.span.start)


def _transmitted(text: str, titles: list[re.Match[str]]) -> set[str]:
    """Titles the text shows as its own: carried by a 印发 phrase, or standing as a line of their own
    (the document's heading), in compare form."""
    lines = {compare_form(line) for line in text.splitlines() if 4 <= len(line.strip()) <= 80 and "《" not in line}
    out = set()
    for m in titles:
        title = compare_form(_clean_title(m.group(1)))
        if title in lines or _TRANSMITS_AFTER.match(text, m.end()) or \
                _TRANSMITS_BEFORE.search(text, max(0, m.start() - 6), m.start()):
            out.add(title)
    return out


def _merge(found: dict[str, Citation], by_number: dict[str, Citation], citation: Citation) -> None:
    """Add a citation, or fold it into the one with its key or its 文号 (by_number: the found
    citations by the compare form of their 文号, kept up to date here, so each lookup is one step)."""
    key = citation.key
    if key in found:
        known = found[key]
        if citation.doc_number and not known.doc_number:
            known.doc_number = citation.doc_number
            by_number.setdefault(compare_form(known.doc_number), known)
        # first use decides the kind: an instrument ordered drafted stays a draft
        for surface in citation.surfaces:
            if surface not in known.surfaces:
                known.surfaces.append(surface)
        return
    # a number already known under another title: the same directive
    if citation.doc_number:
        known_by_number = by_number.get(compare_form(citation.doc_number))
        if known_by_number is not None:
            for surface in citation.surfaces:
                if surface not in known_by_number.surfaces:
                    known_by_number.surfaces.append(surface)
            return
        by_number[compare_form(citation.doc_number)] = citation
    found[key] = citation


def _is_draft(text: str, start: int) -> bool:
    """Is the 《 at `start` governed by a drafting verb (制定《A》、《B》及 …)?"""
    window = text[max(0, start - 80):start]
    window = _WS.sub("", window)
    # step back over earlier titles of the same list: 制定《A》、《B》
    window = re.sub(r"(?:《[^《》]*》[、,，和及与]?)+$", "", window)
    clause = re.split(r"[。;；!！?？]", window)[-1]
    clause = re.split(r"[,，]", clause)[-1]
    return bool(DRAFT_VERB.search(clause))


def _in_spans(starts: list[int], spans: list[tuple[int, int]], pos: int) -> bool:
    """Does pos fall in one of the (sorted, disjoint) spans?"""
    i = bisect_right(starts, pos) - 1
    return i >= 0 and pos < spans[i][1]


_OPEN_TITLE, _CLOSE_TITLE = re.compile("《"), re.compile("》")  # found in C, not by a Python step per character


@dataclass
class _Brackets:
    """Offsets of every 《 and 》, to tell in O(log n) whether a position stands inside a title."""

    opens: list[int]
    closes: list[int]

    @classmethod
    def of(cls, text: str) -> _Brackets:
        return cls([m.start() for m in _OPEN_TITLE.finditer(text)], [m.start() for m in _CLOSE_TITLE.finditer(text)])

    def inside_title(self, pos: int) -> bool:
        """Is there a 《 before pos that no 》 closes before pos, and a 》 after it?"""
        i = bisect_left(self.opens, pos) - 1
        if i < 0:
            return False
        open_ = self.opens[i]
        j = bisect_right(self.closes, open_)  # the first 》 after that 《
        return j < len(self.closes) and self.closes[j] > pos


def _sentence(text: str, start: int, end: int) -> Span:
    left, right = sentence_around(text, start, end)
    return Span(left, right, text[left:right])
