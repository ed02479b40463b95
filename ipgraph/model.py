"""Plain data passed between the pipeline stages.

read → SourceDocument → structure → ParsedDocument → extract/resolve → DocumentRecord → graph.
Offsets (start, end) are character offsets into SourceDocument.text, end exclusive.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A verbatim stretch of the source text."""

    start: int
    end: int
    text: str


@dataclass
class SourceDocument:
    """A decoded source file."""

    name: str  # the file's name, e.g. "002_842afa8849cffd08.txt"
    text: str  # the whole text, verbatim after decoding (line ends normalised to \n)
    path: str = ""  # where it was read from
    encoding: str = "utf-8"
    media_type: str = "text/plain"
    # metadata the container itself carried (an HTML header table, docx core properties …)
    header: dict[str, str] = field(default_factory=dict)


@dataclass
class DocumentMeta:
    title: str | None = None
    notice_title: str | None = None
    issuers: list[str] = field(default_factory=list)  # surface forms as printed
    doc_number: str | None = None
    date_signed: str | None = None  # ISO yyyy-mm-dd
    date_published: str | None = None
    doc_type: str | None = None  # 规划 | 实施方案 | 工作方案 | 任务分工 | 通知 | …
    jurisdiction: str | None = None  # 天津市, 天津市滨海新区 …
    level: str | None = None  # national | provincial | municipal | district
    title_span: Span | None = None


@dataclass
class Section:
    number: str  # normalised: "三", "三.(一)" → "3", "3.1"
    printed: str  # as printed: "三、", "(一)"
    title: str
    depth: int
    span: Span
    parent: str | None = None  # normalised number of the enclosing section


@dataclass
class Measure:
    number: str  # normalised, e.g. "34" or "3.1.2" where numbering restarts per section
    printed: str  # the number as printed: "(三十四)", "1."
    text: str  # verbatim, number removed, hard line breaks inside sentences joined
    span: Span  # the item in the source (number included)
    section: str | None  # normalised number of the enclosing section
    title: str | None = None  # lead phrase ("培育高价值专利") where the item has one
    assignment: Span | None = None  # the bracketed or trailing assignment clause, if any


@dataclass
class ParsedDocument:
    source: SourceDocument
    meta: DocumentMeta
    sections: list[Section]
    measures: list[Measure]
    # where the body (after notice / header) starts
    body_start: int = 0
    # parts that tell what was (规划背景, 发展现状 …): past achievements, not targets or drafts
    background: list[Span] = field(default_factory=list)
    # indicator tables (表1 …): the title paragraph and its rows
    tables: list[list[Span]] = field(default_factory=list)


@dataclass
class AgencyRef:
    """One agency as resolved from one mention."""

    canonical: str  # 天津市发展和改革委员会
    surface: str  # 市发展改革委 (as printed)
    with_jurisdiction: str  # 天津市发展改革委 (surface with the place resolved)
    aliases: list[str] = field(default_factory=list)
    jurisdiction: str | None = None
    level: str | None = None
    collective: bool = False  # 各区县人民政府
    later_name: str | None = None  # 市市场监管局(知识产权局): the name in brackets


@dataclass
class Assignment:
    measure: str  # normalised measure number
    lead: list[AgencyRef]
    responsible: list[AgencyRef]  # every assigned body, leads included
    evidence: Span
    rule: str  # which rule matched, e.g. "lead_agency.bracket.v1"


@dataclass
class ProgrammeMention:
    canonical: str
    surface: str
    span: Span
    measure: str | None  # normalised measure number, None for the document level
    discovered: bool = False  # not in the shipped scheme: found by a pattern


@dataclass
class Citation:
    title: str | None  # inside 《》, outer 《》 removed, inner 〈〉 kept
    doc_number: str | None
    kind: str  # "cites" | "drafts"
    level: str | None  # international | national | provincial | municipal | district
    issuer: str | None
    span: Span
    key: str = ""  # identity across documents (see extract.citations.directive_key)
    surfaces: list[str] = field(default_factory=list)


@dataclass
class Target:
    indicator: str
    value: float
    unit: str | None
    year: int | None
    comparator: str  # ">=", ">", "=", "≈", "<=", "<"
    span: Span
    measure: str | None = None


@dataclass
class DocumentRecord:
    """Everything extracted from one document, ready for the graph."""

    parsed: ParsedDocument
    issuers: list[AgencyRef] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    programmes: list[ProgrammeMention] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
