"""Search results as an aligned table, CSV or JSON (what `ipgraph search` prints)."""
from __future__ import annotations

import csv
import io
import json

from ipgraph.query import display_width
from ipgraph.search.rank import Hit

COLUMNS = ("rank", "score", "document", "number", "lead", "snippet")


def _cells(rank: int, hit: Hit, marked: bool) -> list[str]:
    return [str(rank), f"{hit.score:.3f}", hit.document, hit.number, "、".join(hit.lead),
            hit.marked() if marked else hit.snippet]


def _clip(text: str, limit: int) -> str:
    out: list[str] = []
    width = 0
    for ch in text:
        width += display_width(ch)
        if width > limit:
            return "".join(out) + "…"
        out.append(ch)
    return text


def format_hits(hits: list[Hit], fmt: str = "table") -> str:
    """`hits` as "table" (snippet matches in 【】), "csv" (plain snippet) or "json" (with highlight offsets)."""
    if fmt == "json":
        return json.dumps([{"rank": i, **h.as_dict()} for i, h in enumerate(hits, 1)], ensure_ascii=False,
                          indent=1) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([*COLUMNS, "measure"])
        for i, h in enumerate(hits, 1):
            writer.writerow([*_cells(i, h, marked=False), h.iri])
        return buf.getvalue()
    rows = [list(COLUMNS)] + [[_clip(c, 40 if j == 2 else 120) for j, c in enumerate(_cells(i, h, True))]
                              for i, h in enumerate(hits, 1)]
    widths = [max(display_width(r[j]) for r in rows) for j in range(len(COLUMNS))]
    lines = []
    for n, r in enumerate(rows):
        cells = [c + " " * (widths[j] - display_width(c)) for j, c in enumerate(r)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"
