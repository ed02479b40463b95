"""Stage 1: read a source file into a SourceDocument (decoded text plus what the container says).

What a file is comes from its content, never from its name:

* ``%PDF-`` → a PDF, read through its text layer (pdfminer.six);
* a zip holding ``word/document.xml`` → a Word .docx (python-docx);
* other known signatures (images, archives, executables, legacy .doc) → refused as binary;
* anything else is text: a byte-order mark decides (UTF-8, UTF-16, UTF-32), then strict UTF-8,
  then the page's own ``<meta charset>``, then charset-normalizer (which tells GB18030/GBK,
  Big5 and BOM-less UTF-16 apart); text that starts like an HTML page is an HTML page.

Every refusal is a ReadError naming the file and the cause in one line. A file above the size
limit is refused from its size alone, before any of it is read, and no file is ever read past
the limit, so one huge or endless file cannot exhaust memory.

`SourceDocument.text` is the text verbatim. Documents in traditional characters are matched
in their simplified form: `matching_form` converts character for character (opencc t2s), so
offsets into the matching form are offsets into the verbatim text.
"""
from __future__ import annotations

import dataclasses
import errno
import functools
import io
import logging
import os
import re
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ipgraph.errors import InputError, ReadError
from ipgraph.model import SourceDocument, Span

SUPPORTED_SUFFIXES = (".txt", ".html", ".htm", ".docx", ".pdf")
# The default limit on a file's size and on the text read out of it (UTF-8 bytes). The longest
# national plans are about 0.2 MB of text; 10 MiB leaves room for PDFs with pictures while a build
# of one such file still takes seconds and well under a gigabyte of memory.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

# A policy document is Chinese prose: at least this many CJK characters …
MIN_CJK_CHARS = 10
# … and at least two of the words that policy documents are written with. A list of names, a
# novel, an English page or a decoding accident has none or one of them.
POLICY_WORDS = (
    "通知", "意见", "方案", "规划", "办法", "措施", "计划", "纲要", "决定", "条例", "规定", "细则",
    "政府", "部门", "单位", "机关", "委员会", "办公厅", "办公室", "局", "负责", "牵头", "落实", "贯彻",
    "实施", "推进", "加强", "完善", "健全", "建立", "推动", "支持", "鼓励", "促进", "开展", "组织",
    "工作", "政策", "制度", "机制", "体系", "建设", "发展", "管理", "服务", "保护", "知识产权", "专利",
)
MIN_POLICY_WORDS = 2

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Signatures of files that are not documents ipgraph reads; named so the message says what it is.
_BINARY_MAGIC = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office file (.doc/.xls/.ppt); save it as .docx"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x7fELF", "an executable (ELF)"),
    (b"MZ", "an executable (Windows)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"{\\rtf", "an RTF file; save it as .docx"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
_BOMS = (  # UTF-32 first: its little-endian mark begins with UTF-16's
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
# charset-normalizer names → the codec that decodes the family (GB18030 is a superset of GBK/GB2312)
_CODEC = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "big5": "big5hkscs", "cp950": "big5hkscs"}
# control characters that text files do not hold (tab, newlines, form feed and escape excepted)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def read_document(path: Path | str, max_bytes: int = DEFAULT_MAX_BYTES) -> SourceDocument:
    """Read one file of any supported kind (.txt in any common Chinese encoding, .html, .docx, .pdf).

    Args:
        path: the file; its kind and encoding are found from its content.
        max_bytes: refuse the file when it, or the text read out of it, is larger (bytes).

    Returns:
        The decoded document; `text` is verbatim apart from line ends (normalised to \\n) and,
        for HTML/docx/PDF, the layout turned into paragraphs.

    Raises:
        ReadError: the file is missing, too large, empty, binary, undecodable, unreadable as
            PDF/docx, or not a policy document; the message names the cause.
    """
    path = Path(path)
    raw = _read_bounded(path, max_bytes)
    if not raw.strip(b" \t\r\n\x0c\x00") or raw in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        raise ReadError(path, "empty file")
    header: dict[str, str] = {}
    if raw.startswith(b"%PDF-"):
        text, media_type, encoding = _pdf_text(path, raw, max_bytes), "application/pdf", "pdf"
    elif raw.startswith(b"PK\x03\x04"):
        text, header = _docx_text(path, raw, max_bytes)
        if len(text.encode("utf-8")) > max_bytes:
            raise ReadError(path, f"too large: its text is {over_limit(len(text.encode('utf-8')), max_bytes)} "
                                  f"(--max-size)")
        media_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        encoding = "docx"
    else:
        for magic, what in _BINARY_MAGIC:
            if raw.startswith(magic):
                raise ReadError(path, f"binary file: {what}, not text")
        text, encoding = decode_bytes(path, raw)
        media_type = "text/plain"
        if looks_like_html(text, path.suffix):
            text, header = html_to_text(text)
            media_type = "text/html"
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ReadError(path, f"no text in this {_KIND[media_type]}")
    problem = policy_problem(text)
    if problem:
        read_as = "" if encoding in ("utf-8", "utf-8-sig", "pdf", "docx") else f" (read as {encoding})"
        raise ReadError(path, f"not a policy document: {problem}{read_as}")
    return SourceDocument(name=display_name(path.name), text=text, path=str(path), encoding=encoding, media_type=media_type,
                          header=header)


_KIND = {"text/plain": "file", "text/html": "HTML page", "application/pdf": "PDF",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx document"}


def over_limit(size: int, limit: int) -> str:
    """"X, above the Y limit" with figures that differ: exact bytes where both round alike (10.0 MB)."""
    if format_size(size) == format_size(limit):
        return f"{size:,} bytes, above the {limit:,}-byte limit"
    return f"{format_size(size)}, above the {format_size(limit)} limit"


def format_size(n: int) -> str:
    """Bytes for people: 512 B, 3.4 KB, 12.0 MB (powers of 1024)."""
    if n < 1024:
        return f"{n} B"
    for unit in ("KB", "MB", "GB"):
        n /= 1024  # type: ignore[assignment]
        if n < 1024 or unit == "GB":
            return f"{n:.1f} {unit}"
    raise AssertionError  # pragma: no cover


def _read_bounded(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refusing it from its size before reading and never reading past the limit.

    The kind and size come from fstat on the opened descriptor (opened non-blocking, so a named
    pipe cannot hang the build), not from a check on the name that the file could change after.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError as exc:
        cause = "dangling symbolic link (its target does not exist)" if path.is_symlink() else "no such file"
        raise ReadError(path, cause) from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ReadError(path, "symbolic link loop") from exc
        if exc.errno == errno.EISDIR:
            raise ReadError(path, "is a folder, not a file") from exc
        raise ReadError(path, f"cannot read: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ReadError(path, "is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise ReadError(path, f"not a regular file: {_file_kind(st.st_mode)}")
        if st.st_size > max_bytes:
            raise ReadError(path, f"too large: {over_limit(st.st_size, max_bytes)} (raise it with --max-size)")
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            raw = handle.read(max_bytes + 1)  # the file may have grown since fstat()
    except OSError as exc:
        raise ReadError(path, f"cannot read: {exc.strerror or exc}") from exc
    finally:
        if fd >= 0:
            os.close(fd)
    if len(raw) > max_bytes:
        raise ReadError(path, f"too large: above the {format_size(max_bytes)} limit (raise it with --max-size)")
    return raw


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file"


def display_name(name: str) -> str:
    """A file name as people wrote it: bytes that are not UTF-8 (Python keeps them as surrogate escapes)
    are read as GB18030, the other encoding Chinese file names come in (zip archives from Windows);
    anything else is shown as \\xNN escapes instead of mojibake."""
    raw = os.fsencode(name)
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "backslashreplace")


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` safe to print on one terminal line: control characters (an escape sequence in a file
    name could rewrite the terminal) and undecodable name bytes become visible \\xNN escapes."""
    def escape(m: re.Match[str]) -> str:
        code = ord(m.group())
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by Python as a surrogate escape
            return f"\\x{code - 0xDC00:02x}"
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNPRINTABLE.sub(escape, text)


def display_path(path: Path | str) -> str:
    """A path for messages: each name decoded as `display_name` does, then made `printable`."""
    return printable("/".join(display_name(part) for part in str(path).split("/")))


def describe_error(exc: InputError) -> str:
    """'path: cause' of a skipped file, safe to print and to write as UTF-8 (summary.json)."""
    where = display_path(exc.path) + (f":{exc.line}" if exc.line else "")
    return f"{where}: {printable(exc.cause)}"


# ---------------------------------------------------------------- text and encodings


def decode_bytes(path: Path | str, raw: bytes) -> tuple[str, str]:
    """Decode text bytes, detecting the encoding from the content; returns (text, encoding name).

    Raises:
        ReadError: binary content, or bytes that no Chinese-capable encoding decodes.
    """
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return _checked(path, raw.decode(codec), codec), codec
            except UnicodeDecodeError as exc:
                raise ReadError(path, f"undecodable: starts with a {codec} byte-order mark but byte "
                                      f"{exc.start} is not {codec}") from exc
    utf8_error = ""
    if b"\x00" not in raw:  # UTF-8 first: it is the common case and a strict decode never guesses
        try:
            return _checked(path, raw.decode("utf-8"), "utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            utf8_error = f" (invalid UTF-8 at byte {exc.start})"
        declared = _declared_charset(raw)
        if declared:
            try:
                return _checked(path, raw.decode(declared), declared), declared
            except (UnicodeDecodeError, LookupError):
                pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(raw).best()
    if best is None or best.encoding is None:
        if b"\x00" in raw:
            raise ReadError(path, "binary file: NUL bytes and no text encoding fits")
        raise ReadError(path, f"undecodable: not UTF-8{utf8_error}, UTF-16, GB18030/GBK or Big5 text")
    codec = _CODEC.get(best.encoding, best.encoding)
    try:
        text = raw.decode(codec)
    except (UnicodeDecodeError, LookupError) as exc:  # the detector's pick fails on the whole file
        raise ReadError(path, f"undecodable: looks like {best.encoding} but does not decode as it") from exc
    if b"\x00" in raw and not codec.startswith("utf_16") and not codec.startswith("utf_32"):
        raise ReadError(path, "binary file: NUL bytes in a file that is not UTF-16/UTF-32 text")
    return _checked(path, text, codec), codec


def _checked(path: Path | str, text: str, codec: str) -> str:
    """Refuse decoded 'text' that is full of control characters: it was binary after all."""
    sample = text[:65536]
    controls = len(_CONTROL.findall(sample))
    if "\x00" in sample or controls > max(8, len(sample) // 100):
        raise ReadError(path, f"binary file: {controls} control characters in the first "
                              f"{len(sample)} characters (decoded as {codec})")
    return text


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.IGNORECASE)


def _declared_charset(raw: bytes) -> str | None:
    """The charset an HTML page declares in its first 4 KB, GBK family mapped to GB18030."""
    m = _META_CHARSET.search(raw[:4096])
    if not m:
        return None
    name = m.group(1).decode("ascii").lower().replace("-", "")
    return {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "big5": "big5hkscs",
            "utf8": "utf-8"}.get(name)


def policy_problem(text: str) -> str | None:
    """Why `text` is not a policy document (None when it may be one). Deliberately simple rules:

    fewer than MIN_CJK_CHARS Chinese characters, or fewer than MIN_POLICY_WORDS of POLICY_WORDS.
    """
    cjk = len(_CJK.findall(text))
    if cjk < MIN_CJK_CHARS:
        return f"only {cjk} Chinese characters" if cjk else "no Chinese text"
    words = [w for w in POLICY_WORDS if w in text]
    if len(words) < MIN_POLICY_WORDS:
        found = f" (only {words[0]})" if words else ""
        return f"Chinese text without the vocabulary of policy prose{found}: none of 通知, 实施, 推进, 负责, 政府 …"
    return None


# ---------------------------------------------------------------- traditional characters


@functools.lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=1)
def _t2s_keys() -> tuple[frozenset[str] | None, tuple[str, ...]]:
    """The keys of opencc's t2s dictionaries that change the text (first reading differs): one-character
    keys as a set, and the longer ones that can stand in a text's sorted distinct characters (each
    character after the one before); (None, ()) when the converter's tables are not as expected."""
    singles: set[str] = set()
    phrases: list[str] = []
    try:
        for group in _t2s()._dict_chain_data:
            for _, _, table in group:
                for key, value in table.items():
                    if value.split(" ")[0] != key:
                        if len(key) == 1:
                            singles.add(key)
                        elif all(a < b for a, b in zip(key, key[1:], strict=False)):
                            phrases.append(key)
    except (AttributeError, TypeError, ValueError):
        return None, ()
    return frozenset(singles), tuple(sorted(phrases))


@functools.lru_cache(maxsize=4)  # extraction and the quality report ask for the same document's form
def matching_form(text: str) -> str:
    """`text` with traditional characters made simplified (opencc t2s), of the same length.

    Offsets stay valid: where a phrase conversion changed a line's length, that line is converted
    character by character instead. Simplified text comes back unchanged.
    """
    if text.isascii():
        return text
    converter = _t2s()
    # opencc is pure Python and slow on long texts: look at each distinct character once first,
    # and leave a text without traditional characters (nearly every document) as it is
    chars = set(text)
    singles, phrases = _t2s_keys()
    # converting the distinct characters changes them only where one of the dictionaries' changing keys
    # stands in them; without any, opencc's own (slow) pass is not needed: the answer is "unchanged"
    distinct = "".join(sorted(ch for ch in chars if _CJK.match(ch)))
    if singles is not None and singles.isdisjoint(chars) and not any(p in distinct for p in phrases):
        return text
    if converter.convert(distinct) == distinct:
        return text
    whole = converter.convert(text)
    if len(whole) == len(text):
        return whole
    lines = []
    for line in text.split("\n"):
        converted = converter.convert(line)
        if len(converted) != len(line):
            converted = "".join(c if len(c := converter.convert(ch)) == 1 else ch for ch in line)
        lines.append(converted)
    return "\n".join(lines)


def restore_verbatim(record: Any, verbatim: str, matched: str) -> Any:
    """Give every Span inside `record` (a dataclass tree, changed in place) the verbatim text.

    For a document extracted from its matching form `matched`: a span that quotes the matching
    form quotes the source as written instead, so evidence is verbatim. Other strings (titles,
    labels, measure texts) keep the simplified form the extractors produced.
    """
    seen: set[int] = set()

    def fix(value: Any) -> Any:
        if isinstance(value, Span):
            if value.text and value.text == matched[value.start:value.end]:
                return dataclasses.replace(value, text=verbatim[value.start:value.end])
            return value
        if dataclasses.is_dataclass(value) and not isinstance(value, type) and id(value) not in seen:
            seen.add(id(value))
            for f in dataclasses.fields(value):
                setattr(value, f.name, fix(getattr(value, f.name)))
        elif isinstance(value, list):
            value[:] = [fix(v) for v in value]
        return value

    return fix(record)


# ---------------------------------------------------------------- HTML

_HTML_START = re.compile(r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b",
                         re.IGNORECASE | re.DOTALL)
_ANY_TAG = re.compile(r"<(?:p|div|br|table|span|a|body|html)\b[^>]*>", re.IGNORECASE)


def looks_like_html(text: str, suffix: str = "") -> bool:
    """An HTML page by its start; a file named .htm/.html also counts when it holds any common tag."""
    head = text[:4096]
    return bool(_HTML_START.match(head)) or (suffix.lower() in (".html", ".htm") and bool(_ANY_TAG.search(head)))


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
_DROP_TAGS = {"script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "select",
              "button", "svg", "template", "head", "object", "canvas", "map", "textarea"}
# class/id words of navigation, toolbars and page furniture on government sites
_DROP_ATTR = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|menu|breadcrumbs?|crumbs?|bread|location|position|weizhi|dqwz|footer|foot|"
    r"bottom|header|banner|topbar|toolbar|share|bdsharebuttonbox|sidebar|aside|copyright|links?|friendlinks?|"
    r"related|xgwz|xglj|print|fontsize|zihao|close|search|login|qrcode|ewm|skip|gotop|pager|pagination)"
    r"(?:$|[\s_-])",
    re.IGNORECASE,
)
_BLOCK = {"p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt",
          "dd", "table", "tbody", "thead", "tfoot", "tr", "blockquote", "pre", "center", "figure", "figcaption",
          "address", "caption", "hr", "font"}
_CELL = {"td", "th"}
# lines of page furniture that survive markup cleaning
_FURNITURE = re.compile(
    r"^(?:【?\s*字[体号]\s*[:：].*|.*打印本页.*|.*关闭窗口.*|【?打印】?\s*【?关闭】?|分享到[:：]?.*|扫一扫.*|"
    r"当前位置[:：].*|您现在的位置.*|首页\s*[>›».].*|【\s*[大中小]\s*】.*)$"
)

# header-table labels → SourceDocument.header keys; the first five are the keys structure.py reads
HEADER_LABELS = {
    "title": r"名\s*称|标\s*题|文件名称",
    "doc_number": r"文\s*号|发文字号",
    "issuer": r"发布机构|发文机构|发文机关|发布单位|发文单位|来\s*源",
    "date_signed": r"成文日期|印发日期|签发日期",
    "date_published": r"发布日期|发布时间|发文日期|公开日期",
    "index_number": r"索\s*引\s*号",
    "subject": r"主题分类|主\s*题\s*词|分\s*类",
    "validity": r"有\s*效\s*性|时\s*效\s*性|效力状态",
    "date_effective": r"生效日期|施行日期|实施日期",
    "date_repealed": r"废止日期|失效日期",
    "genre": r"体裁分类|公文种类|文\s*种",
}
_LABEL = re.compile(r"(?P<label>" + "|".join(f"(?:{v})" for v in HEADER_LABELS.values()) + r")\s*[:：]?")


def _label_key(label: str) -> str:
    return next(k for k, v in HEADER_LABELS.items() if re.fullmatch(v, label))


@dataclasses.dataclass(eq=False)
class _Node:
    tag: str
    attrs: dict[str, str]
    parent: _Node | None
    children: list[_Node | str] = dataclasses.field(default_factory=list)
    dropped: bool | None = None  # _is_dropped, worked out once: every walk over the tree asks it


_MAX_DEPTH = 150  # deeper markup is folded into its ancestor at this depth: bounded recursion


class _TreeBuilder(HTMLParser):
    """A forgiving tree from the standard library's tokenizer: void and unclosed tags handled."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {}, None)
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        top = self.stack[-1].tag
        if tag in ("p", "li", "dt", "dd", "option") and top == tag:
            self.stack.pop()
        elif tag in _CELL and top in _CELL:
            self.stack.pop()
        elif tag == "tr" and any(n.tag == "tr" for n in self.stack[-3:]):
            while self.stack[-1].tag != "tr":
                self.stack.pop()
            self.stack.pop()
        if len(self.stack) > _MAX_DEPTH:
            if tag == "br":
                self.stack[-1].children.append("\n")
            return
        node = _Node(tag, {k: v or "" for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Node(tag, {k: v or "" for k, v in attrs}, self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):  # close the nearest open one; ignore stray end tags
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _is_dropped(node: _Node) -> bool:
    if node.dropped is None:
        node.dropped = _drops(node)
    return node.dropped


def _drops(node: _Node) -> bool:
    if node.tag in _DROP_TAGS:
        return True
    if "display:none" in node.attrs.get("style", "").replace(" ", "").lower():
        return True
    names = " ".join(node.attrs.get(a, "") for a in ("class", "id", "role"))
    return bool(names and _DROP_ATTR.search(names))


def _elements(node: _Node, visible: bool = False) -> list[_Node]:
    """The elements under `node` in document order (without dropped subtrees when `visible`)."""
    out: list[_Node] = []
    stack = [c for c in reversed(node.children) if isinstance(c, _Node)]
    while stack:
        current = stack.pop()
        if visible and _is_dropped(current):
            continue
        out.append(current)
        stack.extend(c for c in reversed(current.children) if isinstance(c, _Node))
    return out


def _flat(node: _Node, links: bool = True) -> str:
    parts: list[str] = []

    def walk(n: _Node) -> None:
        for child in n.children:
            if isinstance(child, str):
                parts.append(child)
            elif not _is_dropped(child) and (links or child.tag != "a"):
                walk(child)

    walk(node)
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _cjk_count(node: _Node) -> int:
    return len(_CJK.findall(_flat(node, links=False)))


def _header_block(root: _Node) -> _Node | None:
    """The smallest table/list holding at least two distinct header labels (名称, 索引号, 文号 …)."""
    best = None
    for node in _elements(root):
        if node.tag not in ("table", "ul", "dl", "div", "tbody") or (best is not None and not _inside(node, best)):
            continue
        text = _flat(node)
        if len(_CJK.findall(text)) > 600:  # a header is short; this is the page or its content
            continue
        labels = {m.group("label") for m in _LABEL.finditer(text)
                  if m.group(0).rstrip().endswith((":", "：")) or node.tag in ("table", "tbody")}
        if len({_label_key(re.sub(r"\s+", "", lab)) for lab in labels}) >= 2:
            best = node  # the first block, then the deepest block inside it
    return best


def _header_pairs(block: _Node) -> list[tuple[str, str]]:
    """(label as printed, value) pairs from a header table: label and value in one cell or side by side."""
    cells = [_flat(n) for n in _elements(block)
             if n.tag in ("td", "th", "li", "dt", "dd", "p") and not any(
                 c.tag in ("td", "th", "li", "dt", "dd", "p") for c in _elements(n))]
    if not cells:
        cells = [_flat(block)]
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(cells):
        cell = cells[i]
        hits = [m for m in _LABEL.finditer(cell) if m.start() == 0 or cell[m.start() - 1] in " \u3000|｜"]
        if not hits:
            i += 1
            continue
        for j, m in enumerate(hits):
            end = hits[j + 1].start() if j + 1 < len(hits) else len(cell)
            value = cell[m.end():end].strip(" \u3000:：|｜")
            label = re.sub(r"\s+", "", m.group("label"))
            if not value and j == len(hits) - 1 and i + 1 < len(cells) and not _LABEL.match(cells[i + 1]):
                value = cells[i + 1].strip()
                i += 1
            if value:
                pairs.append((label, value))
        i += 1
    return pairs


def _main_node(body: _Node, skip: _Node | None) -> _Node:
    """Descend from the body into the child that holds most of the page's (non-link) Chinese text."""
    node = body
    while True:
        total = _cjk_count(node)
        children = [c for c in node.children if isinstance(c, _Node) and c is not skip and not _is_dropped(c)]
        if not children or total == 0:
            return node
        best = max(children, key=_cjk_count)
        if _cjk_count(best) < 0.8 * total:
            return node
        node = best


def _render(node: _Node, skip: _Node | None) -> str:
    """Paragraphs of a subtree: blocks become paragraphs, table rows lines, cells tab-separated."""
    out: list[str] = []

    def text(data: str) -> str:
        # a source line break between two Chinese characters is not a space in the page
        data = re.sub(r"(?<=[\u3400-\u9fff，。、；：！？）》”])[ \t\r\n]*\n[ \t\r\n]*(?=[\u3400-\u9fff（《“])", "", data)
        return re.sub(r"[ \t\r\n\f]+", " ", data)

    def walk(n: _Node, pre: bool) -> None:
        for child in n.children:
            if isinstance(child, str):
                out.append(child if pre else text(child))
                continue
            if child is skip or _is_dropped(child):
                continue
            if child.tag == "br":
                out.append("\n")
            elif child.tag in _CELL:
                out.append("\t")
                walk(child, pre)
            elif child.tag == "tr":
                out.append("\n")
                walk(child, pre)
            elif child.tag in _BLOCK and child.tag not in ("font",):
                if _link_heavy(child):
                    continue
                out.append("\n\n")
                walk(child, pre or child.tag == "pre")
                out.append("\n\n")
            else:
                walk(child, pre)

    walk(node, False)
    lines = []
    for line in "".join(out).split("\n"):
        line = line.strip(" \t").replace("\t\t", "\t")
        if _FURNITURE.match(line):
            continue
        lines.append(line)
    joined = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", joined).strip("\n")


def _link_heavy(node: _Node) -> bool:
    """A block that is mostly links (a menu, a 'related articles' list): not document text."""
    links = [e for e in _elements(node) if e.tag == "a"]
    if len(links) < 3:
        return False
    all_text = len(_flat(node))
    link_text = sum(len(_flat(a)) for a in links)
    return all_text > 0 and link_text / all_text > 0.6


def html_to_text(html: str) -> tuple[str, dict[str, str]]:
    """The main text of a saved web page and its header-table metadata.

    Navigation, toolbars and link lists are dropped; the main text is the part of the page
    that holds most of its Chinese prose (with the page's heading when it stands just outside).
    The header table (名称/索引号/发布机构/文号/成文日期/发布日期 …) is read into a dict keyed as
    `HEADER_LABELS` and kept at the top of the text as "label:value" lines.
    """
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    root = builder.root
    body = next((e for e in _elements(root) if e.tag == "body"), root)
    block = _header_block(body)
    pairs = _header_pairs(block) if block is not None else []
    header: dict[str, str] = {}
    for label, value in pairs:
        header.setdefault(_label_key(label), value)
    main = _main_node(body, block)
    text = _render(main, block)
    # the page's heading often stands just before the content block: the nearest h1/h2 before it
    visible = _elements(body, visible=True)
    before = visible[: visible.index(main)] if main in visible else []
    heading = next((e for e in reversed(before) if e.tag in ("h1", "h2") and not _inside(main, e)
                    and not (block is not None and _inside(e, block))), None)
    if heading is not None and _flat(heading) and _flat(heading) not in text[:500]:
        text = _flat(heading) + "\n\n" + text
    if not text.strip():
        title = next((e for e in _elements(root) if e.tag == "title"), None)
        text = _flat(title) if title is not None and header else ""
    lines = [f"{label}:{value}" for label, value in pairs]
    return ("\n".join(lines) + "\n\n" if lines else "") + text + ("\n" if text else ""), header


def _inside(node: _Node, ancestor: _Node) -> bool:
    current: _Node | None = node
    while current is not None:
        if current is ancestor:
            return True
        current = current.parent
    return False


# ---------------------------------------------------------------- docx and PDF


# A .docx or PDF may unpack to UNPACK_FACTOR times --max-size plus UNPACK_ALLOWANCE and no more: XML
# is verbose and fonts inflate, and even an empty Word document unpacks to about 1 MB of styles.
UNPACK_FACTOR = 4
UNPACK_ALLOWANCE = 4 * 1024 * 1024


def unpack_budget(max_bytes: int) -> int:
    """How many bytes a .docx's parts or a PDF's streams may inflate to under the --max-size limit."""
    return UNPACK_FACTOR * max_bytes + UNPACK_ALLOWANCE


def _docx_text(path: Path, raw: bytes, max_bytes: int) -> tuple[str, dict[str, str]]:
    """Paragraphs and tables of a .docx in body order; the core title (when Chinese) as header."""
    budget = unpack_budget(max_bytes)
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" not in names:
                what = "an OpenDocument file; save it as .docx" if "content.xml" in names else "a zip archive"
                raise ReadError(path, f"binary file: {what}, not a .docx document")
            package = _unpack_bounded(path, archive, budget, max_bytes)
    except zipfile.BadZipFile as exc:
        raise ReadError(path, f"not a readable .docx: broken zip ({_one_line(exc, with_type=False)})") from exc
    except (zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:  # a broken or encrypted member
        raise ReadError(path, f"not a readable .docx: broken zip ({_one_line(exc)})") from exc
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(package)
        blocks: list[str] = []
        for child in document.element.body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                blocks.append(Paragraph(child, document).text)
            elif tag == "tbl":
                rows = []
                for row in Table(child, document).rows:
                    cells, seen = [], set()
                    for cell in row.cells:  # a merged cell is returned once per grid column
                        if id(cell._tc) not in seen:
                            seen.add(id(cell._tc))
                            cells.append(cell.text.replace("\n", " ").strip())
                    rows.append("\t".join(cells))
                blocks.append("\n".join(rows))
        title = document.core_properties.title or ""
    except ReadError:
        raise
    except Exception as exc:  # a broken .docx can fail anywhere inside python-docx or lxml
        raise ReadError(path, f"not a readable .docx: {_one_line(exc)}") from exc
    text = "\n\n".join(b.strip() for b in blocks if b.strip())
    header = {"title": title.strip()} if _CJK.search(title) else {}
    return (text + "\n" if text else ""), header


def _unpack_bounded(path: Path, archive: zipfile.ZipFile, budget: int, max_bytes: int) -> io.BytesIO:
    """The archive re-packed uncompressed, its members inflated here with the bytes counted as they come.

    python-docx would inflate every part whole (a 2 MB .docx can hold a 2 GB styles.xml), and the
    sizes in a zip's headers are the sender's word: only the bytes actually inflated are counted,
    and inflating stops at the budget.
    """
    out = io.BytesIO()
    total = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as repacked:
        for info in archive.infolist():
            if info.is_dir():
                continue
            chunks = []
            with archive.open(info) as member:
                while chunk := member.read(1 << 16):
                    total += len(chunk)
                    if total > budget:
                        raise ReadError(path, f"too large: it unpacks to more than {format_size(budget)} "
                                              f"(the limit for --max-size {format_size(max_bytes)}) "
                                              f"at {printable(info.filename)}")
                    chunks.append(chunk)
            repacked.writestr(info.filename, b"".join(chunks))
    out.seek(0)
    return out


def _one_line(exc: BaseException, with_type: bool = True) -> str:
    """A third-party exception as a short single line (the CLI prints one line per file)."""
    message = re.sub(r"\s+", " ", str(exc)).strip()
    message = message if len(message) <= 160 else message[:159] + "…"
    if not with_type:
        return message
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


_PAGE_NUMBER = re.compile(r"^[\s\-—–－]*(?:\d{1,4}|第\s*\d{1,4}\s*页(?:\s*共\s*\d{1,4}\s*页)?)[\s\-—–－]*$")


class _InflateBudget(Exception):
    """A PDF's streams inflate past the file's budget."""


class _Inflater:
    """Inflates one stream within what is left of the file's budget (`left` bytes; None: no limit)."""

    def __init__(self, budget: _BoundedZlib, *args: Any) -> None:
        self._budget = budget
        self._inner = zlib.decompressobj(*args)

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        out = self._inner.decompress(data, self._budget.room())
        self._budget.take(len(out))
        if self._inner.unconsumed_tail:  # more output waits than the budget allows
            raise _InflateBudget
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _BoundedZlib:
    """Stands in for the zlib module inside pdfminer.pdftypes, which inflates each stream whole
    (`zlib.decompress`): here every stream is inflated with a maximum length and its bytes counted
    against the file's budget, so a 2 MB PDF holding a 2 GB stream stops at the limit instead of
    taking 4 GB. Outside `_pdf_text` (left is None) it inflates without a limit, as zlib does.
    The LZW and run-length decoders below count against the same budget."""

    error = zlib.error

    def __init__(self) -> None:
        self.left: int | None = None

    def room(self) -> int:
        return 0 if self.left is None else self.left + 1

    def take(self, n: int) -> None:
        if self.left is not None:
            self.left -= n
            if self.left < 0:
                raise _InflateBudget

    def decompressobj(self, *args: Any) -> _Inflater:
        return _Inflater(self, *args)

    def decompress(self, data: bytes, *args: Any) -> bytes:
        inflater = _Inflater(self, *args)
        out = inflater.decompress(data)
        if not inflater.eof:  # what zlib.decompress says of a cut stream (pdfminer then salvages it)
            raise zlib.error("Error -5 while decompressing data: incomplete or truncated stream")
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)


_ZLIB = _BoundedZlib()


def _bounded_lzwdecode(data: bytes) -> bytes:
    """pdfminer's LZWDecode, its output counted code by code against the file's budget (one
    LZW code can stand for 4,000 bytes: 16 KB of codes unpack to 22 MB)."""
    from pdfminer.lzw import LZWDecoder

    out = []
    for chunk in LZWDecoder(io.BytesIO(data)).run():
        _ZLIB.take(len(chunk))
        out.append(chunk)
    return b"".join(out)


def _bounded_rldecode(data: bytes) -> bytes:
    """RunLengthDecode (PDF Reference 1.4, 3.3.4) counting what it writes against the file's budget;
    pdfminer's keeps a Python list of ints, eight bytes for every byte out, 128 bytes per 2 in."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        length = data[i]
        i += 1
        if length == 128:  # end of data
            break
        if length < 128:  # the next length + 1 bytes literally
            piece = data[i:i + length + 1]
            i += length + 1
        elif i < n:  # the next byte 257 - length times
            piece = data[i:i + 1] * (257 - length)
            i += 1
        else:
            break
        _ZLIB.take(len(piece))
        out += piece
    return bytes(out)


def _LAYOUT(params: Any) -> Any:  # noqa: N802 - reads as the layout settings
    """pdfminer's layout settings without its 'advanced' box grouping (boxes_flow=None): that step
    compares every pair of text boxes on a page, quadratic in time and memory (2,000 scattered boxes:
    30 s and 690 MB), while text boxes in reading order are all that policy prose needs."""
    return params(boxes_flow=None)


def _pdf_text(path: Path, raw: bytes, max_bytes: int) -> str:
    """The text layer of a PDF, page by page (streamed: stops at the size limit); page numbers dropped."""
    import pdfminer.pdftypes
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextContainer

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # its warnings about odd PDFs are not ours to print
    pdfminer.pdftypes.zlib = _ZLIB  # type: ignore[assignment]
    pdfminer.pdftypes.lzwdecode = _bounded_lzwdecode
    pdfminer.pdftypes.rldecode = _bounded_rldecode
    pages: list[str] = []
    size = 0
    budget = unpack_budget(max_bytes)
    _ZLIB.left = budget
    try:
        for page in extract_pages(io.BytesIO(raw), laparams=_LAYOUT(LAParams)):
            lines = []
            for element in page:
                if isinstance(element, LTTextContainer):
                    lines.extend(element.get_text().splitlines())
            text = "\n".join(line for line in lines if not _PAGE_NUMBER.match(line))
            size += len(text.encode("utf-8"))
            if size > max_bytes:
                raise ReadError(path, f"too large: its text passes the {format_size(max_bytes)} limit "
                                      f"at page {len(pages) + 1} (--max-size)")
            pages.append(text.strip())
    except ReadError:
        raise
    except _InflateBudget as exc:
        raise ReadError(path, f"too large: its streams unpack to more than {format_size(budget)} "
                              f"(the limit for --max-size {format_size(max_bytes)})") from exc
    except Exception as exc:  # pdfminer raises many types (PDFSyntaxError, PSEOF, KeyError …) on broken files
        name = type(exc).__name__
        if "Password" in name or "Encrypt" in name:
            raise ReadError(path, "PDF is encrypted (password protected); save an unprotected copy") from exc
        raise ReadError(path, f"not a readable PDF: {_one_line(exc)}") from exc
    finally:
        _ZLIB.left = None
    if not pages:
        raise ReadError(path, "not a readable PDF: no pages found (truncated or broken file?)")
    text = "\n\n".join(p for p in pages if p)
    if not text.strip():
        raise ReadError(path, f"PDF has no text layer ({len(pages)} page(s) of images?); OCR it first")
    return unicodedata.normalize("NFC", text) + "\n"


# ---------------------------------------------------------------- folders


def collect_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Expand folders into the supported files they hold (.txt .html .htm .docx .pdf), sorted by name.

    Files named explicitly are kept whatever their suffix (their content decides); hidden files and
    Word lock files (~$…) inside folders are passed over; a file named twice is listed once.
    (`scan_paths` also says which entries of a folder were left out and why.)
    """
    return scan_paths(paths)[0]


def scan_paths(paths: Iterable[Path | str]) -> tuple[list[Path], list[ReadError]]:
    """collect_paths, and a ReadError for each entry of a folder that has a supported suffix but is
    not a file that can be read: a dangling link, a link loop, a named pipe, a device or a socket.

    The outputs of ipgraph build (`build X -o X`: X/graph.html …) are never inputs: passed over in
    a folder, refused when named.
    """
    found: list[Path] = []
    problems: list[ReadError] = []
    seen: set[Path] = set()
    for p in map(Path, paths):
        if p.is_dir():
            members = []
            for entry in sorted(os.scandir(p), key=lambda e: e.name):
                member = Path(entry.path)
                if entry.name.startswith((".", "~$")) or member.suffix.lower() not in SUPPORTED_SUFFIXES:
                    continue
                problem = _not_a_file(member)
                if problem == "":
                    continue  # a folder named like a file, or an output of a build
                if problem:
                    problems.append(ReadError(member, problem))
                    continue
                members.append(member)
        else:
            if is_build_output(p):
                problems.append(ReadError(p, "an output of ipgraph build, not a source document"))
                continue
            members = [p]
        for member in members:
            key = member.resolve() if member.exists() else member
            if key not in seen:
                seen.add(key)
                found.append(member)
    return found, problems


def _not_a_file(member: Path) -> str | None:
    """None for a regular file to read; "" for an entry to pass over silently; else the cause."""
    try:
        st = member.stat()
    except FileNotFoundError:
        return "dangling symbolic link (its target does not exist)" if member.is_symlink() else ""
    except OSError as exc:
        return "symbolic link loop" if exc.errno == errno.ELOOP else f"cannot read: {exc.strerror or exc}"
    if stat.S_ISDIR(st.st_mode) or is_build_output(member):
        return ""
    if not stat.S_ISREG(st.st_mode):
        return f"not a regular file: {_file_kind(st.st_mode)}"
    return None


# what ipgraph build writes into a generation folder (ipgraph.pipeline.write_outputs)
_OUTPUT_NAMES = ("ipgraph.ttl", "ipgraph.nt", "summary.json", "graph.html")


def is_build_output(path: Path) -> bool:
    """True for a file written by ipgraph build: an output name in a (marked) generation folder, or its store."""
    from ipgraph.store import GENERATION_MARKER, STORE_NAME

    try:
        real = path.resolve()
    except (OSError, RuntimeError):
        return False
    if real.name in _OUTPUT_NAMES and (real.parent / GENERATION_MARKER).is_file():
        return True
    return any(folder.name == STORE_NAME and (folder.parent / GENERATION_MARKER).is_file()
               for folder in list(real.parents)[:2])
