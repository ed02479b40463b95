"""Who leads and who carries out each measure (rules named lead_agency.*.v1).

Where an assignment stands, all handled here:

* labelled roles: "[牵头单位:X;责任单位:Y]", "【牵头单位】X", "牵头单位:X 配合单位:Y" on lines of their own;
* a trailing bracket "(X牵头,Y配合)", "(X会同Y负责)", "(X、Y按职责分工负责)", "(由X负责)", or one wholly of
  bodies; a bracket inside the item ("…(X负责)。2025年底前完成。"); one bracket per sentence;
* an unbracketed last sentence or line made only of bodies and role verbs;
* the role columns of a task table ("… | X | Y、Z | 2025年底");
* sentences and articles whose subject is a body ("X会同Y…", "X负责…", "X应当…").

A clause is read as a grammar (parse_phrases): lists of bodies, each closed by the verb phrase that
gives its role. Roles (GOLD_SPEC): 牵头 / 牵头单位 lead; in "X会同Y" X leads, since 会同 means "together
with, X in charge"; a single body named with 负责 leads; several bodies with 负责, or any list with
分别/按职责分工/各负其责 (distribution), share the work and none leads. Every assigned body is
responsible. A list item counts as a body by its form (resolve.py), so an unknown body is counted,
never silently dropped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ipgraph.model import AgencyRef, Assignment, Measure, Span
from ipgraph.resolve import VAGUE, AgencyResolver, split_agency_list

_WS = re.compile(r"\s+")  # compiled once: the module-level re functions look it up on every call

_OPEN = {")": "(", "）": "（", "]": "[", "］": "［", "】": "【"}
_ROLE_LABEL = re.compile(
    r"(?P<label>牵头责任单位|配合责任单位|牵头单位|牵头部门|主责单位|主责部门|主办单位|责任单位|责任部门|责任主体|"
    r"配合单位|配合部门|参与单位|参与部门|协办单位|协同单位|实施单位|承办单位|牵头(?=\s*[:：])|配合(?=\s*[:：]))"
    r"(?:\s*[:：]|\s*[】\]]\s*[:：]?)"  # 牵头单位: X, 牵头: X, or 【牵头单位】X
)
_LEAD_LABELS = {"牵头单位", "牵头部门", "牵头责任单位", "主责单位", "主责部门", "主办单位", "牵头"}


@dataclass
class Clause:
    text: str  # the clause without its brackets
    span: Span  # where it stands in the source


def find_clause(measure: Measure, resolver: AgencyResolver | None = None) -> Clause | None:
    """The assignment clause of a measure: a trailing bracket group, or labelled role lines.

    A bracket with no verb or role label counts when it is wholly a list of bodies: by their
    form (…局/委/办/厅/政府, 各X), or, given a resolver, as the resolver reads them."""
    text = measure.span.text
    base = measure.span.start
    stripped = text.rstrip(" \u3000\n。.;；")
    # labelled roles anywhere in the last lines: 牵头单位:X;责任单位:Y
    labelled = list(_ROLE_LABEL.finditer(text))
    if labelled:
        start = labelled[0].start()
        # include an opening bracket right before the first label
        while start > 0 and text[start - 1] in "([（【［":
            start -= 1
        end = len(stripped)
        # a bracketed label group ends where its bracket closes ("[责任单位:X] (三)…": the text after it,
        # another item the layout ran on, names no one of this clause)
        closed_at = _closing(text, start, end) if start < labelled[0].start() else None
        if closed_at is not None and closed_at >= labelled[0].end():  # not 【牵头单位】X: its bracket holds the label
            end = closed_at + 1
        inner = text[labelled[0].start():end]
        inner = inner.rstrip(")]）】］")
        return Clause(inner, Span(base + start, base + end, text[start:end]))
    if not stripped:
        return None
    if stripped[-1] not in _OPEN:
        if resolver is None:
            return None
        return _sentence_clause(measure, stripped, resolver) or _inner_bracket_clause(measure, stripped, resolver)
    close = stripped[-1]
    opener = _OPEN[close]
    depth = 0
    for i in range(len(stripped) - 1, -1, -1):
        ch = stripped[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _OPEN.values():
            depth -= 1
            if depth == 0:
                # half- and full-width brackets of one shape pair up: (…）, ［…]
                if ch != opener and not any(ch in family and opener in family for family in ("(（", "[［【")):
                    return None
                inner = _WS.sub("", stripped[i + 1:-1])
                if not re.search(r"(?:负责|牵头|配合|参与|单位|部门|会同|各负其责|统筹)", inner) and not _looks_like_list(inner, resolver):
                    return None
                return Clause(inner, Span(base + i, base + len(stripped), stripped[i:]))
    return None


def _closing(text: str, start: int, end: int) -> int | None:
    """Where the bracket opened at text[start] closes, before `end` (None when it does not)."""
    depth = 0
    for i in range(start, end):
        ch = text[i]
        if ch in _OPEN.values():
            depth += 1
        elif ch in _OPEN:
            depth -= 1
            if depth == 0:
                return i
    return None


def _sentence_clause(measure: Measure, stripped: str, resolver: AgencyResolver) -> Clause | None:
    """An unbracketed assignment as the item's last sentence or line: "…。市知识产权局牵头,市财政局配合。"

    Only a sentence that is wholly lists of bodies and the verbs that give them roles counts,
    so "市知识产权局负责组织实施" (a verb with an object) is prose, not a clause."""
    cut = max(stripped.rfind("。", 0, len(stripped)), stripped.rfind("\n"))
    if cut <= len(measure.printed):
        return None  # the item's only sentence: its subject is read as prose, if at all
    tail = stripped[cut + 1:]
    start = cut + 1 + (len(tail) - len(tail.lstrip(" \u3000")))
    tail = tail.strip(" \u3000")
    phrases = parse_phrases(_MARKED_LEAD.sub("", tail), resolver)  # "X(牵头)、Y": parse_clause reads the mark
    on_own_line = stripped[cut] == "\n"
    if not phrases or not all(p.refs and _all_bodies("、".join(p.names), resolver) for p in phrases):
        return None
    if all(p.role is None for p in phrases) and not _MARKED_LEAD.search(tail) and (
            not on_own_line or any(re.search(r"(?:公司|集团|大学|学院|医院|学校)$", n) for p in phrases for n in p.names)):
        # a bare list ending a sentence, or a line of enterprises and schools, lists examples, not an assignment
        return None
    if any(p.role is None for p in phrases) and any(p.role for p in phrases):
        return None  # "X会同Y建设…中心": a list with no verb of its own runs into the work; prose reads it
    base = measure.span.start
    return Clause(_WS.sub("", tail), Span(base + start, base + start + len(tail), tail))


_BRACKET = re.compile(r"[(（\[［【](?P<inner>[^()（）\[\]［］【】]{2,160})[)）\]］】]")


def _inner_bracket_clause(measure: Measure, stripped: str, resolver: AgencyResolver) -> Clause | None:
    """A bracket inside the item rather than at its end: "…(市知识产权局负责)。2025年底前完成。"

    Only a bracket that is wholly bodies with role verbs counts (the last such bracket)."""
    for m in reversed(list(_BRACKET.finditer(stripped))):
        inner = _WS.sub("", m.group("inner"))
        if _is_assignment(inner, resolver):
            base = measure.span.start
            return Clause(inner, Span(base + m.start(), base + m.end(), m.group(0)))
    return None


def _is_assignment(inner: str, resolver: AgencyResolver) -> bool:
    """Is a bracket's text wholly lists of bodies, at least one closed by a role verb?"""
    phrases = parse_phrases(inner, resolver)
    return bool(phrases) and any(p.role for p in phrases) and all(
        p.refs and _all_bodies("、".join(p.names), resolver) for p in phrases)


def _looks_like_list(inner: str, resolver: AgencyResolver | None = None) -> bool:
    if resolver is not None:
        return _all_bodies(inner, resolver)
    names = re.split(r"[、,，]", inner)
    return len(names) >= 1 and all(re.search(r"(?:局|委|办|院|厅|部|政府|中心|署)$", n) for n in names if n)


def _all_bodies(text: str, resolver: AgencyResolver) -> bool:
    """Is the text a list of bodies and nothing else (vague references allowed, at least one body)?"""
    names = split_agency_list(text)
    return bool(resolver.resolve_list(text)) and all(resolver.resolve(n, "市") is not None or VAGUE.match(n)
                                                     for n in names)


# "列第一位的为牵头单位": national task lists name the lead by putting it first
_FIRST_LEADS = re.compile(r"[,，;；]?\s*(?:列|排)(?:在)?第一(?:位|个)?(?:的|者)?(?:为|是)牵头(?:单位|部门)?")
# "市知识产权局(牵头)": a lead marked inside a list
_MARKED_LEAD = re.compile(r"[(（]\s*牵头\s*[)）]")


def parse_clause(clause: Clause, resolver: AgencyResolver) -> tuple[list[AgencyRef], list[AgencyRef], str]:
    """(lead, responsible, rule) from the clause text."""
    text = clause.text
    if _FIRST_LEADS.search(text):
        _, responsible, _ = parse_clause(Clause(_FIRST_LEADS.sub("", text), clause.span), resolver)
        return responsible[:1], responsible, "lead_agency.first_listed.v1"
    if _MARKED_LEAD.search(text):
        marked_names = [n for n in re.split(r"[、,，;；]", re.sub(r"^[^:：]*[:：]", "", text)) if _MARKED_LEAD.search(n)]
        marked = [r for n in marked_names for r in resolver.resolve_list(_MARKED_LEAD.sub("", n))]
        _, responsible, _ = parse_clause(Clause(_MARKED_LEAD.sub("", text), clause.span), resolver)
        return marked, _union(marked, responsible), "lead_agency.marked_lead.v1"
    labelled = list(_ROLE_LABEL.finditer(text))
    if labelled:
        lead: list[AgencyRef] = []
        others: list[AgencyRef] = []
        for i, label in enumerate(labelled):
            end = labelled[i + 1].start() if i + 1 < len(labelled) else len(text)
            refs = resolver.resolve_list(text[label.end():end].strip(" ;；。,，\n【[［").rstrip("】]］"))
            (lead if label.group("label") in _LEAD_LABELS else others).extend(refs)
        return lead, _union(lead, others), "lead_agency.labelled.v1"
    return _parse_phrases(text, resolver)


# The grammar of an assignment clause: lists of bodies, each closed by a verb phrase that gives
# the list its role. "X牵头,Y、Z配合", "X会同Y负责", "X、Y按职责分工分别负责", "由X负责".
_JOB = r"(?:负责|落实|实施|推进|承担)"
_DUTY = r"(?:按照?|根据|依据?)职责(?:分工)?|分工"
_VERB = re.compile(
    r"(?P<with>会同|联合)"
    # 统筹 (coordinates the others) puts a body in charge as 牵头 does
    r"|(?:(?P<lead>总?牵头(?:负责|落实|实施|推进)?|负总责|统筹(?:协调|推进)?|为牵头(?:单位|部门))"
    # distribution: the listed bodies share the work, none leads (GOLD_SPEC: "按职责分工负责")
    rf"|(?P<shared>(?:{_DUTY})?(?:分别|各自){_JOB}|各负其责|(?:{_DUTY}|共同){_JOB}|为责任(?:单位|部门))"
    rf"|(?P<job>(?:具体)?{_JOB}(?:落实|实施)?)"
    r"|(?P<support>配合|参与|协助|协同|协办|支持))"
    r"(?=$|[,，;；、。])"  # a verb closes its list: 协同创新中心 is a name, not 协同
)
_LIST_SEPARATORS = " ,，;；、。\n"
BARE_LIST_RULE = "lead_agency.bare_list.v1"  # a list of bodies with no verb that gives it a role


@dataclass
class Phrase:
    names: list[str]  # the named (not vague) items of the list, resolved or not
    refs: list[AgencyRef]
    role: str | None  # with | lead | shared | job | support | None (a bare list)


def parse_phrases(text: str, resolver: AgencyResolver) -> list[Phrase]:
    """Split a clause into lists of bodies with the verb phrase that closes each."""
    phrases: list[Phrase] = []
    pos = 0
    for m in _VERB.finditer(text):
        phrases.append(_phrase(text[pos:m.start()], m.lastgroup, resolver))
        pos = m.end()
    if text[pos:].strip(_LIST_SEPARATORS):
        phrases.append(_phrase(text[pos:], None, resolver))
    return [p for p in phrases if p.names or p.role == "with"]


_BY, _EACH, _AND_OTHERS = re.compile(r"^由"), re.compile(r"(?:分别|各自|共同)$"), re.compile(r"等(?:单位|部门)?$")


def _phrase(chunk: str, role: str | None, resolver: AgencyResolver) -> Phrase:
    chunk = _BY.sub("", chunk.strip(_LIST_SEPARATORS))
    chunk = _EACH.sub("", chunk)  # X、Y分别牵头: each leads its part
    chunk = _AND_OTHERS.sub("", chunk)
    names = [n for n in split_agency_list(chunk) if not VAGUE.match(n)]
    return Phrase(names, resolver.resolve_list(chunk), role)


def _parse_phrases(text: str, resolver: AgencyResolver) -> tuple[list[AgencyRef], list[AgencyRef], str]:
    """Roles from the phrases: 牵头 and the X of "X会同Y" lead; a list closed by plain 负责 leads
    only when it names exactly one body and nothing else leads; 分别/按职责分工/各负其责 and
    配合/参与 lists share the work. Every assigned body is responsible."""
    phrases = parse_phrases(text, resolver)
    lead: list[AgencyRef] = []
    responsible: list[AgencyRef] = []
    partners = False
    jobs: list[Phrase] = []
    # "X、Y会同相关部门负责各自领域工作": several bodies each in charge of their own part lead nothing together
    spread = bool(re.search(r"分别(?!牵头)|各自(?!牵头)|各负其责", text))
    for phrase in phrases:
        if phrase.role == "with":  # X会同Y…: X leads, whatever closes Y's list
            if not (spread and len(phrase.names) > 1):
                lead = _union(lead, phrase.refs)
            partners = True
        elif partners:
            partners = False
        elif phrase.role == "lead" and not (spread and len(phrase.names) > 1):
            lead = _union(lead, phrase.refs)
        elif phrase.role == "job":
            jobs.append(phrase)
        responsible = _union(responsible, phrase.refs)
    if not lead and len(jobs) == 1 and len(jobs[0].names) == 1 and len(jobs[0].refs) == 1:
        lead = jobs[0].refs  # exactly one body named with 负责 leads it (GOLD_SPEC)
    roles = {p.role for p in phrases}
    rule = ("lead_agency.huitong.v1" if "with" in roles else "lead_agency.qiantou.v1" if "lead" in roles
            else "lead_agency.single_fuze.v1" if lead else "lead_agency.shared_fuze.v1" if roles - {None}
            else BARE_LIST_RULE)
    return lead, _union(lead, responsible), rule


def _union(first: list[AgencyRef], second: list[AgencyRef]) -> list[AgencyRef]:
    out = list(first)
    for ref in second:
        if all(r.canonical != ref.canonical for r in out):
            out.append(ref)
    return out


# A sentence whose subject is a body and whose verb gives it work: "X会同相关部门对…开展督促",
# "X承担领导小组办公室工作职责", "各县市区、各部门加强…". 会同/牵头 make the subject lead;
# "X、Y按职责分工做好…", "X、Y分别…" share the work among the subject's bodies.
_PROSE = re.compile(
    r"(?:^|(?<=[。;；\n]))\s*由?(?P<subject>[\u4e00-\u9fff、()（)]{2,40}?)"
    r"(?P<verb>会同|牵头|负责|应当|承担|要会同|要牵头|要加强|加强|要|按照?职责分工|按照?职责|根据职责|分别|共同)"
)
# "由X牵头,Y、Z配合,…": the bodies named with a supporting verb right after the lead share the work
_SUPPORTERS = re.compile(
    r"[,，]\s*(?P<names>[\u4e00-\u9fff、()（）]{2,60}?)"
    r"(?:配合|参与|协助|协同|共同参与|(?:按照?职责分工|按照?职责|根据职责|分别|共同)(?:负责|落实|推进))(?=[,，。;；]|$)"
)


# the verbs that end the partner list of "X会同Y…" and start Y's work
_WORK_VERBS = ("对|开展|安排|推进|推动|做好|负责|共同|组织|制定|研究|落实|加强|建立|建设|完善|健全|构建|实施|指导|培育|"
               "探索|打造|支持|引导|举办|编制|设立|提升|强化|深化|出台|修订|评估|遴选|认定|监督|督促|统筹|协调|加快|积极")
_PARTNERS = re.compile(rf"([\u4e00-\u9fff、()（）]{{2,40}}?)(?={_WORK_VERBS}|[,，。;；])")


def prose_assignment(measure: Measure, resolver: AgencyResolver) -> tuple[list[AgencyRef], list[AgencyRef], Span] | None:
    """Assignments stated in sentences rather than a clause (rule lead_agency.prose.v1).

    Only a subject made entirely of bodies counts (every listed name resolves or is a vague
    reference), so ordinary sentences never yield an agency.
    """
    lead: list[AgencyRef] = []
    responsible: list[AgencyRef] = []
    first: Span | None = None
    text = measure.span.text
    # the item's own marker (第三条, 1.) is not part of the first sentence's subject
    body = len(measure.printed) if text.startswith(measure.printed) else 0
    while body < len(text) and text[body] in " \u3000\t":
        body += 1
    for m in _PROSE.finditer(text[body:]):
        subject = m.group("subject")
        names = [n for n in re.split(r"[、,，]", subject) if n]
        refs = resolver.resolve_list(subject)
        resolvable = [n for n in names if resolver.resolve(n, "市") is not None or VAGUE.match(n)]
        if not refs or len(resolvable) != len(names) or not resolver.is_anchored(names[0]):
            continue
        verb = m.group("verb").removeprefix("要") if m.group("verb") in ("要会同", "要牵头") else m.group("verb")
        # 会同/牵头 make the subject lead, and so does 负责 with one body (GOLD_SPEC: the single body named 负责)
        # 应当 in a regulation's article ("X应当…") charges its subject as 负责 does
        if verb in ("会同", "牵头") or (verb in ("负责", "应当") and len(refs) == 1):
            lead.extend(r for r in refs if all(x.canonical != r.canonical for x in lead))
        responsible = _union(responsible, refs)
        supporters = _SUPPORTERS.match(text, body + m.end()) if verb in ("牵头", "负责") else None
        if supporters and _all_bodies(supporters.group("names"), resolver):
            responsible = _union(responsible, resolver.resolve_list(supporters.group("names")))
        if verb == "会同":  # X会同Y…: Y shares the work
            partners = _PARTNERS.match(text, body + m.end())
            if partners:
                names = [n for n in re.split(r"[、,，]", partners.group(1)) if n]
                if all(resolver.resolve(n, "市") is not None or VAGUE.match(n) for n in names):
                    responsible = _union(responsible, resolver.resolve_list(partners.group(1)))
        end = text.find("。", body + m.end())
        span_end = end + 1 if end != -1 else len(text)
        # the evidence runs from the first of these sentences to the end of the last
        span_start = first.start - measure.span.start if first else body + m.start("subject")
        first = Span(measure.span.start + span_start, measure.span.start + span_end, text[span_start:span_end])
    if not responsible or first is None:
        return None
    return lead, _union(lead, responsible), first


_CELL_SPLIT = re.compile(r"\s*[|｜\t]\s*|\s+")
_HEADER_ROLE = re.compile(
    r"^(?:牵头(?:责任)?(?:单位|部门)?|主责(?:单位|部门)|主办单位|责任(?:单位|部门|主体)|配合(?:责任)?(?:单位|部门)|"
    r"参与(?:单位|部门)|协办单位)$"
)


# a word every _HEADER_ROLE name holds
_HEADER_WORD = re.compile(r"牵头|主责|主办单位|责任|配合|参与|协办单位")
# columns a task table may carry after its role columns: when, not who
_AFTER_ROLES = re.compile(r"^(?:完成时限|完成时间|完成期限|时间节点|时间安排|进度安排|时限|时间|备注)$")


def table_header(text: str) -> tuple[list[str], int] | None:
    """The role columns of a task table's header row ("序号 任务 牵头单位 配合单位 完成时限"), last
    first, and how many columns (完成时限, 备注) follow the last of them."""
    for line in text.splitlines():
        if not _HEADER_WORD.search(line):
            continue  # no cell of it can be a role column: the line need not be cut into cells
        cells = [c for c in _CELL_SPLIT.split(line.strip()) if c]
        role_at = [i for i, c in enumerate(cells) if _HEADER_ROLE.match(c)]
        if len(cells) < 3 or not role_at or not all(_AFTER_ROLES.match(c) for c in cells[role_at[-1] + 1:]):
            continue
        roles = ["lead" if c.startswith(("牵头", "主责", "主办")) else "duty" if c.startswith("责任") else "other"
                 for c in reversed(cells) if _HEADER_ROLE.match(c)]
        return roles, len(cells) - 1 - role_at[-1]
    return None


def table_header_roles(text: str) -> list[str] | None:
    """The role columns of a task table's header row ("序号 任务 牵头单位 配合单位"), last first."""
    header = table_header(text)
    return header[0] if header else None


def table_assignment(measure: Measure, resolver: AgencyResolver, roles: list[str] | None, after: int = 0
                     ) -> tuple[list[AgencyRef], list[AgencyRef], Span] | None:
    """Assignments in the trailing columns of a task-table row (rule lead_agency.table.v1).

    The row's last cells (before the `after` columns such as 完成时限 that follow the role
    columns) are read from the end while each is wholly a list of bodies; the header row says
    which column leads. Without a header, one body leads, several share.
    """
    line = measure.span.text.split("\n")[0]
    cells = [c for c in _CELL_SPLIT.split(line.strip()) if c]
    if after and len(cells) > after + 2:
        cells = cells[:-after]
    if len(cells) < 3:
        return None
    found: list[list[AgencyRef]] = []
    marked: list[AgencyRef] = []  # "市知识产权局(牵头)、市财政局" in a cell: the marked body leads
    for cell in reversed(cells[1:]):
        plain = _MARKED_LEAD.sub("", cell)
        names = [n for n in re.split(r"[、,，;；]", plain) if n]
        refs = resolver.resolve_list(plain)
        if not refs or any(resolver.resolve(n, "市") is None and not VAGUE.match(n) for n in names):
            break
        found.append(refs)
        marked += [r for n in re.split(r"[、,，;；]", cell) if _MARKED_LEAD.search(n)
                   for r in resolver.resolve_list(_MARKED_LEAD.sub("", n))]
        if roles and len(found) == len(roles):
            break
    if not found:
        return None
    lead: list[AgencyRef] = []
    responsible: list[AgencyRef] = []
    if roles == ["duty"]:
        roles = None  # a table whose one role column is 责任部门 reads like "(X负责)": one body leads, several share
    for i, refs in enumerate(found):
        role = roles[i] if roles and i < len(roles) else None
        if not marked and (role == "lead" or (role is None and len(found) == 1 and len(refs) == 1)):
            lead = _union(lead, refs)
        responsible = _union(responsible, refs)
    lead = _union(marked, lead)
    # the evidence runs from the first role cell to the end of the last one
    first_cell = max(0, line.rfind(cells[-len(found)]))
    last_cell = line.find(cells[-1], first_cell)
    stop = last_cell + len(cells[-1]) if last_cell != -1 else len(line)
    start = measure.span.start + first_cell
    return lead, _union(lead, responsible), Span(start, measure.span.start + stop, line[first_cell:stop])


def extract_assignments(measures: list[Measure], resolver: AgencyResolver, full_text: str = "") -> list[Assignment]:
    """One Assignment per measure that names agencies."""
    out = []
    header = table_header(full_text) if full_text else None
    roles, after = header if header else (None, 0)
    for measure in measures:
        clause = find_clause(measure, resolver)
        found = _clause_assignment(measure, clause, resolver) if clause is not None else None
        if found is None:
            # no clause, or one that names no body ("(牵头)" closing a table cell): the table's columns
            table = table_assignment(measure, resolver, roles, after)
            if table is not None:
                lead, responsible, span = table
                found = Assignment(measure=measure.number, lead=lead, responsible=responsible,
                                   evidence=span, rule="lead_agency.table.v1")
        if found is None and clause is None:
            prose = prose_assignment(measure, resolver)
            if prose is not None:
                lead, responsible, span = prose
                found = Assignment(measure=measure.number, lead=lead, responsible=responsible,
                                   evidence=span, rule="lead_agency.prose.v1")
        if found is not None:
            out.append(found)
    return out


def _clause_assignment(measure: Measure, clause: Clause, resolver: AgencyResolver) -> Assignment | None:
    lead, responsible, rule = parse_clause(clause, resolver)
    span = clause.span
    # "推进…(A负责)。加强…(B负责)。": every sentence's own bracket assigns its part of the measure
    for earlier in _earlier_brackets(measure, clause, resolver):
        more_lead, more_responsible, _ = parse_clause(earlier, resolver)
        lead, responsible = _union(more_lead, lead), _union(more_responsible, responsible)
        start = earlier.span.start - measure.span.start
        span = Span(earlier.span.start, clause.span.end, measure.span.text[start:clause.span.end - measure.span.start])
    if not responsible:
        return None
    return Assignment(measure=measure.number, lead=lead, responsible=_union(lead, responsible), evidence=span, rule=rule)


def _earlier_brackets(measure: Measure, clause: Clause, resolver: AgencyResolver) -> list[Clause]:
    """Assignment brackets before the measure's clause, last first: each wholly bodies with role verbs."""
    text = measure.span.text[: max(0, clause.span.start - measure.span.start)]
    found = []
    for m in reversed(list(_BRACKET.finditer(text))):
        inner = _WS.sub("", m.group("inner"))
        if _is_assignment(inner, resolver):
            found.append(Clause(inner, Span(measure.span.start + m.start(), measure.span.start + m.end(), m.group(0))))
    return found
