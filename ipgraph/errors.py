"""Typed errors of the library. The CLI turns each into one line for the user."""
from __future__ import annotations

from pathlib import Path


class IpgraphError(Exception):
    """Base class of every error ipgraph raises on purpose."""


class InputError(IpgraphError):
    """A source file could not be used: it names the file and the cause."""

    def __init__(self, path: Path | str, cause: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.cause = cause
        self.line = line
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {cause}")


class ReadError(InputError):
    """The file could not be read or decoded."""


class SegmentError(InputError):
    """The text was read but its structure could not be parsed."""


class DuplicateError(InputError):
    """The file repeats a document already in the build (identical or near-identical text)."""


class OutputError(IpgraphError):
    """The build cannot be written where it was asked to go."""


class GraphNotFoundError(IpgraphError):
    """A command needs a built graph and none is there."""


class QueryError(IpgraphError):
    """A SPARQL query failed (syntax, unknown name, bad parameter, timeout)."""


class ValidationError(IpgraphError):
    """The graph does not conform to the SHACL shapes."""
