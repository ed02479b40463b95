"""Write files so that a reader never sees half of one: write a temporary sibling, then rename."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_write(path: Path | str, mode: str = "w", encoding: str | None = "utf-8",
                 buffering: int = -1) -> Iterator[IO]:
    """Open a temporary file next to `path`; on success fsync and rename it over `path`.
    `buffering` as open()'s (0: unbuffered, for os.copy_file_range between writes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a written file gets the usual mode
    try:
        with os.fdopen(fd, mode, buffering, encoding=None if "b" in mode else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: Path | str, text: str) -> None:
    with atomic_write(path, "w") as handle:
        handle.write(text)
