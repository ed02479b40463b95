"""What the server calls, and the rdflib form of the build's search stage.

    # serve.py, for GET /search?q=…&document=&level=&agency=&limit=:
    status, body = search_response(build_dir, request_params)
    # a user's rdflib Graph (the build itself uses ipgraph.search.stage):
    index = add_search_to_build(graph, build_dir, previous=last_build)
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from ipgraph.search.echoes import echo_links, echo_triples
from ipgraph.search.index import INDEX_DIR, SearchIndex, SearchIndexError, build_index, open_index
from ipgraph.search.rank import Filters, search

MAX_LIMIT = 100
MAX_QUERY = 200  # characters: a search query, not a document


def add_search_to_build(graph: Any, build_dir: Path | str, previous: Path | str | None = None) -> SearchIndex:
    """Index the measures of `graph` (an rdflib Graph) into build_dir/search, taking the jieba words
    of unchanged texts from previous/search (the last build), and add the echoes to `graph`.

    Lent a build's search folder, the echoes are that build's. Without one, each document's texts are
    segmented with the names the merged graph gives it, which can differ from what its own extractor
    found (on the shipped corpus: 11 of 184 texts, one echo of 29)."""
    prior = Path(previous) / INDEX_DIR if previous is not None else None
    index = build_index(graph, Path(build_dir) / INDEX_DIR, previous=prior if prior and prior.is_dir() else None)
    for triple in echo_triples(echo_links(index)):
        graph.add(triple)
    return index


_LOADED: dict[str, SearchIndex] = {}
_LOCK = threading.Lock()


def _index(build_dir: Path | str) -> SearchIndex:
    key = str(Path(build_dir).resolve())
    with _LOCK:  # one load per worker process and build folder
        if key not in _LOADED:
            _LOADED.clear()
            _LOADED[key] = open_index(build_dir)
        return _LOADED[key]


def search_response(build_dir: Path | str, params: dict[str, str]) -> tuple[int, bytes]:
    """(HTTP status, JSON body) for /search: {"query", "hits": [Hit.as_dict() + rank]} or {"error"}."""
    def error(status: int, message: str) -> tuple[int, bytes]:
        return status, json.dumps({"error": message}, ensure_ascii=False).encode("utf-8")

    query = (params.get("q") or "").strip()
    if not query:
        return error(400, "give a query: /search?q=…")
    if len(query) > MAX_QUERY:
        return error(400, f"query longer than {MAX_QUERY} characters")
    try:
        limit = int(params.get("limit") or 10)
    except ValueError:
        return error(400, "limit must be a number")
    limit = max(1, min(limit, MAX_LIMIT))
    filters = Filters(document=params.get("document") or None, level=params.get("level") or None,
                      agency=params.get("agency") or None)
    try:
        hits = search(_index(build_dir), query, filters, limit=limit)
    except SearchIndexError as exc:
        return error(400 if "unknown level" in str(exc) else 503, str(exc))
    body = {"query": query, "hits": [{"rank": n, **h.as_dict()} for n, h in enumerate(hits, 1)]}
    return 200, json.dumps(body, ensure_ascii=False).encode("utf-8")
