"""ipgraph.read: formats detected from content, bad files refused with one clear cause each."""
from __future__ import annotations

import os
import random
import zipfile
from pathlib import Path

import pytest
from fixture_files import write_docx, write_pdf

from ipgraph.errors import ReadError
from ipgraph.read import (
    DEFAULT_MAX_BYTES,
    collect_paths,
    html_to_text,
    matching_form,
    policy_problem,
    read_document,
    restore_verbatim,
)

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"
# a short policy text used for encodings: the first 40 lines of a corpus document
POLICY = "\n".join((CORPUS / "002_842afa8849cffd08.txt").read_text(encoding="utf-8").splitlines()[:40]) + "\n"
SHORT = "天津市知识产权局关于印发实施方案的通知\n一、加强知识产权保护，推进专利转化。(市知识产权局负责)\n"


def refused(path: Path, **kwargs) -> str:
    """The cause read_document gives for refusing `path` (fails when it accepts the file)."""
    with pytest.raises(ReadError) as info:
        read_document(path, **kwargs)
    assert info.value.path == path
    assert str(info.value).startswith(f"{path}: ")
    assert "\n" not in str(info.value)
    return info.value.cause


# ---------------------------------------------------------------- encodings


@pytest.mark.parametrize(("encoding", "data"), [
    ("utf-8", POLICY.encode("utf-8")),
    ("utf-8-sig", b"\xef\xbb\xbf" + POLICY.encode("utf-8")),
    ("gb18030", POLICY.encode("gb18030")),
    ("gb18030", POLICY.encode("gbk")),
    ("utf-16", POLICY.encode("utf-16")),  # with a byte-order mark
    ("utf-16", b"\xfe\xff" + POLICY.encode("utf-16-be")),
    ("utf_16_le", POLICY.encode("utf-16-le")),  # no byte-order mark
    ("utf-32", POLICY.encode("utf-32")),
], ids=["utf8", "utf8-bom", "gb18030", "gbk", "utf16-bom-le", "utf16-bom-be", "utf16-le-no-bom", "utf32"])
def test_text_encodings_are_detected_from_the_content(tmp_path, encoding, data):
    path = tmp_path / "doc.txt"
    path.write_bytes(data)
    doc = read_document(path)
    assert doc.text == POLICY
    assert doc.encoding == encoding


def test_gbk_text_short_enough_to_fool_a_guess_still_decodes(tmp_path):
    path = tmp_path / "short.txt"
    path.write_bytes(SHORT.encode("gbk"))
    assert read_document(path).text == SHORT


def test_big5_traditional_text_is_read_verbatim(tmp_path):
    traditional = "天津市知識產權局關於印發實施方案的通知\n一、加強知識產權保護，推進專利轉化。（市知識產權局負責）\n"
    path = tmp_path / "big5.txt"
    path.write_bytes(traditional.encode("big5"))
    doc = read_document(path)
    assert doc.text == traditional  # verbatim: not converted on reading
    assert matching_form(doc.text) == "天津市知识产权局关于印发实施方案的通知\n一、加强知识产权保护，推进专利转化。（市知识产权局负责）\n"


def test_windows_line_ends_are_normalised(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(SHORT.replace("\n", "\r\n").encode("gbk"))
    assert read_document(path).text == SHORT


def test_the_kind_comes_from_the_content_not_the_name(tmp_path):
    pdf = write_pdf(tmp_path / "really-a-pdf.txt", [SHORT.splitlines()])
    assert read_document(pdf).media_type == "application/pdf"
    text = tmp_path / "really-text.docx"
    text.write_bytes(SHORT.encode("gb18030"))
    assert read_document(text).text == SHORT


# ---------------------------------------------------------------- HTML


def test_html_page_main_text_without_navigation(tmp_path):
    doc = read_document(FIXTURES / "gov_page.html")
    assert doc.media_type == "text/html"
    text = doc.text
    assert "（一）完善执法机制。建立健全知识产权快速维权机制。（市知识产权局牵头，市公安局配合）" in text
    assert "天津市知识产权局关于印发《天津市知识产权保护实施方案》的通知" in text
    for furniture in ("当前位置", "互动交流", "打印本页", "关闭窗口", "分享到", "版权所有", "关于A的通知", "var x", ".a{}"):
        assert furniture not in text, furniture
    # the indicator table keeps one line per row, cells tab-separated
    assert "每万人发明专利拥有量\t20\t30" in text


def test_html_header_table_becomes_metadata_and_stays_in_the_text():
    doc = read_document(FIXTURES / "gov_page.html")
    assert doc.header == {
        "index_number": "11120000MB1234567X/2021-00123",
        "subject": "科技、教育",
        "title": "天津市知识产权局关于印发《天津市知识产权保护实施方案》的通知",
        "issuer": "天津市知识产权局",
        "doc_number": "津知发〔2021〕5号",
        "date_signed": "2021年03月15日",
        "date_published": "2021年03月18日",
    }
    assert doc.text.startswith("索引号:11120000MB1234567X/2021-00123\n")
    assert "文号:津知发〔2021〕5号\n成文日期:2021年03月15日\n" in doc.text


def test_html_header_reaches_the_document_metadata():
    from ipgraph.pipeline import extract_document

    meta = extract_document(read_document(FIXTURES / "gov_page.html")).parsed.meta
    assert meta.doc_number == "津知发〔2021〕5号"
    assert meta.date_signed == "2021-03-15"
    assert meta.date_published == "2021-03-18"
    assert meta.issuers == ["天津市知识产权局"]


def test_gbk_html_page_declaring_its_charset(tmp_path):
    page = (FIXTURES / "gov_page.html").read_text(encoding="utf-8").replace('charset="utf-8"', 'charset="gbk"')
    path = tmp_path / "page.htm"
    path.write_bytes(page.encode("gbk"))
    doc = read_document(path)
    assert doc.encoding == "gb18030"
    assert doc.header["doc_number"] == "津知发〔2021〕5号"


@pytest.mark.parametrize("markup", [
    # label and value in one cell, several pairs on one line
    "<table><tr><td>索引号：000014349/2021-00081  主题分类：科技</td></tr>"
    "<tr><td>发文机关：国务院办公厅  成文日期：2021年09月22日</td></tr></table>",
    # a list instead of a table, labels in their own elements
    "<ul class='xxgk'><li><label>索引号：</label><span>000014349/2021-00081</span></li>"
    "<li><label>发文机关：</label><span>国务院办公厅</span></li>"
    "<li><label>成文日期：</label><span>2021年09月22日</span></li></ul>",
])
def test_html_header_layouts(markup):
    body = "<div id='zoom'><p>各省、自治区、直辖市人民政府，国务院各部委、各直属机构：现将方案印发给你们，请认真贯彻落实。</p></div>"
    text, header = html_to_text(f"<html><body>{markup}{body}</body></html>")
    assert header["index_number"] == "000014349/2021-00081"
    assert header["issuer"] == "国务院办公厅"
    assert header["date_signed"] == "2021年09月22日"
    assert "现将方案印发给你们" in text


def test_deeply_nested_html_does_not_overflow(tmp_path):
    path = tmp_path / "deep.html"
    path.write_text("<html><body>" + "<div>" * 20000 + f"<p>{SHORT}</p>" + "</div>" * 20000 + "</body></html>",
                    encoding="utf-8")
    assert "推进专利转化" in read_document(path).text


def test_html_page_without_text(tmp_path):
    path = tmp_path / "empty.html"
    path.write_text("<!DOCTYPE html><html><head><title>x</title></head><body><script>1</script></body></html>",
                    encoding="utf-8")
    assert refused(path) == "no text in this HTML page"


# ---------------------------------------------------------------- docx and PDF


def test_docx_paragraphs_tables_and_title(tmp_path):
    path = write_docx(tmp_path / "方案.docx", SHORT.splitlines(), table=[["指标", "2025年"], ["专利", "30"]],
                      title="知识产权保护实施方案")
    doc = read_document(path)
    assert doc.text == ("天津市知识产权局关于印发实施方案的通知\n\n一、加强知识产权保护，推进专利转化。(市知识产权局负责)\n\n"
                        "指标\t2025年\n专利\t30\n")
    assert doc.header == {"title": "知识产权保护实施方案"}


def test_pdf_text_layer_without_page_numbers(tmp_path):
    lines = SHORT.splitlines()
    path = write_pdf(tmp_path / "方案.pdf", [[lines[0], "- 1 -"], [lines[1], "2"]])
    doc = read_document(path)
    assert doc.media_type == "application/pdf"
    assert doc.text == f"{lines[0]}\n\n{lines[1]}\n"


def test_pdf_text_above_the_limit_is_refused_while_streaming(tmp_path):
    path = write_pdf(tmp_path / "long.pdf", [SHORT.splitlines() * 20] * 5, compress=True)
    assert path.stat().st_size < 4000  # the file is under the limit, its text is not
    assert refused(path, max_bytes=4000) == "too large: its text passes the 3.9 KB limit at page 2 (--max-size)"


def test_pdf_without_text_layer(tmp_path):
    path = write_pdf(tmp_path / "scan.pdf", [[], []])
    assert refused(path) == "PDF has no text layer (2 page(s) of images?); OCR it first"


def test_broken_pdf(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF")
    assert refused(path) == "not a readable PDF: no pages found (truncated or broken file?)"


def test_truncated_pdf(tmp_path):
    good = write_pdf(tmp_path / "good.pdf", [SHORT.splitlines()])
    path = tmp_path / "truncated.pdf"
    path.write_bytes(good.read_bytes()[:300])
    assert refused(path).startswith("not a readable PDF: ")


def test_zip_that_is_not_a_docx(tmp_path):
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", SHORT)
    assert refused(path) == "binary file: a zip archive, not a .docx document"


def test_docx_with_a_broken_document_part(tmp_path):
    path = tmp_path / "broken.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>not xml")
    assert refused(path).startswith("not a readable .docx: ")


def test_truncated_docx(tmp_path):
    good = write_docx(tmp_path / "good.docx", SHORT.splitlines())
    path = tmp_path / "truncated.docx"
    path.write_bytes(good.read_bytes()[:2000])
    assert refused(path).startswith("not a readable .docx: ")


# ---------------------------------------------------------------- bad files


@pytest.mark.parametrize(("data", "cause"), [
    (b"", "empty file"),
    (b" \r\n\t\n", "empty file"),
    (b"\xef\xbb\xbf", "empty file"),
    (b"\xff\xfe", "empty file"),
])
def test_empty_files(tmp_path, data, cause):
    path = tmp_path / "empty.txt"
    path.write_bytes(data)
    assert refused(path) == cause


_NOISE = random.Random(252).randbytes(200)  # seeded: the same test ids in every process (pytest -n)


@pytest.mark.parametrize(("data", "cause"), [
    (b"\x89PNG\r\n\x1a\n" + _NOISE, "binary file: a PNG image, not text"),
    (b"\x7fELF\x02\x01\x01" + bytes(100), "binary file: an executable (ELF), not text"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "binary file: a legacy Office file (.doc/.xls/.ppt); "
                                                          "save it as .docx, not text"),
    (b"\x1f\x8b\x08\x00" + _NOISE[:100], "binary file: a gzip archive, not text"),
])
def test_binary_files_by_signature(tmp_path, data, cause):
    path = tmp_path / "file.txt"
    path.write_bytes(data)
    assert refused(path) == cause


def test_binary_file_without_a_known_signature(tmp_path):
    path = tmp_path / "data.txt"
    path.write_bytes(bytes(range(256)) * 8)
    assert refused(path).startswith("binary file: ")


def test_text_with_control_characters_is_binary(tmp_path):
    path = tmp_path / "dump.txt"
    path.write_bytes(("通知\x01\x02\x03\x04" * 50).encode("utf-8"))
    assert refused(path).startswith("binary file: 200 control characters")


def test_undecodable_bytes(tmp_path):
    path = tmp_path / "mixed.txt"
    # UTF-8 with stray bytes that are no encoding's text
    path.write_bytes("关于加强知识产权保护的通知".encode() + b"\xff\xfe\xfd" + "推进实施".encode("gbk"))
    assert refused(path) == "undecodable: not UTF-8 (invalid UTF-8 at byte 39), UTF-16, GB18030/GBK or Big5 text"


def test_file_above_the_limit_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:  # sparse: 64 GiB that would exhaust memory if read
        handle.truncate(64 * 1024 ** 3)
    assert refused(path) == "too large: 64.0 GB, above the 10.0 MB limit (raise it with --max-size)"


def test_the_limit_is_an_argument(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_bytes(POLICY.encode("utf-8"))
    assert refused(path, max_bytes=1000).startswith("too large: ")
    assert read_document(path, max_bytes=len(POLICY.encode("utf-8"))).text == POLICY
    assert DEFAULT_MAX_BYTES == 10 * 1024 * 1024


def test_special_files_are_not_read(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)  # reading it would block forever
    assert refused(fifo) == "not a regular file: a named pipe (FIFO)"
    assert refused(tmp_path / "missing.txt") == "no such file"
    assert refused(tmp_path) == "is a folder, not a file"


@pytest.mark.parametrize(("text", "cause"), [
    ("This README explains how to install the tool.\n" * 20, "not a policy document: no Chinese text"),
    ("附件1\n附件2\n", "not a policy document: only 4 Chinese characters"),
    ("床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n" * 3,
     "not a policy document: Chinese text without the vocabulary of policy prose: none of 通知, 实施, 推进, 负责, 政府 …"),
])
def test_not_a_policy_document(tmp_path, text, cause):
    path = tmp_path / "other.txt"
    path.write_text(text, encoding="utf-8")
    assert refused(path) == cause


def test_text_in_a_non_chinese_encoding_says_how_it_was_read(tmp_path):
    path = tmp_path / "cp1252.txt"
    path.write_bytes("Déclaration de politique générale — résumé, naïve café.\n".encode("cp1252") * 5)
    cause = refused(path)
    assert cause.startswith("not a policy document: no Chinese text (read as ")


def test_policy_problem_accepts_short_policy_prose():
    assert policy_problem(SHORT) is None
    assert policy_problem("一、市科委负责推进专利工作。") is None


def test_names_with_spaces_and_chinese_characters(tmp_path):
    path = tmp_path / "天津 专利 方案 (2021).txt"
    path.write_text(SHORT, encoding="utf-8")
    doc = read_document(path)
    assert doc.name == "天津 专利 方案 (2021).txt"
    assert doc.text == SHORT


# ---------------------------------------------------------------- traditional characters


def test_matching_form_keeps_offsets():
    traditional = "國務院辦公廳關於印發知識產權強國建設綱要的通知\n（市發展改革委、市科委負責）"
    simplified = matching_form(traditional)
    assert simplified == "国务院办公厅关于印发知识产权强国建设纲要的通知\n（市发展改革委、市科委负责）"
    assert len(simplified) == len(traditional)
    assert matching_form(SHORT) == SHORT


def test_restore_verbatim_gives_spans_the_source_text():
    from ipgraph.model import Measure, Span

    verbatim = "一、加強保護。（市知識產權局負責）"
    matched = matching_form(verbatim)
    measure = Measure("1", "一、", matched[2:], Span(0, len(matched), matched), None,
                      assignment=Span(7, len(matched), matched[7:]))
    restore_verbatim(measure, verbatim, matched)
    assert measure.span.text == verbatim
    assert measure.assignment is not None and measure.assignment.text == "（市知識產權局負責）"
    assert measure.text == matched[2:]  # strings other than spans keep the matching form


# ---------------------------------------------------------------- folders


def test_collect_paths_expands_folders_by_supported_suffix(tmp_path):
    for name in ("b.txt", "a.HTML", "c.docx", "d.pdf", "e.htm", "notes.md", ".hidden.txt", "~$lock.docx"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    explicit = tmp_path / "notes.md"
    found = collect_paths([tmp_path, explicit, tmp_path / "b.txt"])
    assert [p.name for p in found] == ["a.HTML", "b.txt", "c.docx", "d.pdf", "e.htm", "notes.md"]


def test_traditional_document_is_matched_simplified_and_quoted_verbatim(tmp_path):
    import opencc
    from rdflib import Literal

    from ipgraph.pipeline import build_graph
    from ipgraph.vocab import IPG

    simplified = (CORPUS / "004_fd40c90dbaa4972a.txt").read_text(encoding="utf-8")
    traditional = opencc.OpenCC("s2t").convert(simplified)
    assert len(traditional) == len(simplified) and traditional != simplified
    (tmp_path / "trad.txt").write_text(traditional, encoding="utf-8")
    plain = build_graph([CORPUS / "004_fd40c90dbaa4972a.txt"]).records[0]
    result = build_graph([tmp_path / "trad.txt"])
    record = result.records[0]
    assert record.parsed.source.text == traditional  # the verbatim text is kept
    # the same assignments are found as in the simplified original …
    assert [(a.measure, [r.canonical for r in a.responsible]) for a in record.assignments] == \
        [(a.measure, [r.canonical for r in a.responsible]) for a in plain.assignments]
    assert len(record.assignments) > 30
    # … and the evidence quotes the traditional text as written
    evidence = {str(o) for o in result.graph.objects(None, IPG.evidence)}
    assert evidence and all(e in traditional for e in evidence)
    assert any(e != matching_form(e) for e in evidence)
    assert Literal(record.assignments[0].evidence.text, lang="zh") in set(result.graph.objects(None, IPG.evidence))
