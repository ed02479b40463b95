"""Full-text search over measures and cross-plan echoes (issue 13).

    from ipgraph.search import build_index, search, Filters
    index = build_index("build", "build/search")     # or an rdflib Graph / BuildResult / Store
    for hit in search(index, "质押融资 风险补偿", Filters(level="municipal")):
        print(hit.document, hit.number, hit.marked())

Importing this package imports neither jieba nor bm25s: they load on first use.
"""
from __future__ import annotations

from ipgraph.search.echoes import Echo, echo_links, echo_links_since, echo_triples, update_links
from ipgraph.search.index import (
    SearchIndex,
    SearchIndexError,
    build_index,
    load_index,
    open_index,
    save_index,
)
from ipgraph.search.page import page_index, page_search
from ipgraph.search.rank import Filters, Hit, search
from ipgraph.search.wiring import add_search_to_build, search_response

__all__ = [
    "Echo", "Filters", "Hit", "SearchIndex", "SearchIndexError", "add_search_to_build", "build_index", "echo_links",
    "echo_links_since", "echo_triples", "load_index", "open_index", "page_index", "page_search", "save_index",
    "search", "search_response", "update_links",
]
