"""Build progress on stderr: a rich bar on a terminal, a plain line every 10 s otherwise, nothing with --quiet.

Plain lines start only once a build has run 10 s, so a short build (and a test) prints none.
"""
from __future__ import annotations

import sys
import time
from typing import Any

import click

PLAIN_EVERY = 10.0  # seconds between plain lines


class Progress:
    def __init__(self, enabled: bool = True, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.started = time.monotonic()
        self.last = self.started
        self.bar: Any = None
        self.task: Any = None
        self.printed = False
        self.state = (0, 0, 0, 0)

    def __enter__(self) -> Progress:
        if self.tty:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self.bar = RichProgress(TextColumn("documents"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[rate]}"), TextColumn("skipped {task.fields[skipped]}"),
                                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                console=Console(file=self.stream), transient=True)
            self.bar.__enter__()
            self.task = self.bar.add_task("build", total=None, rate="", skipped=0)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
        elif self.printed and exc[0] is None:
            self._line(final=True)

    def _rate(self, done_bytes: int) -> str:
        elapsed = max(1e-6, time.monotonic() - self.started)
        return f"{done_bytes / elapsed / 1e6:.2f} MB/s"

    def _line(self, final: bool = False) -> None:
        done, total, done_bytes, skipped = self.state
        elapsed = time.monotonic() - self.started
        eta = "" if final or not done else f", ETA {elapsed / done * (total - done):.0f} s"
        click.echo(f"{'read' if final else 'reading'} {done}/{total} documents, {self._rate(done_bytes)}, "
                   f"{skipped} skipped, {elapsed:.0f} s{eta}", file=self.stream)
        self.printed = True

    def update(self, done: int, total: int, done_bytes: int, skipped: int) -> None:
        self.state = (done, total, done_bytes, skipped)
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total, rate=self._rate(done_bytes), skipped=skipped)
            return
        now = time.monotonic()
        if now - self.last >= PLAIN_EVERY:
            self.last = now
            self._line()

    def echo(self, message: str) -> None:
        """A message (a skipped file) printed above the bar."""
        if self.bar is not None:
            self.bar.console.print(message, markup=False, highlight=False)
        else:
            click.echo(message, err=True)
