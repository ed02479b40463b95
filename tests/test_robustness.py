"""Property-based tests (Hypothesis) of the structure parser and the extractors.

On arbitrary Unicode, on Chinese-looking noise and on mutated real documents (slices deleted,
lines duplicated, paragraphs shuffled, noise inserted, truncated): no exception, a bounded
time per document, offsets that point into the text, and no agency that the text does not
name — none at all from text without assignment words or names of bodies.

The time budget is a hang detector, not a speed test: each document runs in a worker thread
and fails the example when it has not finished after BUDGET seconds (a few hundred times what
a corpus document takes), so a catastrophic regular expression fails instead of blocking CI.
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipgraph.model import DocumentRecord, SourceDocument, Span
from ipgraph.pipeline import extract_document
from ipgraph.structure import parse_document

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"
TEXTS = [p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))]
BUDGET = 30.0  # seconds per document
# examples per property; raise it for a longer search: IPGRAPH_HYPOTHESIS_EXAMPLES=5000 pytest tests/test_robustness.py
EXAMPLES = int(os.environ.get("IPGRAPH_HYPOTHESIS_EXAMPLES", "60"))

# Words that give a body work; without them (and without names of bodies) no agency may appear.
ASSIGNMENT_WORDS = ("负责", "牵头", "会同", "配合", "参与", "协助", "协同", "承担", "主责", "协办", "承办", "实施",
                    "单位", "部门", "责任", "加强", "要")
# Characters that end the name of a body (局, 委, 政府 …): excluded from the 'no names' noise.
BODY_SUFFIX_CHARS = set("府厅室会委局部署院办心所队处站司团行关联协科区县市镇街组构位门园")

RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                   max_examples=EXAMPLES)


class Hang(AssertionError):
    """A document took longer than the budget: the text is in the message."""


def bounded(function, *args):
    """function(*args) in a worker thread; its exception re-raised here, Hang after BUDGET seconds."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = function(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(BUDGET)
    if worker.is_alive():
        given_ = args[0].text if isinstance(args[0], SourceDocument) else args[0]
        raise Hang(f"no result after {BUDGET:.0f}s for {str(given_)[:300]!r}…")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]


def source(text: str) -> SourceDocument:
    return SourceDocument(name="random.txt", text=text)


def spans_of(value, seen=None):
    """Every Span inside a record (dataclasses and lists, recursively)."""
    import dataclasses

    seen = set() if seen is None else seen
    if isinstance(value, Span):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type) and id(value) not in seen:
        seen.add(id(value))
        for f in dataclasses.fields(value):
            yield from spans_of(getattr(value, f.name), seen)
    elif isinstance(value, list):
        for item in value:
            yield from spans_of(item, seen)


def agencies(record: DocumentRecord):
    refs = list(record.issuers)
    for assignment in record.assignments:
        refs.extend(assignment.lead)
        refs.extend(assignment.responsible)
    return refs


def check_record(record: DocumentRecord, text: str) -> None:
    """Offsets inside the text, spans quoting it, measures numbered once, agencies named in it."""
    for span in spans_of(record):
        assert 0 <= span.start <= span.end <= len(text), span
    for assignment in record.assignments:
        evidence = assignment.evidence
        assert text[evidence.start:evidence.end] == evidence.text
    numbers = [m.number for m in record.parsed.measures]
    assert len(numbers) == len(set(numbers))
    compact = re.sub(r"\s+", "", text)
    for ref in agencies(record):
        assert re.sub(r"\s+", "", ref.surface) in compact, f"agency {ref.surface!r} is not in the text"


# ---------------------------------------------------------------- arbitrary text


@RELAXED
@given(st.text(max_size=3000))
def test_arbitrary_unicode_parses(text):
    parsed = bounded(parse_document, source(text))
    for measure in parsed.measures:
        assert 0 <= measure.span.start <= measure.span.end <= len(text)


@RELAXED
@given(st.text(max_size=3000))
def test_arbitrary_unicode_extracts_no_agency(text):
    record = bounded(extract_document, source(text))
    check_record(record, text)
    if not any(word in text for word in ASSIGNMENT_WORDS):
        assert agencies(record) == []


# Chinese-looking noise: common characters, numbering markers, brackets, punctuation and line breaks …
_HAN = [chr(c) for c in range(0x4E00, 0x9FA5, 7) if chr(c) not in BODY_SUFFIX_CHARS]
_PLAIN = [
    st.sampled_from(_HAN),
    st.sampled_from(list("的是在了和有为发展建设知识产权保护专利推进创新工作体系")),
    st.sampled_from(["一、", "二、", "三、", "（一）", "（二）", "(三)", "1.", "2．", "（1）", "①", "第一章", "第二条",
                     "表1", "专栏1", "附件"]),
    st.sampled_from(list("，。；：、（）()【】[]《》“”！？ \u3000\n\n\n")),
    st.sampled_from(["2025年", "50%", "10亿元", "2020年9月28日", "〔2021〕5号", "以上", "达到", "万件"]),
]
# … and, for the noise that may name bodies, names, role labels and assignment verbs
_BODIES = st.sampled_from(["市知识产权局", "市科委", "区政府", "各区县人民政府", "有关部门", "国家知识产权局", "市发展改革委",
                           "牵头", "负责", "配合", "会同", "牵头单位：", "责任单位：", "按职责分工负责", "局", "委", "办"])
NOISE = st.lists(st.one_of(*_PLAIN, _BODIES), max_size=1500).map("".join)
PLAIN_NOISE = st.lists(st.one_of(*_PLAIN), max_size=1500).map("".join).filter(
    lambda t: not any(word in t for word in ASSIGNMENT_WORDS))


@RELAXED
@given(NOISE)
def test_chinese_noise_extracts_without_error(text):
    check_record(bounded(extract_document, source(text)), text)


@RELAXED
@given(PLAIN_NOISE)
def test_no_agency_from_noise_without_assignment_words_or_bodies(text):
    record = bounded(extract_document, source(text))
    assert agencies(record) == []
    assert record.assignments == []


# ---------------------------------------------------------------- mutated real documents


@st.composite
def mutated_documents(draw) -> str:
    """A corpus document after a few random edits of the kinds real copies suffer."""
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "duplicate", "shuffle", "noise", "truncate", "join", "cr"]))
        lines = text.split("\n")
        if kind == "delete" and text:
            a = draw(st.integers(0, len(text) - 1))
            text = text[:a] + text[a + draw(st.integers(1, 2000)):]
        elif kind == "duplicate":
            i = draw(st.integers(0, len(lines) - 1))
            lines[i:i] = lines[i:i + draw(st.integers(1, 20))] * draw(st.integers(1, 3))
            text = "\n".join(lines)
        elif kind == "shuffle":
            paragraphs = text.split("\n\n")
            text = "\n\n".join(draw(st.permutations(paragraphs)))
        elif kind == "noise":
            a = draw(st.integers(0, len(text)))
            text = text[:a] + draw(st.one_of(st.text(max_size=50), NOISE.map(lambda t: t[:200]))) + text[a:]
        elif kind == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        elif kind == "join":  # a page saved as one line
            text = text.replace("\n\n", " ").replace("\n", " ")
        else:  # stray carriage returns and form feeds
            text = text.replace("\n", draw(st.sampled_from(["\r\n", "\n\x0c", "\n\u3000\u3000", "\n \n"])))
    return text


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
          max_examples=max(EXAMPLES * 2 // 3, 1))
@given(mutated_documents())
def test_mutated_real_documents(text):
    check_record(bounded(extract_document, source(text)), text)


def test_every_corpus_document_passes_the_checks():
    for text in TEXTS:
        record = bounded(extract_document, source(text))
        check_record(record, text)
        assert record.assignments or record.parsed.measures


def test_the_budget_catches_a_hang():
    import time

    global BUDGET
    saved, BUDGET = BUDGET, 0.2
    try:
        try:
            bounded(lambda text: time.sleep(2), "文本")
        except Hang as exc:
            assert "no result after 0s" in str(exc)
        else:
            raise AssertionError("the hang was not caught")
    finally:
        BUDGET = saved


# ---------------------------------------------------------------- reading arbitrary files

_TAGS = st.sampled_from(["<html>", "<body>", "</body>", "<div class='nav'>", "<div id='zoom'>", "</div>", "<p>", "</p>",
                         "<table>", "<tr>", "<td>", "</td>", "</tr>", "</table>", "<br>", "<script>", "</script>",
                         "<a href='x'>", "</a>", "<h1>", "</h1>", "<ul>", "<li>", "</ul>", "<!--", "-->", "&nbsp;",
                         "&#x4e00;", "索引号：", "文号：", "成文日期：", "<style>", "<pre>", "</pre>", "<", ">", "&"])
MARKUP = st.lists(st.one_of(_TAGS, st.text(max_size=20), NOISE.map(lambda t: t[:80])), max_size=300).map("".join)


@RELAXED
@given(MARKUP)
def test_html_reader_on_arbitrary_markup(markup):
    from ipgraph.read import html_to_text

    text, header = bounded(html_to_text, markup)
    assert isinstance(text, str) and all(isinstance(v, str) and v for v in header.values())


@RELAXED
@given(st.one_of(st.binary(max_size=4000), MARKUP.map(lambda t: t.encode("utf-8")),
                 NOISE.map(lambda t: t.encode("gb18030")), NOISE.map(lambda t: t.encode("utf-16")),
                 st.binary(max_size=200).map(lambda b: b"%PDF-1.4\n" + b), st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b)))
def test_reading_arbitrary_bytes_gives_a_document_or_one_read_error(tmp_path_factory, data):
    from ipgraph.errors import ReadError
    from ipgraph.read import read_document

    path = tmp_path_factory.mktemp("bytes") / "file.txt"
    path.write_bytes(data)
    try:
        doc = bounded(read_document, path)
    except ReadError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
    else:
        assert doc.text.strip()
