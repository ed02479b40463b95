"""Stage 2: the structure of a policy document — its metadata, sections and measures.

The parser works on layouts, not on particular files:

* paragraphs come from lines; a very long line whose paragraphs were flattened into one
  (pages saved as a single line, paragraphs separated by spaces) is split again at the
  spaces that sit between two Chinese paragraphs;
* hard line breaks inside a sentence (text copied from a PDF) are joined back;
* numbering markers (一、 / (一) / 1. / (1) / ① / 第一章 / 第一条) are nested by order of first
  appearance, so any combination of marker kinds works and numbering may restart per section;
* a table of contents (the same headings repeated later) is recognised and dropped;
* 专栏 boxes, tables, notes and footnotes (①…:指…) are not measure text;
* sections whose title marks background, principles, goals or a preface hold no measures;
* a measure is the lowest numbered item that has its own text; articles (第X条) that only
  state purpose, scope, definitions or entry into force are none;
* items run together on one line (PDF text) are split again at their markers;
* the rows of a task table (a header naming the work and who does it) are measures, unless
  they repeat numbered items of the text (an attached 任务分工表).

Metadata (title, notice, issuers, 文号, dates, jurisdiction) is read from every header form
governments publish: portal tables, 【label】 blocks, wiki and law-database headers, 红头
lines, signature blocks, reposts; see parse_metadata.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache

from ipgraph import knowledge
from ipgraph.model import DocumentMeta, Measure, ParsedDocument, Section, SourceDocument, Span
from ipgraph.textutil import CN_NUMERAL, DATE_ONLY, cn_to_int, is_cjk, longest_first, parse_date

_WS = re.compile(r"\s+")  # compiled once: the module-level re functions look it up on every call

# ---------------------------------------------------------------- paragraphs

_SPACE = " \t\u3000\xa0\u2002\u2003\u2009\ufeff"
# A space inside a long line is a paragraph break when it stands between the end of one
# Chinese paragraph and the start of the next (quotes excluded: “ 12330 ” is one phrase).
_BREAK_BEFORE = set("。;；:：!！?？)）]】」』》")
_BREAK_AFTER = set("(（[【《")
_LONG_LINE = 200


@dataclass
class Paragraph:
    start: int
    end: int
    text: str
    blank_before: bool  # an empty line (or a split point) stands before it
    # a table row (cells separated by tabs or |, as read.py writes .docx and HTML tables):
    # every cell's (start, end) in the source, empty cells included, so columns stay aligned
    cells: list[tuple[int, int]] | None = None


def _row_cells(line: str, line_start: int) -> list[tuple[int, int]] | None:
    """The cells of a line written as a table row (two or more tabs, or bars), else None."""
    if line.count("\t") < 2 and line.count("|") + line.count("｜") < 2:
        return None  # most lines: no row (counted in C before any separator is looked for)
    seps = list(re.finditer("\t", line))
    if len(seps) < 2:
        seps = list(re.finditer("[|｜]", line))
    if len(seps) < 2:
        return None
    cells = []
    start = 0
    for m in seps + [None]:
        end = m.start() if m else len(line)
        a, b = start, end
        while a < b and line[a] in _SPACE:
            a += 1
        while b > a and line[b - 1] in _SPACE:
            b -= 1
        cells.append((line_start + a, line_start + b))
        start = m.end() if m else len(line)
    # "| a | b |": the outer bars open and close the row, they bound no cell
    if line.lstrip(_SPACE)[:1] in "|｜" and cells[0][0] == cells[0][1]:
        cells = cells[1:]
    if line.rstrip(_SPACE)[-1:] in "|｜" and cells and cells[-1][0] == cells[-1][1]:
        cells = cells[:-1]
    return cells if len(cells) >= 3 else None


def split_paragraphs(text: str) -> list[Paragraph]:
    """Cut the text into paragraphs with their offsets (leading and trailing spaces dropped)."""
    return list(_paragraphs(text))


@lru_cache(maxsize=2)
def _paragraphs(text: str) -> tuple[Paragraph, ...]:
    """split_paragraphs, kept for the last texts: the structure and the quality report both cut the same
    document (nothing changes a Paragraph once made)."""
    return tuple(_split_paragraphs(text))


def _split_paragraphs(text: str) -> list[Paragraph]:
    out: list[Paragraph] = []
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    blank = True
    last: dict[str, int] = {}  # the last value of each kind of marker: a run-on item continues one
    header_tabs = 0  # the tabs of the task-table header above: a row with fewer was broken over lines
    i = 0
    while i < len(lines):
        line, line_start = lines[i], starts[i]
        i += 1
        stripped = line.strip(_SPACE)
        if not stripped:
            blank = True
            continue
        first = line_start + (len(line) - len(line.lstrip(_SPACE)))
        if 0 < line.count("\t") < header_tabs:
            j = _row_end(lines, i - 1, header_tabs)
            if j is not None:  # a cell wrapped onto the next line(s) (a PDF's table): one row
                end = starts[j] + len(lines[j].rstrip(_SPACE))
                cells = _row_cells(text[line_start:end], line_start)
                out.append(Paragraph(first, end, text[first:end], blank, cells))
                blank, i = False, j + 1
                continue
        cells = _row_cells(line, line_start)
        if cells is not None:  # a table row is one paragraph however long
            para = Paragraph(first, first + len(stripped), stripped, blank, cells)
            if "\t" in line and _is_task_header(cell_texts(para)):
                header_tabs = line.count("\t")
            out.append(para)
            blank = False
            continue
        header_tabs = 0
        pieces = _split_long_line(stripped) if len(stripped) > _LONG_LINE else [(0, len(stripped))]
        pieces = [cut for a, b in pieces for cut in _split_run_on(stripped, a, b, last)]
        for k, (a, b) in enumerate(pieces):
            piece = stripped[a:b]
            out.append(Paragraph(first + a, first + b, piece, blank or k > 0))
        blank = False
    return out


def _row_end(lines: list[str], i: int, tabs: int) -> int | None:
    """The last line of a task-table row that starts on line i and was broken over lines:
    the lines (no blank one, at most six) whose tabs add up to the header's."""
    count = 0
    for j in range(i, min(i + 6, len(lines))):
        if j > i and (not lines[j].strip(_SPACE) or match_marker(lines[j].strip(_SPACE))):
            return None
        count += lines[j].count("\t")
        if count == tabs:
            return j if j > i else None
        if count > tabs:
            return None
    return None


_RUN_ON = re.compile(r"(?<=[。！!？?)）])[ \u3000]*(?=[(（]?[一二三四五六七八九十\d]{1,3}[)）、.．]|第[一二三四五六七八九十百\d]{1,4}[条章])")
_RUN_ON_KINDS = {"chapter", "article", "cn", "paren_cn", "arabic", "paren_arabic"}
# a heading run on with its first item: "一、重点任务(一)提升…"
_FIRST_CHILD = re.compile(r"[(（]\s*一\s*[)）]|(?<![\d.])1\s*[.．、]|[(（]\s*1\s*[)）]")


def _split_run_on(line: str, a: int, b: int, last: dict[str, int]) -> list[tuple[int, int]]:
    """Items run together on one line (text taken from a PDF): a new item starts after a
    sentence's end (or a closing bracket) where the next marker of a numbering stands ("…工作。
    (二)加强…" after (一)), and a short heading's first item starts right after it. A first
    item (1.) after a sentence starts one only in a run-on line (longer than a paragraph), so
    "包括以下内容。1.专利" inside an item stays its text. `last` holds each kind's last value."""
    cuts: list[tuple[int, int]] = []
    start = a
    for point in [m.start() for m in _RUN_ON.finditer(line, a, b)] + [b]:
        end = point
        while point < b and line[point] in " \u3000":
            point += 1
        pieces = _split_heading(line, start, end)
        seen = dict(last)  # the markers of the text so far, this segment's included
        for x, y in pieces:
            head = match_marker(line[x:y])
            if head:
                seen[head[0]] = head[1]
        found = match_marker(line[point:b]) if point < b else None
        follows = found is not None and found[0] in _RUN_ON_KINDS and (
            found[1] == seen.get(found[0], 0) + 1 if found[1] > 1 else b - a > _LONG_LINE)
        if point == b or follows and end > start:
            cuts.extend(pieces)
            last.clear()
            last.update(seen)
            start = point
    return cuts


def _split_heading(line: str, a: int, b: int) -> list[tuple[int, int]]:
    head = match_marker(line[a:b])
    if head:
        child = _FIRST_CHILD.search(line, a + len(head[2]), min(b, a + len(head[2]) + 30))
        if child and not re.search(r"[。;；,，:：!！?？“”\"《(（]", line[a + len(head[2]):child.start()]) \
                and match_marker(line[child.start():b]):
            return [(a, child.start()), (child.start(), b)]
    return [(a, b)]


def _split_long_line(line: str) -> list[tuple[int, int]]:
    cuts: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(f"[{_SPACE}]+", line):
        before = line[m.start() - 1] if m.start() > 0 else ""
        after = line[m.end()] if m.end() < len(line) else ""
        if not before or not after:
            continue
        left_ok = is_cjk(before) or before in _BREAK_BEFORE
        right_ok = is_cjk(after) or after.isdigit() or after in _BREAK_AFTER
        if left_ok and right_ok:
            cuts.append((start, m.start()))
            start = m.end()
    cuts.append((start, len(line)))
    return [(a, b) for a, b in cuts if b > a]


# ---------------------------------------------------------------- markers

_N = f"[{CN_NUMERAL}]+"
MARKERS: list[tuple[str, re.Pattern[str]]] = [
    ("chapter", re.compile(rf"^第\s*({_N}|\d+)\s*[章节]\s*")),
    ("part", re.compile(rf"^第\s*({_N}|\d+)\s*部分\s*")),
    ("article", re.compile(rf"^第\s*({_N}|\d+)\s*条\s*")),
    ("cn", re.compile(rf"^({_N})\s*[、.．]\s*")),
    ("paren_cn", re.compile(rf"^[(（]\s*({_N})\s*[)）]\s*[、.．]?\s*")),
    ("arabic", re.compile(r"^(\d{1,3})\s*(?:[.．、]|\s)(?![\d.％%])\s*")),
    ("paren_arabic", re.compile(r"^[(（]\s*(\d{1,3})\s*[)）]\s*")),
    ("circled", re.compile(r"^([①-⑳])\s*")),
]
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
# the first characters MARKERS can start with (第, a numeral, a bracket, a digit, a circled number)
_MARKER_START = re.compile(rf"[第{CN_NUMERAL}(（\d①-⑳]")
_FOOTNOTE = re.compile(r"^[①-⑳][^。:：,，]{1,20}[:：]")
_BOX = re.compile(r"^专栏\s*[\d一二三四五六七八九十]+")
_TABLE = re.compile(r"^(?:附)?表\s*\d+")
_NOTE = re.compile(r"^注\s*[:：]")
# Page furniture saved along with the text: it ends whatever item stands before it.
_CHROME = re.compile(
    r"^(?:扫一扫|扫描二维码|主题词|抄送|文件链接|相关链接|相关文件|附件\s*[:：]|https?://|www\.|打印本页|关闭窗口|"
    r"【[^】]{0,6}】$|分享到|责任编辑|来源\s*[:：]|.{0,12}政府网站$|.{0,20}收集整理|.{0,16}(?:政府系统网站|网站地图)$)"
)
_TERMINAL = set("。;；!！?？)）]】")
_PAGE_NUMBER = re.compile(r"^(?:[-—–－]+\s*\d{1,3}\s*[-—–－]+|\d{1,3}|第\s*\d{1,3}\s*页(?:\s*[/,，]?\s*共\s*\d{1,3}\s*页)?)$")

# Titles of parts that hold background, principles or goals, not measures (GOLD_SPEC: Measures).
NON_TASK_TITLE = re.compile(
    r"^(?:总体要求|指导思想|基本原则|指导原则|工作原则|主要原则|主要目标|发展目标|工作目标|总体目标|具体目标|"
    r"规划背景|发展现状|发展机遇|发展基础|发展环境|发展形势|面临形势|形势分析|现状与形势|重要意义|背景|"
    r"总则|附则|目标要求|基本情况|发展成就|存在问题|面临的形势|"
    # a preface numbered like tasks (一、序言 1. … 2. …) and the overall approach: no work assigned
    r"序言|前言|引言|导言|总体思路|总体考虑|总体部署)"
)


# Articles (第X条) of a 办法/条例 that assign no work: purpose, scope, definitions, who
# interprets it, when it takes effect, what it repeals.
_INSTRUMENT = r"(?:办法|条例|规定|细则|规则|意见|方案|决定|制度|规范)"
FORMAL_ARTICLE = re.compile(
    rf"^(?:为了?[^。]{{0,120}}(?:制定|制订)本{_INSTRUMENT}|本{_INSTRUMENT}(?:适用于|所称|所指|中的?[^。]{{0,30}}(?:是指(?!导)|包括)|"
    rf"由[^。]{{0,40}}(?:负责)?解释|自[^。]{{0,30}}(?:施行|实施)|(?:的)?(?:有效期|施行日期))|[^。]{{0,40}}(?:是指|指的是)(?!导|挥|定|出|示|明|引|派)|"
    rf"[^。]{{0,60}}(?:同时废止|不再执行)|本{_INSTRUMENT}[^。]{{0,30}}起(?:施行|实施))"
)


@dataclass
class Item:
    kind: str
    value: int
    printed: str
    head: Paragraph  # the paragraph that carries the marker
    body: list[Paragraph] = field(default_factory=list)
    children: list[Item] = field(default_factory=list)
    parent: Item | None = None
    toc: bool = False
    has_rows: bool = False  # a task table stands under it: its rows are the measures

    @property
    def head_text(self) -> str:
        return self.head.text[len(self.printed):].strip(_SPACE)

    def key(self) -> tuple:
        chain = []
        node: Item | None = self
        while node is not None:
            chain.append((node.kind, node.value, _compact(node.head_text)[:40]))
            node = node.parent
        return tuple(chain)


def _compact(text: str) -> str:
    return _WS.sub("", text)


def match_marker(text: str) -> tuple[str, int, str] | None:
    """(kind, value, printed marker) when the paragraph starts with a numbering marker."""
    if not _MARKER_START.match(text):  # most lines: no marker can start with their first character
        return None
    # the structure, the run-on split and the quality report ask about the same lines again; only
    # short ones are kept, so the cache holds at most 8192 × _CACHED_LINE characters
    return _cached_marker(text) if len(text) <= _CACHED_LINE else _match_marker(text)


_CACHED_LINE = 240


@lru_cache(maxsize=8192)
def _cached_marker(text: str) -> tuple[str, int, str] | None:
    return _match_marker(text)


def _match_marker(text: str) -> tuple[str, int, str] | None:
    if _FOOTNOTE.match(text):
        return None
    for kind, pattern in MARKERS:
        m = pattern.match(text)
        if not m:
            continue
        raw = m.group(1)
        value = _CIRCLED.index(raw) + 1 if kind == "circled" else cn_to_int(raw)
        if value is None or value == 0:
            continue
        after = text[m.end():m.end() + 1]  # the character after the marker (not a copy of the rest)
        if not after or not (is_cjk(after) or after in "“\"《〈(（【[" or after.isalpha()):
            continue  # "2. 5%" or a bare number is no marker
        if kind == "arabic" and value > 300:
            continue
        return kind, value, text[: m.end()]
    return None


# ---------------------------------------------------------------- task tables

# The columns of a task table, by their header (GOLD_SPEC: each task row is a measure).
_COL_NUMBER = re.compile(r"^(?:序号|编号|序|号|排序)$")
_COL_ROLE = re.compile(r"^(?:牵头|主责|责任|配合|参与|协办|协同|实施|承办|主办)(?:单位|部门|处室|机构)?$|^(?:责任|牵头)(?:单位|部门)")
_COL_TIME = re.compile(r"时限|时间|进度|期限|节点|完成年份")
_COL_TASK = re.compile(r"任务|内容|措施|事项|工作|举措|要求|目标|成果|项目|重点")
# a column that groups rows (often a merged cell printed once): a section, not the task
_COL_GROUP = re.compile(r"^(?:工作重点|重点领域|领域|类别|分类|板块|方面|任务类别|工作类别|项目类别|一级任务|工作板块)$")


@dataclass
class TableRow:
    para: Paragraph
    header: list[str]  # the column names of the table's header row
    parent: Item | None  # the numbered item the table stands under


def cell_texts(para: Paragraph) -> list[str]:
    """The text of each cell of a table-row paragraph ("" for an empty cell)."""
    out = []
    for a, b in para.cells or []:
        a, b = max(a, para.start), max(b, para.start)
        out.append(para.text[a - para.start:b - para.start])
    return out


def _is_task_header(cells: list[str]) -> bool:
    """A header row of a task table: short column names, one for the work and one for who does it."""
    names = [c for c in cells if c]
    if len(names) < 3 or any(len(c) > 20 or re.search(r"[。，,;；、:：]", c) for c in names):
        return False
    roles = [c for c in names if _COL_ROLE.match(c)]
    return bool(roles) and any(_COL_TASK.search(c) and c not in roles for c in names)


def _row_measure(row: TableRow, text: str, ordinal: int) -> Measure | None:
    """A task row as a measure: its text from the first task cell on, its title that cell,
    and the role columns as its assignment span (extract/agencies reads the trailing cells)."""
    cells = row.para.cells or []
    texts = cell_texts(row.para)
    # a row with fewer cells than the header lost empty ones (merged cells, an HTML reader that
    # collapses them): they are on the left, where 序号 and group columns stand
    header = row.header[len(row.header) - len(cells):] if len(cells) < len(row.header) else \
        row.header + [""] * (len(cells) - len(row.header))
    number_value: int | None = None
    task_cells: list[int] = []
    role_cells: list[int] = []
    for i, (name, value) in enumerate(zip(header, texts, strict=False)):
        if _COL_NUMBER.match(name):
            number_value = cn_to_int(value.strip("()（）.、")) if value else None
        elif _COL_ROLE.match(name):
            if value:
                role_cells.append(i)
        elif value and not _COL_TIME.search(name):
            task_cells.append(i)
    if any(not _COL_GROUP.match(header[i]) for i in task_cells):
        task_cells = [i for i in task_cells if not _COL_GROUP.match(header[i])]
    elif any(_COL_TASK.search(h) and not _COL_GROUP.match(h) and not _COL_ROLE.match(h) for h in header):
        return None  # only the group cell is filled: a group's heading row
    if not task_cells:
        return None
    first = cells[task_cells[0]][0]
    end = row.para.end
    section = _section_number(row.parent) if row.parent else None
    number = str(number_value or ordinal)
    assignment = None
    if role_cells:
        a, b = cells[role_cells[0]][0], cells[role_cells[-1]][1]
        assignment = Span(a, b, text[a:b])
    title = re.sub(r"\s*\n\s*", "", texts[task_cells[0]]) if len(task_cells) > 1 else None  # a wrapped cell is one line
    return Measure(
        number=f"{section}.{number}" if section else number,
        printed=texts[header.index(next(h for h in header if _COL_NUMBER.match(h)))] if number_value else "",
        text=text[first:end],
        span=Span(row.para.start, end, text[row.para.start:end]),
        section=section,
        title=title.rstrip("。") if title else None,
        assignment=assignment,
    )


def _task_key(text: str) -> str:
    return re.sub(r"[\s。;；,，、:：“”\"]", "", text)[:15]


def _new_tasks(rows: list[Measure], items: list[Measure]) -> list[Measure]:
    """The rows that are tasks of their own. A table that repeats numbered items of the text
    (an attached 任务分工表) adds no measures: its role cells become the assignment of the
    item it repeats, where that item states none."""
    out = []
    for row in rows:
        key = _task_key(row.title or row.text)[:8]  # the row's task, as the item it repeats starts
        same = next((m for m in items if len(key) >= 6 and (_task_key(m.text).startswith(key)
                                                               or _task_key(m.title or "").startswith(key))), None)
        if same is None:
            out.append(row)
        elif same.assignment is None:
            same.assignment = row.assignment
    return out


def table_measures(rows: list[TableRow], text: str) -> list[Measure]:
    """The measures of the task tables, rows under background or goal parts left out."""
    out: list[Measure] = []
    for row in rows:
        if row.parent is not None and _is_non_task(row.parent):
            continue
        measure = _row_measure(row, text, len(out) + 1)
        if measure is not None:
            out.append(measure)
    return out


# ---------------------------------------------------------------- tree


def build_items(paragraphs: list[Paragraph], tables: list[list[Paragraph]] | None = None,
                rows: list[TableRow] | None = None) -> tuple[list[Item], list[Paragraph]]:
    """Nest numbered items; return the top items and the paragraphs before the first item.

    Paragraphs of tables (a 表N title and the rows after it) are appended to `tables`; the rows
    of task tables (a header naming the work and who does it) to `rows`.
    """
    tables = tables if tables is not None else []
    rows = rows if rows is not None else []
    table: list[Paragraph] | None = None
    task_header: list[str] | None = None
    roots: list[Item] = []
    preamble: list[Paragraph] = []
    stack: list[Item] = []
    kind_order: list[str] = []
    sink: list[Paragraph] | None = preamble  # where unnumbered paragraphs go now
    in_body = True  # no page furniture (附件, 抄送 …) since the last item
    row_table = False  # the open table was recognised by its rows (no 表N title)
    for para in paragraphs:
        if _PAGE_NUMBER.match(para.text):
            continue  # a PDF page number: the item before it goes on after it
        if para.cells is not None:
            cells = cell_texts(para)
            if all(re.fullmatch(r"[-—:：\s]*", c) for c in cells):
                continue  # a ruling line (|---|---|) between a header and its rows
            if _is_task_header(cells):  # (a header repeated on each page starts the same table again)
                task_header, table, sink = cells, None, None
                continue
            if task_header is not None:  # a row: numbered or not, it is not a heading of the text
                parent = stack[-1] if stack and in_body else None  # an attached table (附件) stands outside the items
                rows.append(TableRow(para, task_header, parent))
                if parent is not None:
                    parent.has_rows = True
                continue
            if table is not None:  # a row of the 表N table above, whatever its first cell reads like
                table.append(para)
                continue
            if any(re.fullmatch(r"20\d\d\s*年?(?:目标值?|预期值?|底)?", c) for c in cells):
                # an indicator table without a 表N title (a header row of years): the targets read it
                table, sink, row_table = [para, para], None, True
                tables.append(table)
                continue
            if sink is not preamble:
                sink = None  # the rows of another table are not measure text
        elif row_table and table is not None:
            # the text after a table of rows goes on with the item it stands in
            table, row_table = None, False
            sink = stack[-1].body if stack and in_body else sink
        task_header = None
        if _FOOTNOTE.match(para.text) or _CHROME.match(para.text):
            if _CHROME.match(para.text):
                sink, in_body = None, False
            continue
        if _BOX.match(para.text) or _TABLE.match(para.text) or _NOTE.match(para.text):
            sink = None  # a box, table or note: its lines are not measure text
            table = [para] if _TABLE.match(para.text) else None
            if table is not None:
                tables.append(table)
            continue
        found = match_marker(para.text)
        if found is None and table is not None:
            table.append(para)
            continue
        table = None
        if found is None:
            if sink is not None:
                if sink and stack and sink is stack[-1].body and _looks_like_furniture(stack[-1], para):
                    sink = None
                    continue
                sink.append(para)
            continue
        kind, value, printed = found
        if kind == "circled" and "circled" not in kind_order and not stack:
            if sink is not None:
                sink.append(para)
            continue
        if kind not in kind_order:
            # a kind met for the first time nests below the current item
            kind_order = [k for k in kind_order if k in {i.kind for i in stack}] + [kind]
        while stack and kind_order.index(stack[-1].kind) >= kind_order.index(kind):
            stack.pop()
        in_body = True
        item = Item(kind, value, printed, para, parent=stack[-1] if stack else None)
        (stack[-1].children if stack else roots).append(item)
        stack.append(item)
        sink = item.body
    _mark_toc(roots)
    return roots, preamble


def _looks_like_furniture(item: Item, para: Paragraph) -> bool:
    """A short unpunctuated line after a finished item: a signature, a site name, a date."""
    last = (item.body[-1] if item.body else item.head).text
    if not last or last[-1] not in _TERMINAL:
        return False
    if DATE_ONLY.match(para.text):
        return True
    return len(para.text) < 30 and not re.search(r"[。,，;；:：、]", para.text)


def _walk(items: list[Item]):
    for item in items:
        yield item
        yield from _walk(item.children)


def _mark_toc(roots: list[Item]) -> None:
    """Headings that appear twice with the same chain of titles: the first is a table of contents."""
    last_seen: dict[tuple, Item] = {}
    for item in _walk(roots):
        key = item.key()
        if key in last_seen:
            last_seen[key].toc = True
        last_seen[key] = item


def _prune_toc(items: list[Item]) -> list[Item]:
    kept = []
    for item in items:
        if item.toc:
            continue
        item.children = _prune_toc(item.children)
        kept.append(item)
    return kept


# ---------------------------------------------------------------- measures


def _join(paragraphs: list[Paragraph]) -> str:
    """Join paragraphs: hard-wrapped lines with nothing, real paragraph breaks with a newline."""
    out = ""
    for i, para in enumerate(paragraphs):
        if i == 0:
            out = para.text
            continue
        prev = paragraphs[i - 1].text
        wrapped = not para.blank_before and prev and prev[-1] not in _TERMINAL and prev[-1] not in ":："
        out += ("" if wrapped else "\n") + para.text
    return out


# a short heading that ends like a look back: "“十三五”时期知识产权工作回顾", "面临的机遇与挑战"
PAST_TITLE_END = re.compile(r"(?:回顾|发展现状|基本现状|现状分析|面临形势|发展形势|发展基础|工作基础|主要成效|取得的成效|"
                            r"发展成就|机遇与挑战|机遇和挑战|面临的挑战)[。]?$")


_TASK_WORDS = re.compile(r"任务|措施|举措|重点工作|工作重点|行动|工程")


def _looks_back(title: str) -> bool:
    return len(title) <= 24 and not re.search(r"[,，;；]", title) and bool(PAST_TITLE_END.search(title))


# an article that gives a body work: "市知识产权局负责…", "各区人民政府应当…", "市财政局会同…"
_GIVES_WORK = re.compile(r"(?:政府|局|委|厅|办|部门|中心|院|部)[^。;；]{0,12}?(?:负责|会同|牵头|应当|承担|主管|组织实施)")


def _general_article_with_work(item: Item, parts: list[Paragraph]) -> bool:
    """An article under 总则 that gives a body work (第三条 市知识产权局负责全市专利工作) is a
    measure; the chapter's principles and purpose are not (GOLD_SPEC: articles that assign work)."""
    if item.kind != "article" or item.parent is None or not _compact(item.parent.head_text).startswith("总则"):
        return False
    return bool(_GIVES_WORK.search(_join(parts)[len(item.printed):]))


def _is_non_task(item: Item) -> bool:
    node: Item | None = item
    while node is not None:
        title = _compact(node.head_text)
        # "工作目标和重点任务" holds tasks: a title that also names the work is a task part
        if (NON_TASK_TITLE.match(title) and not _TASK_WORDS.search(title)) or _looks_back(title):
            return True
        node = node.parent
    return False


def _lead_phrase(first: str, separate_heading: bool) -> str | None:
    if separate_heading:
        return first.rstrip("。.;；") or None
    m = re.match(r"^([^。;；!！?？]{2,40})[。]", first)
    if not m:
        return None
    # a lead phrase is followed by body text, not only by the assignment clause "(X负责)"
    rest = re.sub(r"[(（\[【][^()（）\[\]【】]*(?:[(（][^()（）]*[)）][^()（）\[\]【】]*)*[)）\]】]\s*$", "", first[m.end():])
    return m.group(1) if len(rest.strip()) >= 4 else None


def _number_paths(item: Item) -> list[int]:
    path = []
    node: Item | None = item
    while node is not None:
        path.append(node.value)
        node = node.parent
    return path[::-1]


def _section_number(item: Item) -> str:
    return ".".join(str(v) for v in _number_paths(item))


def collect_measures(roots: list[Item], text: str) -> tuple[list[Section], list[Measure]]:
    measures: list[tuple[Item, Measure]] = []
    sections: dict[str, Section] = {}
    for item in _walk(roots):
        if item.children or item.has_rows or item.kind == "circled" and item.parent is None:
            continue
        parts = [item.head] + item.body
        if _is_non_task(item) and not _general_article_with_work(item, parts):
            continue
        if item.kind == "article" and FORMAL_ARTICLE.match(_compact(_join(parts)[len(item.printed):])):
            continue
        body_text = _join(parts)[len(item.printed):].strip(_SPACE)
        if not item.body and len(_compact(item.head_text)) < 8:
            continue  # a bare heading with nothing under it
        start, end = item.head.start, parts[-1].end
        wrapped = bool(item.body) and not item.body[0].blank_before and item.head_text[-1:] not in _TERMINAL
        separate = bool(item.body) and not wrapped and len(item.head_text) <= 40 and item.head_text[-1:] not in "。;；"
        measure = Measure(
            number="",
            printed=item.printed.strip(_SPACE),
            text=body_text,
            span=Span(start, end, text[start:end]),
            section=_section_number(item.parent) if item.parent else None,
            title=_lead_phrase(item.head_text if separate else body_text, separate),
        )
        measures.append((item, measure))
        node = item.parent
        while node is not None:
            number = _section_number(node)
            if number not in sections:
                sections[number] = Section(
                    number=number,
                    printed=node.printed.strip(_SPACE),
                    title=node.head_text.rstrip("。"),
                    depth=len(_number_paths(node)),
                    span=Span(node.head.start, node.head.end, node.head.text),
                    parent=_section_number(node.parent) if node.parent else None,
                )
            node = node.parent
    _assign_numbers(measures)
    ordered_sections = sorted(sections.values(), key=lambda s: s.span.start)
    return ordered_sections, [m for _, m in measures]


def _assign_numbers(measures: list[tuple[Item, Measure]]) -> None:
    """Plain numbers for the main kind of item when they are unique; qualified paths otherwise."""
    by_kind: dict[str, list[tuple[Item, Measure]]] = {}
    for item, measure in measures:
        by_kind.setdefault(item.kind, []).append((item, measure))
    main_kind = max(by_kind, key=lambda k: len(by_kind[k])) if by_kind else None
    for kind, group in by_kind.items():
        plain = [str(item.value) for item, _ in group]
        unique = len(set(plain)) == len(plain)
        for item, measure in group:
            measure.number = str(item.value) if kind == main_kind and unique else _section_number(item)
    _unique_numbers([m for _, m in measures])


def _unique_numbers(measures: list[Measure]) -> None:
    seen: dict[str, int] = {}
    for measure in measures:  # never two measures with one number
        if measure.number in seen:
            seen[measure.number] += 1
            measure.number = f"{measure.number}-{seen[measure.number]}"
        else:
            seen[measure.number] = 1


# ---------------------------------------------------------------- metadata

# Header labels governments and law databases print (portal tables, 【label】 blocks, wiki
# infoboxes); the value stands after a colon, after the bracket, or on the next line.
_HEADER_KEYS = {
    "title": r"名\s*称|标\s*题|文件名称|文章标题|法规名称",
    "doc_number": r"文\s*号|发文字号|发布文号|发文号|文件编号",
    "issuer": r"发文机构|发布机构|发文机关|发布机关|发布单位|发文单位|发布部门|颁布单位|制定机关|来\s*源",
    "date_signed": r"成文日期|印发日期|签发日期|签署日期|(?<![\u4e00-\u9fff])日\s*期",  # a wiki's bare 日期 is the document's
    "date_published": r"发布日期|发布时间|发文时间|发文日期|公开日期|公布日期|颁布日期",
}
_KEY = "|".join(f"(?:{v})" for v in _HEADER_KEYS.values())
_VALUE_END = r"(?=[|｜【\[]|\s{2,}|$|\s+\S{2,6}[:：])"
_HEADER = re.compile(rf"(?P<key>{_KEY})\s*[:：]\s*(?P<value>[^|｜\n]*?)\s*{_VALUE_END}")
_BRACKET_HEADER = re.compile(rf"[【\[]\s*(?P<key>{_KEY})\s*[】\]]\s*[:：]?\s*(?P<value>[^|｜\n【\[]*?)\s*{_VALUE_END}")
_LABEL_LINE = re.compile(rf"[【\[]?(?P<key>{_KEY})[】\]]?[:：]?")
DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,10}[〔\[【(（]\s*(?:19|20)\d{2}\s*[〕\]】)）]\s*第?\s*\d{1,4}\s*号")
# A body's name ends like this (signature lines, lists of issuers)
_BODY_END = r"(?:政府|办公厅|办公室|委员会|局|部|委|院|厅|署|中心|小组|办|联合会|协会|行|会)"
_NOTICE_TAIL = r"的?(?:通知|通告|批复|决定)"
NOTICE = re.compile(rf"^(?P<issuer>.{{0,40}}?)关于(?P<verb>印发|转发|发布|公布)?(?P<body>.+?){_NOTICE_TAIL}$")
# "广州市人民政府办公厅印发X的通知": the same notice written without 关于
NOTICE_BARE = re.compile(rf"^(?P<issuer>.{{2,40}}?{_BODY_END})(?P<verb>印发|转发|发布|公布)(?P<body>.+?)的?(?:通知|通告)$")
DOC_TYPES = ("实施方案", "工作方案", "行动方案", "推进计划", "行动计划", "工作计划", "任务分工", "工作要点", "实施意见",
             "指导意见", "若干意见", "若干措施", "实施细则", "管理办法", "实施办法", "规划纲要", "战略纲要", "分工方案",
             "分解方案", "规划", "纲要", "方案", "计划", "意见", "办法", "措施", "细则", "规定", "条例", "决定", "通知",
             "要点", "指南", "指引", "规则", "清单", "分工", "政策", "公告", "通告", "批复")
# the kind a title names, where it differs from the title's last words (GOLD_SPEC doc_type)
_DOC_TYPE_OF = {"规划纲要": "纲要", "战略纲要": "纲要", "分工方案": "任务分工", "分解方案": "任务分工"}
_PLACE = re.compile(
    r"^(?:中国|中华人民共和国)?(?P<prov>[\u4e00-\u9fff]{2,7}?(?:省|自治区))?(?P<city>[\u4e00-\u9fff]{2,6}?市)?"
    r"(?P<dist>[\u4e00-\u9fff]{2,5}?(?:新区|区|县|旗))?"
)
_TITLE_NOISE = re.compile(r"[:：|｜]|发布|日期|栏目|当前位置|首页|^附件\s*[\d一二三四五六七八九十]*$")


def _header_piece(text: str) -> bool:
    """A header line, never part of a title: a label, a date, a 文号, a code."""
    compact = _compact(text)
    return bool(_HEADER.search(text) or _BRACKET_HEADER.search(text) or _LABEL_LINE.fullmatch(compact)
                or _RED_HEADER.match(compact)
                or re.fullmatch(r"[\d\-./:：年月日()（）]+", compact) or _doc_number_line(text))


def notice_match(title: str) -> re.Match[str] | None:
    """The parts (issuer, verb, body) of a notice title, with or without 关于."""
    return NOTICE.match(title) or NOTICE_BARE.match(title)


def real_date(value: str) -> str | None:
    """A date from a header value; placeholders (0000-00-00, 1900-01-01, 1970-01-01) are no date."""
    iso = parse_date(value)
    if iso is None or iso[:4] < "1949" or iso == "1970-01-01":
        return None
    return iso


def _header_key(label: str) -> str | None:
    return next((k for k, v in _HEADER_KEYS.items() if re.fullmatch(v, _WS.sub("", label))), None)


def _header_fields(paragraphs: list[Paragraph]) -> dict[str, str]:
    fields: dict[str, str] = {}

    def put(label: str, value: str) -> None:
        key, value = _header_key(label), value.strip(_SPACE)
        if key and value and key not in fields:
            fields[key] = value

    head = paragraphs[:40]
    for i, para in enumerate(head):
        for pattern in (_BRACKET_HEADER, _HEADER):
            for m in pattern.finditer(para.text):
                put(m.group("key"), m.group("value"))
        # a label alone on its line: the value is the next line (portal tables copied cell by cell)
        label = _LABEL_LINE.fullmatch(_compact(para.text))
        if label and i + 1 < len(head):
            nxt = head[i + 1].text
            if not _LABEL_LINE.fullmatch(_compact(nxt)) and not _HEADER.search(nxt) and len(nxt) <= 80:
                put(label.group("key"), nxt)
    return fields


def _doc_number_line(text: str) -> tuple[str, str | None] | None:
    """A line that is a 文号, maybe in brackets or followed by the date: (number, ISO date)."""
    line = _compact(text).strip("()（）[]")
    m = DOC_NUMBER.match(line)
    if not m:
        return None
    rest = line[m.end():]
    if not rest:
        return m.group(0), None
    return (m.group(0), parse_date(rest)) if DATE_ONLY.match(rest) else None


def _notice_title(paragraphs: list[Paragraph], header: dict[str, str]) -> tuple[str | None, Span | None, str | None]:
    """The notice's title, where it stands, and a 文号 printed after it in brackets."""
    candidates: list[tuple[str, Span | None, str | None]] = []
    if "title" in header and notice_match(_compact(header["title"])):
        candidates.append((_compact(header["title"]), None, None))
    for i, para in enumerate(paragraphs[:40]):
        joined = ""
        for j in range(i, min(i + 4, len(paragraphs))):  # a title broken over up to four lines
            piece = paragraphs[j].text
            if len(piece) > 80 or re.search(r"[。;；,，]", piece) or _header_piece(piece):
                break
            joined += _compact(piece)
            # "关于印发X的通知(沪府办发〔2031〕5号)": the number printed after the title
            number = _TRAILING_NUMBER.search(joined)
            bare = joined[:number.start()] if number else joined
            if notice_match(bare):
                span = Span(para.start, paragraphs[j].end, bare)
                candidates.append((bare, span, number.group("n") if number else None))
                break
    return candidates[0] if candidates else (None, None, None)


_TRAILING_NUMBER = re.compile(rf"[(（](?P<n>{DOC_NUMBER.pattern})[)）]$")


def _unwrap(title: str) -> str:
    """The plan inside a forwarded notice: 《国务院办公厅关于印发X的通知》 hands on X."""
    for _ in range(3):
        n = notice_match(_strip_brackets(title))
        if not (n and n.group("verb")):
            break
        title = _strip_brackets(n.group("body"))
    return title


def _strip_brackets(title: str) -> str:
    title = title.strip()
    if title.startswith("《") and title.endswith("》"):
        title = title[1:-1]
    return title.replace("〈", "《").replace("〉", "》") if title.count("〈") == 1 and "《" not in title else title


_DATE = r"(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}-\d{1,2}-\d{1,2})"
_QUOTED = r"《(?P<title>(?:[^《》]|《[^《》]*》)+)》"
# A repost without the notice: "X于2022年7月7日印发《Y》,全文如下"
REPOST = re.compile(
    rf"(?:^|(?<=[。;；\n]))\s*(?P<issuer>[^,，。;；:：\n《》]{{2,60}}?)\s*(?:于|在)\s*(?P<date>{_DATE})\s*"
    rf"(?:正式|联合)?(?:印发|发布|公布|出台)(?:了)?\s*{_QUOTED}(?P<tail>\s*[,，:：]?\s*(?:全文|原文|具体内容|内容)?如下)?"
)


def find_repost(text: str, paragraphs: list[Paragraph]) -> re.Match[str] | None:
    """The sentence a repost opens with ("X于DATE印发《Y》,全文如下"): followed by 如下, or among
    the first lines — never a sentence of the body that tells what was issued before."""
    lead_end = paragraphs[min(2, len(paragraphs) - 1)].end if paragraphs else 0
    for m in REPOST.finditer(text):
        if m.group("tail") or m.start() < lead_end:
            return m
    return None
# The plan a notice hands on: "现将《X》印发给你们", "《X》已经…同意,现印发给你们", "联合制定了《X》,现印发"
_HANDED_ON = [
    re.compile(rf"现将\s*{_QUOTED}\s*(?:\S{{0,8}})?(?:印发|转发|发布|发给|予以印发)"),
    re.compile(rf"{_QUOTED}[^。《》]{{0,40}}?(?:(?:现予以|现予|现)(?:印发|转发|发布|公布)|予以印发|特此印发)"),
]


def _title(paragraphs: list[Paragraph], text: str, notice: str | None, first_item: int,
           header_title: str | None = None, limit: int = 6000) -> tuple[str | None, Span | None]:
    # 1. a notice that hands the plan on names it: 现将《X》印发给你们; a repost: X于…印发《Y》
    head = text[:limit]
    found = [m for m in [p.search(head) for p in _HANDED_ON] + [find_repost(head, paragraphs)] if m]
    if found:
        m = min(found, key=lambda x: x.start("title"))
        title = _WS.sub("", m.group("title"))
        inner = _unwrap(title)
        if inner != title:
            return inner, None
        return title, Span(m.start("title"), m.end("title"), m.group("title"))
    # 2. the notice's own title: 关于印发X的通知
    if notice:
        n = notice_match(notice)
        if n and n.group("verb"):
            return _unwrap(_strip_brackets(n.group("body"))), None
    # 3. the first heading-like line(s) before the body that end with a document type
    limit = min(first_item, 60)
    for i in range(limit):
        joined = ""
        for j in range(i, min(i + 3, limit)):
            piece = paragraphs[j].text
            issuers_above = (_bodies_line(piece) and not piece.startswith("关于") and j + 1 < len(paragraphs)
                             and paragraphs[j + 1].text.startswith("关于"))  # 中共X市委宣传部 over 关于…的意见
            if (len(piece) > 60 or re.search(r"[。;；,，]", piece) or _TITLE_NOISE.search(piece)
                    or len(_bodies_line(piece)) > 1 or _header_piece(piece) or issuers_above):
                break
            joined += _compact(piece)
            bare = _strip_brackets(joined)  # a title printed in 《》 on its own line
            if bare.endswith(DOC_TYPES) or re.search(r"(?:" + "|".join(DOC_TYPES) + r")[(（][^)）]{2,16}[)）]$", bare):
                return bare, Span(paragraphs[i].start, paragraphs[j].end, text[paragraphs[i].start:paragraphs[j].end])
    # 4. the header's title, when it is not the notice (a portal page of the plan itself; a .docx's
    #    core title, which may be a template's, only when the text shows none)
    if header_title and not notice_match(_compact(header_title)):
        return _strip_brackets(_compact(header_title)), None
    return None, None


def _bodies_line(text: str) -> list[str]:
    """The names of a signature line that lists bodies side by side ("科技部 工业和信息化部"), else []."""
    parts = [p for p in re.split(rf"[{_SPACE}]+", text) if p]
    if len(text) > 80 or not parts or not all(re.fullmatch(rf"[\u4e00-\u9fff()（）]{{2,40}}{_BODY_END}", p) for p in parts):
        return []
    return parts


_DISTRICT_AFTER = re.compile(r"^[\u4e00-\u9fff]{2,4}?(?:新区|区|县|旗)")
_DISTRICT_START = re.compile(r"^(?P<d>[\u4e00-\u9fff]{2,4}?(?:新区|区|县|旗))")


def place_of(name: str) -> str | None:
    """The place a title or issuer names: 天津市滨海新区, 沈阳市, 湖北省, 西青区 …; None if none.

    Known provinces and cities come from the gazetteer (data/places.csv), wherever they stand
    in the name; a district is the 区/县 name right after a city, or at the very start.
    """
    found = knowledge.find_places(name)
    lead = _leading_district(name)
    if found and lead and found[0][0] >= len(lead):
        # "通州区江苏省知识产权保护示范区建设工作方案": the district the title starts with governs;
        # the province after it names the programme
        return lead
    if found:
        pos, place = found[0]
        if knowledge.places()[place].level == "district":
            return knowledge.full_place(place)
        rest = name[pos + len(place):]
        known = _known_district_at_start(rest)
        if known:
            return place + known
        m = _DISTRICT_AFTER.match(rest)
        if m and knowledge.places().get(m.group(0)) is None and not _NOT_A_DISTRICT.search(m.group(0)):
            return place + m.group(0)
        # a province followed by one of its cities (listed or not)
        for pos2, place2 in found[1:]:
            if pos2 == pos + len(place) and knowledge.places()[place2].within == place:
                return place + place2
        if knowledge.places()[place].level == "provincial":
            m = _PLACE_START.match(rest)
            if m and m.group("city"):
                return place + m.group("city")
        return place
    # a place the gazetteer does not list (county-level cities, new places): "XX省", "XX市" at the start
    m = _PLACE_START.match(name)
    if m and (m.group("prov") or m.group("city")):
        place = (m.group("prov") or "") + (m.group("city") or "")
        rest = name[m.end():]
        known = _known_district_at_start(rest)
        d = _DISTRICT_AFTER.match(rest)
        if known:
            place += known
        elif d and not _NOT_A_DISTRICT.search(d.group(0)):
            place += d.group(0)
        return place
    return _leading_district(name)


_PLACE_START = re.compile(r"^(?:中共)?(?P<prov>[\u4e00-\u9fff]{2,3}(?:省|自治区))?(?P<city>[\u4e00-\u9fff]{2,3}?市(?!场|级|区县|直|属))?")


# Words that end in 区 but name no district: 示范区, 自贸区, 开发区, 高新区, 园区 …
_NOT_A_DISTRICT = re.compile(
    r"(?:示范|自贸|开发|高新|园|片|城|街|社|景|保税|试验|功能|集聚|辖|地|山|老|核心|承载)区$|(?:各|全|本|该)"
)


def is_zone(word: str) -> bool:
    """Does a word ending in 区/县 name something other than an administrative district?"""
    return bool(_NOT_A_DISTRICT.search(word))


@lru_cache(maxsize=1)
def county_cities() -> frozenset[str]:
    """County-level cities (县级市, data/county_cities.csv): they govern at district level."""
    lines = [line for line in knowledge.data_text("county_cities.csv").splitlines() if not line.startswith("#")]
    return frozenset(row["name"] for row in csv.DictReader(lines))


def level_of_place(place: str | None) -> str | None:
    if not place:
        return None
    if re.search(r"(?:区|县|旗)$", place):
        return "district"
    if place.endswith("市"):
        # 太仓市, 苏州市太仓市: a county-level city is a district-level jurisdiction
        if any(place[-k:] in county_cities() and (k == len(place) or place[-k - 1] in "省市州区盟")
               for k in range(2, min(len(place), 8) + 1)):
            return "district"
        return "municipal"
    if re.search(r"(?:自治州|地区|盟)$", place):  # prefecture-level, like a city
        return "municipal"
    if re.search(r"(?:省|自治区)$", place):
        return "provincial"
    return None


def _city_context(text: str) -> str | None:
    """The city or province a bare district belongs to: the gazetteer place the text names most."""
    counts: dict[str, int] = {}
    for _, name in knowledge.find_places(text):
        if knowledge.places()[name].level != "district":
            counts[name] = counts.get(name, 0) + 1
    return max(sorted(counts), key=lambda k: counts[k]) if counts else None


# "省知识产权局", "市财政局": a body named with the bare prefix of the document's own level
_BARE_PREFIX = re.compile(
    rf"(?:^|(?<=[、,，;；:：(（\s]))(?P<p>[省市区县])(?!场|级|直|属|委办|各|有关|相关|域|内|外)[\u4e00-\u9fff]{{1,12}}?{_BODY_END}"
    r"(?=[、,，;；)）\s]|$)"
)
_PREFIX_LEVEL = {"省": "provincial", "市": "municipal", "区": "district", "县": "district"}


def _implied_place(text: str) -> str | None:
    """A jurisdiction the text only implies: its bodies are written 省X局 (市X局, 区X局), and the
    places of that level it names — in cited titles, programmes, the body, by full or short
    name — point to one place."""
    prefixes: dict[str, int] = {}
    for m in _BARE_PREFIX.finditer(text):
        prefixes[m.group("p")] = prefixes.get(m.group("p"), 0) + 1
    if not prefixes:
        return None
    level = _PREFIX_LEVEL[max(sorted(prefixes), key=lambda k: prefixes[k])]
    counts: dict[str, int] = {}
    if level == "district":
        for m in _district_pattern().finditer(text):
            counts[m.group(0)] = counts.get(m.group(0), 0) + 1
    else:
        for place in knowledge.places().values():
            if place.level == level:
                # "信用浙江", "浙江专利信息": the short name counts where the full one is not printed
                n = text.count(place.name) or (text.count(place.short) if len(place.short) >= 2 else 0)
                if n:
                    counts[place.name] = n
        # a cited title names its place even when the gazetteer does not know it: 《云川省专利条例》
        for title in re.findall(r"《([^《》]{4,80})》", text):
            found = place_of(title)
            if found and level_of_place(found) == level and found not in knowledge.places():
                counts[found] = counts.get(found, 0) + 1
    if not counts:
        return None
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(best) > 1 and best[1][1] == best[0][1]:
        return None  # two places named as often: no guess
    if level == "district":
        city = _district_city(best[0][0], text)
        return (city or "") + best[0][0]
    return best[0][0]


@lru_cache(maxsize=1)
def _district_names() -> frozenset[str]:
    # two-character names (城区, 郊区, 矿区 …) are ordinary words too
    return frozenset(n for n in _districts() if len(n) > 2 and not _NOT_A_DISTRICT.search(n))


@lru_cache(maxsize=1)
def _district_pattern() -> re.Pattern[str]:
    return re.compile(longest_first(_district_names()))  # the longest name where one starts


def _known_district_at_start(name: str) -> str | None:
    """The longest district name the data knows that `name` starts with (a set lookup per length)."""
    names = _district_names()
    for k in range(min(len(name), 12), 2, -1):
        if name[k - 1] in "区县旗" and name[:k] in names:
            return name[:k]
    return None


def _leading_district(name: str) -> str | None:
    """The district a name starts with: one the data knows (长阳土家族自治县), else "XX区/县"."""
    known = _known_district_at_start(name)
    if known:
        return known
    d = _DISTRICT_START.match(name)
    return d.group("d") if d and not _NOT_A_DISTRICT.search(d.group("d")) else None


_PRINTED_LINE = re.compile(rf"^[\u4e00-\u9fff()（）]{{2,40}}?{_BODY_END}(?P<date>{_DATE})印发$")
_CLOSING = re.compile(r"^(?:特此通知|特此通告|特此函告|特此批复|特此公告|此复)[。.!！]?$")
_SEAL_NOTE = re.compile(r"^[(（][^()（）]{2,30}[)）]$")  # (国家知识产权局代章), (此件公开发布)
# "河北省知识产权局等八部门": a collective name for bodies listed elsewhere in the text
_COLLECTIVE_ISSUER = re.compile(r"等(?:[\d一二三四五六七八九十]+(?:个|家)?)?(?:部门|单位|部委|机关|厅局)$")
_ENUMERATED = re.compile(
    r"(?:^|(?<=[,，。;；:：\n]))(?P<list>[^,，。;；:：《》\n]{4,300}?)(?:联合|共同)(?:制定|印发|起草|研究制定|发布)(?:了)?\s*《"
)
_NATIONAL_ISSUER = re.compile(
    r"^(?:中华人民共和国)?(?:国务院|中共中央|中央(?!企业)|国家|全国|最高人民|中国科学院|中国科协|财政部|"
    r"[\u4e00-\u9fff]{1,8}(?:部|总局|总署)$)"
)


def _is_national(issuer: str) -> bool:
    """A national body: 国务院…, 国家…, …部, …总局; never one named with a place (中共X市委宣传部)."""
    return bool(_NATIONAL_ISSUER.match(issuer)) and not re.search(r"省|市(?!场)|[区县州盟旗]", issuer)


def _date_line(text: str) -> bool:
    """A line that is only a date, maybe in brackets: "2024年5月27日", "(二○○七年六月三十日)"."""
    return bool(DATE_ONLY.match(text) or DATE_ONLY.match(text.strip("()（）" + _SPACE)))


def _signature(paragraphs: list[Paragraph], first_item: int) -> tuple[list[str], str | None]:
    """The bodies and the date of the notice's signature block.

    After the closing formula (特此通知。) come lines of bodies (several per line when many
    sign), maybe a seal note, then the date; without the formula, the lines right before the
    first date line of the notice part (or of the document's end) sign it.
    """
    limit = max(first_item, 1) + 5
    for i, para in enumerate(paragraphs[:limit]):
        if not _CLOSING.match(_compact(para.text)):
            continue
        names: list[str] = []
        date = None
        for nxt in paragraphs[i + 1:i + 12]:
            if _date_line(nxt.text):
                date = parse_date(nxt.text)
                break
            if _SEAL_NOTE.match(_compact(nxt.text)):
                continue
            bodies = _bodies_line(nxt.text)
            if not bodies:
                break
            names += bodies
        if names:
            return names, date
    date_idx = next((i for i, p in enumerate(paragraphs[:limit]) if _date_line(p.text)), None)
    if date_idx is None:  # a signature at the end of the document
        date_idx = next((i for i in range(len(paragraphs) - 1, max(len(paragraphs) - 8, -1), -1)
                         if _date_line(paragraphs[i].text)), None)
    if date_idx is None:
        return [], None
    lines: list[list[str]] = []
    for j in range(date_idx - 1, max(date_idx - 6, -1), -1):
        if _SEAL_NOTE.match(_compact(paragraphs[j].text)):
            continue
        bodies = _bodies_line(paragraphs[j].text)
        if not bodies:
            break
        lines.insert(0, bodies)
    return [n for line in lines for n in line], parse_date(paragraphs[date_idx].text)


_RED_HEADER = re.compile(rf"^(?P<issuer>[\u4e00-\u9fff()（）]{{2,40}}?{_BODY_END})文件$")


def _red_header(paragraphs: list[Paragraph]) -> str | None:
    """The issuer a 红头 names on the first lines: "青川市人民政府文件"."""
    for para in paragraphs[:6]:
        m = _RED_HEADER.match(_compact(para.text))
        if m:
            return m.group("issuer")
    return None


def _heading_bodies(paragraphs: list[Paragraph], title: str | None) -> list[str]:
    """Bodies printed on the line above the title ("中共X市委办公室 X市人民政府办公室" over
    "关于…的实施意见"): they issue it."""
    for i, para in enumerate(paragraphs[:5]):
        bodies = _bodies_line(para.text) if not para.text.startswith("关于") else []
        if bodies and i + 1 < len(paragraphs):
            nxt = _compact(paragraphs[i + 1].text)
            if nxt.startswith("关于") or (title and len(nxt) >= 4 and _compact(title).startswith(nxt)):
                return bodies
    return []


def _enumerated_issuers(text: str) -> list[str]:
    """The bodies listed as the subject of 联合制定《…》 in the notice (each a body's name)."""
    for m in _ENUMERATED.finditer(text):
        names = [n for n in _compact(m.group("list")).split("、") if n]
        last = re.fullmatch(rf"(.{{2,40}}?{_BODY_END})[和及与](.{{2,40}}{_BODY_END})", names[-1]) if names else None
        if last:  # "A、B和C": the last two joined by 和 (but 工业和信息化厅 is one name)
            names[-1:] = [last.group(1), last.group(2)]
        if len(names) > 1 and all(re.fullmatch(rf"[\u4e00-\u9fff()（）]{{2,40}}{_BODY_END}", n) for n in names):
            return names
    return []


def _spaced_bodies(issuer: str, text: str) -> list[str]:
    """The bodies of a notice's issuer as printed, when spaces stand between them."""
    found = _find_spaced(issuer, text)
    return _bodies_line(text[found[0]:found[1]]) if found else []


def _find_spaced(word: str, text: str) -> tuple[int, int] | None:
    """Where `word` first stands in `text` with any spaces between its characters: what searching for
    its characters joined by [_SPACE]* finds, without compiling a pattern for each document's word."""
    if not word or any(ch in _SPACE for ch in word):
        m = re.search(f"[{_SPACE}]*".join(map(re.escape, word)), text)
        return (m.start(), m.end()) if m else None
    start = text.find(word[0])
    while start != -1:
        pos = start + 1
        for ch in word[1:]:
            while pos < len(text) and text[pos] in _SPACE:  # a space run: the pattern's [_SPACE]*
                pos += 1
            if pos == len(text) or text[pos] != ch:
                break
            pos += 1
        else:
            return start, pos
        start = text.find(word[0], start + 1)
    return None


def _body_kind(name: str) -> str:
    m = re.search(rf"{_BODY_END}$", name)
    return m.group(0) if m else ""


def _issuers(notice: str | None, signature: list[str], repost: re.Match[str] | None, header: dict[str, str],
             text: str, red: str | None = None, heading: list[str] | None = None) -> list[str]:
    """Who issued the document: the notice's issuer, else the repost's subject, else the
    signature, else the header's 发布机构; a collective (X等八部门) or a bare-prefixed name
    (区政府) is replaced by the bodies the signature or the text lists."""
    n = notice_match(notice) if notice else None
    own = n.group("issuer") if n else ""
    spaced = _spaced_bodies(own, text) if own else []
    if len(spaced) > 1:  # "国家知识产权局 教育部关于印发…": bodies side by side in the title
        return spaced
    if own:
        if _COLLECTIVE_ISSUER.search(own):
            listed = signature if len(signature) > 1 else _enumerated_issuers(text)
            return listed or [own]
        if re.match(r"^[省市区县州旗盟]", own):  # 区政府 signed 南通市通州区人民政府: the full name
            if len(signature) == 1 and _body_kind(signature[0]) == _body_kind(own):
                return signature
            for issuer in (red or "", _compact(header.get("issuer", ""))):
                if issuer and place_of(issuer) and _body_kind(issuer) == _body_kind(own):
                    return [issuer]
        return [own]
    if repost and _body_kind(_compact(repost.group("issuer"))):
        return [_compact(repost.group("issuer"))]
    if signature:
        return signature
    if red:
        return [red]
    if heading:
        return heading
    listed = _enumerated_issuers(text)
    if listed:
        return listed
    issuer = re.sub(r"^中华人民共和国", "", _compact(header.get("issuer", "")))
    if issuer and (place_of(issuer) or _is_national(issuer)) and _body_kind(issuer):
        return [issuer]
    return []


def _jurisdiction(clues: list[str], text: str, implied: bool = True) -> str | None:
    """The place the policy governs, from every clue: the first clue that names a place, made
    more specific by a later clue that names the same place in full (通州区 → 南通市通州区)."""
    places = [p for p in (place_of(c) for c in clues if c) if p]
    place = places[0] if places else None
    if place:
        for other in places[1:]:
            if other != place and other.endswith(place):
                place = other
                break
    if place and knowledge.find_places(place) == [] and level_of_place(place) == "district":
        city = _district_city(place, text)
        if city:
            place = city + place
    return place or (_implied_place(text) if implied else None)


@lru_cache(maxsize=1)
def _districts() -> dict[str, list[str]]:
    """District, county or banner → the cities (or municipalities) that have one of that name."""
    lines = [line for line in knowledge.data_text("districts.csv").splitlines() if not line.startswith("#")]
    out: dict[str, list[str]] = {}
    for row in csv.DictReader(lines):
        out.setdefault(row["name"], []).append(row["city"] or row["province"])
    return out


def _district_city(district: str, text: str) -> str | None:
    """The city a district named alone belongs to: the only city with a district of that name,
    or, when several have one (通州区: 北京市, 南通市), the one the text names most; else the
    place the text names most (a district the data does not know)."""
    cities = _districts().get(district)
    if not cities:
        return _city_context(text)
    places = knowledge.places()
    counts = {c: text.count(c) + (text.count(places[c].short) if c in places and len(places[c].short) >= 2 else 0)
              for c in cities}
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(best) == 1:
        return best[0][0]
    if best[0][1] > best[1][1]:
        return best[0][0]
    return None  # two cities have this district and the text names neither more: no guess


def parse_metadata(source: SourceDocument, paragraphs: list[Paragraph], first_item: int) -> DocumentMeta:
    header = {**_header_fields(paragraphs), **{k: v for k, v in source.header.items() if v}}
    notice, _, trailing_number = _notice_title(paragraphs, header)
    # the notice part: what stands before the first numbered item (sentences of the body that
    # tell what was issued or drafted before are no wrapper)
    head = source.text[:min(6000, paragraphs[first_item].start if first_item < len(paragraphs) else len(source.text))]
    title, title_span = _title(paragraphs, source.text, notice, first_item, header.get("title"), len(head))
    n = notice_match(notice) if notice else None
    # a notice that hands nothing on (关于开展X工作的通知) is the document itself, not a wrapper
    wrapper = notice if n and (n.group("verb") or (title and _compact(title) != notice)) else None
    if title is None and notice and not wrapper:
        title = notice
    meta = DocumentMeta(title=title, notice_title=wrapper, title_span=title_span)
    signature, signed = _signature(paragraphs, first_item)
    repost = find_repost(head, paragraphs)
    red = _red_header(paragraphs)
    meta.issuers = _issuers(notice, signature, repost, header, head, red, _heading_bodies(paragraphs, title))
    meta.date_signed = signed
    number_line = next((found for para in paragraphs[: max(first_item, 1)] if (found := _doc_number_line(para.text))), None)
    if not meta.date_signed and number_line and number_line[1]:
        meta.date_signed = number_line[1]  # "苏政发〔2009〕1号 2009年1月5日"
    if not meta.date_signed and header.get("date_signed"):
        meta.date_signed = real_date(header["date_signed"])
    if header.get("date_published"):
        meta.date_published = real_date(header["date_published"])
    if not meta.date_published and repost and not signed:
        meta.date_published = parse_date(repost.group("date"))  # "X于2022年7月7日印发《Y》": 印发 is 发文
    if not meta.date_published:  # the closing line of a full document: "X市人民政府办公室 2031年5月28日印发"
        closing = next((m for p in reversed(paragraphs[-12:]) if (m := _PRINTED_LINE.match(_compact(p.text)))), None)
        if closing:
            meta.date_published = parse_date(closing.group("date"))
    if header.get("doc_number") and DOC_NUMBER.search(_compact(header["doc_number"])):
        meta.doc_number = DOC_NUMBER.search(_compact(header["doc_number"])).group(0)  # type: ignore[union-attr]
    elif number_line:
        meta.doc_number = number_line[0]
    elif trailing_number:
        meta.doc_number = trailing_number
    if title:
        kind = next((t for t in DOC_TYPES if re.search(t + r"(?:[(（][^)）]*[)）])?$", title)), None)
        meta.doc_type = _DOC_TYPE_OF.get(kind, kind) if kind else None
    clues = [title or "", notice or ""] + meta.issuers + signature + [red or "", header.get("issuer", "")]
    national = any(_is_national(i) for i in meta.issuers) or (meta.doc_number or "").startswith("国")
    meta.jurisdiction = _jurisdiction(clues, source.text, implied=not national)
    meta.level = level_of_place(meta.jurisdiction)
    if meta.level is None and national:
        meta.level = "national"
    return meta


# ---------------------------------------------------------------- entry point


BACKGROUND_TITLE = re.compile(
    r"^(?:规划背景|发展现状|发展基础|发展成就|工作基础|基本情况|现状|面临形势|发展形势|形势分析|现状与形势|背景|序言|前言|引言|导言)"
)


def _item_end(item: Item) -> int:
    last = item
    while last.children:
        last = last.children[-1]
    return (last.body[-1] if last.body else last.head).end


def background_spans(roots: list[Item]) -> list[Span]:
    """Spans of the parts that describe the past (规划背景, 发展现状 …)."""
    spans = []
    for item in _walk(roots):
        if BACKGROUND_TITLE.match(_compact(item.head_text)) or _looks_back(_compact(item.head_text)):
            spans.append(Span(item.head.start, _item_end(item), ""))
    return spans


def parse_document(source: SourceDocument) -> ParsedDocument:
    """Parse a decoded document into metadata, sections and measures."""
    paragraphs = split_paragraphs(source.text)
    tables: list[list[Paragraph]] = []
    rows: list[TableRow] = []
    roots, preamble = build_items(paragraphs, tables, rows)
    roots = _prune_toc(roots)
    first_item = next((i for i, p in enumerate(paragraphs) if match_marker(p.text) and p not in preamble), len(paragraphs))
    if rows:  # a task table before any numbered item: the body starts at its header
        first_item = min(first_item, max(0, paragraphs.index(rows[0].para) - 1))
    meta = parse_metadata(source, paragraphs, first_item)
    sections, measures = collect_measures(roots, source.text)
    if rows:
        measures = sorted(measures + _new_tasks(table_measures(rows, source.text), measures), key=lambda m: m.span.start)
        _unique_numbers(measures)
    body_start = paragraphs[first_item].start if first_item < len(paragraphs) else len(source.text)
    return ParsedDocument(
        source=source, meta=meta, sections=sections, measures=measures, body_start=body_start,
        background=background_spans(roots),
        tables=[[Span(p.start, p.end, p.text) for p in table] for table in tables if len(table) > 1],
    )
