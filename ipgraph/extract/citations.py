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

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from ipgraph.model import Citation, ParsedDocument, Span
from ipgraph.structure import level_of_place, place_of
from ipgraph.textutil import compare_form, inside, sentence_around

TITLE = re.compile(r"《((?:[^《》\n]|\n(?!\n)|《[^《》]*》)+?)》")
DOC_NUMBER = re.compile(
    r"(?P<num>[\u4e00-\u9fff]{1,10}[〔\[【(（]\s*(?:19|20)\d{2}\s*[〕\]】)）]\s*第?\s*\d{1,4}\s*号)"
)
STANDARD = re.compile(r"(?P<num>GB(?:/T|/Z)?\s*\d{3,6}(?:\.\d+)?(?:\s*[-—–]\s*(?:19|20)\d{2})?)", re.I)
MEDIA = re.compile(r"(?:报|日报|晚报|时报|周刊|杂志|期刊|学报|年鉴|新闻|频道|电视台)$")
DRAFT_VERB = re.compile(r"(?:研究制定|研究出台|制定出台|制定完善|制定修订|制定|制订|出台|起草|编制|拟定|修订|修改完善|研究起草)(?:并实施|并印发|实施)?\s*$")
WRAPPER = re.compile(r"^(?P<issuer>.*?)关于(?:印发|转发|发布)[《〈](?P<inner>.+)[》〉]的(?:通知|通告)$")
ISSUER_BEFORE_GUANYU = re.compile(r"^(?P<issuer>.{2,40}?(?:国务院|中共中央|办公厅|办公室|部|局|委员会|委|政府|院|厅|署|总局|中心))(?P<rest>关于.+)$")
INTERNATIONAL = re.compile(r"(?:条约|公约|协定|议定书|国际|世界知识产权组织)")
_NATIONAL_PREFIX = re.compile(r"^(?:国|财|工信|科|教|人社|商|农|公|发改|中发|中办|国知|国市监)")
_PROVINCE_ABBR = "京津沪渝冀晋蒙辽吉黑苏浙皖闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新"
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
    title = re.sub(r"\s+", "", raw)
    # an inner 《》 is written 〈〉 (GOLD_SPEC: inner 〈〉 kept as printed)
    return title.replace("《", "〈").replace("》", "〉")


def _own_title(title: str) -> str:
    """The policy's own title inside a 关于印发〈X〉的通知 wrapper."""
    m = WRAPPER.match(title)
    return m.group("inner").replace("〈", "《").replace("〉", "》") if m else title


def citation_level(title: str | None, number: str | None, kind: str, doc_level: str | None) -> str | None:
    if number and STANDARD.fullmatch(number.strip()):
        return "national"
    if title:
        own = _own_title(title)
        place = place_of(title) or place_of(own)
        if place:
            return level_of_place(place)
        if own.startswith("政府"):  # 《政府工作报告》: "the government" without a place is the document's own
            return doc_level
        if INTERNATIONAL.search(own) and not re.search(r"(?:中国|国家|全国)", own):
            return "international"
        if re.match(r"^(?:国务院|中共中央|国家|全国|中华人民共和国|“十[一二三四五六七八九]五”国家)", title):
            return "national"
    if number:
        prefix = number.split("〔")[0].split("[")[0]
        if _NATIONAL_PREFIX.match(prefix):
            return "national"
        if prefix[:1] in _PROVINCE_ABBR:
            if len(prefix) > 3 and prefix[1] not in "政办发委":  # 津滨政办发: a district of 天津
                return "district"
            return "municipal" if prefix[:1] in "京津沪渝" else "provincial"
    if kind == "drafts":
        return doc_level  # a new instrument is made by the document's own government
    return "national"


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
                number = re.sub(r"\s+", "", dm.group("num"))
                taken.append((m.end() + nm.start("inner"), m.end() + nm.end("inner")))
        kind = "drafts" if _is_draft(text, m.start()) and not inside(m.start(), background) else "cites"
        sentence = _sentence(text, m.start(), m.end())
        key = directive_key(title, number)
        inner = WRAPPER.match(title)
        _merge(found, by_number, Citation(
            # the policy's own title: 关于印发〈X〉的通知 is X (the printed form stays in surfaces)
            title=inner.group("inner") if inner else title, doc_number=number, kind=kind,
            level=citation_level(title, number, kind, meta.level), issuer=_issuer_of(title),
            span=sentence, key=key, surfaces=[title]))

    brackets = _Brackets.of(text)
    for pattern in (DOC_NUMBER, STANDARD):
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b in taken) or brackets.inside_title(m.start()):
                continue
            number = _LEADING_WORDS.sub("", re.sub(r"\s+", "", m.group("num")))
            if meta.doc_number and compare_form(number) == compare_form(meta.doc_number):
                continue
            if m.start() < parsed.body_start and pattern is DOC_NUMBER:
                continue  # the header's own number
            key = directive_key(None, number)
            if key in by_number:
                continue
            _merge(found, by_number, Citation(title=None, doc_number=number, kind="cites",
                                   level=citation_level(None, number, "cites", meta.level), issuer=None,
                                   span=_sentence(text, m.start(), m.end()), key=key, surfaces=[number]))
    return sorted(found.values(), key=lambda c: c.span.start)


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
    window = re.sub(r"\s+", "", window)
    # step back over earlier titles of the same list: 制定《A》、《B》
    window = re.sub(r"(?:《[^《》]*》[、,，和及与]?)+$", "", window)
    clause = re.split(r"[。;；!！?？]", window)[-1]
    clause = re.split(r"[,，]", clause)[-1]
    return bool(DRAFT_VERB.search(clause))


@dataclass
class _Brackets:
    """Offsets of every 《 and 》, to tell in O(log n) whether a position stands inside a title."""

    opens: list[int]
    closes: list[int]

    @classmethod
    def of(cls, text: str) -> _Brackets:
        return cls([i for i, ch in enumerate(text) if ch == "《"], [i for i, ch in enumerate(text) if ch == "》"])

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
