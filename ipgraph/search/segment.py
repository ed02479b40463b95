"""A document's measure tokens, made where the document is: in the build's extraction worker.

`document_tokens(triples)` reads the document's measures (their indexed text, as the graph will
hold it) and its own names (agencies, programmes, directives: labels, aliases, titles as its
extractor found them) from its own N-Triples lines and claims, and segments each text with the
base dictionary plus those names (ipgraph.search.tokenise.segment_texts). The result rides in the
DocumentTriples (`.search`) into the per-document cache entry and to the build's search stage,
which only builds the BM25 index from it. The tokens are a pure function of the document and
versioned data: `stamp` (base_fingerprint) says which data and tokeniser made them, and an entry
of another stamp is segmented again.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipgraph.iri import KIND_PREFIXES
from ipgraph.search.tokenise import base_fingerprint, segment_keyed


@dataclass
class DocumentTokens:
    stamp: str  # base_fingerprint() of the data files and tokeniser that made them
    # measure IRI → (token key, text sha256, jieba words): what index_docs(made=…) takes
    measures: dict[str, tuple[str, str, list[str]]] = field(default_factory=dict)

    def made(self) -> dict[str, tuple[str, str, list[str]]]:
        return self.measures


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def token_key(words: str, sha: str) -> str:
    """The index's key of a text's tokens: the fingerprint of the added words it holds, its sha256."""
    return f"{words}:{sha}"


def document_lines(triples: Any) -> set[str]:
    """A document's own N-Triples lines and the lines of its claims on shared nodes (all of them,
    whichever document's claim the merge keeps: its names as its own extractor found them)."""
    return set(triples.lines) | {line for _node, _slot, lines, _unless in triples.claims for line in lines}


_IPG = "https://w3id.org/ipgraph/ontology#"
# The predicates search.stage._docs_from_quads reads (measures, their documents, sections, agencies,
# targets, names): a document's other lines (evidence spans and statements, mentions, targets' values …),
# two thirds of them, are not parsed for its tokens. tests/test_j1speed_segment.py checks the same tokens.
READ_PREDICATES = frozenset(f"<{p}>" for p in (
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "http://www.w3.org/2000/01/rdf-schema#label",
    "http://www.w3.org/2004/02/skos/core#altLabel", "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://purl.org/dc/terms/title",
    *(_IPG + n for n in ("partOf", "number", "order", "text", "title", "section", "sectionTitle", "sourceFile",
                         "docNumber", "level", "leadAgency", "responsibleAgency", "hasTarget", "indicator"))))


# evidence nodes (the statements and their spans: a third of a document's lines) are no measure,
# document, section, agency, programme, directive or target, whose fields the search docs take
_EVIDENCE = f"<{KIND_PREFIXES['evidence']}"


def read_lines(lines: Iterable[str]) -> set[str]:
    """The lines whose predicate is one of READ_PREDICATES, but an evidence node's (an N-Triples line:
    `<s> <p> o .`, no space in an IRI)."""
    out = set()
    for line in lines:
        if not line.startswith(_EVIDENCE):
            start = line.find(" ") + 1
            if line[start:line.find(" ", start)] in READ_PREDICATES:
                out.add(line)
    return out


def document_tokens(triples: Any) -> DocumentTokens:
    """The jieba words of every measure of one document (a stream.triples.DocumentTriples with its lines)."""
    from ipgraph.search.stage import docs_from_lines

    # document_lines(triples), filtered before the union (no copy of the document's every line)
    claimed = (line for _node, _slot, lines, _unless in triples.claims for line in lines)
    docs, names = docs_from_lines(read_lines(triples.lines) | read_lines(claimed))
    texts = [d.indexed_text() for d in docs]
    keyed = segment_keyed(texts, names)
    measures = {}
    for d, text, (words, tokens) in zip(docs, texts, keyed, strict=True):
        sha = text_sha(text)
        measures[d.iri] = (token_key(words, sha), sha, tokens)
    return DocumentTokens(stamp=base_fingerprint(), measures=measures)


def current(tokens: Any) -> bool:
    """Whether `tokens` (a DocumentTriples' .search, maybe None or from an older ipgraph) is of today's data."""
    return isinstance(tokens, DocumentTokens) and tokens.stamp == base_fingerprint()


Made = dict[str, tuple[str, str, list[str]]]  # measure IRI → (token key, text sha256, jieba words)
SPOOL = "tokens.spool"  # in a search folder: each document's Made, pickled, and SPOOL_INDEX: where each starts
SPOOL_INDEX = "tokens.spool.json"


class TokenSpool:
    """Measures' tokens by document, pickled into a file as each document comes (a build's workers'
    tokens, or those an index was built with): in memory only where each document's block is, so a
    build holds no list of every measure's words. `document(doc IRI)` reads one block back."""

    def __init__(self, path: Path | str, at: dict[str, tuple[int, int]] | None = None, write: bool = True) -> None:
        self.path = Path(path)
        self.at: dict[str, list[tuple[int, int]]] = {k: [v] for k, v in (at or {}).items()}
        self.measures = 0
        self._size = 0
        if write:
            self.path.write_bytes(b"")  # opened for each block (a build holds no file open between documents)

    @classmethod
    def open(cls, folder: Path | str) -> TokenSpool | None:
        """The spool a search index was written with (None when it has none or it is unreadable)."""
        import json

        try:
            at = json.loads((Path(folder) / SPOOL_INDEX).read_text(encoding="utf-8"))
            return cls(Path(folder) / SPOOL, {k: (int(v[0]), int(v[1])) for k, v in at.items()}, write=False)
        except (OSError, ValueError, TypeError, IndexError, AttributeError):
            return None

    def __bool__(self) -> bool:
        return bool(self.at)

    def add(self, doc_iri: str, made: Made) -> None:
        import pickle

        if not made:
            return
        data = pickle.dumps(made, pickle.HIGHEST_PROTOCOL)
        with open(self.path, "ab") as handle:
            handle.write(data)
        self.at.setdefault(doc_iri, []).append((self._size, len(data)))
        self._size += len(data)
        self.measures += len(made)

    def document(self, doc_iri: str) -> Made:
        import pickle

        out: Made = {}
        blocks = self.at.get(doc_iri, ())
        if not blocks:
            return out
        try:
            with open(self.path, "rb") as handle:
                for at, size in blocks:
                    handle.seek(at)
                    out.update(pickle.loads(handle.read(size)))
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
            return {}  # a missing or broken block: its texts are segmented again
        return out

    def save_index(self) -> None:
        """Write where each document's block is beside the spool (SPOOL_INDEX), one block each."""
        from ipgraph.atomic import atomic_write_text

        at = {k: list(v[0]) for k, v in sorted(self.at.items()) if len(v) == 1}
        import json

        atomic_write_text(self.path.with_name(SPOOL_INDEX), json.dumps(at, ensure_ascii=False, separators=(",", ":")))
