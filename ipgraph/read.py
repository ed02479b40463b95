"""Stage 1: read a source file into a SourceDocument (decoded text plus what the container says)."""
from __future__ import annotations

from pathlib import Path

from ipgraph.errors import ReadError
from ipgraph.model import SourceDocument

SUPPORTED_SUFFIXES = (".txt",)


def read_document(path: Path | str) -> SourceDocument:
    """Read one file.

    Raises:
        ReadError: the file is missing, empty or cannot be decoded; the message names the cause.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReadError(path, f"cannot read: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise ReadError(path, "empty file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(path, f"not UTF-8 text (byte {exc.start})") from exc
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return SourceDocument(name=path.name, text=text, path=str(path))


def collect_paths(paths: list[Path | str]) -> list[Path]:
    """Expand folders into the supported files they hold, sorted by name for a stable order."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES))
        else:
            found.append(p)
    return found
