"""Where the build is thin: a per-document quality report (build/report.json, the table `ipgraph build` ends with).

The report reads only what the stages hand over — the DocumentRecord (measures, sections,
assignments, citations, issuers) and the source text — and checks it against independent,
looser cues in the text: a line that names who does the work but is in no measure, an
assignment bracket that gave no body, a name in an assignment that resolved to nothing. So it
keeps working when the extractors' internals change, and it says where they missed.

Each finding is a QualityWarning with a stable `kind` (tools filter on it), a plain message,
a count, a few evidence lines and a severity: a *warning* bears on the measures and their
lead/responsible bodies and flags the document (the build's table lists it); a *note* (document
level, citation levels, issuers) is kept in report.json and on the graph page only. The
thresholds below decide when a finding is worth a warning (see `scripts/report_calibration.py`).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

from ipgraph import knowledge
from ipgraph.extract.agencies import BARE_LIST_RULE, Clause, parse_clause
from ipgraph.model import AgencyRef, DocumentRecord, Measure, Span
from ipgraph.resolve import COLLECTIVE, ORG_SUFFIX, VAGUE, AgencyResolver, split_agency_list
from ipgraph.structure import NON_TASK_TITLE, match_marker, split_paragraphs

_WS = re.compile(r"\s+")  # compiled once: the module-level re functions look it up on every call

REPORT_NAME = "report.json"
REPORT_VERSION = 1
MAX_EVIDENCE = 5  # evidence lines kept per warning; `count` says how many there are

# Stable kinds (documented in README "Quality report").
UNNUMBERED_MEASURE_LINES = "unnumbered_measure_lines"
NUMBERED_LINES_NOT_MEASURES = "numbered_lines_not_measures"
MEASURE_IN_NON_TASK_PART = "measure_in_non_task_part"
MEASURE_WITHOUT_ASSIGNMENT = "measure_without_assignment"
UNKNOWN_BODY = "unknown_body"
LEAD_MISMATCH = "lead_mismatch"
UNEXPANDED_ABBREVIATION = "unexpanded_abbreviation"
UNRESOLVED_PLACE = "unresolved_place"
CITATION_WITHOUT_LEVEL = "citation_without_level"
NO_JURISDICTION = "no_jurisdiction"
REPORT_ERROR = "report_error"
KINDS = (UNNUMBERED_MEASURE_LINES, NUMBERED_LINES_NOT_MEASURES, MEASURE_IN_NON_TASK_PART, MEASURE_WITHOUT_ASSIGNMENT,
         UNKNOWN_BODY, LEAD_MISMATCH, UNEXPANDED_ABBREVIATION, UNRESOLVED_PLACE, CITATION_WITHOUT_LEVEL, NO_JURISDICTION,
         REPORT_ERROR)

# What each kind means, for readers of the graph page (the kind itself stays the stable key).
KIND_LABELS = {
    UNNUMBERED_MEASURE_LINES: "未读成措施的任务行",
    NUMBERED_LINES_NOT_MEASURES: "未读成措施的编号条目",
    MEASURE_IN_NON_TASK_PART: "非任务部分的措施",
    MEASURE_WITHOUT_ASSIGNMENT: "未读出责任单位的措施",
    UNKNOWN_BODY: "未识别的单位名称",
    LEAD_MISMATCH: "牵头单位与条款不符",
    UNEXPANDED_ABBREVIATION: "未展开的简称",
    UNRESOLVED_PLACE: "未解析的地名前缀",
    CITATION_WITHOUT_LEVEL: "无层级的引用文件",
    NO_JURISDICTION: "未识别的发文地区与层级",
    REPORT_ERROR: "质量检查出错",
}

# Thresholds, calibrated on the shipped five and ../shared/dev (scripts/report_calibration.py):
# - a measure whose text names a body (an assignment clause, "由X牵头") but got no assignment is always
#   worth a look: the shipped five and dev have none except H04, whose clause was not read;
# - without such a cue, unassigned measures are normal: 000 assigns 0 of its 32 measures, 001 2 of 25,
#   dev H13 0 of 3, and their gold agrees (the texts name no bodies), so "none assigned" is no flag by
#   itself. Bare measures are flagged only beside assigned ones: in sections whose other measures are
#   assigned (a 保障措施 part left bare as a whole is normal), in a document assigning at least
#   ASSIGNED_SHARE of its measures, at least UNASSIGNED_MIN of them and over UNASSIGNED_SHARE of all
#   (002, 003, 004 assign every measure: 0 bare).
UNASSIGNED_MIN = 3
UNASSIGNED_SHARE = 0.25
# - numbered lines outside every measure: headings, contents lines and non-task parts aside, a numbered
#   item with a sentence of its own is a lost measure (GOLD_SPEC: the lowest numbered item with text);
#   the shipped five and dev have none even at 1, and a 2,000-character opening may lose just one.
NUMBERED_LINES_MIN = 1
ITEM_MIN_CHARS = 20  # a numbered line shorter than this is a heading ("(一)突出改革创新"), not an item
ASSIGNED_SHARE = 0.5
# - names in assignments that resolve to no body, abbreviations and places: one is enough
#   (each one is a wrong or missing edge in the graph).

# An assignment clause as printed: a bracket or labelled role at the end of an item.
_CUE_BRACKET = re.compile(r"[(（\[【]([^()（）\[\]【】]*(?:[(（][^()（）]*[)）][^()（）\[\]【】]*)*)[)）\]】][。.;；\s]*$")
_CUE_WORDS = re.compile(r"(?:负责|牵头|配合|参与|协助|责任单位|责任部门|牵头单位|牵头部门)")
_ROLE_LABEL = re.compile(r"(?:牵头|主责|责任|配合|参与|协办|协同|实施|承办)(?:单位|部门)\s*[:：]")
# Role words around names in a clause: 按职责分别负责, 会同, 牵头, 配合 …
_ROLE_WORDS = re.compile(r"(?:按职责分工|按职责|分工|分别|共同|具体)*(?:负责|牵头|配合|参与|协助|协同)|会同|等$|[(（]\s*牵头\s*[)）]")
_ROLE_HEADER = re.compile(r"(?:牵头|主责|责任|配合|参与|协办|协同|实施|承办)(?:单位|部门)")
# A body as the subject of the work in prose: 由市知识产权局牵头, 市科技局会同市财政局…
# 牵头 assigns wherever it stands; 负责/会同 only with the body as the clause's subject ("。市科技局负责…"),
# since "建立由…负责的机制" describes rather than assigns.
_PROSE_CUE = re.compile(r"([\u4e00-\u9fff()（）]{2,24}?(?:局|委员会|委|办公室|办|厅|部|政府|中心|院|署))(?:牵头|负责|会同)")
_CLAUSE_START = re.compile(r"(?:^|[。;；,，:：])\s*(?:由)?$")
_BOX = re.compile(r"^专栏\s*[\d一二三四五六七八九十]+")
_TABLE_CELLS = re.compile(r"\s*[|｜\t]\s*")
# National bodies' official names start with 国家/国务院/中国/中华人民共和国/中央/全国 or are ministries
# (…部), commissions (…委员会), the customs (海关总署) or banks; a 总局/局 without them is a short form.
_NATIONAL_FULL = re.compile(r"^(?:国家|国务院|中国|中华人民共和国|中央|中共中央|全国|最高人民)|(?:部|委员会|署|银行|院)$")
# a local body ending in 委/办 where the full name ends 委员会/办公室: 市网信办, 区经信委
_SHORT_SUFFIX = re.compile(r"(?:[^员]委|[^公]办)$")


@dataclass(frozen=True)
class Evidence:
    """Where a finding was seen: the 1-based line of the source and the text (clipped)."""

    line: int
    start: int
    end: int
    text: str


WARNING = "warning"  # the measures or their bodies are likely wrong: the document is flagged
NOTE = "note"  # metadata, citation levels, issuers: kept in report.json and on the graph page only


@dataclass(frozen=True)
class QualityWarning:
    kind: str  # one of KINDS
    message: str  # plain words, Chinese names quoted as printed
    count: int  # how many instances (lines, measures, names, citations)
    evidence: tuple[Evidence, ...] = ()
    severity: str = WARNING  # WARNING or NOTE


@dataclass
class DocumentReport:
    document: str  # the source file name
    title: str | None
    measures: int
    assigned: int  # measures with at least one responsible body
    warnings: list[QualityWarning] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        """Needs a look: some warning bears on the measures or their bodies (notes do not flag)."""
        return any(w.severity == WARNING for w in self.warnings)

    def kinds(self) -> list[str]:
        return [w.kind for w in self.warnings]


@lru_cache(maxsize=1)
def non_task_words() -> tuple[str, ...]:
    """Heading words of parts that hold no measures (data/non_task_headings.csv)."""
    return tuple(row["word"] for row in knowledge._csv_rows("non_task_headings.csv"))


# ---------------------------------------------------------------- helpers


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _evidence(text: str, start: int, end: int, limit: int = 80) -> Evidence:
    snippet = re.sub(r"\s+", " ", text[start:end]).strip()
    if len(snippet) > limit:
        snippet = snippet[: limit - 1] + "…"
    return Evidence(_line_of(text, start), start, end, snippet)


def _clause_evidence(text: str, measure: Measure, clause: str) -> Evidence:
    """A measure's line with the clause that matters: "(一)加强立法顶层设计… → (X按职责分工分别负责)"."""
    head = _evidence(text, measure.span.start, measure.span.end, limit=24)
    shown = _WS.sub("", clause)
    shown = shown if len(shown) <= 60 else shown[:59] + "…"
    return Evidence(head.line, measure.span.start, measure.span.end, f"{head.text.rstrip('…')}… {shown}")


class _Cover:
    """Is an offset inside one of these spans? A binary search over their merged extents (a long document
    has thousands of measures and paragraphs)."""

    def __init__(self, spans: Iterable[Span]) -> None:
        merged: list[list[int]] = []
        for start, end in sorted((s.start, s.end) for s in spans if s.end > s.start):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [a for a, _ in merged]
        self.ends = [b for _, b in merged]

    def __contains__(self, pos: int) -> bool:
        import bisect

        i = bisect.bisect_right(self.starts, pos) - 1
        return i >= 0 and pos < self.ends[i]


def _clause_names(clause: str) -> list[str]:
    """The names in an assignment clause, role words and labels removed."""
    clause = _WS.sub("", clause)  # a hard-wrapped clause ("市\n知识产权局") is read joined, as the extractor reads it
    clause = _ROLE_LABEL.sub("、", clause)
    clause = _ROLE_WORDS.sub("、", clause)
    return [n for n in split_agency_list(clause) if n.strip(" 、,，;；。")]


def _squeezed(name: str) -> str:
    """A body's name without whitespace: each name comes up for every printed name it is checked against,
    so short ones are kept (bounded: 4096 × 200 characters)."""
    return _short_squeezed(name) if len(name) <= 200 else _WS.sub("", name)


@lru_cache(maxsize=4096)
def _short_squeezed(name: str) -> str:
    return _WS.sub("", name)


def _covered(name: str, refs: list[AgencyRef]) -> bool:
    """Does some resolved body stand for this printed name?"""
    compact = _WS.sub("", name).strip("、,，;；。")
    for ref in refs:
        forms = {_squeezed(f) for f in [ref.surface, ref.with_jurisdiction, ref.canonical, *ref.aliases]}
        if any(compact == f or (len(f) >= 2 and f in compact) or (len(compact) >= 2 and compact in f) for f in forms):
            return True
    return False


def _name_like(name: str) -> bool:
    """A printed body name: short, one phrase, ending like a body (局, 委, 政府 …) or a collective (各区县 …)."""
    compact = _WS.sub("", name)
    return (2 <= len(compact) <= 30 and not re.search(r"[。:：!！?？]", compact)
            and bool(ORG_SUFFIX.search(compact) or COLLECTIVE.match(compact)))


def _assignment_cue(measure: Measure, resolver: AgencyResolver) -> str | None:
    """The clause of a measure that reads like an assignment (an end bracket or a labelled role), if any."""
    text = measure.span.text
    label = _role_label(text)
    if label is not None:
        return text[label:].strip()
    return _bracket_cue(text, resolver)


def _role_label(line: str) -> int | None:
    """Where a role label with a body after it starts ("责任单位:市知识产权局"); None without one
    (an addressee line "各承办单位:" names no body after its colon)."""
    for m in _ROLE_LABEL.finditer(line):
        after = re.split(r"[;；。\n]", line[m.end():], maxsplit=1)[0]
        if any(_name_like(n) and not VAGUE.match(n) for n in split_agency_list(after)):
            return m.start()
    return None


def _bracket_cue(line: str, resolver: AgencyResolver) -> str | None:
    """The end bracket of a line when it assigns: it says 负责/牵头/配合, or it opens with a body's name
    whatever its verb ("(市科技局会同…承担)")."""
    m = _CUE_BRACKET.search(line.rstrip())
    if not m:
        return None
    inner = m.group(1)
    names = _clause_names(re.sub(r"^由", "", inner))
    if _CUE_WORDS.search(inner):  # 负责/牵头 …, and some name in it ends like a body ("(企业参与)" is none)
        return inner if any(_name_like(n) and not VAGUE.match(n) for n in names) else None
    first = _WS.sub("", names[0]) if names else ""
    for k in range(len(first), 1, -1):  # the body's name ends where its verb starts: 市知识产权局|按照职责承担
        name = first[:k]
        if _name_like(name) and resolver.is_anchored(name) and resolver.resolve(name) is not None:
            return inner
    return None


def _table_bodies(line: str, resolver: AgencyResolver) -> list[AgencyRef]:
    """The bodies in the last cell of a table row, when the cell is wholly a list of bodies."""
    cells = [c for c in _TABLE_CELLS.split(line.strip()) if c]
    if len(cells) < 3 or _ROLE_HEADER.fullmatch(cells[-1]):
        return []  # not a row, or the header row (… 责任部门)
    names = [n for n in split_agency_list(cells[-1]) if n]
    refs = resolver.resolve_list(cells[-1])
    if not refs or any(resolver.resolve(n, "市") is None and not VAGUE.match(n) for n in names):
        return []
    return refs


# ---------------------------------------------------------------- checks


def _names_work(line: str, resolver: AgencyResolver, rows: bool = True) -> bool:
    """Does the line say who does the work: an end bracket with 负责/牵头, a role label, a column of bodies
    (table rows only with `rows`)?"""
    return (_bracket_cue(line, resolver) is not None or _role_label(line) is not None
            or (rows and bool(_table_bodies(line, resolver))))


def _lines_outside_measures(record: DocumentRecord, resolver: AgencyResolver) -> list[QualityWarning]:
    parsed = record.parsed
    text = parsed.source.text
    measure_spans = _Cover(m.span for m in parsed.measures)
    measure_starts = {m.span.start for m in parsed.measures}
    # where each measure's text ends, trailing punctuation and spaces aside (its own clause stands there)
    measure_ends = {m.span.start + len(m.span.text.rstrip(" \u3000\n。.;；")) for m in parsed.measures}
    measure_ends |= {m.span.end for m in parsed.measures}
    skip = _Cover(list(parsed.background) + [span for table in parsed.tables for span in table])
    headings = {section.span.start for section in parsed.sections}
    # without any measure there is no body start to trust (it is the end of the text): read it all
    begin = parsed.body_start if parsed.measures else 0
    numbered: list[Evidence] = []
    work: list[Evidence] = []
    paragraphs = split_paragraphs(text)
    seen: dict[str, int] = {}
    for para in paragraphs:  # a line printed twice is a table of contents entry or a running head
        key = _WS.sub("", para.text)
        seen[key] = seen.get(key, 0) + 1
    non_task_kind: str | None = None  # the marker kind of the non-task part we are in (二、基本原则 …)
    in_box = False  # a 专栏 box: programmes, not measures (GOLD_SPEC), up to the next measure or heading
    # Table rows are measures only where the document has no numbered ones (a task table as the whole
    # document); beside numbered measures a table (an annex, a list of targets) is not (GOLD_SPEC).
    rows = not parsed.measures
    for para in paragraphs:
        marker = match_marker(para.text)
        if _BOX.match(para.text):
            in_box = True
            continue
        if para.start in measure_starts or para.start in headings:
            in_box = False  # the box ends where the structure took up items again
        if marker:
            rest = para.text[len(marker[2]):]
            if non_task_kind == marker[0]:
                non_task_kind = None  # a sibling heading ends the part
            if non_task_kind is None and (_non_task_heading(rest) or NON_TASK_TITLE.match(_WS.sub("", rest))):
                non_task_kind = marker[0]
                continue
        if para.start < begin or in_box or para.start in skip:
            continue
        if para.start in measure_spans:
            # a numbered item inside another measure's text, or an item's own assignment clause before
            # the measure ends: several items read as one
            if marker and para.start not in measure_starts and _has_body(para.text[len(marker[2]):]):
                numbered.append(_evidence(text, para.start, para.end))
            elif para.end not in measure_ends and _names_work(para.text, resolver, rows):
                work.append(_evidence(text, para.start, para.end))
            continue
        if _names_work(para.text, resolver, rows):
            work.append(_evidence(text, para.start, para.end))
        elif (marker and non_task_kind is None and para.start not in headings
              and seen[_WS.sub("", para.text)] == 1 and _has_body(para.text[len(marker[2]):])):
            numbered.append(_evidence(text, para.start, para.end))
    out = []
    if work:
        out.append(QualityWarning(
            UNNUMBERED_MEASURE_LINES,
            f"{len(work)} line(s) name who does the work (a 负责/牵头 clause or a column of bodies) but are in "
            f"no measure: items the structure did not take (unnumbered, or numbered out of order) or table rows",
            len(work), tuple(work[:MAX_EVIDENCE])))
    if len(numbered) >= NUMBERED_LINES_MIN:
        out.append(QualityWarning(
            NUMBERED_LINES_NOT_MEASURES,
            f"{len(numbered)} numbered item(s) with text of their own in the task parts are not measures of their "
            f"own (in no measure, or inside another one's text)",
            len(numbered), tuple(numbered[:MAX_EVIDENCE])))
    return out


def _has_body(rest: str) -> bool:
    """An item's own text, not a bare heading: long enough and with a sentence's punctuation."""
    compact = _WS.sub("", rest)
    # a sentence's end: headings may carry a comma ("提高存量专利盘活水平,优化增量专利供给质量"), items a full stop
    return len(compact) >= ITEM_MIN_CHARS and (bool(re.search(r"[。;；!！?？]", compact)) or len(compact) >= 50)


_HEADING_END = re.compile(r"[。;；\n]")


def _non_task_heading(heading: str) -> bool:
    """A heading that names a part holding no measures (序言, 总体思路 …): it starts with such a word, as
    structure.NON_TASK_TITLE does ("(一)明确工作目标" inside a task part is not one)."""
    first = _HEADING_END.split(heading.strip(), maxsplit=1)[0]
    first = _WS.sub("", first)
    return first.startswith(non_task_words())  # a tuple: one call tests every word


def _measures_in_non_task_parts(record: DocumentRecord) -> list[QualityWarning]:
    parsed = record.parsed
    text = parsed.source.text
    titles = {s.number: s for s in parsed.sections}
    hits: list[Evidence] = []
    where: list[str] = []
    for measure in parsed.measures:
        chain = []
        number = measure.section
        while number is not None and number in titles:
            chain.append(titles[number].printed + titles[number].title)
            number = titles[number].parent
        own_first = measure.span.text[len(measure.printed):].split("\n", 1)[0] if measure.span.text else ""
        heads = [c for c in chain if _non_task_heading(re.sub(r"^\S*?[、.．)）]", "", c))]
        if not heads and _non_task_heading(own_first):
            heads = [measure.printed + own_first[:12]]
        if heads:
            hits.append(_evidence(text, measure.span.start, measure.span.end))
            where.extend(h for h in heads if h not in where)
    if not hits:
        return []
    return [QualityWarning(
        MEASURE_IN_NON_TASK_PART,
        f"{len(hits)} measure(s) sit under {'、'.join(where[:3])}: a part that holds background, principles or "
        f"goals, not measures",
        len(hits), tuple(hits[:MAX_EVIDENCE]))]


def _prose_cue(measure: Measure, resolver: AgencyResolver) -> str | None:
    """A body named as the subject of 牵头/负责/会同 in the measure's text ("由市知识产权局牵头"), if any."""
    for m in _PROSE_CUE.finditer(measure.text):
        found = m.group(1)
        verb = m.group(0)[len(found):]
        for i in range(len(found) - 1):  # the name is the longest anchored tail: 由|市知识产权局
            name = found[i:]
            if not VAGUE.match(name) and resolver.is_anchored(name) and resolver.resolve(name) is not None:
                before = measure.text[: m.start() + i]
                if verb == "牵头" or _CLAUSE_START.search(before):
                    return name + verb
                break
    return None


def _lead_expected(clause: str, resolver: AgencyResolver) -> bool | None:
    """Does the clause as printed give a lead? None when it names bodies with no verb or label at all.

    Read with the extractor's own grammar (ipgraph.extract.agencies.parse_clause), so the report and
    the extraction cannot drift apart on what a clause means: a mismatch says the lead was read from
    somewhere else (another bracket, a table row, the prose) than the clause the measure ends with.
    """
    compact = _WS.sub("", clause)
    lead, _, rule = parse_clause(Clause(compact, Span(0, len(compact), compact)), resolver)
    if rule == BARE_LIST_RULE:
        return None
    return bool(lead)


def _assignment_checks(record: DocumentRecord, resolver: AgencyResolver) -> list[QualityWarning]:
    parsed = record.parsed
    text = parsed.source.text
    by_measure = {a.measure: a for a in record.assignments if a.responsible}
    unread: list[Evidence] = []
    bare: dict[str | None, list[Evidence]] = {}  # by section: bare measures beside assigned ones stand out
    assigned_sections = {m.section for m in parsed.measures if m.number in by_measure}
    unknown: list[Evidence] = []
    unknown_names: list[str] = []
    mismatched: list[Evidence] = []
    for measure in parsed.measures:
        cue = _assignment_cue(measure, resolver)
        assignment = by_measure.get(measure.number)
        if assignment is None:
            said = cue or _prose_cue(measure, resolver)
            if said:
                unread.append(_clause_evidence(text, measure, said))
            else:
                bare.setdefault(measure.section, []).append(_evidence(text, measure.span.start, measure.span.end))
            continue
        # a clause as printed, or a list-like evidence (table cells); prose sentences are not lists of names
        evidence = assignment.evidence.text
        clause = cue if cue is not None else (evidence if not re.search(r"[。:：]", evidence) else "")
        refs = assignment.responsible + assignment.lead
        expected = _lead_expected(cue, resolver) if cue is not None else None
        if expected is not None and expected != bool(assignment.lead):
            mismatched.append(_clause_evidence(text, measure, cue or ""))
        for name in _clause_names(clause):
            if VAGUE.match(name) or _covered(name, refs) or not _name_like(name):
                continue
            unknown.append(_clause_evidence(text, measure, clause))
            if name not in unknown_names:
                unknown_names.append(name)
    out = []
    total = len(parsed.measures)
    # bare measures in sections whose other measures are assigned (a 保障措施 part left bare as a whole is normal)
    beside = [e for section, found in sorted(bare.items(), key=lambda kv: str(kv[0])) if section in assigned_sections
              for e in found]
    many_bare = (len(beside) >= UNASSIGNED_MIN and len(by_measure) >= ASSIGNED_SHARE * total
                 and len(beside) / max(total, 1) > UNASSIGNED_SHARE)
    if unread or many_bare:
        shown = sorted(unread + (beside if many_bare else []), key=lambda e: e.start)
        parts = []
        if unread:
            parts.append(f"{len(unread)} name a body (a 负责/牵头/责任单位 clause, or X牵头 in the text) from which "
                         f"no assignment was read")
        if many_bare:
            parts.append(f"{len(beside)} have none while the other measures of their sections do")
        out.append(QualityWarning(
            MEASURE_WITHOUT_ASSIGNMENT,
            f"{len(shown)} of {total} measure(s) without lead or responsible body: " + "; ".join(parts),
            len(shown), tuple(shown[:MAX_EVIDENCE])))
    if unknown:
        out.append(QualityWarning(
            UNKNOWN_BODY,
            f"{len(unknown_names)} name(s) in assignment clauses were not recognised as bodies: "
            + "、".join(f"“{n}”" for n in unknown_names[:6]),
            len(unknown_names), tuple(unknown[:MAX_EVIDENCE])))
    if mismatched:
        out.append(QualityWarning(
            LEAD_MISMATCH,
            f"{len(mismatched)} measure(s) where the clause and the lead read from it disagree: 牵头/会同/one body "
            f"with 负责 gives a lead, several bodies with 负责 or a 责任单位 list gives none",
            len(mismatched), tuple(mismatched[:MAX_EVIDENCE])))
    return out


def _name_problems(refs: list[tuple[AgencyRef, Span]], level: str | None) -> tuple[list, list]:
    """(short forms kept, names whose 省/市/区/县 prefix found no place), each as (name, span), by name."""
    short: dict[str, Span] = {}
    placeless: dict[str, Span] = {}
    for ref, span in refs:
        surface = _WS.sub("", ref.surface)
        if ref.collective:
            continue
        if re.match(r"^(?:中共)?[省市区县](?!场|域|属|直|级|民)", surface) and not ref.jurisdiction:
            placeless.setdefault(surface, span)
            continue
        body = ref.canonical
        # a national body named without 国家/国务院 … and not a ministry: 工商总局, 新闻出版广电总局
        national_short = ((level == "national" or ref.level == "national") and body.endswith("局")
                          and not _NATIONAL_FULL.search(body))
        if body == ref.with_jurisdiction and (_SHORT_SUFFIX.search(body) or national_short):
            short.setdefault(body, span)
    return sorted(short.items()), sorted(placeless.items())


def _span_evidence(text: str, spans: list[Span]) -> tuple[Evidence, ...]:
    """Evidence for distinct spans in reading order (a span of nothing, e.g. no title, is left out)."""
    distinct = sorted({(sp.start, sp.end) for sp in spans if sp.end > sp.start})
    return tuple(_evidence(text, a, b) for a, b in distinct[:MAX_EVIDENCE])


def _agency_checks(record: DocumentRecord) -> list[QualityWarning]:
    parsed = record.parsed
    text = parsed.source.text
    level = parsed.meta.level
    assigned = [(ref, a.evidence) for a in record.assignments for ref in a.responsible + a.lead]
    issuers = [(ref, parsed.meta.title_span or Span(0, 0, "")) for ref in record.issuers]
    out = []
    for who, refs, severity in (("assignment", assigned, WARNING), ("issuer", issuers, NOTE)):
        # a short form keeps the printed name with its place (天津市网信办): the right body, under a name
        # other documents may spell in full, so a note; a place left unresolved is a wrong name: a warning
        short, placeless = _name_problems(refs, level)
        where = "in assignments" if who == "assignment" else "as issuer"
        if short:
            out.append(QualityWarning(
                UNEXPANDED_ABBREVIATION,
                f"{len(short)} body name(s) {where} kept in short form (no full form in data/agency_names.csv): "
                + "、".join(f"“{n}”" for n, _ in short[:6]),
                len(short), _span_evidence(text, [sp for _, sp in short]),
                NOTE))
        if placeless:
            out.append(QualityWarning(
                UNRESOLVED_PLACE,
                f"{len(placeless)} body name(s) {where} start with 省/市/区/县 but the place they stand for is unknown: "
                + "、".join(f"“{n}”" for n, _ in placeless[:6]),
                len(placeless),
                _span_evidence(text, [sp for _, sp in placeless]),
                severity))
    return out


def _document_checks(record: DocumentRecord) -> list[QualityWarning]:
    parsed = record.parsed
    text = parsed.source.text
    out = []
    if parsed.meta.level is None:
        out.append(QualityWarning(
            NO_JURISDICTION,
            "the document's place and level (national, provincial, municipal, district) were not found: "
            "市/区 prefixes and the levels of drafted directives cannot be resolved",
            1, (), NOTE))
    levelless = [c for c in record.citations if c.level is None]
    if levelless:
        out.append(QualityWarning(
            CITATION_WITHOUT_LEVEL,
            f"{len(levelless)} cited or drafted directive(s) have no level: "
            + "、".join(f"《{c.title}》" if c.title else str(c.doc_number) for c in levelless[:4]),
            len(levelless), tuple(_evidence(text, c.span.start, c.span.end) for c in levelless[:MAX_EVIDENCE]),
            NOTE))
    return out


def check_document(record: DocumentRecord) -> DocumentReport:
    """The quality report of one document.

    A document in traditional characters is checked in its matching (simplified) form, as the
    extractors read it; evidence and names are then given back as the document writes them.
    """
    import copy
    import dataclasses

    from ipgraph.read import matching_form, restore_verbatim

    verbatim = record.parsed.source.text
    matched = matching_form(verbatim)
    if matched == verbatim:
        return _check(record)
    simple = copy.deepcopy(record)
    simple.parsed.source = dataclasses.replace(simple.parsed.source, text=matched)
    restore_verbatim(simple, matched, verbatim)  # every span quoting the text as written now quotes the matching form
    found = _check(simple)
    back = {ord(m): v for m, v in zip(matched, verbatim, strict=True) if m != v}  # the document's own characters

    def as_written(w: QualityWarning) -> QualityWarning:
        return dataclasses.replace(w, message=w.message.translate(back), evidence=tuple(
            dataclasses.replace(e, text=e.text.translate(back)) for e in w.evidence))

    found.warnings = [as_written(w) for w in found.warnings]
    found.title = record.parsed.meta.title
    return found


def _check(record: DocumentRecord) -> DocumentReport:
    parsed = record.parsed
    resolver = AgencyResolver(parsed.meta.jurisdiction, parsed.meta.level)
    warnings = (_lines_outside_measures(record, resolver) + _measures_in_non_task_parts(record)
                + _assignment_checks(record, resolver) + _agency_checks(record) + _document_checks(record))
    order = {kind: i for i, kind in enumerate(KINDS)}
    warnings.sort(key=lambda w: (w.severity != WARNING, order.get(w.kind, len(order)), w.message))
    assigned = len({a.measure for a in record.assignments if a.responsible})
    return DocumentReport(document=parsed.source.name, title=parsed.meta.title, measures=len(parsed.measures),
                          assigned=assigned, warnings=warnings)


def build_report(records: Iterable[DocumentRecord]) -> list[DocumentReport]:
    """One report per document, sorted by file name.

    A check that fails on an odd record is a bug in the report, never a reason to stop the
    build: that document's report then says so (kind report_error, a note).
    """
    out = []
    for record in records:
        try:
            out.append(check_document(record))
        except Exception as exc:  # noqa: BLE001 - see the docstring
            parsed = record.parsed
            out.append(DocumentReport(parsed.source.name, parsed.meta.title, len(parsed.measures), 0, [QualityWarning(
                REPORT_ERROR, f"the quality report could not check this document ({type(exc).__name__}: {exc}); "
                              f"this is an ipgraph bug", 0, (), NOTE)]))
    return sorted(out, key=lambda r: r.document)


def report_dict(reports: list[DocumentReport]) -> dict:
    flagged = [r for r in reports if r.flagged]
    counts: dict[str, int] = {}
    for r in reports:
        for w in r.warnings:
            counts[w.kind] = counts.get(w.kind, 0) + 1
    return {
        "version": REPORT_VERSION,
        "documents": len(reports),
        "flagged": len(flagged),
        "documents_per_kind": dict(sorted(counts.items())),
        "reports": [
            {**{k: getattr(r, k) for k in _REPORT_FIELDS}, "flagged": r.flagged,
             "warnings": [_warning_dict(w) for w in r.warnings]}
            for r in reports
        ],
    }


# what dataclasses.asdict gives, field by field: asdict's deep copy of every value cost ~0.3 s for the
# report of 1,000 plans (an `add` writes it whole); these fields hold plain values and Evidence only
_REPORT_FIELDS = tuple(f.name for f in fields(DocumentReport) if f.name != "warnings")
_WARNING_FIELDS = tuple(f.name for f in fields(QualityWarning) if f.name != "evidence")
_EVIDENCE_FIELDS = tuple(f.name for f in fields(Evidence))


def _warning_dict(warning: QualityWarning) -> dict:
    out = {k: getattr(warning, k) for k in _WARNING_FIELDS}
    out["evidence"] = [{k: getattr(e, k) for k in _EVIDENCE_FIELDS} for e in warning.evidence]
    return out


def report_json(reports: list[DocumentReport]) -> str:
    """report.json: deterministic (documents by name, warnings by kind, keys sorted)."""
    return json.dumps(report_dict(reports), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def format_table(reports: list[DocumentReport], width: int = 120, limit: int = 20,
                 report_path: str | Path | None = None) -> str:
    """The one-screen table of the flagged documents (rich), or "" when none is flagged.

    At most `limit` rows (the rest are counted), each with its warnings' kinds and counts.
    """
    flagged = [r for r in reports if r.flagged]
    if not flagged:
        return ""
    import io

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(flagged)} of {len(reports)} document(s) need a look (details: {report_path or REPORT_NAME})",
                  title_justify="left", show_lines=False)
    table.add_column("document", no_wrap=True)
    table.add_column("measures", justify="right")
    table.add_column("assigned", justify="right")
    table.add_column("why")
    for r in flagged[:limit]:
        why = "; ".join(f"{w.kind} ({w.count}" + (f", line {w.evidence[0].line})" if w.evidence else ")")
                        for w in r.warnings if w.severity == WARNING)
        table.add_row(r.document, str(r.measures), str(r.assigned), why)
    if len(flagged) > limit:
        table.add_row(f"… {len(flagged) - limit} more", "", "", "")
    buffer = io.StringIO()
    Console(file=buffer, width=width, no_color=True, force_terminal=False).print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def page_lines(reports: list[DocumentReport]) -> dict[str, list[tuple[str, str]]]:
    """Per source file, the (severity, text) lines the graph page shows in the document's panel."""
    out: dict[str, list[tuple[str, str]]] = {}
    for r in reports:
        lines = []
        for w in r.warnings:
            where = "; ".join(f"第{e.line}行 line {e.line}: {e.text}" for e in w.evidence[:2])
            label = KIND_LABELS.get(w.kind, "")
            lines.append((w.severity, f"{label} {w.kind}: {w.message}".strip() + (f" — {where}" if where else "")))
        if lines:
            out[r.document] = lines
    return out


def read_page_lines(build_dir: str | Path) -> dict[str, list[tuple[str, str]]]:
    """page_lines from a build folder's report.json; {} when there is none or it cannot be read."""
    path = Path(build_dir) / REPORT_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        reports = [DocumentReport(document=r["document"], title=r.get("title"), measures=r["measures"],
                                  assigned=r["assigned"],
                                  warnings=[QualityWarning(w["kind"], w["message"], w["count"],
                                                           tuple(Evidence(**e) for e in w["evidence"]),
                                                           w.get("severity", WARNING)) for w in r["warnings"]])
                   for r in data["reports"]]
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # an older build, or a hand-edited file: the page simply shows no report
    return page_lines(reports)
