"""The build's search index patched by what changed (issue 14): `ipgraph add` in time that follows the change.

A full search stage (ipgraph.search.stage) reads every measure of the graph and counts every text's
tokens. Beside the index it writes what it counted (STATE, in the search folder): per field the token
counts of every row as flat arrays, each row's IRI, label and token key, and per document where its
rows are in docs.json, its echo signature, its characters and the nodes outside it its measures read;
per token key where its member is in tokens.json; per named node its names.

The next incremental build (ipgraph.stream.delta) knows the lines that changed. `update_stage`:

- finds the documents whose measures read a changed line: the new and changed documents (a measure,
  section or target lives under its document's IRI, `DOC/measure/…`, written so by stream/triples.py),
  and the documents whose measures name a changed node outside (an agency whose label or alias changed);
- reads only those from the new graph, by bisection (the file is sorted: `<DOC> `, `<DOC/`, and each
  outside node), and counts only their texts (IndexWriter, the same code as the full stage);
- splices the counts into the kept ones in index order, numbering the tokens by first sight as a full
  count does, so the BM25 fields, the ranked matrix and the echoes' rows are those of a full stage,
  bit for bit; docs.json and tokens.json are copied from the previous files by byte spans, with the
  new rows written between (tests/test_add_inc.py: every file equal to a full build's).

It gives None (the caller runs the full stage) when the state is missing or of other code, a changed
line's subject is a blank node, a measure lives outside its document's IRI, or more than half the
documents are touched (a full stage is then as cheap).
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

STATE = "state.pickle"
STATE_VERSION = 1
MAX_TOUCHED = 0.5  # past this share of the documents the full stage costs no more


@dataclass
class FieldCounts:
    """One Postings' counts as arrays: per row its number of entries, and per entry its column (the
    token's place in `vocab`, by first sight) and count."""

    vocab: list[str]
    per_row: Any  # int32, one per row
    cols: Any  # int32, one per entry, rows in order
    tf: Any  # int32
    lengths: Any  # int32, one per row
    empty: Any  # bool, one per row: an empty text (its one entry is the placeholder)

    @classmethod
    def of(cls, postings: Any) -> FieldCounts:
        rows = np.frombuffer(postings.rows, dtype=np.int32)
        n = len(postings.lengths)
        vocab = [""] * len(postings.vocab)
        for token, col in postings.vocab.items():
            vocab[col] = token
        empty = np.zeros(n, dtype=bool)
        empty[np.frombuffer(postings.empty, dtype=np.int32)] = True
        # the entries' arrays are the Postings' own buffers (no copy: a full stage's are its largest arrays)
        return cls(vocab=vocab, per_row=np.bincount(rows, minlength=n).astype(np.int32),
                   cols=np.frombuffer(postings.cols, dtype=np.int32), tf=np.frombuffer(postings.tf, dtype=np.int32),
                   lengths=np.frombuffer(postings.lengths, dtype=np.int32), empty=empty)

    def postings(self) -> Any:
        """A Postings holding these counts (its arrays numpy's: Postings.bm25 and counts read buffers)."""
        from ipgraph.search.index import Postings

        out: Any = Postings()
        out.vocab = {token: col for col, token in enumerate(self.vocab)}
        out.rows = np.repeat(np.arange(len(self.per_row), dtype=np.int32), self.per_row)
        out.cols, out.tf, out.lengths = self.cols, self.tf, self.lengths
        out.empty = np.flatnonzero(self.empty).astype(np.int32)
        return out


def splice(parts: list[tuple[FieldCounts, int, int]]) -> FieldCounts:
    """The rows [start, end) of each part, in this order, as one FieldCounts whose columns are numbered
    by first sight over the entries in order: what Postings gives when the same texts are added in
    this order (so bm25, counts and every array made from them are a full count's).

    The parts' columns are first put in one provisional numbering (the largest vocabulary's own, the
    others' tokens looked up in it), so that only the small vocabularies go through a dict."""
    from ipgraph.search.echoes import coalesce

    parts = coalesce(parts)
    sources: dict[int, FieldCounts] = {}
    for counts, _start, _end in parts:
        sources.setdefault(id(counts), counts)
    if not sources:
        return FieldCounts(vocab=[], per_row=np.zeros(0, np.int32), cols=np.zeros(0, np.int32),
                           tf=np.zeros(0, np.int32), lengths=np.zeros(0, np.int32), empty=np.zeros(0, bool))
    base = max(sources.values(), key=lambda c: len(c.vocab))
    names = list(base.vocab)
    at = {token: col for col, token in enumerate(names)}
    mappings: dict[int, Any] = {id(base): None}
    entry_starts: dict[int, Any] = {}
    for key, counts in sources.items():
        starts = np.zeros(len(counts.per_row) + 1, dtype=np.int64)
        np.cumsum(counts.per_row, out=starts[1:])
        entry_starts[key] = starts
        if key not in mappings:
            mapping = np.empty(len(counts.vocab), dtype=np.int64)
            for col, token in enumerate(counts.vocab):
                if token not in at:
                    at[token] = len(names)
                    names.append(token)
                mapping[col] = at[token]
            mappings[key] = mapping
    cols, tf, per_row, lengths, empty = [], [], [], [], []
    for counts, start, end in parts:
        starts = entry_starts[id(counts)]
        a, b = int(starts[start]), int(starts[end])
        mapping = mappings[id(counts)]
        cols.append(counts.cols[a:b] if mapping is None else mapping[counts.cols[a:b]])
        tf.append(counts.tf[a:b])
        per_row.append(counts.per_row[start:end])
        lengths.append(counts.lengths[start:end])
        empty.append(counts.empty[start:end])
    every = _cat(cols, np.int64)
    n = len(every)
    first = np.full(len(names), n, dtype=np.int64)  # each provisional column's first entry
    np.minimum.at(first, every, np.arange(n, dtype=np.int64))
    present = np.flatnonzero(first < n)
    order = present[np.argsort(first[present], kind="stable")]  # the columns by first sight
    number = np.zeros(len(names), dtype=np.int32)
    number[order] = np.arange(len(order), dtype=np.int32)
    return FieldCounts(vocab=[names[c] for c in order.tolist()], per_row=_cat(per_row, np.int32),
                       cols=number[every].astype(np.int32), tf=_cat(tf, np.int32), lengths=_cat(lengths, np.int32),
                       empty=_cat(empty, bool))


def _cat(arrays: list[Any], dtype: Any) -> Any:
    return np.concatenate(arrays).astype(dtype) if arrays else np.zeros(0, dtype=dtype)


@dataclass
class SearchState:
    """What a search stage counted, kept in its folder for the next build's update_stage."""

    stamp: str  # the index format, the tokeniser and its data files
    documents: list[str]  # every document of the build (with or without measures)
    docs: list[str]  # the documents with rows, in index order
    starts: list[int]  # per document of `docs`, its first row; then the number of rows
    iris: list[str]  # per row
    labels: list[tuple[str, str]]  # per row (document label, number)
    keys: list[str]  # per row, its token key
    words: FieldCounts
    grams: FieldCounts
    signatures: dict[str, str]  # document → its echo signature
    characters: dict[str, int]  # document → its texts' characters
    doc_spans: dict[str, tuple[int, int]]  # document → its rows' bytes in docs.json
    token_spans: dict[str, tuple[int, int]]  # token key → its member's bytes in tokens.json
    refs: dict[str, list[str]]  # document → the nodes outside it its measures read
    named: dict[str, list[str]]  # agency, programme, directive → its names
    spool: dict[str, tuple[int, int]] = field(default_factory=dict)  # document → its block in tokens.spool
    spool_size: int = 0


def stamp() -> str:
    from ipgraph.search.index import FORMAT
    from ipgraph.search.tokenise import base_fingerprint

    return f"{STATE_VERSION}/{FORMAT}/jieba/{base_fingerprint()}"


def state_of(writer: Any, refs: dict[str, set[str]], named: dict[str, list[str]], documents: list[str],
             docs_at: int) -> SearchState | None:
    """The state of a full stage's IndexWriter (stream) once its index is published (None when a
    measure lives outside its document's IRI: update_stage could not find it by bisection)."""
    if writer.method != "jieba" or writer._spool is None:
        return None
    if any(not iri.startswith(doc + "/") for iri, doc in zip(writer.iris, writer.doc_iris, strict=True)):
        return None
    docs, starts = _runs(writer.doc_iris)
    return SearchState(
        stamp=stamp(), documents=sorted(documents), docs=docs, starts=starts, iris=list(writer.iris),
        labels=list(writer.labels), keys=list(writer.keys), words=FieldCounts.of(writer.field),
        grams=FieldCounts.of(writer.gram_field), signatures=dict(writer.signatures),
        characters=dict(writer.doc_characters),
        doc_spans={d: (a + docs_at, b + docs_at) for d, (a, b) in writer.doc_spans.items()},
        token_spans=dict(writer.token_spans), refs={d: sorted(r) for d, r in refs.items()}, named=dict(named), spool={d: v[0] for d, v in writer._spool.at.items() if len(v) == 1},
        spool_size=writer._spool._size)


def _runs(doc_iris: list[str]) -> tuple[list[str], list[int]]:
    docs: list[str] = []
    starts: list[int] = []
    for row, doc in enumerate(doc_iris):
        if not docs or docs[-1] != doc:
            docs.append(doc)
            starts.append(row)
    starts.append(len(doc_iris))
    return docs, starts


RANKED_NICE = 10  # the ranked field's child (update_stage)


def in_thread(function: Any, *args: Any) -> Any:
    """function(*args) in a thread of its own, which ends with it (none is left to a later fork of this
    process): the concurrent.futures.Future of its value."""
    import threading
    from concurrent.futures import Future

    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(function(*args))
        except BaseException as exc:  # noqa: BLE001 - raised where the value is asked for
            future.set_exception(exc)

    threading.Thread(target=run, name=f"ipgraph-{getattr(function, '__name__', 'call')}", daemon=True).start()
    return future


def save_state(state: SearchState | None, folder: Path) -> None:
    path = Path(folder) / STATE
    if state is None:
        path.unlink(missing_ok=True)
        return
    with open(path, "wb") as handle:
        pickle.dump(state, handle, protocol=5)


def load_state(folder: Path | str) -> SearchState | None:
    """The state a build left in its search folder, if today's code made it (else None)."""
    try:
        with open(Path(folder) / STATE, "rb") as handle:
            state = pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError):
        return None
    return state if isinstance(state, SearchState) and state.stamp == stamp() else None


def _document_of(subject: str, documents: set[str]) -> str | None:
    """The document a node lives under (itself, or DOC/…), if any."""
    if subject in documents:
        return subject
    at = subject.find("/")
    while at != -1:
        if subject[:at] in documents:
            return subject[:at]
        at = subject.find("/", at + 1)
    return None


def _read_blocks(path: Path | Any, documents: list[str], nodes: list[str]) -> list[bytes]:
    """The lines of each document (`<DOC> `, `<DOC/`) and each node (`<NODE> `) in the sorted file (or
    merge.PatchedFile)."""
    from ipgraph.stream.merge import opened_lines

    out: list[bytes] = []
    with opened_lines(path) as lines:
        for doc in documents:
            spelled = b"<" + doc.encode("utf-8")
            for prefix in (spelled + b"> ", spelled + b"/"):
                out.extend(lines.starting_with(prefix).splitlines(keepends=True))
        for node in nodes:
            out.extend(lines.starting_with(b"<" + node.encode("utf-8") + b"> ").splitlines(keepends=True))
    return out


def ranked_of(words: FieldCounts, grams: FieldCounts) -> Any:
    """The ranked BM25 field (index.ranked_field) of the two fields' counts."""
    from ipgraph.search.index import ranked_field

    return ranked_field([words.postings().bm25(), grams.postings().bm25()])


def write_ranked(words: FieldCounts, grams: FieldCounts, stage: str) -> None:
    """ranked_of, saved into the index folder `stage` (what update_stage runs in a child process beside
    the rest of the stage)."""
    ranked_of(words, grams).save(str(Path(stage) / "ranked"))


def update_stage(result: Any, folder: Path | str, previous: Path | str, documents: list[str],
                 changed_lines: list[str], made: list[Any], fresh: int, graph: Any = None) -> Any:
    """search_stage's SearchStage (without merging the echoes: the caller patches them in) made from
    the previous build's index in `previous` and the lines `changed_lines` that differ between its graph
    and this build's (`graph`, a merge.PatchedFile, else result.ntriples; the echoes' lines, which no
    measure's text reads, may be in it); `documents`: every document of this build; `made`: the token
    layers (the added documents' workers', then the previous index's spool). None: run search_stage."""
    import pyoxigraph

    from ipgraph.search.echoes import (
        links_and_change,
        load_echo_rows,
    )
    from ipgraph.search.index import (
        IndexWriter,
        SearchIndex,
        _swap,
        _write_meta,
        docs_head,
        staging_folder,
    )
    from ipgraph.search.page import MAX_MEASURES
    from ipgraph.search.segment import SPOOL, SPOOL_INDEX
    from ipgraph.search.stage import SearchStage, _Tokens, page_data, read_measures
    from ipgraph.stream.tail import Tail

    started = time.perf_counter()
    previous, folder = Path(previous), Path(folder)
    state = load_state(previous)
    if state is None or not all((previous / n).is_file() for n in ("docs.json", "tokens.json", SPOOL)):
        return None
    kept_rows = load_echo_rows(previous)  # the previous build's weighted rows: only the new ones are weighed
    if kept_rows is not None and kept_rows.matrix.shape[0] != len(state.iris):
        kept_rows = None
    now = set(documents)
    known = set(state.documents) | now
    subjects: set[str] = set()
    for line in changed_lines:
        s = line.split(" ", 1)[0]
        if not (s.startswith("<") and s.endswith(">")):
            return None  # a blank node: no spelling to find it by
        subjects.add(s[1:-1])
    readers: dict[str, set[str]] = {}
    for doc, read_nodes in state.refs.items():
        for node in read_nodes:
            readers.setdefault(node, set()).add(doc)
    touched = now - set(state.documents)  # the new documents
    outside: set[str] = set()  # changed nodes under no document: their names are read again
    for s in subjects:
        owner = _document_of(s, known)
        if owner is not None:
            touched.add(owner)
        else:
            outside.add(s)
        touched.update(readers.get(s, ()))
    touched &= now
    if len(touched) > MAX_TOUCHED * max(len(now), 1):
        return None
    # the touched documents' lines, then the nodes outside them they read and the changed ones
    order = sorted(touched)
    source = graph if graph is not None else Path(result.ntriples)
    lines = _read_blocks(source, order, [])
    first = read_measures(pyoxigraph.parse(b"".join(sorted(set(lines))), format=pyoxigraph.RdfFormat.N_TRIPLES))
    nodes = sorted(outside | {n for refs in first.refs.values() for n in refs})
    lines += _read_blocks(source, [], nodes)
    read = read_measures(pyoxigraph.parse(b"".join(sorted(set(lines))), format=pyoxigraph.RdfFormat.N_TRIPLES))
    measures = {key[2] for key in read.keys}
    if any(iri not in measures for layer in made[:1] for iri in layer):
        return None  # a new document's measure was not under its IRI
    if any(not iri.startswith(doc + "/") for doc, _o, iri, _a, _s in read.keys):
        return None
    named = {s: n for s, n in state.named.items() if s not in subjects}
    named.update({s: n for s, n in read.named.items()})
    names = sorted({n for listed in named.values() for n in listed})
    done_reading = time.perf_counter()

    stage = staging_folder(folder)
    tail: Any = None  # the child writing the ranked field
    echoes_tail: Any = None  # the fork making the echoes
    answer = stage.parent / f"{stage.name}{ECHOES_ANSWER}"
    data_answer = stage.parent / f"{stage.name}{PAGE_DATA_ANSWER}"
    # the echoes and the page's search data (-j > 1, above the page's inline index, with the previous echo
    # rows): a fork started now reads the previous echo state while this process counts, then is handed
    # the new rows (`payload`) and works while this process writes the index's files and state
    payload: Any = None
    if getattr(result, "jobs", 1) > 1 and len(state.iris) > MAX_MEASURES and kept_rows is not None:
        read_end, write_end = os.pipe()
        payload = os.fdopen(write_end, "wb")
        echoes_tail = Tail(True, getattr(result, "timings", {}))
        try:
            echoes_tail.run("search echoes", echoes_beside, read_end, str(previous), str(stage), kept_rows,
                            str(answer), str(data_answer), fork=True)
        finally:
            os.close(read_end)
    try:
        # the touched documents counted as the full stage counts them (into `stage`: their rows and tokens)
        writer = IndexWriter("jieba", names, {}, doc_words={}, fresh=fresh, stream=stage)
        tokens = _Tokens(*made)
        for docs in read.documents():
            if docs[0].doc_iri in touched:
                writer.add(docs, tokens.document(docs[0].doc_iri))
        writer.close_stream()
        mine, mine_starts = _runs(writer.doc_iris)
        mine_at = {d: i for i, d in enumerate(mine)}
        kept = [d for d in state.docs if d in now and d not in touched]
        old_at = {d: i for i, d in enumerate(state.docs)}
        ordered = sorted([*kept, *mine])
        new_words, new_grams = FieldCounts.of(writer.field), FieldCounts.of(writer.gram_field)
        word_parts, gram_parts = [], []
        row_parts: list[tuple[bool, int, int]] = []  # per document: (its rows are new, start, end)
        iris: list[str] = []
        labels: list[tuple[str, str]] = []
        keys: list[str] = []
        doc_iris: list[str] = []
        for doc in ordered:
            if doc in mine_at:
                i = mine_at[doc]
                a, b = mine_starts[i], mine_starts[i + 1]
                word_parts.append((new_words, a, b))
                gram_parts.append((new_grams, a, b))
                row_parts.append((True, a, b))
                iris += writer.iris[a:b]
                labels += writer.labels[a:b]
                keys += writer.keys[a:b]
            else:
                i = old_at[doc]
                a, b = state.starts[i], state.starts[i + 1]
                word_parts.append((state.words, a, b))
                gram_parts.append((state.grams, a, b))
                row_parts.append((False, a, b))
                iris += state.iris[a:b]
                labels += state.labels[a:b]
                keys += state.keys[a:b]
            doc_iris += [doc] * (b - a)
        words_field, grams_field = splice(word_parts), splice(gram_parts)
        counted = time.perf_counter()
        # the BM25 fields: above the page's inline index (which reads them) in a child process, beside the
        # files, the state and the echoes made here; written into the stage before it is swapped in
        ranked = None
        beside = getattr(result, "jobs", 1) > 1 and len(keys) > MAX_MEASURES
        tail = Tail(beside, getattr(result, "timings", {}))
        if beside:
            # niced: waited for only when the echoes are done, which need this process's core meanwhile
            # forked: its modules are this process's, and its arrays need no pickling (~40 MB at 1,000 plans)
            tail.run("search ranked", write_ranked, words_field, grams_field, str(stage),
                     peak=6 * (words_field.cols.nbytes + grams_field.cols.nbytes), nice=RANKED_NICE, fork=True)
        else:
            ranked = ranked_of(words_field, grams_field)
        signatures = {**{d: state.signatures[d] for d in kept}, **writer.signatures}
        characters = {**{d: state.characters[d] for d in kept}, **writer.doc_characters}
        taken = writer.taken + sum(state.starts[old_at[d] + 1] - state.starts[old_at[d]] for d in kept)
        stats = {"measures": len(iris), "segmented": writer.segmented + min(fresh, taken),
                 "reused": len(iris) - writer.segmented - min(fresh, taken), "segmented_here": writer.segmented,
                 "characters": sum(characters.values()), "update": {"mode": "incremental", "documents": len(mine),
                                                                      "removed": len(set(state.docs) - now)}}
        index = SearchIndex(docs=[], method="jieba", words=writer.words, _tokens=None, bm25=None, stats=stats,
                            keys=keys, ranked=ranked)
        held = list(words_field.postings().counts() if kept_rows is None else writer.field.counts())

        def matrix() -> Any:
            return echo_matrix(held, kept_rows, row_parts, len(writer.iris), iris, doc_iris, str(stage))

        beside_echoes = payload is not None and beside
        if payload is not None:  # its inputs, or None: not needed after all (the inline index), it ends
            call = (held, row_parts, len(writer.iris), iris, doc_iris, labels, signatures) if beside_echoes else None
            in_thread(_hand_over, payload, call)  # the pipe holds 64 KB: written while this process goes on
        _write_meta(index, stage, len(keys), ranked=ranked is not None)
        # docs.json: the head, then each document's rows: the previous file's bytes, or the ones just written
        head = docs_head(index.words, keys)
        doc_spans: dict[str, tuple[int, int]] = {}
        with open(previous / "docs.json", "rb") as old, open(stage / "docs.json.part", "rb") as new, \
                open(stage / "docs.json", "wb") as out:
            out.write(head)
            at = len(head)
            for n, doc in enumerate(ordered):
                if n:
                    out.write(b",")
                    at += 1
                if doc in mine_at:
                    start, end = writer.doc_spans[doc]
                    new.seek(start)
                    data = new.read(end - start)
                else:
                    start, end = state.doc_spans[doc]
                    old.seek(start)
                    data = old.read(end - start)
                out.write(data)
                doc_spans[doc] = (at, at + len(data))
                at += len(data)
            out.write(b"]}")
        (stage / "docs.json.part").unlink()
        # tokens.json: each key once, where it first comes, from whichever file holds its member
        token_spans: dict[str, tuple[int, int]] = {}
        with open(previous / "tokens.json", "rb") as old, open(stage / "tokens.json", "rb") as new, \
                open(stage / "tokens.json.new", "wb") as out:
            out.write(b"{")
            at = 1
            for key in keys:
                if key in token_spans:
                    continue
                source, span = (new, writer.token_spans[key]) if key in writer.token_spans else \
                    (old, state.token_spans[key])
                source.seek(span[0])
                data = source.read(span[1] - span[0])
                if token_spans:
                    out.write(b",")
                    at += 1
                out.write(data)
                token_spans[key] = (at, at + len(data))
                at += len(data)
            out.write(b"}")
        os.replace(stage / "tokens.json.new", stage / "tokens.json")
        # tokens.spool: the previous one, the touched documents' blocks appended (rewritten when half is stale)
        spool = {d: v for d, v in state.spool.items() if d in now and d not in touched}
        written = writer._spool
        assert written is not None  # a jieba IndexWriter streaming into `stage` keeps one
        mine_spool = {d: v[0] for d, v in written.at.items() if len(v) == 1}
        live = sum(size for _a, size in spool.values()) + written._size
        size = state.spool_size
        if 2 * live < size + written._size:  # compact: the live blocks alone, in index order
            with open(previous / SPOOL, "rb") as old, open(stage / SPOOL, "rb") as new, \
                    open(stage / (SPOOL + ".new"), "wb") as out:
                at, placed = 0, {}
                for doc in ordered:
                    block = (new, mine_spool[doc]) if doc in mine_spool else (old, spool[doc]) if doc in spool else None
                    if block is None:
                        continue
                    handle, (start, length) = block
                    handle.seek(start)
                    out.write(handle.read(length))
                    placed[doc] = (at, length)
                    at += length
            os.replace(stage / (SPOOL + ".new"), stage / SPOOL)
            spool, size = placed, at
        else:
            shutil.copyfile(previous / SPOOL, stage / (SPOOL + ".new"))  # by the kernel (sendfile)
            with open(stage / SPOOL, "rb") as new, open(stage / (SPOOL + ".new"), "ab") as out:
                shutil.copyfileobj(new, out, 1 << 20)
            os.replace(stage / (SPOOL + ".new"), stage / SPOOL)
            spool.update({d: (a + size, n) for d, (a, n) in mine_spool.items()})
            size += written._size
        (stage / SPOOL_INDEX).write_text(json.dumps({d: list(v) for d, v in sorted(spool.items())}), encoding="utf-8")
        doc_refs = {d: state.refs[d] for d in kept if d in state.refs}
        doc_refs.update({d: sorted(r) for d, r in read.refs.items() if d in touched})
        new_state = SearchState(
            stamp=state.stamp, documents=sorted(now), docs=ordered, starts=_runs(doc_iris)[1], iris=iris,
            labels=labels, keys=keys, words=words_field, grams=grams_field, signatures=signatures,
            characters=characters, doc_spans=doc_spans, token_spans=token_spans, refs=doc_refs, named=named,
            spool=spool, spool_size=size)
        save_state(new_state, stage)
        del new_state, state
        indexed = time.perf_counter()
        echoes: list[Any] | None = None
        made_beside = False
        if beside_echoes:  # the echoes' change comes first; the page's data follows while this process goes on
            while not answer.exists() and echoes_tail.running():
                time.sleep(0.002)
            try:
                with open(answer, "rb") as handle:  # written by this build's own fork, beside its stage
                    stats["echoes"], change = pickle.load(handle)
                answer.unlink()
                made_beside = True
            except (OSError, EOFError, pickle.UnpicklingError):  # the fork failed: made here instead
                echoes_tail.stop()
                answer.unlink(missing_ok=True)
        if not made_beside:
            echoes, stats["echoes"], change = links_and_change(matrix, doc_iris, signatures, previous, stage)
        found = time.perf_counter()
        tail.wait()
    except BaseException:
        for child in (tail, echoes_tail):
            if child is not None:
                child.stop()
        shutil.rmtree(stage, ignore_errors=True)
        for path in (answer, data_answer):
            path.unlink(missing_ok=True)
        raise
    if echoes_tail is not None and not made_beside:
        echoes_tail.stop()  # told it is not needed, or failed: its answers are not read
    _swap(stage, folder)
    index.folder = folder
    seconds = {"read": done_reading - started, "index": indexed - done_reading, "echoes": found - indexed,
               "merge": 0.0, "count": counted - done_reading}
    # the page's data made in a thread (when not by the fork): the caller meanwhile patches the graph's file
    # (the kernel's copy, which leaves the interpreter free) and the page waits for it only when it is written
    if made_beside:  # the fork's, else (it ended without them) made from the echo state written
        pending = in_thread(_page_data_beside, echoes_tail, data_answer, folder, index, iris, labels)
    else:
        pending = in_thread(page_data, index, echoes, iris, labels)
    return SearchStage(stats=stats, _echoes=echoes, _page_data=pending, folder=folder,
                       seconds={k: round(v, 3) for k, v in seconds.items()}, echo_change=change)


# echoes_beside's answers, beside the stage (in the build's scratch folder)
ECHOES_ANSWER = ".echoes-answer.pickle"
PAGE_DATA_ANSWER = ".page-data-answer.pickle"


def echo_matrix(held: list[Any], kept_rows: Any, row_parts: list[tuple[bool, int, int]], mine: int,
                iris: list[str], doc_iris: list[str], stage: str) -> Any:
    """The EchoMatrix of an updated index: the new documents' rows (`held`: their counts, `mine` rows)
    weighed and spliced with the previous build's `kept_rows` as `row_parts` says (without them, every
    row weighed), saved into `stage`."""
    from ipgraph.search.echoes import echo_matrix_of, echo_rows_of, save_echo_rows, splice_echo_rows

    rows, cols, counts, vocab = held
    held.clear()
    if kept_rows is None:
        weighted = echo_rows_of(rows, cols, counts, vocab, len(iris))
    else:
        known = dict(zip(kept_rows.tokens, kept_rows.weights.tolist(), strict=True))
        mine_rows = echo_rows_of(rows, cols, counts, vocab, mine, known)
        weighted = splice_echo_rows([(mine_rows if new else kept_rows, a, b) for new, a, b in row_parts])
    save_echo_rows(weighted, Path(stage))
    return echo_matrix_of(weighted.matrix, iris, doc_iris)


def _hand_over(pipe: Any, call: Any) -> None:
    try:
        with pipe:
            pickle.dump(call, pipe, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError:
        pass  # the fork ended first: update_stage sees no answer and makes the echoes itself


def echoes_beside(inputs: int, previous: str, stage: str, kept_rows: Any, answer: str, data_answer: str) -> None:
    """update_stage's echoes (links_and_change: the echo rows and state written into `stage`) and the page's
    search data, made in a fork of the build: the previous echo state read first, then the new rows read
    from the pipe `inputs` (None: not needed, nothing made); (the echoes' statistics, their change) pickled
    into `answer`, then the page data into `data_answer` (the build goes on with the change meanwhile). The
    echoes themselves are read back from the state only if the build needs them."""
    from ipgraph.atomic import atomic_write_bytes
    from ipgraph.search.echoes import links_and_change, read_state
    from ipgraph.search.stage import page_data

    state = read_state(previous)
    with os.fdopen(inputs, "rb") as handle:  # this build's own pipe
        call = pickle.load(handle)
    if call is None:
        return
    held, row_parts, mine, iris, doc_iris, labels, signatures = call
    echoes, info, change = links_and_change(
        lambda: echo_matrix(held, kept_rows, row_parts, mine, iris, doc_iris, stage), doc_iris, signatures,
        previous, stage, state=state)
    atomic_write_bytes(Path(answer), pickle.dumps((info, change), protocol=pickle.HIGHEST_PROTOCOL))
    data = page_data(None, echoes, iris, labels)  # type: ignore[arg-type]  # above MAX_MEASURES: no index read
    del echoes
    atomic_write_bytes(Path(data_answer), pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))


def _page_data_beside(tail: Any, answer: Path, folder: Path, index: Any, iris: list[str],
                      labels: list[tuple[str, str]]) -> dict[str, Any]:
    """The page data echoes_beside made (waited for), else made here from the echo state in `folder`."""
    from ipgraph.search.echoes import read_echoes
    from ipgraph.search.stage import page_data

    try:
        tail.wait()
        with open(answer, "rb") as handle:  # written by this build's own fork
            return pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError):
        return page_data(index, read_echoes(folder), iris, labels)
    finally:
        answer.unlink(missing_ok=True)
