"""The per-document quality report (ipgraph/report.py): each kind fires on its cue and stays quiet without it.

Records are made by hand from the model's dataclasses, so these tests hold whatever the
extractors read: the report is checked against what a record says, not against one extractor.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, SHARED

from ipgraph import report
from ipgraph.model import (
    Assignment,
    Citation,
    DocumentMeta,
    DocumentRecord,
    Measure,
    ParsedDocument,
    Section,
    SourceDocument,
    Span,
)
from ipgraph.resolve import AgencyResolver

TITLE = "天津市示例知识产权工作方案"


def make_record(lines: list[str], measures: dict[str, str] | None = None, assigned: dict[str, str] | None = None,
                sections: dict[str, tuple[str, str]] | None = None, jurisdiction: str | None = "天津市",
                level: str | None = "municipal", issuers: str = "", citations: list[Citation] | None = None
                ) -> DocumentRecord:
    """A record over `lines`: measures = {number: line prefix}, assigned = {number: clause resolved as bodies},
    sections = {number: (printed, title)} (the measure numbers "n.k" sit in section "n")."""
    text = "\n".join(lines) + "\n"
    ms = []
    for number, prefix in (measures or {}).items():
        start = text.index(prefix)
        end = text.index("\n", start)
        printed = prefix.split("、")[0] + "、" if "、" in prefix[:4] else prefix[:3]
        section = number.rsplit(".", 1)[0] if "." in number else None
        ms.append(Measure(number=number, printed=printed, text=text[start + len(printed):end],
                          span=Span(start, end, text[start:end]), section=section))
    secs = []
    for number, (printed, title) in (sections or {}).items():
        start = text.index(printed + title)
        secs.append(Section(number=number, printed=printed, title=title, depth=1,
                            span=Span(start, start + len(printed + title), printed + title)))
    resolver = AgencyResolver(jurisdiction, level)
    assignments = []
    for number, clause in (assigned or {}).items():
        refs = resolver.resolve_list(clause)
        measure = next(m for m in ms if m.number == number)
        assignments.append(Assignment(measure=number, lead=refs[:1] if len(refs) == 1 else [], responsible=refs,
                                      evidence=Span(measure.span.end - 1, measure.span.end, clause), rule="test"))
    meta = DocumentMeta(title=TITLE, jurisdiction=jurisdiction, level=level)
    body_start = min((m.span.start for m in ms), default=len(text))
    parsed = ParsedDocument(source=SourceDocument(name="t.txt", text=text), meta=meta, sections=secs, measures=ms,
                            body_start=min([body_start] + [s.span.start for s in secs]))
    return DocumentRecord(parsed=parsed, issuers=resolver.resolve_list(issuers) if issuers else [],
                          assignments=assignments, citations=citations or [])


def kinds(record: DocumentRecord) -> list[str]:
    return report.check_document(record).kinds()


def warning(record: DocumentRecord, kind: str) -> report.QualityWarning:
    return next(w for w in report.check_document(record).warnings if w.kind == kind)


TASKS = [TITLE, "一、重点任务",
         "(一)加强专利保护。建立快速维权机制,开展执法检查。(市知识产权局负责)",
         "(二)培育高价值专利。支持企业布局核心专利,完善奖励政策。(市科技局、市财政局负责)",
         "(三)强化人才支撑。引进知识产权高层次人才,开展专题培训。(市人社局负责)"]
TASK_MEASURES = {"1.1": "(一)加强", "1.2": "(二)培育", "1.3": "(三)强化"}
TASK_SECTIONS = {"1": ("一、", "重点任务")}
ALL_ASSIGNED = {"1.1": "市知识产权局", "1.2": "市科技局、市财政局", "1.3": "市人社局"}


def test_a_document_read_as_printed_has_no_warnings():
    record = make_record(TASKS, TASK_MEASURES, ALL_ASSIGNED, TASK_SECTIONS)
    result = report.check_document(record)
    assert result.warnings == [] and not result.flagged
    assert (result.measures, result.assigned) == (3, 3)


def test_an_assignment_clause_that_gave_no_body_flags_its_measure_with_its_line():
    record = make_record(TASKS, TASK_MEASURES, {"1.1": "市知识产权局", "1.3": "市人社局"}, TASK_SECTIONS)
    found = warning(record, report.MEASURE_WITHOUT_ASSIGNMENT)
    assert found.severity == report.WARNING and found.count == 1
    assert [e.line for e in found.evidence] == [4]  # the line of (二)
    assert found.evidence[0].text.startswith("(二)培育高价值专利")
    assert report.check_document(record).flagged


def test_measures_without_any_clause_are_normal_unless_the_others_are_assigned():
    plain = [TITLE, "一、保障措施"] + [f"({n})加强第{n}项保障工作。完善制度建设,落实经费和人员。" for n in "一二三四五六七八九十"]
    prefixes = {f"1.{i + 1}": f"({n})加强" for i, n in enumerate("一二三四五六七八九十")}
    sections = {"1": ("一、", "保障措施")}
    assert report.MEASURE_WITHOUT_ASSIGNMENT not in kinds(make_record(plain, prefixes, {}, sections))
    nine = {f"1.{i}": "市知识产权局" for i in range(1, 10)}
    assert report.MEASURE_WITHOUT_ASSIGNMENT not in kinds(make_record(plain, prefixes, nine, sections))  # 1 of 10 bare
    six = {f"1.{i}": "市知识产权局" for i in range(1, 7)}
    found = warning(make_record(plain, prefixes, six, sections), report.MEASURE_WITHOUT_ASSIGNMENT)
    assert found.count == 4 and "4 of 10" in found.message


def test_a_body_leading_in_the_text_of_an_unassigned_measure_is_an_unread_assignment():
    lines = TASKS[:2] + ["(一)加强专利保护。由市知识产权局牵头,建立快速维权机制,开展执法检查。",
                         "(二)加强宣传。各单位要提高认识,开展宣传活动,营造良好氛围。"]
    record = make_record(lines, {"1.1": "(一)加强", "1.2": "(二)加强"}, {}, TASK_SECTIONS)
    found = warning(record, report.MEASURE_WITHOUT_ASSIGNMENT)
    assert found.count == 1 and found.evidence[0].line == 3  # (二) names no body: bare, and normal
    assigned = make_record(lines, {"1.1": "(一)加强", "1.2": "(二)加强"}, {"1.1": "市知识产权局"}, TASK_SECTIONS)
    assert report.MEASURE_WITHOUT_ASSIGNMENT not in kinds(assigned)


def test_a_support_part_left_bare_beside_assigned_tasks_is_normal():
    tasks = [f"({n})推进第{n}项任务。完善制度建设,落实工作责任。(市知识产权局负责)" for n in "一二三四五六"]
    support = [f"({n})强化第{n}项保障。完善经费和人员保障措施。" for n in "一二三四"]
    lines = [TITLE, "一、重点任务", *tasks, "二、保障措施", *support]
    measures = {f"1.{i + 1}": f"({n})推进" for i, n in enumerate("一二三四五六")}
    measures.update({f"2.{i + 1}": f"({n})强化" for i, n in enumerate("一二三四")})
    sections = {"1": ("一、", "重点任务"), "2": ("二、", "保障措施")}
    assigned = {f"1.{i}": "市知识产权局" for i in range(1, 7)}
    assert kinds(make_record(lines, measures, assigned, sections)) == []  # 4 of 10 bare, all in 保障措施
    # the same four bare measures among the tasks they sit with: assignments were lost there
    mixed = {f"1.{i}": "市知识产权局" for i in (1, 2)} | {f"2.{i}": "市知识产权局" for i in range(1, 5)}
    plain = [TITLE, "一、重点任务", *[t.replace("(市知识产权局负责)", "") for t in tasks], "二、保障措施",
             *[t + "(市知识产权局负责)" for t in support]]
    found = warning(make_record(plain, measures, mixed, sections), report.MEASURE_WITHOUT_ASSIGNMENT)
    assert found.count == 4 and "while the other measures of their sections do" in found.message


def test_a_numbered_item_inside_another_measure_is_counted():
    lines = [TITLE, "一、重点任务", "(一)加强专利保护。建立快速维权机制。"] + [
        f"{i}.推进第{i}项专利保护工作,完善相关制度建设和政策措施。" for i in range(1, 4)]
    record = make_record(lines, {"1.1": "(一)加强"}, {}, TASK_SECTIONS)
    span_end = record.parsed.source.text.rindex("。") + 1  # the measure swallowed the three items
    m = record.parsed.measures[0]
    record.parsed.measures[0] = Measure(m.number, m.printed, m.text, Span(m.span.start, span_end,
                                        record.parsed.source.text[m.span.start:span_end]), m.section)
    found = warning(record, report.NUMBERED_LINES_NOT_MEASURES)
    assert found.count == 3 and [e.line for e in found.evidence] == [4, 5, 6]


def test_a_name_in_a_clause_that_resolved_to_no_body_is_an_unknown_body():
    lines = TASKS[:2] + ["(一)植物新品种申请总量达到2.5万件。(农业部、林业局按职责分别负责)"]
    record = make_record(lines, {"1.1": "(一)植物"}, {"1.1": "农业部"}, TASK_SECTIONS, jurisdiction=None,
                         level="national")
    found = warning(record, report.UNKNOWN_BODY)
    assert "“林业局”" in found.message and found.count == 1
    # once every name is a body, or the rest are vague references (有关部门), nothing is unknown
    assert report.UNKNOWN_BODY not in kinds(make_record(lines, {"1.1": "(一)植物"}, {"1.1": "农业部、林业局"},
                                                        TASK_SECTIONS, jurisdiction=None, level="national"))
    vague = TASKS[:2] + ["(一)加强专利保护。建立快速维权机制,开展执法检查。(市知识产权局、有关部门负责)"]
    assert kinds(make_record(vague, {"1.1": "(一)加强"}, {"1.1": "市知识产权局"}, TASK_SECTIONS)) == []


def test_lines_naming_bodies_outside_every_measure_are_unnumbered_measure_lines():
    rows = ["序号\t工作重点\t具体任务\t责任部门",
            "\t加强市场保护\t推进知识产权保护规范化市场培育工作\t省工商局、知识产权局",
            "\t加强在线保护\t支持建立版权工作服务站,开展剑网行动\t省版权局"]
    record = make_record(rows, jurisdiction="浙江省", level="provincial")
    found = warning(record, report.UNNUMBERED_MEASURE_LINES)
    assert found.count == 2 and [e.line for e in found.evidence] == [2, 3]  # the header row is no work line
    assert report.check_document(record).flagged


def test_numbered_items_outside_measures_are_counted_but_not_in_principle_parts():
    items = [f"{i}.推进第{i}项重点工作,完善相关制度建设和政策措施,形成长效机制。" for i in range(1, 5)]
    lost = [TITLE, "三、重点任务"] + items
    found = warning(make_record(lost), report.NUMBERED_LINES_NOT_MEASURES)
    assert found.count == 4 and found.evidence[0].line == 3
    principles = [TITLE, "二、基本原则"] + items + ["三、重点任务", "(一)加强专利保护。建立快速维权机制,开展执法检查。"]
    assert kinds(make_record(principles, {"3.1": "(一)加强"}, {}, {"3": ("三、", "重点任务")})) == []
    headings = [TITLE, "三、重点任务"] + [f"({n})突出改革创新" for n in "一二三四"]  # bare headings, no text
    assert kinds(make_record(headings)) == []


def test_measures_under_a_preface_or_guiding_part_are_flagged():
    lines = [TITLE, "一、序言", "1.知识产权制度是开发和利用知识资源的基本制度。", "2.改革开放以来,我省知识产权事业迅速发展。"]
    record = make_record(lines, {"1.1": "1.知识", "1.2": "2.改革"}, {}, {"1": ("一、", "序言")})
    found = warning(record, report.MEASURE_IN_NON_TASK_PART)
    assert found.count == 2 and "一、序言" in found.message
    # a top-level item whose own heading names such a part
    own = [TITLE, "一、总体思路", "以习近平新时代中国特色社会主义思想为指导,推动知识产权高质量发展。"]
    text_record = make_record(own, {"1": "一、总体思路"})
    assert report.MEASURE_IN_NON_TASK_PART in kinds(text_record)
    # task parts are not: 一、任务分解
    task = [TITLE, "一、任务分解", "根据部署和要求,将创建工作的任务分解为十一大类。"]
    assert report.MEASURE_IN_NON_TASK_PART not in kinds(make_record(task, {"1": "一、任务分解"}))


def test_short_forms_are_noted_and_placeless_prefixes_warn_in_assignments_and_note_for_issuers():
    # a short form no data file expands (工商总局 itself is in data/national_bodies.csv now)
    lines = TASKS[:2] + ["(一)年度知识产权质押融资金额达到1800亿元。(示例总局负责)"]
    record = make_record(lines, {"1.1": "(一)年度"}, {"1.1": "示例总局"}, TASK_SECTIONS, jurisdiction=None,
                         level="national")
    found = warning(record, report.UNEXPANDED_ABBREVIATION)
    assert found.severity == report.NOTE and "“示例总局”" in found.message  # the right body, in short form
    assert not report.check_document(record).flagged
    full = make_record(lines, {"1.1": "(一)年度"}, {"1.1": "国家工商行政管理总局"}, TASK_SECTIONS, jurisdiction=None,
                       level="national")
    assert report.UNEXPANDED_ABBREVIATION not in kinds(full)
    issuer = make_record(TASKS, TASK_MEASURES, {"1.1": "市知识产权局", "1.2": "市科技局", "1.3": "市人社局"},
                         TASK_SECTIONS, jurisdiction=None, level="district", issuers="区政府")
    placeless = {w.severity: w for w in report.check_document(issuer).warnings if w.kind == report.UNRESOLVED_PLACE}
    assert "“区政府”" in placeless[report.NOTE].message  # the issuer: a note
    assert "“市知识产权局”" in placeless[report.WARNING].message  # no place known for 市 either: assignments warn


def test_notes_alone_do_not_flag_a_document():
    cited = Citation(title="公平竞争审查条例", doc_number=None, kind="drafts", level=None, issuer=None,
                     span=Span(0, 4, TITLE[:4]))
    record = make_record(TASKS, TASK_MEASURES, ALL_ASSIGNED, TASK_SECTIONS, level=None, citations=[cited])
    result = report.check_document(record)
    assert set(result.kinds()) == {report.NO_JURISDICTION, report.CITATION_WITHOUT_LEVEL}
    assert all(w.severity == report.NOTE for w in result.warnings) and not result.flagged
    assert report.format_table([result]) == ""


def test_a_failing_check_becomes_a_note_not_a_traceback():
    record = make_record(TASKS, TASK_MEASURES)
    record.assignments = [None]  # type: ignore[list-item]  # an odd record
    (result,) = report.build_report([record])
    assert result.kinds() == [report.REPORT_ERROR] and "ipgraph bug" in result.warnings[0].message


def test_report_json_is_sorted_and_deterministic_and_the_table_lists_the_flagged():
    good = make_record(TASKS, TASK_MEASURES, ALL_ASSIGNED, TASK_SECTIONS)
    bad = make_record(TASKS, TASK_MEASURES, {"1.1": "市知识产权局"}, TASK_SECTIONS)
    bad.parsed.source = SourceDocument(name="a.txt", text=bad.parsed.source.text)
    reports = report.build_report([good, bad])
    assert [r.document for r in reports] == ["a.txt", "t.txt"]
    text = report.report_json(reports)
    assert text == report.report_json(report.build_report([bad, good]))
    data = json.loads(text)
    assert data["flagged"] == 1 and data["documents_per_kind"] == {report.MEASURE_WITHOUT_ASSIGNMENT: 1}
    assert data["reports"][0]["warnings"][0]["evidence"][0]["line"] == 4
    table = report.format_table(reports)
    assert "1 of 2 document(s) need a look" in table and "a.txt" in table and "t.txt" not in table
    assert "measure_without_assignment (2, line 4)" in table


def test_the_shipped_corpus_builds_quietly_and_writes_report_json(tmp_path, corpus_dir):
    from ipgraph.cli import main

    out = tmp_path / "build"
    result = CliRunner().invoke(main, ["build", str(corpus_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # nothing flagged: no table
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["documents"] == 5 and data["flagged"] == 0
    assert "need a look" not in result.stdout


def test_a_weak_document_is_named_on_stderr_and_its_panel_shows_the_report(tmp_path):
    from ipgraph.cli import main

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "w.txt").write_text("\n".join([
        "天津市示例知识产权工作方案", "为推进知识产权工作,制定本方案。", "一、重点任务",
        "加强立法顶层设计,系统梳理相关法律法规,适时提出立法建议,建立快速维权机制。(市司法局、市知识产权局负责)",
        "(二)加强专利保护。建立快速维权机制,开展执法检查。(市知识产权局负责)"]) + "\n", encoding="utf-8")
    out = tmp_path / "build"
    result = CliRunner().invoke(main, ["build", str(docs), "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    (doc,) = data["reports"]
    assert doc["flagged"], doc  # an unnumbered task paragraph: no rule makes it a measure
    assert "w.txt" in result.stderr and "need a look" in result.stderr
    assert "w.txt" not in result.stdout.replace(str(out), "")
    page = (out / "graph.html").read_text(encoding="utf-8")
    assert doc["warnings"][0]["kind"] in page and "质量提示" in page  # the document panel's data and its heading
    assert report.KIND_LABELS[doc["warnings"][0]["kind"]] in page  # in words a reader of the page knows
    lines = report.read_page_lines(out)
    assert list(lines) == ["w.txt"] and lines["w.txt"][0][0] == report.WARNING
    assert report.read_page_lines(tmp_path) == {}  # no report.json: the page shows none
    # a page drawn later from the build (ipgraph view) reads report.json too
    later = tmp_path / "later.html"
    drawn = CliRunner().invoke(main, ["view", "--graph", str(out), "-o", str(later)])
    assert drawn.exit_code == 0, drawn.output
    assert doc["warnings"][0]["kind"] in later.read_text(encoding="utf-8")
    _panel_shows_the_report(out / "graph.html", "天津市示例知识产权工作方案", doc["warnings"][0]["kind"])


def _panel_shows_the_report(page_path, title: str, kind: str) -> None:
    """In headless Chromium (when installed): search the document, pick it, read its panel."""
    from ipgraph.view import CHROMIUM_PATH, headless_chromium

    if not Path(CHROMIUM_PATH).is_file():
        return
    with headless_chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(page_path.resolve().as_uri())
        page.wait_for_function("window.ipgraphReady === true", timeout=60_000)
        page.fill("#search", title)
        page.click("#search-results li:first-child button")
        panel = page.locator("#panel")
        assert "质量提示" in panel.inner_text()
        warning_items = page.locator("#panel ul.quality li.warning")
        assert warning_items.count() >= 1 and kind in warning_items.first.inner_text()
        assert errors == []


@pytest.mark.skipif(not (SHARED / "dev").is_dir(), reason="../shared/dev is not here")
def test_calibration_meets_the_issue_goals_on_the_shipped_and_dev_sets(tmp_path):
    out = tmp_path / "cal.json"
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "report_calibration.py"), "--variants",
                          "--json", str(out)], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    for figures in (result["figures"], result["variant_figures"]):
        if figures["weak"]:
            assert figures["weak_flagged_right_reason"] >= 0.8 * figures["weak"], run.stdout
        assert figures["perfect_flagged"] <= 0.1 * figures["perfect"], run.stdout


def test_calibration_skips_cleanly_without_the_shared_folder(tmp_path):
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "report_calibration.py"), "--shared",
                          str(tmp_path / "none")], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0 and run.stdout.startswith("skipped:") and run.stderr == ""


def test_cues_that_only_look_like_findings_stay_quiet():
    # words of a clause that are no name (列第一位的为牵头单位) are not unknown bodies
    first = TASKS[:2] + ["(一)加强专利保护。建立快速维权机制,开展执法检查。(市知识产权局、市公安局负责,列第一位的为牵头单位)"]
    listed = make_record(first, {"1.1": "(一)加强"}, {"1.1": "市知识产权局、市公安局"}, TASK_SECTIONS)
    listed.assignments[0].lead = listed.assignments[0].responsible[:1]  # the first listed leads
    assert kinds(listed) == []
    # a body named inside a description is no assignment: 建立由X负责的机制
    described = TASKS[:2] + ["(一)完善工作机制。建立由市知识产权局负责的协调机制,定期会商。"]
    assert kinds(make_record(described, {"1.1": "(一)完善"}, {}, TASK_SECTIONS)) == []
    # a task heading that merely contains a goal word is a task: (一)明确工作目标
    goal = [TITLE, "一、重点任务", "(一)明确工作目标任务。到2025年,专利密集型产业增加值占比达到15%。"]
    assert kinds(make_record(goal, {"1.1": "(一)明确"}, {}, TASK_SECTIONS)) == []
    # numbered lines printed twice are a table of contents, not lost items
    items = [f"({n})推进第{n}项重点工作,完善相关制度建设和政策措施,形成长效机制;" for n in "一二三"]
    toc = [TITLE, "目录", *items, "一、重点任务", *items]
    measures = {f"1.{i + 1}": f"({n})推进" for i, n in enumerate("一二三")}
    record = make_record(toc, measures, {}, TASK_SECTIONS)
    # make_record anchored the measures at the first (contents) copy: move them to the body's copy
    text = record.parsed.source.text
    body = text.index("一、重点任务")
    record.parsed.measures = [Measure(m.number, m.printed, m.text, Span(text.index(m.span.text, body),
                              text.index(m.span.text, body) + len(m.span.text), m.span.text), m.section)
                              for m in record.parsed.measures]
    assert kinds(record) == []


def test_items_merged_into_one_measure_show_their_own_clauses():
    lines = [TITLE, "一、重点任务", "(一)提高专利质量",
             "推动存量专利盘活。建立筛选评价机制,开展推广应用。(市知识产权局、市教委按职责分工负责)",
             "强化增量专利质量管控。推动高校优化专利评估机制。(市知识产权局、市科技局按职责分工负责)"]
    record = make_record(lines, {"1.1": "(一)提高"}, {"1.1": "市知识产权局、市科技局"}, TASK_SECTIONS)
    text = record.parsed.source.text
    m = record.parsed.measures[0]
    end = text.rindex("负责)") + 3  # the measure runs over both unnumbered items
    record.parsed.measures[0] = Measure(m.number, m.printed, text[m.span.start + 3:end], Span(m.span.start, end,
                                        text[m.span.start:end]), m.section)
    found = warning(record, report.UNNUMBERED_MEASURE_LINES)
    assert found.count == 1 and found.evidence[0].line == 4  # the first item's clause; the last is the measure's own


def test_an_end_bracket_opening_with_a_body_is_a_clause_whatever_its_verb():
    lines = TASKS[:2] + ["(一)加强专利保护。建立快速维权机制,开展执法检查。(由市知识产权局按照职责承担)",
                         "(二)加强专利运用。推进专利转化,开展对接活动。(2025年底前完成)"]
    record = make_record(lines, {"1.1": "(一)加强", "1.2": "(二)加强"}, {}, TASK_SECTIONS)
    found = warning(record, report.MEASURE_WITHOUT_ASSIGNMENT)
    assert found.count == 1 and found.evidence[0].line == 3  # a deadline in brackets is no clause


def test_boxes_and_tables_beside_numbered_measures_are_not_lost_measures():
    box = ["专栏1 知识产权保护工程", "建设知识产权保护中心,开展快速维权。(市知识产权局负责)"]
    rows = ["附表 任务分工", "序号\t任务\t责任单位", "1\t加强专利保护\t市知识产权局、市公安局"]
    lines = [TITLE, "一、重点任务", "(一)加强专利保护。建立快速维权机制,开展执法检查。(市知识产权局负责)", *box, *rows]
    record = make_record(lines, {"1.1": "(一)加强"}, {"1.1": "市知识产权局"}, TASK_SECTIONS)
    assert kinds(record) == []
    # without numbered measures the same rows are the document's measures, lost
    alone = make_record([TITLE, "序号\t任务\t内容\t责任单位", "\t加强专利保护\t建立快速维权机制\t市知识产权局、市公安局"])
    assert warning(alone, report.UNNUMBERED_MEASURE_LINES).count == 1


def test_brackets_and_labels_that_name_no_body_are_no_clauses():
    lines = [TITLE, "各承办单位:", "现将有关事项通知如下。", "一、重点任务",
             "(一)加强专利运用。推进专利转化,开展对接活动。(企业参与)"]
    record = make_record(lines, {"1.1": "(一)加强"}, {}, TASK_SECTIONS)
    assert kinds(record) == []
    notice = make_record([TITLE, "各项目承办单位:", "现将申报事项通知如下,请认真组织实施。"])  # no measures: all is read
    assert kinds(notice) == []
    labelled = make_record([TITLE, "责任单位:市知识产权局、市科技局", "加强专利运用,开展对接活动。"])
    assert warning(labelled, report.UNNUMBERED_MEASURE_LINES).evidence[0].line == 2


def test_a_lead_the_clause_does_not_give_or_a_lead_it_gives_not_read_is_a_mismatch():
    lines = TASKS[:2] + ["(一)加强专利保护。建立快速维权机制。(市知识产权局、市公安局按职责分工负责)",
                         "(二)加强专利运用。推进专利转化。(市科技局牵头,市财政局配合)",
                         "(三)加强人才培养。开展专题培训。(市人社局负责,各区政府配合)"]
    measures = {"1.1": "(一)加强", "1.2": "(二)加强", "1.3": "(三)加强"}
    resolver = AgencyResolver("天津市", "municipal")
    record = make_record(lines, measures, {"1.1": "市知识产权局、市公安局", "1.2": "市科技局、市财政局",
                                           "1.3": "市人社局、各区政府"}, TASK_SECTIONS)
    # as the rules read them: 1.1 no lead, 1.2 市科技局, 1.3 市人社局 (one body before 负责)
    right = {"1.1": [], "1.2": resolver.resolve_list("市科技局"), "1.3": resolver.resolve_list("市人社局")}
    for assignment in record.assignments:
        assignment.lead = right[assignment.measure]
    assert report.LEAD_MISMATCH not in kinds(record)
    record.assignments[0].lead = resolver.resolve_list("市知识产权局")  # a lead where the clause shares the work
    record.assignments[1].lead = []  # 牵头 not read
    found = warning(record, report.LEAD_MISMATCH)
    assert found.count == 2 and [e.line for e in found.evidence] == [3, 4]


def test_a_document_in_traditional_characters_is_checked_as_read_and_quoted_as_written(tmp_path, corpus_dir):
    import opencc

    from ipgraph.pipeline import build_graph

    to_traditional = opencc.OpenCC("s2t")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "plan.txt").write_text(to_traditional.convert((corpus_dir / "004_fd40c90dbaa4972a.txt")
                                                         .read_text(encoding="utf-8")), encoding="utf-8")
    (docs / "weak.txt").write_text(to_traditional.convert("\n".join([
        "天津市示例知识产权工作方案", "为推进知识产权工作,制定本方案。", "一、重点任务",
        "加强立法顶层设计,系统梳理相关法律法规,适时提出立法建议,建立快速维权机制。(市司法局、市知识产权局负责)",
        "(二)加强专利保护。建立快速维权机制,开展执法检查。(市知识产权局负责)"])) + "\n", encoding="utf-8")
    reports = {r.document: r for r in report.build_report(build_graph([docs]).records)}
    assert reports["plan.txt"].warnings == []  # read in simplified form, as the extractors read it
    weak = reports["weak.txt"]
    assert weak.flagged, weak
    quoted = weak.warnings[0].evidence[0].text
    assert "負責" in quoted and "负责" not in quoted  # as the document writes it


def test_a_collective_that_shares_the_work_by_its_duties_expects_no_lead():
    # "领导小组各成员单位按职责分工分别负责": one collective name, but the work is distributed (no lead)
    lines = TASKS[:2] + ["(一)加强专利保护。建立快速维权机制。(市知识产权工作领导小组各成员单位按职责分工分别负责)"]
    record = make_record(lines, {"1.1": "(一)加强"}, {"1.1": "市知识产权工作领导小组各成员单位"}, TASK_SECTIONS)
    record.assignments[0].lead = []
    assert report.LEAD_MISMATCH not in kinds(record)
    record.assignments[0].lead = record.assignments[0].responsible[:1]  # a lead the clause does not give
    assert report.LEAD_MISMATCH in kinds(record)
