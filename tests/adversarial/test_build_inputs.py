"""Hostile inputs to `ipgraph build` (issue 9, items 5 and 10).

Bombs are built small-but-expanding in tmp_path and read with a small --max-size, so each test
takes seconds and tens of megabytes; where the point is memory, the peak is measured in a child
process (resource.getrusage of a fresh wrapper, so other tests' children do not count).
"""
from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from fixture_files import write_docx, write_pdf

REPO = Path(__file__).resolve().parents[2]
DOC = sorted((REPO / "data" / "corpus").glob("*.txt"))[0]
HEAD = ["关于推进知识产权保护工作的实施方案", "各部门负责落实。"]
BOMB = 64 * 1024 * 1024  # what each bomb inflates to: far beyond the 4.8 MB a 200 KB file may unpack to

# A wrapper that runs the build and prints the largest resident set of its descendants (KiB).
_PEAK = ("import resource, subprocess, sys\n"
         "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
         "sys.stderr.write(p.stderr)\n"
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
         "sys.exit(p.returncode)\n")


def build_with_peak(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    """(peak MiB, result) of `python -m ipgraph build ARGS` in a fresh process tree."""
    result = subprocess.run([sys.executable, "-c", _PEAK, sys.executable, "-m", "ipgraph", "build", *args],
                            cwd=REPO, capture_output=True, text=True, timeout=180)
    return int(result.stdout.split()[-1]) / 1024, result


def run_build(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ipgraph", "build", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


def docx_bomb(path: Path, plain: Path) -> Path:
    """`plain` with its styles.xml replaced by BOMB bytes of spaces (deflated: about 64 KB)."""
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            if info.filename != "word/styles.xml":
                dst.writestr(info, src.read(info.filename))
                continue
            with dst.open("word/styles.xml", "w", force_zip64=True) as member:
                member.write(b'<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">')
                for _ in range(BOMB >> 20):
                    member.write(b" " * (1 << 20))
                member.write(b"</w:styles>")
    return path


def pdf_with_stream(path: Path, extra: bytes = b"", inflate_to: int = 0, compress: bool = True) -> Path:
    """A one-page PDF (HEAD as text) whose content stream also holds `extra` and `inflate_to` spaces."""
    write_pdf(path, [HEAD])
    pdf = path.read_bytes()
    m = re.search(rb"6 0 obj\n<< /Length (\d+) >>\nstream\n", pdf)
    assert m
    start, length = m.end(), int(m.group(1))
    if compress:
        packer = zlib.compressobj(9)
        parts = [packer.compress(pdf[start:start + length] + b"\n" + extra)]
        parts += [packer.compress(b" " * (1 << 20)) for _ in range(inflate_to >> 20)]
        body, flate = b"".join(parts) + packer.flush(), b" /Filter /FlateDecode"
    else:
        body, flate = pdf[start:start + length] + b"\n" + extra, b""
    head = b"6 0 obj\n<< /Length %d%s >>\nstream\n" % (len(body), flate)
    path.write_bytes(pdf[:m.start()] + head + body + pdf[start + length:])  # offsets off: readers rescan
    return path


def lzw_bomb(cycles: int) -> bytes:
    """LZWDecode codes (9-12 bits, clear 256, end 257) unpacking to runs of spaces, each code naming
    the run one longer than the last: about 16 KB per 22 MB."""
    bits, count, width = 0, 0, 9

    def emit(code: int) -> None:
        nonlocal bits, count
        bits, count = (bits << width) | code, count + width

    for _ in range(cycles):
        emit(256)  # clear the table, at the width the decoder reads now
        width, size = 9, 258
        emit(32)
        while size <= 4095:
            emit(size)  # the entry being defined: the previous run plus one space
            size += 1
            width = {511: 10, 1023: 11, 2047: 12}.get(size, width)
    emit(257)
    pad = -count % 8
    return (bits << pad).to_bytes((count + pad) // 8, "big")


def pdf_with_second_stream(path: Path, filter_name: str, encoded: bytes) -> Path:
    """A one-page PDF (HEAD as text) whose page has a second content stream, `encoded` under `filter_name`."""
    write_pdf(path, [HEAD])
    pdf = path.read_bytes().replace(b"/Contents 6 0 R", b"/Contents [6 0 R 99 0 R]")
    extra = (b"99 0 obj\n<< /Length %d /Filter /%s >>\nstream\n" % (len(encoded), filter_name.encode())
             + encoded + b"\nendstream\nendobj\n")
    at = pdf.index(b"xref\n")
    path.write_bytes(pdf[:at] + extra + pdf[at:])  # offsets off: readers rescan
    return path


def scattered_text(boxes: int) -> bytes:
    """Text operators: `boxes` separate text objects at scattered positions on one page."""
    rnd = random.Random(9)
    word = "推进".encode("utf-16-be").hex()
    return "\n".join(f"BT /F1 4 Tf {rnd.randrange(2000) / 3:.1f} {rnd.randrange(2500) / 3:.1f} Td <{word}> Tj ET"
                     for _ in range(boxes)).encode("ascii")


# ---------------------------------------------------------------- item 5: decompression bombs


def test_a_docx_bomb_stops_at_the_limit_with_little_memory(tmp_path):
    plain = write_docx(tmp_path / "plain.docx", HEAD)
    bomb = docx_bomb(tmp_path / "bomb.docx", plain)
    assert bomb.stat().st_size < 200 * 1024
    base_peak, base = build_with_peak(str(plain), "-o", str(tmp_path / "b0"), "--max-size", "200K")
    assert base.returncode == 0, base.stderr
    peak, result = build_with_peak(str(bomb), "-o", str(tmp_path / "b1"), "--max-size", "200K")
    assert result.returncode == 3
    assert (f"skipped {bomb}: too large: it unpacks to more than 4.8 MB (the limit for --max-size 200.0 KB) "
            f"at word/styles.xml\n") in result.stderr
    assert peak < base_peak + 24, f"{peak:.0f} MiB for the bomb, {base_peak:.0f} MiB for the plain .docx"


@pytest.fixture(scope="module")
def plain_pdf_peak(tmp_path_factory) -> float:
    """Peak MiB of a build of the plain one-page PDF: the baseline of the three PDF bombs, built once."""
    tmp = tmp_path_factory.mktemp("plain-pdf")
    plain = pdf_with_stream(tmp / "plain.pdf")
    base_peak, base = build_with_peak(str(plain), "-o", str(tmp / "b0"), "--max-size", "200K")
    assert base.returncode == 0, base.stderr
    return base_peak


def test_a_pdf_bomb_stops_at_the_limit_with_little_memory(tmp_path, plain_pdf_peak):
    base_peak = plain_pdf_peak
    bomb = pdf_with_stream(tmp_path / "bomb.pdf", inflate_to=BOMB)
    assert bomb.stat().st_size < 200 * 1024
    peak, result = build_with_peak(str(bomb), "-o", str(tmp_path / "b1"), "--max-size", "200K")
    assert result.returncode == 3
    assert (f"skipped {bomb}: too large: its streams unpack to more than 4.8 MB (the limit for --max-size "
            f"200.0 KB)\n") in result.stderr
    assert peak < base_peak + 24, f"{peak:.0f} MiB for the bomb, {base_peak:.0f} MiB for the plain PDF"


@pytest.mark.parametrize("filter_name", ["LZWDecode", "RunLengthDecode"])
def test_lzw_and_run_length_bombs_stop_at_the_limit(tmp_path, filter_name, plain_pdf_peak):
    encoded = {"LZWDecode": lzw_bomb(9),  # 48 KB of codes: 66 MB
               "RunLengthDecode": b"\x81 " * 90_000}[filter_name]  # 180 KB: 11.5 MB, kept by pdfminer as ints
    base_peak = plain_pdf_peak
    bomb = pdf_with_second_stream(tmp_path / "bomb.pdf", filter_name, encoded)
    assert bomb.stat().st_size < 200 * 1024
    peak, result = build_with_peak(str(bomb), "-o", str(tmp_path / "b1"), "--max-size", "200K")
    assert result.returncode == 3
    assert (f"skipped {bomb}: too large: its streams unpack to more than 4.8 MB (the limit for --max-size "
            f"200.0 KB)\n") in result.stderr
    assert peak < base_peak + 24, f"{peak:.0f} MiB for the bomb, {base_peak:.0f} MiB for the plain PDF"


def test_the_bounded_decoders_decode_as_pdfminer_does():
    from pdfminer.lzw import lzwdecode
    from pdfminer.runlength import rldecode

    from ipgraph.read import _bounded_lzwdecode, _bounded_rldecode

    codes = lzw_bomb(2)
    assert _bounded_lzwdecode(codes) == lzwdecode(codes)
    runs = b"\x02abc\xfdx\x00y\x80ignored"
    assert _bounded_rldecode(runs) == rldecode(runs) == b"abcxxxxy"
    pdf_text = "".join(chr(c) for c in _bounded_rldecode(b"\x81 "))
    assert pdf_text == " " * 128


def test_a_compressed_pdf_within_the_limit_still_reads(tmp_path):
    from ipgraph.read import read_document

    doc = read_document(pdf_with_stream(tmp_path / "ok.pdf", inflate_to=1 << 20), max_bytes=1024 * 1024)
    assert HEAD[0] in doc.text


# ---------------------------------------------------------------- item 5: time


def test_many_text_boxes_on_a_page_are_read_in_linear_time(tmp_path):
    # pdfminer's box grouping compared every pair of boxes: 2,000 boxes took 30 s and 690 MB
    from ipgraph.read import read_document

    pdf = pdf_with_stream(tmp_path / "boxes.pdf", extra=scattered_text(2000), compress=False)
    started = time.monotonic()
    doc = read_document(pdf)
    assert time.monotonic() - started < 8
    assert doc.text.count("推进") >= 2000


def test_a_file_over_its_time_budget_is_stopped_and_the_rest_builds(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a-good.txt").write_bytes(DOC.read_bytes())
    # 30 KB of digits inside a measure: the target patterns once took minutes on it; now linear, it builds
    digits = inputs / "digits.txt"
    digits.write_text(f"{HEAD[0]}\n\n一、重点任务\n\n（一）加强知识产权保护。到2025年，专利{'1' * 30000}件以上。"
                      f"（市知识产权局负责）\n", encoding="utf-8")
    # 20,000 text objects on one page (900 KB): pdfminer needs well over the budget
    boxes = pdf_with_stream(inputs / "boxes.pdf", extra=scattered_text(20000), compress=False)
    started = time.monotonic()
    result = run_build(str(inputs), "-o", str(tmp_path / "out"), "--file-timeout", "2")
    took = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("skipped") or "file(s) skipped" in line] == [
        f"skipped {boxes}: took longer than 2 s to read and extract (--file-timeout); stopped and skipped",
        "1 of 3 file(s) skipped (named above); exit status 1",
    ]
    assert "documents   2\n" in result.stdout
    assert took < 40
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["documents"] == ["a-good.txt", "digits.txt"]


def test_the_worker_is_not_left_running(tmp_path, monkeypatch):
    import multiprocessing

    import ipgraph.pipeline as pipeline

    real = pipeline.read_document

    def stuck(path, max_bytes):  # a reader that never returns, standing in for any slow path
        if path.name == "slow.txt":
            time.sleep(600)
        return real(path, max_bytes=max_bytes)

    monkeypatch.setattr(pipeline, "read_document", stuck)
    slow = tmp_path / "slow.txt"
    slow.write_text(f"{HEAD[0]}\n\n一、重点任务\n\n（一）加强保护。\n", encoding="utf-8")
    result = pipeline.build_graph([DOC, slow], file_timeout=1)
    assert [r.parsed.source.name for r in result.records] == [DOC.name]
    assert [e.cause for e in result.skipped] == [
        "took longer than 1 s to read and extract (--file-timeout); stopped and skipped"]
    assert multiprocessing.active_children() == []


def test_a_file_that_takes_too_much_memory_is_stopped_by_the_os(tmp_path, monkeypatch):
    # a runaway reader, standing in for a parser that allocates without end: 64 maps of 256 MB,
    # never touched (so without the cap nothing but address space is used, and nothing fails)
    import mmap

    import ipgraph.pipeline as pipeline

    real = pipeline.read_document

    def runaway(path, max_bytes):
        if path.name == "greedy.txt":
            maps = [mmap.mmap(-1, 256 * 1024 ** 2) for _ in range(64)]
            del maps
        return real(path, max_bytes=max_bytes)

    monkeypatch.setattr(pipeline, "read_document", runaway)
    greedy = tmp_path / "greedy.txt"
    greedy.write_bytes(sorted((REPO / "data" / "corpus").glob("*.txt"))[1].read_bytes())
    result = pipeline.build_graph([DOC, greedy])
    assert [r.parsed.source.name for r in result.records] == [DOC.name]
    assert [e.cause for e in result.skipped] == [
        "ran out of memory: it needed more than 2.6 GB (the allowance for --max-size 10.0 MB); skipped"]


# ---------------------------------------------------------------- item 10: small ones


def test_links_pipes_and_devices_in_a_folder_are_named(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_bytes(DOC.read_bytes())
    (folder / "loop.txt").symlink_to("loop.txt")
    (folder / "dangling.txt").symlink_to("missing.txt")
    os.mkfifo(folder / "pipe.txt")
    (folder / "device.txt").symlink_to("/dev/null")
    result = run_build(str(folder), "-o", str(tmp_path / "out"), timeout=60)
    assert result.returncode == 1
    assert sorted(result.stderr.splitlines()[:-1]) == sorted([
        f"skipped {folder / 'dangling.txt'}: dangling symbolic link (its target does not exist)",
        f"skipped {folder / 'device.txt'}: not a regular file: a device",
        f"skipped {folder / 'loop.txt'}: symbolic link loop",
        f"skipped {folder / 'pipe.txt'}: not a regular file: a named pipe (FIFO)",
    ])
    assert "documents   1\n" in result.stdout


def test_a_gbk_file_name_is_read_as_chinese(tmp_path):
    from rdflib import Graph

    folder = tmp_path / "in"
    folder.mkdir()
    name = os.fsencode(folder) + b"/" + "方案一".encode("gbk") + b".txt"
    with open(name, "wb") as handle:
        handle.write(DOC.read_bytes())
    result = run_build(str(folder), "-o", str(tmp_path / "out"), timeout=60)
    assert result.returncode == 0, result.stderr
    graph = Graph().parse(tmp_path / "out" / "ipgraph.nt", format="nt")
    names = {str(o) for s, p, o in graph if str(p).endswith("#sourceFile")}
    assert names == {"方案一.txt"}


def test_sizes_that_round_alike_are_given_in_bytes(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(DOC.read_bytes()[:1025])
    result = run_build(str(big), "-o", str(tmp_path / "out"), "--max-size", "1K", timeout=60)
    assert result.returncode == 3
    assert result.stderr.splitlines()[0] == (f"skipped {big}: too large: 1,025 bytes, above the 1,024-byte limit "
                                             f"(raise it with --max-size)")


def test_control_characters_in_file_names_are_escaped(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_bytes(DOC.read_bytes())
    (folder / "red\x1b[31m\x07.txt").write_bytes(b"")
    result = run_build(str(folder), "-o", str(tmp_path / "out"), timeout=60)
    assert result.returncode == 1
    assert f"skipped {folder}/red\\x1b[31m\\x07.txt: empty file\n" in result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["skipped"] == [f"{folder}/red\\x1b[31m\\x07.txt: empty file"]


def test_a_build_into_its_own_input_folder_does_not_read_its_outputs(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "doc.txt").write_bytes(DOC.read_bytes())
    for _ in range(2):
        result = run_build(str(folder), "-o", str(folder), timeout=120)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        assert "documents   1\n" in result.stdout
    assert (folder / "graph.html").is_file()
    assert len(list((folder / ".ipgraph").glob("gen-*"))) == 1  # the input folder holds the build: still cleaned
    named = run_build(str(folder / "graph.html"), "-o", str(tmp_path / "other"), timeout=60)
    assert named.returncode == 3
    assert f"skipped {folder / 'graph.html'}: an output of ipgraph build, not a source document\n" in named.stderr


def test_the_worker_gives_the_same_graph_as_a_build_in_one_process(tmp_path):
    from ipgraph import pipeline

    graphs = []
    for timeout in (None, 30.0):  # in this process, then in the time-limited workers; in-process: no CLI start-up
        result = pipeline.build_graph([REPO / "data" / "corpus"], file_timeout=timeout, jobs=1 if timeout is None else 2)
        assert result.skipped == []
        pipeline.write_outputs(result, tmp_path / str(timeout))
        graphs.append((tmp_path / str(timeout) / "ipgraph.nt").read_bytes())
    assert graphs[0] == graphs[1] and len(graphs[0]) > 100_000
