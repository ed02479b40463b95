"""Issue 9: no extractor may take super-linear time on hostile text.

A 30 KB run of digits used to take 1 min 45 s in target extraction: a pattern starting with
\\d+ was tried at every digit and rescanned the rest of the run each time. Each extractor
(programmes, targets, citations) is run here on ~100,000 characters of text built to make
backtracking or per-match rescans blow up: runs of digits, of one character, lists of 、,
unmatched 《, nested brackets, thousands of back-references, numbers and box references.

The extractor runs in a child process, so a regex that never returns is stopped by the OS
(the timeout) rather than hanging the suite; the child reports each input's time as it goes,
and the test names every input over the bound. The bound is generous (linear code takes
well under half a second on these inputs; quadratic code takes from 10 s to many minutes).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

N = 100_000  # characters per input
BOUND = 4.0  # seconds per input and extractor
ROOT = Path(__file__).resolve().parents[2]

INPUTS: dict[str, str] = {
    "digits": "1" * N,
    "digits then a unit": "1" * N + "家",
    "comparator then digits": "达到" + "1" * N,
    "digits and dots": "1." * (N // 2),
    "digits and percent signs": "1%" * (N // 2),
    "digits and spaces": "1 " * (N // 2),
    "a year then digits": "到2025年" + "1" * N,
    "verb then digits": "培育" + "1" * N,
    "a list of counts": "到2025年,培育" + "1家、" * (N // 3),
    "counts with comparators": "达到1家以上、" * (N // 7),
    "one character": "专" * N,
    "blank lines and spaces": "\n \n" * (N // 3),
    "a run of 、": "、" * N,
    "a list of 、": "园区、" * (N // 3),
    "unmatched 《": "《" * N,
    "unmatched 《 before words": "《知识产权" * (N // 5),
    "one 《 and no 》": "《" + "知" * N,
    "nested 《》": "《" * (N // 2) + "》" * (N // 2),
    "nested brackets": "(（" * (N // 4) + "）)" * (N // 4),
    "unmatched quotes": "“知识" * (N // 3),
    "back-references": "《甲乙》(以下简称《乙》)" * (N // 14),
    "document numbers inside an open 《": "《" + "国〔2020〕1号" * (N // 10),
    "titles with numbers": "".join(f"《甲{i}》(国〔2020〕{i}号)" for i in range(N // 16)),
    "distinct document numbers": "".join(f"国〔2020〕{i}号、" for i in range(N // 12)),
    "lists of bodies before titles": ("省委、市知识产权局和国家知识产权局、江苏省人民政府" * 2 + "《甲》") * (N // 54),
    "drafting verbs and titles": "制定《甲》、" * (N // 6),
    "references to a box": "专栏1 甲乙工程\n" + "(见专栏1)" * (N // 6),
    "quoted scheme names": "“甲乙”工程专利导航" * (N // 10),
    "implementation phrases": "实施知识产权" * (N // 6),
    "known programmes": "专利导航、" * (N // 5),
    "a list sharing a head noun": "知识产权示范城市" + "、园区" * (N // 3),
    "a list sharing a modifier": "知识产权质押" + "、保险" * (N // 3),
    "many lists sharing a head noun": "知识产权示范城市、园区和企业," * (N // 15),
}

# The child builds a one-measure document by hand (not through structure.py): only the
# extractor is timed.
CHILD = r"""
import json, sys, time
from ipgraph.model import DocumentMeta, Measure, ParsedDocument, SourceDocument, Span
from ipgraph.extract.citations import extract_citations
from ipgraph.extract.programmes import extract_programmes
from ipgraph.extract.targets import extract_targets

which = sys.argv[1]
inputs = json.loads(sys.stdin.read())
for name, text in inputs.items():
    measure = Measure(number="1", printed="1.", text=text, span=Span(0, len(text), text), section=None)
    parsed = ParsedDocument(source=SourceDocument(name="x.txt", text=text), meta=DocumentMeta(title="标题"),
                            sections=[], measures=[measure])
    run = {"programmes": lambda: extract_programmes([measure], text),
           "targets": lambda: extract_targets(parsed),
           "citations": lambda: extract_citations(parsed)}[which]
    print(json.dumps({"start": name}), flush=True)
    began = time.perf_counter()
    run()
    print(json.dumps({"name": name, "seconds": time.perf_counter() - began}), flush=True)
"""


@pytest.mark.parametrize("extractor", ["programmes", "targets", "citations"])
def test_extractor_is_linear_on_hostile_text(extractor):
    timeout = BOUND * len(INPUTS) + 10  # far above what linear code needs, far below a hang
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, extractor], input=json.dumps(INPUTS),
                              capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        out, stuck = done.stdout, None
        assert done.returncode == 0, done.stderr[-2000:]
    except subprocess.TimeoutExpired as expired:
        out = expired.stdout.decode() if isinstance(expired.stdout, bytes) else expired.stdout or ""
        stuck = "still running when stopped"
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    slow = {r["name"]: round(r["seconds"], 2) for r in records if "seconds" in r and r["seconds"] > BOUND}
    finished = {r["name"] for r in records if "seconds" in r}
    if stuck:
        running = [r["start"] for r in records if "start" in r and r["start"] not in finished]
        slow.update({name: stuck for name in running})
    assert not slow, f"{extractor}: over {BOUND} s on {N} characters: {slow}"
    assert finished == set(INPUTS)
